// ml5.js neuralNetwork in the page: train + save, or load + run. Called by bench.peers.run_chromium.
//
// payload.mode == "train": {options, data: [[inputs, outputs], ...], normalize, train: {epochs, batchSize,
//   validationSplit}, probe: [inputs...], save: true} -> {seconds, outputs, backend}; save() makes 3 downloads.
// payload.mode == "load":  {options, probe} -> {outputs}: loads /files/model.json (+ weights, model_meta.json).
async function main(payload) {
  if (payload.backend) { await ml5.tf.setBackend(payload.backend); }
  await ml5.tf.ready();
  const run = async (nn, inputs) => {
    const out = [];
    for (const x of inputs) {
      out.push(payload.options.task === "regression" ? await nn.predict(x) : await nn.classify(x));
    }
    return out.map((r) => r.map((d) => ({label: d.label, value: d.value, confidence: d.confidence})));
  };
  if (payload.mode === "load") {
    const nn = ml5.neuralNetwork(payload.options);
    await nn.load(location.origin + "/files/model.json");
    return {outputs: await run(nn, payload.probe), backend: ml5.tf.getBackend(),
            meta: nn.neuralNetworkData.meta};
  }
  const nn = ml5.neuralNetwork(payload.options);
  for (const [x, y] of payload.data) { nn.addData(x, y); }
  if (payload.normalize) { nn.normalizeData(); }
  const t0 = performance.now();
  // train(options) alone makes ml5 1.4 treat the options as the finished-callback and hang: pass one.
  const losses = [];
  await nn.train(payload.train || {}, (epoch, logs) => { losses.push(logs.loss); }, () => {});
  const seconds = (performance.now() - t0) / 1000;
  const outputs = payload.probe ? await run(nn, payload.probe) : null;
  if (payload.save) { await nn.save(); }
  return {seconds, outputs, losses, backend: ml5.tf.getBackend()};
}
