"""Any TF.js layers model in: Teachable Machine exports (real and TF.js-written), functional and nested
models, BatchNormalization, Conv1D — read by playml and compared with TF.js 4.22 in Node."""
import base64
import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import playml as ml
from playml.errors import FormatError, MissingFileError
from playml.formats.tfjs import LayersGraph, build_layers_model, from_tfjs, input_shape, read_tfjs

from conftest import require_node_modules

DATA = Path(__file__).parent / "data" / "tfjs"
SAMPLES = Path(ml.__file__).parent / "samples"
PHOTOS = [SAMPLES / "coffee.jpg", SAMPLES / "chelsea.jpg", SAMPLES / "astronaut.jpg"]
FIXTURES = ["tm-standard", "tm-embedded", "keras-bn", "conv1d", "dense-regression"]


def _tfjs(models):
    """Run [(model_json, weights, inputs)] in TF.js 4.22 (Node, wasm); return the outputs."""
    require_node_modules()
    from bench.peers import run_node

    payload = {"models": [{"modelJson": mj, "weightsBase64": base64.b64encode(w).decode(), "inputs": x.tolist()}
                          for mj, w, x in models]}
    return [np.asarray(o, dtype=np.float32) for o in run_node("node/predict_many.mjs", payload)["outputs"]]


def _random_inputs(model_json, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, *input_shape(model_json))).astype(np.float32)


def test_every_fixture_matches_tfjs_in_node():
    cases, ours = [], []
    for name in FIXTURES:
        model_json, weights = read_tfjs(DATA / name)
        x = _random_inputs(model_json)
        with torch.no_grad():
            ours.append(from_tfjs(model_json, weights)(torch.from_numpy(x)).numpy())
        cases.append((model_json, weights, x))
    for name, mine, theirs in zip(FIXTURES, ours, _tfjs(cases)):
        assert mine.shape == theirs.shape, name
        assert np.abs(mine - theirs).max() < 1e-4, name
        assert np.abs(theirs).max() > 1e-3, name  # the models compute something


def _quantize(model_json, weights, kind):
    """The model with its weights stored as the TF.js converter's --quantize_uint8 / _uint16 / _float16 does."""
    from playml.formats.tfjs import _weight_arrays

    mj, blobs = copy.deepcopy(model_json), []
    for spec, (_, a) in zip(mj["weightsManifest"][0]["weights"], _weight_arrays(model_json, weights)):
        if kind == "float16":
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            blobs.append(a.astype("<f2").tobytes())
            continue
        top = 255 if kind == "uint8" else 65535
        lo, hi = float(a.min()), float(a.max())
        scale = (hi - lo) / top if hi > lo else 1.0
        q = np.round((a - lo) / scale).astype("u1" if kind == "uint8" else "<u2")
        spec["quantization"] = {"dtype": kind, "scale": scale, "min": lo, "original_dtype": "float32"}
        blobs.append(q.tobytes())
    return mj, b"".join(blobs)


def test_quantized_weights_read_like_tfjs():
    model_json, weights = read_tfjs(DATA / "keras-bn")
    x = _random_inputs(model_json)
    cases, ours = [], []
    for kind in ("uint8", "uint16", "float16"):
        mj, w = _quantize(model_json, weights, kind)
        assert len(w) < len(weights)
        with torch.no_grad():
            ours.append(from_tfjs(mj, w)(torch.from_numpy(x)).numpy())
        cases.append((mj, w, x))
    for kind, mine, theirs in zip(("uint8", "uint16", "float16"), ours, _tfjs(cases)):
        assert np.abs(mine - theirs).max() < 1e-4, kind


def test_teachable_machine_exports_classify_photos_like_tfjs():
    standard, embedded = ml.load(DATA / "tm-standard"), ml.load(DATA / "tm-embedded")
    assert standard.labels == ["blah1", "blah2"] and (standard.image_size, standard.grey) == (224, False)
    assert embedded.labels == ["Class 1", "Class 2", "Class 3"] and (embedded.image_size, embedded.grey) == (96, True)
    cases = []
    for tm in (standard, embedded):
        x = np.stack([tm.preprocess(p) for p in PHOTOS])
        assert x.shape[1:] == ((224, 224, 3) if tm is standard else (96, 96, 1))
        assert -1.0 <= x.min() and x.max() <= 255 / 127 - 1 + 1e-6
        cases.append((*read_tfjs(tm.path), x))
    theirs = _tfjs(cases)
    for tm, reference in zip((standard, embedded), theirs):
        probs = tm.probabilities(PHOTOS)
        assert np.abs(probs - reference).max() < 1e-4
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
        top = tm.classify(PHOTOS[0])
        assert top[0].label == tm.labels[int(reference[0].argmax())]
        assert top[0].confidence == pytest.approx(float(reference[0].max()), abs=1e-4)
        assert len(tm.classify(PHOTOS[0], top_k=1)) == 1 and len(tm.classify(PHOTOS)) == 3


def test_teachable_machine_preprocessing_is_centre_crop_and_x_over_127_minus_1(tmp_path):
    from PIL import Image

    from playml.images.teachable_machine import tm_preprocess

    img = np.zeros((40, 100, 3), np.uint8)
    img[:, 30:70] = [254, 127, 0]  # the centre square is this colour; the sides are black
    x = tm_preprocess(Image.fromarray(img), 40)
    assert x.shape == (40, 40, 3) and np.allclose(x[..., 0], 1.0) and np.allclose(x[..., 1], 0.0)
    assert np.allclose(x[..., 2], -1.0)
    grey = tm_preprocess(Image.fromarray(img), 40, grey=True)
    assert grey.shape == (40, 40, 1)
    assert np.allclose(grey, (0.2989 * 254 + 0.587 * 127) / 127 - 1, atol=1e-5)


def _as_tfjs_1x(model_json):
    """TF.js 1.x wrote a nested Sequential's config as the bare list of its layers."""
    mj = copy.deepcopy(model_json)

    def walk(layer):
        cfg = layer["config"]
        layers = cfg["layers"] if isinstance(cfg, dict) else cfg
        for sub in layers:
            if sub["class_name"] in ("Sequential", "Model"):
                walk(sub)
        if layer["class_name"] == "Sequential" and layer is not mj["modelTopology"]:
            layer["config"] = layers
    walk(mj["modelTopology"])
    return mj


def test_tfjs_1x_list_configs_and_converter_wrapper_read_the_same(tmp_path):
    model_json, weights = read_tfjs(DATA / "tm-standard")
    old = _as_tfjs_1x(model_json)
    assert isinstance(old["modelTopology"]["config"]["layers"][0]["config"], list)
    assert input_shape(old) == (224, 224, 3)
    x = torch.from_numpy(_random_inputs(model_json, n=1))
    with torch.no_grad():
        assert torch.equal(from_tfjs(old, weights)(x), from_tfjs(model_json, weights)(x))
    # the TF.js converter wraps a Keras model's topology in {"model_config": ...}
    kj, kw = read_tfjs(DATA / "keras-bn")
    wrapped = {**kj, "modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow",
                                       "model_config": kj["modelTopology"]}}
    x = torch.from_numpy(_random_inputs(kj))
    with torch.no_grad():
        assert torch.equal(from_tfjs(wrapped, kw)(x), from_tfjs(kj, kw)(x))
    # and ml.load reads the 1.x layout from a folder
    folder = tmp_path / "old-tm"
    shutil.copytree(DATA / "tm-standard", folder)
    (folder / "model.json").write_text(json.dumps(old))
    assert ml.load(folder).classify(PHOTOS[0])[0].label in ("blah1", "blah2")


def test_shared_layers_are_one_module_called_twice():
    model = build_layers_model(*read_tfjs(DATA / "keras-bn"))
    assert isinstance(model, LayersGraph)
    calls = [s for s in model.steps if s[0] == "shared_1x1"]
    assert [c[1] for c in calls] == [0, 1]
    assert sum(1 for k in model.layers if k == "shared_1x1") == 1


def test_plain_tfjs_models_load_with_ml_load_and_predict():
    reg = ml.load(DATA / "dense-regression")
    assert reg.input_shape == (2,)
    one, many = reg.predict([0.5, 0.2]), reg.predict([[0.5, 0.2], [0.1, 0.9]])
    assert one.shape == (1,) and many.shape == (2, 1) and np.allclose(many[0], one)
    seq = ml.load(DATA / "conv1d")
    probs = seq.predict(np.zeros((24, 3)))
    assert probs.shape == (3,) and probs.sum() == pytest.approx(1, abs=1e-5)
    text = ml.load(DATA / "keras-bn").summary()
    assert "BatchNormalization" in text and "SeparableConv2D" in text and "966 parameters" in text
    with pytest.raises(ml.ShapeError, match=r"\(2,\)"):
        reg.predict([[1, 2, 3]])


def test_unsupported_layers_and_graph_models_get_clear_errors(tmp_path):
    model_json, weights = read_tfjs(DATA / "keras-bn")
    mj = copy.deepcopy(model_json)
    for layer in mj["modelTopology"]["config"]["layers"]:
        if layer["name"] == "avg_pool":
            layer["class_name"] = "Conv3D"
    with pytest.raises(FormatError, match=r"Conv3D \(layer 'avg_pool'\)"):
        from_tfjs(mj, weights)
    graph = tmp_path / "graph"
    graph.mkdir()
    (graph / "model.json").write_text(json.dumps({"format": "graph-model", "generatedBy": "2.15.0",
                                                  "modelTopology": {"node": [], "versions": {}},
                                                  "weightsManifest": []}))
    from playml.core.saving import detect
    assert detect(graph) == "tfjs-graph"
    with pytest.raises(FormatError, match="graph model"):
        from_tfjs(json.loads((graph / "model.json").read_text()), b"")
    try:
        import playml.formats.tfjs_graph  # noqa: F401  (written separately; when present ml.load uses it)
    except ImportError:
        with pytest.raises(FormatError, match="graph model"):
            ml.load(graph)


def test_ml_load_says_which_kind_it_found_when_files_are_missing(tmp_path):
    tm = tmp_path / "tm"
    shutil.copytree(DATA / "tm-standard", tm)
    (tm / "weights.bin").unlink()
    with pytest.raises(MissingFileError, match="Teachable Machine export.*weights.bin|weights.bin.*Teachable Machine"):
        ml.load(tm)
    (tm / "model.json").unlink()
    with pytest.raises(MissingFileError, match="Teachable Machine.*model.json is missing"):
        ml.load(tm)
    plain = tmp_path / "plain"
    shutil.copytree(DATA / "conv1d", plain)
    (plain / "weights.bin").unlink()
    with pytest.raises(MissingFileError, match="TensorFlow.js layers model"):
        ml.load(plain)
    pose = tmp_path / "pose"
    shutil.copytree(DATA / "tm-embedded", pose)
    meta = json.loads((pose / "metadata.json").read_text())
    (pose / "metadata.json").write_text(json.dumps({**meta, "packageName": "@teachablemachine/pose"}))
    with pytest.raises(FormatError, match="Teachable Machine pose model"):
        ml.load(pose)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hi")
    with pytest.raises(FormatError, match="notes.txt.*Teachable Machine export"):
        ml.load(empty)
