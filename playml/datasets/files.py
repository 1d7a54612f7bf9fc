"""Your own data: a folder of images sorted into label folders, or a CSV table.

>>> import playml as ml
>>> photos = ml.datasets.from_folder("my_photos/")      # doctest: +SKIP
>>> photos.skipped                                     # doctest: +SKIP
>>> table = ml.datasets.from_csv("readings.csv", label="activity")   # doctest: +SKIP
>>> table.notes                                        # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.media import IMAGE_SUFFIXES, check_not_url, load_image
from playml.core.reprs import plural
from playml.datasets.dataset import Dataset
from playml.errors import DataError, ImageError, InputError, MissingFileError, PlaymlError

__all__ = ["from_folder", "from_csv", "DatasetWarning"]

#: Up to this many different text values a column counts as categories; more looks like names or ids.
MAX_CATEGORIES = 50
#: A numeric label column with at most this many different whole numbers is taken as classes.
MAX_NUMERIC_CLASSES = 20


class DatasetWarning(UserWarning):
    """Something in your data was skipped or changed while loading (details in the message)."""


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def from_folder(
    path: str | os.PathLike, *, size: tuple[int, int] | int | None = None, name: str | None = None
) -> Dataset:
    """An image data set from a folder with one sub-folder per label.

    ::

        my_photos/
            cat/  a.jpg  b.png ...
            dog/  c.jpg ...

    Files that are not images, or images that cannot be read, are skipped, listed in
    ``.skipped`` as ``(path, reason)`` and reported in one warning; the rest load. Without
    ``size`` the data set holds file paths (images load when used); with ``size=(width,
    height)`` (or one number for squares) every image is loaded now and resized, and ``X`` is
    an n × height × width × 3 ``uint8`` array. A folder of images with no sub-folders gives a
    data set without labels.

    >>> import playml as ml
    >>> photos = ml.datasets.from_folder("my_photos/", size=64)    # doctest: +SKIP
    """
    check_not_url(str(path))
    root = Path(path)
    if not root.exists():
        raise MissingFileError(
            f"There is no folder {str(root)!r}. Check the spelling and the folder you are in ({os.getcwd()})."
        )
    if not root.is_dir():
        raise InputError(f"{str(root)!r} is a file. Pass a folder that has one sub-folder per label.")
    if isinstance(size, int):
        size = (size, size)
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise InputError(f"size must be (width, height) in pixels, or one number for squares (got {size!r}).")
    wh = None if size is None else (int(size[0]), int(size[1]))
    label_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    skipped: list[tuple[str, str]] = []
    paths: list[Path] = []
    labels: list[str] = []
    if label_dirs:
        for p in sorted(root.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                skipped.append((str(p), "not inside a label folder"))
        groups = [(d.name, sorted(f for f in d.rglob("*") if f.is_file() and _visible(f, root))) for d in label_dirs]
    else:
        groups = [("", sorted(f for f in root.iterdir() if f.is_file() and not f.name.startswith(".")))]
    pixels = []
    for label, files in groups:
        for f in files:
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append((str(f), "not an image file"))
                continue
            try:
                if wh is None:
                    load_image(f, draft_size=(32, 32))  # decode once to be sure it can be read
                else:
                    from PIL import Image

                    img = Image.fromarray(load_image(f, draft_size=wh))
                    pixels.append(np.asarray(img.resize(wh, Image.Resampling.BILINEAR)))
            except ImageError as e:
                skipped.append((str(f), str(e).removeprefix(str(f)).strip(" :") or "cannot be read"))
                continue
            paths.append(f)
            labels.append(label)
    if not paths:
        found = f" ({len(skipped)} files were skipped: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise DataError(
            f"No readable images in {str(root)!r}{found}. Put images in one sub-folder per label, "
            "e.g. my_photos/cat/1.jpg and my_photos/dog/2.jpg."
        )
    n_labels = len({lab for lab in labels})
    notes = [
        f"read {plural(len(paths), 'image')} from {root}"
        + (f" in {plural(n_labels, 'label folder')}" if label_dirs else " (no sub-folders, so no labels)")
    ]
    if size is not None:
        notes.append(f"resized every image to {size[0]}×{size[1]} pixels")
    if skipped:
        first = ", ".join(f"{Path(p).name} ({why})" for p, why in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        message = f"skipped {plural(len(skipped), 'file')} that are not usable images: {first}{more} (see .skipped)"
        notes.append(message)
        warnings.warn(f"from_folder {message}", DatasetWarning, stacklevel=2)
    empty = [d.name for d in label_dirs if d.name not in set(labels)]
    if empty:
        notes.append(f"these label folders had no usable images: {', '.join(empty)}")
    X = np.stack(pixels) if size is not None else np.array([str(p) for p in paths], dtype=object)
    ds = Dataset(
        X,
        labels if label_dirs else None,
        kind="images",
        name=name or root.resolve().name,
        notes=notes,
        meta={"path": np.array([str(p) for p in paths], dtype=object)},
        labels=sorted(set(labels)) if label_dirs else None,
    )
    ds.skipped = skipped
    return ds


def _is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def from_csv(
    path: str | os.PathLike,
    label: str | None = None,
    *,
    features: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    encoding: str = "onehot",
    missing: str = "drop",
    task: str | None = None,
    name: str | None = None,
    sep: str = ",",
) -> Dataset:
    """A table data set from a CSV file, with ``label`` naming the column to predict.

    Each feature column is looked at and turned into numbers:

    - numbers stay numbers;
    - text with a few different values (up to 50) is *categorical*: one 0/1 column per value
      (``encoding="onehot"``, named like ``island=Dream``) or one column of codes 0, 1, 2…
      (``encoding="codes"``); name columns in ``categorical=`` to force this for numbers too;
    - text with many different values (names, ids, free text) is left out of the features and
      kept as an extra column.

    Rows with missing values are dropped (``missing="drop"``) or filled with the column's mean
    or a ``"missing"`` category (``missing="fill"``). A text label means classification; a
    numeric label with at most 20 different whole numbers too, otherwise regression (force it
    with ``task=``). Everything decided is listed in ``.notes`` and in ``describe()``.

    >>> import playml as ml
    >>> table = ml.datasets.from_csv("readings.csv", label="activity")   # doctest: +SKIP
    >>> print("\\n".join(table.notes))                                    # doctest: +SKIP
    """
    import pandas as pd

    check_not_url(str(path))
    path = Path(path)
    if not path.exists():
        raise MissingFileError(
            f"There is no file {str(path)!r}. Check the spelling and the folder you are in ({os.getcwd()})."
        )
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a folder; give the CSV file inside it.")
    from playml.core.saving import read_file

    data = read_file(path, what="CSV file")
    if b"\x00" in data[: 1 << 20]:
        raise DataError(f"{path.name} is not a text CSV file (it holds binary data).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # rows longer than the header: refuse
            df = pd.read_csv(io.BytesIO(data), sep=sep, skipinitialspace=True, index_col=False)
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        UnicodeDecodeError,
        pd.errors.EmptyDataError,
        ValueError,
    ) as e:
        raise DataError(
            f"{path.name} could not be read as a CSV table ({str(e)[:200]}). Check that it is "
            "comma-separated text with a header line (or pass sep=';')."
        ) from None
    if sep == "," and len(df.columns) == 1:
        for other, shown in ((";", "sep=';'"), ("\t", "sep='\\t'")):
            if other in str(df.columns[0]):
                raise DataError(
                    f"{path.name} looks separated by {other!r}, not commas: read it with "
                    f"from_csv({str(path)!r}, ..., {shown})."
                )
    numeric = df.select_dtypes(include="number").columns
    infinite = [c for c in numeric if np.isinf(df[c].to_numpy(dtype=np.float64)).any()]
    if infinite:  # infinity is not a measurement: treat it like a missing value
        df[numeric] = df[numeric].replace([np.inf, -np.inf], np.nan)
    stripped = [str(c).strip() for c in df.columns]
    twice = sorted({c for c in stripped if stripped.count(c) > 1})
    if twice:
        raise DataError(
            f"{path.name} has more than one column named {', '.join(map(repr, twice[:3]))}; give each "
            "column its own name in the header line."
        )
    try:
        return _table_from_frame(
            df,
            label=label,
            features=features,
            categorical=categorical,
            encoding=encoding,
            missing=missing,
            task=task,
            name=name or path.stem,
            source=path.name,
        )
    except (ValueError, TypeError, KeyError, IndexError) as e:
        if isinstance(e, PlaymlError):
            raise
        raise DataError(
            f"{path.name} could not be turned into a table of numbers ({type(e).__name__}: "
            f"{str(e)[:160]}). Check its header line and that every row has the same columns."
        ) from None


def _table_from_frame(
    df,
    *,
    label: str | None,
    features: Sequence[str] | None,
    categorical: Sequence[str],
    encoding: str,
    missing: str,
    task: str | None,
    name: str,
    source: str,
) -> Dataset:
    import pandas as pd

    if encoding not in ("onehot", "codes"):
        raise InputError(f"encoding must be 'onehot' or 'codes' (got {encoding!r}).")
    if missing not in ("drop", "fill"):
        raise InputError(f"missing must be 'drop' or 'fill' (got {missing!r}).")
    if task not in (None, "classification", "regression"):
        raise InputError(f"task must be 'classification' or 'regression' (got {task!r}).")
    df.columns = [str(c).strip() for c in df.columns]
    columns = list(df.columns)
    for wanted in [label, *(features or []), *categorical]:
        if wanted is not None and wanted not in columns:
            raise DataError(f"{source} has no column {wanted!r}. Its columns: {', '.join(columns)}.")
    if len(df) == 0:
        raise DataError(f"{source} has a header but no rows.")
    feature_cols = list(features) if features is not None else [c for c in columns if c != label]
    notes: list[str] = []
    kinds: dict[str, str] = {}
    for col in feature_cols:
        series = df[col]
        values = series.dropna()
        if col in categorical:
            kinds[col] = "categorical"
        elif _is_numeric(series):
            kinds[col] = "numeric"
        elif len(values) and pd.to_numeric(values, errors="coerce").notna().all():
            df[col] = pd.to_numeric(series, errors="coerce")
            kinds[col] = "numeric"
        elif values.nunique() > MAX_CATEGORIES or (len(values) >= 4 and values.nunique() == len(values)):
            kinds[col] = "left out"  # names, ids or free text
        elif len(values) < len(series) / 2:
            kinds[col] = "mostly empty"
        else:
            kinds[col] = "categorical"
    usable = [c for c in feature_cols if kinds[c] in ("numeric", "categorical")]
    used = usable + ([label] if label else [])
    if not usable:
        raise DataError(f"{source} has no column that can be used as a feature (numbers or a few categories).")
    holes = df[used].isna().any(axis=1)
    if holes.any():
        if missing == "drop" or (label is not None and df[label].isna().any()):
            dropped = df[holes] if missing == "drop" else df[df[label].isna()]
            notes.append(
                f"dropped {len(dropped)} of {len(df)} rows with missing values "
                f"(rows {', '.join(str(i + 2) for i in dropped.index[:5])}"
                f"{'…' if len(dropped) > 5 else ''} of the file; missing='fill' keeps them)"
            )
            df = df.drop(index=dropped.index)
        if missing == "fill":
            for col in used:
                if col == label or not df[col].isna().any():
                    continue
                k = int(df[col].isna().sum())
                if kinds[col] == "numeric":
                    mean = float(df[col].mean())
                    df[col] = df[col].fillna(mean)
                    notes.append(f"{col}: filled {k} missing values with the column mean {mean:.4g}")
                else:
                    df[col] = df[col].astype(object).where(df[col].notna(), "missing")
                    notes.append(f"{col}: {k} missing values became the category 'missing'")
        if len(df) == 0:
            raise DataError(f"Every row of {source} has a missing value; nothing is left. Try missing='fill'.")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in feature_cols:
        kind = kinds[col]
        if kind == "numeric":
            blocks.append(df[col].to_numpy(dtype=np.float64)[:, None])
            names.append(col)
            notes.append(f"{col}: numeric")
        elif kind == "categorical":
            values = df[col].astype(str)
            cats = sorted(values.unique(), key=_natural)
            if encoding == "onehot":
                blocks.append((values.to_numpy()[:, None] == np.array(cats)[None, :]).astype(np.float64))
                names += [f"{col}={c}" for c in cats]
                notes.append(f"{col}: categorical with {len(cats)} values ({_few(cats)}) → one 0/1 column each")
            else:
                lookup = {c: i for i, c in enumerate(cats)}
                blocks.append(values.map(lookup).to_numpy(dtype=np.float64)[:, None])
                names.append(col)
                notes.append(
                    f"{col}: categorical, coded "
                    + ", ".join(f"{c}={i}" for c, i in list(lookup.items())[:8])
                    + ("…" if len(cats) > 8 else "")
                )
        elif kind == "mostly empty":
            notes.append(
                f"{col}: text, empty in more than half the rows; left out of the features and kept as an extra column"
            )
        else:
            notes.append(
                f"{col}: text with {df[col].nunique()} different values (names or ids?), "
                "left out of the features and kept as an extra column"
            )
    X = np.concatenate(blocks, axis=1)
    meta: dict[str, Any] = {}
    for col in columns:
        if col != label and col not in usable:
            s = df[col]
            meta[col] = s.to_numpy() if _is_numeric(s) and not s.isna().any() else s.astype(str).to_numpy(dtype=object)
    y = labels = None
    if label is not None:
        target = df[label]
        numeric = _is_numeric(target)
        whole = numeric and np.allclose(target.to_numpy(dtype=float), np.round(target.to_numpy(dtype=float)))
        if task is None:
            task = (
                "classification" if not numeric or (whole and target.nunique() <= MAX_NUMERIC_CLASSES) else "regression"
            )
            if numeric and task == "classification":
                notes.append(
                    f"label {label!r}: {target.nunique()} different whole numbers, taken as classes "
                    "(pass task='regression' to predict the number)"
                )
        if task == "regression":
            if not numeric:
                raise DataError(f"The label column {label!r} holds text, so it cannot be a regression target.")
            y = target.to_numpy(dtype=np.float64)
            notes.append(f"label {label!r}: a number to predict (regression)")
        else:
            as_text = target.map(lambda v: str(int(v)) if whole else str(v)) if numeric else target.astype(str)
            labels = sorted(as_text.unique(), key=_natural)
            y = as_text.to_numpy(dtype=object)
            if not numeric:
                notes.append(f"label {label!r}: {plural(len(labels), 'class', 'classes')} ({_few(labels)})")
    return Dataset(
        X,
        y,
        labels=labels,
        feature_names=names,
        kind="table",
        name=name,
        target_name=label or "label",
        meta=meta,
        notes=notes,
    )


def _natural(value: str):
    """Sort '2' before '10' and numbers before words."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _few(values: Sequence[str], limit: int = 5) -> str:
    values = [str(v) for v in values]
    return ", ".join(values[:limit]) + (f", … {len(values) - limit} more" if len(values) > limit else "")
