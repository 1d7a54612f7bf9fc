"""The one ONNX engine: every ONNX Runtime session and every PyTorch → ONNX export in playml.

PyTorch is where networks are defined and trained; inference runs in ONNX Runtime, which
is several times faster on a CPU and starts without importing PyTorch. A network used for
inference is exported once into the cache (:func:`playml.core.cache.cache_dir` ``/onnx``)
and later runs open the ``.onnx`` file directly.

* :func:`cache_path` — the one key recipe: a name, the content of the weights files, the
  code that builds the network, and a version the caller bumps when its export changes.
* :func:`cached_session` — the session of a cached export, exporting it first if needed.
  Sessions are kept per file and thread count, so two tasks on one model share one
  session. A cache file ONNX Runtime cannot read is exported again (with a warning); a
  cache folder that cannot be written keeps the export in memory.
* :func:`session` — a session of any ``.onnx`` file or bytes, with playml's settings.
* :func:`export_torch` — ``torch.onnx.export`` with playml's settings, returning bytes.
* :func:`threads` — the one thread default: the CPUs this process may use, at most 4.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from playml.core.cache import cache_dir
from playml.core.saving import atomic_write

__all__ = [
    "OPSET",
    "threads",
    "session_options",
    "session",
    "cache_path",
    "cached_session",
    "forget_sessions",
    "export_torch",
    "fold_padding_into_convolutions",
]

#: The ONNX opset every export uses.
OPSET = 17
_PROVIDERS = ["CPUExecutionProvider"]
#: Graph rewrites playml turns off. ``WeightBiasQuantization`` quantises the float weights of a
#: node that sits between a DequantizeLinear and a QuantizeLinear (per tensor): it would silently
#: turn the layers an int8 model keeps in float32 (playml.zoo.quantize) into int8 ones, with one
#: scale for all channels (measured: logits' error to float32 ×20 when the first depthwise
#: convolution is kept float32). It never fires on float32 models.
DISABLED_OPTIMIZERS = ["WeightBiasQuantization"]
_SESSIONS: dict[tuple[str, int, bool], Any] = {}
_LOCK = threading.Lock()


def threads() -> int:
    """Intra-op threads for ONNX Runtime: the CPUs this process may use (at most 4)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, available))


def session_options(n_threads: int | None = None, *, spinning: bool = False):
    """``onnxruntime.SessionOptions`` with playml's settings.

    By default idle worker threads sleep instead of spinning: on 2 cores the spinning steals the
    CPU that decoding the next images needs (measured: ~30 % more images/s end to end on a busy
    machine). ``spinning=True`` is for calls with nothing running beside them (one image, a few):
    the workers spin between the operations of a run, so each operation does not wait for them
    to wake, and stop when the run returns. Measured here at batch 1: EfficientNet-Lite0 int8
    3.7 → 2.9 ms, float32 5.6 → 5.4 ms."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads or threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if spinning:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


def session(model: str | os.PathLike | bytes, n_threads: int | None = None, *, spinning: bool = False):
    """An ``onnxruntime.InferenceSession`` of a file or of model bytes, on the CPU (see
    :func:`session_options` for ``spinning``)."""
    import onnxruntime as ort

    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(
        source,
        session_options(n_threads, spinning=spinning),
        providers=_PROVIDERS,
        disabled_optimizers=DISABLED_OPTIMIZERS,
    )


@functools.cache
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cache_path(
    name: str,
    sources: Iterable[str | os.PathLike],
    code: Iterable[str | os.PathLike] = (),
    version: int = 1,
    extra: Any = None,
) -> Path:
    """Where the export called ``name`` of the weights files ``sources``, built by the files
    ``code`` (export ``version``, and any ``extra`` settings), is cached.

    The key hashes the content of every source (each file read once per process), the bytes
    of every code file and of this engine, the opset, ``version`` and ``repr(extra)``.
    """
    h = hashlib.sha256(repr((name, version, OPSET, extra)).encode())
    for path in sources:
        stat = os.stat(path)
        h.update(_file_digest(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns).encode())
    for path in (Path(__file__), *code):
        h.update(Path(path).read_bytes())
    return cache_dir("onnx") / f"{name}-{h.hexdigest()[:16]}.onnx"


def cached_session(path: Path, export: Callable[[], bytes], n_threads: int | None = None, *, spinning: bool = False):
    """The session of the cached file ``path``, made with ``export()`` (model bytes) if missing
    (one kept per file, thread count and ``spinning``, see :func:`session_options`)."""
    n = n_threads or threads()
    key = (str(path), n, spinning)
    with _LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
        made = None
        if path.exists():
            try:
                made = session(path, n, spinning=spinning)
            except Exception as e:  # a damaged cache file: export it again
                warnings.warn(
                    f"playml: the cached model {path.name} could not be read ({type(e).__name__}); exporting it again.",
                    stacklevel=3,
                )
                path.unlink(missing_ok=True)
        if made is None:
            data = export()
            try:
                atomic_write(path, data)
            except OSError:  # read-only cache folder: keep the export in memory only
                pass
            made = session(data, n, spinning=spinning)
        _SESSIONS[key] = made
        return made


def forget_sessions() -> None:
    """Drop the kept sessions (the next :func:`cached_session` call opens its file again)."""
    with _LOCK:
        _SESSIONS.clear()


def export_torch(
    module,
    example_inputs: Sequence[Any],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]] | None = None,
) -> bytes:
    """Export a ``torch.nn.Module`` to ONNX (opset :data:`OPSET`, TorchScript exporter) as bytes."""
    import torch

    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape arithmetic
        torch.onnx.export(
            module.eval(),
            tuple(example_inputs),
            buffer,  # type: ignore[arg-type]  # takes a buffer
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dict(dynamic_axes or {}),
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def keep_outputs(model_bytes: bytes, outputs: Sequence[str]) -> bytes:
    """The model with only ``outputs`` and the nodes and weights they need: ONNX Runtime runs
    every node of a graph whatever outputs a call asks for (measured: EfficientNet-Lite0's
    classifier, unused by its features, is 0.15–0.25 of 2.5 ms per image in int8)."""
    import onnx
    from onnx.utils import Extractor

    model = onnx.load_from_string(model_bytes)
    inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    return Extractor(model).extract_model(inputs, list(outputs)).SerializeToString()


def fold_padding_into_convolutions(model_bytes: bytes) -> bytes:
    """Fold each zero ``Pad`` that feeds a ``Conv`` into that convolution's ``pads``.

    TensorFlow-style SAME padding is asymmetric, which ``nn.Conv2d`` cannot express, so
    the PyTorch networks pad explicitly. ONNX convolutions take asymmetric pads, and a
    standalone Pad makes ONNX Runtime convert the blocked (NCHWc) layout back and forth
    around it: folding them made EfficientNet-Lite0 ~30 % faster at batch 1 (6.6–7.2 →
    4.9 ms here) with bit-identical outputs. ONNX Runtime's basic optimisations first
    turn the tracer's shape arithmetic for the pads into constants.
    """
    import tempfile

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = os.path.join(tmp, "basic.onnx")
        options.log_severity_level = 3
        ort.InferenceSession(model_bytes, options, providers=_PROVIDERS)
        model = onnx.load(options.optimized_model_filepath)
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    folded = []
    for pad in graph.node:
        if pad.op_type != "Pad" or pad.input[1] not in constants:
            continue
        if any(a.name == "mode" and a.s != b"constant" for a in pad.attribute):
            continue
        if len(pad.input) > 2 and pad.input[2] and (pad.input[2] not in constants or constants[pad.input[2]].any()):
            continue
        after = readers.get(pad.output[0], [])
        amounts = constants[pad.input[1]].tolist()  # n, c, h, w begins, then n, c, h, w ends
        if len(after) != 1 or after[0].op_type != "Conv" or len(amounts) != 8 or any(amounts[i] for i in (0, 1, 4, 5)):
            continue
        conv = after[0]
        old = next((list(a.ints) for a in conv.attribute if a.name == "pads"), [0, 0, 0, 0])
        for a in [a for a in conv.attribute if a.name in ("pads", "auto_pad")]:
            conv.attribute.remove(a)
        conv.attribute.append(
            onnx.helper.make_attribute(
                "pads", [old[0] + amounts[2], old[1] + amounts[3], old[2] + amounts[6], old[3] + amounts[7]]
            )
        )
        conv.input[0] = pad.input[0]
        folded.append(pad)
    for pad in folded:
        graph.node.remove(pad)
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return model.SerializeToString()
