// Build small TF.js layers models with TF.js itself and save them as TF.js writes them
// (model.json + weights.bin), for playml's reader tests. payload: {out: "/abs/dir"}.
// Models:
//   tm-embedded/  Teachable Machine's layout (Sequential[Sequential[Model(MobileNetV2-style, 96x96 grey),
//                 GlobalAveragePooling2D], Sequential[Dense(100, relu), Dense(n, softmax, no bias)]])
//   keras-bn/     a functional model with BatchNormalization, SeparableConv2D, dilation, strided 'same',
//                 Concatenate, Multiply, a shared layer, hard sigmoid/swish activations, global max pooling
//   conv1d/       Conv1D + MaxPooling1D + Flatten + Dense (the shape of an ml5.js sequence model)
//   dense-regression/  Dense(16, sigmoid) -> Dense(1)
import { mkdirSync, writeFileSync } from "node:fs";
import { readPayload, writeResult, tfWasm } from "../lib/node_io.mjs";

const p = readPayload();
const tf = await tfWasm();

let seed = 1;
const init = () => tf.initializers.randomNormal({mean: 0, stddev: 0.3, seed: seed++});
function randomBN(layer) {  // give BatchNormalization non-trivial statistics
  const [gamma, beta, mean, variance] = layer.getWeights();
  const n = gamma.shape[0];
  layer.setWeights([tf.randomUniform([n], 0.5, 1.5, "float32", seed++), tf.randomNormal([n], 0, 0.2, "float32", seed++),
                    tf.randomNormal([n], 0, 0.3, "float32", seed++), tf.randomUniform([n], 0.5, 2, "float32", seed++)]);
}

async function save(model, name, extra = {}) {
  const dir = `${p.out}/${name}`;
  mkdirSync(dir, {recursive: true});
  await model.save(tf.io.withSaveHandler(async (art) => {
    const json = {modelTopology: art.modelTopology, format: art.format, generatedBy: art.generatedBy,
                  convertedBy: art.convertedBy ?? null,
                  weightsManifest: [{paths: ["./weights.bin"], weights: art.weightSpecs}]};
    writeFileSync(`${dir}/model.json`, JSON.stringify(json));
    writeFileSync(`${dir}/weights.bin`, Buffer.from(art.weightData));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: "JSON"}};
  }));
  for (const [file, content] of Object.entries(extra)) writeFileSync(`${dir}/${file}`, JSON.stringify(content));
}

// ---- Teachable Machine embedded layout: MobileNetV2-style trunk (alpha small) on 96x96x1
{
  const input = tf.input({shape: [96, 96, 1], name: "input_1"});
  let x = tf.layers.zeroPadding2d({padding: [[0, 1], [0, 1]], name: "Conv1_pad"}).apply(input);
  x = tf.layers.conv2d({filters: 8, kernelSize: 3, strides: 2, padding: "valid", useBias: false, name: "Conv1", kernelInitializer: init()}).apply(x);
  const bns = [];
  const bn = (name) => { const l = tf.layers.batchNormalization({epsilon: 1e-3, momentum: 0.999, name}); bns.push(l); return l; };
  x = bn("bn_Conv1").apply(x);
  x = tf.layers.reLU({maxValue: 6, name: "Conv1_relu"}).apply(x);
  const block = (x, i, cin, cout, stride) => {
    const p = `block_${i}_`;
    let y = tf.layers.conv2d({filters: cin * 6, kernelSize: 1, padding: "same", useBias: false, name: p + "expand", kernelInitializer: init()}).apply(x);
    y = bn(p + "expand_BN").apply(y);
    y = tf.layers.reLU({maxValue: 6, name: p + "expand_relu"}).apply(y);
    if (stride === 2) y = tf.layers.zeroPadding2d({padding: [[0, 1], [0, 1]], name: p + "pad"}).apply(y);
    y = tf.layers.depthwiseConv2d({kernelSize: 3, strides: stride, padding: stride === 2 ? "valid" : "same", useBias: false,
                                   name: p + "depthwise", depthwiseInitializer: init()}).apply(y);
    y = bn(p + "depthwise_BN").apply(y);
    y = tf.layers.reLU({maxValue: 6, name: p + "depthwise_relu"}).apply(y);
    y = tf.layers.conv2d({filters: cout, kernelSize: 1, padding: "same", useBias: false, name: p + "project", kernelInitializer: init()}).apply(y);
    y = bn(p + "project_BN").apply(y);
    if (stride === 1 && cin === cout) y = tf.layers.add({name: p + "add"}).apply([x, y]);
    return y;
  };
  x = block(x, 1, 8, 8, 1);
  x = block(x, 2, 8, 12, 2);
  x = block(x, 3, 12, 12, 1);
  x = tf.layers.conv2d({filters: 64, kernelSize: 1, useBias: false, name: "Conv_1", kernelInitializer: init()}).apply(x);
  x = bn("Conv_1_bn").apply(x);
  x = tf.layers.reLU({maxValue: 6, name: "out_relu"}).apply(x);
  const trunk = tf.model({inputs: input, outputs: x, name: "model1"});
  bns.forEach(randomBN);
  const features = tf.sequential({name: "sequential_1", layers: [trunk, tf.layers.globalAveragePooling2d({name: "global_average_pooling2d_GlobalAveragePooling2D1"})]});
  const head = tf.sequential({name: "sequential_3", layers: [
    tf.layers.dense({inputShape: [64], units: 100, activation: "relu", name: "dense_Dense1", kernelInitializer: init(), biasInitializer: init()}),
    tf.layers.dense({units: 3, activation: "softmax", useBias: false, name: "dense_Dense2", kernelInitializer: init()})]});
  const model = tf.sequential({name: "sequential_4", layers: [features, head]});
  await save(model, "tm-embedded", {"metadata.json": {
    tfjsVersion: tf.version.tfjs, tmVersion: "2.4.5", packageVersion: "0.8.5", packageName: "@teachablemachine/image",
    timeStamp: "2026-11-29T00:00:00.000Z", userMetadata: {}, modelName: "tm-my-image-model",
    labels: ["Class 1", "Class 2", "Class 3"], imageSize: 96, grayscale: true}});
}

// ---- a Keras-style functional model: BatchNormalization, SeparableConv2D, shared layer, merges
{
  const input = tf.input({shape: [20, 20, 3], name: "image"});
  let x = tf.layers.conv2d({filters: 6, kernelSize: 3, strides: 2, padding: "same", name: "conv_same_s2", kernelInitializer: init(), biasInitializer: init()}).apply(input);
  const b1 = tf.layers.batchNormalization({name: "bn1"});
  x = b1.apply(x);
  x = tf.layers.activation({activation: "swish", name: "act_swish"}).apply(x);
  const a = tf.layers.separableConv2d({filters: 8, kernelSize: 3, padding: "same", depthMultiplier: 1, name: "sep", depthwiseInitializer: init(), pointwiseInitializer: init(), biasInitializer: init()}).apply(x);
  const dw = tf.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: "valid", name: "dw_mult2", depthwiseInitializer: init(), biasInitializer: init(), useBias: true}).apply(x);
  const b = tf.layers.conv2d({filters: 4, kernelSize: 3, dilationRate: 2, padding: "same", name: "conv_dilated", kernelInitializer: init()}).apply(tf.layers.zeroPadding2d({padding: 1, name: "pad_back"}).apply(dw));
  const shared = tf.layers.conv2d({filters: 4, kernelSize: 1, name: "shared_1x1", kernelInitializer: init(), biasInitializer: init()});
  const s1 = shared.apply(b);
  const s2 = shared.apply(tf.layers.activation({activation: "relu6", name: "act_relu6"}).apply(b));
  const gate = tf.layers.activation({activation: "hardSigmoid", name: "act_hsig"}).apply(s2);
  const m = tf.layers.multiply({name: "mul"}).apply([s1, gate]);
  let y = tf.layers.concatenate({name: "concat"}).apply([a, m]);
  const b2 = tf.layers.batchNormalization({name: "bn2", center: true, scale: false});
  y = b2.apply(y);
  y = tf.layers.maxPooling2d({poolSize: 3, strides: 2, padding: "same", name: "pool_same"}).apply(y);
  y = tf.layers.averagePooling2d({poolSize: 2, padding: "valid", name: "avg_pool"}).apply(y);
  const g = tf.layers.globalMaxPooling2d({name: "gmp"}).apply(y);
  const r = tf.layers.reshape({targetShape: [3, 4], name: "reshape"}).apply(g);
  let z = tf.layers.flatten({name: "flatten"}).apply(r);
  z = tf.layers.dropout({rate: 0.3, name: "drop"}).apply(z);
  z = tf.layers.dense({units: 4, activation: "softmax", name: "probs", kernelInitializer: init(), biasInitializer: init()}).apply(z);
  const model = tf.model({inputs: input, outputs: z, name: "keras_style"});
  randomBN(b1);
  const [beta2, mean2, var2] = b2.getWeights();
  b2.setWeights([tf.randomNormal(beta2.shape, 0, 0.2, "float32", seed++), tf.randomNormal(mean2.shape, 0, 0.3, "float32", seed++),
                 tf.randomUniform(var2.shape, 0.5, 2, "float32", seed++)]);
  await save(model, "keras-bn");
}

// ---- Conv1D sequence model
{
  const model = tf.sequential({name: "sequence", layers: [
    tf.layers.conv1d({inputShape: [24, 3], filters: 8, kernelSize: 3, activation: "relu", name: "conv1d_1", kernelInitializer: init(), biasInitializer: init()}),
    tf.layers.maxPooling1d({poolSize: 2, name: "pool1d_1"}),
    tf.layers.conv1d({filters: 6, kernelSize: 3, padding: "same", activation: "tanh", name: "conv1d_2", kernelInitializer: init(), biasInitializer: init()}),
    tf.layers.maxPooling1d({poolSize: 2, name: "pool1d_2"}),
    tf.layers.flatten({name: "flatten"}),
    tf.layers.dense({units: 3, activation: "softmax", name: "out", kernelInitializer: init(), biasInitializer: init()})]});
  await save(model, "conv1d");
}

// ---- Dense regression
{
  const model = tf.sequential({name: "regression", layers: [
    tf.layers.dense({inputShape: [2], units: 16, activation: "sigmoid", name: "hidden", kernelInitializer: init(), biasInitializer: init()}),
    tf.layers.dense({units: 1, name: "value", kernelInitializer: init(), biasInitializer: init()})]});
  await save(model, "dense-regression");
}
writeResult({ok: true, tfjs: tf.version.tfjs});
