"""Read and write the TensorFlow.js *layers* format (what ml5.js saves and loads).

A saved layers model is two files:

- ``model.json``: ``{"modelTopology": {...}, "weightsManifest": [{"paths": [...], "weights": [...]}]}``.
  The topology is a Keras-style ``Sequential`` config (one entry per layer: ``class_name``
  and a ``config`` with ``units``, ``activation``, ``use_bias``, initialisers, …); the manifest
  lists every weight (``name``, ``shape``, ``dtype``) in the order they are stored.
- ``model.weights.bin``: the weights, little-endian float32, packed back to back in manifest
  order (a manifest may spread them over several files; they are read as one stream).

This module converts between that and a ``torch.nn.Sequential``:

========================  ==========================================================
TensorFlow.js layer       PyTorch module(s)
========================  ==========================================================
Dense(units, activation)  ``nn.Linear`` (kernel transposed: TF.js stores in × out)
                          followed by the activation module, if not linear
Conv2D                    ``nn.Conv2d`` (kernel HWIO in TF.js, OIHW in PyTorch)
MaxPooling2D / Average…   ``nn.MaxPool2d`` / ``nn.AvgPool2d``
Flatten                   ``nn.Flatten`` (dense input) or :class:`ChannelsLastFlatten`
Dropout, Activation       ``nn.Dropout``, the activation module
========================  ==========================================================

TF.js images are channels-last (N×H×W×C). A converted convolutional model therefore starts
with :class:`ChannelsFirst` (N×H×W×C → N×C×H×W) and flattens with
:class:`ChannelsLastFlatten`, so it takes the same input and gives the same output as in
TF.js. Activations: relu, relu6, sigmoid, tanh, softmax, logSoftmax, elu, selu, softplus,
softsign, swish (``nn.SiLU``), mish, gelu, gelu_new, linear.

Any other layers model — functional (``tf.model``), nested (a Sequential inside a Model, as
Teachable Machine writes; TF.js 1.x's bare-list ``config``), with shared layers,
BatchNormalization, depthwise/separable convolutions, merges, Conv1D… — is built by
:func:`build_layers_model` into a :class:`LayersGraph` from :data:`LAYER_BUILDERS` (one builder
per layer class: add an entry to read a new layer; add the class to ``_SIMPLE`` too only if the
editable ml5.js ``nn.Sequential`` path should build it). Weights may be quantized (uint8,
uint16, float16). Graph models (``"format": "graph-model"``) are refused with a clear error.

Public API::

    to_tfjs(module, *, input_shape=None, weights_path="model.weights.bin") -> (model_json, weights)
    from_tfjs(model_json, weights) -> nn.Sequential (ml5-style models) or LayersGraph (any other)
    build_layers_model(model_json, weights) -> LayersGraph
    read_tfjs(directory, model_file="model.json") -> (model_json, weights)
    input_shape(model_json) -> tuple        # e.g. (3,) or (64, 64, 4)
    LayersModel.from_directory(dir)         # what ml.load returns for a TF.js folder: .predict(), .summary()

A classification head trained with :func:`playml.core.training.fit` returns logits; append
``nn.Softmax(dim=-1)`` before saving so TF.js gives probabilities, and train ``seq[:-1]``
(a slice of an ``nn.Sequential`` shares its modules).

>>> import torch
>>> from torch import nn
>>> from playml.formats.tfjs import to_tfjs, from_tfjs
>>> head = nn.Sequential(nn.Linear(1280, 100), nn.ReLU(), nn.Linear(100, 3), nn.Softmax(dim=-1))
>>> model_json, weights = to_tfjs(head)
>>> [layer["config"]["activation"] for layer in model_json["modelTopology"]["config"]["layers"]]
['relu', 'softmax']
>>> len(weights) == 4 * (1280 * 100 + 100 + 100 * 3 + 3)
True
>>> back = from_tfjs(model_json, weights)
>>> x = torch.randn(2, 1280)
>>> bool(torch.allclose(back(x), head(x)))
True

Save the three files of an ml5.js model atomically with :func:`playml.core.saving.save_directory`:
``save_directory(path, {"model.json": model_json, "model.weights.bin": weights,
"model_meta.json": meta})``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import torch
from torch import nn

from playml.errors import MALFORMED_FILE_ERRORS, FormatError, MissingFileError

__all__ = [
    "to_tfjs",
    "from_tfjs",
    "read_tfjs",
    "input_shape",
    "ChannelsFirst",
    "ChannelsLastFlatten",
    "ACTIVATIONS",
    "KERAS_NAMES",
    "build_layers_model",
    "LayersGraph",
    "LAYER_BUILDERS",
    "is_graph_model",
    "LSTMSequence",
    "sequence_to_tfjs",
    "sequence_from_tfjs",
    "SEQUENCE_LAYERS",
]

#: TF.js activation names that playml reads and writes.
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "softmax",
    "logSoftmax",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "swish",
    "mish",
    "gelu",
    "gelu_new",
)

_KERAS_VERSION = "tfjs-layers 4.22.0"


class ChannelsFirst(nn.Module):
    """N×H×W×C (TF.js images) → N×C×H×W (PyTorch convolutions)."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class ChannelsLastFlatten(nn.Module):
    """Flatten N×C×H×W in TF.js's H, W, C order, so the next Dense kernel means the same thing."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


# ---------------------------------------------------------------- activations


def _activation_module(name: str | None):
    table: dict[str, Callable[[], nn.Module]] = {
        "relu": nn.ReLU,
        "relu6": nn.ReLU6,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "softmax": lambda: nn.Softmax(dim=-1),
        "logSoftmax": lambda: nn.LogSoftmax(dim=-1),
        "log_softmax": lambda: nn.LogSoftmax(dim=-1),
        "elu": nn.ELU,
        "selu": nn.SELU,
        "softplus": nn.Softplus,
        "softsign": nn.Softsign,
        "swish": nn.SiLU,
        "silu": nn.SiLU,
        "mish": nn.Mish,
        "gelu": nn.GELU,
        "gelu_new": lambda: nn.GELU(approximate="tanh"),
    }
    if name in (None, "linear"):
        return None
    if name not in table:
        raise FormatError(f"The activation {name!r} is not supported by playml. Supported: {', '.join(ACTIVATIONS)}.")
    return table[name]()


#: Keras's (TF.js's, ml5.js's) class names of the PyTorch layers playml builds for them.
KERAS_NAMES = {
    "Linear": "Dense",
    "Conv2d": "Conv2D",
    "MaxPool2d": "MaxPooling2D",
    "AvgPool2d": "AveragePooling2D",
    "ChannelsLastFlatten": "Flatten",
    "Flatten": "Flatten",
    "Dropout": "Dropout",
}


def _activation_name(module) -> str | None:
    """The TF.js name of an activation module, or None if ``module`` is not one."""
    if isinstance(module, nn.Identity):
        return "linear"
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        if module.dim not in (-1, 1, None):
            raise FormatError(f"{module} works along dim={module.dim}; TF.js applies it to the last axis. Use dim=-1.")
        return "softmax" if isinstance(module, nn.Softmax) else "logSoftmax"
    if isinstance(module, nn.ELU) and module.alpha != 1.0:
        raise FormatError(f"TF.js's elu has alpha=1; nn.ELU(alpha={module.alpha}) cannot be saved.")
    if isinstance(module, nn.Softplus) and (module.beta != 1 or module.threshold != 20):
        raise FormatError("Only nn.Softplus() with its default beta can be saved for TF.js.")
    if isinstance(module, nn.GELU):
        return "gelu_new" if module.approximate == "tanh" else "gelu"
    simple = {
        nn.ReLU: "relu",
        nn.ReLU6: "relu6",
        nn.Sigmoid: "sigmoid",
        nn.Tanh: "tanh",
        nn.ELU: "elu",
        nn.SELU: "selu",
        nn.Softplus: "softplus",
        nn.Softsign: "softsign",
        nn.SiLU: "swish",
        nn.Mish: "mish",
    }
    return simple.get(type(module))


# ---------------------------------------------------------------- writing


def _initializer(name: str, config: dict | None = None) -> dict:
    return {"class_name": name, "config": config or {}}


_GLOROT = _initializer("VarianceScaling", {"scale": 1, "mode": "fan_avg", "distribution": "uniform", "seed": None})
_NO_REG = {
    "kernel_regularizer": None,
    "bias_regularizer": None,
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
}


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _read_pair(v) -> list[int]:
    """A size or stride read from a file: two whole numbers from 1 to 4096."""
    out = _pair(v)
    if len(out) != 2 or not all(1 <= x <= 4096 for x in out):
        raise FormatError(
            f"A layer in model.json gives the size or stride {str(v)[:40]}; each must be two whole "
            "numbers from 1 to 4096."
        )
    return out


def to_tfjs(
    module,
    *,
    input_shape: Sequence[int] | None = None,
    weights_path: str = "model.weights.bin",
    name: str = "sequential_1",
) -> tuple[dict[str, Any], bytes]:
    """Convert ``module`` (an ``nn.Sequential``) to TF.js layers ``(model_json, weights)``.

    ``model_json`` is the content of ``model.json`` (a dict, ready for ``json.dumps``) and
    ``weights`` the content of ``model.weights.bin``. ``input_shape`` (without the batch
    axis) is needed for convolutional models, e.g. ``(64, 64, 4)`` for H×W×C; dense models
    take it from the first ``nn.Linear``.
    """
    if not isinstance(module, nn.Sequential):
        raise FormatError(
            f"Only an nn.Sequential can be saved in the TF.js layers format (got {type(module).__name__})."
        )
    mods = [m for m in module if not isinstance(m, ChannelsFirst)]
    layers: list[dict[str, Any]] = []
    specs: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    counts: dict[str, int] = {}
    spatial = False

    def add(class_name: str, config: dict[str, Any], weights: Sequence[tuple[str, Any]] = ()) -> dict:
        counts[class_name] = counts.get(class_name, 0) + 1
        prefix = {
            "Dense": "dense",
            "Conv2D": "conv2d",
            "MaxPooling2D": "max_pooling2d",
            "AveragePooling2D": "average_pooling2d",
            "Flatten": "flatten",
            "Dropout": "dropout",
            "Activation": "activation",
        }[class_name]
        layer_name = f"{prefix}_{class_name}{sum(counts.values())}"
        config = {**config, "name": layer_name, "trainable": True}
        if not layers:
            config["batch_input_shape"] = [None, *first_shape]
            config["dtype"] = "float32"
        layers.append({"class_name": class_name, "config": config})
        for wname, array in weights:
            array = np.ascontiguousarray(array, dtype="<f4")
            specs.append({"name": f"{layer_name}/{wname}", "shape": list(array.shape), "dtype": "float32"})
            blobs.append(array.tobytes())
        return config

    first = next((m for m in mods if not _is_passive(m)), None)
    if input_shape is not None:
        first_shape = [int(v) for v in input_shape]
    elif isinstance(first, nn.Linear):
        first_shape = [first.in_features]
    else:
        raise FormatError(
            "Give input_shape=(height, width, channels) to save a model that does not start with nn.Linear."
        )

    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        act = _activation_name(nxt) if nxt is not None else None
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().numpy().T
            ws = [("kernel", w)] + ([("bias", m.bias.detach().cpu().numpy())] if m.bias is not None else [])
            add(
                "Dense",
                {
                    "units": m.out_features,
                    "activation": act or "linear",
                    "use_bias": m.bias is not None,
                    "kernel_initializer": _GLOROT,
                    "bias_initializer": _initializer("Zeros"),
                    **_NO_REG,
                },
                ws,
            )
            i += 2 if act else 1
        elif isinstance(m, nn.Conv2d):
            if m.groups != 1 or m.padding_mode != "zeros":
                raise FormatError("Only plain nn.Conv2d (groups=1, zero padding) can be saved for TF.js.")
            if m.padding == "same" or (
                m.padding == tuple(k // 2 for k in m.kernel_size)
                and all(k % 2 for k in m.kernel_size)
                and m.padding != (0, 0)
                and m.stride == (1, 1)
            ):
                padding = "same"
            elif m.padding in ("valid", (0, 0)):
                padding = "valid"
            else:
                raise FormatError(f"{m} pads by {m.padding}; TF.js only knows 'valid' (0) and 'same'.")
            kernel = m.weight.detach().cpu().numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
            ws = [("kernel", kernel)] + ([("bias", m.bias.detach().cpu().numpy())] if m.bias is not None else [])
            add(
                "Conv2D",
                {
                    "filters": m.out_channels,
                    "kernel_initializer": _GLOROT,
                    "kernel_size": list(m.kernel_size),
                    "strides": list(m.stride),
                    "padding": padding,
                    "data_format": "channels_last",
                    "dilation_rate": list(m.dilation),
                    "activation": act or "linear",
                    "use_bias": m.bias is not None,
                    "bias_initializer": _initializer("Zeros"),
                    **_NO_REG,
                },
                ws,
            )
            spatial = True
            i += 2 if act else 1
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            if (
                _pair(m.padding) != [0, 0]
                or getattr(m, "ceil_mode", False)
                or _pair(getattr(m, "dilation", 1)) != [1, 1]
            ):
                raise FormatError(f"{m}: only pooling without padding, dilation or ceil_mode can be saved for TF.js.")
            add(
                "MaxPooling2D" if isinstance(m, nn.MaxPool2d) else "AveragePooling2D",
                {
                    "pool_size": _pair(m.kernel_size),
                    "padding": "valid",
                    "strides": _pair(m.stride if m.stride is not None else m.kernel_size),
                    "data_format": "channels_last",
                },
            )
            i += 1
        elif isinstance(m, ChannelsLastFlatten) or isinstance(m, nn.Flatten):
            if isinstance(m, nn.Flatten) and spatial:
                raise FormatError(
                    "After convolutions use playml.formats.tfjs.ChannelsLastFlatten() instead of "
                    "nn.Flatten(), so the following Dense layer sees TF.js's H, W, C order."
                )
            add("Flatten", {})
            i += 1
        elif isinstance(m, nn.Dropout):
            add("Dropout", {"rate": float(m.p), "noise_shape": None, "seed": None})
            i += 1
        elif _activation_name(m) is not None:
            add("Activation", {"activation": _activation_name(m)})
            i += 1
        else:
            raise FormatError(
                f"{type(m).__name__} cannot be saved in the TF.js layers format. Supported: "
                "Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout and activations."
            )
    if not layers:
        raise FormatError("The model has no layers to save.")
    model_json = {
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": name, "layers": layers},
            "keras_version": _KERAS_VERSION,
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": [f"./{weights_path}"], "weights": specs}],
    }
    return model_json, b"".join(blobs)


def _is_passive(m) -> bool:
    return isinstance(m, (nn.Dropout, nn.Identity))


# ---------------------------------------------------------------- reading


def _topology(model_json: dict) -> dict:
    topo = _any_topology(model_json)
    if topo.get("class_name") != "Sequential":
        raise FormatError(
            f"model.json describes a {topo.get('class_name')!r} model, not a Sequential one; "
            "read it with build_layers_model()."
        )
    return topo


def _layers(topo: dict) -> list[dict]:
    layers = _layer_list(topo.get("config"))
    if not layers:
        raise FormatError("model.json lists no layers.")
    return layers


def input_shape(model_json: dict) -> tuple[int, ...]:
    """The input shape without the batch axis, e.g. ``(3,)`` or ``(64, 64, 4)`` (nested models too)."""
    shape = _first_shape(_any_topology(model_json))
    if shape is None:
        raise FormatError("model.json does not say the shape of its input (no batch_input_shape).")
    return tuple(shape)


_SIMPLE = {"InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout", "Activation"}


def _simple_sequential(topo: dict) -> bool:
    """True for the Sequential models that map onto an editable nn.Sequential (what ml5.js saves)."""
    if topo.get("class_name") != "Sequential":
        return False
    layers = _layer_list(topo.get("config"))
    if not layers or _batch_shape(layers[0].get("config")) is None:
        return False
    for layer in layers:
        cls, cfg = layer.get("class_name"), layer.get("config") or {}
        if cls not in _SIMPLE or cfg.get("activation", "linear") not in (None, *ACTIVATIONS):
            return False
        if cls == "Conv2D" and cfg.get("padding") == "same" and _pair(cfg.get("strides", 1)) != [1, 1]:
            return False
        if (
            cls == "Conv2D"
            and cfg.get("padding") == "same"
            and any(k % 2 == 0 for k in _pair(cfg.get("kernel_size", 1)))
        ):
            return False
        if cls in ("MaxPooling2D", "AveragePooling2D") and cfg.get("padding", "valid") != "valid":
            return False
    return True


def _weight_arrays(model_json: dict, weights: bytes) -> list[tuple[str, np.ndarray]]:
    manifest = model_json.get("weightsManifest")
    if not isinstance(manifest, list):
        raise FormatError("model.json has no 'weightsManifest' listing the weights.")
    out, offset = [], 0
    for group in manifest:
        for spec in group.get("weights", []):
            quant = spec.get("quantization") or {}
            dtype = spec.get("dtype", "float32")
            if dtype not in ("float32", "int32"):
                raise FormatError(f"Weight {spec.get('name')} is {dtype}; playml reads float32 (and int32) weights.")
            stored = {
                None: "<f4" if dtype == "float32" else "<i4",
                "uint8": "u1",
                "uint16": "<u2",
                "float16": "<f2",
            }.get(quant.get("dtype"))
            if stored is None:
                raise FormatError(
                    f"Weight {spec.get('name')} is quantized as {quant.get('dtype')!r}; playml reads "
                    "uint8, uint16 and float16 quantization."
                )
            shape = spec["shape"]
            if (
                not isinstance(shape, list)
                or len(shape) > 6
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1 << 31 for v in shape)
            ):
                raise FormatError(
                    f"Weight {str(spec.get('name'))[:60]!r} has the shape {str(shape)[:60]}, which "
                    "is not a list of sizes."
                )
            count = int(np.prod(shape, dtype=object))
            size = count * np.dtype(stored).itemsize
            if offset + size > len(weights):
                raise FormatError(
                    f"model.weights.bin is too short: it ends before the weight {spec['name']!r} "
                    "(was it saved or copied completely?)."
                )
            raw: np.ndarray = np.frombuffer(weights, dtype=stored, count=count, offset=offset).reshape(shape)
            if quant.get("dtype") in ("uint8", "uint16"):  # TF.js: value = q * scale + min
                raw = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            raw = raw.astype(np.float32)
            if not np.isfinite(raw).all():
                raise FormatError(
                    f"The weight {str(spec['name'])[:60]!r} holds NaN or infinite numbers; the model "
                    "was saved broken (did its training diverge?) or the file is damaged."
                )
            out.append((spec["name"], raw))
            offset += size
    if offset != len(weights):
        raise FormatError(
            f"model.weights.bin holds {len(weights)} bytes but model.json describes {offset}; "
            "the two files do not belong together."
        )
    return out


def _format_errors(fn):
    """Turn the exceptions a malformed model.json causes (KeyError, TypeError, ZeroDivisionError, …)
    into a FormatError that says so."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FormatError:
            raise
        except MALFORMED_FILE_ERRORS as e:
            raise FormatError(
                f"model.json is not a TF.js layers model playml can read ({type(e).__name__}: {str(e)[:160]})."
            ) from None

    return wrapper


@_format_errors
def from_tfjs(model_json: dict, weights: bytes):
    """Build a PyTorch module (in eval mode) from TF.js layers ``model.json`` content and weights.

    A plain Sequential model of Dense / Conv2D / pooling / Flatten / Dropout / Activation layers
    (what ml5.js saves) becomes an editable ``nn.Sequential``; any other layers model
    (functional, nested, BatchNormalization, depthwise convolutions, ...) a :class:`LayersGraph`.
    Both take and give TF.js-shaped tensors.
    """
    if not _simple_sequential(_any_topology(model_json)):
        return build_layers_model(model_json, weights)
    layers = _layers(_topology(model_json))
    arrays = _weight_arrays(model_json, bytes(weights))
    by_name = {name: a for name, a in arrays}
    order = iter(arrays)
    shape = list(input_shape(model_json))
    mods: list = []
    used: set[str] = set()

    def take(layer_name: str, what: str, expected_shape: Sequence[int] | None = None) -> np.ndarray:
        for key in (f"{layer_name}/{what}", f"{layer_name}/{what}:0"):
            if key in by_name:
                used.add(key)
                return by_name[key]
        suffix = [k for k in by_name if k.endswith(f"/{what}") and k.split("/")[-2] == layer_name]
        if suffix:
            used.add(suffix[0])
            return by_name[suffix[0]]
        for key, a in order:  # names differ: fall back to manifest order, like positional loading
            if key not in used:
                used.add(key)
                return a
        raise FormatError(f"The weights file has no {what} for layer {layer_name!r}.")

    def param(a: np.ndarray):
        return nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)))

    if len(shape) == 3:
        mods.append(ChannelsFirst())
    for layer in layers:
        cls, cfg = layer.get("class_name"), layer.get("config")
        if not isinstance(cfg, dict):
            raise FormatError(
                f"A {str(cls)[:40]} layer in model.json has no 'config'; playml cannot tell what it does."
            )
        name = str(cfg.get("name", cls))
        if cls == "InputLayer":
            continue
        if cls == "Dense":
            kernel = take(name, "kernel")
            if len(shape) != 1 or kernel.shape[0] != shape[0]:
                raise FormatError(f"Dense layer {name!r} expects {kernel.shape[0]} inputs but gets shape {shape}.")
            lin = nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg.get("use_bias", True))
            lin.weight = param(kernel.T)
            if lin.bias is not None:
                lin.bias = param(take(name, "bias"))
            mods.append(lin)
            shape = [kernel.shape[1]]
        elif cls == "Conv2D":
            if cfg.get("data_format", "channels_last") != "channels_last" or len(shape) != 3:
                raise FormatError(f"Conv2D layer {name!r}: playml reads channels-last image models only.")
            kernel = take(name, "kernel")  # H W I O
            stride, dilation = _read_pair(cfg.get("strides", 1)), _read_pair(cfg.get("dilation_rate", 1))
            padding = cfg.get("padding", "valid")
            if padding == "same" and stride != [1, 1]:
                raise FormatError(
                    f"Conv2D layer {name!r} uses 'same' padding with strides {stride}; "
                    "playml reads 'same' padding with stride 1 only."
                )
            conv = nn.Conv2d(
                kernel.shape[2],
                kernel.shape[3],
                kernel_size=(kernel.shape[0], kernel.shape[1]),
                stride=(stride[0], stride[1]),
                padding=padding,
                dilation=(dilation[0], dilation[1]),
                bias=cfg.get("use_bias", True),
            )
            conv.weight = param(kernel.transpose(3, 2, 0, 1))
            if conv.bias is not None:
                conv.bias = param(take(name, "bias"))
            mods.append(conv)
            h, w = shape[0], shape[1]
            if padding == "valid":
                h = (h - dilation[0] * (kernel.shape[0] - 1) - 1) // stride[0] + 1
                w = (w - dilation[1] * (kernel.shape[1] - 1) - 1) // stride[1] + 1
            shape = [h, w, kernel.shape[3]]
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            if cfg.get("padding", "valid") != "valid":
                raise FormatError(f"{cls} layer {name!r} uses 'same' padding, which playml cannot read.")
            pool = _read_pair(cfg.get("pool_size", 2))
            stride = _read_pair(cfg.get("strides") or pool)
            mods.append(
                (nn.MaxPool2d if cls == "MaxPooling2D" else nn.AvgPool2d)((pool[0], pool[1]), (stride[0], stride[1]))
            )
            shape = [(shape[0] - pool[0]) // stride[0] + 1, (shape[1] - pool[1]) // stride[1] + 1, shape[2]]
        elif cls == "Flatten":
            mods.append(ChannelsLastFlatten() if len(shape) == 3 else nn.Flatten())
            shape = [int(np.prod(shape))]
            continue
        elif cls == "Dropout":
            mods.append(nn.Dropout(float(cfg.get("rate", 0.0))))
            continue
        elif cls == "Activation":
            act = _activation_module(cfg.get("activation"))
            if act is not None:
                mods.append(act)
            continue
        else:
            raise FormatError(
                f"Layer {name!r} is a {cls}, which playml cannot read yet. It reads Dense, Conv2D, "
                "MaxPooling2D, AveragePooling2D, Flatten, Dropout and Activation layers."
            )
        act = _activation_module(cfg.get("activation", "linear"))
        if act is not None:
            mods.append(act)
    model = nn.Sequential(*mods)
    model.eval()
    return model


def read_tfjs(directory: Any, model_file: str = "model.json") -> tuple[dict[str, Any], bytes]:
    """Read ``model.json`` and the weight files its manifest names from ``directory`` (a path or an
    open :class:`playml.core.saving.ModelFolder`): only plain files inside the folder, size-capped."""
    from playml.core.saving import LIMITS, open_folder

    folder = open_folder(directory)
    try:
        model_json = folder.read_json(model_file, "model file")
        manifest = model_json.get("weightsManifest") if isinstance(model_json, dict) else None
        if not isinstance(manifest, list):
            raise FormatError(f"{folder / model_file} has no 'weightsManifest'; it is not a TF.js layers model.")
        parts, total = [], 0
        for group in manifest:
            paths = group.get("paths", []) if isinstance(group, dict) else None
            if not isinstance(paths, list):
                raise FormatError(f"A 'weightsManifest' entry of {folder / model_file} has no list of 'paths'.")
            for rel in paths:
                try:
                    data = folder.read_bytes(rel, max_bytes=LIMITS["weights_bytes"] - total, what="weights file")
                except MissingFileError:
                    if folder.exists("model_meta.json"):
                        kind = (
                            "an ml5.js/playml save: copy all three files (model.json, model.weights.bin, "
                            "model_meta.json)"
                        )
                    elif folder.exists("metadata.json"):
                        kind = (
                            "a Teachable Machine export: copy all three files (model.json, weights.bin, metadata.json)"
                        )
                    else:
                        kind = "a TensorFlow.js layers model: copy model.json with every weight file it lists"
                    raise MissingFileError(
                        f"The weights file {str(rel)!r} is missing from {folder}. "
                        f"{model_file} needs it; this folder looks like {kind}."
                    ) from None
                total += len(data)
                parts.append(data)
        return model_json, b"".join(parts)
    finally:
        if folder is not directory:
            folder.close()


# ---------------------------------------------------------------- any layers model (functional, nested)
#
# A TF.js layers model is a graph of Keras layers: a ``Sequential`` (a chain), or a functional
# ``Model`` whose layers name their ``inbound_nodes``; either may contain the other as a layer
# (Teachable Machine writes a Sequential holding a Sequential holding a functional MobileNetV2).
# :func:`build_layers_model` turns any of them into a :class:`LayersGraph` module that runs on
# TF.js-shaped tensors (channels last) and gives TF.js's outputs. Each layer class is built by
# one function in :data:`LAYER_BUILDERS` (``class_name -> builder(config, weights) -> nn.Module``);
# add a layer type by adding an entry.


class _Weights:
    """The weight arrays of a model, looked up by (layer name, weight name) as TF.js does."""

    def __init__(self, arrays: list[tuple[str, np.ndarray]]):
        self.by_key: dict[tuple[str, str], list[np.ndarray]] = {}
        for full, array in arrays:
            parts = full.split("/")
            what = parts[-1].split(":")[0]
            layer = parts[-2] if len(parts) > 1 else ""
            self.by_key.setdefault((layer, what), []).append(array)
        self.taken = 0
        self.total = len(arrays)

    @overload
    def get(self, layer: str, what: str, *, optional: Literal[False] = ...) -> np.ndarray: ...
    @overload
    def get(self, layer: str, what: str, *, optional: bool) -> np.ndarray | None: ...
    def get(self, layer: str, what: str, *, optional: bool = False) -> np.ndarray | None:
        found = self.by_key.get((layer, what))
        if not found:
            if optional:
                return None
            raise FormatError(
                f"The weights have no {what!r} for layer {layer!r} (model.json and the weights file do not match)."
            )
        self.taken += 1
        return found.pop(0)


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _hard_sigmoid(x):
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class _Fn(nn.Module):
    """A parameter-free layer given by a function (activations, merges, reshapes)."""

    def __init__(self, fn, label: str):
        super().__init__()
        self.fn, self.label = fn, label

    def forward(self, *xs):
        return self.fn(*xs)

    def extra_repr(self) -> str:
        return self.label


_EXTRA_ACTIVATIONS = {
    "hard_sigmoid": _hard_sigmoid,
    "hardSigmoid": _hard_sigmoid,
    "exponential": torch.exp,
    "hard_swish": lambda x: x * torch.clamp(x + 3, 0, 6) / 6,
}


def _activation_fn(name: str | None):
    """The activation ``name`` as a module (softmax on the last axis), or None for linear."""
    if name in _EXTRA_ACTIVATIONS:
        return _Fn(_EXTRA_ACTIVATIONS[name], name)
    return _activation_module(name)


def _same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after) for one axis."""
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def _tuple(v, n: int) -> tuple[int, ...]:
    """Strides, dilations or pool sizes read from model.json: ``n`` whole numbers from 1 to 4096."""
    out = (int(v),) * n if isinstance(v, (int, float)) else tuple(int(x) for x in v)
    if len(out) != n or not all(1 <= x <= 4096 for x in out):
        raise FormatError(
            f"A layer in model.json gives the size or stride {str(v)[:40]}; it must be {n} whole "
            "number(s) from 1 to 4096."
        )
    return out


class _ConvND(nn.Module):
    """Conv1D / Conv2D / DepthwiseConv2D on channels-last tensors, with TF's 'same' / 'valid' / 'causal'."""

    def __init__(
        self,
        weight,
        bias,
        *,
        dims: int,
        strides,
        dilation,
        padding: str,
        groups: int = 1,
        pointwise=None,
        pointwise_bias=None,
        activation=None,
        label: str = "",
    ):
        super().__init__()
        self.dims, self.strides, self.dilation, self.padding, self.groups = dims, strides, dilation, padding, groups
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.pointwise = None if pointwise is None else nn.Parameter(pointwise, requires_grad=False)
        self.pointwise_bias = None if pointwise_bias is None else nn.Parameter(pointwise_bias, requires_grad=False)
        self.activation = activation
        self.label = label
        self.kernel = tuple(weight.shape[2:])

    def extra_repr(self) -> str:
        return (
            f"{self.label}kernel={self.kernel}, strides={self.strides}, dilation={self.dilation}, "
            f"padding={self.padding!r}, groups={self.groups}"
        )

    def forward(self, x):
        import torch.nn.functional as F

        if self.dims == 2:
            x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW view (channels-last memory: no copy)
            pad = 0
            if self.padding == "same":
                (top, bottom), (left, right) = (
                    _same_pads(x.shape[2 + i], self.kernel[i], self.strides[i], self.dilation[i]) for i in range(2)
                )
                if top == bottom and left == right:
                    pad = (top, left)
                else:
                    x = F.pad(x, (left, right, top, bottom))
            bias = self.bias if self.pointwise is None else None
            y = F.conv2d(x, self.weight, bias, self.strides, pad, self.dilation, self.groups)
            if self.pointwise is not None:
                y = F.conv2d(y, self.pointwise, self.pointwise_bias)
            y = y.permute(0, 2, 3, 1)
        else:
            x = x.permute(0, 2, 1)
            k, s, d = self.kernel[0], self.strides[0], self.dilation[0]
            if self.padding == "same":
                x = F.pad(x, _same_pads(x.shape[2], k, s, d))
            elif self.padding == "causal":
                x = F.pad(x, ((k - 1) * d, 0))
            y = F.conv1d(x, self.weight, self.bias, s, 0, d, self.groups).permute(0, 2, 1)
        return y if self.activation is None else self.activation(y)


class _Pool(nn.Module):
    """Max / average pooling (1-D or 2-D) on channels-last tensors with TF's 'same' / 'valid'."""

    def __init__(self, kind: str, dims: int, pool, strides, padding: str):
        super().__init__()
        self.kind, self.dims, self.pool, self.strides, self.padding = kind, dims, pool, strides, padding

    def extra_repr(self) -> str:
        return f"{self.kind}, pool={self.pool}, strides={self.strides}, padding={self.padding!r}"

    def forward(self, x):
        import torch.nn.functional as F

        x = x.permute(0, 3, 1, 2) if self.dims == 2 else x.permute(0, 2, 1)
        if self.dims == 1:
            x = x.unsqueeze(2)
        pool = self.pool if self.dims == 2 else (1, self.pool[0])
        strides = self.strides if self.dims == 2 else (1, self.strides[0])
        pads = (0, 0, 0, 0)
        if self.padding == "same":
            (top, bottom), (left, right) = (_same_pads(x.shape[2 + i], pool[i], strides[i]) for i in range(2))
            pads = (left, right, top, bottom)
        if self.kind == "max":
            if any(pads):
                x = F.pad(x, pads, value=float("-inf"))
            y = F.max_pool2d(x, pool, strides)
        else:
            if any(pads):  # TF averages over the real values only
                ones = torch.ones_like(x[:, :1])
                sums = F.avg_pool2d(F.pad(x, pads), pool, strides)
                counts = F.avg_pool2d(F.pad(ones, pads), pool, strides)
                y = sums / counts
            else:
                y = F.avg_pool2d(x, pool, strides)
        if self.dims == 1:
            return y.squeeze(2).permute(0, 2, 1)
        return y.permute(0, 2, 3, 1)


class _BatchNorm(nn.Module):
    """Inference-time BatchNormalization on the last axis."""

    def __init__(self, mean, var, gamma, beta, eps: float):
        super().__init__()
        scale = (gamma if gamma is not None else torch.ones_like(var)) / torch.sqrt(var + eps)
        shift = (beta if beta is not None else torch.zeros_like(mean)) - mean * scale
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x):
        return x * self.scale + self.shift


class _Dense(nn.Module):
    """Dense on the last axis (TF.js kernels are in × out)."""

    def __init__(self, kernel, bias, activation):
        super().__init__()
        self.linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(kernel.T)
            if bias is not None:
                self.linear.bias.copy_(bias)
        self.activation = activation

    def forward(self, x):
        y = self.linear(x)
        return y if self.activation is None else self.activation(y)


def _channels_last_only(cfg: dict, cls: str) -> None:
    if cfg.get("data_format", "channels_last") not in (None, "channels_last"):
        raise FormatError(f"{cls} layer {cfg.get('name')!r} is channels-first; playml reads channels-last models.")


def _build_conv(cfg, w: _Weights, cls: str):
    _channels_last_only(cfg, cls)
    name, dims = cfg["name"], 1 if cls == "Conv1D" else 2
    use_bias = cfg.get("use_bias", True)
    common = dict(
        dims=dims,
        strides=_tuple(cfg.get("strides", 1), dims),
        dilation=_tuple(cfg.get("dilation_rate", 1), dims),
        padding=cfg.get("padding", "valid"),
        activation=_activation_fn(cfg.get("activation")),
        label=f"{cls} ",
    )
    if common["padding"] not in ("valid", "same", "causal"):
        raise FormatError(f"{cls} layer {name!r}: unknown padding {common['padding']!r}.")
    if cls in ("Conv1D", "Conv2D"):
        kernel = _tensor(w.get(name, "kernel"))  # (k..., in, out)
        perm = (2, 1, 0) if dims == 1 else (3, 2, 0, 1)
        weight = kernel.permute(*perm).contiguous()
        groups = int(cfg.get("groups", 1) or 1)
        return _ConvND(weight, _tensor(w.get(name, "bias")) if use_bias else None, groups=groups, **common)
    depthwise = _tensor(w.get(name, "depthwise_kernel"))  # kh kw in mult
    kh, kw, cin, mult = depthwise.shape
    weight = depthwise.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous()
    if cls == "DepthwiseConv2D":
        return _ConvND(weight, _tensor(w.get(name, "bias")) if use_bias else None, groups=cin, **common)
    pointwise = _tensor(w.get(name, "pointwise_kernel")).permute(3, 2, 0, 1).contiguous()  # 1 1 in out -> out in 1 1
    return _ConvND(
        weight,
        None,
        groups=cin,
        pointwise=pointwise,
        pointwise_bias=_tensor(w.get(name, "bias")) if use_bias else None,
        **common,
    )


def _build_dense(cfg, w: _Weights, cls: str):
    name = cfg["name"]
    bias = _tensor(w.get(name, "bias")) if cfg.get("use_bias", True) else None
    return _Dense(_tensor(w.get(name, "kernel")), bias, _activation_fn(cfg.get("activation")))


def _build_batchnorm(cfg, w: _Weights, cls: str):
    name = cfg["name"]
    axis = cfg.get("axis", -1)
    if isinstance(axis, list):
        axis = axis[0] if len(axis) == 1 else axis
    if axis not in (-1, 3, 2, 1) or isinstance(axis, list):
        raise FormatError(f"BatchNormalization layer {name!r} normalises axis {axis}; playml reads the last axis.")
    gamma = _tensor(w.get(name, "gamma")) if cfg.get("scale", True) else None
    beta = _tensor(w.get(name, "beta")) if cfg.get("center", True) else None
    mean, var = _tensor(w.get(name, "moving_mean")), _tensor(w.get(name, "moving_variance"))
    return _BatchNorm(mean, var, gamma, beta, float(cfg.get("epsilon", 1e-3)))


def _build_relu(cfg, w, cls):
    max_value, slope, threshold = (
        cfg.get("max_value"),
        float(cfg.get("negative_slope", 0) or 0),
        float(cfg.get("threshold", 0) or 0),
    )

    def relu(x):
        y = torch.where(x >= threshold, x, slope * (x - threshold)) if (slope or threshold) else torch.relu(x)
        return torch.clamp(y, max=float(max_value)) if max_value is not None else y

    return _Fn(relu, f"ReLU(max_value={max_value})")


def _build_activation(cfg, w, cls):
    act = _activation_fn(cfg.get("activation"))
    return act if act is not None else _Fn(lambda x: x, "linear")


def _build_zero_padding(cfg, w, cls):
    import torch.nn.functional as F

    _channels_last_only(cfg, cls)
    p = cfg.get("padding", 1)
    if isinstance(p, (int, float)):
        (top, bottom), (left, right) = (int(p), int(p)), (int(p), int(p))
    elif all(isinstance(v, (int, float)) for v in p):
        (top, bottom), (left, right) = (int(p[0]), int(p[0])), (int(p[1]), int(p[1]))
    else:
        (top, bottom), (left, right) = (tuple(int(v) for v in p[0]), tuple(int(v) for v in p[1]))
    return _Fn(
        lambda x: F.pad(x, (0, 0, left, right, top, bottom)), f"ZeroPadding2D(({top}, {bottom}), ({left}, {right}))"
    )


def _build_pool(cfg, w, cls):
    _channels_last_only(cfg, cls)
    dims = 1 if cls.endswith("1D") else 2
    pool = _tuple(cfg.get("pool_size", 2), dims)
    strides = _tuple(cfg.get("strides") or pool, dims)
    return _Pool("max" if cls.startswith("Max") else "avg", dims, pool, strides, cfg.get("padding", "valid"))


def _build_global_pool(cfg, w, cls):
    _channels_last_only(cfg, cls)
    axes = (1,) if cls.endswith("1D") else (1, 2)
    keep = bool(cfg.get("keepdims", False))
    if cls.startswith("GlobalAverage"):
        return _Fn(lambda x: x.mean(dim=axes, keepdim=keep), cls)
    return _Fn(lambda x: x.amax(dim=axes, keepdim=keep), cls)


def _build_flatten(cfg, w, cls):
    return _Fn(lambda x: x.reshape(x.shape[0], -1), "Flatten")


def _build_reshape(cfg, w, cls):
    target = [int(v) for v in cfg["target_shape"]]
    return _Fn(lambda x: x.reshape(x.shape[0], *target), f"Reshape({target})")


def _build_identity(cfg, w, cls):
    return _Fn(lambda x: x, cls)


def _merge(fn, label):
    return lambda cfg, w, cls: _Fn(fn, label)


def _build_concatenate(cfg, w, cls):
    axis = int(cfg.get("axis", -1))
    return _Fn(lambda *xs: torch.cat(xs, dim=axis), f"Concatenate(axis={axis})")


def _sum(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _product(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


#: class_name -> builder(config, weights, class_name) -> nn.Module (channels-last in and out).
#: Merge layers take several inputs; everything else takes one.
LAYER_BUILDERS: dict[str, Any] = {
    "Dense": _build_dense,
    "Conv1D": _build_conv,
    "Conv2D": _build_conv,
    "DepthwiseConv2D": _build_conv,
    "SeparableConv2D": _build_conv,
    "BatchNormalization": _build_batchnorm,
    "ReLU": _build_relu,
    "Activation": _build_activation,
    "ZeroPadding2D": _build_zero_padding,
    "MaxPooling1D": _build_pool,
    "AveragePooling1D": _build_pool,
    "MaxPooling2D": _build_pool,
    "AveragePooling2D": _build_pool,
    "GlobalAveragePooling1D": _build_global_pool,
    "GlobalMaxPooling1D": _build_global_pool,
    "GlobalAveragePooling2D": _build_global_pool,
    "GlobalMaxPooling2D": _build_global_pool,
    "Flatten": _build_flatten,
    "Reshape": _build_reshape,
    "Dropout": _build_identity,
    "SpatialDropout1D": _build_identity,
    "SpatialDropout2D": _build_identity,
    "GaussianNoise": _build_identity,
    "GaussianDropout": _build_identity,
    "AlphaDropout": _build_identity,
    "Add": _merge(_sum, "Add"),
    "Multiply": _merge(_product, "Multiply"),
    "Subtract": _merge(lambda a, b: a - b, "Subtract"),
    "Average": _merge(lambda *xs: _sum(*xs) / len(xs), "Average"),
    "Maximum": _merge(lambda *xs: torch.stack(xs).amax(0), "Maximum"),
    "Minimum": _merge(lambda *xs: torch.stack(xs).amin(0), "Minimum"),
    "Concatenate": _build_concatenate,
}

_CONTAINERS = ("Sequential", "Model", "Functional")


def _layer_list(config) -> list[dict]:
    """The layers of a (nested) model config: a dict with ``layers``, or (TF.js 1.x) the list itself."""
    layers = config.get("layers") if isinstance(config, dict) else config
    if not isinstance(layers, list):
        raise FormatError("model.json has a model without a list of layers.")
    return layers


def _layer_name(layer: dict) -> str:
    cfg = layer.get("config")
    name = layer.get("name") or (cfg.get("name") if isinstance(cfg, dict) else None)
    return name or layer.get("class_name", "layer")


def _unsupported(topo: dict) -> list[str]:
    """Class names (with a layer name each) that :data:`LAYER_BUILDERS` cannot build, anywhere in ``topo``."""
    found: dict[str, str] = {}

    def walk(layers):
        for layer in layers:
            cls = layer.get("class_name")
            if cls in _CONTAINERS:
                walk(_layer_list(layer.get("config")))
            elif cls != "InputLayer" and cls not in LAYER_BUILDERS:
                found.setdefault(cls, _layer_name(layer))

    walk(_layer_list(topo.get("config")))
    return [f"{cls} (layer {name!r})" for cls, name in found.items()]


class LayersGraph(nn.Module):
    """A TF.js layers model (Sequential or functional, possibly nested) as a PyTorch module.

    Takes and returns TF.js-shaped tensors (images N×H×W×C); a model with several inputs or
    outputs takes and returns lists.
    """

    def __init__(
        self, name: str, layers: dict[str, nn.Module], steps: list, inputs: list, outputs: list, input_shapes: list
    ):
        super().__init__()
        self.model_name = name
        self.layers = nn.ModuleDict({_safe_key(k): m for k, m in layers.items()})
        self._keys = {k: _safe_key(k) for k in layers}
        self.steps = steps  # [(layer name, node index, [input refs])]
        self.inputs = inputs  # [ref] fed by the caller, in order
        self.outputs = outputs  # [ref]
        self.input_shapes = input_shapes  # per input, without the batch axis (None where unknown)

    def forward(self, *xs):
        if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
            xs = tuple(xs[0])
        if len(xs) != len(self.inputs):
            raise FormatError(f"The model {self.model_name!r} takes {len(self.inputs)} inputs, got {len(xs)}.")
        values = dict(zip(self.inputs, xs))
        for name, node, refs in self.steps:
            out = self.layers[self._keys[name]](*[values[r] for r in refs])
            for t, o in enumerate(out if isinstance(out, (list, tuple)) else [out]):
                values[(name, node, t)] = o
        outs = [values[r] for r in self.outputs]
        return outs[0] if len(outs) == 1 else outs


def _safe_key(name: str) -> str:
    return name.replace(".", "_") or "_"


def _ref(r) -> tuple[str, int, int]:
    if isinstance(r, dict):  # Keras 3 style {"args": [{"config": {"keras_history": [...]}}]} is not TF.js
        raise FormatError("model.json uses a Keras 3 node format that TF.js does not write.")
    return (str(r[0]), int(r[1]) if len(r) > 1 else 0, int(r[2]) if len(r) > 2 else 0)


def _batch_shape(cfg: Any):
    for key in ("batch_input_shape", "batch_shape"):
        if isinstance(cfg, dict) and cfg.get(key):
            return [None if v is None else int(v) for v in cfg[key][1:]]
    if isinstance(cfg, dict) and cfg.get("input_shape"):
        return [int(v) for v in cfg["input_shape"]]
    return None


def _build_container(layer: dict, w: _Weights) -> LayersGraph:
    cls, cfg = layer.get("class_name"), layer.get("config")
    name = str((cfg.get("name") if isinstance(cfg, dict) else None) or layer.get("name") or cls)
    layers = _layer_list(cfg)
    modules: dict[str, nn.Module] = {}

    def build(sub: dict) -> nn.Module:
        sub_cls = str(sub.get("class_name"))
        if sub_cls in _CONTAINERS:
            return _build_container(sub, w)
        sub_cfg = dict(sub.get("config") or {})
        sub_cfg.setdefault("name", _layer_name(sub))
        return LAYER_BUILDERS[sub_cls](sub_cfg, w, sub_cls)

    if cls == "Sequential":
        steps, prev, shape = [], None, None
        inp = (name + "/input", 0, 0)
        for sub in layers:
            lname = _layer_name(sub)
            if shape is None:
                shape = (
                    _batch_shape(sub.get("config")) if sub.get("class_name") not in _CONTAINERS else _first_shape(sub)
                )
            if sub.get("class_name") == "InputLayer":
                continue
            while lname in modules:  # TF.js 1.x nested Sequentials (list configs) carry no name
                lname += "_"
            modules[lname] = build(sub)
            steps.append((lname, 0, [prev or inp]))
            prev = (lname, 0, 0)
        if prev is None:
            raise FormatError(f"The Sequential model {name!r} has no layers.")
        return LayersGraph(name, modules, steps, [inp], [prev], [shape])

    # functional: nodes in dependency order, layers may be called several times (shared)
    pending, inputs, shapes = [], [], []
    graph = cfg if isinstance(cfg, dict) else {}
    input_refs = [_ref(r) for r in graph.get("input_layers", [])]
    output_refs = [_ref(r) for r in graph.get("output_layers", [])]
    by_name: dict[str, Any] = {_layer_name(sub): sub for sub in layers}
    for ref in input_refs:
        inputs.append(ref)
        shapes.append(_batch_shape(by_name.get(ref[0], {}).get("config")))
    for sub in layers:
        lname = _layer_name(sub)
        if sub.get("class_name") == "InputLayer":
            continue
        modules[lname] = build(sub)
        for k, node in enumerate(sub.get("inbound_nodes") or []):
            pending.append((lname, k, [_ref(r) for r in node]))
    ready = set(inputs)
    steps = []
    while pending:
        progressed = [p for p in pending if all(r in ready for r in p[2])]
        if not progressed:
            missing = sorted({r[0] for p in pending for r in p[2] if r not in ready})
            raise FormatError(f"The model {name!r} has layers whose inputs never get computed: {', '.join(missing)}.")
        for p in progressed:
            steps.append(p)
            pending.remove(p)
            ready.update((p[0], p[1], t) for t in range(8))
    for ref in output_refs:
        if ref not in ready:
            raise FormatError(f"The model {name!r} names {ref[0]!r} as an output, but nothing computes it.")
    return LayersGraph(name, modules, steps, inputs, output_refs, shapes)


def _first_shape(layer: dict):
    cls, cfg = layer.get("class_name"), layer.get("config")
    if cls in _CONTAINERS:
        for sub in _layer_list(cfg):
            if (
                sub.get("class_name") == "InputLayer"
                or _batch_shape(sub.get("config"))
                or sub.get("class_name") in _CONTAINERS
            ):
                shape = _first_shape(sub)
                if shape is not None:
                    return shape
        return None
    return _batch_shape(cfg)


def is_graph_model(model_json: Any) -> bool:
    """True if ``model_json`` is a TF.js *graph* model (from the converter), not a layers model."""
    if not isinstance(model_json, dict):
        return False
    topo = model_json.get("modelTopology")
    return model_json.get("format") == "graph-model" or (isinstance(topo, dict) and "node" in topo)


def _any_topology(model_json: dict) -> dict:
    if is_graph_model(model_json):
        raise FormatError(
            'model.json is a TF.js graph model ("format": "graph-model", made by the TF.js '
            "converter from a SavedModel), not a layers model; read it with "
            "playml.formats.tfjs_graph or ml.load."
        )
    if not isinstance(model_json, dict) or "modelTopology" not in model_json:
        raise FormatError("model.json has no 'modelTopology': it is not a TensorFlow.js layers model.")
    topo = model_json["modelTopology"]
    if isinstance(topo, dict) and "model_config" in topo:  # Keras files converted by tensorflowjs
        topo = topo["model_config"]
    if not isinstance(topo, dict) or topo.get("class_name") not in _CONTAINERS:
        kind = topo.get("class_name") if isinstance(topo, dict) else type(topo).__name__
        raise FormatError(f"model.json describes a {kind!r}, not a Sequential or functional model.")
    return topo


def build_layers_model(model_json: dict, weights: bytes) -> LayersGraph:
    """Build any TF.js layers model (Sequential, functional, nested, shared layers) as a :class:`LayersGraph`.

    An unsupported layer type raises :class:`~playml.errors.FormatError` naming every one found.
    """
    topo = _any_topology(model_json)
    missing = _unsupported(topo)
    if missing:
        raise FormatError(
            f"This TF.js model uses layers playml cannot read yet: {', '.join(missing)}. "
            f"playml reads {', '.join(sorted(LAYER_BUILDERS))}, InputLayer and nested models."
        )
    w = _Weights(_weight_arrays(model_json, bytes(weights)))
    model = _build_container(topo, w)
    if w.taken != w.total:
        left = [f"{k[0]}/{k[1]}" for k, v in w.by_key.items() if v]
        raise FormatError(
            f"The weights file has weights no layer uses: {', '.join(left[:5])}; model.json and the "
            "weights do not belong together."
        )
    model.eval()
    return model


class LayersModel:
    """Any TF.js layers model loaded from its folder (what :func:`playml.load` returns for one).

    >>> import playml as ml
    >>> m = ml.load("tests/data/tfjs/dense-regression")
    >>> m.predict([[0.5, 0.2]]).shape
    (1, 1)
    """

    def __init__(self, module: nn.Module, model_json: dict, path: Path | None = None, sources: Sequence[Path] = ()):
        self.module = module
        self.model_json = model_json
        self.path = path
        self._sources = list(sources)
        self._session = None
        try:
            self.input_shape: tuple | None = input_shape(model_json)
        except FormatError:
            self.input_shape = None

    @classmethod
    def from_directory(cls, path: str | os.PathLike, model_file: str = "model.json") -> LayersModel:
        model_json, weights = read_tfjs(path, model_file)
        sources = [Path(path) / model_file] + [
            Path(path) / rel.removeprefix("./")
            for group in model_json["weightsManifest"]
            for rel in group.get("paths", [])
        ]
        return cls(from_tfjs(model_json, weights), model_json, Path(path), sources)

    def _onnx_session(self):
        """ONNX Runtime session of the model (exported once, cached by the files' content), or None
        when it cannot be exported (several inputs, unknown sizes): then PyTorch runs it."""
        if self._session is None:
            self._session = False
            shape = self.input_shape
            if (
                self._sources
                and shape
                and all(isinstance(v, int) for v in shape)
                and len(getattr(self.module, "inputs", [0])) == 1
            ):
                from playml.engines import onnx as engine

                name = "tfjs-" + "".join(c if c.isalnum() else "-" for c in self._sources[0].parent.name)[:40]
                path = engine.cache_path(name, self._sources, [Path(__file__)], 1, tuple(shape))

                def export() -> bytes:
                    data = engine.export_torch(
                        self.module,
                        (torch.zeros(1, *shape),),
                        ["input"],
                        ["output"],
                        {"input": {0: "batch"}, "output": {0: "batch"}},
                    )
                    return engine.fold_padding_into_convolutions(data)

                try:
                    self._session = engine.cached_session(path, export)
                except Exception:  # noqa: BLE001 - an exotic graph: PyTorch still runs it
                    self._session = False
        return self._session or None

    def __repr__(self) -> str:
        shape = "?" if self.input_shape is None else tuple(self.input_shape)
        return f"LayersModel(input_shape={shape}, layers={len(self.layer_table())})"

    def predict(self, inputs) -> Any:
        """Run the model on ``inputs`` (an array shaped like TF.js's input, with or without the batch axis)."""
        x = np.asarray(inputs, dtype=np.float32)
        single = self.input_shape is not None and x.ndim == len(self.input_shape)
        if single:
            x = x[None]
        if self.input_shape is not None and tuple(x.shape[1:]) != tuple(
            s if s is not None else x.shape[1 + i] for i, s in enumerate(self.input_shape)
        ):
            from playml.errors import ShapeError

            raise ShapeError(
                f"This model takes inputs shaped {tuple(self.input_shape)} (one example) or "
                f"(n, {', '.join(map(str, self.input_shape))}); got {x.shape}."
            )
        session = self._onnx_session()
        if session is not None:
            out = session.run(None, {"input": np.ascontiguousarray(x)})
            out = out[0] if len(out) == 1 else out
        else:
            with torch.no_grad():
                y = self.module(torch.from_numpy(np.ascontiguousarray(x)))
            out = [t.numpy() for t in y] if isinstance(y, (list, tuple)) else y.numpy()
        if single:
            return [o[0] for o in out] if isinstance(out, list) else out[0]
        return out

    def layer_table(self) -> list[tuple[str, str, int]]:
        """``(name, class_name, parameters)`` for every layer, nested models flattened."""
        rows: list[tuple[str, str, int]] = []
        specs: dict[str, Any] = {}
        for group in self.model_json.get("weightsManifest", []):
            for spec in group.get("weights", []):
                parts = spec["name"].split("/")
                key = parts[-2] if len(parts) > 1 else ""
                specs[key] = specs.get(key, 0) + int(np.prod(spec["shape"]))

        def walk(layers):
            for layer in layers:
                cls = layer.get("class_name")
                if cls in _CONTAINERS:
                    walk(_layer_list(layer.get("config")))
                    continue
                name = _layer_name(layer)
                rows.append((name, cls, specs.get(name, 0)))

        walk(_layer_list(_any_topology(self.model_json).get("config")))
        return rows

    def summary(self) -> str:
        """A table of the layers (like Keras's ``model.summary()``); also printed."""
        rows = self.layer_table()
        width = max([len(r[0]) for r in rows] + [5])
        lines = [f"{'layer':<{width}}  {'type':<24} parameters", "-" * (width + 38)]
        lines += [f"{n:<{width}}  {c:<24} {p:>10,}" for n, c, p in rows]
        lines.append(f"{len(rows)} layers, {sum(r[2] for r in rows):,} parameters; input {self.input_shape}")
        text = "\n".join(lines)
        print(text)
        return text


# ---------------------------------------------------------------- sequence models: Embedding and LSTM
#
# Self-contained: these functions handle ``nn.Sequential(nn.Embedding, LSTMSequence..., nn.Linear
# [, activation])`` (what :class:`playml.text.charrnn.CharRNN` saves) without touching the image
# and dense converters above.
#
# ========================  ==========================================================
# TensorFlow.js layer       PyTorch module
# ========================  ==========================================================
# Embedding(input_dim,      ``nn.Embedding`` (same (input_dim, output_dim) matrix)
#   output_dim)
# LSTM(units,               :class:`LSTMSequence` (``nn.LSTM``, batch first, one layer):
#   return_sequences)       kernel = weight_ih.T, recurrent_kernel = weight_hh.T,
#                           bias = bias_ih + bias_hh; the gate order i, f, c, o is the
#                           same in both; recurrent_activation is written as "sigmoid"
#                           (TF.js's default is hard sigmoid, which PyTorch does not have)
# Dense                     ``nn.Linear`` applied to the last axis (+ activation)
# ========================  ==========================================================


class LSTMSequence(nn.Module):
    """One ``nn.LSTM`` layer (batch first) that returns only its outputs, as a TF.js LSTM layer
    does: every step's output with ``return_sequences`` (N×T×H), else the last one (N×H)."""

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = True):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.return_sequences = return_sequences

    def forward(self, x, state=None):
        out, _ = self.lstm(x, state)
        return out if self.return_sequences else out[:, -1]


def _embedding_to_tfjs(m, name: str, first: bool) -> tuple[dict, list]:
    config = {
        "input_dim": m.num_embeddings,
        "output_dim": m.embedding_dim,
        "embeddings_initializer": _initializer("RandomUniform", {"minval": -0.05, "maxval": 0.05, "seed": None}),
        "embeddings_regularizer": None,
        "activity_regularizer": None,
        "embeddings_constraint": None,
        "mask_zero": None,
        "input_length": None,
        "name": name,
        "trainable": True,
    }
    if first:
        config.update(batch_input_shape=[None, None], dtype="float32")
    return {"class_name": "Embedding", "config": config}, [("embeddings", m.weight.detach().cpu().numpy())]


def _lstm_to_tfjs(m, name: str, first: bool) -> tuple[dict, list]:
    lstm = m.lstm
    if lstm.num_layers != 1 or lstm.bidirectional or not lstm.batch_first or lstm.proj_size:
        raise FormatError("Only a one-layer, one-direction, batch-first LSTM can be saved for TF.js.")
    if first:
        raise FormatError("A sequence model must start with nn.Embedding to be saved for TF.js.")
    weights = [
        ("kernel", lstm.weight_ih_l0.detach().cpu().numpy().T),
        ("recurrent_kernel", lstm.weight_hh_l0.detach().cpu().numpy().T),
    ]
    if lstm.bias:
        weights.append(("bias", (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().cpu().numpy()))
    config = {
        "name": name,
        "trainable": True,
        "units": lstm.hidden_size,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": bool(lstm.bias),
        "kernel_initializer": _GLOROT,
        "recurrent_initializer": _initializer("Orthogonal", {"gain": 1, "seed": None}),
        "bias_initializer": _initializer("Zeros"),
        "unit_forget_bias": True,
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0,
        "recurrent_dropout": 0,
        "implementation": 2,
        "return_sequences": bool(m.return_sequences),
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
    }
    return {"class_name": "LSTM", "config": config}, weights


def _embedding_from_tfjs(cfg: dict, take) -> nn.Module:
    table = take("embeddings")
    emb = nn.Embedding(int(cfg.get("input_dim", table.shape[0])), int(cfg.get("output_dim", table.shape[1])))
    if tuple(emb.weight.shape) != table.shape:
        raise FormatError(
            f"Embedding {cfg.get('name')!r}: the weights are {table.shape}, the config says {tuple(emb.weight.shape)}."
        )
    emb.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(table)))
    return emb


def _lstm_from_tfjs(cfg: dict, take) -> nn.Module:
    name = cfg.get("name")
    for key, allowed in (
        ("activation", ("tanh",)),
        ("recurrent_activation", ("sigmoid",)),
        ("go_backwards", (False, None)),
        ("stateful", (False, None)),
        ("return_state", (False, None)),
    ):
        if cfg.get(key, allowed[0]) not in allowed:
            raise FormatError(
                f"LSTM {name!r} has {key}={cfg.get(key)!r}; playml reads LSTMs with {key}={allowed[0]!r} only."
            )
    kernel, recurrent = take("kernel"), take("recurrent_kernel")
    units = int(cfg.get("units", recurrent.shape[0]))
    if recurrent.shape != (units, 4 * units) or kernel.shape[1] != 4 * units:
        raise FormatError(f"LSTM {name!r}: weight shapes {kernel.shape}, {recurrent.shape} do not fit {units} units.")
    m = LSTMSequence(kernel.shape[0], units, return_sequences=bool(cfg.get("return_sequences", False)))
    lstm = m.lstm
    lstm.weight_ih_l0 = nn.Parameter(torch.from_numpy(np.ascontiguousarray(kernel.T)))
    lstm.weight_hh_l0 = nn.Parameter(torch.from_numpy(np.ascontiguousarray(recurrent.T)))
    bias = take("bias") if cfg.get("use_bias", True) else np.zeros(4 * units, np.float32)
    lstm.bias_ih_l0 = nn.Parameter(torch.from_numpy(np.ascontiguousarray(bias)))
    lstm.bias_hh_l0 = nn.Parameter(torch.zeros(4 * units))
    lstm.flatten_parameters()
    return m


#: TF.js sequence layer → (write, read) converters.
SEQUENCE_LAYERS = {"Embedding": (_embedding_to_tfjs, _embedding_from_tfjs), "LSTM": (_lstm_to_tfjs, _lstm_from_tfjs)}


def sequence_to_tfjs(
    module, *, weights_path: str = "model.weights.bin", name: str = "sequential_1"
) -> tuple[dict[str, Any], bytes]:
    """Convert ``nn.Sequential(nn.Embedding, LSTMSequence, …, nn.Linear[, activation])`` to TF.js
    layers ``(model_json, weights)``; the model takes N×T character (token) ids."""
    if not isinstance(module, nn.Sequential) or not len(module) or not isinstance(module[0], nn.Embedding):
        raise FormatError("A sequence model to save for TF.js is an nn.Sequential starting with nn.Embedding.")
    layers: list[dict] = []
    specs: list[dict] = []
    blobs: list[bytes] = []
    mods = list(module)
    i = 0
    while i < len(mods):
        m = mods[i]
        n = len(layers) + 1
        if isinstance(m, nn.Embedding):
            layer, weights = _embedding_to_tfjs(m, f"embedding_Embedding{n}", not layers)
        elif isinstance(m, LSTMSequence):
            layer, weights = _lstm_to_tfjs(m, f"lstm_LSTM{n}", not layers)
        elif isinstance(m, nn.Linear):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            act = _activation_name(nxt) if nxt is not None else None
            weights = [("kernel", m.weight.detach().cpu().numpy().T)]
            if m.bias is not None:
                weights.append(("bias", m.bias.detach().cpu().numpy()))
            layer = {
                "class_name": "Dense",
                "config": {
                    "units": m.out_features,
                    "activation": act or "linear",
                    "use_bias": m.bias is not None,
                    "kernel_initializer": _GLOROT,
                    "bias_initializer": _initializer("Zeros"),
                    **_NO_REG,
                    "name": f"dense_Dense{n}",
                    "trainable": True,
                },
            }
            i += 1 if act else 0
        elif isinstance(m, nn.Dropout):
            layer, weights = (
                {
                    "class_name": "Dropout",
                    "config": {
                        "rate": float(m.p),
                        "noise_shape": None,
                        "seed": None,
                        "name": f"dropout_Dropout{n}",
                        "trainable": True,
                    },
                },
                [],
            )
        else:
            raise FormatError(
                f"{type(m).__name__} cannot be saved in a TF.js sequence model. Supported: "
                "Embedding, LSTMSequence, Linear (+ activation), Dropout."
            )
        layers.append(layer)
        for wname, array in weights:
            array = np.ascontiguousarray(array, dtype="<f4")
            specs.append({"name": f"{layer['config']['name']}/{wname}", "shape": list(array.shape), "dtype": "float32"})
            blobs.append(array.tobytes())
        i += 1
    model_json = {
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": name, "layers": layers},
            "keras_version": _KERAS_VERSION,
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": [f"./{weights_path}"], "weights": specs}],
    }
    return model_json, b"".join(blobs)


def sequence_from_tfjs(model_json: dict, weights: bytes):
    """Build the ``nn.Sequential`` (eval mode) of a TF.js Embedding/LSTM/Dense model."""
    layers = _layers(_topology(model_json))
    arrays = dict(_weight_arrays(model_json, bytes(weights)))
    mods: list = []
    for layer in layers:
        cls, cfg = layer.get("class_name"), layer.get("config", {})
        name = cfg.get("name", cls)

        def take(what: str, _name=name):
            for key in (f"{_name}/{what}", f"{_name}/{what}:0"):
                if key in arrays:
                    return arrays[key]
            found = [k for k in arrays if k.startswith(f"{_name}/") and k.rsplit("/", 1)[-1].split(":")[0] == what]
            if found:
                return arrays[found[0]]
            raise FormatError(f"The weights file has no {what} for layer {_name!r}.")

        if cls in SEQUENCE_LAYERS:
            mods.append(SEQUENCE_LAYERS[cls][1](cfg, take))
        elif cls == "Dense":
            kernel = take("kernel")
            lin = nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg.get("use_bias", True))
            lin.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(kernel.T)))
            if lin.bias is not None:
                lin.bias = nn.Parameter(torch.from_numpy(np.ascontiguousarray(take("bias"))))
            mods.append(lin)
            act = _activation_module(cfg.get("activation", "linear"))
            if act is not None:
                mods.append(act)
        elif cls == "Dropout":
            mods.append(nn.Dropout(float(cfg.get("rate", 0.0))))
        elif cls == "InputLayer":
            continue
        else:
            raise FormatError(
                f"Layer {name!r} is a {cls}; playml's sequence models read Embedding, LSTM, Dense and Dropout layers."
            )
    model = nn.Sequential(*mods)
    model.eval()
    return model


class _EmbeddingIds(nn.Module):
    """An embedding inside a generic layers graph, where TF.js feeds ids as floats."""

    def __init__(self, embedding: nn.Module):
        super().__init__()
        self.embedding = embedding

    def forward(self, x):
        return self.embedding(x.long())


def _build_sequence_layer(cfg, w: _Weights, cls: str):
    module = SEQUENCE_LAYERS[cls][1](cfg, lambda what: w.get(cfg["name"], what))
    return _EmbeddingIds(module) if cls == "Embedding" else module


# The generic reader (build_layers_model, ml.load of a TF.js folder) reads them too.
LAYER_BUILDERS.update({"Embedding": _build_sequence_layer, "LSTM": _build_sequence_layer})


def load_layers_model(path: str | os.PathLike) -> LayersModel:
    """Any TF.js layers model folder (``model.json`` + weights) as a :class:`LayersModel`."""
    return LayersModel.from_directory(path)
