"""One save/load convention for everything playml trains.

A saved model is a directory. Files are written into a temporary sibling directory and
renamed into place only when all of them are complete, so an interrupted save never
leaves a half-written model, and an existing model is replaced in one step. Nothing is
ever unpickled: weights are raw float32 (TensorFlow.js layers format) or safetensors,
and metadata is JSON.

Every playml model directory has a ``model_meta.json`` whose ``"playml"`` entry names
the kind of model, so :func:`load` knows what to rebuild::

    {"playml": {"kind": "neural_network", "version": 1}, ...}

>>> import playml as ml
>>> model = ml.load("my-model/")        # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playml.errors import FormatError, MissingFileError

__all__ = ["save_directory", "atomic_write", "read_json", "load", "detect", "register_kind", "META_FILE", "KINDS_BY_FILES"]

META_FILE = "model_meta.json"

# Kinds added at run time by register_kind(); the tasks' own kinds come from playml.registry.
_EXTRA_KINDS: dict[str, str] = {}


def register_kind(kind: str, target: str) -> None:
    """Teach :func:`load` a new kind of saved model (``target`` is ``"module:Class"``; the class
    offers a classmethod ``_from_directory(path, meta)`` and may set ``FORMAT_VERSION``)."""
    _EXTRA_KINDS[kind] = target


def _kinds() -> dict[str, str]:
    from playml.registry import saved_kinds

    return {**saved_kinds(), **_EXTRA_KINDS}


def umask_mode(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open()``/``mkdir()`` would (0666/0777 less the umask):
    temporary files and folders are made private (0600/0700) and keep that mode when renamed."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if directory else 0o666) & ~mask)


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write one file so that it is either fully there or not changed at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        umask_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_directory(path: str | os.PathLike, files: Mapping[str, Any]) -> Path:
    """Write ``files`` (name → bytes, text, JSON-able object, or a function that writes the
    file at the path it is given) as the directory ``path``.

    The directory appears complete or not at all; an existing directory at ``path`` is
    replaced only after the new one is fully written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FormatError(f"{path} is a file; give a directory name to save a model into.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".saving", dir=path.parent))
    try:
        umask_mode(tmp, directory=True)
        for name, content in files.items():
            if isinstance(content, (dict, list)):
                content = json.dumps(content, indent=2)
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):  # a writer for big files: content(path) writes it (streamed)
                content(target)
                continue
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """Read a JSON file with errors that name the file and say what is wrong."""
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"The {what} {path.name!r} is missing from {path.parent}.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path} is not valid JSON ({e}). Was it saved completely?") from None


#: What :func:`detect` can find in a folder, and what each kind needs.
KINDS_BY_FILES = {
    "playml": "a model saved by playml (model_meta.json with a \"playml\" entry, plus its model files)",
    "ml5": "an ml5.js neuralNetwork save (model.json, model.weights.bin, model_meta.json)",
    "teachable-machine": "a Teachable Machine export (model.json, weights.bin, metadata.json)",
    "tfjs-layers": "a TensorFlow.js layers model (model.json with a modelTopology, and its weight files)",
    "tfjs-graph": "a TensorFlow.js graph model (model.json with \"format\": \"graph-model\", and its weight files)",
}


def _is_teachable_machine(meta: Any) -> bool:
    return isinstance(meta, dict) and ("tmVersion" in meta or str(meta.get("packageName", "")).startswith(
        "@teachablemachine/") or ("labels" in meta and "tfjsVersion" in meta))


def detect(path: str | os.PathLike) -> str | None:
    """Which kind of model folder ``path`` is, judged by its files: one of :data:`KINDS_BY_FILES`, or None."""
    path = Path(path)
    if (path / META_FILE).is_file():
        meta = read_json(path / META_FILE, "model description")
        return "playml" if isinstance(meta, dict) and isinstance(meta.get("playml"), dict) else "ml5"
    if (path / "metadata.json").is_file() and _is_teachable_machine(read_json(path / "metadata.json", "metadata")):
        return "teachable-machine"
    if (path / "model.json").is_file():
        model_json = read_json(path / "model.json", "model file")
        if isinstance(model_json, dict):
            topo = model_json.get("modelTopology")
            if model_json.get("format") == "graph-model" or (isinstance(topo, dict) and "node" in topo):
                return "tfjs-graph"
            if topo is not None:
                return "tfjs-layers"
    return None


def _load_tfjs_graph(path: Path):
    import importlib

    try:
        module = importlib.import_module("playml.formats.tfjs_graph")
    except ImportError:
        raise FormatError(f"{path} holds {KINDS_BY_FILES['tfjs-graph']}; this playml reads TF.js *layers* models "
                          "only (graph models come from the TF.js converter). Convert it as a layers model "
                          "(tensorflowjs_converter --output_format tfjs_layers_model) or upgrade playml.") from None
    return module.load_graph_model(path)


def _load_teachable_machine(path: Path):
    import importlib

    meta = read_json(path / "metadata.json", "metadata")
    if not (path / "model.json").is_file():
        raise MissingFileError(f"{path} looks like {KINDS_BY_FILES['teachable-machine']} — it has metadata.json — "
                               "but model.json is missing. Copy all three files of the export.")
    package = str(meta.get("packageName", "@teachablemachine/image"))
    if package not in ("@teachablemachine/image", ""):
        raise FormatError(f"{path} is a Teachable Machine {package.split('/')[-1]} model ({package}); playml reads "
                          "Teachable Machine image models.")
    cls = importlib.import_module("playml.images.teachable_machine").TeachableMachineImage
    return cls._from_tm_directory(path, meta)


def load(path: str | os.PathLike):
    """Load a model from its directory: one playml saved, an ml5.js save, a Teachable Machine
    image export, or any TensorFlow.js layers model (recognised by their files, see :func:`detect`).

    >>> import playml as ml
    >>> clf = ml.load("my-model/")      # doctest: +SKIP
    """
    import importlib

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"There is no model at {path}. Check the path; a model is a directory.")
    if path.is_file():
        if path.name in (META_FILE, "model.json", "metadata.json"):
            path = path.parent
        else:
            raise FormatError(f"{path} is a file; pass the model's directory instead.")
    kind = detect(path)
    if kind is None:
        present = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))[:8]
        raise FormatError(
            f"{path} is not a model folder playml knows: it has {', '.join(present) or 'no files'}. playml loads "
            + "; ".join(KINDS_BY_FILES.values()) + ".")
    if kind == "teachable-machine":
        return _load_teachable_machine(path)
    if kind == "tfjs-graph":
        return _load_tfjs_graph(path)
    if kind == "tfjs-layers":
        from_directory = importlib.import_module("playml.formats.tfjs").LayersModel.from_directory
        return from_directory(path)
    meta = read_json(path / META_FILE, "model description")
    info = meta.get("playml") if isinstance(meta, dict) else None
    kind = info.get("kind") if isinstance(info, dict) else "neural_network"  # plain ml5.js save
    kinds = _kinds()
    if kind not in kinds:
        raise FormatError(f"{path} holds a model of kind {kind!r}, which this playml cannot load. "
                          "Upgrade playml, or check the directory.")
    module, name = kinds[kind].split(":")
    cls = getattr(importlib.import_module(module), name)
    version = info.get("version", 1) if isinstance(info, dict) else 1
    supported = getattr(cls, "FORMAT_VERSION", 1)
    if not isinstance(version, int) or version > supported:
        raise FormatError(f"{path} was saved by a newer playml (format {version}; this playml reads up to "
                          f"{supported}). Upgrade playml to load it.")
    return cls._from_directory(path, meta)
