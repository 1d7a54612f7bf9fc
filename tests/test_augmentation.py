"""Augmentation: flips, crops and colour changes of real photos, reproducible with a seed."""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml.core.augmentation import Augmentation, augment, augmented_copies, color_jitter, flip, random_crop


def _is_window_of(part: np.ndarray, whole: np.ndarray) -> bool:
    h, w = part.shape[:2]
    for top in range(whole.shape[0] - h + 1):
        row = whole[top, :, :]
        for left in np.flatnonzero((row[: whole.shape[1] - w + 1] == part[0, 0]).all(axis=1)):
            if np.array_equal(whole[top:top + h, left:left + w], part):
                return True
    return False


def test_flip_mirrors(photos):
    img = photos["coffee"]
    assert np.array_equal(flip(img)[:, 0], img[:, -1]) and np.array_equal(flip(flip(img)), img)


def test_random_crop_is_a_window_of_the_right_size(photos):
    img = photos["chelsea"][::4, ::4]
    rng = np.random.default_rng(0)
    for _ in range(5):
        part = random_crop(img, rng, scale=(0.5, 0.8))
        share = part.shape[0] * part.shape[1] / (img.shape[0] * img.shape[1])
        assert 0.45 <= share <= 0.85
        assert 0.7 <= part.shape[1] / part.shape[0] <= 1.4
        assert _is_window_of(part, img)


def test_color_jitter(photos):
    img = photos["astronaut"]
    rng = np.random.default_rng(1)
    assert np.array_equal(color_jitter(img, rng, brightness=0, contrast=0, saturation=0), img)
    changed = color_jitter(img, rng)
    assert changed.shape == img.shape and changed.dtype == np.uint8 and not np.array_equal(changed, img)
    gray = color_jitter(img, rng, brightness=0, contrast=0, saturation=1.0 - 1e-9)  # factor in (0, 2)
    assert gray.shape == img.shape


def test_copies_are_different_and_repeatable(photos):
    img = photos["rocket"]
    a, b = augmented_copies(img, 3, seed=7), augmented_copies(img, 3, seed=7)
    assert len(a) == 3 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])
    assert augment(img, seed=7).dtype == np.uint8
    assert Augmentation(flip=False, crop=(1.0, 1.0), brightness=0, contrast=0, saturation=0)(img).tolist() \
        == img.tolist()
    with pytest.raises(ml.InputError, match="whole number"):
        augmented_copies(img, -1)
