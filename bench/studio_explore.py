"""Benchmark: the studio's explore pages in headless Chromium (issue 18's latency targets).

- **Search**: the bundled digits (1,797 pictures, over the issue's 1,000) indexed with
  EfficientNet-Lite0's features; 40 images clicked in the page, each timed from the click to
  the 15 results painted (drawn from the sheet of thumbnails the page decoded once). Peer: the
  same query in Python (``index.query_vector`` on the same vectors). Target ≤ 150 ms.
- **Anomalies**: ECG5000 (4,500 test beats), 60 slider moves, each timed from the input event to
  the next painted frame (counts, precision, recall, ROC point recomputed in the page). Target ≤ 50 ms.
- **Playground**: the default network on circle, Play for 12 s: epochs trained per second (in
  the server's training thread) and boundary redraws per second, as the page counts them, and
  the time the page takes to compute and draw one picture from the weights. Peer: the same
  ``Playground.step`` called in a Python loop (no server, no browser). Targets ≥ 20 steps/s,
  ≥ 10 redraws/s.

- **Explorer**: EfficientNet-Lite0 and the bundled coffee photo; every layer from ``stem`` to
  ``head`` picked twice in the page, each timed from the pick to the channel grid drawn (the
  histograms come in the same answer). Peer: ``ex.activations`` + the grid image in Python (no
  server, no browser). Target ≤ 300 ms. ``python -m bench.studio_explore explorer`` runs it alone.

The machine's load (``uptime``) is recorded before and after: the box is shared.

    .venv/bin/python -m bench.studio_explore
"""
from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import machine, markdown_table

RESULTS = Path(__file__).parent / "results" / "studio_explore.md"
CLICKS = 40
PLAY_SECONDS = 12


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _python_peers() -> dict[str, float]:
    from playml.web.explore import Playground, SearchSession

    search = SearchSession()
    search.build("digits", "efficientnet-lite0", None, "cosine")
    index = search.index()
    times = []
    for row in range(0, len(index), len(index) // CLICKS)[:CLICKS]:
        t = time.perf_counter()
        index.query_vector(index.vectors_[row], top_k=15)
        times.append((time.perf_counter() - t) * 1000)
    pg = Playground()
    pg.step(1)
    t, epochs = time.perf_counter(), 0
    while time.perf_counter() - t < 4:
        pg.step(2)
        epochs += 2
    return {"query_ms": statistics.median(times), "epochs_per_s": epochs / (time.perf_counter() - t)}


EXPLORER_ROUNDS = 2


def _explorer_layers() -> list[str]:
    import playml as ml

    return [n for n in ml.model_explorer("efficientnet-lite0").layer_names() if n not in ("features", "classifier")]


def _explorer_peer() -> float:
    """Median ms of one layer's activations and grid image in Python (what the server does)."""
    import playml as ml
    from playml.core.media import load_image
    from playml.samples import path
    from playml.web.explorer import channel_grid

    ex = ml.model_explorer("efficientnet-lite0")
    image = load_image(path("coffee"))
    ex.activations(image, "head")  # warm: every layer has run once (as the page's model has, when opened)
    times = []
    for _ in range(EXPLORER_ROUNDS):
        for layer in _explorer_layers():
            t = time.perf_counter()
            channel_grid(ex.activations(image, layer))
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _explorer_in_page(page) -> dict[str, float]:
    """Open EfficientNet-Lite0 in the Explorer page, upload the coffee photo, pick every layer."""
    from playml.samples import path

    page.get_by_role("link", name="Explorer").click()
    page.locator("#ex-model").select_option("efficientnet-lite0")
    page.locator("#ex-open").click()
    page.wait_for_function("() => document.querySelector('#ex-total').dataset.parameters", timeout=300_000)
    page.locator("#ex-file").set_input_files(str(path("coffee")))
    page.wait_for_function("() => document.querySelector('#ex-cam').dataset.label", timeout=300_000)
    drawn, server = [], []
    for _ in range(EXPLORER_ROUNDS):
        for layer in _explorer_layers():
            if page.locator("#ex-layer").input_value() == layer:
                continue
            page.locator("#ex-layer").select_option(layer)
            page.wait_for_function(f"() => document.querySelector('#ex-grid').dataset.layer === '{layer}'")
            drawn.append(float(page.locator("#ex-grid").get_attribute("data-ms")))
            server.append(float(page.locator("#ex-grid").get_attribute("data-server-ms")))
    return {"grid_median": statistics.median(drawn), "grid_p95": _percentile(drawn, 0.95),
            "grid_server": statistics.median(server), "grid_picks": len(drawn)}


def _explorer_rows(out: dict[str, float], peer_ms: float) -> list[list[str]]:
    return [
        [f"explorer: activation grid for one image, layer picked → drawn (median of {out['grid_picks']})",
         f"{out['grid_median']:.1f} ms", f"{peer_ms:.1f} ms", f"{out['grid_median'] / peer_ms:.1f}×", "≤ 300 ms"],
        ["explorer: activation grid (95th percentile)", f"{out['grid_p95']:.1f} ms", "", "", "≤ 300 ms"],
        ["explorer: activations + grid + histograms on the server (median)", f"{out['grid_server']:.1f} ms",
         f"{peer_ms:.1f} ms", f"{out['grid_server'] / peer_ms:.1f}×", ""],
    ]


def run_explorer() -> str:
    """The Explorer measurement alone (printed, not written to the results file)."""
    from playwright.sync_api import sync_playwright

    import playml as ml

    load_before = _load()
    peer_ms = _explorer_peer()
    with tempfile.TemporaryDirectory() as tmp:
        server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=Path(tmp) / "models")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                page.goto(server.url)
                out = _explorer_in_page(page)
                browser.close()
        finally:
            server.stop()
    return (f"{machine()} · load average before {load_before}, after {_load()} (shared machine)\n\n"
            + markdown_table(["measure", "studio (Chromium)", "Python peer", "ratio", "target"],
                             _explorer_rows(out, peer_ms)) + "\n")


def run() -> str:
    from playwright.sync_api import sync_playwright

    import playml as ml

    load_before = _load()
    peers = _python_peers()
    explorer_peer_ms = _explorer_peer()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=Path(tmp) / "models")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                page.goto(server.url)
                # search
                page.get_by_role("link", name="Search").click()
                page.locator("#sr-source").select_option("digits")
                page.locator("#sr-model").select_option("efficientnet-lite0")
                page.locator("#sr-build").click()
                page.wait_for_function("() => document.querySelector('#sr-progress-text').dataset.images",
                                       timeout=900_000)
                images = int(page.locator("#sr-progress-text").get_attribute("data-images"))
                page.wait_for_timeout(1000)
                drawn, server_ms, listed = [], [], []
                for row in range(0, images, images // CLICKS)[:CLICKS]:
                    button = page.locator(f"#sr-grid button[data-row='{row}']")
                    button.scroll_into_view_if_needed()
                    button.click()
                    page.wait_for_function(f"() => document.querySelector('#sr-results').dataset.row === '{row}'")
                    drawn.append(float(page.locator("#sr-results").get_attribute("data-ms")))
                    listed.append(float(page.locator("#sr-results").get_attribute("data-listed-ms")))
                    server_ms.append(float(page.locator("#sr-results").get_attribute("data-server-ms")))
                out.update(images=images, drawn_median=statistics.median(drawn), drawn_p95=_percentile(drawn, 0.95),
                           server_median=statistics.median(server_ms), listed_median=statistics.median(listed))
                # playground
                page.get_by_role("link", name="Playground").click()
                page.locator("#pg-play").click()
                page.wait_for_timeout(PLAY_SECONDS * 1000)
                speed = page.locator("#pg-speed")
                out.update(steps=float(speed.get_attribute("data-steps-per-second")),
                           fps=float(speed.get_attribute("data-fps")))
                draw = []
                for _ in range(20):
                    page.wait_for_timeout(100)
                    draw.append(float(speed.get_attribute("data-draw-ms")))
                out.update(draw_ms=statistics.median(draw))
                page.locator("#pg-play").click()
                # anomalies: train, then move the slider and time until the next frame is painted
                page.get_by_role("link", name="Anomalies").click()
                page.locator("#an-epochs").fill("20")
                page.locator("#an-train").click()
                page.wait_for_function("() => document.querySelector('#an-loss').dataset.epochs", timeout=300_000)
                slider_ms = page.evaluate("""async () => {
                    const s = document.querySelector('#an-threshold'), out = [];
                    for (let i = 0; i < 60; i++) {
                        const t0 = performance.now();
                        s.value = String((i * 37) % 1000);
                        s.dispatchEvent(new Event('input'));
                        await new Promise((r) => requestAnimationFrame(() => r()));
                        out.push(performance.now() - t0);
                    }
                    return out; }""")
                judge_ms = float(page.locator("#an-metrics").get_attribute("data-ms"))
                out.update(slider_median=statistics.median(slider_ms), slider_p95=_percentile(slider_ms, 0.95),
                           judge_ms=judge_ms)
                out.update(_explorer_in_page(page))
                browser.close()
        finally:
            server.stop()
    load_after = _load()
    rows = [
        ["search: click → 15 results drawn (median)", f"{out['drawn_median']:.1f} ms", f"{peers['query_ms']:.2f} ms",
         f"{out['drawn_median'] / peers['query_ms']:.0f}×", "≤ 150 ms"],
        ["search: click → answer in and results in the page, before paint (median)", f"{out['listed_median']:.1f} ms", "", "", ""],
        ["search: click → drawn (95th percentile)", f"{out['drawn_p95']:.1f} ms", "", "", "≤ 150 ms"],
        ["search: query on the server (median)", f"{out['server_median']:.2f} ms", f"{peers['query_ms']:.2f} ms",
         f"{out['server_median'] / peers['query_ms']:.1f}×", ""],
        ["playground: epochs per second (Play)", f"{out['steps']:.1f}", f"{peers['epochs_per_s']:.1f}",
         f"{out['steps'] / peers['epochs_per_s']:.2f}×", "≥ 20"],
        ["playground: boundary redraws per second", f"{out['fps']:.1f}", "", "", "≥ 10"],
        ["playground: one picture computed from the weights and drawn (median)", f"{out['draw_ms']:.1f} ms", "",
         "", ""],
        ["anomalies: slider → counts painted (median, 4,500 beats)", f"{out['slider_median']:.1f} ms", "", "",
         "≤ 50 ms"],
        ["anomalies: slider → counts painted (95th percentile)", f"{out['slider_p95']:.1f} ms", "", "", "≤ 50 ms"],
        *_explorer_rows(out, explorer_peer_ms),
    ]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    text = (f"# Studio explore pages\n\n{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC · "
            f"{machine()} · load average before {load_before}, after {load_after} (shared machine; "
            f"`uptime` at the end: {uptime})\n\n"
            f"Search over {out['images']} images (bundled digits, efficientnet-lite0 features, cosine), "
            f"{CLICKS} clicks; playground: default network on circle, {PLAY_SECONDS} s of Play.\n\n"
            + markdown_table(["measure", "studio (Chromium)", "Python peer", "ratio", "target"], rows) + "\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return text


if __name__ == "__main__":
    import sys

    print(run_explorer() if sys.argv[1:] == ["explorer"] else run())
