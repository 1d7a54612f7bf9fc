"""Turn images into the input an image backbone expects, fast.

Each backbone wants a square centre crop resized to its input size and pixels
normalised the way its weights were trained (see its model card). The crop and the
resize happen in one PIL call on the decoded image; large JPEGs are decoded directly at
a reduced size (JPEG "draft" mode) when that still leaves enough pixels for the crop.

>>> from playml.zoo.preprocessing import preprocess
>>> from playml.zoo import get_backbone
>>> preprocess(["coffee.jpg"], get_backbone("efficientnet-lite0")).shape   # doctest: +SKIP
(1, 3, 224, 224)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from playml.core.media import ImageLike, load_pil
from playml.zoo.specs import BackboneSpec

__all__ = ["crop_resize", "normalise", "preprocess"]


def _resample(name: str) -> int:
    from PIL import Image

    return {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}[name]


def crop_resize(image: ImageLike, spec: BackboneSpec) -> np.ndarray:
    """Decode ``image`` and return its centre crop at ``spec.input_size`` (S×S×3 uint8)."""
    size = spec.input_size
    # Shortest side the crop needs: decoding a big JPEG at 1/2, 1/4 or 1/8 scale is much
    # faster, and PIL only reduces as far as this size allows.
    needed = int(np.ceil(size / spec.crop_fraction))
    img = load_pil(image, draft_size=(needed, needed))
    w, h = img.size
    side = min(w, h) * spec.crop_fraction
    left, top = (w - side) / 2, (h - side) / 2
    out = img.resize((size, size), _resample(spec.resample), box=(left, top, left + side, top + side), reducing_gap=3.0)
    return np.asarray(out)


def normalise(batch: np.ndarray, spec: BackboneSpec) -> np.ndarray:
    """N×S×S×3 uint8 → N×3×S×S float32, normalised with the backbone's mean and std."""
    mean = np.asarray(spec.mean, dtype=np.float32) * 255.0
    scale = 1.0 / (np.asarray(spec.std, dtype=np.float32) * 255.0)
    x = np.empty((batch.shape[0], 3, batch.shape[1], batch.shape[2]), dtype=np.float32)
    for c in range(3):  # channel by channel: writes NCHW directly, no big temporaries
        np.subtract(batch[..., c], mean[c], out=x[:, c], dtype=np.float32)
        x[:, c] *= scale[c]
    return x


def preprocess(images: Iterable[Any], spec: BackboneSpec) -> np.ndarray:
    """Images (a list, or an N×H×W×3 array) → the N×3×S×S float32 batch the backbone takes."""
    crops = [crop_resize(image, spec) for image in images]
    if not crops:
        size = spec.input_size
        return np.zeros((0, 3, size, size), dtype=np.float32)
    return normalise(np.stack(crops), spec)
