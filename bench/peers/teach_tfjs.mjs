// The Teachable Machine / ml5 featureExtractor head in TensorFlow.js (wasm backend, Node):
// Dense(units, relu) → Dense(labels, softmax), Adam, categorical cross-entropy, trained on
// precomputed feature vectors. Run through bench/peers (run_node) with the payload
//   {"features": "/abs/x.f32", "labels": "/abs/y.i32", "n": 300, "dim": 1280, "classes": 3,
//    "units": 100, "epochs": 50, "batch_size": 16, "learning_rate": 0.001,
//    "validation_split": 0.15, "repeats": 3}
// Result: {"backend": "wasm", "tfjs": "4.22.0", "train_s": [...], "final": {...}}.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
wasm.setWasmPaths(require.resolve("@tensorflow/tfjs-backend-wasm").replace(/[^/]+$/, ""));
await tf.setBackend("wasm");
await tf.ready();

const job = JSON.parse(readFileSync(process.env.PEER_PAYLOAD, "utf8"));
const fbuf = readFileSync(job.features);
const lbuf = readFileSync(job.labels);
const x = tf.tensor2d(new Float32Array(fbuf.buffer, fbuf.byteOffset, fbuf.byteLength / 4), [job.n, job.dim]);
const codes = tf.tensor1d(new Int32Array(lbuf.buffer, lbuf.byteOffset, lbuf.byteLength / 4), "int32");
const y = tf.oneHot(codes, job.classes).toFloat();

const times = [];
let final = null;
for (let r = 0; r < job.repeats; r++) {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: job.units, activation: "relu", inputShape: [job.dim] }));
  model.add(tf.layers.dense({ units: job.classes, activation: "softmax" }));
  model.compile({ optimizer: tf.train.adam(job.learning_rate), loss: "categoricalCrossentropy",
                  metrics: ["accuracy"] });
  const t = performance.now();
  const h = await model.fit(x, y, { epochs: job.epochs, batchSize: job.batch_size, shuffle: true,
                                    validationSplit: job.validation_split, verbose: 0 });
  times.push((performance.now() - t) / 1000);
  final = Object.fromEntries(Object.entries(h.history).map(([k, v]) => [k, v[v.length - 1]]));
  model.dispose();
}
writeFileSync(process.env.PEER_RESULT, JSON.stringify({ backend: tf.getBackend(), tfjs: tf.version.tfjs,
                                                        train_s: times, final }));
