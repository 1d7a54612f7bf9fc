"""The bridge to the browser, both ways, timed.

1. **In**: a real Teachable Machine export (tests/data/tfjs/tm-standard: MobileNetV2 0.35 +
   dense head, 224×224) — playml (``ml.load`` → PyTorch) against TensorFlow.js 4.22 on its
   wasm backend in Node, on the same preprocessed tensors, batch 1 and batch 16.
2. **Out**: a classifier taught in playml (EfficientNet-Lite0 + head), exported as
   ``teachable-machine``, run in headless Chromium by ``@teachablemachine/image`` (TF.js
   4.22 wasm backend, and WebGL — on SwiftShader here, no GPU) and by ml5.js 1.4
   ``imageClassifier`` (WebGL), against playml classifying the same photos in Python (ONNX
   Runtime), per image, end to end.

Same machine, same run; the load average is recorded (the machine is shared), ratios are
what to read.

    .venv/bin/python -m bench.bridge
"""
from __future__ import annotations

import base64
import datetime
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import machine, markdown_table

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 20


def _best(fn, repeat: int = REPEAT) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def bench_in() -> list[list]:
    import playml as ml
    from bench.peers import run_node
    from playml.formats.tfjs import read_tfjs

    folder = ROOT / "tests" / "data" / "tfjs" / "tm-standard"
    tm = ml.load(folder)
    photos = [ROOT / "playml" / "samples" / f for f in ("coffee.jpg", "chelsea.jpg", "astronaut.jpg")]
    x16 = np.stack([tm.preprocess(photos[i % 3]) for i in range(16)])
    model_json, weights = read_tfjs(folder)
    rows = []
    for batch in (1, 16):
        x = x16[:batch]
        t_ours = _best(lambda: tm.layers_model.predict(x))
        out = run_node("node/predict_many.mjs", {"models": [
            {"modelJson": model_json, "weightsBase64": base64.b64encode(weights).decode(), "inputs": x.tolist(),
             "repeat": REPEAT, "whole": True}]})
        t_tfjs = out["seconds"][0]
        diff = float(np.abs(np.asarray(out["outputs"][0]) - tm.layers_model.predict(x)).max())
        rows.append([f"Teachable Machine export, batch {batch}", f"{1000 * t_ours:.1f} ms", f"{1000 * t_tfjs:.1f} ms",
                     f"{t_tfjs / t_ours:.2f}×", f"{diff:.1e}"])
    t_e2e = _best(lambda: tm.classify(photos[0]))
    rows.append(["… playml end to end (decode, crop, resize, model), 1 photo", f"{1000 * t_e2e:.1f} ms", "", "", ""])
    return rows


def bench_out() -> list[list]:
    from PIL import Image

    import playml as ml
    from bench.peers import run_chromium
    sys.path.insert(0, str(ROOT / "tests"))
    from _teach_data import photo_crops
    from playml.zoo.preprocessing import crop_resize

    train, held = photo_crops(n_train=4, n_held=2, seed=3)
    clf = ml.ImageClassification(seed=0)
    for label, images in train.items():
        clf.add_images(images, label, progress=False)
    clf.train(epochs=30, progress=False)
    photos = [x for v in held.values() for x in v]
    crops = [crop_resize(p, clf.extractor.spec) for p in photos]
    ours = clf.probabilities(photos)
    rows = []
    t_playml = _best(lambda: clf.probabilities(photos[0]))
    rows.append(["playml (Python, ONNX Runtime), 1 photo end to end", f"{1000 * t_playml:.1f} ms", "1.00×", ""])
    with tempfile.TemporaryDirectory() as tmp:
        export = clf.export(Path(tmp) / "tm", format="teachable-machine")
        tm = ml.load(export)
        x = np.stack(crops[:1]).astype(np.float32) / 127 - 1
        t_reader = _best(lambda: tm.layers_model.predict(x))
        rows.append(["the export read back by playml (ml.load: ONNX Runtime), 1 crop", f"{1000 * t_reader:.1f} ms",
                     f"{t_reader / t_playml:.2f}×", ""])
        files = {f"model/{p.name}": p.read_bytes() for p in export.iterdir()}
        for i, crop in enumerate(crops):
            buf = io.BytesIO()
            Image.fromarray(crop).save(buf, format="PNG")
            files[f"img{i}.png"] = buf.getvalue()
        labels = list(clf.labels_)
        for lib, backend, repeat in (("tm", "wasm", REPEAT), ("tm", "webgl", 5), ("ml5", None, 5)):
            res = run_chromium("browser/image_model_classify.js", {
                "lib": lib, "model": "/files/model/", "backend": backend, "repeat": repeat,
                "images": [f"/files/img{i}.png" for i in range(len(crops))]}, files=files, timeout=900)["result"]
            probs = np.array([[next(r["confidence"] for r in rs if r["label"] == label) for label in labels]
                              for rs in res["results"]])
            name = {"tm": "@teachablemachine/image 0.8.5", "ml5": "ml5.js 1.4 imageClassifier"}[lib]
            rows.append([f"{name}, TF.js {res['backend']} in Chromium, 1 image", f"{1000 * res['seconds']:.1f} ms",
                         f"{res['seconds'] / t_playml:.2f}×", f"{np.abs(probs - ours).max():.1e}"])
    return rows


def main() -> int:
    load_before = os.getloadavg()
    rows_in = bench_in()
    rows_out = bench_out()
    load_after = os.getloadavg()
    text = "\n".join([
        "# The bridge to the browser",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (shared machine: read the ratios). "
        f"Median of {REPEAT} runs (5 for WebGL) after a warm-up.",
        "",
        "## In: a real Teachable Machine export (MobileNetV2 0.35, 224×224) — playml vs TF.js 4.22 wasm in Node",
        "",
        markdown_table(["job", "playml", "TF.js (Node, wasm)", "TF.js / playml", "max |Δp|"], rows_in),
        "",
        "## Out: a playml classifier (EfficientNet-Lite0 + head) exported as `teachable-machine`",
        "",
        markdown_table(["runs it", "time", "vs playml", "max |Δp| vs playml"], rows_out),
        "",
        "Chromium runs headless with `--disable-gpu`: its WebGL is SwiftShader (a CPU renderer), so the WebGL "
        "rows say nothing about a real GPU; the wasm row is what a browser without a GPU gets.",
    ])
    print(text)
    (ROOT / "bench" / "results" / "bridge.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
