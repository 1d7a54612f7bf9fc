"""Make a few photos go further: random flips, crops and colour changes.

With very few examples per label, a classifier learns the photos rather than the thing in
them. Showing it changed copies — mirrored, cropped a little differently, a bit brighter or
paler — teaches it that those changes do not matter. Everything here is plain NumPy and
PIL, works on any image-like input, and is reproducible with a ``seed``.

>>> import numpy as np
>>> from playml.core.augmentation import augmented_copies
>>> photo = np.zeros((60, 80, 3), dtype=np.uint8)
>>> copies = augmented_copies(photo, 4, seed=0)
>>> len(copies), copies[0].dtype
(4, dtype('uint8'))

:class:`playml.ImageClassification` uses it when made with ``augment=True``: every image you
add is featurised together with :data:`DEFAULT_COPIES` changed copies (``augment=N`` for N
copies), so training sees five examples per photo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from playml.core.media import ImageLike, load_image
from playml.errors import InputError

__all__ = ["Augmentation", "DEFAULT_COPIES", "flip", "random_crop", "color_jitter", "augment", "augmented_copies"]

#: Changed copies made per added image when ``augment=True``.
DEFAULT_COPIES = 4


def flip(image: np.ndarray) -> np.ndarray:
    """The image mirrored left to right."""
    return np.ascontiguousarray(image[:, ::-1])


def random_crop(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    scale: tuple[float, float] = (0.6, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> np.ndarray:
    """A random rectangle covering ``scale`` of the image's area with a width/height ``ratio``
    in the given range (the "random resized crop" of ImageNet training, without the resize:
    the backbone's preprocessing resizes anyway)."""
    h, w = image.shape[:2]
    for _ in range(10):
        area = h * w * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            return np.ascontiguousarray(image[top : top + ch, left : left + cw])
    side = max(1, int(round(min(h, w) * math.sqrt(scale[0]))))  # odd shapes: a square crop
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    return np.ascontiguousarray(image[top : top + side, left : left + side])


def color_jitter(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    brightness: float = 0.2,
    contrast: float = 0.2,
    saturation: float = 0.2,
) -> np.ndarray:
    """Change brightness, contrast and saturation each by a random factor in 1 ± the amount."""
    x = image.astype(np.float32)
    if brightness:
        x *= rng.uniform(1 - brightness, 1 + brightness)
    gray = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma
    if contrast:
        c = rng.uniform(1 - contrast, 1 + contrast)
        x = (x - gray.mean()) * c + gray.mean()
        gray = (gray - gray.mean()) * c + gray.mean()
    if saturation:
        s = rng.uniform(1 - saturation, 1 + saturation)
        x = (x - gray[..., None]) * s + gray[..., None]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Augmentation:
    """Which changes to make, and how strong. The defaults suit photos of objects.

    >>> Augmentation(flip=False).copies(np.zeros((32, 32, 3), np.uint8), 2, seed=1)[1].shape[2]
    3
    """

    flip: bool = True
    crop: tuple[float, float] = (0.6, 1.0)  # share of the area kept; (1, 1) for no cropping
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2

    def __call__(self, image: ImageLike, rng: np.random.Generator | None = None) -> np.ndarray:
        """One randomly changed copy of ``image`` (H'×W'×3 uint8)."""
        rng = rng if rng is not None else np.random.default_rng()
        x = load_image(image)
        if self.flip and rng.random() < 0.5:
            x = flip(x)
        if self.crop != (1.0, 1.0):
            x = random_crop(x, rng, scale=self.crop)
        return color_jitter(x, rng, brightness=self.brightness, contrast=self.contrast, saturation=self.saturation)

    def copies(
        self, image: ImageLike, count: int, *, seed: int | np.random.Generator | None = None
    ) -> list[np.ndarray]:
        """``count`` different random copies of ``image``."""
        if count < 0 or int(count) != count:
            raise InputError(f"The number of augmented copies must be a whole number ≥ 0 (got {count}).")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        x = load_image(image)
        return [self(x, rng) for _ in range(int(count))]


def augment(image: ImageLike, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """One random flip + crop + colour change of ``image`` with the default strengths."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return Augmentation()(image, rng)


def augmented_copies(
    image: ImageLike, count: int = DEFAULT_COPIES, *, seed: int | np.random.Generator | None = None
) -> list[np.ndarray]:
    """``count`` random copies of ``image`` (flip, crop, colour jitter; default strengths)."""
    return Augmentation().copies(image, count, seed=seed)
