"""Small labelled photo sets for the teach-the-machine tests, cut from real photos.

Four labels, each from a different real photo (scikit-image's data): ``cat`` (chelsea),
``coffee``, ``rocket`` and ``motorcycle`` (the left view of the stereo pair). Training crops
come from the left 55 % of each photo; held-out crops come from the right 45 %, which no
training crop overlaps, and the held-out motorcycles come from the *other* photo of the
stereo pair (taken from another viewpoint).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

LABELS = ("cat", "coffee", "rocket", "motorcycle")


def _photos() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    train = {"cat": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket(), "motorcycle": left}
    held = {**train, "motorcycle": right}
    return train, held


def _crop(img: np.ndarray, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    cw = int(w * rng.uniform(0.3, min(0.45, hi - lo)))
    ch = int(h * rng.uniform(0.55, 0.85))
    left = int(rng.integers(int(w * lo), int(w * hi) - cw + 1))
    top = int(rng.integers(0, h - ch + 1))
    return np.ascontiguousarray(img[top:top + ch, left:left + cw])


def photo_crops(n_train: int = 4, n_held: int = 4, seed: int = 0):
    """``(train, held_out)``: dicts label → list of H×W×3 uint8 crops (see the module docstring)."""
    rng = np.random.default_rng(seed)
    train_photos, held_photos = _photos()
    train = {k: [_crop(img, 0.0, 0.55, rng) for _ in range(n_train)] for k, img in train_photos.items()}
    held = {k: [_crop(img, 0.0 if k == "motorcycle" else 0.55, 1.0, rng) for _ in range(n_held)]
            for k, img in held_photos.items()}
    return train, held


def write_folder(root: Path, crops: dict[str, list[np.ndarray]]) -> Path:
    """Save crops as JPEG files, one sub-folder per label."""
    from PIL import Image

    for label, images in crops.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(images):
            Image.fromarray(img).save(root / label / f"{label}_{i}.jpg", quality=92)
    return root
