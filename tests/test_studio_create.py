"""The studio's Create page: the webcam painted live in a style (real headless Chromium with a
fake camera showing a real photo), and the Shakespeare writer trained and used from the page."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, require_browser

ARTIFACTS = ROOT / "test-artifacts" / "studio"


def test_writer_api_validates_and_writes(tmp_path):
    from fastapi.testclient import TestClient

    from playml.web.app import create_app

    app = create_app(token="t0ken", port=8767, models_dir=tmp_path)
    client = TestClient(app, base_url="http://127.0.0.1:8767", headers={"x-playml-token": "t0ken"})
    r = client.get("/api/create/writer")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "idle"
    assert client.post("/api/create/write", json={"prompt": "ROMEO:"}).status_code == 409
    assert client.post("/api/create/train", json={"epochs": 0}).status_code == 400
    assert client.post("/api/create/train", json={"characters": 20_000, "epochs": 1}).status_code == 202
    writer = app.state.writer
    import time

    deadline = time.time() + 120
    while writer.status == "training" and time.time() < deadline:
        time.sleep(0.2)
    assert writer.status == "ready", writer.message
    r = client.post("/api/create/write", json={"prompt": "ROMEO:", "temperature": 0.8, "length": 60, "seed": 3})
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    assert text.startswith("ROMEO:") and len(text) == 66
    assert client.post("/api/create/write", json={"prompt": "ROMEO:", "length": 60, "seed": 3,
                                                  "temperature": 0.8}).json()["text"] == text
    assert client.post("/api/create/write", json={"prompt": "x", "temperature": 9}).status_code == 400


@pytest.mark.slow
@pytest.mark.browser
def test_create_page_paints_the_webcam_and_writes(tmp_path, photos):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml
    from test_studio_browser import ARGS, _write_y4m

    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "camera.y4m"
    _write_y4m(video, photos["chelsea"])
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=tmp_path / "models")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, f"--use-file-for-fake-video-capture={video}"])
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            page.get_by_role("link", name="Create").click()
            page.locator("#create-style").select_option("style-5")
            page.locator("#create-camera").click()
            page.wait_for_function("() => Number(document.querySelector('#create-style-info').dataset.frames || 0) >= 2",
                                   timeout=120_000)
            src = page.locator("#create-painted").get_attribute("src")
            assert src.startswith("data:image/jpeg;base64,")
            page.screenshot(path=str(ARTIFACTS / "create.png"), full_page=True)
            # the painted frame is a real picture in the style, not the camera frame
            import base64
            import io

            from PIL import Image

            painted = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))
            assert painted.shape[2] == 3 and max(painted.shape[:2]) >= 320
            assert painted.std() > 20

            page.locator("#create-camera").click()                # webcam off
            page.locator("#create-train").click()
            expect(page.locator("#create-writer-info")).to_have_attribute("data-status", "ready", timeout=300_000)
            page.locator("#create-temperature").fill("0.5")
            page.locator("#create-write").click()
            expect(page.locator("#create-output")).to_contain_text("ROMEO:", timeout=30_000)
            assert len(page.locator("#create-output").text_content()) > 200
            # save it, reload the page (a fresh writer view) and open it again from the list
            page.locator("#create-save-name").fill("bard")
            page.locator("#create-save").click()
            expect(page.locator("#create-open-name")).to_have_value("bard")
            assert ml.load(tmp_path / "models" / "bard").generate("ROMEO:", length=20, seed=1).startswith("ROMEO:")
            page.reload()
            page.get_by_role("link", name="Create").click()
            page.locator("#create-open-name").select_option("bard")
            page.locator("#create-open").click()
            expect(page.locator("#create-writer-info")).to_have_attribute("data-status", "ready")
            expect(page.locator("#create-write")).to_be_enabled()
            assert not errors, errors
            browser.close()
    finally:
        server.stop()


def test_writer_saves_and_opens_in_the_studio_and_in_python(tmp_path):
    """A writer trained in Python opens on the Create page's API and writes the same text; one
    saved from the studio opens with ml.load; a model of another kind is refused by name."""
    from fastapi.testclient import TestClient

    import playml as ml
    from playml.web.app import create_app

    rnn = ml.char_rnn(hidden=32, seed=1)
    rnn.train(ml.datasets.load("shakespeare").text[:20_000], epochs=1, progress=False)
    rnn.save(tmp_path / "bard")
    net = ml.neural_network(task="classification")
    for i in range(16):
        net.add_data([i % 2, i % 2], ["a", "b"][i % 2])
    net.train(epochs=2)
    net.save(tmp_path / "not-a-writer")

    app = create_app(token="t0ken", port=8767, models_dir=tmp_path)
    client = TestClient(app, base_url="http://127.0.0.1:8767", headers={"x-playml-token": "t0ken"})
    assert client.get("/api/create/writers").json() == {"writers": ["bard"]}
    assert client.post("/api/create/save", json={"name": "x"}).status_code == 409  # nothing to save yet
    r = client.post("/api/create/open", json={"name": "bard"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready" and r.json()["history"]["loss"]
    text = client.post("/api/create/write", json={"prompt": "ROMEO:", "length": 40, "seed": 7}).json()["text"]
    assert text == rnn.generate("ROMEO:", length=40, seed=7)

    r = client.post("/api/create/open", json={"name": "not-a-writer"})
    assert r.status_code == 400 and "not a writer" in r.json()["detail"]
    assert client.post("/api/create/open", json={"name": "../bard"}).status_code == 400

    assert client.post("/api/create/save", json={"name": "copy"}).json() == {"name": "copy"}
    again = ml.load(tmp_path / "copy")
    assert again.generate("ROMEO:", length=40, seed=7) == text
    # the save block refuses to replace a model of another kind
    assert client.post("/api/create/save", json={"name": "not-a-writer"}).status_code >= 400
    assert ml.load(tmp_path / "not-a-writer").classify([0, 0])
