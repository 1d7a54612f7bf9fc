"""Image similarity search: any model, any layer, any metric — on your own folders.

An :class:`ImageSearch` turns every image of a folder into a feature vector (with a
pretrained backbone, read at any layer and averaged over the image), then finds the
images whose vectors are closest to a query's. Like ConvNet Playground, but live: pick
the model, the layer and the distance metric, look at the 2-D map, and score how well
a layer's features group your labelled folders.

>>> import playml as ml
>>> index = ml.image_search("photos/", layer="blocks.5")             # doctest: +SKIP
>>> index.query("query.jpg", top_k=3)                                    # doctest: +SKIP
[Match(path='photos/cats/a.jpg', distance=0.12, score=0.88, label='cats'), ...]
>>> index.evaluate()                                                 # doctest: +SKIP
SearchScore(score=0.91, baseline=0.14, precision=0.89, k=15, queries=200, per_label={...})
>>> index.save("photos.index"); ml.image_search.load("photos.index")  # doctest: +SKIP

Building streams: images are embedded in chunks (a progress bar shows), each finished
chunk is written to a small file in playml's cache at once, so an interrupted build
picks up where it stopped, and a rebuild only embeds files that are new or changed
(by size and modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.ranking import check_top_k, renamed_k
from playml.core.vector_index import VectorIndex, check_metric, to_score
from playml.errors import DataError, FormatError, ImageError, InputError, MissingFileError
from playml.images.chunks import _ChunkCache, _write_npy
from playml.images.crawl import _entries, _Entry, _parse_shard
from playml.images.matches import Match, SearchScore, search_score
from playml.zoo import DEFAULT_MODEL, get_backbone

__all__ = ["ImageSearch", "Match", "SearchScore", "image_search", "search_score", "FORMAT_VERSION"]

#: Version of the saved index layout (model_meta.json + items.json + vectors.npy [+ graph.usearch]).
FORMAT_VERSION = 1
KIND = "image_search"
POOLING = "global-average"


# ---------------------------------------------------------------------------- helpers
def _weights_version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return None


ENGINES = ("local", "ray")


def _check_engine(engine: str) -> str:
    from playml.errors import unknown_name

    key = str(engine).strip().lower()
    if key not in ENGINES:
        raise unknown_name("engine", engine, ENGINES)
    return key


# ---------------------------------------------------------------------------- the index
class ImageSearch:
    """Find the images of a collection that look most like a query image.

    Parameters
    ----------
    model : a bundled backbone (``ml.models()``): ``"efficientnet-lite0"`` (default),
        ``"efficientnet-lite1"``, ``"efficientnet-lite2"``, ``"mobilenet-v2"``.
    layer : where to read features (``None`` → ``"features"``, the vector the classifier
        sees; or ``"stem"``, ``"blocks.0"`` … ``"head"``, see :meth:`layers`). Early layers
        match colours and textures, late layers objects. The layer's output is averaged
        over the image (global average pooling) to one vector per image.
    metric : ``"cosine"`` (default), ``"euclidean"``, ``"sqeuclidean"``, ``"minkowski"``
        (with ``p``) or ``"dot"``.
    exact : ``True`` always searches every vector; ``None`` switches to an approximate
        index (USearch HNSW, re-ranked exactly) from 20,000 images on.
    batch_size : images per ONNX Runtime call; chunk_size : images per saved chunk.
    cache : keep embedded chunks in playml's cache folder (``True``), in this folder (a
        path), or not at all (``False``). It makes builds resumable and rebuilds quick.
    precision : ``"float32"`` (default) or ``"int8"`` (a quantised backbone, about twice as
        fast; an index is searched with the precision it was built with).
    engine : ``"local"`` (default: this process) or ``"ray"`` (Ray Data tasks, on a local Ray
        or a cluster; ``pip install playml[ray]``), with ``address`` the cluster to join
        (``None`` starts or reuses a local Ray).

    Learned (after :meth:`build`): ``paths_``, ``labels_``, ``vectors_`` (N × D float32),
    ``index_`` (the :class:`~playml.core.vector_index.VectorIndex`), ``skipped_`` (unreadable
    files and why), ``last_build_`` (how many images were embedded, reused, kept).
    Engines: ``.extractor`` (the :class:`~playml.FeatureExtractor`), ``.model`` (its ONNX
    Runtime session), ``index_.ann_`` (the ``usearch`` index, when approximate).

    >>> import playml as ml
    >>> index = ml.image_search("photos/", model="mobilenet-v2", metric="euclidean")  # doctest: +SKIP
    >>> index                                                                       # doctest: +SKIP
    ImageSearch(model='mobilenet-v2', metric='euclidean', images=200, labels=10, search='exact')
    """

    FORMAT_VERSION = FORMAT_VERSION  #: the saved format; newer files are refused by ml.load

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        layer: str | None = None,
        metric: str = "cosine",
        *,
        p: float = 3,
        exact: bool | None = None,
        batch_size: int = 32,
        chunk_size: int = 512,
        cache: bool | str | os.PathLike = True,
        threads: int = 2,
        precision: str = "float32",
        engine: str = "local",
        address: str | None = None,
    ):
        from playml.zoo.quantize import check_precision

        self.model_name = model
        self.layer = layer
        self.metric = metric
        self.p = p
        self.exact = exact
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.cache = cache
        self.threads = threads
        self.precision = check_precision(precision)
        self.engine = _check_engine(engine)
        self.address = address
        self._spec = get_backbone(model)  # unknown names fail here, early
        self._layer = self._spec.check_layer(layer)
        self._metric = check_metric(metric, p)
        self._extractor = None
        self.paths_: list[str] = []
        self.labels_: list[str | None] = []
        self.sizes_: list[int] = []
        self.mtimes_: list[int] = []
        self.index_: VectorIndex | None = None
        self.root_: str | None = None
        self.skipped_: list[tuple[str, str]] = []
        self.last_build_: dict[str, int] = {}
        self._pos: dict[str, int] = {}

    # ------------------------------------------------------------------ description
    def __len__(self) -> int:
        return len(self.paths_)

    def __repr__(self) -> str:
        layer = "" if self._layer == "features" else f", layer={self._layer!r}"
        p = f", p={self.p}" if self._metric == "minkowski" else ""
        labels = len({lab for lab in self.labels_ if lab is not None})
        extra = f", labels={labels}" if labels else ""
        search = "approximate" if self.index_ is not None and self.index_.approximate else "exact"
        return (
            f"ImageSearch(model={self._spec.name!r}{layer}, metric={self._metric!r}{p}, images={len(self)}"
            f"{extra}, search={search!r})"
        )

    @property
    def extractor(self):
        """The :class:`~playml.FeatureExtractor` that embeds images (made on first use)."""
        if self._extractor is None:
            from playml.images.features import FeatureExtractor

            self._extractor = FeatureExtractor(
                self._spec.name, self._layer, batch_size=self.batch_size, threads=self.threads, precision=self.precision
            )
        return self._extractor

    @property
    def model(self):
        """The ONNX Runtime session that computes the features."""
        return self.extractor.session

    @property
    def model_card(self):
        return self._spec.card

    @property
    def dim(self) -> int:
        """Length of one feature vector at this layer."""
        return self._spec.layer(self._layer).size

    @property
    def vectors_(self) -> np.ndarray:
        self._check_built()
        return self.index_.vectors_

    @property
    def labels(self) -> list[str]:
        """The distinct labels (sub-folder names), sorted."""
        return sorted({lab for lab in self.labels_ if lab is not None})

    def layers(self):
        """The layers this model can search with: name, output shape, size, parameters."""
        return self._spec.layers()

    def _header(self) -> dict[str, Any]:
        from playml._version import __version__

        spec = self._spec
        return {
            "playml": {"kind": KIND, "version": FORMAT_VERSION, "playml_version": __version__},
            "model": spec.name,
            "layer": self._layer,
            "pooling": POOLING,
            "dim": self.dim,
            "metric": self._metric,
            "p": self.p,
            "exact": self.exact,
            "weights": {"package": spec.weights_package, "version": _weights_version(spec.weights_package)},
            "precision": self.precision,
            "preprocessing": spec.preprocessing(),
        }

    # ------------------------------------------------------------------ building
    def _check_built(self) -> None:
        if self.index_ is None or not len(self):
            from playml.errors import not_trained

            raise not_trained(
                "image search", "search", "Build it first: index.build('photos/') or ml.image_search('photos/')."
            )

    def _cache(self, root: Path | None) -> _ChunkCache | None:
        if self.cache is False or self.cache is None or root is None:
            return None
        if self.cache is True:
            from playml.core.cache import cache_dir

            base = cache_dir() / "search"
        else:
            base = Path(self.cache).expanduser()
        h = self._header()
        parts = [h["model"], h["layer"], h["pooling"], h["weights"], h["preprocessing"], str(root)]
        if self.precision != "float32":  # float32 keys stay as they were (existing caches keep working)
            parts.append(self.precision)
        key = json.dumps(parts)
        folder = base / hashlib.sha256(key.encode()).hexdigest()[:20]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            if self.cache is not True:  # a folder the user chose: say so
                from playml.core.saving import os_error

                raise os_error(e, base, "write the search cache in") from None
            warnings.warn(
                f"playml cannot write its search cache in {base} ({e.strerror}); building without "
                "it (set PLAYML_CACHE to a writable folder to make rebuilds resumable).",
                stacklevel=4,
            )
            return None
        return _ChunkCache(folder)

    def build(
        self,
        images: Any,
        *,
        progress: bool | None = None,
        shard: str | tuple | None = None,
        engine: str | None = None,
        address: str | None = None,
    ) -> ImageSearch:
        """Embed a folder (labels from its sub-folder names), a list of images, or a Dataset.

        Replaces what the index held, but reuses the vectors of unchanged files (from the
        index and from the chunk cache). ``shard="i/n"`` embeds only part *i* of *n* (by a
        hash of each file's path inside the folder) — see :meth:`merge`.
        ``engine="ray"`` (and ``address``) embed the files with Ray Data instead of in this
        process (see the constructor); the setting is kept for later builds.
        """
        if engine is not None:
            self.engine = _check_engine(engine)
        if address is not None:
            self.address = address
        old = (self.paths_, self.labels_, self.sizes_, self.mtimes_, self.index_, self.root_)
        self.paths_, self.labels_, self.sizes_, self.mtimes_, self._pos = [], [], [], [], {}
        self.index_ = self.root_ = None
        try:
            return self._ingest(images, progress, shard, reuse=old)
        except BaseException:
            self.paths_, self.labels_, self.sizes_, self.mtimes_, self.index_, self.root_ = old
            self._pos = {p: i for i, p in enumerate(self.paths_)}
            raise

    fit = build

    def add(self, images: Any, *, progress: bool | None = None) -> ImageSearch:
        """Add more images (a folder, a list, a Dataset); files already in the index are
        skipped unless they changed on disk, in which case they are embedded again."""
        return self._ingest(images, progress, None)

    def _ingest(self, images: Any, progress: bool | None, shard, reuse=None) -> ImageSearch:
        entries, root = _entries(images, _parse_shard(shard), start=len(self))
        if root is not None and self.root_ is None:
            self.root_ = str(root)
        # what does the index already hold (or held before a rebuild)?
        held: dict[str, tuple[int, int, int]] = {}
        source_vectors = None
        if reuse is not None and reuse[4] is not None:
            source_vectors = reuse[4].vectors_
            held = {p: (i, s, m) for i, (p, s, m) in enumerate(zip(reuse[0], reuse[2], reuse[3]))}
        vectors: dict[int, np.ndarray] = {}
        unchanged: list[int] = []
        for i, e in enumerate(entries):
            if reuse is None and e.key in self._pos:
                j = self._pos[e.key]
                if e.is_file and self.sizes_[j] == e.size and self.mtimes_[j] == e.mtime:
                    unchanged.append(i)
            elif e.key in held and e.is_file and held[e.key][1:] == (e.size, e.mtime):
                vectors[i] = np.asarray(source_vectors[held[e.key][0]], dtype=np.float32)
        kept = len(vectors)
        done = set(unchanged)
        todo = [i for i in range(len(entries)) if i not in vectors and i not in done]
        cache = self._cache(root)
        from_cache = cache.lookup([entries[i] for i in todo]) if cache is not None and todo else {}
        for local, vec in from_cache.items():
            vectors[todo[local]] = vec
        todo = [i for i in todo if i not in vectors]
        skipped = self._embed(entries, todo, vectors, cache, progress)
        self.skipped_ = skipped
        if skipped:
            warnings.warn(
                f"{len(skipped)} file(s) could not be read and were left out "
                f"(see .skipped_): {skipped[0][0]} — {skipped[0][1]}",
                stacklevel=3,
            )
        self._integrate(entries, vectors)
        self.last_build_ = {
            "images": len(entries),
            "embedded": len(todo) - len(skipped),
            "from_cache": len(from_cache),
            "kept": kept + len(unchanged),
            "skipped": len(skipped),
        }
        if not len(self):
            raise DataError("None of the images could be read, so the index is empty.")
        return self

    def _embed(
        self,
        entries: list[_Entry],
        todo: list[int],
        vectors: dict[int, np.ndarray],
        cache: _ChunkCache | None,
        progress: bool | None,
    ) -> list[tuple[str, str]]:
        if not todo:
            return []
        from playml.zoo.runtime import PROGRESS_THRESHOLD

        fe = self.extractor
        fe.session  # noqa: B018  (load or export the model before the progress bar starts)
        bar = None
        if progress if progress is not None else len(todo) >= PROGRESS_THRESHOLD:
            from playml.core.progress import progress_bar

            bar = progress_bar(total=len(todo), desc="embedding", unit="img")
        skipped: list[tuple[str, str]] = []
        try:
            if self.engine == "ray":
                todo = self._embed_ray(entries, todo, vectors, cache, skipped, bar)
            for s in range(0, len(todo), max(1, int(self.chunk_size))):
                chunk = todo[s : s + self.chunk_size]
                try:
                    feats = fe.features([entries[i].source for i in chunk], progress=False)
                    good = chunk
                except ImageError:  # find the unreadable ones, keep the rest
                    good, rows = [], []
                    for i in chunk:
                        try:
                            rows.append(fe.features([entries[i].source], progress=False)[0])
                            good.append(i)
                        except ImageError as e:
                            skipped.append((entries[i].key, str(e)))
                    feats = np.stack(rows) if rows else None
                if not good:  # every image of this chunk was unreadable
                    if bar is not None:
                        bar.update(len(chunk))
                    continue
                feats = np.asarray(feats, dtype=np.float32).reshape(len(good), -1)
                for i, v in zip(good, feats):
                    vectors[i] = v
                if cache is not None and good:
                    cache.write([entries[i] for i in good], feats)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return skipped

    def _embed_ray(
        self,
        entries: list[_Entry],
        todo: list[int],
        vectors: dict[int, np.ndarray],
        cache: _ChunkCache | None,
        skipped: list[tuple[str, str]],
        bar,
    ) -> list[int]:
        """Embed the files among ``todo`` with Ray Data; each finished chunk goes to the cache at
        once (so an interrupted build resumes). Returns what is left for the local path
        (in-memory images)."""
        from playml.images.distributed import embed_files

        files = [i for i in todo if entries[i].is_file]
        pending: list[int] = []

        def flush() -> None:
            if cache is not None and pending:
                cache.write([entries[i] for i in pending], np.stack([vectors[i] for i in pending]))
            pending.clear()

        def store(rows: np.ndarray, vecs: np.ndarray, errors: list[str]) -> None:
            for r, v, e in zip(rows.tolist(), vecs, errors):
                i = files[r]
                if e:
                    skipped.append((entries[i].key, e))
                else:
                    vectors[i] = v
                    pending.append(i)
            if len(pending) >= self.chunk_size:
                flush()
            if bar is not None:
                bar.update(len(rows))

        embed_files(
            [entries[i].key for i in files],
            self._spec.name,
            self._layer,
            self.precision,
            address=self.address,
            batch_size=self.batch_size,
            on_batch=store,
        )
        flush()
        return [i for i in todo if not entries[i].is_file]

    def _new_index(self) -> VectorIndex:
        return VectorIndex(self._metric, p=self.p, exact=self.exact)

    def _integrate(self, entries: list[_Entry], vectors: dict[int, np.ndarray]) -> None:
        """Put the new vectors in the index. Rows are moved out of ``vectors`` one by one into
        one preallocated array, so the chunks they came from are freed as we go (peak memory
        ≈ one copy of the vectors, not two)."""
        replace_rows, replace_vecs, new_order = [], [], []
        for i, e in enumerate(entries):
            if i not in vectors:
                continue
            if e.key in self._pos:
                j = self._pos[e.key]
                replace_rows.append(j)
                replace_vecs.append(vectors.pop(i))
                self.labels_[j], self.sizes_[j], self.mtimes_[j] = e.label, e.size, e.mtime
            else:
                self._pos[e.key] = len(self.paths_)
                self.paths_.append(e.key)
                self.labels_.append(e.label)
                self.sizes_.append(e.size)
                self.mtimes_.append(e.mtime)
                new_order.append(i)
        if self.index_ is None:
            self.index_ = self._new_index()
        if replace_rows:
            self.index_.replace(replace_rows, np.stack(replace_vecs))
        if new_order:
            new = np.empty((len(new_order), self.dim), dtype=np.float32)
            for row, i in enumerate(new_order):
                new[row] = vectors.pop(i)
            self.index_.add(new)

    # ------------------------------------------------------------------ searching
    def embed(self, images: Any) -> np.ndarray:
        """Feature vectors of images with this index's model and layer (1-D for one image)."""
        return self.extractor.features(images)

    def _matches(self, idx: np.ndarray, dist: np.ndarray) -> list[Match]:
        scores = to_score(dist, self._metric)
        return [
            Match(self.paths_[i], float(d), round(float(s), 6), self.labels_[i])
            for i, d, s in zip(idx.tolist(), dist.tolist(), scores.tolist())
        ]

    def query(self, image: Any, *, top_k: int | None = None, k: int | None = None) -> list[Match] | list[list[Match]]:
        """The ``top_k`` images most like ``image``, closest first.

        ``image`` is anything image-like (a path, a PIL image, an array); several images
        (a list, a folder) give one list of matches per image.

        >>> index.query("query.jpg", top_k=2)                 # doctest: +SKIP
        [Match(path='/photos/cats/a.jpg', distance=0.12, score=0.88, label='cats'), ...]
        """
        self._check_built()
        from playml.core.media import is_many, iter_many

        top_k = check_top_k(renamed_k(top_k, k, default=15))
        return self.query_vector(self.embed(list(iter_many(image)) if is_many(image) else image), top_k=top_k)

    def query_vector(
        self, vector, *, top_k: int | None = None, k: int | None = None
    ) -> list[Match] | list[list[Match]]:
        """Like :meth:`query` for feature vectors you computed yourself (same model and layer)."""
        self._check_built()
        idx, dist = self.index_.search(vector, check_top_k(renamed_k(top_k, k, default=15)))
        if np.ndim(vector) == 1:
            return self._matches(idx, dist)
        return [self._matches(i, d) for i, d in zip(idx, dist)]

    def with_metric(self, metric: str, p: float | None = None, *, exact: bool | None | str = "same") -> ImageSearch:
        """The same images and vectors searched with another metric (nothing is re-embedded);
        ``exact`` as in the constructor (default: unchanged)."""
        other = ImageSearch(
            self._spec.name,
            self._layer,
            metric,
            p=self.p if p is None else p,
            exact=self.exact if exact == "same" else exact,
            batch_size=self.batch_size,
            chunk_size=self.chunk_size,
            cache=self.cache,
            threads=self.threads,
            precision=self.precision,
            engine=self.engine,
            address=self.address,
        )
        other._extractor = self._extractor
        other.paths_, other.labels_ = list(self.paths_), list(self.labels_)
        other.sizes_, other.mtimes_ = list(self.sizes_), list(self.mtimes_)
        other._pos, other.root_ = dict(self._pos), self.root_
        if self.index_ is not None:
            other.index_ = other._new_index().fit(self.index_.vectors_)
        return other

    # ------------------------------------------------------------------ seeing
    def evaluate(
        self, *, top_k: int | None = None, k: int | None = None, sample: int | None = 2000, seed: int = 0
    ) -> SearchScore:
        """Mean ConvNet Playground search score over labelled images (see :func:`search_score`).

        Every labelled image (at most ``sample`` of them, chosen at random) is used as a
        query against all the others with exact search; its own entry is left out.
        ``baseline`` is the expected score of a random ordering: the share of other images
        with the query's label.
        """
        self._check_built()
        labels = np.array([lab if lab is not None else "" for lab in self.labels_], dtype=object)
        labelled = np.flatnonzero(labels != "")
        if len(set(labels[labelled])) < 2:
            raise DataError(
                "evaluate() needs images with at least two labels: build the index from a folder "
                "with one sub-folder per label (photos/cats/…, photos/dogs/…)."
            )
        k = min(check_top_k(renamed_k(top_k, k, default=15)), len(self) - 1)
        queries = labelled
        if sample is not None and len(queries) > sample:
            queries = np.sort(np.random.default_rng(seed).choice(queries, sample, replace=False))
        idx, _ = self.index_.search(np.asarray(self.index_.vectors_[queries], dtype=np.float32), k + 1, exact=True)
        counts = {lab: int((labels == lab).sum()) for lab in set(labels[labelled])}
        scores: list[float] = []
        precisions: list[float] = []
        baselines: list[float] = []
        ideals: list[float] = []
        per: dict[str, list[float]] = {}
        for q, row in zip(queries, idx):
            row = [j for j in row.tolist() if j != q][:k]
            hits = labels[row] == labels[q]
            s = search_score(hits)
            scores.append(s)
            precisions.append(float(hits.mean()))
            baselines.append((counts[labels[q]] - 1) / (len(self) - 1))
            ideals.append(search_score(np.arange(k) < counts[labels[q]] - 1))
            per.setdefault(labels[q], []).append(s)
        mean = lambda values: round(float(np.mean(values)), 4)  # noqa: E731
        return SearchScore(
            score=mean(scores),
            baseline=mean(baselines),
            ideal=mean(ideals),
            precision=mean(precisions),
            k=k,
            queries=len(queries),
            per_label={lab: round(float(np.mean(v)), 4) for lab, v in sorted(per.items())},
        )

    def map_2d(
        self, method: str = "auto", *, sample: int | None = 5000, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """2-D coordinates of the embeddings: ``(rows, xy)`` — UMAP (``"umap"``), or PCA for
        collections under 20 images or with ``method="pca"``. At most ``sample`` images."""
        self._check_built()
        method = str(method).lower()
        if method not in ("auto", "umap", "pca"):
            raise InputError(f"method must be 'auto', 'umap' or 'pca' (got {method!r}).")
        rows = np.arange(len(self))
        if sample is not None and len(rows) > sample:
            rows = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
        X = np.asarray(self.index_.vectors_[rows], dtype=np.float32)
        if len(rows) < 3:
            return rows, np.pad(X[:, :2], ((0, 0), (0, max(0, 2 - X.shape[1]))))
        if method == "pca" or (method == "auto" and len(rows) < 20):
            if self._metric == "cosine":
                X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
            X = X - X.mean(axis=0)
            u, s, _ = np.linalg.svd(X, full_matrices=False)  # the two main directions (PCA)
            return rows, u[:, :2] * s[:2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # umap/numba chatter (n_jobs with a seed, TBB, …)
            import umap

            metric = {"sqeuclidean": "euclidean", "dot": "cosine"}.get(self._metric, self._metric)
            kwds = {"p": self.p} if metric == "minkowski" else None
            reducer = umap.UMAP(
                n_neighbors=min(15, len(rows) - 1),
                n_components=2,
                metric=metric,
                metric_kwds=kwds,
                random_state=seed,
                init="spectral" if len(rows) > 50 else "random",
            )
            return rows, reducer.fit_transform(X)

    def plot_map(
        self, method: str = "auto", *, sample: int | None = 5000, ax=None, title: str | None = None, seed: int = 0
    ):
        """A 2-D map (UMAP) of the embeddings, one dot per image, coloured by label
        (sub-folder). Returns a matplotlib Figure."""
        import matplotlib

        from playml.core.charts import new_figure

        rows, xy = self.map_2d(method, sample=sample, seed=seed)
        fig = None
        if ax is None:
            fig, (ax,) = new_figure(1, width=6.0, height=5.0)
        labels = [self.labels_[i] or "(no label)" for i in rows]
        names = sorted(set(labels))
        cmap = matplotlib.colormaps["tab20" if len(names) > 10 else "tab10"]
        for c, name in enumerate(names):
            mask = np.array([lab == name for lab in labels])
            ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=cmap(c % cmap.N), label=name, alpha=0.85)
        if 1 < len(names) <= 20:
            ax.legend(fontsize="small", markerscale=1.5, loc="best")
        ax.set_xticks([])
        ax.set_yticks([])
        layer = self._layer
        ax.set_title(title or f"{self._spec.name} · {layer} · {len(rows)} images")
        return fig if fig is not None else ax.figure

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Save as a directory: ``model_meta.json`` (model, layer, metric, preprocessing,
        versions), ``items.json`` (paths, labels, sizes, times), ``vectors.npy`` (float32)
        and, for an approximate index, ``graph.usearch``. Nothing in it is executable."""
        from playml.core.saving import save_directory

        self._check_built()
        header = self._header()
        header["count"] = len(self)
        header["root"] = self.root_
        header["vectors"] = {"file": "vectors.npy", "dtype": "float32", "shape": [len(self), self.dim]}
        header["graph"] = "graph.usearch" if self.index_.approximate else None
        files: dict[str, Any] = {
            "model_meta.json": header,
            "items.json": {"paths": self.paths_, "labels": self.labels_, "sizes": self.sizes_, "mtimes": self.mtimes_},
            "vectors.npy": lambda target: _write_npy(target, self.index_.vectors_),
        }
        if self.index_.approximate:
            files["graph.usearch"] = lambda target: self.index_.save_graph(target)
        return save_directory(path, files)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        model: str | None = None,
        layer: str | None = None,
        metric: str | None = None,
        mmap: bool | None = None,
    ) -> ImageSearch:
        """Load an index saved by :meth:`save` (``ml.image_search.load(path)``).

        ``model`` / ``layer``, if given, must be what the index was built with (a clear
        error otherwise). ``metric`` searches the saved vectors with another metric.
        ``mmap=True`` leaves the vectors on disk (memory-mapped); the default does so from
        20,000 images on.
        """
        from playml.core.saving import META_FILE, read_consistently

        path = Path(path)
        if not path.exists():
            raise MissingFileError(
                f"There is no search index at {path}. Build one with "
                f"`playml search build FOLDER --out {path}` or index.save({str(path)!r})."
            )
        if path.is_file():
            path = path.parent
        return read_consistently(
            path,
            lambda folder: cls._from_directory(
                folder,
                folder.read_json(META_FILE, "index description"),
                model=model,
                layer=layer,
                metric=metric,
                mmap=mmap,
            ),
        )

    @classmethod
    def _from_directory(
        cls,
        path: Path,
        meta: dict,
        *,
        model: str | None = None,
        layer: str | None = None,
        metric: str | None = None,
        mmap: bool | None = None,
    ) -> ImageSearch:
        from playml.core.saving import LIMITS, check_size, open_folder

        folder = open_folder(path)
        info = meta.get("playml") if isinstance(meta, dict) else None
        if not isinstance(info, dict) or info.get("kind") != KIND:
            raise FormatError(
                f"{path} is not an image search index (its model_meta.json says "
                f"{str(info.get('kind'))[:40] if isinstance(info, dict) else 'nothing'})."
            )
        version = info.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int) or version > FORMAT_VERSION:
            raise FormatError(
                f"{path} was saved by a newer playml (index format {str(version)[:20]}); upgrade playml to load it."
            )
        try:
            saved_model, saved_layer = meta["model"], meta["layer"]
            count = check_size(meta["count"], f"The image count in {path}/model_meta.json", limit=100_000_000)
            dim = check_size(meta["dim"], f"The vector size in {path}/model_meta.json", limit=65_536, minimum=1)
        except (KeyError, TypeError):
            raise FormatError(f"{path}/model_meta.json is missing the model, layer, count or dim.") from None
        if not isinstance(saved_model, str) or not isinstance(saved_layer, str):
            raise FormatError(f"{path}/model_meta.json names the model or layer with something other than text.")
        spec = get_backbone(saved_model)
        if model is not None and get_backbone(model).name != spec.name:
            raise FormatError(
                f"This index was built with the model {spec.name!r}, not {model!r}: its vectors "
                f"cannot be compared with {model!r} features. Load it without model=, or build a "
                f"new index with model={model!r}."
            )
        if layer is not None and spec.check_layer(layer) != saved_layer:
            raise FormatError(
                f"This index was built from the layer {saved_layer!r}, not {layer!r}. Build a new "
                f"index with layer={layer!r}."
            )
        index = cls(
            spec.name,
            saved_layer,
            metric or meta.get("metric", "cosine"),
            p=meta.get("p", 3),
            exact=meta.get("exact"),
            precision=meta.get("precision", "float32"),
        )
        if index.dim != dim:
            raise FormatError(
                f"{path} holds {dim}-number vectors but {spec.name} / {saved_layer} makes {index.dim}: "
                "the index and the installed model do not match. Rebuild the index."
            )
        weights = meta.get("weights") or {}
        installed = _weights_version(spec.weights_package)
        if isinstance(weights, dict) and weights.get("version") and installed and weights["version"] != installed:
            raise FormatError(
                f"This index was built with {spec.name} weights from {weights.get('package')} "
                f"{weights['version']}, but {installed} is installed: new queries would not match "
                "the stored vectors. Rebuild the index (playml search build …)."
            )
        items = folder.read_json(
            "items.json", "list of images", max_bytes=min(LIMITS["items_bytes"], (1 << 20) + 4096 * count)
        )
        vinfo = meta.get("vectors") or {}
        vname = vinfo.get("file", "vectors.npy") if isinstance(vinfo, dict) else "vectors.npy"
        if not folder.exists(vname):
            raise FormatError(f"{path} has no {str(vname)[:80]}; the index is incomplete. Rebuild it.")
        use_mmap = mmap if mmap is not None else count >= 20_000
        vectors = folder.load_npy(
            vname,
            max_bytes=min(LIMITS["vectors_bytes"], 128 + 8 * count * dim + 4096),
            mmap=use_mmap,
            what="vectors file",
        )
        paths = items.get("paths") if isinstance(items, dict) else None
        if (
            vectors.shape != (count, dim)
            or not isinstance(paths, list)
            or len(paths) != count
            or vectors.dtype not in (np.float32, np.float16)
        ):
            raise FormatError(
                f"{path} is inconsistent: {count} images announced, vectors {vectors.shape} "
                f"{vectors.dtype}, {len(paths) if isinstance(paths, list) else 'no'} paths. Rebuild it."
            )
        if count and not use_mmap and not np.isfinite(vectors).all():
            raise FormatError(f"{path}/{vname} holds NaN or infinite numbers; the index is damaged. Rebuild it.")
        labels, sizes, mtimes = items.get("labels"), items.get("sizes"), items.get("mtimes")
        for name, values in (("labels", labels), ("sizes", sizes), ("mtimes", mtimes)):
            if values is not None and (not isinstance(values, list) or len(values) != count):
                raise FormatError(f"{path}/items.json: '{name}' is not a list of {count} entries. Rebuild the index.")
        index.paths_ = [str(p) for p in paths]
        index.labels_ = list(items.get("labels") or [None] * count)
        index.sizes_ = [int(s) for s in items.get("sizes") or [-1] * count]
        index.mtimes_ = [int(m) for m in items.get("mtimes") or [-1] * count]
        index._pos = {p: i for i, p in enumerate(index.paths_)}
        index.root_ = meta.get("root")
        vi = index._new_index()
        graph = meta.get("graph")
        wants = vi._wants_ann(count)
        if graph and wants and folder.exists(graph) and index._metric == meta.get("metric"):
            vi.vectors_ = vectors
            vi.load_graph(folder.path_of(graph, max_bytes=LIMITS["graph_bytes"], what="search graph"))
        else:
            vi.fit(vectors)
        index.index_ = vi
        return index

    @classmethod
    def merge(cls, parts: Sequence[ImageSearch | str | os.PathLike]) -> ImageSearch:
        """One index from several (e.g. shards built on different machines with ``shard="i/n"``).

        All parts must use the same model, layer and preprocessing; an image in several
        parts keeps its last vector.
        """
        loaded = [p if isinstance(p, ImageSearch) else cls.load(p) for p in parts]
        if not loaded:
            raise InputError("merge() needs at least one index.")
        first = loaded[0]
        keys = ("model", "layer", "pooling", "weights", "preprocessing", "precision")
        for other in loaded[1:]:
            a, b = first._header(), other._header()
            diff = [k for k in keys if a[k] != b[k]]
            if diff:
                raise FormatError(
                    f"These indexes cannot be merged: their {', '.join(diff)} differ "
                    f"({a[diff[0]]!r} vs {b[diff[0]]!r})."
                )
        out = cls(
            first._spec.name,
            first._layer,
            first._metric,
            p=first.p,
            exact=first.exact,
            batch_size=first.batch_size,
            chunk_size=first.chunk_size,
            cache=first.cache,
            threads=first.threads,
            precision=first.precision,
        )
        entries, vectors = [], {}
        for part in loaded:
            if not len(part):
                continue
            for j in range(len(part)):
                vectors[len(entries)] = np.asarray(part.index_.vectors_[j], dtype=np.float32)
                entries.append(_Entry(part.paths_[j], part.labels_[j], part.sizes_[j], part.mtimes_[j]))
        roots = [p.root_ for p in loaded if p.root_]
        out.root_ = roots[0] if roots and all(r == roots[0] for r in roots) else None
        out._integrate(entries, vectors)
        return out


def image_search(
    folder_or_images: Any = None,
    model: str = DEFAULT_MODEL,
    layer: str | None = None,
    metric: str = "cosine",
    p: float = 3,
    exact: bool | None = None,
    *,
    progress: bool | None = None,
    **options: Any,
) -> ImageSearch:
    """An :class:`ImageSearch`, built over ``folder_or_images`` if given.

    >>> import playml as ml
    >>> index = ml.image_search("photos/", layer="blocks.5")      # doctest: +SKIP
    >>> ml.image_search.load("photos.index")                      # doctest: +SKIP
    """
    index = ImageSearch(model, layer, metric, p=p, exact=exact, **options)
    if folder_or_images is not None:
        index.build(folder_or_images, progress=progress)
    return index


image_search.load = ImageSearch.load
image_search.merge = ImageSearch.merge
