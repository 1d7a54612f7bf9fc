"""Both ways with the real ml5.js 1.4.0 in headless Chromium: ml5 → playml and playml → ml5, same outputs."""
import numpy as np
import pytest

import playml as ml

from conftest import require_browser, require_node_modules

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PROBE = [[250, 10, 10], [10, 120, 20], [20, 20, 240], [240, 240, 30], [128, 128, 128]]


def _peers():
    require_browser()
    require_node_modules()
    from bench import peers

    return peers


def _colour_rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for name, rgb in {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255)}.items():
        for _ in range(20):
            r, g, b = (float(v) for v in np.clip(np.array(rgb) + rng.normal(0, 25, 3), 0, 255).round())
            rows.append(({"r": r, "g": g, "b": b}, {"colour": name}))
    return rows


def _same_classification(ours, theirs):
    for mine, js in zip(ours, theirs):
        got = {p.label: p.confidence for p in mine}
        assert set(got) == {d["label"] for d in js}
        for d in js:
            assert got[d["label"]] == pytest.approx(d["confidence"], abs=1e-4)


def test_a_model_trained_and_saved_by_ml5_runs_the_same_in_playml(tmp_path):
    peers = _peers()
    job = {"mode": "train", "options": {"task": "classification", "inputs": ["r", "g", "b"], "outputs": ["colour"]},
           "data": [[x, y] for x, y in _colour_rows()], "normalize": True,
           "train": {"epochs": 15, "batchSize": 16}, "probe": PROBE, "save": True}
    out = peers.run_chromium("browser/ml5_neural_network.js", job, expect_downloads=3, timeout=300)
    assert sorted(out["downloads"]) == ["model.json", "model.weights.bin", "model_meta.json"]
    for name, data in out["downloads"].items():
        (tmp_path / name).write_bytes(data)
    loaded = ml.load(tmp_path)
    assert loaded.task_ == "classification" and loaded.input_names == ["r", "g", "b"]
    _same_classification(loaded.classify_multiple(PROBE), out["result"]["outputs"])


def _serve(folder):
    return {name: (folder / name).read_bytes() for name in ("model.json", "model.weights.bin", "model_meta.json")}


def test_models_saved_by_playml_run_the_same_in_ml5(tmp_path):
    peers = _peers()
    # classification, with playml's extra "playml" key in model_meta.json
    clf = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"], seed=0)
    for x, y in _colour_rows(1):
        clf.add_data(x, y)
    clf.normalize_data()
    clf.train(epochs=20, progress=False)
    clf.save(tmp_path / "clf")
    out = peers.run_chromium("browser/ml5_neural_network.js",
                             {"mode": "load", "options": {"task": "classification"}, "probe": PROBE},
                             files=_serve(tmp_path / "clf"), timeout=300)
    _same_classification(clf.classify_multiple(PROBE), out["result"]["outputs"])

    # regression (linear output, un-normalised by ml5 with the saved min/max)
    reg = ml.neural_network(task="regression", inputs=["x"], outputs=["y"], seed=0)
    for x in np.linspace(-1, 4, 30):
        reg.add_data([float(x)], [float(2 * x - 1)])
    reg.normalize_data()
    reg.train(epochs=30, batch_size=8, progress=False)
    reg.save(tmp_path / "reg")
    probe = [[-0.5], [0.3], [2.2], [3.7]]
    out = peers.run_chromium("browser/ml5_neural_network.js",
                             {"mode": "load", "options": {"task": "regression"}, "probe": probe},
                             files=_serve(tmp_path / "reg"), timeout=300)
    for mine, js in zip(reg.predict_multiple(probe), out["result"]["outputs"]):
        assert mine[0].label == js[0]["label"] == "y"
        assert mine[0].value == pytest.approx(js[0]["value"], abs=1e-4)


def test_image_cnn_saved_by_playml_runs_the_same_in_ml5(photos, tmp_path):
    """Conv kernels (OIHW ↔ HWIO) and the channels-last Flatten must line up exactly."""
    peers = _peers()
    rng = np.random.default_rng(0)
    cnn = ml.neural_network(task="imageClassification", inputs=[20, 20, 4], seed=0)
    for label in ("chelsea", "rocket", "coffee"):
        img = photos[label]
        for _ in range(10):
            y, x = int(rng.integers(0, img.shape[0] - 100)), int(rng.integers(0, img.shape[1] - 100))
            cnn.add_data({"image": img[y:y + 100, x:x + 100]}, {"label": label})
    cnn.normalize_data()
    cnn.train(epochs=5, batch_size=8, progress=False)
    cnn.save(tmp_path / "cnn")
    pixels = [list(map(float, cnn._xs[i][0])) for i in (0, 12, 25)]  # flat RGBA rows, as ml5 reads a canvas
    out = peers.run_chromium("browser/ml5_neural_network.js",
                             {"mode": "load", "options": {"task": "imageClassification"}, "probe": pixels},
                             files=_serve(tmp_path / "cnn"), timeout=300)
    _same_classification(cnn.classify_multiple([np.array(p, dtype=np.float32) for p in pixels]),
                         out["result"]["outputs"])
