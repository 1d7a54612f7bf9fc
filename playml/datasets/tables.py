"""Tables of numbers in: arrays, pandas DataFrames, CSV files, playml data sets or a bundled
data set's name, read into one :class:`Table` (numbers, optional labels, column names).

Used by the anomaly detector and its command; every reader refuses what it cannot use with a
message that says what to pass instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playml.errors import DataError, InputError, MissingFileError, ShapeError

__all__ = ["Table", "to_table", "check_finite", "truth_mask", "LABEL_COLUMNS"]

#: Column names taken as labels when no label column is named.
LABEL_COLUMNS = ("label", "labels", "class", "target")


@dataclass
class Table:
    """Examples as a float32 matrix plus, when the data had them, their labels as strings."""

    x: np.ndarray
    labels: np.ndarray | None = None
    columns: list[str] | None = None
    normal_label: str | None = None  # what the data itself calls normal (bundled data sets)


def _label_strings(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)  # 1.0 read from a CSV is the label "1"
    return np.array([str(v) for v in arr.tolist()], dtype=object)


def _from_frame(df, label_column: str | None, what: str) -> Table:
    import pandas as pd

    if isinstance(df, pd.Series):  # one row of a table (df.iloc[0]): its index holds the column names
        df = df.to_frame().T.infer_objects()
    columns = [str(c) for c in df.columns]
    if label_column is None:
        found = [c for c in df.columns if str(c).strip().lower() in LABEL_COLUMNS]
        label_column = found[0] if found else None
    elif label_column not in df.columns:
        raise DataError(f"The {what} has no column {label_column!r}. Its columns are: {', '.join(columns)}.")
    labels = None
    if label_column is not None:
        labels = _label_strings(df[label_column].to_numpy()) if df[label_column].notna().all() else None
        if labels is None:
            raise DataError(f"The label column {label_column!r} has empty cells. Fill them or drop those rows.")
        df = df.drop(columns=[label_column])
    bad = [
        str(c) for c in df.columns if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]
    if bad:
        raise DataError(
            f"The column(s) {', '.join(repr(b) for b in bad[:5])} hold text, but an anomaly detector needs "
            "numbers. If one of them holds the labels, pass label_column='…' (--label-column on the "
            "command line); otherwise drop them, or turn them into numbers first."
        )
    return Table(df.to_numpy(dtype=np.float32, na_value=np.nan), labels, [str(c) for c in df.columns])


def _read_csv(path: Path, label_column: str | None, what: str) -> Table:
    import pandas as pd

    try:
        df = (
            pd.read_csv(path, sep=None, engine="python")
            if path.suffix.lower() != ".tsv"
            else pd.read_csv(path, sep="\t")
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(
            f"{path} could not be read as a CSV table ({e}). Check that it is a comma-separated "
            "file with one header row."
        ) from None
    return _from_frame(df, label_column, what)


def to_table(
    data: Any, *, label_column: str | None = None, y: Any = None, what: str = "data", split: str | None = None
) -> Table:
    """Turn any supported kind of data into a :class:`Table` (no checks on values yet).

    ``split`` ('train' or 'test') picks that part of a bundled data set named by a string.
    """
    from playml.core.media import check_not_url
    from playml.datasets import is_dataset

    if isinstance(data, Table):
        table = data
    elif is_dataset(data):
        X, codes = data.arrays()
        if X.dtype == object or X.dtype.kind not in "fiub":
            raise DataError(
                f"The data set {getattr(data, 'name', '')!r} holds {data.kind}, not numbers. "
                "An anomaly detector needs numbers: for images, turn them into features first "
                "(ml.feature_extractor().features(images))."
            )
        labels = _label_strings(data.named_labels()) if codes is not None and data.label_names is not None else None
        cols = data.feature_names if X.ndim == 2 else None
        normal = getattr(data, "normal_label", None)
        if X.size == 0:
            raise DataError(f"The {what} is empty. Pass at least one example with at least one number.")
        table = Table(
            X.reshape(len(X), -1).astype(np.float32, copy=False),
            labels,
            list(cols) if cols else None,
            None if normal is None else str(normal),
        )
    elif isinstance(data, (str, os.PathLike)):
        check_not_url(data)
        path = Path(data)
        if path.is_dir():
            raise InputError(f"{path} is a folder. Pass a CSV file, an array or a data set.")
        if path.exists():
            table = _read_csv(path, label_column, what)
            label_column = None
        elif path.suffix or os.sep in str(data) or "/" in str(data):
            raise MissingFileError(
                f"There is no file {str(path)!r}. Check the spelling and the folder you are in ({os.getcwd()})."
            )
        else:  # a bundled data set's name
            from playml import datasets

            ds = datasets.load(str(data))
            if split is not None and "split" in ds.meta:
                ds = ds.canonical_split()[0 if split == "train" else 1]
            table = to_table(ds, what=what)
    elif type(data).__module__.startswith("pandas"):
        table = _from_frame(data, label_column, what)
        label_column = None
    else:
        if type(data).__module__.startswith("torch"):
            data = data.detach().cpu().numpy()
        try:
            arr = np.asarray(data)
        except ValueError:
            raise ShapeError(
                f"The {what} has rows of different lengths. Every example needs the same number of values."
            ) from None
        if arr.dtype == object or arr.dtype.kind not in "fiub":
            raise DataError(
                f"The {what} must be numbers (got values of type {arr.dtype}). Pass a NumPy array, "
                "a pandas DataFrame, a CSV path or a playml data set."
            )
        if arr.ndim == 0:
            raise ShapeError(f"The {what} is a single number; pass a list of examples, each a list of numbers.")
        if arr.ndim == 1:
            arr = arr[None, :]  # one example
        if arr.size == 0:
            raise DataError(f"The {what} is empty. Pass at least one example with at least one number.")
        table = Table(arr.reshape(len(arr), -1).astype(np.float32, copy=False))
    if label_column is not None and not isinstance(data, Table):
        raise InputError("label_column only applies to tables (a CSV path or a pandas DataFrame).")
    if y is not None:
        y_arr = np.asarray(y)
        if y_arr.shape[:1] != (len(table.x),):
            raise ShapeError(f"There are {len(table.x)} examples but {len(y_arr)} labels; give one label per example.")
        table = Table(table.x, _label_strings(y_arr), table.columns, table.normal_label)
    return table


def check_finite(x: np.ndarray, what: str) -> None:
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"The {what} is empty. Pass at least one example with at least one number.")
    finite = np.isfinite(x)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        shown = ", ".join(str(r) for r in rows[:5]) + (" …" if len(rows) > 5 else "")
        raise DataError(
            f"The {what} has missing or infinite values in {len(rows)} row(s) (rows {shown}). "
            "Remove or fill them first, e.g. df.dropna() or df.fillna(df.mean())."
        )


def truth_mask(labels: np.ndarray, normal_label: Any, what: str) -> np.ndarray:
    """True where the example is an anomaly (its label is not the normal one)."""
    normal = str(normal_label)
    present = sorted(set(labels.tolist()))
    if normal not in present:
        raise DataError(
            f"No example in the {what} has the label {normal!r}. The labels are: "
            f"{', '.join(present[:10])}{' …' if len(present) > 10 else ''}."
        )
    return labels != normal
