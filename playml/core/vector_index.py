"""Nearest-neighbour search over vectors: exact in NumPy, approximate with USearch (HNSW).

:class:`VectorIndex` answers "which stored vectors are closest to this one?" under one
distance metric. Small collections are searched exactly (one matrix product, BLAS);
from :data:`APPROX_THRESHOLD` vectors on, an approximate HNSW graph from the USearch
library finds candidates and the candidates are re-ranked with exact distances, so the
distances returned are always exact and only a rare far-down neighbour can be missed
(recall@15 ≥ 0.95; ``bench/search.py`` measures it). ``exact=True`` forces exact search.

Metrics (``distance`` is what is sorted on, smaller is closer; ``score`` is the friendly
number, larger is closer):

=============== ================================ ==========================
metric          distance                         score
=============== ================================ ==========================
``cosine``      1 − cos(a, b)                     cos(a, b) = 1 − distance
``dot``         1 − a·b                           a·b = 1 − distance
``euclidean``   ‖a − b‖₂                          1 / (1 + distance)
``sqeuclidean`` ‖a − b‖₂²                         1 / (1 + distance)
``minkowski``   (Σ|aᵢ − bᵢ|ᵖ)^(1/p)               1 / (1 + distance)
=============== ================================ ==========================

Minkowski has no approximate index (USearch has no such metric): it is always exact.

>>> import numpy as np
>>> from playml.core.vector_index import VectorIndex
>>> index = VectorIndex("euclidean").fit(np.eye(3, dtype=np.float32))
>>> index.search(np.array([1.0, 0.1, 0.0]), k=2)[0]
array([0, 1])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from playml.errors import DependencyError, FormatError, InputError, ShapeError

__all__ = ["METRICS", "APPROX_THRESHOLD", "VectorIndex", "check_metric", "pairwise_distances", "to_score"]

METRICS = ("cosine", "euclidean", "sqeuclidean", "minkowski", "dot")

#: From this many vectors on (and unless ``exact=True``), search is approximate. Chosen by
#: measurement (bench/search.py): an exact query reads every vector (N × 1280 × 4 bytes),
#: about 10 ms at 20,000 vectors on a 2-core machine, while the HNSW graph answers in ~1 ms.
APPROX_THRESHOLD = 20_000

_ALIASES = {
    "cos": "cosine",
    "cosine_distance": "cosine",
    "l2": "euclidean",
    "euclidian": "euclidean",
    "squared_euclidean": "sqeuclidean",
    "squared euclidean": "sqeuclidean",
    "sq_euclidean": "sqeuclidean",
    "l2sq": "sqeuclidean",
    "squaredeuclidean": "sqeuclidean",
    "minkowsky": "minkowski",
    "lp": "minkowski",
    "ip": "dot",
    "inner_product": "dot",
    "inner product": "dot",
    "dot_product": "dot",
}

# metric -> (USearch metric, quantisation of the graph's vectors). Cosine vectors are
# normalised inside USearch, so 8-bit integers are exact enough (1 byte per number; the
# re-ranking step restores exact distances); the other metrics keep magnitudes, which
# int8 would clip, so they use float16.
_USEARCH = {"cosine": ("cos", "i8"), "dot": ("ip", "f16"), "euclidean": ("l2sq", "f16"), "sqeuclidean": ("l2sq", "f16")}

#: Rows per block in exact search (bounds the temporary Q × block distance matrix).
_BLOCK = 32_768


def check_metric(metric: str, p: float = 3) -> str:
    """Normalise a metric name (``'l2'`` → ``'euclidean'``); unknown → InputError."""
    key = str(metric).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in METRICS:
        raise InputError(f"There is no distance metric called {metric!r}. Use one of: {', '.join(METRICS)}.")
    if key == "minkowski" and not (isinstance(p, (int, float)) and p >= 1):
        raise InputError(f"The minkowski metric needs p ≥ 1 (got p={p!r}); p=1 is Manhattan, p=2 Euclidean.")
    return key


def to_score(distance, metric: str):
    """Friendly similarity from a distance (see the table in this module's docstring)."""
    d = np.asarray(distance, dtype=np.float64)
    if metric in ("cosine", "dot"):
        return 1.0 - d
    return 1.0 / (1.0 + d)


def _as_matrix(vectors, what: str = "vectors") -> np.ndarray:
    arr = np.asarray(vectors)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
        raise ShapeError(f"The {what} must be a 2-D array of numbers (one row per vector); got shape {arr.shape}.")
    return arr


def _exact_block(
    queries: np.ndarray,
    block: np.ndarray,
    metric: str,
    p: float,
    qnorm: np.ndarray | None = None,
    bnorm: np.ndarray | None = None,
) -> np.ndarray:
    """Distances Q × B between float32 queries and one block of stored rows."""
    block = np.asarray(block, dtype=np.float32)
    if metric == "minkowski":
        out = np.empty((queries.shape[0], block.shape[0]), dtype=np.float32)
        for i, q in enumerate(queries):
            diff = np.abs(block - q)
            if p == 1:
                out[i] = diff.sum(axis=1)
            elif p == 2:
                out[i] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            else:
                out[i] = np.power(np.power(diff, p).sum(axis=1), 1.0 / p)
        return out
    d = queries @ block.T
    if metric == "dot":
        np.subtract(1.0, d, out=d)
        return d
    if bnorm is None:
        bnorm = np.einsum("ij,ij->i", block, block)
    if qnorm is None:
        qnorm = np.einsum("ij,ij->i", queries, queries)
    if metric == "cosine":  # in place: no N-sized temporaries besides d
        d *= 1.0 / np.sqrt(np.maximum(bnorm, 1e-30))[None, :]
        d *= 1.0 / np.sqrt(np.maximum(qnorm, 1e-30))[:, None]
        np.subtract(1.0, d, out=d)
        return d
    d *= -2.0
    d += qnorm[:, None]
    d += bnorm[None, :]
    np.maximum(d, 0.0, out=d)
    if metric == "euclidean":
        np.sqrt(d, out=d)
    return d


def _direct(queries: np.ndarray, rows: np.ndarray, metric: str, p: float) -> np.ndarray:
    """Exact distances between each query i and its own candidate rows[i] (Q × C × D), no
    cancellation: differences are taken directly for the Minkowski family."""
    rows = np.asarray(rows, dtype=np.float32)
    q = queries[:, None, :]
    if metric in ("euclidean", "sqeuclidean"):
        diff = rows - q
        sq = np.einsum("qcd,qcd->qc", diff, diff)
        return np.sqrt(sq) if metric == "euclidean" else sq
    if metric == "minkowski":
        diff = np.abs(rows - q)
        return np.power(np.power(diff, p).sum(axis=2), 1.0 / p)
    dots = np.einsum("qcd,qd->qc", rows, queries)
    if metric == "dot":
        return 1.0 - dots
    qn = np.linalg.norm(queries, axis=1)[:, None]
    rn = np.linalg.norm(rows, axis=2)
    return np.clip(1.0 - dots / np.maximum(qn * rn, 1e-30), 0.0, 2.0)  # rounding can dip below 0


def pairwise_distances(queries, vectors, metric: str = "cosine", p: float = 3) -> np.ndarray:
    """All Q × N distances, brute force (a reference for tests; fine for small sets)."""
    metric = check_metric(metric, p)
    q = _as_matrix(queries, "queries").astype(np.float32)
    v = _as_matrix(vectors)
    return (
        np.concatenate([_exact_block(q, v[s : s + _BLOCK], metric, p) for s in range(0, len(v), _BLOCK)], axis=1)
        if len(v)
        else np.zeros((len(q), 0), np.float32)
    )


def _merge_topk(best_d, best_i, d, offset, k):
    """Keep the k smallest of (best, new block) per row."""
    kk = min(k, d.shape[1])
    part = (
        np.argpartition(d, kk - 1, axis=1)[:, :kk]
        if kk < d.shape[1]
        else np.broadcast_to(np.arange(d.shape[1]), (d.shape[0], d.shape[1]))
    )
    cand_d = np.take_along_axis(d, part, axis=1)
    cand_i = part + offset
    if best_d is None:
        return cand_d, cand_i
    all_d = np.concatenate([best_d, cand_d], axis=1)
    all_i = np.concatenate([best_i, cand_i], axis=1)
    kk = min(k, all_d.shape[1])
    part = np.argpartition(all_d, kk - 1, axis=1)[:, :kk]
    return np.take_along_axis(all_d, part, axis=1), np.take_along_axis(all_i, part, axis=1)


class VectorIndex:
    """The k nearest stored vectors to a query, exact or approximate.

    Parameters
    ----------
    metric : ``"cosine"`` (default), ``"euclidean"``, ``"sqeuclidean"``, ``"minkowski"`` or ``"dot"``.
    p : the exponent of the minkowski metric.
    exact : ``True`` always searches exactly; ``False`` always builds the approximate
        index; ``None`` (default) decides by size (:data:`APPROX_THRESHOLD`).
    connectivity, expansion_add, expansion_search : HNSW settings of the USearch graph;
        ``expansion_search=None`` (default) uses 64 below 200,000 vectors and 128 from there
        on, where 64 left recall@15 just under 0.95 at 1M vectors (bench/search.py).
    oversample : the graph proposes ``k × oversample`` candidates, re-ranked exactly.

    Learned: ``vectors_`` (N × D, possibly a read-only memory map), ``ann_`` (the
    ``usearch.index.Index`` or ``None`` when exact).

    >>> rng = np.random.default_rng(0)
    >>> index = VectorIndex("cosine").fit(rng.normal(size=(100, 8)))
    >>> idx, dist = index.search(rng.normal(size=8), k=3)
    >>> idx.shape, bool(np.all(np.diff(dist) >= 0))
    ((3,), True)
    """

    def __init__(
        self,
        metric: str = "cosine",
        *,
        p: float = 3,
        exact: bool | None = None,
        threshold: int = APPROX_THRESHOLD,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int | None = None,
        oversample: int = 4,
        threads: int = 0,
    ):
        self.metric = metric
        self.p = p
        self.exact = exact
        self.threshold = threshold
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.oversample = oversample
        self.threads = threads
        self._metric = check_metric(metric, p)
        self.vectors_: Any = None  # an array (or memmap) once built
        self.ann_: Any = None  # the usearch graph, when one is kept
        self._sqnorms: np.ndarray | None = None

    # ------------------------------------------------------------------ description
    def __len__(self) -> int:
        return 0 if self.vectors_ is None else len(self.vectors_)

    @property
    def dim(self) -> int | None:
        return None if self.vectors_ is None else int(self.vectors_.shape[1])

    @property
    def approximate(self) -> bool:
        """True when searches go through the approximate graph."""
        return self.ann_ is not None

    def _wants_ann(self, n: int) -> bool:
        if self._metric not in _USEARCH or self.exact is True:
            return False
        return self.exact is False or n >= self.threshold

    def __repr__(self) -> str:
        kind = "approximate (usearch HNSW)" if self.approximate else "exact"
        p = f", p={self.p}" if self._metric == "minkowski" else ""
        return f"VectorIndex(metric={self._metric!r}{p}, vectors={len(self)}, search={kind!r})"

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held: ``vectors`` (0 when memory-mapped from disk) and ``graph`` (the HNSW index)."""
        vec = 0
        if self.vectors_ is not None and not isinstance(self.vectors_, np.memmap):
            vec = int(self.vectors_.nbytes)
        graph = int(self.ann_.serialized_length) if self.ann_ is not None else 0
        return {"vectors": vec, "graph": graph}

    # ------------------------------------------------------------------ building
    def fit(self, vectors) -> VectorIndex:
        """Store ``vectors`` (N × D) and build the approximate graph if it is wanted."""
        arr = _as_matrix(vectors)
        self.vectors_ = arr if arr.dtype in (np.float32, np.float16) else arr.astype(np.float32)
        self._sqnorms = None
        self.ann_ = None
        if self._wants_ann(len(arr)):
            self._build_ann(0)
        return self

    def add(self, vectors) -> np.ndarray:
        """Append vectors; returns their row numbers. The graph grows incrementally."""
        arr = _as_matrix(vectors)
        if self.vectors_ is None:
            self.fit(arr)
            return np.arange(len(arr))
        if arr.shape[1] != self.vectors_.shape[1]:
            raise ShapeError(
                f"These vectors have {arr.shape[1]} numbers; the index holds vectors of {self.vectors_.shape[1]}."
            )
        start = len(self.vectors_)
        self.vectors_ = np.concatenate([np.asarray(self.vectors_), arr.astype(self.vectors_.dtype)])
        self._sqnorms = None
        if self.ann_ is not None:
            self._ann_add(start)
        elif self._wants_ann(len(self.vectors_)):
            self._build_ann(0)
        return np.arange(start, len(self.vectors_))

    def replace(self, rows, vectors) -> None:
        """Overwrite stored rows (e.g. images that changed on disk)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        if isinstance(self.vectors_, np.memmap) or not self.vectors_.flags.writeable:
            self.vectors_ = np.array(self.vectors_)
        self.vectors_[rows] = _as_matrix(vectors)
        self._sqnorms = None
        if self.ann_ is not None:
            self.ann_.remove(rows)
            self.ann_.add(rows, np.asarray(self.vectors_[rows], dtype=np.float32), threads=self.threads)

    def _new_ann(self):
        try:
            from usearch.index import Index
        except ImportError:  # pragma: no cover
            raise DependencyError(
                "Approximate search needs the package 'usearch' (pip install usearch). Or pass exact=True."
            ) from None
        metric, dtype = _USEARCH[self._metric]
        return Index(
            ndim=self.dim,
            metric=metric,
            dtype=dtype,
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self._expansion_search(),
        )

    def _expansion_search(self) -> int:
        if self.expansion_search is not None:
            return int(self.expansion_search)
        return 64 if len(self) < 200_000 else 128

    def _build_ann(self, start: int) -> None:
        self.ann_ = self._new_ann()
        self._ann_add(start)

    def _ann_add(self, start: int, batch: int = 16_384) -> None:
        for s in range(start, len(self.vectors_), batch):
            rows = np.asarray(self.vectors_[s : s + batch], dtype=np.float32)
            self.ann_.add(np.arange(s, s + len(rows)), rows, threads=self.threads)

    # ------------------------------------------------------------------ searching
    def _norms(self) -> np.ndarray | None:
        if self._metric in ("cosine", "euclidean", "sqeuclidean") and self._sqnorms is None:
            self._sqnorms = np.concatenate(
                [
                    np.einsum("ij,ij->i", b, b)
                    for b in (
                        np.asarray(self.vectors_[s : s + _BLOCK], dtype=np.float32) for s in range(0, len(self), _BLOCK)
                    )
                ]
            )
        return self._sqnorms

    def _exact_candidates(self, q: np.ndarray, k: int) -> np.ndarray:
        norms = self._norms()
        qnorm = np.einsum("ij,ij->i", q, q)
        best_d: Any = None
        best_i: Any = None
        for s in range(0, len(self), _BLOCK):
            block = self.vectors_[s : s + _BLOCK]
            d = _exact_block(q, block, self._metric, self.p, qnorm, None if norms is None else norms[s : s + _BLOCK])
            best_d, best_i = _merge_topk(best_d, best_i, d, s, k)
        return best_i

    def search(self, queries, k: int = 15, *, exact: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and distances of the ``k`` nearest vectors, closest first.

        One query (1-D) → two 1-D arrays; Q queries (Q × D) → two Q × k arrays.
        ``exact=True`` skips the approximate graph for this call.
        """
        if self.vectors_ is None or not len(self):
            raise InputError("The index is empty: add vectors before searching.")
        single = np.ndim(queries) == 1
        q = _as_matrix(queries, "queries").astype(np.float32)
        if q.shape[1] != self.dim:
            raise ShapeError(
                f"A query has {q.shape[1]} numbers but the index holds vectors of {self.dim}. "
                "Queries must come from the same model and layer as the index."
            )
        if not np.isfinite(q).all():
            raise InputError("A query vector contains NaN or infinity.")
        k = int(k)
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k}).")
        k = min(k, len(self))
        use_ann = self.ann_ is not None and exact is not True
        parts = [self._search_block(q[s : s + 256], k, use_ann) for s in range(0, len(q), 256)]
        idx = np.concatenate([a for a, _ in parts])
        dist = np.concatenate([b for _, b in parts])
        if single:
            return idx[0], dist[0]
        return idx, dist

    def _search_block(self, q: np.ndarray, k: int, use_ann: bool) -> tuple[np.ndarray, np.ndarray]:
        if use_ann:
            ef = self._expansion_search()
            if self.ann_.expansion_search != ef:
                self.ann_.expansion_search = ef
            want = min(len(self), max(k * self.oversample, k + 16))
            matches = self.ann_.search(q, want, threads=self.threads or 0)
            keys = np.asarray(matches.keys).reshape(len(q), -1).astype(np.int64)
            counts = np.asarray(getattr(matches, "counts", [len(matches.keys)])).reshape(-1)
            for i in np.flatnonzero(counts < k):  # the graph returned too few: exact for those
                keys[i, :k] = self._exact_candidates(q[i : i + 1], k)[0]
                counts[i] = k
            cand = np.where(np.arange(keys.shape[1])[None, :] < counts[:, None], keys, -1)
        else:
            cand = self._exact_candidates(q, min(len(self), 2 * k + 8))
        # re-rank the candidates with exact, directly computed distances
        safe = np.where(cand < 0, 0, cand)
        unique = np.unique(safe)
        rows = np.asarray(self.vectors_[unique], dtype=np.float32)
        dist = _direct(q, rows[np.searchsorted(unique, safe)], self._metric, self.p)
        dist = np.where(cand < 0, np.inf, dist)
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(cand, order, axis=1), np.take_along_axis(dist, order, axis=1).astype(np.float32)

    # ------------------------------------------------------------------ files
    def save_graph(self, path: str | os.PathLike) -> None:
        """Write the approximate graph (USearch's own binary format) if there is one."""
        if self.ann_ is not None:
            self.ann_.save(str(path))

    def load_graph(self, path: str | os.PathLike, *, view: bool = False) -> None:
        """Read a graph saved by :meth:`save_graph` (``view=True`` memory-maps it)."""
        from usearch.index import Index

        path = Path(path)
        try:
            ann = Index.restore(str(path), view=view)
        except Exception as e:  # noqa: BLE001 (usearch raises plain RuntimeError/ValueError)
            raise FormatError(f"{path} is not a readable search graph ({e}). Rebuild the index.") from None
        if ann is None or ann.ndim != self.dim or len(ann) != len(self):
            raise FormatError(
                f"The search graph {path} does not match the stored vectors "
                f"({None if ann is None else len(ann)} vs {len(self)}). Rebuild the index."
            )
        self.ann_ = ann
