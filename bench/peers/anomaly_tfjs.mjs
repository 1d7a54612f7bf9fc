// Anomagram's job in TensorFlow.js (wasm backend, Node): train a dense autoencoder on
// normal heartbeats, then score sequences by reconstruction error.
//
//   node anomaly_tfjs.mjs JOB.json
//
// JOB.json: {"train": "train.f32", "n_train": 2600, "score": "score.f32", "n_score": 500,
//            "features": 140, "hidden": [15, 7], "latent": 2, "epochs": 20, "batch_size": 256,
//            "learning_rate": 0.01, "repeats": 3}
// The .f32 files hold little-endian float32 rows, already scaled to 0–1.
// Prints one JSON line: {"backend": "wasm", "train_s": [...], "score_s": [...], "final_loss": ...}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const here = dirname(process.argv[2]);
const wasmDir = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "/");
wasm.setWasmPaths(wasmDir);
await tf.setBackend("wasm");
await tf.ready();

function rows(file, n) {
  const buf = readFileSync(join(here, file));
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return tf.tensor2d(data, [n, job.features]);
}

function autoencoder() {
  // encoder: features → hidden… → latent (linear); decoder mirrors it, sigmoid output (Anomagram's)
  const model = tf.sequential();
  job.hidden.forEach((units, i) => model.add(tf.layers.dense(
    i === 0 ? { units, activation: "relu", inputShape: [job.features] } : { units, activation: "relu" })));
  model.add(tf.layers.dense({ units: job.latent }));
  [...job.hidden].reverse().forEach((units) => model.add(tf.layers.dense({ units, activation: "relu" })));
  model.add(tf.layers.dense({ units: job.features, activation: "sigmoid" }));
  model.compile({ optimizer: tf.train.adam(job.learning_rate), loss: "meanSquaredError" });
  return model;
}

const xTrain = rows(job.train, job.n_train);
const xScore = rows(job.score, job.n_score);
const trainTimes = [], scoreTimes = [];
let finalLoss = null;
for (let r = 0; r < job.repeats; r++) {
  const model = autoencoder();
  let t = performance.now();
  const h = await model.fit(xTrain, xTrain, { epochs: job.epochs, batchSize: job.batch_size, shuffle: true, verbose: 0 });
  trainTimes.push((performance.now() - t) / 1000);
  finalLoss = h.history.loss[h.history.loss.length - 1];
  t = performance.now();
  const errors = tf.tidy(() => model.predict(xScore).sub(xScore).square().mean(1));
  await errors.data();
  scoreTimes.push((performance.now() - t) / 1000);
  errors.dispose();
  model.dispose();
}
console.log(JSON.stringify({ backend: tf.getBackend(), tfjs: tf.version.tfjs, train_s: trainTimes, score_s: scoreTimes,
                             final_loss: finalLoss }));
