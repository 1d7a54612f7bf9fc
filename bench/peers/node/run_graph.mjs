// Run a TF.js graph model (model.json + shards on disk) in Node and hand back its tensors:
// the reference playml's ONNX translation (playml/formats/tfjs_graph.py) is checked against.
// payload: {model: "/path/model.json", inputs: {name: {file, dtype, shape}}, outputs: [tensor names],
//           outDir: "/tmp/..", backend: "wasm"|"cpu", repeat: 0}
// Each input file holds raw little-endian values. Writes outDir/<k>.bin (float32 or int32) per
// requested output; result: {outputs: [{name, shape, dtype, file}], backend, loadMs, msPerRun}.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readPayload, writeResult } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await import("@tensorflow/tfjs");
const backend = p.backend || "wasm";
if (backend === "wasm") {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (p.threads) { wasm.setThreadsCount(p.threads); }
}
await tf.setBackend(backend);
await tf.ready();

const t0 = performance.now();
const modelJson = JSON.parse(readFileSync(p.model, "utf8"));
const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
const buffers = modelJson.weightsManifest.flatMap((g) => g.paths).map((f) => readFileSync(join(dirname(p.model), f)));
const all = Buffer.concat(buffers);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
const model = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology, weightSpecs, weightData, format: modelJson.format,
  generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy, signature: modelJson.signature,
  userDefinedMetadata: modelJson.userDefinedMetadata,
}));
const arrays = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array };
const feeds = {};
for (const [name, spec] of Object.entries(p.inputs)) {
  const raw = readFileSync(spec.file);
  const Typed = arrays[spec.dtype];
  const data = new Typed(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  feeds[name] = tf.tensor(spec.dtype === "uint8" ? Int32Array.from(data) : data, spec.shape,
                          spec.dtype === "uint8" ? "int32" : spec.dtype);
}
const loadMs = performance.now() - t0;
const run = async () => {
  const outs = p.outputs ? await model.executeAsync(feeds, p.outputs) : await model.executeAsync(feeds);
  return Array.isArray(outs) ? outs : [outs];
};
let outs = await run();
const result = [];
for (let k = 0; k < outs.length; k++) {
  const t = outs[k];
  const data = await t.data();
  const file = join(p.outDir, `${k}.bin`);
  const typed = t.dtype === "bool" ? Int32Array.from(data) : data;
  writeFileSync(file, Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength));
  result.push({ name: p.outputs ? p.outputs[k] : String(k), shape: t.shape, dtype: t.dtype === "bool" ? "int32" : t.dtype, file });
}
tf.dispose(outs);
let msPerRun = null;
if (p.repeat) {
  const t1 = performance.now();
  for (let r = 0; r < p.repeat; r++) {
    const o = await run();
    await Promise.all(o.map((t) => t.data()));
    tf.dispose(o);
  }
  msPerRun = (performance.now() - t1) / p.repeat;
}
writeResult({ outputs: result, backend: tf.getBackend(), loadMs, msPerRun });
