"""The saved head is a TensorFlow.js layers model: TF.js (wasm backend, in Node) loads it
unchanged and gives the same probabilities on the same features."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

import playml as ml
from _teach_data import photo_crops

SCRIPT = """
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
wasm.setWasmPaths(require.resolve("@tensorflow/tfjs-backend-wasm").replace(/[^/]+$/, ""));
await tf.setBackend("wasm");
const dir = process.argv[1];
const json = JSON.parse(readFileSync(dir + "/model/model.json", "utf8"));
const bin = readFileSync(dir + "/model/model.weights.bin");
const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest[0].weights,
  weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)}));
const meta = JSON.parse(readFileSync(dir + "/model/model_meta.json", "utf8"));
const raw = readFileSync(dir + "/features.f32");
const n = raw.byteLength / 4 / meta.head.inputs;
const x = tf.tensor2d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [n, meta.head.inputs]);
const probs = model.predict(x);
console.log(JSON.stringify({backend: tf.getBackend(), shape: probs.shape, probs: Array.from(await probs.data())}));
"""


@pytest.mark.slow
def test_saved_head_runs_in_tensorflow_js(tmp_path):
    from conftest import require_node_modules

    node_modules = require_node_modules()
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    train, held = photo_crops(n_train=3, n_held=2, seed=5)
    fe = ml.feature_extractor()
    clf = fe.classification(seed=0)
    for label, images in train.items():
        clf.add_images(images, label, progress=False)
    clf.train(epochs=20, progress=False)
    clf.save(tmp_path / "model")
    images = [x for v in held.values() for x in v]
    features = fe.features(images)
    features.astype("<f4").tofile(tmp_path / "features.f32")
    done = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(tmp_path)], cwd=node_modules.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["backend"] == "wasm" and out["shape"] == [len(images), 4]
    tfjs = np.array(out["probs"]).reshape(len(images), 4)
    assert np.abs(tfjs - clf.probabilities(images)).max() <= 1e-4
    assert (tfjs.argmax(1) == np.repeat(np.arange(4), 2)).mean() >= 0.75
