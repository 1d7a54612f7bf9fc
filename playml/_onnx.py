"""ONNX Runtime sessions for networks defined in PyTorch, exported once and cached on disk.

Used by pitch detection (CREPE) and the sentence encoder (MiniLM). The first use exports
the network into playml's cache folder (see :func:`playml.zoo.onnx_cache.cache_dir`);
later runs load the ``.onnx`` file directly and never import PyTorch. The file name
carries a key made of the source files' sizes and modification times, this code and the
caller's own code, so a new weights package or a code change makes a new export. A cache
file that cannot be read is exported again; a cache folder that cannot be written keeps
the export in memory.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["cached_session", "cache_path", "threads"]

_SESSIONS: dict[Path, Any] = {}
_LOCK = threading.Lock()


def threads() -> int:
    """Intra-op threads for ONNX Runtime: the CPUs this process may use (at most 4)."""
    import os

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, available))


def cache_path(name: str, sources: Iterable[Path], code: Iterable[Path] = (), version: int = 1) -> Path:
    """Where the export called ``name`` of ``sources`` (weights files) made by ``code`` is cached."""
    from .zoo.onnx_cache import cache_dir

    digest = hashlib.sha256(f"{name}:{version}".encode())
    for path in sources:
        stat = Path(path).stat()
        digest.update(f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for path in (Path(__file__), *code):
        digest.update(Path(path).read_bytes())
    return cache_dir() / "onnx" / f"{name}-{digest.hexdigest()[:16]}.onnx"


def cached_session(path: Path, export: Callable[[], bytes]):
    """An ``onnxruntime.InferenceSession`` of the file ``path``, made with ``export()`` if missing."""
    with _LOCK:
        if path in _SESSIONS:
            return _SESSIONS[path]
        import onnxruntime as ort

        from .saving import atomic_write
        from .zoo.onnx_cache import session_options

        options = session_options(threads())
        providers = ["CPUExecutionProvider"]
        session = None
        if path.exists():
            try:
                session = ort.InferenceSession(str(path), options, providers=providers)
            except Exception:  # a damaged cache file: export it again
                path.unlink(missing_ok=True)
        if session is None:
            data = export()
            try:
                atomic_write(path, data)
            except OSError:  # read-only cache folder: keep the export in memory only
                pass
            session = ort.InferenceSession(data, options, providers=providers)
        _SESSIONS[path] = session
        return session
