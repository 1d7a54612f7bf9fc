"""What an image search answers: a :class:`Match` per result, and how well the results
keep to the query's label (:class:`SearchScore`, :func:`search_score`: ConvNet Playground's
search score).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from playml.results import Result

__all__ = ["Match", "SearchScore", "search_score"]


@dataclasses.dataclass(repr=False)
class Match(Result):
    """One search result: the image, how far it is from the query, and a 0–1-ish score."""

    path: str
    distance: float
    score: float
    label: str | None = None


@dataclasses.dataclass(repr=False)
class SearchScore(Result):
    """How well search results keep to the query's label (see :func:`search_score`).

    ``score`` is the mean ConvNet Playground search score, ``baseline`` what a random
    ordering would get on average, ``ideal`` the best possible (every same-label image
    ranked first: below 1 when a label has fewer than ``k + 1`` images), ``precision`` the
    plain share of same-label images in the top ``k``, ``per_label`` the mean score of the
    queries of each label.
    """

    score: float
    baseline: float
    ideal: float
    precision: float
    k: int
    queries: int
    per_label: dict = dataclasses.field(default_factory=dict)


def search_score(hits: Sequence[bool]) -> float:
    """ConvNet Playground's position-weighted search score of one result list.

    The query itself is left out; the result at rank ``i`` (0 = first) weighs
    ``(k − i) / k`` for a list of ``k`` results, and the score is the weight of the results
    that have the query's label divided by the weight of all ``k``:
    ``Σᵢ hitᵢ·(k − i) / Σᵢ (k − i)``. 1.0 means every result has the query's label; a hit at
    the top counts ``k`` times more than one at the bottom.

    >>> search_score([True] * 15), search_score([False] * 15)
    (1.0, 0.0)
    >>> round(search_score([True] + [False] * 14), 3)    # one hit, at the top: 15 / 120
    0.125
    """
    flags = np.asarray(hits, dtype=bool)
    k = len(flags)
    if k == 0:
        return 0.0
    weights = (k - np.arange(k)) / k
    return float((weights * flags).sum() / weights.sum())
