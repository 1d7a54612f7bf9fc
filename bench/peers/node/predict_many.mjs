// Several TF.js layers models, each loaded from memory and run on its inputs, in one Node process.
// payload: {models: [{modelJson, weightsBase64, inputs, repeat?, whole?}], backend}
// result: {outputs: [[...] per model], seconds: [median seconds per call per model], backend}
// With `repeat`, predict() is timed on the first input alone (or on all of them with `whole`).
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
    const one = m.whole ? x : x.slice([0], [1]);
    await model.predict(one).data();  // warm-up
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      await model.predict(one).data();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    seconds.push(times[Math.floor(times.length / 2)] / 1000);
  } else seconds.push(null);
}
writeResult({outputs, seconds, backend: tf.getBackend()});
