"""The PyTorch network shared by playml's image backbones.

EfficientNet-Lite and MobileNetV2 are the same kind of network: a strided stem
convolution, a stack of *inverted residual* blocks (1×1 expand → depthwise k×k →
1×1 project, with a skip connection when shapes allow), a 1×1 "head" convolution to
1280 channels, global average pooling and a linear classifier. Only the block table,
the padding rule and the weights differ, so one small module serves both.

Layer names are the ones ``FeatureExtractor.layers()`` lists: ``stem``,
``blocks.0`` … ``blocks.N``, ``head`` (and ``features``, the pooled head).

>>> from playml.zoo import get_backbone
>>> net = get_backbone("efficientnet-lite0").build()           # doctest: +SKIP
>>> net(torch.zeros(1, 3, 224, 224)).shape                     # doctest: +SKIP
torch.Size([1, 1000])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from playml.zoo.specs import BlockConfig

__all__ = ["ConvBN", "InvertedResidual", "InvertedResidualNet", "Truncated", "build_network"]


class ConvBN(nn.Module):
    """Convolution (no bias) → batch norm → optional ReLU6.

    ``same_padding=True`` pads like TensorFlow's ``SAME`` (the extra pixel goes at the
    bottom/right for strided convolutions), which is what weights trained in TensorFlow
    expect; otherwise the padding is the symmetric ``kernel // 2``.
    """

    def __init__(
        self,
        inp: int,
        out: int,
        kernel: int = 1,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
        same_padding: bool = False,
        bn_eps: float = 1e-5,
    ):
        super().__init__()
        self.kernel, self.stride, self.same_padding = kernel, stride, same_padding
        padding = 0 if same_padding else kernel // 2
        self.conv = nn.Conv2d(inp, out, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out, eps=bn_eps)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def _pad_same(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: left, right, top, bottom
            size = int(size)
            total = max((math.ceil(size / self.stride) - 1) * self.stride + self.kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads) if any(pads) else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same_padding and self.kernel > 1:
            x = self._pad_same(x)
        return self.act(self.bn(self.conv(x)))


class InvertedResidual(nn.Module):
    """1×1 expand (skipped when the expansion is 1) → depthwise → 1×1 project (+ skip)."""

    def __init__(self, cfg: BlockConfig, **conv):
        super().__init__()
        hidden = cfg.inp * cfg.expand
        self.expand = ConvBN(cfg.inp, hidden, **conv) if cfg.expand != 1 else None
        self.depthwise = ConvBN(hidden, hidden, cfg.kernel, cfg.stride, groups=hidden, **conv)
        self.project = ConvBN(hidden, cfg.out, act=False, **conv)
        self.residual = cfg.stride == 1 and cfg.inp == cfg.out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class InvertedResidualNet(nn.Module):
    """stem → blocks → head → global average pool → dropout → linear classifier."""

    def __init__(
        self,
        blocks: list[BlockConfig],
        *,
        stem: int = 32,
        head: int = 1280,
        num_classes: int = 1000,
        dropout: float = 0.2,
        same_padding: bool = False,
        bn_eps: float = 1e-5,
    ):
        super().__init__()
        conv: dict[str, Any] = dict(same_padding=same_padding, bn_eps=bn_eps)
        self.stem = ConvBN(3, stem, 3, 2, **conv)
        self.blocks = nn.ModuleList(InvertedResidual(b, **conv) for b in blocks)
        self.head = ConvBN(blocks[-1].out, head, **conv)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(head, num_classes)

    def layer_names(self) -> list[str]:
        return ["stem", *(f"blocks.{i}" for i in range(len(self.blocks))), "head"]

    def forward_to(self, x: torch.Tensor, layer: str = "head") -> torch.Tensor:
        """The feature map (N×C×H×W) that ``layer`` outputs."""
        x = self.stem(x)
        if layer == "stem":
            return x
        last = len(self.blocks) - 1 if layer == "head" else int(layer.split(".")[1])
        for block in self.blocks[: last + 1]:
            x = block(x)
        return self.head(x) if layer == "head" else x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled 1280-d features (what the classifier sees)."""
        return self.forward_to(x, "head").mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits, before softmax)."""
        return self.classifier(self.dropout(self.features(x)))


class Truncated(nn.Module):
    """The backbone up to ``layer``, global-average-pooled: N×3×S×S → N×C.

    It shares its parameters with the full network (no copy), so fine-tuning it
    fine-tunes the backbone. With ``with_logits=True`` it returns ``(features, logits)``.
    """

    def __init__(self, net: InvertedResidualNet, layer: str = "head", with_logits: bool = False):
        super().__init__()
        self.net, self.layer, self.with_logits = net, layer, with_logits

    def forward(self, x: torch.Tensor):
        feats = self.net.forward_to(x, self.layer).mean(dim=(2, 3))
        if self.with_logits:
            return feats, self.net.classifier(feats)
        return feats

    def extra_repr(self) -> str:
        return f"layer={self.layer!r}"


def build_network(spec, convert_state_dict=None) -> InvertedResidualNet:
    """Build the network of ``spec`` in eval mode; load its weights if given a key converter."""
    net = InvertedResidualNet(
        list(spec.blocks),
        stem=spec.stem_channels,
        head=spec.head_channels,
        num_classes=spec.num_classes,
        dropout=spec.dropout,
        same_padding=spec.same_padding,
        bn_eps=spec.bn_eps,
    )
    if convert_state_dict is not None:
        state = torch.load(spec.weights_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(convert_state_dict(state), strict=True)
    return net.eval()
