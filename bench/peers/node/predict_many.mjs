// Several TF.js layers models, each loaded from memory and run on its inputs, in one Node process.
// payload: {models: [{modelJson, weightsBase64, inputs, repeat?}], backend}
// result: {outputs: [[...] per model], seconds: [per-call seconds per model], backend}
import { readPayload, writeResult } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await import("@tensorflow/tfjs");
if ((p.backend || "wasm") === "wasm") { await import("@tensorflow/tfjs-backend-wasm"); }
await tf.setBackend(p.backend || "wasm");
await tf.ready();
const outputs = [], seconds = [];
for (const m of p.models) {
  const weightData = new Uint8Array(Buffer.from(m.weightsBase64, "base64")).buffer;
  const weightSpecs = m.modelJson.weightsManifest.flatMap((group) => group.weights);
  const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: m.modelJson.modelTopology, weightSpecs, weightData}));
  const x = tf.tensor(m.inputs);
  outputs.push(await model.predict(x).array());
  const repeat = m.repeat || 0;
  if (repeat) {
    const one = x.slice([0], [1]);
    await model.predict(one).data();  // warm-up
    const t0 = performance.now();
    for (let i = 0; i < repeat; i++) await model.predict(one).data();
    seconds.push((performance.now() - t0) / 1000 / repeat);
  } else seconds.push(null);
}
writeResult({outputs, seconds, backend: tf.getBackend()});
