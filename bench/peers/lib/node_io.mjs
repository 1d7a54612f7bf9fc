// Payload in, result out, for scripts run by bench.peers.run_node (paths come from the environment).
import { readFileSync, writeFileSync } from "node:fs";

export function readPayload() {
  return JSON.parse(readFileSync(process.env.PEER_PAYLOAD, "utf8"));
}

export function writeResult(result) {
  writeFileSync(process.env.PEER_RESULT, JSON.stringify(result));
}

// TensorFlow.js with the wasm backend (what runs fastest in Node without tfjs-node).
export async function tfWasm() {
  const tf = await import("@tensorflow/tfjs");
  await import("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend("wasm");
  await tf.ready();
  return tf;
}
