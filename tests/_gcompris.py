"""Real photos from the Debian package gcompris-qt-data (GCompris 3.1): animals, tools, food and
everyday things, 119 to 1080 pixels high, under the free licences its copyright file lists (CC BY-SA, CC BY,
GPL, public domain).

GCompris keeps each activity's files in a Qt resource file (``.rcc``); this reads the photos
listed in ``tests/data/gcompris-photos.tsv`` straight out of them (Qt's format: a tree of
entries, names in UTF-16, data zlib-compressed or stored). CI installs the package
(``.ci/run``); elsewhere the tests that need it are skipped unless ``PLAYML_REQUIRE_PHOTOS=1``.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

RCC_DIR = Path("/usr/share/gcompris-qt/rcc")
LIST = Path(__file__).parent / "data" / "gcompris-photos.tsv"


def available() -> bool:
    return RCC_DIR.is_dir()


def require() -> None:
    """Skip (or, with ``PLAYML_REQUIRE_PHOTOS=1``, fail) when the package is not installed."""
    import pytest

    if available():
        return
    if os.environ.get("PLAYML_REQUIRE_PHOTOS") == "1":
        pytest.fail(f"{RCC_DIR} is missing: apt-get install gcompris-qt-data")
    pytest.skip("the GCompris photos need the Debian package gcompris-qt-data")


def read_rcc(path: Path) -> dict[str, bytes]:
    """Every file in a Qt resource file (format version 1 to 3): path → bytes."""
    data = path.read_bytes()
    if data[:4] != b"qres":
        raise ValueError(f"{path} is not a Qt resource file")
    version, tree, blobs, names = struct.unpack(">IIII", data[4:20])
    entry = 14 if version < 2 else 22

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        start = names + offset + 6  # after the length and the name's hash
        return data[start : start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}
    stack = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        at = tree + index * entry
        name_offset, flags = struct.unpack(">IH", data[at : at + 6])
        path_here = f"{prefix}/{name(name_offset)}" if index else ""
        if flags & 2:  # a directory: its children are consecutive entries
            count, first = struct.unpack(">II", data[at + 6 : at + 14])
            stack.extend((first + i, path_here) for i in range(count))
            continue
        (offset,) = struct.unpack(">I", data[at + 10 : at + 14])
        (length,) = struct.unpack(">I", data[blobs + offset : blobs + offset + 4])
        blob = data[blobs + offset + 4 : blobs + offset + 4 + length]
        if flags & 1:  # zlib, after the uncompressed length
            blob = zlib.decompress(blob[4:])
        elif flags & 4:
            raise ValueError(f"{path_here} in {path} is zstd-compressed, which this reader does not read")
        files[path_here.lstrip("/")] = blob
    return files


def gcompris_photos() -> tuple[list[np.ndarray], list[str]]:
    """``(RGB photos, their paths)``, in the list's order."""
    from PIL import Image

    wanted = [line.split("\t") for line in LIST.read_text().splitlines() if line and not line.startswith("#")]
    archives: dict[str, dict[str, bytes]] = {}
    photos, paths = [], []
    for rcc, inside in wanted:
        if rcc not in archives:
            archives[rcc] = read_rcc(RCC_DIR / f"{rcc}.rcc")
        with Image.open(io.BytesIO(archives[rcc][inside])) as img:
            rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # a transparent background → white
        white.alpha_composite(rgba)
        photos.append(np.asarray(white.convert("RGB")))
        paths.append(inside)
    return photos, paths
