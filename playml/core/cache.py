"""Where playml keeps what it makes once and reuses: ONNX exports, data sets, search features.

One rule for every cache: ``$PLAYML_CACHE`` if set, else ``$XDG_CACHE_HOME/playml``, else
``~/.cache/playml``. Each kind of cache is a sub-folder (``onnx``, ``datasets``, ``search``).

>>> import os
>>> os.environ["PLAYML_CACHE"] = "/tmp/playml-doctest-cache"
>>> cache_dir("onnx").as_posix()
'/tmp/playml-doctest-cache/onnx'
>>> del os.environ["PLAYML_CACHE"]
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(kind: str | None = None) -> Path:
    """playml's cache folder, or its sub-folder ``kind`` (not created here)."""
    if os.environ.get("PLAYML_CACHE"):
        root = Path(os.environ["PLAYML_CACHE"]).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base).expanduser() / "playml"
    return root / kind if kind else root
