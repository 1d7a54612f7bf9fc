// Train a dense network with TensorFlow.js in Node, the way ml5.js builds it.
// payload: {x: [[...]], y: [int], classes, hidden: [units...], activation, optimizer: "sgd"|"adam",
//           learningRate, epochs, batchSize, validationSplit, backend: "wasm"|"cpu", probe: [[...]], save: bool}
// result: {seconds, backend, probs: [[...]] for probe, artifacts: {modelJson, weightsBase64} if save}
import { readPayload, writeResult } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await import("@tensorflow/tfjs");
if ((p.backend || "wasm") === "wasm") { await import("@tensorflow/tfjs-backend-wasm"); }
await tf.setBackend(p.backend || "wasm");
await tf.ready();
const x = tf.tensor2d(p.x);
const y = tf.oneHot(tf.tensor1d(p.y, "int32"), p.classes);
const model = tf.sequential();
(p.hidden || [16]).forEach((units, i) => {
  model.add(tf.layers.dense(i === 0 ? {units, activation: "relu", inputShape: [p.x[0].length]} : {units, activation: "relu"}));
});
model.add(tf.layers.dense({units: p.classes, activation: p.activation || "softmax"}));
const optimizer = p.optimizer === "adam" ? tf.train.adam(p.learningRate) : tf.train.sgd(p.learningRate);
model.compile({optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"]});
const t0 = performance.now();
const hist = await model.fit(x, y, {epochs: p.epochs, batchSize: p.batchSize, validationSplit: p.validationSplit || 0,
                                    shuffle: true, verbose: 0});
const seconds = (performance.now() - t0) / 1000;
const probs = p.probe ? await model.predict(tf.tensor2d(p.probe)).array() : null;
writeResult({seconds, backend: tf.getBackend(), probs, loss: hist.history.loss, acc: hist.history.acc});
