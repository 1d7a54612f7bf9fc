"""Whole image models out: a classifier taught in playml, exported as one TF.js layers model
(backbone + head) in Teachable Machine's layout, loads unchanged in ml5.js 1.x and
@teachablemachine/image (headless Chromium) and in TF.js (Node), and classifies like playml;
the `web` export runs offline with Chromium's fake camera (screenshot in test-artifacts/bridge/)."""
from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import playml as ml
from _teach_data import photo_crops, write_folder
from conftest import ROOT, require_browser, require_node_modules

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "bridge"
STANDARD_LAYERS = {"InputLayer", "Conv2D", "DepthwiseConv2D", "ZeroPadding2D", "Add", "GlobalAveragePooling2D",
                   "Dense"}


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    """A 4-label classifier on EfficientNet-Lite0, its exports, and held-out photos with playml's crops."""
    from playml.zoo.preprocessing import crop_resize

    root = tmp_path_factory.mktemp("bridge")
    train, held = photo_crops(n_train=4, n_held=2, seed=3)
    clf = ml.ImageClassification(seed=0)
    for label, images in train.items():
        clf.add_images(images, label, progress=False)
    clf.train(epochs=30, progress=False)
    photos = [x for v in held.values() for x in v]
    truth = [k for k, v in held.items() for _ in v]
    crops = np.stack([crop_resize(p, clf.extractor.spec) for p in photos])
    tm = clf.export(root / "tm", format="teachable-machine")
    return {"root": root, "clf": clf, "photos": photos, "truth": truth, "crops": crops, "tm": tm,
            "playml": clf.probabilities(photos)}


def _pipeline(clf, crops: np.ndarray) -> np.ndarray:
    """playml's own backbone + head (PyTorch) on these exact crops."""
    from playml.zoo.preprocessing import normalise

    with torch.no_grad():
        feats = clf.extractor.torch_module()(torch.from_numpy(normalise(crops, clf.extractor.spec)))
        return clf.model_(feats).numpy()


def test_teachable_machine_export_layout_and_round_trip(taught):
    from playml.formats.tfjs import from_tfjs, read_tfjs

    tm, clf = taught["tm"], taught["clf"]
    assert sorted(p.name for p in tm.iterdir()) == ["metadata.json", "model.json", "weights.bin"]
    meta = json.loads((tm / "metadata.json").read_text())
    assert meta["labels"] == list(clf.labels_) and meta["imageSize"] == 224
    assert meta["packageName"] == "@teachablemachine/image" and "tmVersion" in meta
    model_json, weights = read_tfjs(tm)
    classes = {layer["class_name"] for layer in model_json["modelTopology"]["config"]["layers"]}
    assert classes <= STANDARD_LAYERS, classes - STANDARD_LAYERS
    # playml -> TF.js -> playml: the TF.js model computes playml's pipeline (TM's x/127-1 input)
    x = torch.from_numpy(taught["crops"].astype(np.float32) / 127 - 1)
    with torch.no_grad():
        back = from_tfjs(model_json, weights)(x).numpy()
    assert np.abs(back - _pipeline(clf, taught["crops"])).max() < 1e-5
    assert np.abs(back - taught["playml"]).max() < 1e-4  # == clf.probabilities on the original photos
    loaded = ml.load(tm)
    assert type(loaded).__name__ == "TeachableMachineImage" and loaded.labels == list(clf.labels_)
    assert np.abs(loaded.layers_model.predict(x.numpy()) - back).max() < 1e-6


def test_teachable_machine_export_matches_tfjs_in_node(taught):
    require_node_modules()
    from bench.peers import run_node
    from playml.formats.tfjs import read_tfjs

    model_json, weights = read_tfjs(taught["tm"])
    x = taught["crops"][:4].astype(np.float32) / 127 - 1
    out = run_node("node/predict_many.mjs", {"models": [{"modelJson": model_json, "inputs": x.tolist(),
                                                         "weightsBase64": base64.b64encode(weights).decode()}]})
    assert np.abs(np.asarray(out["outputs"][0]) - taught["playml"][:4]).max() < 1e-4


def _browser_files(taught) -> dict[str, bytes]:
    from PIL import Image

    files = {f"model/{p.name}": p.read_bytes() for p in taught["tm"].iterdir()}
    for i, crop in enumerate(taught["crops"]):
        buf = io.BytesIO()
        Image.fromarray(crop).save(buf, format="PNG")
        files[f"img{i}.png"] = buf.getvalue()
    return files


@pytest.mark.browser
@pytest.mark.parametrize("lib", ["ml5", "tm"])
def test_export_loads_unchanged_in_ml5_and_teachable_machine_library(taught, lib):
    require_browser()
    require_node_modules()
    from bench.peers import run_chromium

    clf, n = taught["clf"], len(taught["crops"])
    out = run_chromium("browser/image_model_classify.js",
                       {"lib": lib, "model": "/files/model/", "images": [f"/files/img{i}.png" for i in range(n)]},
                       files=_browser_files(taught), timeout=600)["result"]
    labels = list(clf.labels_)
    probs = np.array([[next(r["confidence"] for r in rows if r["label"] == label) for label in labels]
                      for rows in out["results"]])
    ours = taught["playml"]
    assert (probs.argmax(1) == ours.argmax(1)).all()
    assert np.abs(probs - ours).max() < 1e-3
    accuracy = np.mean([labels[i] == t for i, t in zip(probs.argmax(1), taught["truth"])])
    assert accuracy >= 0.75


def test_tfjs_and_onnx_exports(taught):
    import onnxruntime

    from playml.formats.tfjs import read_tfjs
    from playml.zoo.preprocessing import normalise

    clf, root = taught["clf"], taught["root"]
    plain = clf.export(root / "plain", format="tfjs")
    assert sorted(p.name for p in plain.iterdir()) == ["labels.json", "model.json", "weights.bin"]
    assert read_tfjs(plain)[1] == read_tfjs(taught["tm"])[1]
    assert json.loads((plain / "labels.json").read_text())["labels"] == list(clf.labels_)
    assert type(ml.load(plain)).__name__ == "LayersModel"
    onnx_dir = clf.export(root / "onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(onnx_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"images": normalise(taught["crops"], clf.extractor.spec)})
    assert np.abs(probs - taught["playml"]).max() < 1e-4
    with pytest.raises(ml.UnknownModelError, match="teachable-machine"):
        clf.export(root / "x", format="teachable")
    reg = ml.ImageRegression(seed=0)
    with pytest.raises(ml.NotTrainedError):
        reg.export(root / "y", format="tfjs")
    # a regression exports whole too (not as Teachable Machine: that is for classifiers)
    reg.add_images(taught["photos"], [float(i) for i in range(len(taught["photos"]))], progress=False)
    reg.train(epochs=5, progress=False)
    with pytest.raises(ml.TaskError, match="image classifiers"):
        reg.export(root / "y", format="teachable-machine")
    values = ml.load(reg.export(root / "reg", format="tfjs")).predict(taught["crops"].astype(np.float32) / 127 - 1)
    assert np.abs(values[:, 0] - np.asarray(reg.predict(taught["photos"]), dtype=np.float32)).max() < 1e-3


def test_cli_export_and_predict_on_a_teachable_machine_folder(taught, capsys):
    from playml.cli import main

    root = taught["root"]
    taught["clf"].save(root / "saved")
    assert main(["export", str(root / "saved"), "--format", "teachable-machine", "--out", str(root / "cli-tm")]) == 0
    assert "metadata.json, model.json, weights.bin" in capsys.readouterr().out
    images = write_folder(root / "held", {"coffee": [taught["photos"][taught["truth"].index("coffee")]]})
    assert main(["predict", str(root / "cli-tm"), str(images / "coffee"), "--json", "--top-k", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["predictions"][0]["label"] == "coffee"
    assert main(["predict", str(Path(__file__).parent / "data" / "tfjs" / "tm-standard"),
                 str(Path(ml.__file__).parent / "samples" / "coffee.jpg")]) == 0
    assert "blah" in capsys.readouterr().out


def test_cli_serve_serves_a_folder_on_localhost(tmp_path):
    import subprocess
    import sys
    import urllib.request

    (tmp_path / "index.html").write_text("<p>hello</p>")
    proc = subprocess.Popen([sys.executable, "-m", "playml", "serve", str(tmp_path), "--port", "0"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert "http://localhost:" in line, line
        url = line.split("at ", 1)[1].split()[0]
        assert urllib.request.urlopen(url, timeout=30).read() == b"<p>hello</p>"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _write_y4m(path: Path, photo: np.ndarray, frames: int = 10) -> None:
    """A 640×480 4:2:0 Y4M clip of ``photo`` for Chromium's fake camera."""
    from PIL import Image

    frame = Image.fromarray(photo).resize((640, 480), Image.BILINEAR)
    ycc = np.asarray(frame.convert("YCbCr"))
    one = b"FRAME\n" + ycc[:, :, 0].tobytes() + np.ascontiguousarray(ycc[::2, ::2, 1]).tobytes() + \
        np.ascontiguousarray(ycc[::2, ::2, 2]).tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + one * frames)


@pytest.mark.browser
def test_web_export_runs_offline_with_the_fake_camera(taught, tmp_path):
    chromium = require_browser()
    require_node_modules()
    from playwright.sync_api import sync_playwright

    web = taught["clf"].export(taught["root"] / "web", format="web")
    names = {p.name for p in web.iterdir()}
    assert {"index.html", "app.js", "tf.min.js", "model.json", "weights.bin", "metadata.json"} <= names
    page_text = (web / "index.html").read_text() + (web / "app.js").read_text()
    assert "http://" not in page_text and "https://" not in page_text and "cdn" not in page_text.lower()
    runtime = json.loads((web / "runtime.json").read_text())
    assert runtime["version"] == "4.22.0" and {"tf.min.js", "tfjs-backend-wasm-simd.wasm"} <= set(runtime["files"])
    import hashlib
    for name, digest in runtime["files"].items():
        assert hashlib.sha256((web / name).read_bytes()).hexdigest() == digest

    coffee = taught["photos"][taught["truth"].index("coffee")]
    video = tmp_path / "camera.y4m"
    _write_y4m(video, coffee)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(web))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{server.server_address[1]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    refused = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
            try:
                context = browser.new_context(viewport={"width": 1000, "height": 760})

                def route(r):
                    if r.request.url.startswith(origin):
                        r.continue_()
                    else:
                        refused.append(r.request.url)
                        r.abort()
                context.route("**/*", route)
                page = context.new_page()
                page.goto(origin + "/")
                page.wait_for_function("() => (window.playmlFrames || 0) >= 3", timeout=300_000)
                probs = page.evaluate("() => window.playmlPredictions")
                bars = page.locator(".bar").count()
                status = page.locator("#status").inner_text()
                card = page.locator("#card").inner_text()
                page.screenshot(path=str(ARTIFACTS / "web-export.png"))
            finally:
                browser.close()
    finally:
        server.shutdown()
    labels = list(taught["clf"].labels_)
    assert not refused
    assert bars == len(labels) and len(probs) == len(labels) and abs(sum(probs) - 1) < 1e-4
    assert labels[int(np.argmax(probs))] == "coffee", (probs, status)
    assert "offline" in status and "wasm backend" in status and "EfficientNet-Lite0" in card
    assert (ARTIFACTS / "web-export.png").stat().st_size > 10_000
