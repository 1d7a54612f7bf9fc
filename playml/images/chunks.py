"""Embeddings on disk: the finished chunks of an image search build, kept in playml's cache
so that a build resumes where it stopped, and the block-by-block writer of a saved index's
``vectors.npy``.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np

from playml.images.crawl import _Entry


class _ChunkCache:
    """Finished chunks of embeddings, one small ``.npz`` file each (written atomically).

    This is what makes building resumable: a rebuild reuses every vector whose file still
    has the same path, size and modification time.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._known: dict[str, tuple[Path, int, int, int]] | None = None

    def _scan(self) -> dict[str, tuple[Path, int, int, int]]:
        if self._known is None:
            known: dict[str, tuple[Path, int, int, int]] = {}
            for f in sorted(self.folder.glob("chunk-*.npz")):  # later chunks win
                try:
                    with np.load(f, allow_pickle=False) as z:
                        paths, sizes, mtimes = z["paths"], z["sizes"], z["mtimes"]
                except Exception:  # noqa: BLE001 (a damaged chunk is simply redone)
                    continue
                for row, (p, s, m) in enumerate(zip(paths.tolist(), sizes.tolist(), mtimes.tolist())):
                    known[p] = (f, row, s, m)
            self._known = known
        return self._known

    def lookup(self, entries: list[_Entry]) -> dict[int, np.ndarray]:
        """Vectors for the entries whose file is unchanged since it was embedded."""
        known = self._scan()
        wanted: dict[Path, list[tuple[int, int]]] = {}
        for i, e in enumerate(entries):
            hit = known.get(e.key) if e.is_file else None
            if hit is not None and hit[2] == e.size and hit[3] == e.mtime:
                wanted.setdefault(hit[0], []).append((i, hit[1]))
        found: dict[int, np.ndarray] = {}
        for f, pairs in wanted.items():
            with np.load(f, allow_pickle=False) as z:
                vectors = z["vectors"]
            for i, row in pairs:
                found[i] = vectors[row]
        return found

    def write(self, entries: list[_Entry], vectors: np.ndarray) -> None:
        from playml.core.saving import atomic_write

        files = [e for e in entries if e.is_file]
        if not files:
            return
        rows = [i for i, e in enumerate(entries) if e.is_file]
        buf = io.BytesIO()
        np.savez(
            buf,
            vectors=np.ascontiguousarray(vectors[rows], dtype=np.float32),
            paths=np.array([e.key for e in files], dtype=str),
            sizes=np.array([e.size for e in files], dtype=np.int64),
            mtimes=np.array([e.mtime for e in files], dtype=np.int64),
        )
        name = f"chunk-{time.time_ns():020d}-{os.getpid()}.npz"
        atomic_write(self.folder / name, buf.getvalue())


def _write_npy(target: Path, array: np.ndarray, block: int = 65_536) -> None:
    """Write a float32 .npy file block by block (a memory-mapped source never loads whole)."""
    out = np.lib.format.open_memmap(target, mode="w+", dtype=np.float32, shape=tuple(array.shape))
    for s in range(0, len(array), block):
        out[s : s + block] = array[s : s + block]
    out.flush()
    del out
