"""TF.js graph models run by TensorFlow.js itself (Node): the reference for playml's translation.

>>> from bench.peers.graph import run_tfjs_graph
>>> outs = run_tfjs_graph("model.json", {"input": array}, ["Identity:0"])   # doctest: +SKIP
"""
from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.peers import run_node

__all__ = ["run_tfjs_graph"]

_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.int32): "int32", np.dtype(np.uint8): "uint8"}


def run_tfjs_graph(model: str | Path, inputs: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None, *,
                   backend: str = "wasm", repeat: int = 0, threads: int | None = None) -> dict[str, Any]:
    """Run the graph model in TF.js 4.22 (Node); returns ``{"outputs": {name: array}, "loadMs", "msPerRun"}``."""
    with tempfile.TemporaryDirectory(prefix="playml-graph-") as tmp:
        feeds = {}
        for k, (name, value) in enumerate(inputs.items()):
            value = np.ascontiguousarray(value)
            file = Path(tmp) / f"in{k}.bin"
            file.write_bytes(value.tobytes())
            feeds[name] = {"file": str(file), "dtype": _DTYPES[value.dtype], "shape": list(value.shape)}
        result = run_node("node/run_graph.mjs", {"model": str(Path(model).resolve()), "inputs": feeds,
                                                 "outputs": list(outputs) if outputs else None, "outDir": tmp,
                                                 "backend": backend, "repeat": repeat, "threads": threads})
        arrays = {}
        for out in result["outputs"]:
            dtype = np.float32 if out["dtype"] == "float32" else np.int32
            arrays[out["name"]] = np.fromfile(out["file"], dtype).reshape(out["shape"])
    return {"outputs": arrays, "loadMs": result["loadMs"], "msPerRun": result["msPerRun"], "backend": result["backend"]}
