"""The Explorer page's API (``/api/explorer/*``) without a browser: choices, errors, answers."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient

import playml as ml
from playml.web.app import PAGES, create_app
from playml.web.explorer import channel_grid

TOKEN = "explorer-test-token"
BASE = "http://127.0.0.1:8767"
AUTH = {"x-playml-token": TOKEN}
COFFEE = "playml/samples/coffee.jpg"


def test_channel_grid_round_trips_the_numbers():
    from PIL import Image
    import base64
    import io

    act = np.random.default_rng(0).normal(size=(10, 5, 7)).astype(np.float32)
    g = channel_grid(act, max_channels=8)
    assert (g["channels"], g["shown"], g["height"], g["width"]) == (10, 8, 5, 7)
    grey = np.asarray(Image.open(io.BytesIO(base64.b64decode(g["png"].split(",")[1]))), np.float64)
    assert grey.shape == (g["rows"] * 6 - 1, g["cols"] * 8 - 1)
    for c in range(8):
        r, q = divmod(c, g["cols"])
        tile = grey[r * 6: r * 6 + 5, q * 8: q * 8 + 7]
        back = g["mins"][c] + tile / 255 * (g["maxs"][c] - g["mins"][c])
        assert np.abs(back - act[c]).max() <= (g["maxs"][c] - g["mins"][c]) / 255 / 2 + 1e-6
    flat = channel_grid(np.arange(5, dtype=np.float32))  # a dense layer: one cell per unit
    assert (flat["channels"], flat["height"], flat["width"]) == (5, 1, 1)


def test_explorer_api(tmp_path):
    assert "explorer" in [p["id"] for p in PAGES]
    models = tmp_path / "models"
    shutil.copytree("tests/data/tfjs/tm-standard", models / "my-tm")
    for kind in ("image_classification", "neural_network", "anomaly_detector"):  # saved by playml 0.1.0
        shutil.copytree(f"tests/data/saved-0.1.0/{kind}", models / kind)
    (models / "notes").mkdir()
    client = TestClient(create_app(token=TOKEN, models_dir=models, port=8767), base_url=BASE)
    r = client.post("/api/explorer/layer", json={"layer": "stem"}, headers=AUTH)
    assert r.status_code == 400 and "Open a model first" in r.json()["detail"]
    choices = client.get("/api/explorer", headers=AUTH).json()
    assert [b["id"] for b in choices["backbones"]][:1] == ["efficientnet-lite0"]
    # image and table models, not the folder without a model
    assert [s["id"] for s in choices["saved"]] == [
        "saved:anomaly_detector", "saved:image_classification", "saved:my-tm", "saved:neural_network"]
    taught = client.post("/api/explorer/open", json={"model": "saved:image_classification"}, headers=AUTH).json()
    assert taught["kind"] == "image_classification" and taught["layers"][-1]["type"] == "Softmax"

    r = client.post("/api/explorer/open", json={"model": "resnet50"}, headers=AUTH)
    assert r.status_code == 400 and "efficientnet-lite0" in r.json()["detail"]
    r = client.post("/api/explorer/open", json={"path": str(tmp_path / "nowhere")}, headers=AUTH)
    assert r.status_code == 400 and "no folder" in r.json()["detail"]
    r = client.post("/api/explorer/open", json={"path": str(models / "notes")}, headers=AUTH)
    assert r.status_code == 400
    r = client.post("/api/explorer/open", json={"model": "saved:../x"}, headers=AUTH)
    assert r.status_code == 400

    info = client.post("/api/explorer/open", json={"model": "saved:my-tm"}, headers=AUTH).json()
    ex = ml.model_explorer("tests/data/tfjs/tm-standard")
    assert info["parameters"] == ex.parameters and len(info["layers"]) == len(ex.summary())
    assert info["kind"] == "teachable_machine" and info["classifier"] is True
    r = client.post("/api/explorer/gradcam", json={}, headers=AUTH)
    assert r.status_code == 400 and "Choose an image first" in r.json()["detail"]

    with open(COFFEE, "rb") as f:
        r = client.post("/api/explorer/image", files={"file": ("coffee.jpg", f, "image/jpeg")}, headers=AUTH)
    assert r.json() == {"width": 600, "height": 400, "source": "upload"}
    r = client.post("/api/explorer/image", files={"file": ("x.jpg", b"not an image", "image/jpeg")}, headers=AUTH)
    assert r.status_code == 400
    out = client.post("/api/explorer/layer", json={"layer": "Conv1"}, headers=AUTH).json()
    act = ex.activations(COFFEE, "Conv1")
    assert out["shape"] == list(act.shape) and out["grid"]["channels"] == 16
    np.testing.assert_allclose(out["grid"]["means"], act.reshape(16, -1).mean(1), atol=1e-5)
    assert out["weights"]["counts"] == ex.distribution("Conv1").counts.tolist()
    r = client.post("/api/explorer/layer", json={"layer": "nope"}, headers=AUTH)
    assert r.status_code == 400 and "Conv1" in r.json()["detail"]
    cam = client.post("/api/explorer/gradcam", json={}, headers=AUTH).json()
    py = ex.grad_cam(COFFEE)
    assert cam["label"] == py.label and cam["peak"] == list(py.peak()) and cam["confidence"] == pytest.approx(py.confidence)
    assert client.post("/api/explorer/open", json={"model": "saved:my-tm"}).status_code in (401, 403)  # the token
    # a big photo: the overlay PNG is sent at most OVERLAY_SIDE pixels on a side, the peak in the photo's pixels
    import base64
    import io

    from PIL import Image

    big = io.BytesIO()
    Image.open(COFFEE).resize((1500, 1000)).save(big, format="JPEG", quality=95)
    client.post("/api/explorer/image", files={"file": ("big.jpg", big.getvalue(), "image/jpeg")}, headers=AUTH)
    cam = client.post("/api/explorer/gradcam", json={}, headers=AUTH).json()
    png = Image.open(io.BytesIO(base64.b64decode(cam["png"].split(",")[1])))
    assert (cam["width"], cam["height"]) == (1500, 1000) and png.size == (640, 427) and png.mode == "RGBA"
    assert abs(cam["peak"][0] - 2.5 * py.peak()[0]) < 40 and abs(cam["peak"][1] - 2.5 * py.peak()[1]) < 40


def test_explorer_api_on_a_table_model(tmp_path):
    """An ml5.js network (saved by playml 0.1.0) and a flat TF.js model: one row in, every layer out."""
    models = tmp_path / "models"
    shutil.copytree("tests/data/saved-0.1.0/neural_network", models / "colours")
    client = TestClient(create_app(token=TOKEN, models_dir=models, port=8767), base_url=BASE)
    r = client.post("/api/explorer/row", json={"row": [1, 2, 3]}, headers=AUTH)
    assert r.status_code == 400 and "Open a model first" in r.json()["detail"]
    info = client.post("/api/explorer/open", json={"model": "saved:colours"}, headers=AUTH).json()
    ex = ml.model_explorer("tests/data/saved-0.1.0/neural_network")
    net = ml.load("tests/data/saved-0.1.0/neural_network")
    assert info["table"] is True and info["kind"] == "neural_network" and info["classifier"] is True
    assert info["inputs"] == ex.inputs and info["label_names"] == net.labels
    assert info["parameters"] == ex.parameters == sum(p.numel() for p in net.model.parameters())
    assert [(r["name"], r["parameters"]) for r in info["layers"]] == [(s.name, s.parameters) for s in ex.summary()]
    r = client.post("/api/explorer/row", json={}, headers=AUTH)
    assert r.status_code == 400 and "Enter the model's inputs" in r.json()["detail"]
    r = client.post("/api/explorer/layer", json={"layer": "dense_1"}, headers=AUTH)
    assert r.status_code == 400 and "row of numbers" in r.json()["detail"]
    r = client.post("/api/explorer/gradcam", json={}, headers=AUTH)
    assert r.status_code == 400

    row = {"r": 200, "g": 30, "b": 60}
    out = client.post("/api/explorer/row", json={"row": row, "layer": "dense_1"}, headers=AUTH).json()
    assert out["row"] == {k: float(v) for k, v in row.items()} and out["layer"] == "dense_1"
    for layer in out["layers"]:
        np.testing.assert_allclose(layer["values"], ex.activations(row, layer["name"]), rtol=1e-6, atol=1e-7)
    by_label = {p.label: p.confidence for p in net.classify(row)}
    assert {o["label"]: o["value"] for o in out["outputs"]} == pytest.approx(by_label, abs=1e-6)
    att = ex.attribution(row)
    assert out["attribution"]["label"] == att.label == net.classify(row)[0].label
    np.testing.assert_allclose(out["attribution"]["values"], att.values, rtol=1e-6, atol=1e-9)
    assert out["weights"]["counts"] == ex.distribution("dense_1").counts.tolist()
    assert out["activations"]["counts"] == ex.distribution("dense_1", row).counts.tolist()
    again = client.post("/api/explorer/row", json={"layer": "dense_2"}, headers=AUTH).json()  # the same row
    assert again["row"] == out["row"] and again["weights"]["size"] == info["layers"][1]["parameters"]
    r = client.post("/api/explorer/row", json={"row": {"r": 1, "g": 2}}, headers=AUTH)
    assert r.status_code == 400 and "'b'" in r.json()["detail"]
    r = client.post("/api/explorer/row", json={"row": {"r": 1, "g": 2, "b": "x"}}, headers=AUTH)
    assert r.status_code == 400 and "b must be a number" in r.json()["detail"]
    r = client.post("/api/explorer/row", json={"row": "1,2,3"}, headers=AUTH)
    assert r.status_code == 400

    auto = client.post("/api/explorer/open", json={"path": "tests/data/saved-0.1.0/anomaly_detector"}, headers=AUTH)
    assert auto.json()["kind"] == "anomaly_detector" and auto.json()["parameters"] == 48
    out = client.post("/api/explorer/row", json={"row": [0.5, 0, -1, 1]}, headers=AUTH).json()
    det = ml.load("tests/data/saved-0.1.0/anomaly_detector")
    x = np.array([[0.5, 0, -1, 1]], np.float32)
    np.testing.assert_allclose([o["value"] for o in out["outputs"]], det.reconstruct(x)[0], rtol=1e-5, atol=1e-6)
    assert out["attribution"]["label"] == "reconstruction error"
    assert out["attribution"]["score"] == pytest.approx(float(det.score(x)[0]), rel=1e-5)

    flat = client.post("/api/explorer/open", json={"path": "tests/data/tfjs/dense-regression"}, headers=AUTH).json()
    assert flat["kind"] == "tfjs_table" and flat["classifier"] is False and len(flat["inputs"]) == 2
    out = client.post("/api/explorer/row", json={"row": [0.5, -1]}, headers=AUTH).json()
    reg = ml.model_explorer("tests/data/tfjs/dense-regression")
    assert out["outputs"][0]["value"] == pytest.approx(float(reg.activations([0.5, -1], reg.layer_names()[-1])[0]))
    r = client.post("/api/explorer/row", json={"row": [0.5]}, headers=AUTH)
    assert r.status_code == 400 and "2 inputs" in r.json()["detail"]
