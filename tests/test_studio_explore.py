"""The studio's explore pages end to end in headless Chromium, checked against the Python API.

Playground: the default network (x₁, x₂ → 4 → 2, tanh, SGD at 0.03) trains in the page until its
test loss is under 0.1 on circle and on xor; the exported network loads with ``ml.load`` and gives
the same test loss in Python as the page shows. Screenshots go to test-artifacts/studio/.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, open_page, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "studio"


@pytest.fixture
def studio_page(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    models = tmp_path / "models"
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser, page, errors = open_page(pw, chromium)
            page.goto(server.url)
            yield page, models, errors
            browser.close()
    finally:
        server.stop()


def _python_test_loss(model_dir, dataset: str) -> float:
    """The Playground's test loss (½(output − target)² on −1…+1) of a saved network, in Python."""
    import playml as ml
    from playml.datasets.playground import make

    X, y = make(dataset, n=500, noise=0.0, seed=0)
    test_x, test_y = X[250:], y[250:]
    net = ml.load(model_dir)
    assert net.input_names == ["x1", "x2"]
    p = np.array([{q.label: q.confidence for q in preds}["blue"]
                  for preds in net.classify([[float(a), float(b)] for a, b in test_x])])
    return float(np.mean(0.5 * (2 * p - 1 - (2 * test_y - 1)) ** 2))


def _train_until(page, target: float, timeout_s: float = 150) -> dict:
    """Press Play (with the keyboard), wait for test loss < target, pause; return the page's figures."""
    page.locator("#pg-play").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => Number(document.querySelector('#pg-loss').dataset.epoch || 0) > 0 && "
                           f"Number(document.querySelector('#pg-loss').dataset.test) < {target}",
                           timeout=timeout_s * 1000)
    page.locator("#pg-play").click()                                  # pause
    page.wait_for_function("() => document.querySelector('#pg-play').getAttribute('aria-pressed') === 'false'")
    page.wait_for_timeout(400)                                         # the last answer lands
    loss = page.locator("#pg-loss")
    speed = page.locator("#pg-speed")
    return {"test": float(loss.get_attribute("data-test")), "epoch": int(loss.get_attribute("data-epoch")),
            "steps_per_second": float(speed.get_attribute("data-steps-per-second") or 0),
            "fps": float(speed.get_attribute("data-fps") or 0)}


def test_playground_learns_circle_and_xor(studio_page):
    from playwright.sync_api import expect

    page, models, errors = studio_page
    page.get_by_role("link", name="Playground").click()
    expect(page.locator("#pg-loss")).to_contain_text("Test loss")
    expect(page.locator("canvas.pg-neuron")).to_have_count(6)          # the default 4 + 2 neurons
    expect(page.locator("#pg-net-shape")).to_have_text("2 inputs → 4 → 2 → 1 output")

    # + and − change the network; put it back to the default
    page.locator("#pg-add-layer").click()
    expect(page.locator("canvas.pg-neuron")).to_have_count(8)
    page.locator("#pg-remove-layer").click()
    expect(page.locator("canvas.pg-neuron")).to_have_count(6)
    page.get_by_role("button", name="Add a neuron to layer 1").click()
    expect(page.locator("#pg-net-shape")).to_have_text("2 inputs → 5 → 2 → 1 output")
    page.get_by_role("button", name="Remove a neuron from layer 1").click()
    expect(page.locator("#pg-net-shape")).to_have_text("2 inputs → 4 → 2 → 1 output")
    expect(page.locator("#pg-loss")).to_have_attribute("data-epoch", "0")

    circle = _train_until(page, 0.05)   # below 0.1 with a margin for the epochs trained before the pause
    assert circle["test"] < 0.1
    page.screenshot(path=str(ARTIFACTS / "playground-circle.png"))
    # the exported network is an ml5.js model that playml loads, with the loss the page showed
    page.locator("#pg-export-name").fill("circle-net")
    page.locator("#pg-export").click()
    expect(page.locator("#pg-export-out")).to_contain_text("Saved to")
    for name in ("model.json", "model.weights.bin", "model_meta.json"):
        assert (models / "circle-net" / name).is_file()
    assert _python_test_loss(models / "circle-net", "circle") == pytest.approx(circle["test"], abs=1e-4)

    page.locator("#pg-data-xor").check()
    expect(page.locator("#pg-loss")).to_have_attribute("data-epoch", "0")
    xor = _train_until(page, 0.05)
    assert xor["test"] < 0.1
    # the page draws the boundary from the weights itself: the same as the network's answers in Python
    state = page.evaluate("() => fetch('/api/playground').then((r) => r.json())")
    drawn = page.evaluate("""async (s) => { const m = await import('/static/pages/playground.js');
                                            return Array.from(m.picture(s, s.grid.size).blue); }""", state)
    assert np.abs(np.array(drawn) - np.array(state["grid"]["blue"])).max() <= 1
    page.locator("#pg-show-test").check()
    page.screenshot(path=str(ARTIFACTS / "playground-xor.png"))
    page.locator("#pg-export-name").fill("xor-net")
    page.locator("#pg-export").click()
    expect(page.locator("#pg-export-out")).to_contain_text("xor-net")
    assert _python_test_loss(models / "xor-net", "xor") == pytest.approx(xor["test"], abs=1e-4)
    print(f"\nplayground: circle {circle}, xor {xor}")
    assert not errors, errors


def test_search_page_matches_the_python_index(studio_page, labelled_photos):
    """A folder typed as a path, a chosen model/layer/metric: the page's 15 nearest for a clicked
    image are exactly ``index.query(path, top_k=15)`` (paths in order, distances)."""
    from playwright.sync_api import expect

    import playml as ml
    from playml.images.search import search_score

    page, _, errors = studio_page
    page.get_by_role("link", name="Search").click()
    expect(page.locator("#sr-build")).to_be_enabled()
    page.locator("#sr-source").select_option("folder")
    page.locator("#sr-folder").fill(str(labelled_photos))
    page.locator("#sr-model").select_option("mobilenet-v2")
    page.locator("#sr-layer").select_option("blocks.13")
    page.locator("#sr-metric").select_option("euclidean")
    page.locator("#sr-build").click()
    expect(page.locator("#sr-progress-text")).to_have_attribute("data-images", "60", timeout=120_000)
    expect(page.locator("#sr-grid button")).to_have_count(60)
    expect(page.locator("#sr-map")).to_have_attribute("data-points", "60", timeout=60_000)

    index = ml.image_search(labelled_photos, model="mobilenet-v2", layer="blocks.13", metric="euclidean")
    for row in (3, 27):
        button = page.locator(f"#sr-grid button[data-row='{row}']")
        if row == 27:                         # the keyboard works too
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()
        expect(page.locator("#sr-results")).to_have_attribute("data-row", str(row))
        figures = page.locator("#sr-results figure")
        expect(figures).to_have_count(15)
        shown = [(figures.nth(i).get_attribute("data-path"), float(figures.nth(i).get_attribute("data-distance")))
                 for i in range(15)]
        expected = index.query(index.paths_[row], top_k=15)
        assert [p for p, _ in shown] == [m.path for m in expected]
        np.testing.assert_allclose([d for _, d in shown], [m.distance for m in expected], rtol=1e-4, atol=1e-4)
        label = index.labels_[row]
        score = search_score([m.label == label for m in expected if m.path != index.paths_[row]])
        assert float(page.locator("#sr-results").get_attribute("data-score")) == pytest.approx(score)
        assert float(page.locator("#sr-results").get_attribute("data-ms")) < 5000
    page.screenshot(path=str(ARTIFACTS / "search.png"))

    # switching the metric reuses the vectors (no new embedding): quick, and the results change
    page.locator("#sr-metric").select_option("cosine")
    page.locator("#sr-build").click()
    expect(page.locator("#sr-count")).to_contain_text("cosine")
    page.locator("#sr-map").click(position={"x": 170, "y": 130})         # the map searches from a point
    expect(page.locator("#sr-results figure")).to_have_count(15)
    assert not errors, errors


def test_anomalies_page_matches_the_report(studio_page):
    """Train on ECG5000's normal beats in the page, move the threshold with the keyboard: the
    counts, precision and recall on the page equal ``det.evaluate(test, threshold=…)`` in Python."""
    from playwright.sync_api import expect

    import playml as ml

    page, models, errors = studio_page
    page.get_by_role("link", name="Anomalies").click()
    page.locator("#an-epochs").fill("20")
    page.locator("#an-train").click()
    expect(page.locator("#an-loss")).to_have_attribute("data-epochs", "20", timeout=120_000)
    metrics = page.locator("#an-metrics")
    expect(metrics).to_contain_text("Precision")
    page.locator("#an-save-name").fill("ecg-detector")
    page.locator("#an-save").click()
    expect(page.locator("#status")).to_contain_text("Saved to")
    det = ml.load(models / "ecg-detector")
    _, test = ml.datasets.load("ecg5000").canonical_split()

    start = float(metrics.get_attribute("data-threshold"))
    # the slider starts at the detector's threshold, to within half of one of its 1,000 steps (log scale)
    scores = det.score(test)
    half_step = np.exp((np.log(scores.max() + 1e-9) - np.log(scores.min() + 1e-9)) / 2000) - 1
    assert start == pytest.approx(det.threshold, rel=half_step * 1.01)
    page.locator("#an-threshold").focus()
    for key, presses in (("ArrowLeft", 60), ("ArrowRight", 140)):
        for _ in range(presses):
            page.keyboard.press(key)
        t = float(metrics.get_attribute("data-threshold"))
        report = det.evaluate(test, threshold=t)
        shown = {k: metrics.get_attribute(f"data-{k}") for k in ("tp", "fp", "tn", "fn", "precision", "recall")}
        assert [int(shown[k]) for k in ("tp", "fp", "tn", "fn")] == [report.tp, report.fp, report.tn, report.fn]
        assert float(shown["precision"]) == pytest.approx(report.precision, abs=1e-12)
        assert float(shown["recall"]) == pytest.approx(report.recall, abs=1e-12)
        assert float(metrics.get_attribute("data-ms")) < 50
    page.locator("#an-latent-map").click(position={"x": 200, "y": 150})     # a beat and its rebuild
    expect(page.locator("#an-beat-title")).to_contain_text("error")
    page.screenshot(path=str(ARTIFACTS / "anomalies.png"))
    assert not errors, errors


def test_search_uploads_two_layers_and_umap(studio_page, labelled_photos):
    """Images uploaded in the page (not a folder path), two layers compared side by side: each
    column is that layer's ``index.query(path, top_k=15)``; the UMAP map is ``map_2d("umap")``'s."""
    from playwright.sync_api import expect

    import playml as ml

    page, _, errors = studio_page
    page.get_by_role("link", name="Search").click()
    expect(page.locator("#sr-build")).to_be_enabled()
    files = sorted(labelled_photos.glob("*/*.jpg"))[::2]           # 30 of the 60, five per label
    page.locator("#sr-source").select_option("uploads")
    page.locator("#sr-files").set_input_files([str(f) for f in files])
    expect(page.locator("#sr-upload-text")).to_have_attribute("data-images", str(len(files)))
    page.locator("#sr-model").select_option("mobilenet-v2")
    page.locator("#sr-layer").select_option("blocks.13")
    page.locator("#sr-compare").select_option("blocks.6")
    page.locator("#sr-build").click()
    expect(page.locator("#sr-progress-text")).to_have_attribute("data-images", str(len(files)), timeout=120_000)
    expect(page.locator("#sr-grid button")).to_have_count(len(files))

    row = 7
    page.locator(f"#sr-grid button[data-row='{row}']").click()
    expect(page.locator("#sr-results")).to_have_attribute("data-row", str(row))
    for layer in ("blocks.13", "blocks.6"):
        figures = page.locator(f"#sr-results .sr-list[data-layer='{layer}'] figure")
        expect(figures).to_have_count(15)
        shown = [(figures.nth(i).get_attribute("data-path"), float(figures.nth(i).get_attribute("data-distance")))
                 for i in range(15)]
        folder = Path(shown[0][0]).parent
        index = ml.image_search(folder, model="mobilenet-v2", layer=layer, metric="cosine")
        assert len(index) == len(files)
        expected = index.query(index.paths_[row], top_k=15)
        assert [p for p, _ in shown] == [m.path for m in expected]
        np.testing.assert_allclose([d for _, d in shown], [m.distance for m in expected], rtol=1e-4, atol=1e-4)
    # the uploads are the files chosen, byte for byte
    kept = sorted(folder.iterdir())
    assert [p.read_bytes() for p in kept] == [f.read_bytes() for f in files]
    page.screenshot(path=str(ARTIFACTS / "search-compare.png"))

    page.locator("#sr-map-method").select_option("umap")
    expect(page.locator("#sr-map-text")).to_contain_text("UMAP")
    expect(page.locator("#sr-map")).to_have_attribute("data-method", "umap", timeout=240_000)
    served = page.evaluate("() => fetch('/api/search/map?method=umap').then((r) => r.json())")
    index = ml.image_search(folder, model="mobilenet-v2", layer="blocks.13", metric="cosine")
    rows, xy = index.map_2d("umap", sample=2000)
    assert served["rows"] == rows.tolist()
    np.testing.assert_allclose(served["xy"], xy, atol=1e-3)
    page.locator("#sr-map").focus()                                   # the keyboard picks a point on the map
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    picked = int(page.locator("#sr-map").get_attribute("data-focus"))
    page.keyboard.press("Enter")                                      # and searches from it
    expect(page.locator("#sr-results")).to_have_attribute("data-row", str(picked))
    expect(page.locator("#sr-results .sr-list figure")).to_have_count(30)
    page.screenshot(path=str(ARTIFACTS / "search-umap.png"))
    assert not errors, errors


def test_anomalies_page_reads_a_csv(studio_page, tmp_path):
    """A CSV uploaded in the page (ECG200's beats, labels in a column called "kind", chosen in the
    page): trained on the normal rows of four in five, the counts at each threshold on the test
    part (every fifth row) equal ``det.evaluate(test_part, threshold=t)`` of the saved detector."""
    import pandas as pd
    from playwright.sync_api import expect

    import playml as ml
    from playml.web.explore import csv_split

    ds = ml.datasets.load("ecg200")
    X, _ = ds.arrays()
    table = pd.DataFrame(X, columns=[f"t{i}" for i in range(X.shape[1])])
    table.insert(0, "kind", [str(v) for v in ds.named_labels()])
    path = tmp_path / "beats.csv"
    table.to_csv(path, index=False)

    page, models, errors = studio_page
    page.get_by_role("link", name="Anomalies").click()
    page.locator("#an-dataset").select_option("csv")
    page.locator("#an-csv").set_input_files(str(path))
    expect(page.locator("#an-csv-text")).to_have_attribute("data-rows", "200")
    page.locator("#an-label-column").select_option("kind")
    page.locator("#an-normal").select_option("normal")
    page.locator("#an-epochs").fill("40")
    page.locator("#an-train").click()
    expect(page.locator("#an-loss")).to_have_attribute("data-epochs", "40", timeout=120_000)
    metrics = page.locator("#an-metrics")
    expect(metrics).to_contain_text("Precision")
    page.locator("#an-save-name").fill("csv-detector")
    page.locator("#an-save").click()
    expect(page.locator("#status")).to_contain_text("Saved to")
    det = ml.load(models / "csv-detector")
    _, test_part = csv_split(pd.read_csv(path))
    assert len(test_part) == 40

    page.locator("#an-threshold").focus()
    for key, presses in (("ArrowLeft", 40), ("ArrowRight", 120)):
        for _ in range(presses):
            page.keyboard.press(key)
        t = float(metrics.get_attribute("data-threshold"))
        report = det.evaluate(test_part, label_column="kind", normal_label="normal", threshold=t)
        shown = [int(metrics.get_attribute(f"data-{k}")) for k in ("tp", "fp", "tn", "fn")]
        assert shown == [report.tp, report.fp, report.tn, report.fn]
        assert float(metrics.get_attribute("data-precision")) == pytest.approx(report.precision, abs=1e-12)
        assert float(metrics.get_attribute("data-recall")) == pytest.approx(report.recall, abs=1e-12)
    page.locator("#an-latent-map").click(position={"x": 200, "y": 150})
    expect(page.locator("#an-beat-title")).to_contain_text("Row")
    page.screenshot(path=str(ARTIFACTS / "anomalies-csv.png"))
    assert not errors, errors
