"""The four 2-D classification sets of the TensorFlow Playground, generated on the spot.

Each makes ``n`` points (x1, x2) in the square −6…6 with two labels, ``orange`` and
``blue`` (the Playground's colours for −1 and +1). ``noise`` is the Playground's noise slider
divided by 100 (0 to 0.5). The rules follow the Playground's published description:

- **circle**: blue points lie inside radius 2.5, orange ones on a ring from 3.5 to 5;
  noise moves the point used to decide the label, so some points near the edge flip.
- **xor**: points in the four quarters (kept 0.3 away from the axes); blue where x1·x2 ≥ 0.
- **gaussian**: two round clouds centred on (2, 2) (blue) and (−2, −2) (orange); noise
  widens them (variance from 0.5 at noise 0 to 4 at noise 0.5).
- **spiral**: two interleaved spirals (1.75 turns, radius 0 to 5); noise jitters each point.

>>> from playml.datasets.playground import make
>>> X, y = make("xor", n=8, noise=0.0, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((8, 2), [0, 1])
"""

from __future__ import annotations

import numpy as np

from playml.errors import InputError

__all__ = ["SHAPES", "LABELS", "make"]

SHAPES = ("circle", "xor", "gaussian", "spiral")
#: Label names: code 0 is the Playground's −1 (orange), code 1 its +1 (blue).
LABELS = ["orange", "blue"]
RADIUS = 5.0


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    r = np.concatenate([rng.uniform(0, RADIUS * 0.5, half), rng.uniform(RADIUS * 0.7, RADIUS, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    jitter = rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    blue = np.hypot(*(xy + jitter).T) < RADIUS * 0.5
    return xy, blue


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-5, 5, (n, 2))
    xy += np.where(xy > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    moved = xy + jitter
    return xy, moved[:, 0] * moved[:, 1] >= 0


def _gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    half = n // 2
    blue = np.concatenate([np.ones(half, bool), np.zeros(n - half, bool)])
    centres = np.where(blue[:, None], 2.0, -2.0)
    return centres + rng.normal(0, np.sqrt(variance), (n, 2)), blue


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    parts, labels = [], []
    for delta, is_blue, count in ((0.0, True, n // 2), (np.pi, False, n - n // 2)):
        i = np.arange(count)
        r = i / max(count, 1) * RADIUS
        t = 1.75 * i / max(count, 1) * 2 * np.pi + delta
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (count, 2)) * noise
        parts.append(xy)
        labels.append(np.full(count, is_blue))
    return np.concatenate(parts), np.concatenate(labels)


_MAKERS = {"circle": _circle, "xor": _xor, "gaussian": _gaussian, "spiral": _spiral}


def make(shape: str, *, n: int = 500, noise: float = 0.0, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``n`` points of one Playground shape, ``y`` 0 (orange) or 1 (blue), shuffled."""
    if shape not in _MAKERS:
        raise InputError(f"shape must be one of {', '.join(SHAPES)} (got {shape!r}).")
    if int(n) != n or n < 2:
        raise InputError(f"n (the number of points) must be a whole number of at least 2 (got {n}).")
    if not 0 <= noise <= 0.5:
        raise InputError(f"noise goes from 0 to 0.5, like the Playground's slider from 0 to 50 (got {noise}).")
    rng = np.random.default_rng(seed)
    xy, blue = _MAKERS[shape](rng, int(n), float(noise))
    order = rng.permutation(len(xy))
    return xy[order].astype(np.float32), blue[order].astype(np.int64)
