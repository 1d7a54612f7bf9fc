"""What an image search index is built from: the images of a folder (labels from its
sub-folder names), a list, an array or a Dataset, as entries that remember each file's size
and modification time, and the shard (``"i/n"``) each image falls in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.media import check_not_url, is_image_like, list_images
from playml.errors import DataError, InputError, MissingFileError


def _file_state(path: Path) -> tuple[int, int]:
    st = path.stat()
    return int(st.st_size), int(st.st_mtime_ns)


def _parse_shard(shard) -> tuple[int, int] | None:
    if shard is None:
        return None
    try:
        if isinstance(shard, str):
            i, n = (int(x) for x in shard.split("/"))
        else:
            i, n = (int(x) for x in shard)
    except (TypeError, ValueError):
        raise InputError(f"shard must look like '2/8' (part 2 of 8, counting from 0); got {shard!r}.") from None
    if n < 1 or not 0 <= i < n:
        raise InputError(f"shard {i}/{n} does not exist: use 0/{n} … {n - 1}/{n}.")
    return i, n


def _in_shard(rel: str, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    digest = hashlib.sha1(rel.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shard[1] == shard[0]


@dataclasses.dataclass
class _Entry:
    key: str  # absolute path (files) or a generated name (in-memory images)
    label: str | None
    size: int = -1
    mtime: int = -1
    source: Any = None  # what to hand to the extractor

    @property
    def is_file(self) -> bool:
        return self.size >= 0


def _entries(source: Any, shard: tuple[int, int] | None, start: int = 0) -> tuple[list[_Entry], Path | None]:
    """Turn a folder / list / Dataset into entries (with labels from sub-folder names)."""
    from playml.datasets.dataset import is_dataset

    if isinstance(source, (str, os.PathLike)) and not is_image_like(source):
        check_not_url(str(source))
        root = Path(source).expanduser().resolve()
        files = list_images(root)
        if not files:
            raise DataError(
                f"There are no images in {str(source)!r}. Put JPEG or PNG files in it (one sub-folder "
                "per label if you want labels)."
            )
        out = []
        for f in files:
            rel = f.relative_to(root)
            if not _in_shard(rel.as_posix(), shard):
                continue
            size, mtime = _file_state(f)
            out.append(_Entry(str(f), rel.parts[0] if len(rel.parts) > 1 else None, size, mtime, f))
        return out, root
    labels: list[str | None]
    if is_dataset(source):
        X, _ = source.arrays()
        items = list(X)
        labels = list(source.named_labels()) if source.label_names is not None else [None] * len(items)
    elif isinstance(source, np.ndarray) and source.ndim == 4:
        items, labels = list(source), [None] * len(source)
    elif isinstance(source, Iterable) and not is_image_like(source):
        items = list(source)
        labels = [None] * len(items)
    else:
        items, labels = [source], [None]
    out, parents = [], []
    for i, (item, label) in enumerate(zip(items, labels)):
        if isinstance(item, (str, os.PathLike)):
            check_not_url(str(item))
            path = Path(item).expanduser()
            if not path.exists():
                raise MissingFileError(f"There is no file {str(item)!r}.")
            path = path.resolve()
            if not _in_shard(str(path), shard):
                continue
            size, mtime = _file_state(path)
            out.append(_Entry(str(path), label, size, mtime, path))
            parents.append(str(path.parent))
        elif _in_shard(f"image-{start + i:06d}", shard):
            out.append(_Entry(f"image-{start + i:06d}", label, source=item))
    return out, (Path(os.path.commonpath(parents)) if parents else None)
