"""Cache parsed data sets as ``.npz`` files so that every load after the first is quick.

The cache lives in ``$PLAYML_CACHE/datasets`` (or ``~/.cache/playml/datasets``). Files are
written atomically and read with ``allow_pickle=False``: a cache file can never run code.
Text is stored as UTF-8 bytes plus offsets. Delete the folder at any time; it is rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.cache import cache_dir as _cache_dir
from playml.datasets.dataset import Dataset

__all__ = ["cache_dir", "cache_key", "read", "write", "CACHE_VERSION"]

#: Bump when a loader changes what it returns, so old cache files are ignored.
CACHE_VERSION = 1

_FIELDS = ("kind", "name", "label_names", "feature_names", "target_name", "notes", "normal_label")


def cache_dir() -> Path:
    """The folder that holds cached data sets."""
    return _cache_dir("datasets")


def cache_key(name: str, params: dict[str, Any]) -> str:
    text = json.dumps({"name": name, "params": params, "v": CACHE_VERSION}, sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _pack(arrays: dict[str, np.ndarray], key: str, value: np.ndarray) -> None:
    if value.dtype == object:
        if not all(isinstance(v, str) for v in value.tolist()):
            raise TypeError("only text can be cached from object arrays")
        encoded = [v.encode("utf-8") for v in value.tolist()]
        arrays[f"{key}.utf8"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        arrays[f"{key}.offsets"] = np.cumsum([0] + [len(b) for b in encoded]).astype(np.int64)
    else:
        arrays[key] = value


def _unpack(data: Any, key: str) -> np.ndarray | None:
    if f"{key}.utf8" in data.files:
        raw = data[f"{key}.utf8"].tobytes()
        off = data[f"{key}.offsets"]
        out = np.empty(len(off) - 1, dtype=object)
        out[:] = [raw[a:b].decode("utf-8") for a, b in zip(off[:-1].tolist(), off[1:].tolist())]
        return out
    return data[key] if key in data.files else None


def write(key: str, ds: Dataset) -> Path | None:
    """Store ``ds`` under ``key``; returns the file, or ``None`` if the cache is not writable."""
    from playml.core.saving import atomic_write

    arrays: dict[str, np.ndarray] = {}
    try:
        _pack(arrays, "X", ds.X)
        if ds.y is not None:
            arrays["y"] = ds.y
        for k, v in ds.meta.items():
            _pack(arrays, f"meta.{k}", v)
    except TypeError:
        return None  # e.g. images of different sizes held in memory: not cached
    header = {f: getattr(ds, f) for f in _FIELDS}
    header["meta"] = list(ds.meta)
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    try:
        return atomic_write(cache_dir() / f"{key}.npz", buf.getvalue())
    except OSError:
        return None


def read(key: str) -> Dataset | None:
    """The cached data set for ``key``, or ``None`` when there is none (or it is damaged)."""
    path = cache_dir() / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes().decode("utf-8"))
            X = _unpack(data, "X")
            y = data["y"] if "y" in data.files else None
            meta = {k: _unpack(data, f"meta.{k}") for k in header["meta"]}
    except (OSError, ValueError, KeyError, json.JSONDecodeError, EOFError):
        return None  # damaged or from an incompatible version: rebuild
    ds = Dataset(
        X,
        None,
        labels=None,
        feature_names=header["feature_names"],
        kind=header["kind"],
        name=header["name"],
        target_name=header["target_name"],
        notes=header["notes"],
        normal_label=header["normal_label"],
        meta=meta,
    )
    # y is already encoded: set it directly (the constructor would re-encode numbers)
    ds._y = y
    ds.label_names = header["label_names"]
    return ds
