"""ml5.js's ``model_meta.json`` and training-data files, as ml5.js 1.x writes and reads them.

``model_meta.json`` describes a ``neuralNetwork``'s data, so a saved model knows how to turn
raw inputs into the numbers the network sees and its outputs back into labels::

    {"inputUnits": [3], "outputUnits": 3,
     "inputs":  {"r": {"dtype": "number", "min": 0, "max": 255}, ...},
     "outputs": {"colour": {"dtype": "string", "min": 0, "max": 1,
                            "uniqueValues": ["red", "green"], "legend": {"red": [1, 0], "green": [0, 1]}}},
     "isNormalized": true}

- ``dtype`` is ``"number"``, ``"string"`` (one-hot encoded with ``legend``, labels in order of
  first appearance) or ``"array"`` (an image's pixels, min/max over all of them).
- A number is normalised as ``(x − min) / (max − min)``, and to 0 when ``min == max``
  (ml5.js does the same; it never divides by zero). Regression outputs are un-normalised with
  ``y · (max − min) + min``.
- ``inputUnits`` is a list (``[3]``, or ``[width, height, channels]`` for images); ``outputUnits``
  is a number. ml5.js ignores keys it does not know, so playml adds
  ``"playml": {"kind": ..., "version": 1}``.

ml5's ``saveData()`` writes ``{"data": [{"xs": {...}, "ys": {...}}, ...]}``; its
``loadData()`` also accepts ``"entries"`` instead of ``"data"``. CSV files hold one example
per row with the input and output names as the header.

>>> from playml.formats.ml5 import make_meta, encode_inputs
>>> meta = make_meta(["r", "g"], ["colour"], [[255, 0], [0, 200]], [["red"], ["green"]])
>>> meta["outputs"]["colour"]["legend"]
{'red': [1, 0], 'green': [0, 1]}
>>> meta["isNormalized"] = True
>>> encode_inputs(meta, [[127.5, 100]]).tolist()
[[0.5, 0.5]]
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from playml.errors import DataError, FormatError

__all__ = [
    "make_meta",
    "check_meta",
    "encode_inputs",
    "encode_outputs",
    "decode_outputs",
    "normalize",
    "unnormalize",
    "data_to_json",
    "data_from_json",
    "data_to_csv",
    "data_from_csv",
    "dtype_of",
]


def dtype_of(value: Any) -> str:
    """ml5's dtype of one value: ``"number"``, ``"string"`` or ``"array"``."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bool, np.bool_)):
        return "number"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "array"
    return type(value).__name__


def _json_number(v: float) -> float | int:
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def make_meta(
    input_names: Sequence[str],
    output_names: Sequence[str],
    xs: Sequence[Sequence[Any]],
    ys: Sequence[Sequence[Any]],
    input_shape: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Describe the data like ml5.js's ``createMetadata()``: dtypes, min/max, one-hot legends, units."""
    if not xs:
        raise DataError("There is no data to describe. Add examples with add_data() first.")

    def describe(names, rows, which):
        numeric = _numeric_matrix(rows)
        if numeric is not None:  # every value a number: one vectorised pass
            lo, hi = numeric.min(0), numeric.max(0)
            return (
                {
                    name: {"dtype": "number", "min": _json_number(lo[j]), "max": _json_number(hi[j])}
                    for j, name in enumerate(names)
                },
                len(names),
            )
        meta: dict[str, Any] = {}
        units = 0
        for j, name in enumerate(names):
            column = [row[j] for row in rows]
            dtype = dtype_of(column[0])
            entry: dict[str, Any] = {"dtype": dtype}
            if dtype == "string":
                unique = list(dict.fromkeys(column))
                if which == "outputs" and len(unique) < 2:
                    raise DataError(
                        f"Classification needs at least two different labels, but every example of "
                        f"{name!r} is {unique[0]!r}. Add examples of another label."
                    )
                entry.update(
                    min=0,
                    max=1,
                    uniqueValues=unique,
                    legend={u: [int(i == k) for i in range(len(unique))] for k, u in enumerate(unique)},
                )
                units += len(unique)
            elif dtype == "number":
                arr = np.asarray(column, dtype=np.float64)
                entry.update(min=_json_number(arr.min()), max=_json_number(arr.max()))
                units += 1
            else:  # array (an image's pixels)
                arr = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in column])
                entry.update(min=_json_number(arr.min()), max=_json_number(arr.max()))
                units += int(np.asarray(column[0]).size)
            meta[name] = entry
        return meta, units

    inputs, in_units = describe(input_names, xs, "inputs")
    outputs, out_units = describe(output_names, ys, "outputs")
    return {
        "inputUnits": [int(v) for v in input_shape] if input_shape else [in_units],
        "outputUnits": out_units,
        "inputs": inputs,
        "outputs": outputs,
        "isNormalized": False,
    }


def check_meta(meta: Any, where: str = "model_meta.json") -> dict[str, Any]:
    """Validate the parts of a ``model_meta.json`` that playml needs; return it."""
    if not isinstance(meta, dict):
        raise FormatError(f"{where} should hold a JSON object.")
    for key in ("inputUnits", "outputUnits", "inputs", "outputs"):
        if key not in meta:
            raise FormatError(f"{where} has no {key!r}; it was not written by ml5.js's neuralNetwork or playml.")
    units = meta["inputUnits"]
    if (
        not isinstance(units, list)
        or not 1 <= len(units) <= 3
        or not all(isinstance(u, int) and not isinstance(u, bool) and 1 <= u <= 1 << 16 for u in units)
    ):
        raise FormatError(f"{where}: 'inputUnits' must be a list of 1 to 3 sizes, like [4] or [64, 64, 4].")
    outputs = meta["outputUnits"]
    if isinstance(outputs, bool) or not isinstance(outputs, int) or not 1 <= outputs <= 1 << 16:
        raise FormatError(f"{where}: 'outputUnits' must be a whole number of outputs.")
    if (
        not isinstance(meta["inputs"], dict)
        or not isinstance(meta["outputs"], dict)
        or not meta["outputs"]
        or not meta["inputs"]
    ):
        raise FormatError(f"{where}: 'inputs' and 'outputs' must be objects that name each input and output.")
    for side in ("inputs", "outputs"):
        for name, entry in meta[side].items():
            if not isinstance(entry, dict) or "dtype" not in entry:
                raise FormatError(f"{where}: {side}[{name!r}] has no dtype.")
            if entry["dtype"] == "string" and not isinstance(entry.get("legend"), dict):
                raise FormatError(f"{where}: {side}[{name!r}] is text but has no one-hot 'legend'.")
    _check_widths(meta, where)
    return meta


def _check_widths(meta: dict[str, Any], where: str) -> None:
    """The encoded widths the entries describe must add up to inputUnits / outputUnits, every
    legend must be one-hot, and min/max finite numbers (else predictions fail or mislead later)."""

    def width(side: str, name: str, entry: dict) -> int:
        if entry["dtype"] == "string":
            legend = entry["legend"]
            n = len(legend)
            for label, code in legend.items():
                if not isinstance(code, list) or len(code) != n or sorted(code) != [0] * (n - 1) + [1]:
                    raise FormatError(
                        f"{where}: the legend of {side}[{name!r}] does not give {label!r} a one-hot "
                        f"list of {n} numbers."
                    )
            return n
        if meta.get("isNormalized"):
            for key in ("min", "max"):
                v = entry.get(key)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise FormatError(f"{where}: {side}[{name!r}] has no finite {key!r} to normalise with.")
        return 1 if entry["dtype"] == "number" else -1

    units = meta["inputUnits"]
    widths = [width("inputs", k, v) for k, v in meta["inputs"].items()]
    if len(units) == 1 and -1 not in widths and sum(widths) != units[0]:
        raise FormatError(f"{where}: the inputs describe {sum(widths)} numbers but 'inputUnits' is {units}.")
    widths = [width("outputs", k, v) for k, v in meta["outputs"].items()]
    if -1 not in widths and sum(widths) != meta["outputUnits"]:
        raise FormatError(
            f"{where}: the outputs describe {sum(widths)} numbers but 'outputUnits' is {meta['outputUnits']}."
        )


def normalize(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(x − lo) / (hi − lo), and 0 where ``lo == hi`` (never NaN)."""
    values = np.asarray(values, dtype=np.float32)
    if lo == hi:
        return np.zeros_like(values)
    return ((values - np.float32(lo)) / np.float32(hi - lo)).astype(np.float32)


def unnormalize(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if lo == hi:
        return np.full_like(values, lo)
    return values * (hi - lo) + lo


def _numeric_matrix(rows: Sequence[Sequence[Any]]) -> np.ndarray | None:
    """``rows`` as a float64 matrix if every value is a plain number, else None."""
    if isinstance(rows, np.ndarray) and rows.dtype.kind in "fiub":  # already numbers: no per-value look
        return rows.astype(np.float64, copy=False) if rows.ndim == 2 else None
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 2 or any(isinstance(v, str) for v in rows[0]):
        return None
    return arr


def _encode(entries: dict[str, Any], rows: Sequence[Sequence[Any]], normalized: bool, side: str) -> np.ndarray:
    if all(e["dtype"] == "number" for e in entries.values()):
        numeric = _numeric_matrix(rows)
        if numeric is not None and numeric.shape[1] == len(entries):
            if not normalized:
                return numeric.astype(np.float32)
            lo = np.array([e["min"] for e in entries.values()], dtype=np.float64)
            hi = np.array([e["max"] for e in entries.values()], dtype=np.float64)
            span = np.where(hi > lo, hi - lo, 1.0)
            return np.where(hi > lo, (numeric - lo) / span, 0.0).astype(np.float32)
    columns = []
    block: np.ndarray
    for j, (name, entry) in enumerate(entries.items()):
        dtype = entry["dtype"]
        if dtype == "string":
            legend = entry["legend"]
            width = len(next(iter(legend.values())))
            block = np.zeros((len(rows), width), dtype=np.float32)
            for i, row in enumerate(rows):
                value = row[j]
                key = value if isinstance(value, str) else str(value)
                if key not in legend:
                    known = ", ".join(repr(k) for k in legend)
                    raise DataError(
                        f"{side[:-1]} {name!r} is {value!r}, which the model has not seen. It knows: {known}."
                    )
                block[i] = legend[key]
        elif dtype == "number":
            try:
                block = np.asarray([row[j] for row in rows], dtype=np.float32).reshape(len(rows), 1)
            except (TypeError, ValueError):
                bad = next(row[j] for row in rows if not isinstance(row[j], numbers.Number))
                raise DataError(
                    f"{side[:-1]} {name!r} should be a number but got {bad!r}. Pass numbers (e.g. float(value))."
                ) from None
            if normalized:
                block = normalize(block, entry["min"], entry["max"])
        else:
            block = np.stack([np.asarray(row[j], dtype=np.float32).ravel() for row in rows])
            if normalized:
                block = normalize(block, entry["min"], entry["max"])
        columns.append(block)
    return np.concatenate(columns, axis=1).astype(np.float32)


def encode_inputs(meta: dict[str, Any], rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Rows of raw input values (in ``meta["inputs"]`` order) → the float32 matrix the network sees."""
    out = _encode(meta["inputs"], rows, bool(meta.get("isNormalized")), "inputs")
    shape = meta.get("inputUnits") or [out.shape[1]]
    return out.reshape(len(rows), *[int(v) for v in shape])


def encode_outputs(meta: dict[str, Any], rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Rows of raw output values → one-hot / (normalised) numbers, float32."""
    return _encode(meta["outputs"], rows, bool(meta.get("isNormalized")), "outputs")


def decode_outputs(meta: dict[str, Any], values: np.ndarray) -> list[dict[str, float]]:
    """Network outputs (n × outputUnits) of a regression → ``[{name: value}]`` in the data's units."""
    out = []
    for row in np.asarray(values, dtype=np.float64):
        item = {}
        for j, (name, entry) in enumerate(meta["outputs"].items()):
            v = row[j]
            if meta.get("isNormalized"):
                v = float(unnormalize(v, entry["min"], entry["max"]))
            item[name] = float(v)
        out.append(item)
    return out


# ------------------------------------------------------------------ data files


def data_to_json(
    input_names: Sequence[str], output_names: Sequence[str], xs: Sequence[Sequence[Any]], ys: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """ml5's ``saveData()`` format: ``{"data": [{"xs": {...}, "ys": {...}}]}``."""

    def plain(v):
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, np.generic):
            return v.item()
        return v

    return {
        "data": [
            {"xs": {n: plain(v) for n, v in zip(input_names, x)}, "ys": {n: plain(v) for n, v in zip(output_names, y)}}
            for x, y in zip(xs, ys)
        ]
    }


def _find_entries(obj: Any) -> list | None:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        for key in ("data", "entries"):
            if isinstance(obj.get(key), list):
                return obj[key]
        for value in obj.values():
            found = _find_entries(value) if isinstance(value, dict) else None
            if found is not None:
                return found
    return None


def data_from_json(
    obj: Any, input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None
) -> list[tuple[dict, dict]]:
    """Read ml5 data JSON: ``{"data": [{"xs", "ys"}]}`` rows, or flat rows split by the given names."""
    rows = _find_entries(obj)
    if not rows:
        raise FormatError(
            "The data file has no list called 'data' or 'entries' (the format ml5.js's saveData() writes)."
        )
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise FormatError(f"Row {i} of the data file is not an object.")
        if "xs" in row and "ys" in row:
            xs, ys = row["xs"], row["ys"]
            if not isinstance(xs, dict) or not isinstance(ys, dict) or not xs or not ys:
                raise FormatError(
                    f"Row {i} of the data file: 'xs' and 'ys' must be objects naming each input "
                    'and output, like {"xs": {"x": 1}, "ys": {"label": "a"}}.'
                )
            out.append((dict(xs), dict(ys)))
            continue
        if not input_names or not output_names:
            raise FormatError(
                "The data file has flat rows; say which columns are inputs and outputs "
                "(neural_network(inputs=[...], outputs=[...]))."
            )
        missing = [k for k in (*input_names, *output_names) if k not in row]
        if missing:
            raise DataError(f"Row {i} of the data file has no {', '.join(map(repr, missing))}.")
        out.append(({k: row[k] for k in input_names}, {k: row[k] for k in output_names}))
    return out


def _cell(text: str) -> Any:
    try:
        v = float(text)
    except ValueError:
        return text
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def data_to_csv(
    input_names: Sequence[str], output_names: Sequence[str], xs: Sequence[Sequence[Any]], ys: Sequence[Sequence[Any]]
) -> str:
    """One example per row, header = input names then output names (numbers and text only)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*input_names, *output_names])
    for x, y in zip(xs, ys):
        if any(dtype_of(v) == "array" for v in (*x, *y)):
            raise DataError("Images cannot be saved as CSV; use save_data('data.json').")
        writer.writerow([*x, *y])
    return buf.getvalue()


def data_from_csv(
    text: str, input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None
) -> list[tuple[dict, dict]]:
    """CSV rows → ``[(xs, ys)]``; numbers are parsed, other cells stay text. Without names the
    last column is the output and the others are inputs."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        raise FormatError(f"The CSV file's header line cannot be read ({e}).") from None
    if not header:
        raise FormatError("The CSV file is empty; its first line should name the columns.")
    if not input_names or not output_names:
        output_names = output_names or [header[-1]]
        input_names = input_names or [h for h in header if h not in output_names]
    missing = [k for k in (*input_names, *output_names) if k not in header]
    if missing:
        raise DataError(
            f"The CSV file has no column {', '.join(map(repr, missing))}; its columns are {', '.join(header)}."
        )
    out = []
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as e:
            raise FormatError(f"Line {reader.line_num} of the CSV file cannot be read ({e}).") from None
        if None in row or any(v is None for v in row.values()):  # more or fewer cells than the header
            cells = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
            raise DataError(
                f"Line {reader.line_num} of the CSV file has {cells} "
                f"cells where the header names {len(header)} columns"
                + (" (a ';'-separated file? ml5.js reads commas)." if ";" in ",".join(header) else ".")
            )
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        out.append(({k: _cell(row[k]) for k in input_names}, {k: _cell(row[k]) for k in output_names}))
    return out


def dumps_meta(meta: dict[str, Any]) -> str:
    """JSON text of a meta dict, with non-finite numbers refused (JSON cannot hold them)."""

    def check(v):
        if isinstance(v, float) and not math.isfinite(v):
            raise DataError("The data contain NaN or infinity; remove those examples before saving.")
        if isinstance(v, dict):
            for x in v.values():
                check(x)
        if isinstance(v, list):
            for x in v:
                check(x)

    check(meta)
    return json.dumps(meta)
