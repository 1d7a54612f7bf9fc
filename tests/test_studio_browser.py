"""playml studio end to end in real headless Chromium, with Chromium's fake camera.

The fake camera plays a Y4M video made from a real photo (the astronaut), so the webcam
sees a person: one class is recorded from it, the other gets real photos of coffee uploaded;
the model trains, the live preview classifies the webcam, the model is saved and loads in
Python with ml.load; the Track page draws the body pose. Screenshots of both pages go to
test-artifacts/studio/.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from _teach_data import photo_crops, write_folder
from conftest import ROOT, require_browser

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "studio"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def _write_y4m(path: Path, photo: np.ndarray, frames: int = 12) -> None:
    """A 640×480 4:2:0 Y4M clip of slightly moving crops of ``photo`` (Chromium's fake camera reads it)."""
    from PIL import Image

    h, w = photo.shape[:2]
    out = [b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n"]
    for i in range(frames):
        dx = int(i * (w * 0.1) / frames)
        crop = Image.fromarray(photo[:, dx:w - int(w * 0.1) + dx]).resize((640, 480), Image.BILINEAR)
        ycc = np.asarray(crop.convert("YCbCr"))
        out.append(b"FRAME\n")
        out.append(np.ascontiguousarray(ycc[:, :, 0]).tobytes())
        for c in (1, 2):
            out.append(np.ascontiguousarray(ycc[::2, ::2, c]).tobytes())
    path.write_bytes(b"".join(out))


def _count(text: str) -> int:
    m = re.search(r"(\d+) example", text)
    return int(m.group(1)) if m else 0


def test_teach_and_track_in_chromium(tmp_path, photos):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=30_000)      # the machine may be shared with other jobs
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "camera.y4m"
    _write_y4m(video, photos["astronaut"])
    coffee = write_folder(tmp_path / "photos", {"coffee": photo_crops(n_train=8, n_held=0)[0]["coffee"]})
    uploads = sorted(str(p) for p in (coffee / "coffee").iterdir())
    models = tmp_path / "models"

    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, f"--use-file-for-fake-video-capture={video}"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            assert "token=" not in page.url                      # the token moved into a cookie
            status = page.locator("#status")

            # two classes to start with: name them
            cards = page.locator(".class-card")
            expect(cards).to_have_count(2, timeout=30_000)
            for card, name in zip((cards.nth(0), cards.nth(1)), ("astronaut", "coffee")):
                card.get_by_label("Class name").fill(name)
                card.get_by_label("Class name").press("Enter")
                expect(card.get_by_label("Class name")).to_have_value(name)

            # record a burst from the (fake) webcam for the first class: hold the button
            page.locator("#camera-toggle").click()
            expect(page.locator("#camera-toggle")).to_have_text("Turn the webcam off", timeout=30_000)
            record = cards.nth(0).locator("button.record")
            record.hover()
            page.mouse.down()
            page.wait_for_timeout(1500)
            page.mouse.up()
            expect(cards.nth(0).locator(".count")).not_to_have_text("0 examples", timeout=30_000)
            page.wait_for_function("() => document.querySelectorAll('.class-card')[0]"
                                   ".querySelectorAll('.thumbs img').length >= 5", timeout=30_000)

            # the keyboard records too: hold Space on the focused button
            before = page.locator(".class-card").nth(0).locator(".thumbs img").count()
            record.focus()
            page.keyboard.down(" ")
            page.wait_for_timeout(800)
            page.keyboard.up(" ")
            page.wait_for_function(f"() => document.querySelectorAll('.class-card')[0]"
                                   f".querySelectorAll('.thumbs img').length > {before}", timeout=30_000)

            # upload real photos for the second class
            cards.nth(1).locator("input[type=file]").set_input_files(uploads)
            expect(cards.nth(1).locator(".count")).to_have_text("8 examples", timeout=30_000)
            recorded = _count(cards.nth(0).locator(".count").inner_text())
            assert recorded >= 5

            # train; the chart fills in while it runs, then the evaluation appears
            page.locator("#train").click()
            expect(page.locator("#accuracy")).to_be_visible(timeout=90_000)
            assert page.locator("#chart svg polyline").count() >= 2
            assert "Accuracy" in page.locator("#accuracy").inner_text()
            expect(page.locator("table.matrix")).to_be_visible()

            # the live preview classifies webcam frames, and keeps going
            preview = page.locator("#preview-info")
            page.wait_for_function("() => Number(document.querySelector('#preview-info').dataset.frames || 0) >= 3",
                                   timeout=30_000)
            first = int(preview.get_attribute("data-frames"))
            page.wait_for_function(f"() => Number(document.querySelector('#preview-info').dataset.frames) > {first + 3}",
                                   timeout=30_000)
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "astronaut")
            page.screenshot(path=str(ARTIFACTS / "teach.png"), full_page=True)
            page.set_viewport_size({"width": 420, "height": 800})             # a small window: one column
            page.screenshot(path=str(ARTIFACTS / "teach-narrow.png"))
            page.set_viewport_size({"width": 1280, "height": 900})

            # save into the models folder
            page.locator("#save-name").fill("astronaut-or-coffee")
            page.locator("#save").click()
            expect(status).to_contain_text("Saved to", timeout=30_000)

            # Track: body pose over the webcam (the fake camera shows a person)
            page.get_by_role("link", name="Track").click()
            page.locator("#task-pose").check()
            page.locator("#track-camera").click()
            expect(page.locator("#track-found")).to_have_attribute("data-count", "1", timeout=60_000)
            page.wait_for_function("() => Number(document.querySelector('#track-info').dataset.frames || 0) >= 3",
                                   timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "track.png"), full_page=True)
            page.locator("#task-hands").check()                  # switching task reconnects
            expect(page.locator("#track-info")).to_contain_text("frames", timeout=60_000)
            page.locator("#task-people").check()                 # MoveNet MultiPose finds the person too
            expect(page.locator("#track-found")).to_have_attribute("data-count", "1", timeout=60_000)
            page.locator("#task-objects").check()
            expect(page.locator("#track-found")).to_contain_text("object (person", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "track-objects.png"), full_page=True)
            assert not errors, errors
            browser.close()
    finally:
        server.stop()

    # the saved directory is a normal playml model
    clf = ml.load(models / "astronaut-or-coffee")
    assert clf.labels_ == ["astronaut", "coffee"]
    assert clf.classify(photos["coffee"])[0].label == "coffee"
    assert clf.classify(photos["astronaut"])[0].label == "astronaut"
