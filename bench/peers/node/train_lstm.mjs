// Train a character LSTM (Embedding → LSTM(return sequences) → Dense softmax) with TensorFlow.js in Node:
// the same network as playml's ml.char_rnn, for the training-speed comparison in bench/create.py.
// payload: {x: [[ids]], y: [[ids]], vocab, embedding, hidden, learningRate, epochs, batchSize, backend}
// The wasm backend has no gradient kernel for tf.layers.embedding (UnsortedSegmentSum is not
// registered), so there the embedding is the same matrix applied to one-hot inputs
// (a bias-free Dense layer on each step); the cpu backend uses tf.layers.embedding itself.
// result: {seconds, backend, loss: [per epoch], epochSeconds: [per epoch], characters}
import { readPayload, writeResult } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await import("@tensorflow/tfjs");
if ((p.backend || "wasm") === "wasm") { await import("@tensorflow/tfjs-backend-wasm"); }
await tf.setBackend(p.backend || "wasm");
await tf.ready();
const wasm = tf.getBackend() === "wasm";
const ids = tf.tensor2d(p.x, undefined, "int32");
const x = wasm ? tf.oneHot(ids, p.vocab).toFloat() : ids.toFloat();
const y = tf.oneHot(tf.tensor2d(p.y, undefined, "int32"), p.vocab);
const model = tf.sequential();
if (wasm) {
  model.add(tf.layers.dense({units: p.embedding, useBias: false, inputShape: [p.x[0].length, p.vocab]}));
} else {
  model.add(tf.layers.embedding({inputDim: p.vocab, outputDim: p.embedding, inputShape: [p.x[0].length]}));
}
model.add(tf.layers.lstm({units: p.hidden, returnSequences: true, recurrentActivation: "sigmoid"}));
model.add(tf.layers.dense({units: p.vocab, activation: "softmax"}));
model.compile({optimizer: tf.train.adam(p.learningRate), loss: "categoricalCrossentropy"});
const t0 = performance.now();
const epochSeconds = [];
let last = t0;
const hist = await model.fit(x, y, {epochs: p.epochs, batchSize: p.batchSize, shuffle: true, verbose: 0,
  callbacks: {onEpochEnd: async () => { const now = performance.now(); epochSeconds.push((now - last) / 1000); last = now; }}});
const seconds = (performance.now() - t0) / 1000;
writeResult({seconds, backend: tf.getBackend(), embedding: wasm ? "one-hot × matrix" : "tf.layers.embedding", loss: hist.history.loss, epochSeconds,
             characters: p.x.length * p.x[0].length * p.epochs});
