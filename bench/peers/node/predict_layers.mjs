// Load a TF.js layers model from memory and run it: proves a playml save is a valid TF.js model.
// payload: {modelJson, weightsBase64, inputs: [[...]] (already shaped for the model), backend}
// result: {outputs: [[...]], backend, layers: [class names]}
import { readPayload, writeResult } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await import("@tensorflow/tfjs");
if ((p.backend || "wasm") === "wasm") { await import("@tensorflow/tfjs-backend-wasm"); }
await tf.setBackend(p.backend || "wasm");
await tf.ready();
const weightData = new Uint8Array(Buffer.from(p.weightsBase64, "base64")).buffer;
const weightSpecs = p.modelJson.weightsManifest.flatMap((group) => group.weights);
const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: p.modelJson.modelTopology, weightSpecs, weightData}));
const outputs = await model.predict(tf.tensor(p.inputs)).array();
writeResult({outputs, backend: tf.getBackend(), layers: model.layers.map((l) => l.getClassName())});
