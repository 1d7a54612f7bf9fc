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

Public API::

    to_tfjs(module, *, input_shape=None, weights_path="model.weights.bin") -> (model_json, weights)
    from_tfjs(model_json, weights) -> nn.Sequential
    read_tfjs(directory, model_file="model.json") -> (model_json, weights)
    input_shape(model_json) -> tuple        # e.g. (3,) or (64, 64, 4)

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from playml.errors import FormatError, MissingFileError

__all__ = ["to_tfjs", "from_tfjs", "read_tfjs", "input_shape", "ChannelsFirst", "ChannelsLastFlatten",
           "ACTIVATIONS"]

#: TF.js activation names that playml reads and writes.
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "logSoftmax", "elu", "selu",
               "softplus", "softsign", "swish", "mish", "gelu", "gelu_new")

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

def _activation_module(name: str):
    table = {
        "relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
        "softmax": lambda: nn.Softmax(dim=-1), "logSoftmax": lambda: nn.LogSoftmax(dim=-1),
        "log_softmax": lambda: nn.LogSoftmax(dim=-1), "elu": nn.ELU, "selu": nn.SELU,
        "softplus": nn.Softplus, "softsign": nn.Softsign, "swish": nn.SiLU, "silu": nn.SiLU,
        "mish": nn.Mish, "gelu": nn.GELU, "gelu_new": lambda: nn.GELU(approximate="tanh"),
    }
    if name in (None, "linear"):
        return None
    if name not in table:
        raise FormatError(f"The activation {name!r} is not supported by playml. "
                          f"Supported: {', '.join(ACTIVATIONS)}.")
    return table[name]()


def _activation_name(module) -> str | None:
    """The TF.js name of an activation module, or None if ``module`` is not one."""
    if isinstance(module, nn.Identity):
        return "linear"
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        if module.dim not in (-1, 1, None):
            raise FormatError(f"{module} works along dim={module.dim}; TF.js applies it to the last axis. "
                              "Use dim=-1.")
        return "softmax" if isinstance(module, nn.Softmax) else "logSoftmax"
    if isinstance(module, nn.ELU) and module.alpha != 1.0:
        raise FormatError(f"TF.js's elu has alpha=1; nn.ELU(alpha={module.alpha}) cannot be saved.")
    if isinstance(module, nn.Softplus) and (module.beta != 1 or module.threshold != 20):
        raise FormatError("Only nn.Softplus() with its default beta can be saved for TF.js.")
    if isinstance(module, nn.GELU):
        return "gelu_new" if module.approximate == "tanh" else "gelu"
    simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ELU: "elu",
              nn.SELU: "selu", nn.Softplus: "softplus", nn.Softsign: "softsign", nn.SiLU: "swish",
              nn.Mish: "mish"}
    return simple.get(type(module))


# ---------------------------------------------------------------- writing

def _initializer(name: str, config: dict | None = None) -> dict:
    return {"class_name": name, "config": config or {}}


_GLOROT = _initializer("VarianceScaling", {"scale": 1, "mode": "fan_avg", "distribution": "uniform", "seed": None})
_NO_REG = {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
           "kernel_constraint": None, "bias_constraint": None}


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def to_tfjs(module, *, input_shape: Sequence[int] | None = None, weights_path: str = "model.weights.bin",
            name: str = "sequential_1") -> tuple[dict[str, Any], bytes]:
    """Convert ``module`` (an ``nn.Sequential``) to TF.js layers ``(model_json, weights)``.

    ``model_json`` is the content of ``model.json`` (a dict, ready for ``json.dumps``) and
    ``weights`` the content of ``model.weights.bin``. ``input_shape`` (without the batch
    axis) is needed for convolutional models, e.g. ``(64, 64, 4)`` for H×W×C; dense models
    take it from the first ``nn.Linear``.
    """
    if not isinstance(module, nn.Sequential):
        raise FormatError("Only an nn.Sequential can be saved in the TF.js layers format "
                          f"(got {type(module).__name__}).")
    mods = [m for m in module if not isinstance(m, ChannelsFirst)]
    layers: list[dict[str, Any]] = []
    specs: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    counts: dict[str, int] = {}
    spatial = False

    def add(class_name: str, config: dict[str, Any], weights: Sequence[tuple[str, Any]] = ()) -> dict:
        counts[class_name] = counts.get(class_name, 0) + 1
        prefix = {"Dense": "dense", "Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d",
                  "AveragePooling2D": "average_pooling2d", "Flatten": "flatten", "Dropout": "dropout",
                  "Activation": "activation"}[class_name]
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
        raise FormatError("Give input_shape=(height, width, channels) to save a model that does not start "
                          "with nn.Linear.")

    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        act = _activation_name(nxt) if nxt is not None else None
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().numpy().T
            ws = [("kernel", w)] + ([("bias", m.bias.detach().cpu().numpy())] if m.bias is not None else [])
            add("Dense", {"units": m.out_features, "activation": act or "linear", "use_bias": m.bias is not None,
                          "kernel_initializer": _GLOROT, "bias_initializer": _initializer("Zeros"), **_NO_REG}, ws)
            i += 2 if act else 1
        elif isinstance(m, nn.Conv2d):
            if m.groups != 1 or m.padding_mode != "zeros":
                raise FormatError("Only plain nn.Conv2d (groups=1, zero padding) can be saved for TF.js.")
            if m.padding == "same" or (m.padding == tuple(k // 2 for k in m.kernel_size)
                                      and all(k % 2 for k in m.kernel_size) and m.padding != (0, 0)
                                      and m.stride == (1, 1)):
                padding = "same"
            elif m.padding in ("valid", (0, 0)):
                padding = "valid"
            else:
                raise FormatError(f"{m} pads by {m.padding}; TF.js only knows 'valid' (0) and 'same'.")
            kernel = m.weight.detach().cpu().numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
            ws = [("kernel", kernel)] + ([("bias", m.bias.detach().cpu().numpy())] if m.bias is not None else [])
            add("Conv2D", {"filters": m.out_channels, "kernel_initializer": _GLOROT, "kernel_size": list(m.kernel_size),
                           "strides": list(m.stride), "padding": padding, "data_format": "channels_last",
                           "dilation_rate": list(m.dilation), "activation": act or "linear",
                           "use_bias": m.bias is not None, "bias_initializer": _initializer("Zeros"), **_NO_REG}, ws)
            spatial = True
            i += 2 if act else 1
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            if _pair(m.padding) != [0, 0] or getattr(m, "ceil_mode", False) or _pair(getattr(m, "dilation", 1)) != [1, 1]:
                raise FormatError(f"{m}: only pooling without padding, dilation or ceil_mode can be saved for TF.js.")
            add("MaxPooling2D" if isinstance(m, nn.MaxPool2d) else "AveragePooling2D",
                {"pool_size": _pair(m.kernel_size), "padding": "valid",
                 "strides": _pair(m.stride if m.stride is not None else m.kernel_size),
                 "data_format": "channels_last"})
            i += 1
        elif isinstance(m, ChannelsLastFlatten) or isinstance(m, nn.Flatten):
            if isinstance(m, nn.Flatten) and spatial:
                raise FormatError("After convolutions use playml.formats.tfjs.ChannelsLastFlatten() instead of "
                                  "nn.Flatten(), so the following Dense layer sees TF.js's H, W, C order.")
            add("Flatten", {})
            i += 1
        elif isinstance(m, nn.Dropout):
            add("Dropout", {"rate": float(m.p), "noise_shape": None, "seed": None})
            i += 1
        elif _activation_name(m) is not None:
            add("Activation", {"activation": _activation_name(m)})
            i += 1
        else:
            raise FormatError(f"{type(m).__name__} cannot be saved in the TF.js layers format. Supported: "
                              "Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout and activations.")
    if not layers:
        raise FormatError("The model has no layers to save.")
    model_json = {
        "modelTopology": {"class_name": "Sequential", "config": {"name": name, "layers": layers},
                          "keras_version": _KERAS_VERSION, "backend": "tensor_flow.js"},
        "weightsManifest": [{"paths": [f"./{weights_path}"], "weights": specs}],
    }
    return model_json, b"".join(blobs)


def _is_passive(m) -> bool:
    return isinstance(m, (nn.Dropout, nn.Identity))


# ---------------------------------------------------------------- reading

def _topology(model_json: dict) -> dict:
    if not isinstance(model_json, dict) or "modelTopology" not in model_json:
        raise FormatError("model.json has no 'modelTopology': it is not a TensorFlow.js layers model "
                          "(a graph model from the TF.js converter cannot be trained or read by playml).")
    topo = model_json["modelTopology"]
    if isinstance(topo, dict) and "model_config" in topo:  # Keras files converted by tensorflowjs
        topo = topo["model_config"]
    if not isinstance(topo, dict) or topo.get("class_name") != "Sequential":
        kind = topo.get("class_name") if isinstance(topo, dict) else type(topo).__name__
        raise FormatError(f"model.json describes a {kind!r} model; playml reads Sequential models "
                          "(what ml5.js and tf.sequential() save).")
    return topo


def _layers(topo: dict) -> list[dict]:
    config = topo.get("config")
    layers = config.get("layers") if isinstance(config, dict) else config
    if not isinstance(layers, list) or not layers:
        raise FormatError("model.json lists no layers.")
    return layers


def input_shape(model_json: dict) -> tuple[int, ...]:
    """The input shape without the batch axis, e.g. ``(3,)`` or ``(64, 64, 4)``."""
    for layer in _layers(_topology(model_json)):
        cfg = layer.get("config", {})
        for key in ("batch_input_shape", "batch_shape"):
            if cfg.get(key):
                return tuple(int(v) for v in cfg[key][1:])
        if cfg.get("input_shape"):
            return tuple(int(v) for v in cfg["input_shape"])
    raise FormatError("model.json does not say the shape of its input (no batch_input_shape).")


def _weight_arrays(model_json: dict, weights: bytes) -> list[tuple[str, np.ndarray]]:
    manifest = model_json.get("weightsManifest")
    if not isinstance(manifest, list):
        raise FormatError("model.json has no 'weightsManifest' listing the weights.")
    out, offset = [], 0
    for group in manifest:
        for spec in group.get("weights", []):
            if spec.get("quantization"):
                raise FormatError("This model's weights are quantized; playml reads float32 weights only.")
            if spec.get("dtype", "float32") != "float32":
                raise FormatError(f"Weight {spec.get('name')} is {spec.get('dtype')}; playml reads float32 only.")
            shape = [int(v) for v in spec["shape"]]
            size = int(np.prod(shape)) * 4
            if offset + size > len(weights):
                raise FormatError(f"model.weights.bin is too short: it ends before the weight {spec['name']!r} "
                                  "(was it saved or copied completely?).")
            out.append((spec["name"], np.frombuffer(weights, dtype="<f4", count=size // 4, offset=offset)
                        .reshape(shape).astype(np.float32)))
            offset += size
    if offset != len(weights):
        raise FormatError(f"model.weights.bin holds {len(weights)} bytes but model.json describes {offset}; "
                          "the two files do not belong together.")
    return out


def from_tfjs(model_json: dict, weights: bytes):
    """Build an ``nn.Sequential`` (in eval mode) from TF.js layers ``model.json`` content and weights."""
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
        cls, cfg = layer.get("class_name"), layer.get("config", {})
        name = cfg.get("name", cls)
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
            stride, dilation = _pair(cfg.get("strides", 1)), _pair(cfg.get("dilation_rate", 1))
            padding = cfg.get("padding", "valid")
            if padding == "same" and stride != [1, 1]:
                raise FormatError(f"Conv2D layer {name!r} uses 'same' padding with strides {stride}; "
                                  "playml reads 'same' padding with stride 1 only.")
            conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel_size=tuple(kernel.shape[:2]),
                             stride=tuple(stride), padding=padding, dilation=tuple(dilation),
                             bias=cfg.get("use_bias", True))
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
            pool = _pair(cfg.get("pool_size", 2))
            stride = _pair(cfg.get("strides") or pool)
            mods.append((nn.MaxPool2d if cls == "MaxPooling2D" else nn.AvgPool2d)(tuple(pool), tuple(stride)))
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
            raise FormatError(f"Layer {name!r} is a {cls}, which playml cannot read yet. It reads Dense, Conv2D, "
                              "MaxPooling2D, AveragePooling2D, Flatten, Dropout and Activation layers.")
        act = _activation_module(cfg.get("activation", "linear"))
        if act is not None:
            mods.append(act)
    model = nn.Sequential(*mods)
    model.eval()
    return model


def read_tfjs(directory: str | os.PathLike, model_file: str = "model.json") -> tuple[dict[str, Any], bytes]:
    """Read ``model.json`` and the weight files its manifest names from ``directory``."""
    from playml.core.saving import read_json

    directory = Path(directory)
    model_json = read_json(directory / model_file, "model file")
    manifest = model_json.get("weightsManifest") if isinstance(model_json, dict) else None
    if not isinstance(manifest, list):
        raise FormatError(f"{directory / model_file} has no 'weightsManifest'; it is not a TF.js layers model.")
    parts = []
    for group in manifest:
        for rel in group.get("paths", []):
            path = directory / rel.removeprefix("./")
            if not path.is_file():
                raise MissingFileError(f"The weights file {path.name!r} is missing from {directory}. "
                                       f"{model_file} needs it; copy all three files of the saved model "
                                       "(model.json, model.weights.bin, model_meta.json).")
            parts.append(path.read_bytes())
    return model_json, b"".join(parts)
