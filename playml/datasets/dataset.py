"""The :class:`Dataset` type: examples, their labels, and a card that explains them.

>>> import playml as ml
>>> iris = ml.datasets.load("iris")
>>> iris
Dataset('iris', 150 examples, 4 features, 3 labels: setosa, versicolor, virginica)
>>> train, test = iris.split(0.8, 0.2, stratify=True, seed=0)
>>> len(train), len(test)
(120, 30)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.reprs import plural
from playml.errors import DataError, InputError

__all__ = ["Dataset", "KINDS", "is_dataset"]

#: The kinds of data a :class:`Dataset` holds.
KINDS = ("table", "images", "sequences", "text")


def is_dataset(value: Any) -> bool:
    """True for a :class:`Dataset` (or anything offering the same protocol)."""
    return all(hasattr(value, a) for a in ("arrays", "kind", "label_names", "feature_names"))


def _as_index(n: int, idx: Any) -> np.ndarray:
    """Turn a slice, a boolean mask or a list of positions into an array of positions."""
    if isinstance(idx, slice):
        return np.arange(n)[idx]
    arr = np.asarray(idx)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InputError(f"A True/False mask must have one value per example ({n}); got shape {arr.shape}.")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError("Index a Dataset with a whole number, a slice, a list of positions or a True/False mask.")
    arr = arr.astype(np.int64).ravel()
    if arr.min() < -n or arr.max() >= n:
        raise InputError(f"Position out of range: this data set has {n} examples (0 to {n - 1}).")
    return np.where(arr < 0, arr + n, arr)


def _infer_kind(X: np.ndarray) -> str:
    if X.dtype.kind in "OUS":
        first = X.flat[0] if X.size else ""
        if isinstance(first, np.ndarray):
            return "images"
        s = str(first).lower()
        return "images" if s.endswith((".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")) else "text"
    if X.ndim == 4 or (X.ndim == 3 and X.dtype == np.uint8):
        return "images"
    if X.ndim == 3:
        return "sequences"
    return "table"


def _listed(names: Sequence[str], limit: int = 6) -> str:
    names = [str(n) for n in names]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[: limit - 1]) + f", … {names[-1]}"


class Dataset:
    """Examples (``X``), their labels (``y``) and a data card that says where they came from.

    A Dataset holds one of four kinds of data (``kind``):

    - ``"table"``: ``X`` is an n × features ``float32`` array, columns named by ``feature_names``;
    - ``"images"``: ``X`` is an n × H × W × 3 ``uint8`` array, or an array of image file paths
      (when the images have different sizes, e.g. :func:`from_folder`);
    - ``"sequences"``: ``X`` is an n × steps (× channels) ``float32`` array (e.g. heartbeats);
    - ``"text"``: ``X`` is an array of ``str``.

    Labels are stored as whole-number codes ``y`` that index ``label_names`` (classification);
    for a regression target ``y`` holds numbers and ``label_names`` is ``None``; unlabelled data
    has ``y = None``. When you make a Dataset, text or whole-number labels mean classes (named
    by their values unless ``labels=`` gives the names of codes 0, 1, 2…), and floats mean a
    number to predict.

    **Protocol for tasks.** Anything that accepts data (``neural_network``, the feature
    extractor's ``classification()``, ``anomaly_detector``) can take a Dataset through these
    members, which never change shape or meaning:

    - ``arrays()`` → ``(X, y)`` NumPy arrays as described above (``y`` may be ``None``);
    - ``kind``, ``feature_names`` (or ``None``), ``label_names`` (or ``None``), ``task``
      (``"classification"``, ``"regression"`` or ``None``), ``target_name``;
    - ``named_labels()`` → the label of every example as a name (``label_names[y]``).

    >>> import playml as ml
    >>> iris = ml.datasets.load("iris")
    >>> X, y = iris.arrays()
    >>> X.shape, iris.label_names[y[0]]
    ((150, 4), 'setosa')
    >>> iris[0]
    (array([5.1, 3.5, 1.4, 0.2], dtype=float32), 'setosa')
    >>> iris.where(label="setosa")
    Dataset('iris', 50 examples, 4 features, 3 labels: setosa, versicolor, virginica)
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        *,
        labels: Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
        kind: str | None = None,
        name: str = "dataset",
        card: str = "",
        meta: dict[str, Any] | None = None,
        target_name: str = "label",
        notes: Sequence[str] | None = None,
        normal_label: str | None = None,
    ) -> None:
        if isinstance(X, np.ndarray) and X.dtype != object:
            X_arr = X
        elif isinstance(X, (builtins.list, tuple)) and X and all(isinstance(v, str) for v in X):
            X_arr = np.array(X, dtype=object)
        elif (
            isinstance(X, (builtins.list, tuple))
            and X
            and all(isinstance(v, np.ndarray) for v in X)
            and len({v.shape for v in X}) > 1
        ):
            X_arr = np.empty(len(X), dtype=object)
            X_arr[:] = builtins.list(X)
        else:
            X_arr = X if isinstance(X, np.ndarray) else np.asarray(X)
        if X_arr.ndim == 0:
            raise InputError("A Dataset needs a list or array of examples, not a single value.")
        if X_arr.dtype.kind in "US":
            X_arr = X_arr.astype(object)
        n = len(X_arr)
        kind = kind or _infer_kind(X_arr)
        if kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)} (got {kind!r}).")
        if kind in ("table", "sequences") and X_arr.dtype.kind not in "fiub":
            raise DataError(
                f"A {kind} data set needs numbers; got values of type {X_arr.dtype}. "
                "Use ml.datasets.from_csv to turn text columns into numbers."
            )
        if kind in ("table", "sequences") and X_arr.dtype != np.float32:
            X_arr = X_arr.astype(np.float32)
        if kind == "table" and X_arr.ndim == 1:
            X_arr = X_arr[:, None]

        label_names = builtins.list(labels) if labels is not None else None
        y_arr = None
        if y is not None:
            y_arr = np.asarray(y)
            if y_arr.shape[:1] != (n,):
                raise DataError(f"There are {n} examples but {len(y_arr)} labels; give one label per example.")
            if y_arr.dtype.kind in "OUSb" and label_names is None:
                names = np.asarray(y_arr).astype(str)
                label_names = sorted(set(names.tolist()))
                lookup = {v: i for i, v in enumerate(label_names)}
                y_arr = np.array([lookup[v] for v in names.tolist()], dtype=np.int64)
            elif y_arr.dtype.kind in "OUS" and label_names is not None:
                lookup = {str(v): i for i, v in enumerate(label_names)}
                missing = sorted({str(v) for v in y_arr.tolist()} - set(lookup))
                if missing:
                    raise DataError(f"These labels are not in labels=: {', '.join(missing[:5])}.")
                y_arr = np.array([lookup[str(v)] for v in y_arr.tolist()], dtype=np.int64)
            elif y_arr.dtype.kind in "iu" and label_names is None:  # whole numbers name classes
                values = np.unique(y_arr)
                label_names = [str(v) for v in values.tolist()]
                y_arr = np.searchsorted(values, y_arr).astype(np.int64)
            elif label_names is not None:
                y_arr = y_arr.astype(np.int64)
                if n and (y_arr.min() < 0 or y_arr.max() >= len(label_names)):
                    raise DataError(f"Label codes must run from 0 to {len(label_names) - 1} (one per name in labels=).")
            else:
                y_arr = y_arr.astype(np.float32)  # a number to predict (regression)
        if label_names is not None:
            label_names = [str(v) for v in label_names]

        self._X = X_arr
        self._y = y_arr
        self.kind = kind
        self.name = name
        self.card = card
        self.label_names: builtins.list[str] | None = label_names
        self.feature_names: builtins.list[str] | None = (
            [str(f) for f in feature_names] if feature_names is not None else None
        )
        if self.feature_names is not None and kind == "table" and len(self.feature_names) != X_arr.shape[1]:
            raise DataError(f"There are {X_arr.shape[1]} columns but {len(self.feature_names)} feature names.")
        self.target_name = target_name
        self.meta: dict[str, np.ndarray] = {}
        for key, values in (meta or {}).items():
            arr = np.asarray(values)
            if arr.dtype.kind in "US":
                arr = arr.astype(object)
            if len(arr) != n:
                raise DataError(f"meta[{key!r}] has {len(arr)} values for {n} examples.")
            self.meta[key] = arr
        self.notes: builtins.list[str] = builtins.list(notes or [])
        self.normal_label = normal_label
        #: Files that :func:`from_folder` could not use: ``(path, reason)`` pairs.
        self.skipped: builtins.list[tuple[str, str]] = []

    # ----------------------------------------------------------------- basics
    @property
    def X(self) -> np.ndarray:
        """The examples (see the class docstring for their shape per ``kind``)."""
        return self._X

    @property
    def text(self) -> str:
        """A text data set as one string, for text generators (``ml.char_rnn().train(ds.text)``):
        the texts separated by blank lines, each under its speaker in capitals (``ROMEO:``)
        when the data set has a ``speaker`` column."""
        if self.kind != "text":
            from playml.errors import TaskError

            raise TaskError(f"{self.name!r} holds {self.kind}, not text; .text is for text data sets.")
        speakers = self.meta.get("speaker")
        if speakers is not None:
            return "\n\n".join(f"{str(s).upper()}:\n{t}" for s, t in zip(speakers, self._X))
        return "\n\n".join(str(t) for t in self._X)

    @property
    def y(self) -> np.ndarray | None:
        """Label codes (index ``label_names``), numbers for regression, or ``None``."""
        return self._y

    @property
    def labels(self) -> builtins.list[str]:
        """The label names (an empty list when the data has no class labels)."""
        return builtins.list(self.label_names or [])

    @property
    def task(self) -> str | None:
        """``"classification"``, ``"regression"`` or ``None`` (no labels)."""
        if self._y is None:
            return None
        return "classification" if self.label_names is not None else "regression"

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one example (e.g. ``(4,)`` for iris, ``(8, 8, 3)`` for digits)."""
        if self._X.dtype == object:
            return ()
        return tuple(self._X.shape[1:])

    def __len__(self) -> int:
        return len(self._X)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, idx: Any):
        """``ds[i]`` → ``(x, label)`` (label as a name); ``ds[a:b]``, ``ds[[1, 5]]``, ``ds[mask]`` → a Dataset."""
        if isinstance(idx, (int, np.integer)):
            n = len(self)
            if not -n <= idx < n:
                raise InputError(f"Position {idx} is out of range: this data set has {n} examples.")
            return self._X[idx], self._label_of(int(idx))
        if isinstance(idx, str):
            raise InputError("Index a Dataset by position (ds[0]) or filter by label with ds.where(label=...).")
        return self._subset(_as_index(len(self), idx))

    def _label_of(self, i: int) -> Any:
        if self._y is None:
            return None
        if self.label_names is not None:
            return self.label_names[int(self._y[i])]
        return float(self._y[i])

    def _subset(self, index: np.ndarray) -> Dataset:
        out = Dataset.__new__(Dataset)
        out.__dict__.update(self.__dict__)
        out._X = self._X[index]
        out._y = self._y[index] if self._y is not None else None
        out.meta = {k: v[index] for k, v in self.meta.items()}
        out.notes = builtins.list(self.notes)
        out.skipped = builtins.list(self.skipped)
        return out

    def __repr__(self) -> str:
        n = len(self)
        if self.kind == "table":
            what = f"{plural(n, 'example')}, {plural(self._X.shape[1], 'feature')}"
        elif self.kind == "images":
            if self._X.dtype != object:
                what = f"{plural(n, 'image')} {self._X.shape[1]}×{self._X.shape[2]}"
            else:
                what = f"{plural(n, 'image')} (files)"
        elif self.kind == "sequences":
            what = f"{plural(n, 'sequence')} of {plural(self._X.shape[1], 'step')}"
        else:
            what = f"{plural(n, 'text')}"
        if self.task == "classification":
            what += f", {plural(len(self.labels), 'label')}: {_listed(self.labels)}"
        elif self.task == "regression":
            what += f", target {self.target_name!r}"
        return f"Dataset({self.name!r}, {what})"

    # ------------------------------------------------------------- arrays out
    def arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, y)`` as NumPy arrays: the examples and their label codes (or numbers, or ``None``)."""
        return self._X, self._y

    def named_labels(self) -> np.ndarray:
        """The label of every example as a name (``label_names[y]``), or the numbers for regression."""
        if self._y is None:
            raise DataError(f"{self.name!r} has no labels.")
        if self.label_names is None:
            return self._y
        return np.asarray(self.label_names, dtype=object)[self._y]

    def image(self, i: int) -> np.ndarray:
        """Example ``i`` of an image data set as an H×W×3 ``uint8`` array (files are loaded)."""
        if self.kind != "images":
            raise DataError(f"{self.name!r} holds {self.kind}, not images.")
        from playml.core.media import load_image

        return load_image(self[i][0])

    def to_folder(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write an image data set as files, one sub-folder per label: ``path/<label>/<label>_001.png``.

        This is the layout ``add_images(folder)``, ``playml teach`` and ``playml search``
        read. Returns the folder. An existing non-empty folder is refused unless
        ``overwrite=True`` (then files of the same names are replaced, others kept).

        >>> import playml as ml, tempfile, os
        >>> folder = ml.datasets.load("textures").to_folder(tempfile.mkdtemp() + "/textures")
        >>> sorted(os.listdir(folder)), len(os.listdir(folder / "brick"))
        (['brick', 'galaxies', 'grass', 'gravel'], 36)
        """
        import shutil

        from PIL import Image

        if self.kind != "images":
            raise DataError(f"{self.name!r} holds {self.kind}, not images: to_folder() writes image files.")
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise DataError(f"{folder} already exists and is not empty. Pick a new folder, or pass overwrite=True.")
        names = self.named_labels() if self._y is not None else np.array(["unlabelled"] * len(self), dtype=object)
        count: dict[str, int] = {}
        width = max(3, len(str(len(self))))
        for i in range(len(self)):
            label = str(names[i]).replace("/", "_").replace("\\", "_") or "unlabelled"
            count[label] = count.get(label, 0) + 1
            sub = folder / label
            sub.mkdir(parents=True, exist_ok=True)
            x = self._X[i]
            if isinstance(x, (str, Path)):
                src = Path(x)
                shutil.copyfile(src, sub / f"{label}_{count[label]:0{width}d}{src.suffix.lower()}")
            else:
                Image.fromarray(np.asarray(x, dtype=np.uint8)).save(sub / f"{label}_{count[label]:0{width}d}.png")
        return folder

    def flatten(self, gray: bool = True) -> Dataset:
        """Images as a table: one column per pixel (gray 0–255, or R, G, B with ``gray=False``).

        >>> import playml as ml
        >>> ml.datasets.load("digits").flatten()
        Dataset('digits', 1797 examples, 64 features, 10 labels: 0, 1, 2, 3, 4, … 9)
        """
        if self.kind != "images" or self._X.dtype == object:
            raise DataError(
                "flatten() needs images of one size held as pixels; "
                "use from_folder(..., size=(w, h)) to resize them first."
            )
        X = self._X.astype(np.float32)
        h, w = X.shape[1:3]
        if gray:
            X = X.mean(axis=3) if X.ndim == 4 else X
            names = [f"pixel_{r}_{c}" for r in range(h) for c in range(w)]
        else:
            names = [f"pixel_{r}_{c}_{ch}" for r in range(h) for c in range(w) for ch in "rgb"]
        out = self._subset(np.arange(len(self)))
        out._X = X.reshape(len(X), -1)
        out.kind = "table"
        out.feature_names = names
        out.notes.append(
            f"flattened {h}×{w} images into {len(names)} pixel columns"
            + (" (gray, 0–255)" if gray else " (R, G, B, 0–255)")
        )
        return out

    def counts(self) -> dict[str, int]:
        """How many examples each label has (every label listed, including those with 0)."""
        if self.label_names is None or self._y is None:
            return {}
        c = np.bincount(self._y, minlength=len(self.label_names))
        return {name: int(c[i]) for i, name in enumerate(self.label_names)}

    def to_pandas(self):
        """A pandas DataFrame: one row per example, feature columns, extra columns and the label.

        Tables and sequences get one column per feature (or time step); text gets a ``text``
        column; images stored as files get a ``path`` column. Images held as pixel arrays do
        not fit a table: use :meth:`arrays`.
        """
        import pandas as pd

        if self.kind in ("table", "sequences") and self._X.ndim == 2:
            cols = self.feature_names or [f"x{i}" for i in range(self._X.shape[1])]
            df = pd.DataFrame(self._X, columns=cols)
        elif self.kind == "text":
            df = pd.DataFrame({"text": self._X})
        elif self.kind == "images" and self._X.dtype == object and all(isinstance(v, str) for v in self._X):
            df = pd.DataFrame({"path": self._X})
        else:
            raise DataError(
                f"{self.kind} data of shape {self._X.shape} does not fit in a table; "
                "use .arrays() to get NumPy arrays instead."
            )
        for key, values in self.meta.items():
            if key not in df.columns:
                df[key] = values
        if self._y is not None:
            name = self.target_name if self.target_name not in df.columns else f"{self.target_name}_label"
            df[name] = self.named_labels()
        return df

    # -------------------------------------------------------------- filtering
    def where(self, label: Any = None, **meta: Any) -> Dataset:
        """Only the examples with this label (a name, or a list of names) and these extra values.

        >>> import playml as ml
        >>> ml.datasets.load("iris").where(label=["setosa", "virginica"]).counts()
        {'setosa': 50, 'versicolor': 0, 'virginica': 50}
        """
        mask = np.ones(len(self), dtype=bool)
        if label is not None:
            if self.label_names is None or self._y is None:
                raise DataError(f"{self.name!r} has no class labels to filter by.")
            wanted = label if isinstance(label, (builtins.list, tuple, set)) else [label]
            codes = []
            for w in wanted:
                if str(w) not in self.label_names:
                    raise DataError(f"{self.name!r} has no label {w!r}. Its labels are: {', '.join(self.label_names)}.")
                codes.append(self.label_names.index(str(w)))
            mask &= np.isin(self._y, codes)
        for key, value in meta.items():
            if key not in self.meta:
                known = ", ".join(self.meta) or "none"
                raise DataError(f"{self.name!r} has no extra column {key!r} (it has: {known}).")
            values = value if isinstance(value, (builtins.list, tuple, set)) else [value]
            mask &= np.isin(self.meta[key].astype(str), [str(v) for v in values])
        return self._subset(np.flatnonzero(mask))

    def filter(self, keep: Callable[[Any, Any], bool] | np.ndarray | Sequence[bool]) -> Dataset:
        """Keep the examples for which ``keep(x, label)`` is true (or a True/False mask)."""
        if callable(keep):
            mask = np.fromiter((bool(keep(x, lab)) for x, lab in self), dtype=bool, count=len(self))
        else:
            mask = np.asarray(keep, dtype=bool)
        return self._subset(_as_index(len(self), mask))

    def normal_only(self) -> Dataset:
        """Only the examples labelled normal (for data sets that define one, like ``ecg5000``).

        Anomaly detectors learn "normal" from these. Elsewhere use ``where(label=...)``.
        """
        if self.normal_label is None:
            raise DataError(
                f"{self.name!r} has no label marked as normal. Pick the examples you "
                "consider normal with .where(label='…')."
            )
        return self.where(label=self.normal_label)

    def canonical_split(self) -> tuple[Dataset, Dataset]:
        """The data set's published ``(train, test)`` split, for comparing with published results."""
        if "split" not in self.meta:
            raise DataError(f"{self.name!r} has no published train/test split; make one with .split(0.8, 0.2).")
        return self.where(split="train"), self.where(split="test")

    # ---------------------------------------------------------------- splits
    def split(self, *fractions: float, stratify: bool = False, seed: int | None = None) -> tuple[Dataset, ...]:
        """Shuffle and cut into parts of the given sizes, e.g. ``split(0.7, 0.15, 0.15)``.

        The fractions must add up to 1 (one fraction ``f`` means ``(f, 1 - f)``). With
        ``stratify=True`` every part keeps the label proportions of the whole. The same
        ``seed`` gives the same parts every time; ``seed=None`` gives a fresh shuffle.

        >>> import playml as ml
        >>> train, val, test = ml.datasets.load("iris").split(0.7, 0.15, 0.15, stratify=True, seed=0)
        >>> [len(p) for p in (train, val, test)]
        [105, 23, 22]
        """
        if len(fractions) == 1 and isinstance(fractions[0], (builtins.list, tuple)):
            fractions = tuple(fractions[0])
        if len(fractions) == 1:
            fractions = (fractions[0], 1.0 - float(fractions[0]))
        if len(fractions) < 2:
            raise InputError("Give the size of each part, e.g. split(0.8, 0.2) or split(0.7, 0.15, 0.15).")
        fr = np.array([float(f) for f in fractions])
        if (fr <= 0).any() or (fr >= 1).any():
            raise DataError(f"Each fraction must be between 0 and 1 (got {', '.join(map(str, fractions))}).")
        if abs(fr.sum() - 1.0) > 1e-6:
            raise DataError(
                f"The fractions must add up to 1; {' + '.join(map(str, fractions))} = {fr.sum():.4g}. "
                "For example split(0.7, 0.15, 0.15)."
            )
        rng = np.random.default_rng(seed)
        n = len(self)
        if stratify:
            if self.task != "classification":
                raise DataError("stratify=True needs class labels; this data set has none. Use stratify=False.")
            names = self.labels
            groups = [np.flatnonzero(self._y == c) for c in range(len(names))]
            small = [(names[c], len(g)) for c, g in enumerate(groups) if 0 < len(g) < len(fr)]
            if small:
                desc = ", ".join(f"{name!r} has {k}" for name, k in small[:5])
                raise DataError(
                    f"Cannot stratify into {len(fr)} parts: every label needs at least {len(fr)} "
                    f"examples, but {desc}. Add examples, use fewer parts, or stratify=False."
                )
            parts: builtins.list[builtins.list[np.ndarray]] = [[] for _ in fr]
            total = sum(len(g) for g in groups)
            target, done = _allot(total, fr), 0
            given = np.zeros(len(fr), dtype=np.int64)
            for g in groups:  # label by label, cut its shuffled examples in the same proportions
                if len(g) == 0:
                    continue
                raw = len(g) * fr
                want = np.floor(raw).astype(np.int64)
                # the examples left over by rounding go where the overall sizes fall shortest
                done += len(g)
                rank = np.lexsort((-(raw - want), -(target * done / total - given - want)))
                want[rank[: len(g) - want.sum()]] += 1
                if (want == 0).any():  # each part gets at least one example of every label
                    want = np.maximum(want, 1)
                    while want.sum() > len(g):
                        want[np.argmax(want)] -= 1
                cuts = np.cumsum(want)[:-1]
                for p, chunk in enumerate(np.split(rng.permutation(g), cuts)):
                    parts[p].append(chunk)
                given += want
            index_parts = [rng.permutation(np.concatenate(p)) for p in parts]
        else:
            order = rng.permutation(n)
            sizes = _allot(n, fr)
            cuts = np.cumsum(sizes)[:-1]
            index_parts = np.split(order, cuts)
        empty = [i + 1 for i, p in enumerate(index_parts) if len(p) == 0]
        if empty:
            raise DataError(
                f"Part {empty[0]} of the split would be empty: {n} examples are too few for "
                f"fractions {', '.join(map(str, fractions))}. Use larger fractions or more data."
            )
        return tuple(self._subset(np.asarray(p, dtype=np.int64)) for p in index_parts)

    # --------------------------------------------------------------- batches
    def batches(
        self, batch_size: int = 32, *, shuffle: bool = True, seed: int | None = None, drop_last: bool = False
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Yield ``(X, y)`` NumPy batches of ``batch_size`` examples (the last may be smaller).

        >>> import playml as ml
        >>> X, y = next(ml.datasets.load("iris").batches(16, seed=0))
        >>> X.shape, y.shape
        ((16, 4), (16,))
        """
        if int(batch_size) != batch_size or batch_size < 1:
            raise InputError(f"batch_size must be a whole number of at least 1 (got {batch_size}).")
        batch_size = int(batch_size)
        n = len(self)
        order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            yield self._X[idx], (self._y[idx] if self._y is not None else None)

    # -------------------------------------------------------------- describe
    def summary(self) -> str:
        """Markdown about this copy of the data: size, shape, counts per label and notes."""
        lines = ["## This copy", "", f"- name: `{self.name}`", f"- kind: {self.kind}", f"- examples: {len(self)}"]
        if self.kind == "table":
            lines.append(f"- features ({self._X.shape[1]}): {_listed(self.feature_names or [], 12)}")
        elif self.kind == "images":
            if self._X.dtype != object:
                lines.append(
                    f"- image size: {self._X.shape[1]}×{self._X.shape[2]} pixels, "
                    f"{self._X.shape[3] if self._X.ndim == 4 else 1} channels, {self._X.dtype}"
                )
            else:
                lines.append("- images: files of various sizes (loaded when used)")
        elif self.kind == "sequences":
            lines.append(f"- steps per sequence: {self._X.shape[1]}")
        else:
            lengths = np.array([len(t) for t in self._X]) if len(self) else np.zeros(1)
            lines.append(f"- characters per text: median {int(np.median(lengths))}, max {int(lengths.max())}")
        if self.meta:
            lines.append(f"- extra columns: {', '.join(self.meta)}")
        if "split" in self.meta:
            tr = int((self.meta["split"] == "train").sum())
            lines.append(f"- published split: {tr} train, {len(self) - tr} test (`.canonical_split()`)")
        if self.task == "classification":
            lines += [
                "",
                f"Counts per label (`{self.target_name}`):",
                "",
                "| label | count | share |",
                "|---|---:|---:|",
            ]
            for name, k in self.counts().items():
                lines.append(f"| {name} | {k} | {k / max(len(self), 1):.1%} |")
        elif self.task == "regression" and self._y is not None:
            y = self._y
            lines.append(f"- target `{self.target_name}`: from {y.min():.4g} to {y.max():.4g}, mean {y.mean():.4g}")
        else:
            lines.append("- labels: none")
        if self.notes:
            lines += ["", "What playml did while loading:", ""] + [f"- {n}" for n in self.notes]
        if self.skipped:
            lines += ["", f"Skipped {plural(len(self.skipped), 'file')}:", ""]
            lines += [f"- {p}: {why}" for p, why in self.skipped[:10]]
            if len(self.skipped) > 10:
                lines.append(f"- … and {len(self.skipped) - 10} more (see `.skipped`)")
        from playml.results import Text

        return Text("\n".join(lines))

    def describe(self) -> str:
        """The data card (origin, license, fields, gaps…) followed by a summary of this copy."""
        card = self.card.strip() or f"# {self.name}\n\nNo data card: this data set was made in Python."
        from playml.results import Text

        return Text(f"{card}\n\n{self.summary()}\n")

    def _repr_markdown_(self) -> str:  # notebooks
        return self.summary()


def _allot(n: int, fractions: np.ndarray) -> np.ndarray:
    """Split ``n`` into whole-number sizes proportional to ``fractions`` (largest remainder)."""
    raw = fractions * n
    sizes = np.floor(raw).astype(np.int64)
    rest = n - sizes.sum()
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[:rest]] += 1
    return sizes
