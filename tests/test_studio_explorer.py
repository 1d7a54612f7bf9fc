"""The studio's Explorer page end to end in headless Chromium, checked against ml.model_explorer.

EfficientNet-Lite0 is opened from the keyboard; the summary table must be the Python summary row
for row; the coffee photo is uploaded; a layer is picked from the table with the keyboard; every
grey level of the page's channel grid, turned back into numbers with the ranges the page shows,
must equal the Python activations (within one grey step); both histograms must count what Python
counts; the Grad-CAM answer and hottest pixel must be Python's. Then a Teachable Machine export is
opened by its path, and a frame of Chromium's fake webcam (playing the coffee photo) is explored
and checked against Python on the very JPEG the page sent. Screenshots go to test-artifacts/studio/.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from conftest import BROWSER_ARGS, FAKE_MEDIA_ARGS, ROOT, open_page, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "studio"
COFFEE = ROOT / "playml" / "samples" / "coffee.jpg"
TM = ROOT / "tests" / "data" / "tfjs" / "tm-standard"


def _write_y4m(path: Path, photo: Path, frames: int = 4) -> None:
    """A 640×480 4:2:0 Y4M clip of ``photo`` (Chromium's fake camera plays it in a loop)."""
    from PIL import Image

    img = Image.open(photo).convert("RGB").resize((640, 480), Image.BILINEAR)
    ycc = np.asarray(img.convert("YCbCr"))
    frame = b"FRAME\n" + ycc[:, :, 0].tobytes() + ycc[::2, ::2, 1].tobytes() + ycc[::2, ::2, 2].tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + frame * frames)


def _in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.height > 0 && r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight + 1
          && r.right <= window.innerWidth + 1; }""", selector)


def _grid_values(page) -> tuple[dict, np.ndarray]:
    """The grid canvas: its data attributes and its grey levels turned back into numbers (C×H×W)."""
    data = page.evaluate("""() => { const c = document.querySelector('#ex-grid');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const grey = new Array(c.width * c.height); for (let i = 0; i < grey.length; i++) grey[i] = px[4 * i];
        return { ...c.dataset, w: c.width, h: c.height, grey }; }""")
    grey = np.array(data["grey"], np.float64).reshape(data["h"], data["w"])
    th, tw, cols, shown = int(data["tileHeight"]), int(data["tileWidth"]), int(data["cols"]), int(data["shown"])
    mins, maxs = np.array(eval(data["mins"])), np.array(eval(data["maxs"]))  # JSON lists of numbers
    values = np.empty((shown, th, tw))
    for c in range(shown):
        r, q = divmod(c, cols)
        tile = grey[r * (th + 1): r * (th + 1) + th, q * (tw + 1): q * (tw + 1) + tw]
        values[c] = mins[c] + tile / 255 * (maxs[c] - mins[c])
    data["mins"], data["maxs"] = mins, maxs
    return data, values


def _check_grid_against(page, act: np.ndarray) -> dict:
    data, values = _grid_values(page)
    assert int(data["channels"]) == act.shape[0]
    shown = values.shape[0]
    np.testing.assert_allclose(data["mins"], act[:shown].reshape(shown, -1).min(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(data["maxs"], act[:shown].reshape(shown, -1).max(1), rtol=1e-4, atol=1e-4)
    step = (data["maxs"] - data["mins"])[:, None, None] / 255
    assert np.all(np.abs(values - act[:shown]) <= 0.5 * step + 1e-4 * (1 + np.abs(act[:shown])))
    return data


def _counts(page, selector: str) -> list[int]:
    return eval(page.locator(selector).get_attribute("data-counts"))


def test_explorer_page_matches_the_python_explorer(tmp_path):
    chromium = require_browser()
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=60_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "coffee.y4m"
    _write_y4m(video, COFFEE)
    ex = ml.model_explorer("efficientnet-lite0")
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=tmp_path / "models")
    try:
        with sync_playwright() as pw:
            args = [*BROWSER_ARGS, *FAKE_MEDIA_ARGS, f"--use-file-for-fake-video-capture={video}"]
            browser, page, errors = open_page(pw, chromium, args)
            page.goto(server.url + "#explorer")
            expect(page.locator("#ex-model")).to_be_visible()

            # open a backbone from the keyboard; the table is the Python summary
            page.locator("#ex-model").select_option("efficientnet-lite0")
            page.locator("#ex-open").focus()
            page.keyboard.press("Enter")
            expect(page.locator("#ex-total")).to_have_attribute("data-parameters", str(ex.parameters))
            rows = page.locator("#ex-summary tbody tr")
            expect(rows).to_have_count(len(ex.summary()))
            cells = page.evaluate("() => [...document.querySelectorAll('#ex-summary tbody tr')].map("
                                  "(tr) => [...tr.cells].map((td) => td.textContent))")
            assert cells == [[r.name, r.type, " × ".join(map(str, r.shape)), f"{r.parameters:,}"] for r in ex.summary()]

            # upload the coffee photo: the default layer's grid, both histograms and the heat map appear
            page.locator("#ex-file").set_input_files(str(COFFEE))
            expect(page.locator("#ex-grid")).to_have_attribute("data-layer", ex.default_layer)
            expect(page.locator("#ex-cam")).to_have_attribute("data-label", "espresso")

            # pick blocks.5 in the table with the keyboard
            page.locator("#ex-summary tr[data-layer='blocks.4']").focus()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            expect(page.locator("#ex-grid")).to_have_attribute("data-layer", "blocks.5")
            expect(page.locator("#ex-layer")).to_have_value("blocks.5")
            act = ex.activations(str(COFFEE), "blocks.5")
            grid = _check_grid_against(page, act)
            assert int(grid["shown"]) == act.shape[0] == 80
            weights = ex.distribution("blocks.5")
            assert _counts(page, "#ex-hist-weights") == weights.counts.tolist()
            acts = ex.distribution("blocks.5", str(COFFEE))
            page_acts = np.array(_counts(page, "#ex-hist-activations"))
            assert page_acts.sum() == acts.size and np.abs(page_acts - acts.counts).sum() <= 2
            cam = ex.grad_cam(str(COFFEE))
            cam_data = page.evaluate("() => ({ ...document.querySelector('#ex-cam').dataset })")
            assert cam_data["label"] == cam.label
            assert float(cam_data["confidence"]) == pytest.approx(cam.confidence, abs=1e-4)
            assert abs(int(cam_data["peakX"]) - cam.peak()[0]) <= 2 and abs(int(cam_data["peakY"]) - cam.peak()[1]) <= 2
            for sel in ("#ex-open", "#ex-grid", "#ex-cam", "#ex-hist-activations", "#ex-layer"):
                assert _in_view(page, sel), f"{sel} is outside the 1280×800 window"
            page.locator("#ex-grid").hover(position={"x": 5, "y": 5})
            expect(page.locator("#ex-probe")).to_contain_text("Channel 0:")
            page.screenshot(path=str(ARTIFACTS / "explorer-efficientnet.png"))
            print(f"\nexplorer grid: {grid['ms']} ms in the page, {grid['serverMs']} ms on the server")

            # a Teachable Machine export, opened by its path (the photo stays)
            tm = ml.model_explorer(str(TM))
            page.locator("#ex-model").select_option("path")
            page.locator("#ex-path").fill(str(TM))
            page.locator("#ex-path").press("Enter")
            expect(page.locator("#ex-total")).to_have_attribute("data-parameters", str(tm.parameters))
            expect(page.locator("#ex-grid")).to_have_attribute("data-layer", tm.default_layer)
            _check_grid_against(page, tm.activations(str(COFFEE), tm.default_layer))
            tm_cam = tm.grad_cam(str(COFFEE))
            expect(page.locator("#ex-cam")).to_have_attribute("data-label", tm_cam.label)
            page.screenshot(path=str(ARTIFACTS / "explorer-teachable-machine.png"))

            # back to the backbone, and a frame of the (fake) webcam
            page.locator("#ex-model").select_option("efficientnet-lite0")
            page.locator("#ex-open").click()
            expect(page.locator("#ex-total")).to_have_attribute("data-parameters", str(ex.parameters))
            page.locator("#ex-webcam").click()
            expect(page.locator("#ex-snap")).to_be_visible()
            page.wait_for_function("() => document.querySelector('#ex-video').videoWidth > 0")
            page.locator("#ex-snap").click()
            expect(page.locator("#ex-grid")).to_have_attribute("data-source", "webcam")
            expect(page.locator("#ex-cam")).to_have_attribute("data-source", "webcam")
            expect(page.locator("#ex-cam")).to_have_attribute("data-label", "espresso")
            page.locator("#ex-layer").select_option("blocks.5")
            expect(page.locator("#ex-grid")).to_have_attribute("data-layer", "blocks.5")
            sent = page.evaluate("""async () => { const b = await document.querySelector('.ex').lastImage.arrayBuffer();
                let s = ''; new Uint8Array(b).forEach((x) => { s += String.fromCharCode(x); }); return btoa(s); }""")
            frame = np.asarray(Image.open(io.BytesIO(base64.b64decode(sent))).convert("RGB"))
            assert frame.shape == (480, 640, 3)
            _check_grid_against(page, ex.activations(frame, "blocks.5"))
            assert ex.grad_cam(frame).label == "espresso"
            for sel in ("#ex-video", "#ex-grid", "#ex-cam"):
                assert _in_view(page, sel), f"{sel} is outside the 1280×800 window"
            page.screenshot(path=str(ARTIFACTS / "explorer-webcam.png"))
            # live: frame after frame (grid and Grad-CAM each), until stopped
            page.locator("#ex-live").click()
            expect(page.locator("#ex-live")).to_have_attribute("aria-pressed", "true")
            expect(page.locator("#ex-snap")).to_be_disabled()
            page.wait_for_function("() => Number(document.querySelector('#ex-grid').dataset.frames || 0) >= 3",
                                   timeout=60_000)
            page.locator("#ex-live").click()
            expect(page.locator("#ex-grid")).to_have_attribute("data-live", "off")
            expect(page.locator("#ex-snap")).to_be_enabled()
            frames = int(page.locator("#ex-grid").get_attribute("data-frames"))
            page.wait_for_timeout(500)  # stopped: no more frames
            assert int(page.locator("#ex-grid").get_attribute("data-frames")) == frames
            fps = float(page.locator("#ex-grid").get_attribute("data-fps"))
            print(f"explorer live: {frames} frames at {fps} frames/s")
            assert fps > 0
            sent = page.evaluate("""async () => { const b = await document.querySelector('.ex').lastImage.arrayBuffer();
                let s = ''; new Uint8Array(b).forEach((x) => { s += String.fromCharCode(x); }); return btoa(s); }""")
            frame = np.asarray(Image.open(io.BytesIO(base64.b64decode(sent))).convert("RGB"))
            _check_grid_against(page, ex.activations(frame, "blocks.5"))  # the last frame drawn is the last sent
            expect(page.locator("#ex-cam")).to_have_attribute("data-label", "espresso")
            page.locator("#ex-live").click()  # live again, then the webcam stopped under it
            expect(page.locator("#ex-grid")).to_have_attribute("data-live", "on")
            page.locator("#ex-webcam").click()
            expect(page.locator("#ex-grid")).to_have_attribute("data-live", "off")
            expect(page.locator("#ex-live")).to_be_hidden()
            assert not errors, errors
            browser.close()
    finally:
        server.stop()
