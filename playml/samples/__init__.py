"""Bundled sample photos: ``playml.samples.path("coffee")`` gives the file path.

>>> from playml import samples
>>> samples.path("coffee").name
'coffee.jpg'
"""

from __future__ import annotations

from pathlib import Path

from playml.errors import unknown_name

HERE = Path(__file__).parent


def names() -> list[str]:
    """The bundled sample photo names."""
    return sorted(p.stem for p in HERE.glob("*.jpg"))


def path(name: str) -> Path:
    """The file path of a bundled sample photo."""
    p = HERE / f"{name}.jpg"
    if not p.exists():
        raise unknown_name("sample photo", name, names())
    return p
