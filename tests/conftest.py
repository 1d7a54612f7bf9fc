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


def require_node_modules() -> Path:
    """bench/peers/node_modules (installed by `make setup`)."""
    nm = ROOT / "bench" / "peers" / "node_modules"
    if not (nm / "@tensorflow" / "tfjs").exists():
        if os.environ.get("PLAYML_REQUIRE_BROWSER"):
            pytest.fail("bench/peers/node_modules is missing; run `make setup`")
        pytest.skip("bench/peers/node_modules is missing; run `make setup`")
    return nm
