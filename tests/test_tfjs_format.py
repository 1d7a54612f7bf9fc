"""TensorFlow.js layers format: exact layouts, round trips, real ml5.js files, TF.js in Node."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import playml as ml
from playml.errors import FormatError, MissingFileError
from playml.formats.tfjs import ChannelsFirst, ChannelsLastFlatten, from_tfjs, input_shape, read_tfjs, to_tfjs

from conftest import require_node_modules

ML5_SAVES = Path(__file__).parent / "data" / "ml5"


def _dense():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Dropout(0.1), nn.Linear(7, 3), nn.Softmax(dim=-1)).eval()


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(ChannelsFirst(), nn.Conv2d(4, 8, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(8, 6, 3),
                         nn.Tanh(), nn.AvgPool2d(2), ChannelsLastFlatten(), nn.Linear(6 * 2 * 2, 3),
                         nn.Softmax(dim=-1)).eval()


def test_dense_layout_is_keras_kernel_in_by_out():
    model = _dense()
    model_json, weights = to_tfjs(model)
    layers = model_json["modelTopology"]["config"]["layers"]
    assert [(l["class_name"], l["config"].get("activation")) for l in layers] == [
        ("Dense", "relu"), ("Dropout", None), ("Dense", "softmax")]
    assert layers[0]["config"]["batch_input_shape"] == [None, 5] and layers[0]["config"]["units"] == 7
    specs = model_json["weightsManifest"][0]["weights"]
    assert [(s["name"], s["shape"]) for s in specs] == [
        ("dense_Dense1/kernel", [5, 7]), ("dense_Dense1/bias", [7]), ("dense_Dense3/kernel", [7, 3]),
        ("dense_Dense3/bias", [3])]
    assert model_json["weightsManifest"][0]["paths"] == ["./model.weights.bin"]
    first = np.frombuffer(weights[:5 * 7 * 4], dtype="<f4").reshape(5, 7)
    assert np.array_equal(first, model[0].weight.detach().numpy().T)
    assert len(weights) == 4 * (5 * 7 + 7 + 7 * 3 + 3)


def test_conv_kernels_are_hwio_and_round_trip():
    model = _cnn()
    model_json, weights = to_tfjs(model, input_shape=(16, 16, 4))
    specs = model_json["weightsManifest"][0]["weights"]
    assert specs[0]["shape"] == [5, 5, 4, 8]  # H W I O
    kernel = np.frombuffer(weights[:5 * 5 * 4 * 8 * 4], dtype="<f4").reshape(5, 5, 4, 8)
    assert np.array_equal(kernel, model[1].weight.detach().numpy().transpose(2, 3, 1, 0))
    assert input_shape(model_json) == (16, 16, 4)
    back = from_tfjs(json.loads(json.dumps(model_json)), weights)
    x = torch.rand(3, 16, 16, 4)
    with torch.no_grad():
        assert torch.allclose(back(x), model(x), atol=1e-6)


def test_dense_round_trip_and_errors(tmp_path):
    model = _dense()
    model_json, weights = to_tfjs(model)
    back = from_tfjs(model_json, weights)
    x = torch.randn(4, 5)
    with torch.no_grad():
        assert torch.allclose(back(x), model(x), atol=1e-6)
    with pytest.raises(FormatError, match="too short"):
        from_tfjs(model_json, weights[:-8])
    with pytest.raises(FormatError, match="do not belong together"):
        from_tfjs(model_json, weights + b"\0\0\0\0")
    with pytest.raises(FormatError, match="cannot be saved"):
        to_tfjs(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    with pytest.raises(FormatError, match="ChannelsLastFlatten"):
        to_tfjs(nn.Sequential(ChannelsFirst(), nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2)), input_shape=(4, 4, 1))
    (tmp_path / "model.json").write_text(json.dumps(model_json))
    with pytest.raises(MissingFileError, match="model.weights.bin"):
        read_tfjs(tmp_path)


@pytest.mark.parametrize("name", ["colour-classifier", "line-regression"])
def test_models_saved_by_ml5_give_ml5s_answers(name):
    """Files downloaded from ml5.js 1.4.0's save() in Chromium, with what ml5.js answered (make_fixtures.py)."""
    expected = json.loads((ML5_SAVES / name / "expected.json").read_text())
    nn_ = ml.load(ML5_SAVES / name)
    assert nn_.task_ == expected["task"]
    for probe, answer in zip(expected["probe"], expected["outputs"]):
        if expected["task"] == "classification":
            got = {p.label: p.confidence for p in nn_.classify(probe)}
            assert [p.label for p in nn_.classify(probe)][0] == answer[0]["label"]
            for item in answer:
                assert got[item["label"]] == pytest.approx(item["confidence"], abs=1e-4)
        else:
            (value,) = nn_.predict(probe)
            assert value.label == answer[0]["label"] and value.value == pytest.approx(answer[0]["value"], abs=1e-4)


@pytest.mark.slow
def test_tensorflow_js_in_node_runs_playml_saves_with_the_same_outputs():
    require_node_modules()
    from bench.peers import run_node

    for model, shape in ((_dense(), (5,)), (_cnn(), (16, 16, 4))):
        model_json, weights = to_tfjs(model, input_shape=shape if len(shape) == 3 else None)
        x = torch.rand(4, *shape)
        out = run_node("node/predict_layers.mjs", {"modelJson": model_json, "inputs": x.tolist(),
                                                   "weightsBase64": base64.b64encode(weights).decode()})
        with torch.no_grad():
            assert np.allclose(out["outputs"], model(x).numpy(), atol=1e-4)
        assert out["backend"] == "wasm"
