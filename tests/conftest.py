"""Shared fixtures. Real files only: photos from scikit-image/matplotlib/playml.samples."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return ROOT / "playml" / "samples"


@pytest.fixture(scope="session")
def coffee_path(samples_dir) -> Path:
    return samples_dir / "coffee.jpg"


@pytest.fixture(scope="session")
def chelsea_path(samples_dir) -> Path:
    return samples_dir / "chelsea.jpg"


@pytest.fixture(scope="session")
def astronaut_path(samples_dir) -> Path:
    return samples_dir / "astronaut.jpg"


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Real photos as RGB uint8 arrays (scikit-image's data plus matplotlib's grace_hopper)."""
    from skimage import data
    import matplotlib.cbook

    out = {name: getattr(data, name)() for name in ("coffee", "chelsea", "astronaut", "rocket")}
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        from PIL import Image

        out["grace_hopper"] = np.asarray(Image.open(f).convert("RGB"))
    return out


def require_browser() -> str:
    """Path of Debian's chromium; skip locally if missing, fail in CI (PLAYML_REQUIRE_BROWSER=1)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("PLAYML_REQUIRE_BROWSER"):
            pytest.fail("chromium is required in CI but is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


#: Headless Chromium's flags for every browser test (no sandbox as root, no GPU, nothing fetched).
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
#: A fake camera and microphone, allowed without asking.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def open_page(pw, chromium: str, args=BROWSER_ARGS, viewport=(1280, 800)):
    """``(browser, page, errors)``: headless Chromium started with ``args``, a page of
    ``viewport``, and the list its script errors are collected in. Close the browser when done."""
    browser = pw.chromium.launch(executable_path=chromium, headless=True, args=list(args))
    page = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return browser, page, errors


def require_node_modules() -> Path:
    """bench/peers/node_modules (installed by `make peers`, which `make test` runs)."""
    nm = ROOT / "bench" / "peers" / "node_modules"
    if not (nm / "@tensorflow" / "tfjs").exists():
        if os.environ.get("PLAYML_REQUIRE_BROWSER"):
            pytest.fail("bench/peers/node_modules is missing; run `make peers`")
        pytest.skip("bench/peers/node_modules is missing; run `make peers`")
    return nm


def make_labelled_photos(folder: Path, per_label: int = 10, seed: int = 0) -> Path:
    """A folder with one sub-folder per real photo (astronaut, camera, chelsea, coffee,
    grace_hopper, rocket), each holding ``per_label`` augmented JPEG copies of it (random
    crops, flips, colour and brightness changes)."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    sources = {name: getattr(data, name)() for name in ("astronaut", "camera", "chelsea", "coffee", "rocket")}
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        sources["grace_hopper"] = np.asarray(Image.open(f).convert("RGB"))
    rng = np.random.default_rng(seed)
    for name, pixels in sources.items():
        img = Image.fromarray(pixels).convert("RGB")
        w, h = img.size
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            scale = rng.uniform(0.6, 0.95)
            cw, ch = int(w * scale), int(h * scale)
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            out = img.crop((x, y, x + cw, y + ch)).resize((180, int(180 * ch / cw)))
            if rng.random() < 0.5:
                out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            arr = np.asarray(out, dtype=np.float32) * rng.uniform(0.7, 1.2, 3) + rng.uniform(-20, 20)
            Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(folder / name / f"{i:02d}.jpg", quality=85)
    return folder


@pytest.fixture(scope="session")
def labelled_photos(tmp_path_factory) -> Path:
    """6 labels × 10 augmented JPEGs of distinct real photos (see make_labelled_photos)."""
    return make_labelled_photos(tmp_path_factory.mktemp("labelled") / "photos")
