"""Write functional TF.js layers models (``tf.model`` graphs), and playml's image backbones as them.

:class:`FunctionalWriter` builds the ``model.json`` of a functional model layer by layer,
in the exact shape tfjs-layers 4.x writes, and packs the weights::

    w = FunctionalWriter("net")
    x = w.input("image", (32, 32, 3))
    y = w.conv2d("conv", x, kernel_hwio, bias, strides=2, padding="same", activation="relu6")
    y = w.global_average_pooling2d("pool", y)
    y = w.dense("probs", y, kernel_in_out, bias, activation="softmax")
    model_json, weights = w.finish([y])

:func:`inverted_residual_to_tfjs` writes an EfficientNet-Lite / MobileNetV2 network of
:mod:`playml.zoo.network` (read by duck typing: ``stem``, ``blocks``, ``head``, each a conv +
batch norm + ReLU6) with its batch norms folded into the convolutions, followed by a dense
head, as one such model. Only standard layers are used (InputLayer, DepthwiseConv2D,
Conv2D, ZeroPadding2D, Add, GlobalAveragePooling2D, Dense), so TF.js, ml5.js and
``@teachablemachine/image`` load it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from playml.errors import FormatError

__all__ = ["FunctionalWriter", "inverted_residual_to_tfjs", "TFJS_LAYERS_VERSION"]

TFJS_LAYERS_VERSION = "4.22.0"

_ZEROS = {"class_name": "Zeros", "config": {}}
_GLOROT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1, "mode": "fan_avg", "distribution": "uniform", "seed": None},
}
_NO_REG = {"bias_regularizer": None, "activity_regularizer": None, "bias_constraint": None}


class FunctionalWriter:
    """Build a functional TF.js layers model: one call per layer, then :meth:`finish`."""

    def __init__(self, name: str = "model"):
        self.name = name
        self.layers: list[dict[str, Any]] = []
        self.inputs: list[list] = []
        self.specs: list[dict[str, Any]] = []
        self.blobs: list[bytes] = []
        self._names: set[str] = set()

    # -- plumbing
    def _add(
        self,
        class_name: str,
        name: str,
        config: dict,
        inputs: Sequence[str],
        weights: Sequence[tuple[str, np.ndarray]] = (),
    ) -> str:
        if name in self._names:
            raise FormatError(f"Two layers are named {name!r}.")
        self._names.add(name)
        self.layers.append(
            {
                "name": name,
                "class_name": class_name,
                "config": {**config, "name": name, "trainable": True},
                "inbound_nodes": [[[src, 0, 0, {}] for src in inputs]] if inputs else [],
            }
        )
        for wname, array in weights:
            array = np.ascontiguousarray(array, dtype="<f4")
            self.specs.append({"name": f"{name}/{wname}", "shape": list(array.shape), "dtype": "float32"})
            self.blobs.append(array.tobytes())
        return name

    def input(self, name: str, shape: Sequence[int]) -> str:
        self._names.add(name)
        self.layers.append(
            {
                "name": name,
                "class_name": "InputLayer",
                "config": {
                    "batch_input_shape": [None, *[int(v) for v in shape]],
                    "dtype": "float32",
                    "sparse": False,
                    "name": name,
                },
                "inbound_nodes": [],
            }
        )
        self.inputs.append([name, 0, 0])
        return name

    # -- layers
    def conv2d(
        self,
        name: str,
        x: str,
        kernel: np.ndarray,
        bias: np.ndarray | None,
        *,
        strides: int = 1,
        padding: str = "valid",
        activation: str = "linear",
    ) -> str:
        """``kernel`` is H×W×in×out (TF.js's layout)."""
        config = {
            "filters": int(kernel.shape[3]),
            "kernel_initializer": _GLOROT,
            "kernel_regularizer": None,
            "kernel_constraint": None,
            "kernel_size": list(kernel.shape[:2]),
            "strides": [strides, strides],
            "padding": padding,
            "data_format": "channels_last",
            "dilation_rate": [1, 1],
            "activation": activation,
            "use_bias": bias is not None,
            "bias_initializer": _ZEROS,
            **_NO_REG,
        }
        return self._add(
            "Conv2D", name, config, [x], [("kernel", kernel)] + ([("bias", bias)] if bias is not None else [])
        )

    def depthwise_conv2d(
        self,
        name: str,
        x: str,
        kernel: np.ndarray,
        bias: np.ndarray | None,
        *,
        strides: int = 1,
        padding: str = "valid",
        activation: str = "linear",
    ) -> str:
        """``kernel`` is H×W×channels×multiplier."""
        config = {
            "kernel_size": list(kernel.shape[:2]),
            "strides": [strides, strides],
            "padding": padding,
            "data_format": "channels_last",
            "dilation_rate": [1, 1],
            "activation": activation,
            "use_bias": bias is not None,
            "bias_initializer": _ZEROS,
            **_NO_REG,
            "depth_multiplier": int(kernel.shape[3]),
            "depthwise_initializer": _GLOROT,
            "depthwise_regularizer": None,
            "depthwise_constraint": None,
        }
        return self._add(
            "DepthwiseConv2D",
            name,
            config,
            [x],
            [("depthwise_kernel", kernel)] + ([("bias", bias)] if bias is not None else []),
        )

    def zero_padding2d(self, name: str, x: str, padding: tuple[tuple[int, int], tuple[int, int]]) -> str:
        return self._add(
            "ZeroPadding2D",
            name,
            {"padding": [list(padding[0]), list(padding[1])], "data_format": "channels_last"},
            [x],
        )

    def add(self, name: str, xs: Sequence[str]) -> str:
        return self._add("Add", name, {}, list(xs))

    def global_average_pooling2d(self, name: str, x: str) -> str:
        return self._add("GlobalAveragePooling2D", name, {"data_format": "channels_last"}, [x])

    def dense(
        self, name: str, x: str, kernel: np.ndarray, bias: np.ndarray | None, *, activation: str = "linear"
    ) -> str:
        """``kernel`` is in×out."""
        config = {
            "units": int(kernel.shape[1]),
            "activation": activation,
            "use_bias": bias is not None,
            "kernel_initializer": _GLOROT,
            "bias_initializer": _ZEROS,
            "kernel_regularizer": None,
            "kernel_constraint": None,
            **_NO_REG,
        }
        return self._add(
            "Dense", name, config, [x], [("kernel", kernel)] + ([("bias", bias)] if bias is not None else [])
        )

    # -- the files
    def finish(self, outputs: Sequence[str], weights_path: str = "weights.bin") -> tuple[dict[str, Any], bytes]:
        model_json = {
            "modelTopology": {
                "class_name": "Model",
                "config": {
                    "name": self.name,
                    "layers": self.layers,
                    "input_layers": self.inputs,
                    "output_layers": [[o, 0, 0] for o in outputs],
                },
                "keras_version": f"tfjs-layers {TFJS_LAYERS_VERSION}",
                "backend": "tensor_flow.js",
            },
            "format": "layers-model",
            "generatedBy": "playml",
            "convertedBy": None,
            "weightsManifest": [{"paths": [f"./{weights_path}"], "weights": self.specs}],
        }
        return model_json, b"".join(self.blobs)


def _fold(conv_bn) -> tuple[np.ndarray, np.ndarray]:
    """A ConvBN's convolution with its batch norm folded in: (OIHW weight, bias) as float64."""
    conv, bn = conv_bn.conv, conv_bn.bn
    w = conv.weight.detach().double().numpy()
    scale = (bn.weight.detach().double() / (bn.running_var.detach().double() + bn.eps).sqrt()).numpy()
    bias = bn.bias.detach().double().numpy() - bn.running_mean.detach().double().numpy() * scale
    if conv.bias is not None:
        bias = bias + conv.bias.detach().double().numpy() * scale
    return w * scale[:, None, None, None], bias


def _activation_of(conv_bn) -> str:
    from torch import nn

    if isinstance(conv_bn.act, nn.ReLU6):
        return "relu6"
    if isinstance(conv_bn.act, nn.Identity):
        return "linear"
    raise FormatError(f"{type(conv_bn.act).__name__} has no TF.js counterpart here.")


def _conv_bn(w: FunctionalWriter, name: str, x: str, conv_bn, *, same_padding: bool) -> str:
    weight, bias = _fold(conv_bn)
    conv = conv_bn.conv
    k, stride = int(conv.kernel_size[0]), int(conv.stride[0])
    if same_padding or k == 1:
        padding = "same" if k > 1 else "valid"
    elif stride == 1 and k % 2 == 1:
        padding = "same"  # symmetric k // 2 equals TF's 'same' at stride 1
    else:
        p = int(conv.padding[0])
        x = w.zero_padding2d(f"{name}_pad", x, ((p, p), (p, p)))
        padding = "valid"
    act = _activation_of(conv_bn)
    if conv.groups == 1:
        return w.conv2d(name, x, weight.transpose(2, 3, 1, 0), bias, strides=stride, padding=padding, activation=act)
    if conv.groups != conv.in_channels or conv.out_channels != conv.in_channels:
        raise FormatError(f"{name}: only plain or depthwise convolutions can be written for TF.js.")
    return w.depthwise_conv2d(
        name, x, weight.transpose(2, 3, 0, 1), bias, strides=stride, padding=padding, activation=act
    )  # (C,1,kh,kw) -> kh kw C 1


def inverted_residual_to_tfjs(
    net,
    *,
    input_size: int,
    layer: str = "head",
    head: Sequence[tuple[str, Any]] = (),
    input_scale: Sequence[float] | np.ndarray | None = None,
    input_shift: Sequence[float] | np.ndarray | None = None,
    same_padding: bool,
    name: str = "playml_image_model",
    weights_path: str = "weights.bin",
) -> tuple[dict[str, Any], bytes]:
    """An :class:`~playml.zoo.network.InvertedResidualNet` up to ``layer`` (pooled), then ``head``, as TF.js.

    ``head`` lists ``(activation, nn.Linear)`` pairs. ``input_scale``/``input_shift`` (per
    channel) map the model's input onto what the backbone was trained on, as a first 1×1
    depthwise layer (e.g. Teachable Machine's ``x / 127 - 1`` onto ``(x / 255 - mean) / std``).
    """
    w = FunctionalWriter(name)
    x = w.input("input_1", (input_size, input_size, 3))
    if input_scale is not None:
        scale = np.asarray(input_scale, dtype=np.float64).reshape(1, 1, 3, 1)
        x = w.depthwise_conv2d("input_normalization", x, scale, np.asarray(input_shift, dtype=np.float64))
    x = _conv_bn(w, "stem", x, net.stem, same_padding=same_padding)
    last = (
        len(net.blocks) - 1 if layer in ("head", "features") else (-1 if layer == "stem" else int(layer.split(".")[1]))
    )
    for i, block in enumerate(net.blocks[: last + 1]):
        y = x
        if block.expand is not None:
            y = _conv_bn(w, f"block_{i}_expand", y, block.expand, same_padding=same_padding)
        y = _conv_bn(w, f"block_{i}_depthwise", y, block.depthwise, same_padding=same_padding)
        y = _conv_bn(w, f"block_{i}_project", y, block.project, same_padding=same_padding)
        x = w.add(f"block_{i}_add", [x, y]) if block.residual else y
    if layer in ("head", "features"):
        x = _conv_bn(w, "head", x, net.head, same_padding=same_padding)
    x = w.global_average_pooling2d("features", x)
    for i, (activation, linear) in enumerate(head):
        bias = linear.bias.detach().double().numpy() if linear.bias is not None else None
        x = w.dense(f"dense_{i + 1}", x, linear.weight.detach().double().numpy().T, bias, activation=activation)
    return w.finish([x], weights_path)
