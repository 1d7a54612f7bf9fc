"""playml — friendly, local-first machine learning for Python.

Pretrained models in one line, teach a model from a few examples, see inside. Everything
runs on your own machine: no account, no cloud, no download at run time.

>>> import playml as ml
>>> clf = ml.image_classifier()                       # doctest: +SKIP
>>> clf.classify("coffee.jpg")[0]                     # doctest: +SKIP
Prediction(label='espresso', confidence=0.95)

Names are imported lazily, so ``import playml`` is quick and inference-only work never
imports PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

try:  # a Python without playml's requirements (e.g. the system one, run from a clone's folder)
    import numpy as _numpy  # noqa: F401
except ImportError as _missing:  # pragma: no cover - depends on the Python that runs it
    import sys as _sys

    raise ImportError(
        f"playml needs {_missing.name or 'its requirements'}, which this Python ({_sys.executable}) does not have. "
        "In a clone of playml run `make setup`, then use its environment: `source .venv/bin/activate` "
        "(then `python`, `playml`), or `.venv/bin/python your_script.py`. Elsewhere: pip install playml."
    ) from None

from playml._version import __version__
from playml.errors import (
    AudioError,
    DataError,
    DependencyError,
    FileAccessError,
    FormatError,
    ImageError,
    InputError,
    MissingFileError,
    ModelBusyError,
    NotTrainedError,
    OfflineError,
    PlaymlError,
    ShapeError,
    TaskError,
    UnknownModelError,
)
from playml.registry import public_names

# public name -> "module:attribute", imported on first use. Tasks, their classes and their
# result types come from the one task map (playml/registry.py); so do the extra names.
_LAZY: dict[str, str] = public_names()

_ERRORS = [
    "PlaymlError",
    "InputError",
    "MissingFileError",
    "ImageError",
    "AudioError",
    "ShapeError",
    "OfflineError",
    "UnknownModelError",
    "DataError",
    "NotTrainedError",
    "TaskError",
    "FormatError",
    "DependencyError",
    "FileAccessError",
    "ModelBusyError",
]

__all__ = sorted([*_LAZY, *_ERRORS, "__version__"])


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'playml' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
