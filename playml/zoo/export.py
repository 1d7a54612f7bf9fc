"""ONNX exports of the image backbones (up to any layer), made on first use and cached.

The first time a backbone, or one of its layers, is used, it is exported through the ONNX
engine (:mod:`playml.engines.onnx`) into the cache; the file name carries a hash of the
weights, the network code, the architecture, the layer and :data:`EXPORT_VERSION`.

>>> from playml.zoo import get_backbone
>>> session = inference_session(get_backbone("efficientnet-lite0"))   # doctest: +SKIP
>>> [o.name for o in session.get_outputs()]                            # doctest: +SKIP
['features', 'logits']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from playml.core.saving import atomic_write
from playml.engines import onnx as engine
from playml.zoo.specs import BackboneSpec

__all__ = [
    "EXPORT_VERSION",
    "OPSET",
    "onnx_path",
    "export_bytes",
    "export_onnx",
    "inference_session",
    "quantized_bytes",
]

# ``precision="int8"``: the float32 export, statically quantised (playml.zoo.quantize); its cache
# key adds the quantisation recipe and QUANT_VERSION to the float32 key.

#: Bump when the export itself changes (inputs, outputs, export options, graph clean-up).
EXPORT_VERSION = 2
OPSET = engine.OPSET
_CODE = (Path(__file__).with_name("network.py"),)
_QUANT_CODE = (
    *_CODE,
    Path(__file__).with_name("quantize.py"),
    Path(__file__).with_name("rounding.py"),
    Path(__file__).with_name("preprocessing.py"),
)


def _export_layer(spec: BackboneSpec, layer: str | None) -> str:
    layer = spec.check_layer(layer)
    return "features" if layer == "head" else layer  # the pooled head is the full model's output


def onnx_path(spec: BackboneSpec, layer: str = "features", precision: str = "float32") -> Path:
    """Where the export of ``spec`` up to ``layer`` (at ``precision``) lives in the cache."""
    from playml.zoo.quantize import CALIBRATION, QUANT_VERSION, check_precision

    layer = _export_layer(spec, layer)
    arch = (
        spec.blocks,
        spec.input_size,
        spec.same_padding,
        spec.bn_eps,
        spec.stem_channels,
        spec.head_channels,
        spec.num_classes,
        layer,
    )
    if check_precision(precision) == "int8":
        extra = (
            arch,
            "int8",
            QUANT_VERSION,
            sorted(CALIBRATION.items()),
            spec.mean,
            spec.std,
            spec.resample,
            spec.crop_fraction,
        )
        return engine.cache_path(f"{spec.name}-{layer}-int8", [spec.weights_path()], _QUANT_CODE, EXPORT_VERSION, extra)
    return engine.cache_path(f"{spec.name}-{layer}", [spec.weights_path()], _CODE, EXPORT_VERSION, arch)


def _cached_bytes(spec: BackboneSpec, layer: str, precision: str = "float32") -> bytes:
    """The export at ``precision``: from its cache file when there is one (written if not)."""
    path = onnx_path(spec, layer, precision)
    if path.exists():
        return path.read_bytes()
    data = export_bytes(spec, layer, precision)
    try:
        atomic_write(path, data)
    except OSError:  # read-only cache
        pass
    return data


def quantized_bytes(spec: BackboneSpec, layer: str = "features") -> bytes:
    """The int8 (QDQ, per-channel) export, calibrated on bundled photos (:mod:`playml.zoo.quantize`)."""
    from playml.zoo.preprocessing import preprocess
    from playml.zoo.quantize import calibration_photos, quantize_bytes

    return quantize_bytes(_cached_bytes(spec, layer), preprocess(calibration_photos(), spec))


def export_bytes(spec: BackboneSpec, layer: str = "features", precision: str = "float32") -> bytes:
    """The backbone as ONNX bytes (opset 17, any batch size, SAME padding folded into the convolutions).

    ``layer='features'`` (or ``'head'``) gives two outputs, ``features`` (N×1280, pooled)
    and ``logits`` (N×1000); any other layer gives ``features`` only: that layer's
    output, global-average-pooled.
    """
    from playml.zoo.quantize import check_precision

    if check_precision(precision) == "int8":
        return quantized_bytes(spec, layer)
    import torch

    from playml.zoo.network import Truncated

    layer = _export_layer(spec, layer)
    full = layer == "features"
    module = Truncated(spec.build(), "head" if full else layer, with_logits=full)
    outputs = ["features", "logits"] if full else ["features"]
    data = engine.export_torch(
        module,
        (torch.zeros(1, 3, spec.input_size, spec.input_size),),
        ["images"],
        outputs,
        {name: {0: "batch"} for name in ["images", *outputs]},
    )
    return engine.fold_padding_into_convolutions(data)


def export_onnx(
    spec: BackboneSpec, layer: str = "features", path: str | os.PathLike | None = None, precision: str = "float32"
) -> Path:
    """Write the export of ``spec`` up to ``layer`` to ``path`` (default: its cache file), atomically."""
    target = Path(path) if path is not None else onnx_path(spec, layer, precision)
    return atomic_write(target, export_bytes(spec, layer, precision))


def inference_session(
    spec: BackboneSpec,
    layer: str = "features",
    threads: int | None = None,
    precision: str = "float32",
    *,
    spinning: bool = False,
    outputs: Sequence[str] | None = None,
):
    """The ONNX Runtime session of ``spec`` up to ``layer`` at ``precision`` (exported on first
    use, then kept); ``spinning`` as :func:`playml.engines.onnx.session_options` has it.
    ``outputs``: the only outputs the caller will ask for. ``("features",)`` of the whole network
    runs a copy without the classifier (cached beside the export), which ONNX Runtime would
    otherwise run on every call."""
    path = onnx_path(spec, layer, precision)
    if outputs is not None and list(outputs) == ["features"] and _export_layer(spec, layer) == "features":
        trimmed = path.with_name(f"{path.stem}-features-only{path.suffix}")
        return engine.cached_session(
            trimmed,
            lambda: engine.keep_outputs(_cached_bytes(spec, layer, precision), ["features"]),
            threads,
            spinning=spinning,
        )
    return engine.cached_session(path, lambda: export_bytes(spec, layer, precision), threads, spinning=spinning)
