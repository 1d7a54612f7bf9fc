"""One save/load block for everything playml saves (networks, image heads, sound
classifiers, anomaly detectors, image search indexes).

A saved model is a folder. Every playml model folder has a ``model_meta.json`` whose
``"playml"`` entry names the kind of model, so :func:`load` knows what to rebuild::

    {"playml": {"kind": "neural_network", "version": 1}, ...}

Nothing is ever unpickled: weights are raw float32 (TensorFlow.js layers format), ``.npy``
arrays read without pickle, or USearch graphs; metadata is JSON.

Guarantees
----------
**Nothing lost.** :func:`save_directory` replaces only a folder that does not exist, is
empty, or is a playml model *of the same kind* holding nothing but the files such a model
writes. Anything else (a folder of photos, a project with ``notes.txt``, the current
folder or one of its parents, ``save(".")``, ``playml train photos/ --out photos/``, the
studio's Save over a name whose folder holds other files) is refused with a
:class:`~playml.errors.FileAccessError` naming the folder; no user file is deleted.

**Nothing half-written.** The new version is written into a temporary sibling
``.NAME.saving-XXXX``; every file and then the folder are fsynced; only then is it swapped
with ``NAME``, and the parent folder is fsynced. The swap is one ``renameat2(RENAME_EXCHANGE)``
where the kernel and file system offer it (Linux ext4, xfs, btrfs, tmpfs): ``NAME`` is at
every instant either the whole old or the whole new version, and a crash at any point
leaves it whole. Elsewhere two renames are used (``NAME`` → ``.NAME.old-XXXX``, then the
new folder → ``NAME``); a crash between them leaves no ``NAME``, and the next save or load
of ``NAME`` moves the old version back (recovery).

Why this design and not the others: a versioned layout with a pointer file would change
the folder's layout, and ml5.js / TensorFlow.js read ``model.json`` and its weights
straight from the folder; a lock alone cannot make a killed writer's half-written files
whole. A directory swap keeps the folder exactly the files ml5.js expects and needs no
reader cooperation for atomicity. Concurrent *writers* are serialised by an exclusive
``flock`` on the parent folder (released by the kernel if the writer dies, leaving no lock
file behind), so two threads or processes saving one name both succeed, one after the other.

**Nothing half-read.** :func:`open_folder` opens the model folder once and reads every file
relative to that open directory (``openat``). A save swaps directories and never changes
a file inside one, so a reader sees the files of the single version it opened. If that
version is deleted by a save while it is being read (a file it had not opened yet is
gone), the read is retried on the new version; after a few tries it raises
:class:`~playml.errors.ModelBusyError` ("being saved, try again"). It never mixes versions.

**Leftovers.** ``.NAME.saving-*`` and ``.NAME.old-*`` folders left by an interrupted save are
recovered (see above) or deleted at the next save or load of ``NAME`` (a load cleans only
when no save holds the lock). They are never loaded: :func:`load` refuses folder names of
that form, and the studio does not list hidden folders.

**Nothing read from outside.** Every file a model names (the manifest's weight paths, an
index's ``vectors.file`` and ``graph``) must be a plain relative name inside the model folder:
absolute paths and ``..`` are refused, every component is opened with ``O_NOFOLLOW``
(no symbolic links, so nothing outside and nothing in ``/proc``), and only regular files
are read (a FIFO, device or socket is refused without blocking: files are opened
``O_NONBLOCK``). Error messages name the model's own files only.

**Limits before allocation.** Every read has a size cap checked with ``fstat`` before any
byte is read; declared sizes and shapes are checked against limits (see ``LIMITS``) before
memory is allocated.

>>> import playml as ml
>>> model = ml.load("my-model/")        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from playml.errors import (
    MALFORMED_FILE_ERRORS,
    FileAccessError,
    FormatError,
    MissingFileError,
    ModelBusyError,
    PlaymlError,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, no O_NONBLOCK toggling
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "save_directory",
    "atomic_write",
    "read_json",
    "read_file",
    "load",
    "detect",
    "KINDS_BY_FILES",
    "register_kind",
    "META_FILE",
    "open_folder",
    "ModelFolder",
    "LIMITS",
    "is_leftover",
    "os_error",
    "check_size",
    "tidy_folder",
    "read_consistently",
]

META_FILE = "model_meta.json"

#: Caps on what a model file may make playml read or allocate (bytes unless said otherwise).
LIMITS = {
    "json_bytes": 64 << 20,  # model.json, model_meta.json
    "items_bytes": 1 << 30,  # an index's items.json (a million images ≈ 150 MB)
    "weights_bytes": 2 << 30,  # all weight files of one TF.js model
    "vectors_bytes": 16 << 30,  # an index's vectors.npy (memory-mapped from 20,000 on)
    "graph_bytes": 32 << 30,  # an index's USearch graph
    "units": 1 << 16,  # neurons in one layer of a network read from a file
    "parameters": 256 << 20,  # numbers in all layers of a network read from a file
    "data_bytes": 2 << 30,  # a CSV / JSON data file
}

# Kinds added at run time by register_kind(); the tasks' own kinds come from playml.registry.
_EXTRA_KINDS: dict[str, str] = {}
# files a plain ml5.js neural network folder holds (no "playml" entry in its meta)
_ML5_FILES = {"model.json", "model.weights.bin", "model_meta.json"}
# every file name a playml model of any kind writes (a folder holding others is not replaced)
_MODEL_FILES = _ML5_FILES | {
    "items.json",
    "vectors.npy",
    "graph.usearch",
    "project.json",
    "examples",
    "thumbnails",
    "features",
    "model",
}  # projects
# .NAME.saving-XXXX / .NAME.old-XXXX (and .NAME.XXXXXXXX.saving, .NAME.old-PID of playml before 0.2)
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:(?P<what>saving|old)-[0-9A-Za-z_]+|[0-9A-Za-z_]{8}\.saving)$")
_RETRIES = 8
#: Counters for tests and curious users: reads retried because a save replaced the folder mid-read.
STATS = {"retried_reads": 0}


def register_kind(kind: str, target: str) -> None:
    """Teach :func:`load` a new kind of saved model (``target`` is ``"module:Class"``; the class
    offers a classmethod ``_from_directory(folder, meta)`` and may set ``FORMAT_VERSION``)."""
    _EXTRA_KINDS[kind] = target


def _kinds() -> dict[str, str]:
    from playml.registry import saved_kinds

    return {**saved_kinds(), **_EXTRA_KINDS}


def is_leftover(name: str) -> bool:
    """True for the hidden folders an interrupted save leaves (``.NAME.saving-*``, ``.NAME.old-*``)."""
    return bool(_LEFTOVER.match(name))


def os_error(e: OSError, path: Any, doing: str = "read") -> PlaymlError:
    """A friendly PlaymlError for an OSError met while reading or writing ``path``."""
    if isinstance(e, PlaymlError):
        return e
    code = e.errno
    if code in (errno.ENOENT,):
        return MissingFileError(f"{path} does not exist.")
    if code in (errno.EACCES, errno.EPERM):
        return FileAccessError(
            code,
            f"playml may not {doing} {path}: permission denied. Check the folder's "
            "permissions, or choose another folder.",
        )
    if code == errno.EROFS:
        return FileAccessError(code, f"Cannot {doing} {path}: the disk is read-only. Choose another folder.")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return FileAccessError(code, f"Cannot {doing} {path}: the disk is full. Free some space and try again.")
    if code == errno.EISDIR:
        return FileAccessError(code, f"{path} is a folder; give a file.")
    if code == errno.ENOTDIR:
        return FileAccessError(code, f"A part of {path} is a file, not a folder.")
    if code == errno.ELOOP:
        return FormatError(f"{path} is a symbolic link; playml reads only plain files inside the folder.")
    if code == errno.ENAMETOOLONG:
        return FileAccessError(code, f"The name {str(path)[:80]!r}… is too long.")
    return FileAccessError(code, f"Cannot {doing} {path}: {e.strerror or e}.")


def check_size(value: Any, what: str, *, limit: int, minimum: int = 0) -> int:
    """An int between ``minimum`` and ``limit`` read from a file, or a FormatError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value in (float("inf"), float("-inf"))
        or int(value) != value
    ):
        raise FormatError(f"{what} must be a whole number, not {str(value)[:40]!r}.")
    value = int(value)
    if not minimum <= value <= limit:
        raise FormatError(f"{what} is {value}; playml accepts {minimum} to {limit:,} here.")
    return value


# ----------------------------------------------------------------------------- reading
def _open_regular(
    path: str, max_bytes: int, *, dir_fd: int | None = None, follow: bool = True, what: str = "file", shown: Any = None
) -> tuple[int, int]:
    """Open a regular file without blocking (a FIFO would block) and check its size."""
    shown = shown if shown is not None else path
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    )
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise MissingFileError(f"The {what} {shown} is missing.") from None
    except OSError as e:
        if e.errno == errno.ELOOP and not follow:
            raise FormatError(
                f"The {what} {shown} is a symbolic link; a model's files must be plain files inside its folder."
            ) from None
        raise os_error(e, shown) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "folder" if stat.S_ISDIR(st.st_mode) else "pipe, device or socket"
            raise (
                FileAccessError(errno.EISDIR, f"{shown} is a folder; give a file.")
                if kind == "folder" and follow
                else FormatError(f"The {what} {shown} is a {kind}, not a plain file; playml reads only plain files.")
            )
        if st.st_size > max_bytes:
            raise FormatError(
                f"The {what} {shown} is {st.st_size:,} bytes, more than playml reads for it ({max_bytes:,})."
            )
        if fcntl is not None:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return fd, st.st_size
    except BaseException:
        os.close(fd)
        raise


def _read_fd(fd: int, size: int, shown: Any) -> bytes:
    try:
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                raise FormatError(f"{shown} ended early (it shrank while being read). Try again.")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise os_error(e, shown) from None
    finally:
        os.close(fd)


def read_file(path: str | os.PathLike, *, max_bytes: int | None = None, what: str = "file") -> bytes:
    """Read a user's file (symbolic links followed): regular files only, at most ``max_bytes``."""
    fd, size = _open_regular(
        os.fspath(path), LIMITS["data_bytes"] if max_bytes is None else max_bytes, what=what, shown=path
    )
    return _read_fd(fd, size, path)


def _parse_json(data: bytes, shown: Any) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FormatError(f"{shown} is not a text (UTF-8) JSON file. Was it saved completely?") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{shown} is not valid JSON ({e}). Was it saved completely?") from None
    except RecursionError:
        raise FormatError(f"{shown} nests too deeply to be a playml file.") from None


def read_json(path: str | os.PathLike, what: str = "file", *, max_bytes: int | None = None) -> Any:
    """Read a JSON file with errors that name the file and say what is wrong (size capped,
    regular files only)."""
    path = Path(path)
    try:
        data = read_file(path, max_bytes=LIMITS["json_bytes"] if max_bytes is None else max_bytes, what=what)
    except MissingFileError:
        raise MissingFileError(f"The {what} {path.name!r} is missing from {path.parent}.") from None
    return _parse_json(data, path)


def _parts(name: Any, shown: Any) -> list[str]:
    """The components of a file name a model file gives, checked to stay inside the folder."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        raise FormatError(f"{shown} names a file as {str(name)[:80]!r}, which is not a plain file name.")
    if name.startswith("/") or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", name):
        raise FormatError(
            f"{shown} names the file {name[:80]!r} outside the model's folder; a model's files "
            "must be inside its folder."
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise FormatError(
            f"{shown} names the file {name[:80]!r} outside the model's folder; a model's files "
            "must be inside its folder."
        )
    return parts


class ModelFolder:
    """A model folder opened once: every file is read relative to that open folder, so one
    load sees one saved version, and only plain files inside it (no symbolic links, no
    ``..``, no pipes). ``str(folder)``, ``folder / name`` and ``os.fspath`` give its path for
    messages."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        real = os.path.realpath(self.path)
        if real == "/proc" or real.startswith(("/proc/", "/sys/", "/dev/")):
            raise FormatError(f"{self.path} is not a model folder.")
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise MissingFileError(f"There is no model at {self.path}. Check the path; a model is a folder.") from None
        except NotADirectoryError:
            raise FormatError(f"{self.path} is a file; pass the model's folder instead.") from None
        except OSError as e:
            raise os_error(e, self.path) from None
        self._kept: list[int] = []

    # -- path-like, for messages
    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"ModelFolder({str(self.path)!r})"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def name(self) -> str:
        return self.path.name

    # -- lifetime
    def close(self) -> None:
        for fd in [*self._kept, self.fd]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._kept = []
        self.fd = -1

    def __enter__(self) -> ModelFolder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "fd", -1) >= 0:
            self.close()

    def replaced(self) -> bool:
        """True if the folder this object opened is no longer the one at its path (a save swapped it)."""
        try:
            here, there = os.fstat(self.fd), os.stat(self.path)
        except OSError:
            return True
        return (here.st_dev, here.st_ino) != (there.st_dev, there.st_ino) or here.st_nlink == 0

    # -- files
    def _open(self, name: str, max_bytes: int, what: str) -> tuple[int, int]:
        parts = _parts(name, self.path / META_FILE if what != "file" else self.path)
        dfd, opened = self.fd, []
        try:
            for comp in parts[:-1]:
                try:
                    dfd = os.open(
                        comp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dfd
                    )
                except FileNotFoundError:
                    raise MissingFileError(f"The {what} {name!r} is missing from {self.path}.") from None
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise FormatError(
                            f"The {what} {name!r} in {self.path} goes through a symbolic link or a "
                            "file; a model's files must be plain files inside its folder."
                        ) from None
                    raise os_error(e, self.path / name) from None
                opened.append(dfd)
            try:
                return _open_regular(
                    parts[-1], max_bytes, dir_fd=dfd, follow=False, what=what, shown=f"{name!r} in {self.path}"
                )
            except MissingFileError:
                raise MissingFileError(f"The {what} {name!r} is missing from {self.path}.") from None
        finally:
            for fd in opened:
                os.close(fd)

    def exists(self, name: str) -> bool:
        """Whether ``name`` exists in the folder (a name pointing outside it is a FormatError)."""
        parts = _parts(name, self.path)
        try:
            os.stat("/".join(parts), dir_fd=self.fd, follow_symlinks=False)
            return True
        except OSError:
            return False

    def size(self, name: str, *, max_bytes: int = 1 << 62) -> int:
        fd, size = self._open(name, max_bytes, "file")
        os.close(fd)
        return size

    def read_bytes(self, name: str, *, max_bytes: int, what: str = "file") -> bytes:
        fd, size = self._open(name, max_bytes, what)
        return _read_fd(fd, size, self.path / name)

    def read_json(self, name: str, what: str = "file", *, max_bytes: int | None = None) -> Any:
        data = self.read_bytes(name, max_bytes=LIMITS["json_bytes"] if max_bytes is None else max_bytes, what=what)
        return _parse_json(data, self.path / name)

    def path_of(self, name: str, *, max_bytes: int, what: str = "file") -> str:
        """A path (``/proc/self/fd/N``) to the checked, opened file, valid until :meth:`close`, for
        libraries that only take a path."""
        fd, _ = self._open(name, max_bytes, what)
        self._kept.append(fd)
        return f"/proc/self/fd/{fd}"

    def load_npy(self, name: str, *, max_bytes: int, mmap: bool = False, what: str = "array file"):
        """Read a ``.npy`` array without pickle, its header checked against the file's size first."""
        import numpy as np

        fd, size = self._open(name, max_bytes, what)
        shown = self.path / name
        with os.fdopen(fd, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)  # type: ignore[call-arg]
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)  # type: ignore[call-arg]
            except Exception as e:  # noqa: BLE001 - NumPy's header parser raises ValueError, SyntaxError, TokenError…
                raise FormatError(f"{shown} is not a plain .npy array file ({str(e)[:120]}).") from None
            if dtype.hasobject or dtype.kind not in "fiub" or fortran:
                raise FormatError(f"{shown} holds {dtype} values; playml reads plain number arrays only.")
            count = 1
            for n in shape:
                count *= int(n)
            offset = f.tell()
            if offset + count * dtype.itemsize != size:
                raise FormatError(
                    f"{shown} declares a {tuple(shape)} array but its size does not match; it is truncated or corrupt."
                )
            if count == 0:
                return np.zeros(tuple(shape), dtype=dtype)
            if mmap:
                return np.memmap(f, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))
            data = f.read(count * dtype.itemsize)
            if len(data) != count * dtype.itemsize:
                raise FormatError(f"{shown} ended early; it is truncated.")
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def open_folder(path: str | os.PathLike | ModelFolder) -> ModelFolder:
    """Open a model folder for reading (a :class:`ModelFolder` is returned as is)."""
    if isinstance(path, ModelFolder):
        return path
    return ModelFolder(path)


def _checked(read: Callable[[ModelFolder], Any], folder: ModelFolder) -> Any:
    """``read(folder)`` with every exception a malformed file can cause turned into a PlaymlError."""
    try:
        return read(folder)
    except PlaymlError:
        raise
    except OSError as e:
        raise os_error(e, folder) from None
    except MALFORMED_FILE_ERRORS as e:
        raise FormatError(
            f"{folder} does not hold a valid saved model ({type(e).__name__}: {str(e)[:200]}). "
            "Was a file edited or damaged?"
        ) from None


def read_consistently(path: str | os.PathLike, read: Callable[[ModelFolder], Any]) -> Any:
    """Run ``read(folder)`` on one saved version of the folder at ``path``; retry if a save
    replaced it mid-read, and raise :class:`ModelBusyError` if that keeps happening."""
    if isinstance(path, ModelFolder):
        return _checked(read, path)
    path = Path(path)
    last: Exception | None = None
    for attempt in range(_RETRIES):
        _tidy(path, wait=False)
        try:
            folder = ModelFolder(path)
        except MissingFileError as e:
            if _save_in_progress(path):
                last = e
                time.sleep(0.02 * (attempt + 1))
                continue
            raise
        with folder:
            try:
                return _checked(read, folder)
            except PlaymlError as e:
                if not folder.replaced():
                    raise
                last = e
                STATS["retried_reads"] += 1
        time.sleep(0.01 * attempt)
    raise ModelBusyError(
        f"{path} is being saved by another program or thread right now; try again in a moment. ({last})"
    )


# ----------------------------------------------------------------------------- writing
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def _writer_lock(parent: Path, wait: bool = True) -> Iterator[bool]:
    """Exclusive flock on the parent folder: serialises saves (threads and processes)."""
    if fcntl is None:  # pragma: no cover
        yield True
        return
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _save_in_progress(path: Path) -> bool:
    parent = path.parent
    with _writer_lock(parent, wait=False) as got:
        return not got and _leftovers(path) != []


def _leftovers(path: Path) -> list[Path]:
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    out = []
    for n in names:
        m = _LEFTOVER.match(n)
        if m and m.group("name") == path.name:
            out.append(path.parent / n)
    return out


def _recover_and_clean(path: Path) -> None:
    """Under the writer lock: put back an old version a crash left aside, delete the rest."""
    left = _leftovers(path)
    if not left:
        return
    if not os.path.lexists(path):
        olds = [
            p
            for p in left
            if (m := _LEFTOVER.match(p.name)) is not None
            and m.group("what") == "old"
            and p.is_dir()
            and not p.is_symlink()
        ]
        if olds:
            newest = max(olds, key=lambda p: p.stat().st_mtime_ns)
            with contextlib.suppress(OSError):
                os.rename(newest, path)
                _fsync_dir(path.parent)
                left.remove(newest)
    for p in left:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)


def _tidy(path: Path, wait: bool) -> None:
    """Recover/clean leftovers of interrupted saves of ``path`` (if no save is running)."""
    if not _leftovers(path):
        return
    with _writer_lock(path.parent, wait=wait) as got:
        if got:
            _recover_and_clean(path)


def tidy_folder(parent: str | os.PathLike) -> None:
    """Recover or clean what interrupted saves left in ``parent`` (for listings of saved models:
    a crash between the two renames of the fallback swap must not hide a model)."""
    parent = Path(parent)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in {m.group("name") for n in names if (m := _LEFTOVER.match(n))}:
        _tidy(parent / name, wait=False)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if not offered."""
    global _renameat2
    if _renameat2 is None:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _renameat2 = fn
        except (AttributeError, OSError):
            _renameat2 = False
    if _renameat2 is False or os.environ.get("PLAYML_NO_RENAME_EXCHANGE"):
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _kind_of(files: Mapping[str, Any]) -> str | None:
    meta = files.get(META_FILE)
    if isinstance(meta, (str, bytes)):
        try:
            meta = json.loads(meta)
        except ValueError:
            return None
    info = meta.get("playml") if isinstance(meta, dict) else None
    return info.get("kind") if isinstance(info, dict) else None


def _check_replaceable(path: Path, kind: str | None, new_files: set[str]) -> None:
    """Refuse to replace anything but an empty folder or a playml model of the same kind."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise FileAccessError(
            errno.EEXIST, f"{path} exists and is not a model folder; playml will not replace it. Choose another name."
        )
    try:
        entries = set(os.listdir(path))
    except OSError as e:
        raise os_error(e, path, "replace") from None
    if not entries:
        return
    meta = None
    if META_FILE in entries:
        try:
            with ModelFolder(path) as folder:
                meta = folder.read_json(META_FILE, "model description")
        except PlaymlError:
            meta = None
    info = meta.get("playml") if isinstance(meta, dict) else None
    old_kind = info.get("kind") if isinstance(info, dict) else ("neural_network" if isinstance(meta, dict) else None)
    if old_kind is None or old_kind != kind:
        what = f"a saved {old_kind}" if isinstance(old_kind, str) else "other files"
        example = path.parent / f"{path.name}-model"
        raise FileAccessError(
            errno.EEXIST,
            f"{path} already exists and holds {what}, not a saved playml "
            f"{kind or 'model'}, so playml will not replace it (nothing was "
            f"deleted). Save into a new or empty folder, e.g. {str(example)!r}.",
        )
    allowed = {name.split("/")[0] for name in new_files} | _MODEL_FILES
    others = sorted(entries - allowed)
    if others:
        raise FileAccessError(
            errno.EEXIST,
            f"{path} holds a saved {kind} but also other files "
            f"({', '.join(others[:5])}{'…' if len(others) > 5 else ''}), so playml "
            "will not replace it (nothing was deleted). Move those files, or save "
            "into another folder.",
        )


def umask_mode(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open()``/``mkdir()`` would (0666/0777 less the umask), for
    files made private by ``tempfile`` (0600/0700) that keep that mode when renamed into place."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if directory else 0o666) & ~mask)


def save_directory(path: str | os.PathLike, files: Mapping[str, Any]) -> Path:
    """Write ``files`` (name → bytes, text, JSON-able object, or a function that writes the
    file at the path it is given) as the folder ``path``, with the guarantees in this module's
    docstring: only an empty folder or a playml model of the same kind is replaced; the new
    version appears whole or not at all; saves of one name are serialised.
    """
    given = Path(path)
    path = Path(os.path.abspath(os.fspath(path)))
    if not path.name or path.parent == path:
        raise FileAccessError(errno.EEXIST, f"Cannot save a model as {path}: give a folder name, e.g. 'my-model'.")
    cwd = Path(os.getcwd())
    if path == cwd or path in cwd.parents:
        raise FileAccessError(
            errno.EEXIST,
            f"{path} is the current folder (or contains it), so playml will not "
            "replace it. Save into a new folder, e.g. 'my-model'.",
        )
    files = dict(files)
    kind = _kind_of(files)
    for name in files:
        _parts(name, "save_directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise os_error(e, path.parent, "create") from None
    with _writer_lock(path.parent) as _:
        _recover_and_clean(path)
        _check_replaceable(path, kind, set(files))
        tmp = path.with_name(f".{path.name}.saving-{secrets.token_hex(6)}")
        try:
            try:
                os.mkdir(tmp)
                for name, content in files.items():
                    if isinstance(content, (dict, list)):
                        content = json.dumps(content, indent=2)
                    target = tmp / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if callable(content):  # a writer for big files: content(path) writes it (streamed)
                        content(target)
                        continue
                    with open(target, "xb") as f:
                        f.write(content.encode() if isinstance(content, str) else content)
                _fsync_tree(tmp)
                if os.path.lexists(path):
                    if _exchange(tmp, path):
                        old = tmp
                    else:
                        old = path.with_name(f".{path.name}.old-{secrets.token_hex(6)}")
                        os.rename(path, old)
                        os.rename(tmp, path)
                    _fsync_dir(path.parent)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.rename(tmp, path)
                _fsync_dir(path.parent)
            except OSError as e:
                raise os_error(e, path, "save to") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return given


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write one file so that it is either fully there or not changed at all (fsynced)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "xb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as e:
            raise os_error(e, path, "write") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


# ----------------------------------------------------------------------------- load
#: What :func:`detect` can find in a folder, and what each kind needs.
KINDS_BY_FILES = {
    "playml": 'a model saved by playml (model_meta.json with a "playml" entry, plus its model files)',
    "ml5": "an ml5.js neuralNetwork save (model.json, model.weights.bin, model_meta.json)",
    "teachable-machine": "a Teachable Machine export (model.json, weights.bin, metadata.json)",
    "tfjs-layers": "a TensorFlow.js layers model (model.json with a modelTopology, and its weight files)",
    "tfjs-graph": 'a TensorFlow.js graph model (model.json with "format": "graph-model", and its weight files)',
}


def _is_teachable_machine(meta: Any) -> bool:
    return isinstance(meta, dict) and (
        "tmVersion" in meta
        or str(meta.get("packageName", "")).startswith("@teachablemachine/")
        or ("labels" in meta and "tfjsVersion" in meta)
    )


def detect(path: str | os.PathLike | ModelFolder) -> str | None:
    """Which kind of model folder ``path`` is, judged by its files: one of :data:`KINDS_BY_FILES`, or None."""
    if not isinstance(path, ModelFolder):
        with ModelFolder(path) as folder:
            return detect(folder)
    folder = path
    if folder.exists(META_FILE):
        meta = folder.read_json(META_FILE, "model description")
        return "playml" if isinstance(meta, dict) and isinstance(meta.get("playml"), dict) else "ml5"
    if folder.exists("metadata.json") and _is_teachable_machine(folder.read_json("metadata.json", "metadata")):
        return "teachable-machine"
    if folder.exists("model.json"):
        model_json = folder.read_json("model.json", "model file")
        if isinstance(model_json, dict):
            topo = model_json.get("modelTopology")
            if model_json.get("format") == "graph-model" or (isinstance(topo, dict) and "node" in topo):
                return "tfjs-graph"
            if topo is not None:
                return "tfjs-layers"
    return None


def _load_other_tool(found: str, path: Path) -> Any:
    """A folder written by another tool (Teachable Machine, TF.js): its loader comes from the task map."""
    import importlib

    from playml.registry import folder_loaders

    module, _, name = folder_loaders()[found].partition(":")
    try:
        loader = getattr(importlib.import_module(module), name)
    except ImportError:
        raise FormatError(f"{path} holds {KINDS_BY_FILES[found]}, which this playml cannot read.") from None
    return loader(path)


def _load_from(folder: ModelFolder) -> Any:
    import importlib

    found = detect(folder)
    if found != "playml" and found != "ml5" and folder.replaced():
        # the version this load opened was removed by a save while it was looked at: try the new one
        raise MissingFileError(f"{folder} was replaced while it was being read.")
    if found is None:
        try:
            present = sorted(n for n in os.listdir(folder.fd) if not n.startswith("."))[:8]
        except OSError:
            present = []
        raise FormatError(
            f"{folder} is not a model folder playml knows: it has {', '.join(present) or 'no files'}. playml loads "
            + "; ".join(KINDS_BY_FILES.values())
            + "."
        )
    if found not in ("playml", "ml5"):
        return _load_other_tool(found, folder.path)
    meta = folder.read_json(META_FILE, "model description")
    if not isinstance(meta, dict):
        raise FormatError(f"{folder / META_FILE} does not describe a model (it holds a {type(meta).__name__}).")
    info = meta.get("playml")
    if info is not None and not isinstance(info, dict):
        raise FormatError(f"The 'playml' entry of {folder / META_FILE} is not an object.")
    kind = info.get("kind") if isinstance(info, dict) else "neural_network"  # plain ml5.js save
    kinds = _kinds()
    if not isinstance(kind, str) or kind not in kinds:
        raise FormatError(
            f"{folder} holds a model of kind {str(kind)[:60]!r}, which this playml cannot load. "
            f"It loads: {', '.join(sorted(kinds))}."
        )
    module, name = kinds[kind].split(":")
    cls = getattr(importlib.import_module(module), name)
    version = info.get("version", 1) if isinstance(info, dict) else 1
    supported = getattr(cls, "FORMAT_VERSION", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FormatError(
            f"{folder / META_FILE} gives the format version as {str(version)[:40]!r}; it must be a "
            f"whole number from 1 to {supported}. Was the file edited?"
        )
    if version > supported:
        raise FormatError(
            f"{folder} was saved by a newer playml (format {version}; this playml reads up to "
            f"{supported}). Upgrade playml to load it."
        )
    return cls._from_directory(folder, meta)


def load(path: str | os.PathLike):
    """Load a model from its folder: one playml saved, an ml5.js save, a Teachable Machine
    image export, or any TensorFlow.js layers model (recognised by their files, see :func:`detect`).

    >>> import playml as ml
    >>> clf = ml.load("my-model/")      # doctest: +SKIP
    """
    if not isinstance(path, (str, os.PathLike)):
        raise FormatError(f"ml.load takes a folder path, not {type(path).__name__}.")
    if re.match(r"^\s*(https?|ftp|data):", str(path), re.IGNORECASE):
        from playml.errors import OfflineError

        raise OfflineError(
            f"playml works offline and never downloads, so it cannot load {str(path)[:60]!r}. "
            "Download the model folder yourself, then pass its local path."
        )
    path = Path(path)
    if is_leftover(path.name):
        raise FormatError(
            f"{path} is what an interrupted save left behind, not a model; it is removed at the "
            "next save or load of the model."
        )
    if path.is_file() or (os.path.lexists(path) and not path.is_dir() and not path.is_symlink()):
        if path.name in (META_FILE, "model.json", "metadata.json"):
            path = path.parent
        else:
            raise FormatError(f"{path} is a file; pass the model's folder instead.")
    if not os.path.lexists(path) and not _leftovers(path):
        raise MissingFileError(f"There is no model at {path}. Check the path; a model is a folder.")
    return read_consistently(path, _load_from)
