"""ml.model_explorer on table models: ml5.js neural networks (saved folders and ones trained in
memory) and TF.js layers models with a flat input.

Checked against the networks themselves: the summary's parameters against the weights in the
saved files and in ``net.model``, the last layer's activations against ``net.classify`` /
``net.predict`` on the same rows, the weights against ``model.weights.bin`` read here with NumPy,
and gradient × input against central finite differences of the model's own outputs.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import playml as ml

COLOURS = Path("tests/data/ml5/colour-classifier")  # ml5.js 0.12 save: r, g, b → 4 colours
LINE = Path("tests/data/ml5/line-regression")  # ml5.js save: one input → one number, normalised
ROWS = [[255, 0, 0], [10, 200, 30], [0, 0, 250], [240, 230, 20], [128, 128, 128]]


def _saved_weights(folder: Path) -> dict[str, np.ndarray]:
    """model.weights.bin as the TF.js manifest describes it (float32, little-endian, in order)."""
    model_json = json.loads((folder / "model.json").read_text())
    raw = b"".join((folder / p).read_bytes() for g in model_json["weightsManifest"] for p in g["paths"])
    out, at = {}, 0
    for group in model_json["weightsManifest"]:
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            out[w["name"]] = np.frombuffer(raw, "<f4", n, at).reshape(w["shape"])
            at += 4 * n
    assert at == len(raw)
    return out


@pytest.fixture(scope="module")
def colours():
    return ml.model_explorer(str(COLOURS))


def test_ml5_folder_summary_counts_the_real_parameters(colours):
    net = ml.load(COLOURS)
    assert colours.kind == "neural_network" and colours.is_table and colours.is_classifier
    rows = colours.summary()
    assert [(r.name, r.type, r.shape) for r in rows] == [
        ("dense_1", "Dense (relu)", (16,)),
        ("dense_2", "Dense (softmax)", (4,)),
    ]
    saved = _saved_weights(COLOURS)
    assert [r.parameters for r in rows] == [3 * 16 + 16, 16 * 4 + 4]
    assert colours.parameters == sum(v.size for v in saved.values()) == sum(p.numel() for p in net.model.parameters())
    assert colours.labels == net.labels == ["red", "green", "blue", "yellow"]
    assert colours.inputs == [{"name": c, "dtype": "number", "min": 0.0, "max": 255.0} for c in "rgb"]
    assert colours.input_size == 3


def test_ml5_folder_activations_and_weights_are_the_networks(colours):
    net = ml.load(COLOURS)
    saved = _saved_weights(COLOURS)
    for row in ROWS:
        last = colours.activations(row, "dense_2")
        by_label = {p.label: p.confidence for p in net.classify(row)}
        np.testing.assert_allclose(last, [by_label[lab] for lab in colours.labels], rtol=1e-5, atol=1e-6)
        named = colours.activations(dict(zip("rgb", row)), "dense_2")  # a dict by name: the same
        np.testing.assert_array_equal(named, last)
        hidden = colours.activations(row, "dense_1")
        x = (np.array(row, np.float64) - 0) / 255  # the model normalises each input by its min … max
        expect = np.maximum(0, x @ saved["dense_Dense1/kernel"] + saved["dense_Dense1/bias"])
        np.testing.assert_allclose(hidden, expect, rtol=1e-5, atol=1e-6)
        assert [p.confidence for p in colours.outputs(row)] == pytest.approx(list(last), abs=1e-7)
    many = colours.activations(ROWS, "dense_1")
    assert isinstance(many, list) and len(many) == len(ROWS)
    everything = colours.all_activations(ROWS[0])
    assert list(everything) == ["dense_1", "dense_2"]
    np.testing.assert_array_equal(everything["dense_2"], colours.activations(ROWS[0], "dense_2"))
    for layer, name in (("dense_1", "dense_Dense1"), ("dense_2", "dense_Dense2")):
        expect = np.concatenate([saved[f"{name}/kernel"].T.ravel(), saved[f"{name}/bias"]])  # torch: out × in
        np.testing.assert_array_equal(colours.weights(layer), expect)
        d = colours.distribution(layer, bins=10)
        assert d.what == "weights" and d.counts.sum() == expect.size and d.min == pytest.approx(expect.min())
    d = colours.distribution("dense_1", ROWS[0], bins=8)
    assert d.what == "activations" and d.size == 16


def test_regression_outputs_are_predict(tmp_path):
    ex = ml.model_explorer(str(LINE))
    net = ml.load(LINE)
    assert ex.is_table and not ex.is_classifier and ex.labels == ["0"]
    assert ex.inputs == [{"name": "0", "dtype": "number", "min": -1.0, "max": 4.0}]
    for x in (-1.0, 0.3, 2.5, 4.0):
        (value,) = ex.outputs([x])
        assert value.value == pytest.approx(net.predict([x])[0].value, rel=1e-6, abs=1e-6)
        # the last layer is in the model's own 0–1 units (it normalised its outputs)
        lo, hi = (net.meta_["outputs"]["0"][k] for k in ("min", "max"))
        assert ex.activations([x], "dense_2")[0] == pytest.approx((value.value - lo) / (hi - lo), abs=1e-6)
    assert ex.parameters == sum(p.numel() for p in net.model.parameters()) == 49


def test_a_network_trained_in_memory_with_a_choice_input():
    iris = ml.datasets.load("iris")
    X, y = iris.arrays()
    net = ml.neural_network(task="classification", inputs=["sepal_l", "sepal_w", "petal_l", "petal_w", "garden"],
                            outputs=["species"], hidden_units=8, seed=0)
    for i, (row, code) in enumerate(zip(X, y)):
        net.add_data([*map(float, row), ("north", "south")[i % 2]], [iris.labels[int(code)]])
    net.normalize_data()
    net.train(epochs=15, batch_size=32, progress=False)
    ex = ml.model_explorer(net)
    assert repr(ex) == "ModelExplorer(model='NeuralNetwork', kind='neural_network')"
    assert ex.inputs[4] == {"name": "garden", "dtype": "string", "choices": ["north", "south"]}
    assert ex.input_size == 6  # four numbers and a one-hot choice of two
    assert ex.parameters == sum(p.numel() for p in net.model.parameters()) == 6 * 8 + 8 + 8 * 3 + 3
    rows = [[*map(float, X[i]), ("north", "south")[i % 2]] for i in (0, 60, 120)]
    for row in rows:
        by_label = {p.label: p.confidence for p in net.classify(row)}
        np.testing.assert_allclose(ex.activations(row, ex.layer_names()[-1]),
                                   [by_label[lab] for lab in ex.labels], rtol=1e-5, atol=1e-6)
    with pytest.raises(ml.UnknownModelError, match="north"):
        ex.activations([*rows[0][:4], "east"])
    with pytest.raises(ml.InputError, match="petal_w"):
        ex.activations({"sepal_l": 5, "sepal_w": 3, "petal_l": 1, "garden": "north"})
    with pytest.raises(ml.InputError, match="5 inputs"):
        ex.activations([1, 2, 3])
    with pytest.raises(ml.NotTrainedError):
        ml.model_explorer(ml.neural_network(task="classification"))


def test_attribution_is_gradient_times_input_by_finite_differences(colours):
    import torch

    for row in ROWS[:3] + [[90, 170, 60]]:
        att = colours.attribution(row)
        x = colours.preprocess(row).astype(np.float64)
        probs = colours.activations(row, "dense_2")
        assert att.label == colours.labels[int(np.argmax(probs))] and att.score == pytest.approx(float(probs.max()))
        index = colours.labels.index(att.label)
        model = colours.model.double()
        try:
            def f(v):
                with torch.no_grad():
                    return float(model(torch.from_numpy(v)[None])[0, index])

            eps = 1e-6
            grad = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])
        finally:
            colours.model.float()
        np.testing.assert_allclose(att.values, grad * x, rtol=1e-3, atol=1e-6)
        assert att.inputs == ["r", "g", "b"] and att.row == dict(zip("rgb", map(float, row)))
    other = colours.attribution(ROWS[0], label="blue")
    assert other.label == "blue" and other.score < 0.5


def test_grad_cam_is_refused_with_the_reason(colours):
    with pytest.raises(ml.TaskError, match="no maps to weigh.*attribution"):
        colours.grad_cam(ROWS[0])
    with pytest.raises(ml.TaskError, match="grad_cam"):
        ml.model_explorer("mobilenet-v2").attribution([1, 2, 3])


def test_a_tfjs_layers_model_with_a_flat_input(tmp_path):
    folder = tmp_path / "tfjs"
    folder.mkdir()
    for name in ("model.json", "model.weights.bin"):  # without model_meta.json: a plain TF.js model
        shutil.copy(COLOURS / name, folder / name)
    ex = ml.model_explorer(str(folder))
    assert ex.kind == "tfjs_table" and ex.is_classifier
    assert [(r.name, r.parameters) for r in ex.summary()] == [("dense_Dense1", 64), ("dense_Dense2", 68)]
    assert [f["name"] for f in ex.inputs] == ["input 0", "input 1", "input 2"]
    x = [0.5, 0.1, 0.2]  # a plain TF.js model takes the numbers as they are (no scaling)
    np.testing.assert_allclose(ex.activations(x, "dense_Dense2"),
                               ml.model_explorer(str(COLOURS)).activations([v * 255 for v in x], "dense_2"),
                               rtol=1e-5, atol=1e-6)


def test_an_anomaly_detector_and_its_score_explained():
    """An autoencoder saved by playml 0.1.0: the rebuild is det.reconstruct's, and gradient × input
    explains the anomaly score (the reconstruction error), checked by finite differences."""
    import torch

    ex = ml.model_explorer("tests/data/saved-0.1.0/anomaly_detector")
    det = ex.loaded
    assert ex.kind == "anomaly_detector" and ex.is_table and not ex.is_classifier
    assert [(r.name, r.shape) for r in ex.summary()] == [
        ("encoder_1", (3,)), ("encoder_2", (2,)), ("decoder_1", (3,)), ("decoder_2", (4,))]
    assert ex.parameters == sum(p.numel() for p in det.model.parameters()) == 48
    lo, span = det.scale_offset_, det.scale_span_  # min-max scaling: the training data's range
    np.testing.assert_allclose([(f["min"], f["max"]) for f in ex.inputs], np.stack([lo, lo + span], 1), rtol=1e-6)
    rng = np.random.default_rng(0)
    for row in rng.normal(size=(4, 4)):
        rebuilt = [v.value for v in ex.outputs(row)]
        np.testing.assert_allclose(rebuilt, det.reconstruct(row[None].astype(np.float32))[0], rtol=1e-5, atol=1e-6)
        att = ex.attribution(row)
        assert att.label == "reconstruction error"
        assert att.score == pytest.approx(float(det.score(row[None].astype(np.float32))[0]), rel=1e-5)
        x = ex.preprocess(row).astype(np.float64)
        model = ex.model.double()
        try:
            def f(v):
                with torch.no_grad():
                    return float(((model(torch.from_numpy(v)[None])[0] - torch.from_numpy(v)) ** 2).mean())

            eps = 1e-6
            grad = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])
        finally:
            ex.model.float()
        np.testing.assert_allclose(att.values, grad * x, rtol=1e-3, atol=1e-7)
    with pytest.raises(ml.InputError, match="reconstruction error"):
        ex.attribution(row, label=0)
