"""The one way playml turns probabilities into ranked predictions (``top_k``, best first).

>>> import numpy as np
>>> ranked(np.array([0.1, 0.7, 0.2]), ["cat", "dog", "bird"], top_k=2)
[Prediction(label='dog', confidence=0.7), Prediction(label='bird', confidence=0.2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from playml.errors import InputError
from playml.results.base import Prediction, Predictions

__all__ = ["check_top_k", "ranked", "renamed_k"]


def renamed_k(top_k: Any, k: Any, default: Any = None) -> Any:
    """``top_k``, taking the old keyword ``k`` (0.1) with a warning that names the new one."""
    if k is None:
        return default if top_k is None else top_k
    import warnings

    warnings.warn(
        "k= is now called top_k= (the same in every playml task); k= will go in a later version.",
        DeprecationWarning,
        stacklevel=3,
    )
    return k if top_k is None else top_k


def check_top_k(top_k: Any, name: str = "top_k") -> int | None:
    """``None`` (every label) or a whole number of at least 1; anything else is an InputError."""
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise InputError(f"{name} is how many results to return: a whole number of at least 1 (got {top_k!r}).")
    return int(top_k)


def ranked(
    probabilities: np.ndarray, labels: Sequence[Any], top_k: int | None = None
) -> list[Prediction] | list[list[Prediction]]:
    """Predictions best first (ties keep label order): a 1-D row → one list; N rows → N lists.

    Confidences are kept at full precision; :class:`~playml.results.Prediction` prints them
    with four significant digits.
    """
    k = check_top_k(top_k)
    probs = np.asarray(probabilities)
    k = len(labels) if k is None else min(k, len(labels))

    def one(row: np.ndarray) -> list[Prediction]:
        order = np.argsort(-row, kind="stable")[:k]
        return Predictions(Prediction(label=labels[i], confidence=float(row[i])) for i in order)  # bars in notebooks

    return [one(row) for row in probs] if probs.ndim == 2 else one(probs)
