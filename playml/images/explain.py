"""Look inside a model: its layers, what a layer sees, its values, and where it looked.

A :class:`ModelExplorer` opens any image model playml can load — a bundled backbone by name, an
image classifier taught with playml, a Teachable Machine image export or another TF.js layers
model, an ml5.js image network (``task="imageClassification"``, square inputs) — and answers four questions (after tfjs-vis and Grad-CAM):

>>> import playml as ml
>>> ex = ml.model_explorer("mobilenet-v2")
>>> ex
ModelExplorer(model='mobilenet-v2', kind='backbone')
>>> ex.summary()[0]                                   # doctest: +SKIP
LayerSummary(name='stem', type='ConvBN', shape=(32, 112, 112), parameters=928)
>>> ex.activations("photo.jpg", "blocks.2").shape     # channels × height × width  # doctest: +SKIP
(24, 56, 56)
>>> ex.distribution("blocks.2")                       # its weights' histogram  # doctest: +SKIP
>>> ex.grad_cam("cat.jpg").label                      # doctest: +SKIP
'tabby cat'

It opens table models too — a network taught with :func:`playml.neural_network`, an ml5.js
``neuralNetwork`` folder, a TF.js layers model with a flat input: one row of numbers (or choices)
goes in instead of an image, the summary lists the dense layers, and :meth:`ModelExplorer.attribution`
(gradient × input per input) stands in for Grad-CAM, which needs feature maps a row does not have.

It runs the network in PyTorch (imported on first use): Grad-CAM needs gradients, which the ONNX
sessions used for inference do not give.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.media import is_many, iter_many, load_image
from playml.core.reprs import build_repr
from playml.core.threads import torch_threads
from playml.errors import InputError, TaskError, unknown_name
from playml.results import Prediction, Result, Value

__all__ = ["ModelExplorer", "model_explorer", "LayerSummary", "ValueDistribution", "GradCAM", "InputAttribution"]


@dataclass(repr=False)
class LayerSummary(Result):
    """One row of :meth:`ModelExplorer.summary`: a layer, its kind, the shape of its output for one
    image (channels first for playml's networks; height, width, channels for TF.js models, as TF.js
    prints them) and the number of parameters (weights) it holds."""

    name: str
    type: str
    shape: tuple
    parameters: int


@dataclass(repr=False)
class ValueDistribution(Result):
    """A histogram of a layer's values: ``counts[i]`` values fall in ``edges[i]`` … ``edges[i + 1]``."""

    layer: str
    what: str  # "weights" or "activations"
    counts: np.ndarray
    edges: np.ndarray
    mean: float
    std: float
    min: float
    max: float
    size: int


@dataclass(repr=False)
class GradCAM(Result):
    """Where the model looked for its answer (Grad-CAM, Selvaraju et al. 2017).

    ``heatmap`` is 0–1 for every pixel of the image (H×W; 0 outside the part the model sees,
    ``box``); ``cam`` is the same map at the layer's own resolution, over the box.
    :meth:`overlay` draws it on the image.
    """

    label: str
    confidence: float
    layer: str
    box: tuple  # (left, top, right, bottom) of the square the model sees, in the image's pixels
    cam: np.ndarray = field(repr=False)
    heatmap: np.ndarray = field(repr=False)
    image: np.ndarray = field(repr=False)

    def peak(self) -> tuple[int, int]:
        """``(x, y)`` of the hottest pixel of :attr:`heatmap`."""
        y, x = np.unravel_index(int(np.argmax(self.heatmap)), self.heatmap.shape)
        return int(x), int(y)

    def overlay(self, alpha: float = 0.5) -> np.ndarray:
        """The image with the heat map drawn over it (red = most important), H×W×3 uint8."""
        return overlay_heat(self.image, self.heatmap, alpha)


@dataclass(repr=False)
class InputAttribution(Result):
    """Which inputs of a table model pushed an answer, and which way: gradient × input.

    ``values[i]`` is, for input ``inputs[i]``, the output's gradient times the input as the network
    gets it (scaled to 0–1 when the model normalises, one-hot for a choice, summed over its columns):
    positive pushed ``label`` up, negative pushed it down. ``score`` is the output explained (the
    class's probability, or the predicted number); ``row`` the values that went in.
    """

    label: str
    score: float
    inputs: list
    values: np.ndarray
    row: dict = field(default_factory=dict)


def heat_colours(values: np.ndarray) -> np.ndarray:
    """0–1 values → RGB uint8 (dark blue → cyan → yellow → red), a jet-like map."""
    v = np.clip(np.asarray(values, np.float32), 0, 1)
    r = np.clip(1.5 - np.abs(4 * v - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * v - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * v - 1), 0, 1)
    return (np.stack([r, g, b], axis=-1) * 255).round().astype(np.uint8)


def overlay_heat(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a 0–1 heat map (same height and width) over an RGB image; weight grows with the heat."""
    a = (alpha * np.clip(heatmap, 0, 1) ** 0.5)[..., None]
    out = image.astype(np.float32) * (1 - a) + heat_colours(heatmap).astype(np.float32) * a
    return out.round().clip(0, 255).astype(np.uint8)


#: Activation modules' names as TF.js and ml5.js write them.
_ACTIVATIONS = {
    "ReLU": "relu",
    "Sigmoid": "sigmoid",
    "Softmax": "softmax",
    "Tanh": "tanh",
    "ELU": "elu",
    "SELU": "selu",
    "Softplus": "softplus",
    "LeakyReLU": "leakyrelu",
    "Identity": "linear",
}


class _Stop(Exception):
    """Raised by a hook once the layer asked for has run: the rest of the network is skipped."""


def _tensor_of(out: Any):
    return out[0] if isinstance(out, (list, tuple)) else out


class ModelExplorer:
    """Look inside an image model, or a table model (one row of numbers in).

    Parameters
    ----------
    model : a bundled backbone's name (``"efficientnet-lite0"``, ``"mobilenet-v2"``, …), the
        folder of a saved model (a taught image classifier, a Teachable Machine image export, a
        TF.js layers model; anything :func:`playml.load` reads), or such a model already loaded
        (also :class:`playml.ImageClassifier` and :class:`playml.FeatureExtractor`). Table models:
        a :class:`playml.NeuralNetwork` (trained, or its saved or ml5.js folder) and a TF.js layers
        model with a flat input; their methods take a row (a dict by input name, or the values in
        order) where image models take an image.

    threads : PyTorch threads while the explorer runs (1 by default: one image at a time runs
        about as fast on one thread, and far faster than on two when other work shares the CPU).

    Nothing loads until first use. :meth:`summary` lists the layers; :meth:`activations`,
    :meth:`distribution` and :meth:`grad_cam` take a layer name from it.
    """

    def __init__(self, model: Any = "efficientnet-lite0", *, threads: int = 1):
        from playml.zoo import backbone_names, get_backbone

        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise InputError(f"threads must be a whole number ≥ 1 (got {threads!r}).")
        self.model_name = model
        self.threads = threads
        self._loaded: Any = None
        self._net: Any = None
        if isinstance(model, str) and os.sep not in model and not Path(model).exists():
            try:
                get_backbone(model)
            except Exception:
                raise unknown_name("model (a backbone name or a model folder)", model, backbone_names()) from None
        elif not isinstance(model, (str, os.PathLike)):
            self._loaded = model
            _kind_of(model)  # fails early on something that is not an image model

    def __repr__(self) -> str:
        name = self.model_name if isinstance(self.model_name, (str, os.PathLike)) else type(self.model_name).__name__
        known = self._loaded is not None or self._is_backbone_name()
        return build_repr("ModelExplorer", model=str(name), kind=self.kind if known else None)

    def _is_backbone_name(self) -> bool:
        m = self.model_name
        return isinstance(m, str) and os.sep not in m and not Path(m).exists()

    # ------------------------------------------------------------------ loading
    @property
    def loaded(self) -> Any:
        """The model object (a backbone's spec, or what :func:`playml.load` returned)."""
        if self._loaded is None:
            from playml.zoo import get_backbone

            m = self.model_name
            if self._is_backbone_name():
                self._loaded = get_backbone(m)
            else:
                import playml

                self._loaded = playml.load(m)
                _kind_of(self._loaded)
        return self._loaded

    @property
    def kind(self) -> str:
        """``"backbone"``, ``"image_classification"``, ``"teachable_machine"``, ``"tfjs_layers"`` or
        ``"ml5_image"`` (image models); ``"neural_network"``, ``"tfjs_table"`` or ``"anomaly_detector"`` (table models)."""
        if self._loaded is None and self._is_backbone_name():
            return "backbone"
        return _kind_of(self.loaded)

    @property
    def network(self) -> _Network:
        if self._net is None:
            with torch_threads(self.threads):
                self._net = _Network.of(self.loaded, self.kind)
        return self._net

    @property
    def model(self):
        """The network as a ``torch.nn.Module`` (what the explorer runs)."""
        return self.network.module

    @property
    def labels(self) -> list[str]:
        """The labels the model chooses from."""
        return list(self.network.labels)

    @property
    def input_size(self) -> int:
        """Side of the square image the network takes (a table model: the numbers it takes)."""
        return self.network.size

    @property
    def is_table(self) -> bool:
        """Whether the model takes one row of numbers or choices (a table model), not an image."""
        return self.network.table

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """A table model's inputs, in order: ``{"name", "dtype": "number", "min", "max"}`` (the range
        of the training data, when the model knows it) or ``{"name", "dtype": "string", "choices"}``."""
        return [dict(f) for f in self.network.inputs]

    @property
    def title(self) -> str:
        """What the model is, in words (``'efficientnet-lite0'``, ``'the Teachable Machine model'``)."""
        return self.network.title

    @property
    def is_classifier(self) -> bool:
        """Whether the model answers with labels (so :meth:`grad_cam` can explain an answer)."""
        return self.network.classifier

    @property
    def default_layer(self) -> str:
        """The layer shown first: an early convolution, whose channels still look like the image."""
        return self.network.default_layer

    @property
    def cam_layer(self) -> str:
        """The layer :meth:`grad_cam` uses by default: the last one with feature maps."""
        return self.network.default_cam_layer

    # ------------------------------------------------------------------ the four views
    def summary(self) -> list[LayerSummary]:
        """Every layer, input to output: its name, kind, output shape (one image) and parameters."""
        return list(self.network.rows)

    @property
    def parameters(self) -> int:
        """All parameters of the model."""
        return sum(r.parameters for r in self.network.rows)

    def layer_names(self) -> list[str]:
        """The layers :meth:`activations` can read, input to output."""
        return [r.name for r in self.network.rows]

    def check_layer(self, layer: str | None) -> str:
        """A layer name checked against :meth:`layer_names` (``None`` → :attr:`default_layer`)."""
        if layer is None:
            return self.default_layer
        names = self.layer_names()
        if layer not in names:
            raise unknown_name(f"layer of {self.title}", str(layer), names)
        return layer

    def preprocess(self, image: Any) -> np.ndarray:
        """One image → the float32 input the network takes (cropped, resized, normalised); for a
        table model, one row → the numbers the network takes (scaled, choices one-hot)."""
        if self.is_table:
            return self.network._input(image)[0]
        return self.network._prep(load_image(image))[0]

    def _many(self, inputs: Any) -> bool:
        if not self.is_table:
            return is_many(inputs)
        if isinstance(inputs, np.ndarray):
            return inputs.ndim == 2
        return isinstance(inputs, (list, tuple)) and any(isinstance(v, (list, tuple, dict, np.ndarray)) for v in inputs)

    def activations(self, images: Any, layer: str | None = None) -> np.ndarray | list[np.ndarray]:
        """What ``layer`` outputs for an image: channels × height × width (float32) for a
        convolution, a 1-D array for a dense layer. Many images → a list of arrays.

        A table model takes a row instead of an image: a dict by input name (``{"r": 255, "g": 0,
        "b": 0}``) or the values in order; many rows → a list of arrays.
        """
        layer = self.check_layer(layer)
        with torch_threads(self.threads):
            if self._many(images):
                items = list(images) if self.is_table else iter_many(images)
                return [self.network.activation(item, layer) for item in items]
            return self.network.activation(images, layer)

    def all_activations(self, image: Any) -> dict[str, np.ndarray]:
        """Every layer's output for one image (or a table model's row), in one pass: name → array."""
        with torch_threads(self.threads):
            acts = self.network.all_activations(image)
        if self.network.channels_last:
            acts = {k: v.transpose(2, 0, 1) if v.ndim == 3 else v for k, v in acts.items()}
        return acts

    def outputs(self, image: Any) -> list[Prediction] | list[Value]:
        """The model's answer for one input, one entry per output in the model's order: the labels'
        confidences for a classifier, the predicted numbers (in the data's units) otherwise."""
        last = self.layer_names()[-1]
        out = self.activations(image, last)
        assert isinstance(out, np.ndarray)
        values = [float(v) for v in np.ravel(out)]
        if self.is_classifier:
            return [Prediction(label=lab, confidence=v) for lab, v in zip(self.labels, values)]
        if self.network._decode is not None:
            values = [float(v) for v in self.network._decode(values)]
        return [Value(label=lab, value=v) for lab, v in zip(self.labels, values)]

    def attribution(self, row: Any, *, label: str | int | None = None) -> InputAttribution:
        """For a table model: how much each input pushed ``label`` (default: the top class, or the
        first output of a regression) for this row, as gradient × input (the table analogue of
        Grad-CAM). Positive values pushed it up. An anomaly detector explains its anomaly score
        (the reconstruction error, in the scaled units it trains on) instead of an output."""
        if not self.is_table:
            raise TaskError("attribution() explains table models; for an image model use grad_cam().")
        with torch_threads(self.threads):
            return self.network.attribution(row, label)

    def weights(self, layer: str) -> np.ndarray:
        """Every weight of ``layer`` (all its tensors, flattened into one float32 array)."""
        return self.network.weights(self.check_layer(layer))

    def distribution(self, layer: str | None = None, image: Any = None, *, bins: int = 40) -> ValueDistribution:
        """A histogram of ``layer``'s weights or, given an ``image``, of its activations for it."""
        layer = self.check_layer(layer)
        if image is None:
            return histogram(self.weights(layer), layer, "weights", bins)
        with torch_threads(self.threads):
            return histogram(self.network.activation(image, layer), layer, "activations", bins)

    def grad_cam(
        self, images: Any, *, label: str | int | None = None, layer: str | None = None
    ) -> GradCAM | list[GradCAM]:
        """Grad-CAM: which pixels made the model choose ``label`` (default: its top answer).

        ``layer`` is the convolution whose feature maps are weighted by their gradients (default:
        the last one, which sees whole objects at a coarse resolution).
        """
        if self.is_table:
            raise TaskError(
                f"Grad-CAM highlights the pixels behind an answer, through the feature maps of a convolution; "
                f"{self.network.title} takes a row of numbers and has only dense layers, so there are no maps to "
                f"weigh. Use attribution(row) to see which inputs pushed the answer."
            )
        if not self.is_classifier:
            raise TaskError(f"{self.network.title} gives no labels, so there is no answer to explain.")
        layer = self.cam_layer if layer is None else self.check_layer(layer)
        with torch_threads(self.threads):
            if is_many(images):
                return [self.network.grad_cam(item, label, layer) for item in iter_many(images)]
            return self.network.grad_cam(images, label, layer)


def model_explorer(model: Any = "efficientnet-lite0", **options: Any) -> ModelExplorer:
    """A :class:`ModelExplorer` for a backbone name, a model folder or a loaded image model.

    >>> import playml as ml
    >>> ml.model_explorer()
    ModelExplorer(model='efficientnet-lite0', kind='backbone')
    """
    return ModelExplorer(model, **options)


def histogram(values: np.ndarray, layer: str, what: str, bins: int = 40) -> ValueDistribution:
    v = np.asarray(values, np.float64).ravel()
    if not v.size:
        raise InputError(f"{layer} has no {what}.")
    counts, edges = np.histogram(v, bins=int(bins))
    return ValueDistribution(
        layer=layer,
        what=what,
        counts=counts.astype(np.int64),
        edges=edges,
        mean=float(v.mean()),
        std=float(v.std()),
        min=float(v.min()),
        max=float(v.max()),
        size=int(v.size),
    )


def _kind_of(model: Any) -> str:
    import playml
    from playml.zoo.specs import BackboneSpec

    if isinstance(model, BackboneSpec):
        return "backbone"
    if isinstance(model, (playml.ImageClassifier, playml.FeatureExtractor)):
        return "backbone"
    if isinstance(model, playml.ImageClassification):
        return "image_classification"
    if isinstance(model, playml.TeachableMachineImage):
        return "teachable_machine"
    if isinstance(model, playml.NeuralNetwork):
        model.model  # noqa: B018 - an untrained network fails here, with the one wording
        if model.task_ == "imageClassification":
            width, height, _ = model._image_shape()
            if width != height:
                raise TaskError(
                    f"This network takes {width}×{height} images. The explorer opens ml5.js image networks "
                    "with square inputs: ml5.js lays a canvas's pixels out as width × height, so for any other "
                    "shape the feature maps do not line up with the picture."
                )
            return "ml5_image"
        return "neural_network"
    if isinstance(model, playml.AnomalyDetector):
        model.model  # noqa: B018 - an untrained detector fails here, with the one wording
        return "anomaly_detector"
    if isinstance(model, playml.TFJSLayersModel):
        shape = model.input_shape
        if shape is not None and len(shape) == 1 and isinstance(shape[0], int):
            return "tfjs_table"
        if shape is None or len(shape) != 3 or not all(isinstance(s, int) for s in shape):
            raise TaskError(
                f"This TF.js model takes inputs shaped {shape}, neither images (height × width × channels) "
                "nor a flat row of numbers; the explorer looks inside those two."
            )
        return "tfjs_layers"
    raise TaskError(
        f"The explorer looks inside image models (a backbone name, an image classifier taught with playml, "
        f"a Teachable Machine image export, a TF.js layers model) and table models (ml.neural_network, "
        f"an ml5.js neural network folder, a TF.js model with a flat input, ml.anomaly_detector); "
        f"not a {type(model).__name__}."
    )


# ---------------------------------------------------------------------------------------------
# The network underneath, as a PyTorch module with named layers
# ---------------------------------------------------------------------------------------------


class _Network:
    """A torch module with named layers, its preprocessing and its labels."""

    def __init__(self) -> None:
        self.title = ""
        self.module: Any = None
        self.layers: dict[str, Any] = {}  # name → torch module, input to output
        self.types: dict[str, str] = {}
        self.params: dict[str, int] = {}
        self.channels_last = False
        self.labels: list[str] = []
        self.classifier = True
        self.size = 224
        self.default_layer = ""
        self.default_cam_layer = ""
        self.rows: list[LayerSummary] = []
        self._prep: Any = None  # image → 1×… float32 batch
        self._box: Any = None  # (w, h) → crop box
        self.input_shape: tuple[int, ...] | None = None  # one input's shape, when not the usual square image
        self.table = False  # a table model: one row of numbers (or choices) in, not an image
        self.inputs: list[dict[str, Any]] = []  # a table model's input fields: name, dtype, min, max, choices
        self._widths: list[int] = []  # columns of the encoded row per input (a choice is one-hot)
        self._encode: Any = None  # rows (lists of values, in input order) → n×columns float32
        self._decode: Any = None  # a regression's last output → its numbers in the data's units
        self._explain: Any = None  # (input, output) → the number attribution() explains, if not an output
        self._explains = ""  # its name

    @classmethod
    def of(cls, model: Any, kind: str) -> _Network:
        net = cls()
        if kind == "backbone":
            net._backbone(model)
        elif kind == "image_classification":
            net._taught(model)
        elif kind in ("neural_network", "tfjs_table", "anomaly_detector"):
            net._table(model, kind)
        elif kind == "ml5_image":
            net._ml5_image(model)
        else:
            net._tfjs(model, kind)
        net._describe()
        if net.table:
            last = list(net.layers.values())[-1]
            softmax = any(type(m).__name__ == "Softmax" for m in last.modules())
            net.classifier = net._classifier if kind != "tfjs_table" else softmax and len(net.labels) > 1
        return net

    # -- building ---------------------------------------------------------------------------------
    def _backbone_layers(self, spec) -> Any:
        module = spec.build()
        self.layers = {"stem": module.stem}
        self.layers.update({f"blocks.{i}": b for i, b in enumerate(module.blocks)})
        self.layers["head"] = module.head
        self.types = {name: type(m).__name__ for name, m in self.layers.items()}
        return module

    def _set_crop(self, spec) -> None:
        from playml.zoo.preprocessing import preprocess

        self.size = spec.input_size
        self._prep = lambda image: preprocess([image], spec)

        def box(w: int, h: int) -> tuple[float, float, float, float]:
            side = min(w, h) * spec.crop_fraction
            left, top = (w - side) / 2, (h - side) / 2
            return (left, top, left + side, top + side)

        self._box = box

    def _backbone(self, model: Any) -> None:
        from torch import nn

        from playml.zoo import imagenet_labels
        from playml.zoo.specs import BackboneSpec

        spec = model if isinstance(model, BackboneSpec) else model.spec
        net = self._backbone_layers(spec)

        class Pool(nn.Module):
            def forward(self, x):
                return x.mean(dim=(2, 3))

        pool = Pool()

        class Full(nn.Module):
            def __init__(self):
                super().__init__()
                self.net, self.pool = net, pool

            def forward(self, x):
                return self.net.classifier(self.pool(self.net.forward_to(x, "head")))

        self.module = Full().eval()
        self.layers["features"] = pool
        self.layers["classifier"] = net.classifier
        self.types.update(features="GlobalAveragePooling", classifier="Linear")
        self.title = spec.name
        self.labels = list(imagenet_labels())
        self.default_layer = "blocks.2"
        self.default_cam_layer = "head"
        self._set_crop(spec)

    def _taught(self, model: Any) -> None:
        from torch import nn

        fe = model.extractor
        spec = fe.spec
        net = self._backbone_layers(spec)
        cut = fe._layer  # where the features are read
        cut = "head" if cut == "features" else cut
        head = model.model
        names = self.layer_names_until(cut)
        self.layers = {k: v for k, v in self.layers.items() if k in names}

        class Pool(nn.Module):
            def forward(self, x):
                return x.mean(dim=(2, 3))

        pool = Pool()

        class Full(nn.Module):
            def __init__(self):
                super().__init__()
                self.net, self.pool, self.head = net, pool, head

            def forward(self, x):
                return self.head(self.pool(self.net.forward_to(x, cut)))

        self.module = Full().eval()
        self.layers["features"] = pool
        self.types["features"] = "GlobalAveragePooling"
        for i, m in enumerate(head):
            self.layers[f"taught.{i}"] = m
            self.types[f"taught.{i}"] = type(m).__name__
        self.title = f"the taught classifier on {spec.name}"
        self.labels = [str(v) for v in model.labels_]
        self.default_layer = "blocks.2" if "blocks.2" in self.layers else "stem"
        self.default_cam_layer = cut
        self._set_crop(spec)

    def layer_names_until(self, cut: str) -> list[str]:
        names = list(self.layers)
        return names[: names.index(cut) + 1]

    def _tfjs_layers(self, lm: Any) -> None:
        """The layers of a TF.js layers model, by their TF.js names (nested models flattened)."""
        from playml.formats.tfjs import LayersGraph

        self.module = lm.module
        table = {name: (cls, n) for name, cls, n in lm.layer_table()}

        def walk(graph: Any) -> None:
            for name, key in graph._keys.items():
                m = graph.layers[key]
                if isinstance(m, LayersGraph):
                    walk(m)
                elif name not in self.layers:
                    self.layers[name] = m
                    cls, n = table.get(name, (type(m).__name__, None))
                    self.types[name] = cls
                    if n is not None:
                        self.params[name] = n

        if isinstance(self.module, LayersGraph):
            walk(self.module)
        else:  # a plain Sequential (simple models)
            for name, m in self.module.named_children():
                self.layers[name] = m
                self.types[name] = type(m).__name__

    def _tfjs(self, model: Any, kind: str) -> None:
        lm = model.layers_model if kind == "teachable_machine" else model
        self._tfjs_layers(lm)
        self.channels_last = True
        shape = tuple(lm.input_shape)
        self.size = int(shape[0])
        grey = shape[2] == 1
        if kind == "teachable_machine":
            self.labels = list(model.labels)
            self.title = "the Teachable Machine model"
        else:
            self.title = "the TF.js model"
        if kind == "teachable_machine":
            self._prep = lambda image: model.preprocess(image)[None]
        else:
            self._prep = lambda image: _square_pixels(image, self.size, grey)[None]

        def box(w: int, h: int) -> tuple[float, float, float, float]:
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            return (float(left), float(top), float(left + side), float(top + side))

        self._box = box

    def _table(self, model: Any, kind: str) -> None:
        """A network that takes one row of numbers (or choices): its dense layers, each with the
        activation after it as one layer (as ml5.js and TF.js count them), and its input fields."""
        from torch import nn

        if kind == "neural_network":
            from playml.formats.ml5 import encode_inputs

            meta = model.meta_
            seq = model.model
            for name, entry in meta["inputs"].items():
                spec: dict[str, Any] = {"name": str(name), "dtype": entry["dtype"]}
                if entry["dtype"] == "string":
                    spec["choices"] = [str(k) for k in entry["legend"]]
                    self._widths.append(len(next(iter(entry["legend"].values()))))
                else:
                    spec["min"], spec["max"] = float(entry["min"]), float(entry["max"])
                    self._widths.append(1)
                self.inputs.append(spec)
            self._classifier = model.task_ != "regression"
            self.labels = [str(v) for v in (model.labels if self._classifier else model.output_names)]
            self.title = f"the neural network ({model.task_})"
            self._encode = lambda rows: np.asarray(encode_inputs(meta, rows), np.float32)
            if not self._classifier:
                from playml.formats.ml5 import decode_outputs

                self._decode = lambda out: list(decode_outputs(meta, np.asarray(out, np.float64)[None])[0].values())
            names: list[str] = []
        elif kind == "anomaly_detector":
            seq = [*model.model[0], *model.model[1]]  # the encoder's layers, then the decoder's
            offset, span = np.asarray(model.scale_offset_, np.float32), np.asarray(model.scale_span_, np.float32)
            names = [str(v) for v in (model.feature_names_ or [f"feature {i}" for i in range(len(offset))])]
            for i, name in enumerate(names):
                spec = {"name": name, "dtype": "number"}
                if model.scaling == "minmax":  # the training data's range
                    spec["min"], spec["max"] = float(offset[i]), float(offset[i] + span[i])
                elif model.scaling == "standard":  # the training data's mean
                    spec["default"] = float(offset[i])
                self.inputs.append(spec)
            self._widths = [1] * len(names)
            self._classifier = False
            self.labels = list(names)  # the rebuilt inputs
            self.title = "the anomaly detector (an autoencoder)"
            self._encode = lambda rows: (np.asarray(rows, np.float32) - offset) / span
            self._decode = lambda out: np.asarray(out, np.float64) * span + offset
            self._explain = lambda x, out: ((out - x[0]) ** 2).mean()  # the anomaly score: reconstruction error
            self._explains = "reconstruction error"
            encoder = sum(1 for m in model.model[0] if any(True for _ in m.parameters()))
            names = [f"encoder_{i + 1}" for i in range(encoder)]
            names += [
                f"decoder_{i + 1}" for i in range(sum(1 for m in seq if any(True for _ in m.parameters())) - encoder)
            ]
        else:
            seq = model.module
            n = int(model.input_shape[0])
            self.inputs = [{"name": f"input {i}", "dtype": "number"} for i in range(n)]
            self._widths = [1] * n
            self.title = "the TF.js model"
            self._encode = lambda rows: np.asarray(rows, np.float32)
            names = [name for name, _, count in model.layer_table() if count]
        self.table = True
        self.size = sum(self._widths)
        if not isinstance(seq, (nn.Sequential, list)):  # a functional TF.js model: its layers as they are
            self._tfjs_layers(model)
            return
        self._group_layers(seq, names)

    def _group_layers(self, seq: Any, names: list[str], lead: tuple = ()) -> None:
        """Name the layers of a plain stack as ml5.js and TF.js count them: a layer with weights
        and the activations after it are one layer (``names``: the weighted layers' own names,
        if known). ``lead``: modules that run first but are not layers (a layout change)."""
        from torch import nn

        from playml.formats.tfjs import KERAS_NAMES

        groups: list[list[Any]] = []
        for m in seq:  # a layer starts a row; the activations (and dropout) after it join it
            joins = type(m).__name__ in _ACTIVATIONS or isinstance(m, nn.Dropout)
            if not groups or not joins:
                groups.append([])
            groups[-1].append(m)
        if len(names) != sum(1 for g in groups if any(True for _ in g[0].parameters())):
            names = []
        rows: dict[str, Any] = {}
        weighted_count = 0
        counts: dict[str, int] = {}
        for g in groups:
            first = g[0]
            weighted = any(True for _ in first.parameters())
            kind_name = KERAS_NAMES.get(type(first).__name__, type(first).__name__)
            counts[kind_name] = counts.get(kind_name, 0) + 1
            weighted_count += weighted
            snake = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", kind_name).lower()  # MaxPooling2D → max_pooling2d
            name = names[weighted_count - 1] if names and weighted else f"{snake}_{counts[kind_name]}"
            acts = [_ACTIVATIONS.get(type(m).__name__, type(m).__name__.lower()) for m in g[1:]]
            acts = [a for a in acts if a != "dropout"]
            rows[name] = nn.Sequential(*g)
            self.types[name] = kind_name + (f" ({', '.join(acts)})" if acts else "")
        self.module = nn.Sequential(*lead, *rows.values()).eval()  # the same modules: the same weights
        self.layers = rows

    def _ml5_image(self, model: Any) -> None:
        """An ml5.js image network (``task="imageClassification"``): each image is resized whole to
        the network's square input, as ml5.js reads a canvas."""
        from playml.formats.tfjs import ChannelsFirst

        seq = list(model.model)
        lead = tuple(seq[:1]) if seq and isinstance(seq[0], ChannelsFirst) else ()
        self._group_layers(seq[len(lead) :], [], lead)
        width, height, channels = model._image_shape()
        self.input_shape = (width, height, channels)
        self.size = width
        self.labels = [str(v) for v in model.labels]
        self.title = "the neural network (imageClassification)"
        self._prep = lambda image: model._rows([image])
        self._box = lambda w, h: (0.0, 0.0, float(w), float(h))

    def _describe(self) -> None:
        """Run a blank image through every layer once: output shapes (and labels, when unknown)."""
        import torch

        shapes: dict[str, tuple] = {}
        handles = []

        def keep(name: str):
            def hook(mod, inp, out) -> None:
                shapes.setdefault(name, tuple(_tensor_of(out).shape[1:]))

            return hook

        for name, m in self.layers.items():
            handles.append(m.register_forward_hook(keep(name)))
        try:
            with torch.no_grad():
                if self.input_shape is not None:
                    shape = self.input_shape
                elif self.table:
                    shape = (self.size,)
                elif self.channels_last:
                    shape = next(iter(self._input_shape()))
                else:
                    shape = (3, self.size, self.size)
                out = _tensor_of(self.module(torch.zeros(1, *shape)))
        finally:
            for h in handles:
                h.remove()
        outputs = int(out.shape[-1])
        if not self.labels:
            self.labels = [f"output {i}" for i in range(outputs)]
        self.classifier = out.ndim == 2 and outputs > 1
        ran = [n for n in self.layers if n in shapes]
        self.layers = {n: self.layers[n] for n in ran}
        self.rows = [
            LayerSummary(
                name=n,
                type=self.types.get(n, type(self.layers[n]).__name__),
                shape=shapes[n],
                parameters=self.params.get(n, sum(int(p.numel()) for p in self.layers[n].parameters())),
            )
            for n in ran
        ]
        spatial = [n for n in ran if len(shapes[n]) == 3]
        if not self.default_cam_layer:
            self.default_cam_layer = spatial[-1] if spatial else ran[-1]
        if not self.default_layer:
            self.default_layer = spatial[min(2, len(spatial) - 1)] if spatial else ran[0]

    def _input_shape(self):
        shapes = getattr(self.module, "input_shapes", None)
        if shapes:
            return [tuple(shapes[0])]
        return [(self.size, self.size, 3)]

    # -- running ------------------------------------------------------------------------------------
    def _image(self, image: Any) -> np.ndarray:
        return load_image(image)

    def row_values(self, row: Any) -> list[Any]:
        """One row of a table model (a dict by input name, or the values in order), checked."""
        from collections.abc import Mapping

        names = [f["name"] for f in self.inputs]
        if isinstance(row, Mapping):
            missing = [n for n in names if n not in row]
            if missing:
                raise InputError(f"The row has no {', '.join(map(repr, missing))}; the model takes {', '.join(names)}.")
            values = [row[n] for n in names]
        else:
            values = np.asarray(row).tolist() if isinstance(row, np.ndarray) else list(row)
            if len(values) != len(names):
                raise InputError(f"The model takes {len(names)} inputs ({', '.join(names)}), not {len(values)}.")
        out: list[Any] = []
        for spec, v in zip(self.inputs, values):
            if spec["dtype"] == "string":
                if str(v) not in spec["choices"]:
                    raise unknown_name(f"value of {spec['name']}", str(v), spec["choices"])
                out.append(str(v))
                continue
            try:
                number = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{spec['name']} must be a number, not {v!r:.40}.") from None
            if not np.isfinite(number):
                raise InputError(f"{spec['name']} must be a finite number, not {v!r}.")
            out.append(number)
        return out

    def _input(self, item: Any) -> np.ndarray:
        """One input (an image, or a table model's row) → the 1×… float32 batch the network takes."""
        if self.table:
            return self._encode([self.row_values(item)])
        return self._prep(self._image(item))

    def _run(self, x: Any, layer: str, *, stop: bool = True):
        """Run the network on a batch and return ``(layer output, final output or None)``."""
        got: dict[str, Any] = {}

        def hook(mod, inp, out):
            got["out"] = _tensor_of(out)
            if stop:
                raise _Stop

        handle = self.layers[layer].register_forward_hook(hook)
        try:
            try:
                final = self.module(x)
            except _Stop:
                final = None
        finally:
            handle.remove()
        return got["out"], final

    def activation(self, image: Any, layer: str) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(self._input(image)))
        with torch.inference_mode():
            out, _ = self._run(x, layer)
        a = out[0].numpy()
        if self.channels_last and a.ndim == 3:
            a = a.transpose(2, 0, 1)
        return np.ascontiguousarray(a, dtype=np.float32)

    def all_activations(self, row: Any) -> dict[str, np.ndarray]:
        """Every layer's output for one input, in one pass (name → float32 array)."""
        import torch

        got: dict[str, np.ndarray] = {}

        def keep(name: str):
            def hook(mod, inp, out) -> None:
                got[name] = np.asarray(_tensor_of(out)[0].numpy(), np.float32).copy()

            return hook

        handles = [m.register_forward_hook(keep(name)) for name, m in self.layers.items()]
        try:
            with torch.inference_mode():
                self.module(torch.from_numpy(np.ascontiguousarray(self._input(row))))
        finally:
            for h in handles:
                h.remove()
        return {name: got[name] for name in self.layers if name in got}

    def attribution(self, row: Any, label: str | int | None) -> InputAttribution:
        """Gradient × input of one output (a class's probability, or a number the model predicts)
        for each input of a table model, summed over the columns an input takes (a one-hot choice)."""
        import torch

        values = self.row_values(row)
        x = torch.from_numpy(np.ascontiguousarray(self._encode([values]))).requires_grad_(True)
        with torch.enable_grad():
            out = _tensor_of(self.module(x))[0]
            if self._explain is not None:
                if label is not None:
                    raise InputError(f"{self.title} explains one number, its {self._explains}: leave label out.")
                score = self._explain(x, out)
                score.backward()
                return self._attributed(x, values, self._explains, float(score.detach()))
            if label is None:
                index = int(torch.argmax(out)) if self.classifier else 0
            elif isinstance(label, int) and not isinstance(label, bool):
                if not 0 <= label < len(self.labels):
                    raise InputError(f"label goes from 0 to {len(self.labels) - 1}, not {label}.")
                index = label
            elif str(label) in self.labels:
                index = self.labels.index(str(label))
            else:
                raise unknown_name("label", str(label), self.labels)
            out[index].backward()
        return self._attributed(x, values, self.labels[index], float(out[index].detach()))

    def _attributed(self, x: Any, values: list[Any], label: str, score: float) -> InputAttribution:
        grad = x.grad
        assert grad is not None
        columns = (grad[0] * x.detach()[0]).numpy().astype(np.float64)
        ends = np.cumsum(self._widths)
        per_input = np.array([columns[e - w : e].sum() for e, w in zip(ends, self._widths)])
        return InputAttribution(
            label=label,
            score=score,
            inputs=[f["name"] for f in self.inputs],
            values=per_input,
            row=dict(zip((f["name"] for f in self.inputs), values)),
        )

    def weights(self, layer: str) -> np.ndarray:
        m = self.layers[layer]
        tensors = [p.detach().numpy().ravel() for p in m.parameters()]
        if not tensors:  # TF.js layers keep folded constants as buffers
            tensors = [b.detach().numpy().ravel() for b in m.buffers() if b.is_floating_point()]
        if not tensors:
            return np.zeros((0,), np.float32)
        return np.concatenate(tensors).astype(np.float32)

    def grad_cam(self, image: Any, label: str | int | None, layer: str) -> GradCAM:
        import torch
        from PIL import Image

        rgb = self._image(image)
        x = torch.from_numpy(np.ascontiguousarray(self._prep(rgb))).requires_grad_(True)  # gradients flow
        with torch.enable_grad():  # even through layers whose weights are constants
            got: dict[str, Any] = {}

            def hook(mod, inp, out):
                t = _tensor_of(out)
                t.retain_grad()
                got["out"] = t

            handle = self.layers[layer].register_forward_hook(hook)
            try:
                out = _tensor_of(self.module(x))[0]
            finally:
                handle.remove()
            probs = out if _looks_like_probabilities(out) else torch.softmax(out, dim=0)
            if label is None:
                index = int(torch.argmax(probs))
            elif isinstance(label, int) and not isinstance(label, bool):
                index = label
            elif str(label) in self.labels:
                index = self.labels.index(str(label))
            else:
                raise unknown_name("label", str(label), self.labels)
            score = torch.log(out[index].clamp_min(1e-12)) if probs is out else out[index]
            score.backward()
        fmap, grad = got["out"].detach()[0], got["out"].grad[0]
        if self.channels_last:
            fmap, grad = fmap.permute(2, 0, 1), grad.permute(2, 0, 1)
        if fmap.ndim != 3:
            raise InputError(f"Grad-CAM needs a layer with feature maps (channels × height × width); {layer} is flat.")
        weights = grad.mean(dim=(1, 2))
        cam = torch.relu((weights[:, None, None] * fmap).sum(0)).numpy().astype(np.float32)
        top = float(cam.max())
        cam = cam / top if top > 0 else cam
        h, w = rgb.shape[:2]
        box = self._box(w, h)
        left, top_, right, bottom = (int(round(v)) for v in box)
        side_w, side_h = max(1, right - left), max(1, bottom - top_)
        up = np.asarray(Image.fromarray(cam, mode="F").resize((side_w, side_h), Image.Resampling.BILINEAR))
        heat = np.zeros((h, w), np.float32)
        heat[top_:bottom, left:right] = up[: h - top_, : w - left]
        return GradCAM(
            label=self.labels[index],
            confidence=float(probs[index].detach()),
            layer=layer,
            box=tuple(float(v) for v in box),
            cam=cam,
            heatmap=np.clip(heat, 0, 1),
            image=rgb,
        )


def _square_pixels(image: Any, size: int, grey: bool) -> np.ndarray:
    """A TF.js image model's usual input: the centre square, resized, pixels mapped to −1…1 (×1 if grey)."""
    from PIL import Image

    img = Image.fromarray(load_image(image))
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    x = np.asarray(img, dtype=np.float32)
    if grey:
        x = (x @ np.array([0.2989, 0.5870, 0.1140], dtype=np.float32))[..., None]
    return x / 127.5 - 1.0


def _looks_like_probabilities(out) -> bool:
    import torch

    return bool(out.min() >= 0) and bool(torch.isclose(out.sum(), torch.tensor(1.0), atol=1e-3))
