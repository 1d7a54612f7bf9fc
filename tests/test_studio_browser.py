"""playml studio end to end in real headless Chromium, with Chromium's fake camera and microphone.

The fake camera plays a Y4M video made from a real photo (the astronaut), so the webcam
sees a person; the fake microphone plays espeak-ng speech (or a 440 Hz tone). For each kind
of project (image, pose, sound): classes are made, examples recorded and uploaded, the model
trains, the live preview classifies, the project is saved, the page reloaded, the project
opened again with every example, and the saved folder classifies in Python. The Track and
Pitch pages are checked too. Screenshots at 1280×800 and 480×800 go to test-artifacts/studio/.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from _teach_data import photo_crops, write_folder
from conftest import BROWSER_ARGS, FAKE_MEDIA_ARGS, ROOT, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "studio"
ARGS = [*BROWSER_ARGS, *FAKE_MEDIA_ARGS]


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


def _in_view(page, selector: str) -> bool:
    """The element is inside the window and not covered by another (its centre shows it)."""
    return page.evaluate("""(sel) => { const e = document.querySelector(sel), r = e.getBoundingClientRect();
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1 && !!top
          && (top === e || e.contains(top) || top.contains(e)); }""", selector)


def test_teach_project_and_track_in_chromium(tmp_path, photos):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=30_000)      # the machine may be shared with other jobs
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "camera.y4m"
    _write_y4m(video, photos["astronaut"])
    coffee = write_folder(tmp_path / "photos", {"coffee": photo_crops(n_train=9, n_held=0)[0]["coffee"]})
    uploads = sorted(str(p) for p in (coffee / "coffee").iterdir())
    models = tmp_path / "models"

    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, f"--use-file-for-fake-video-capture={video}"])
            context = browser.new_context(viewport={"width": 1280, "height": 800})
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

            # record from the (fake) webcam for the first class: hold the button
            page.locator("#camera-toggle").click()
            expect(page.locator("#camera-toggle")).to_have_text("Turn the webcam off", timeout=30_000)
            assert _in_view(page, ".camera")                   # 1280×800: the video is in the window
            record = cards.nth(0).locator("button.record")
            record.hover()
            page.mouse.down()
            page.wait_for_timeout(1500)
            page.mouse.up()
            expect(cards.nth(0).locator(".count")).not_to_have_text("0 examples", timeout=30_000)
            page.wait_for_function("() => document.querySelectorAll('.class-card')[0]"
                                   ".querySelectorAll('.thumbs img').length >= 5", timeout=30_000)

            # the keyboard records too: hold Space on the focused button
            before = cards.nth(0).locator(".thumbs img").count()
            record.focus()
            page.keyboard.down(" ")
            page.wait_for_timeout(800)
            page.keyboard.up(" ")
            page.wait_for_function(f"() => document.querySelectorAll('.class-card')[0]"
                                   f".querySelectorAll('.thumbs img').length > {before}", timeout=30_000)

            # a burst of exactly 4 pictures
            page.wait_for_function("() => document.querySelector('#page').dataset.uploading === '0'")
            before = _count(cards.nth(0).locator(".count").inner_text())
            cards.nth(0).locator(".burst-count").fill("4")
            cards.nth(0).locator("button.burst").click()
            expect(cards.nth(0).locator(".count")).to_have_text(f"{before + 4} examples", timeout=30_000)
            # webcam thumbnails are mirrored like the preview
            assert "mirror" in (cards.nth(0).locator(".thumbs img").first.get_attribute("class") or "")

            # upload real photos for the second class, then delete one of them
            cards.nth(1).locator("input[type=file]").set_input_files(uploads)
            expect(cards.nth(1).locator(".count")).to_have_text("9 examples", timeout=30_000)
            first = cards.nth(1).locator(".thumb").first
            first.hover()
            first.locator(".thumb-delete").click()
            expect(cards.nth(1).locator(".count")).to_have_text("8 examples", timeout=30_000)
            recorded = _count(cards.nth(0).locator(".count").inner_text())
            assert recorded >= 9

            # a broken upload is explained in words
            bad = tmp_path / "notes.jpg"
            bad.write_bytes(b"not a picture")
            cards.nth(1).locator("input[type=file]").set_input_files(str(bad))
            expect(status).to_contain_text("not an image the studio can read", timeout=30_000)
            assert "Error" not in status.inner_text()

            # train; the chart fills in while it runs, then the evaluation appears
            page.locator("#train").click()
            expect(page.locator("#accuracy")).to_be_visible(timeout=90_000)
            assert page.locator("#chart svg polyline").count() >= 2
            expect(page.locator("table.matrix")).to_be_visible()

            # the live preview classifies webcam frames, and keeps going
            preview = page.locator("#preview-info")
            page.wait_for_function("() => Number(document.querySelector('#preview-info').dataset.frames || 0) >= 3",
                                   timeout=30_000)
            done = int(preview.get_attribute("data-frames"))
            page.wait_for_function(f"() => Number(document.querySelector('#preview-info').dataset.frames) > {done + 3}",
                                   timeout=30_000)
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "astronaut")
            page.evaluate("window.scrollTo(0, 0)")
            assert _in_view(page, ".camera")
            page.screenshot(path=str(ARTIFACTS / "teach-1280x800.png"))

            # save the whole project (Save asks for a name the first time)
            page.once("dialog", lambda d: d.accept("astro-project"))
            page.locator("#project-save").click()
            expect(status).to_contain_text("Saved the project", timeout=60_000)
            expect(page.locator("#project-title")).to_have_text("astro-project")
            # one more example: autosave keeps the folder up to date
            cards.nth(1).locator("input[type=file]").set_input_files(uploads[0])
            expect(cards.nth(1).locator(".count")).to_have_text("9 examples", timeout=30_000)
            expect(page.locator("#project-state")).to_have_text("· saved", timeout=60_000)
            expect(page.locator("#project-state")).to_have_attribute("data-dirty", "0")

            # a narrow window: the camera stays in view above the record button
            page.set_viewport_size({"width": 480, "height": 800})
            cards.nth(0).locator("button.record").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "teach-480x800.png"))
            assert _in_view(page, ".camera") and _in_view(page, ".class-card button.record")
            page.set_viewport_size({"width": 1280, "height": 800})

            # reload; start a new project (nothing unsaved: no question), then open the saved one
            page.reload()
            expect(cards).to_have_count(2, timeout=30_000)
            page.locator("#project-new").click()
            expect(cards.nth(0).locator(".count")).to_have_text("0 examples", timeout=30_000)
            cards.nth(0).locator("input[type=file]").set_input_files(uploads[:2])   # unsaved work now
            expect(cards.nth(0).locator(".count")).to_have_text("2 examples", timeout=30_000)
            page.locator("#open-name").select_option("astro-project")
            page.once("dialog", lambda d: d.dismiss())                           # Open asks first: say no
            page.locator("#open").click()
            expect(cards.nth(0).locator(".count")).to_have_text("2 examples")
            page.once("dialog", lambda d: d.accept())
            page.locator("#open").click()
            expect(cards.nth(0).get_by_label("Class name")).to_have_value("astronaut", timeout=60_000)
            expect(cards.nth(0).locator(".count")).to_have_text(f"{recorded} examples")
            expect(cards.nth(1).locator(".count")).to_have_text("9 examples")
            page.wait_for_function("() => document.querySelectorAll('.class-card')[1]"
                                   ".querySelectorAll('.thumbs img').length === 9", timeout=30_000)
            page.locator("#camera-toggle").click()                # the opened model classifies the webcam
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "astronaut", timeout=60_000)

            # Track: body pose over the webcam (the fake camera shows a person)
            page.get_by_role("link", name="Track").click()
            page.locator("#task-pose").check()
            page.locator("#track-camera").click()
            expect(page.locator("#track-found")).to_have_attribute("data-count", "1", timeout=60_000)
            page.wait_for_function("() => Number(document.querySelector('#track-info').dataset.frames || 0) >= 3",
                                   timeout=30_000)
            radio = page.locator("#task-pose").bounding_box()
            label = page.locator("label[for=task-pose]").bounding_box()
            assert abs(radio["y"] - label["y"]) < label["height"] and label["x"] - radio["x"] < 40   # side by side
            assert _in_view(page, ".camera")                     # the video (under its drawing) is in the window
            page.screenshot(path=str(ARTIFACTS / "track-1280x800.png"))
            page.set_viewport_size({"width": 480, "height": 800})
            page.screenshot(path=str(ARTIFACTS / "track-480x800.png"))
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

    # the saved folder is a project Python opens and continues; its model classifies alone too
    project = ml.load_project(models / "astro-project")
    assert project.counts() == {"astronaut": recorded, "coffee": 9}
    assert project.classify(photos["coffee"])[0].label == "coffee"
    assert project.classify(photos["astronaut"])[0].label == "astronaut"
    clf = ml.load(models / "astro-project" / "model")
    assert clf.labels_ == ["astronaut", "coffee"]
    assert clf.classify(photos["coffee"])[0].label == "coffee"
    project.train(epochs=5)
    assert project.last_featurised == 1          # only the photo added after training in the page
    known = {ex.hash for c in project.classes for ex in c.examples}
    fresh = {project.make_example(p).hash for p in uploads[1:3]} - known
    assert len(fresh) <= 1          # the same photos, kept the same way in Python as through the page
    project.classifier.add_images(uploads[1:3], "coffee")
    project.train(epochs=10)
    assert project.last_featurised == len(fresh)          # only new content is featurised


def _person_crops(photo: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for _ in range(n):
        s = rng.uniform(0.85, 1.0)
        ch, cw = int(h * s), int(w * s)
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        out.append(np.ascontiguousarray(photo[y:y + ch, x:x + cw]))
    return out


def test_pose_project_in_chromium(tmp_path, photos):
    """A pose project: body keypoints recorded from the webcam and found in uploaded photos,
    a head trained on them, live classification with the skeleton drawn, saved and reopened."""
    chromium = require_browser()
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "camera.y4m"
    _write_y4m(video, photos["astronaut"])
    uploads = []
    for i, crop in enumerate(_person_crops(photos["grace_hopper"], 6, 1)):
        uploads.append(str(tmp_path / f"grace{i}.jpg"))
        Image.fromarray(crop).save(uploads[-1], quality=90)
    models = tmp_path / "models"
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, f"--use-file-for-fake-video-capture={video}"])
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            cards = page.locator(".class-card")
            expect(cards).to_have_count(2, timeout=30_000)
            page.locator("#project-kind").select_option("pose")
            page.locator("#project-new").click()                  # nothing to lose yet: no question
            expect(page.locator("#page")).to_have_attribute("data-kind", "pose")
            expect(page.locator("#project-title")).to_contain_text("pose project")
            for card, name in zip((cards.nth(0), cards.nth(1)), ("astronaut", "grace")):
                card.get_by_label("Class name").fill(name)
                card.get_by_label("Class name").press("Enter")
                expect(card.get_by_label("Class name")).to_have_value(name)

            page.locator("#camera-toggle").click()
            expect(page.locator("#camera-toggle")).to_have_text("Turn the webcam off", timeout=30_000)
            cards.nth(0).locator("button.record").hover()
            page.mouse.down()
            page.wait_for_timeout(1500)
            page.mouse.up()
            page.wait_for_function("() => document.querySelector('#page').dataset.uploading === '0'", timeout=60_000)
            recorded = _count(cards.nth(0).locator(".count").inner_text())
            assert recorded >= 4
            cards.nth(1).locator("input[type=file]").set_input_files(uploads)
            expect(cards.nth(1).locator(".count")).to_have_text("6 examples", timeout=60_000)

            page.locator("#train").click()
            expect(page.locator("#train-info")).to_contain_text("Done in", timeout=90_000)
            page.wait_for_function("() => Number(document.querySelector('#preview-overlay').dataset.drawn || 0) >= 3",
                                   timeout=60_000)
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "astronaut", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "teach-pose-1280x800.png"))
            page.set_viewport_size({"width": 480, "height": 800})
            cards.nth(0).locator("button.record").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "teach-pose-480x800.png"))
            assert _in_view(page, ".camera") and _in_view(page, ".class-card button.record")
            page.set_viewport_size({"width": 1280, "height": 800})

            page.once("dialog", lambda d: d.accept("pose-project"))
            page.locator("#project-save").click()
            expect(page.locator("#status")).to_contain_text("Saved the project", timeout=60_000)
            page.reload()
            expect(cards).to_have_count(2, timeout=30_000)
            page.locator("#project-kind").select_option("image")
            page.locator("#project-new").click()
            expect(page.locator("#page")).to_have_attribute("data-kind", "image")
            page.locator("#open-name").select_option("pose-project")
            page.locator("#open").click()
            expect(page.locator("#page")).to_have_attribute("data-kind", "pose", timeout=60_000)
            expect(cards.nth(0).locator(".count")).to_have_text(f"{recorded} examples")
            expect(cards.nth(1).locator(".count")).to_have_text("6 examples")
            assert not errors, errors
            browser.close()
    finally:
        server.stop()

    project = ml.load_project(models / "pose-project")
    assert project.kind == "pose" and project.counts() == {"astronaut": recorded, "grace": 6}
    a = photos["astronaut"]
    as_filmed = np.asarray(Image.fromarray(a[:, :int(a.shape[1] * 0.9)]).resize((640, 480)))   # as the camera saw it
    assert project.classify(as_filmed)[0].label == "astronaut"
    assert project.classify(photos["grace_hopper"])[0].label == "grace"


def _speech_wav(path: Path, text: str) -> Path:
    """Speech made with espeak-ng (installed by make setup), resampled to 16 kHz mono WAV."""
    import shutil
    import subprocess

    import playml as ml  # noqa: F401  (playml's audio loader below)
    from playml.core.audio import load_audio
    from playml.projects.project import _wav_bytes

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (make setup installs it)")
    raw = path.with_suffix(".raw.wav")
    subprocess.run([espeak, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    samples, _ = load_audio(raw, target_rate=16000)
    path.write_bytes(_wav_bytes(samples / max(1e-6, float(np.abs(samples).max())) * 0.8))
    return path


def test_sound_project_in_chromium(tmp_path):
    """A sound project with Chromium's fake microphone playing espeak-ng speech once: background
    noise uploaded, speech recorded, trained, live decisions follow the sound (speech, then the
    silence after it), the project saved and reopened, and it classifies in Python."""
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml
    from playml.projects.project import _wav_bytes

    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    speech = _speech_wav(tmp_path / "speech.wav", "Hello there. One, two, three, four, five. Hello again, "
                                                   "six, seven, eight, nine, ten. Good bye now.")
    rng = np.random.default_rng(0)
    noise = []
    for i in range(6):
        noise.append(str(tmp_path / f"room{i}.wav"))
        Path(noise[-1]).write_bytes(_wav_bytes(rng.normal(0, 0.003 * (i + 1), 16000).astype(np.float32)))
    models = tmp_path / "models"
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, "--autoplay-policy=no-user-gesture-required",
                                               f"--use-file-for-fake-audio-capture={speech}%noloop"])
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            cards = page.locator(".class-card")
            expect(cards).to_have_count(2, timeout=30_000)
            page.locator("#project-kind").select_option("sound")
            page.locator("#project-new").click()
            expect(page.locator("#page")).to_have_attribute("data-kind", "sound")
            expect(cards.nth(0).get_by_label("Class name")).to_have_value("Background noise")   # suggested first
            cards.nth(1).get_by_label("Class name").fill("speech")
            cards.nth(1).get_by_label("Class name").press("Enter")
            cards.nth(0).locator("input[type=file]").set_input_files(noise)
            expect(cards.nth(0).locator(".count")).to_have_text("6 examples", timeout=30_000)

            # the microphone: the fake one starts playing the speech now
            page.locator("#camera-toggle").click()
            expect(page.locator("#camera-toggle")).to_have_text("Turn the microphone off", timeout=30_000)
            record = cards.nth(1).locator("button.record")
            record.hover()
            page.mouse.down()
            page.wait_for_timeout(3300)
            page.mouse.up()
            cards.nth(1).locator(".burst-count").fill("2")
            cards.nth(1).locator("button.burst").click()
            page.wait_for_function("() => Number(document.querySelector('#spectrogram').dataset.frames || 0) > 20")
            expect(cards.nth(1).locator(".count")).to_have_text("5 examples", timeout=30_000)
            page.locator("#camera-toggle").click()                       # off: the next capture starts over
            page.wait_for_function("() => document.querySelector('#page').dataset.uploading === '0'")

            page.locator("#train").click()
            expect(page.locator("#train-info")).to_contain_text("Done in", timeout=120_000)
            page.locator("#camera-toggle").click()
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "speech", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "teach-sound-1280x800.png"))
            # the speech ends (played once): the decisions follow it to background noise
            expect(page.locator("#bars li.top")).to_have_attribute("data-label", "Background noise", timeout=40_000)
            frames = int(page.locator("#preview-info").get_attribute("data-frames"))
            latency = float(page.locator("#preview-info").get_attribute("data-latency"))
            assert frames >= 10 and latency < 1000
            page.set_viewport_size({"width": 480, "height": 800})
            cards.nth(1).locator("button.record").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "teach-sound-480x800.png"))
            assert _in_view(page, ".class-card button.record")
            page.set_viewport_size({"width": 1280, "height": 800})

            page.once("dialog", lambda d: d.accept("sound-project"))
            page.locator("#project-save").click()
            expect(page.locator("#status")).to_contain_text("Saved the project", timeout=60_000)
            page.reload()
            expect(cards).to_have_count(2, timeout=30_000)
            page.locator("#project-kind").select_option("image")
            page.locator("#project-new").click()
            page.locator("#open-name").select_option("sound-project")
            page.locator("#open").click()
            expect(page.locator("#page")).to_have_attribute("data-kind", "sound", timeout=60_000)
            expect(cards.nth(0).locator(".count")).to_have_text("6 examples")
            expect(cards.nth(1).locator(".count")).to_have_text("5 examples")
            assert not errors, errors
            browser.close()
    finally:
        server.stop()

    project = ml.load_project(models / "sound-project")
    assert project.kind == "sound" and project.counts() == {"Background noise": 6, "speech": 5}
    assert project.classify(str(speech))[0].label == "speech"
    assert project.classify((rng.normal(0, 0.005, 16000).astype(np.float32), 16000))[0].label == "Background noise"


def test_pitch_page_in_chromium(tmp_path):
    """The Pitch page names the note Chromium's fake microphone plays (A4, 440 Hz) and says it is in tune."""
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml
    from playml.projects.project import _wav_bytes

    tone = tmp_path / "a4.wav"
    t = np.arange(16000 * 3) / 16000
    tone.write_bytes(_wav_bytes((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)))
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=tmp_path / "models")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=[*ARGS, "--autoplay-policy=no-user-gesture-required",
                                               f"--use-file-for-fake-audio-capture={tone}"])
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "#pitch")
            page.locator("#pitch-mic").click()
            expect(page.locator("#pitch-note")).to_have_attribute("data-note", "A4", timeout=60_000)
            expect(page.locator("#pitch-note")).to_have_class("pitch-note in-tune")
            page.wait_for_function("() => Number(document.querySelector('#pitch-note').dataset.answers) >= 5")
            page.screenshot(path=str(ARTIFACTS / "pitch-1280x800.png"))
            page.set_viewport_size({"width": 480, "height": 800})
            page.screenshot(path=str(ARTIFACTS / "pitch-480x800.png"))
            assert not errors, errors
            browser.close()
    finally:
        server.stop()
