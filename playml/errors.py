"""The errors playml raises.

Every error a user can cause is a :class:`PlaymlError`. Its message says what went
wrong and what to do next, in plain words. Catch ``PlaymlError`` to catch them all.

>>> import playml as ml
>>> try:
...     ml.image_classifier("efficientnet-lite9")
... except ml.PlaymlError as e:
...     print(type(e).__name__)
UnknownModelError
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
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


class PlaymlError(Exception):
    """Base class of every error playml raises on purpose."""


class InputError(PlaymlError, ValueError):
    """Something passed in cannot be used (wrong type, shape, value)."""


class MissingFileError(InputError, FileNotFoundError):
    """A file or folder the user named does not exist. (Also a built-in FileNotFoundError.)"""


class ImageError(InputError):
    """An image could not be read: not an image, truncated, corrupt or too large."""


class AudioError(InputError):
    """Audio could not be read or used: unsupported file, empty, wrong sample rate."""


class ShapeError(InputError):
    """An array has the wrong shape or type."""


class OfflineError(InputError):
    """playml works offline: it was asked to fetch something from the internet."""


class UnknownModelError(PlaymlError, KeyError):
    """A model, layer or data set name that playml does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(PlaymlError, ValueError):
    """Training data is missing, inconsistent or not enough to do what was asked."""


class NotTrainedError(PlaymlError, RuntimeError):
    """A model was asked to predict before it was trained or loaded."""


class TaskError(PlaymlError, ValueError):
    """An operation that does not fit the model's task (e.g. classify on a regression model)."""


class FormatError(PlaymlError, ValueError):
    """A saved model, index or data file is missing parts or is not in the expected format."""


class DependencyError(PlaymlError, ImportError):
    """A package playml needs for this feature is not installed."""


class FileAccessError(PlaymlError, OSError):
    """A file or folder cannot be written or read: permission denied, disk full, read-only,
    or a folder that is not playml's to replace. (Also a built-in OSError.)"""

    def __str__(self) -> str:  # OSError would prefix "[Errno N]"
        return self.strerror if self.strerror else super().__str__()


class ModelBusyError(PlaymlError):
    """The model folder is being saved by another program or thread right now: try again."""


#: What reading a malformed file can raise inside Python or NumPy: a loader turns these into a
#: FormatError that names the file (never a traceback from deep inside the parser).
MALFORMED_FILE_ERRORS: tuple[type[BaseException], ...] = (
    LookupError,  # KeyError, IndexError
    TypeError,
    ValueError,  # UnicodeError too
    AttributeError,
    ArithmeticError,  # ZeroDivisionError, OverflowError
    RecursionError,
    RuntimeError,
    MemoryError,
)


def not_trained(what: str, doing: str, how: str) -> NotTrainedError:
    """The one wording of "not trained yet": what it is, what it cannot do, and how to fix it.

    >>> print(not_trained("sound classifier", "classify sounds", "Add examples and call train()."))
    This sound classifier is not trained yet, so it cannot classify sounds. Add examples and call train().
    """
    return NotTrainedError(f"This {what} is not trained yet, so it cannot {doing}. {how}")


def unknown_name(kind: str, name: str, known: Iterable[str]) -> UnknownModelError:
    """Build an :class:`UnknownModelError` that suggests the closest known names."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownModelError(
        f"There is no {kind} called {name!r}.{hint} Known {_plural_kind(kind)}: {', '.join(known)}."
    )


def _plural_kind(kind: str) -> str:
    """``"data set"`` → ``"data sets"``, ``"layer of efficientnet-lite0"`` → ``"layers of efficientnet-lite0"``
    (the noun takes the plural, never the model name), ``"class"`` → ``"classes"``."""
    noun, of, rest = kind.partition(" of ")
    noun += "es" if noun.endswith(("s", "x", "ch", "sh")) else "s"
    return noun + of + rest
