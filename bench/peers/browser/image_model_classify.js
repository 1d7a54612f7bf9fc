// Classify images with a Teachable-Machine-layout model in the browser, through ml5.js 1.x's
// imageClassifier or @teachablemachine/image (on a standalone TF.js 4.22), optionally timed.
// payload: {lib: "ml5" | "tm", model: "/files/model/", images: ["/files/img0.png", ...], backend?, repeat?}
// result: {results: [[{label, confidence}] per image], backend, seconds (per image, when repeat)}
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src; s.onload = resolve; s.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(s);
  });
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img); img.onerror = () => reject(new Error("cannot load " + src));
    img.src = src;
  });
}

async function main(payload) {
  const images = [];
  for (const src of payload.images) images.push(await loadImage(src));
  const base = location.origin + payload.model;
  let classify, backendOf;
  if (payload.lib === "ml5") {
    if (payload.backend) { await ml5.setBackend(payload.backend); }
    const classifier = await ml5.imageClassifier(base + "model.json");
    classify = async (img) => (await classifier.classify(img)).map((r) => ({label: String(r.label), confidence: r.confidence}));
    backendOf = () => ml5.tf.getBackend();
  } else {
    window.tf = undefined;
    await loadScript("/node_modules/@tensorflow/tfjs/dist/tf.min.js");
    await loadScript("/node_modules/@teachablemachine/image/dist/teachablemachine-image.min.js");
    if (payload.backend === "wasm") {
      await loadScript("/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js");
      tf.wasm.setWasmPaths("/node_modules/@tensorflow/tfjs-backend-wasm/dist/");
    }
    if (payload.backend) await tf.setBackend(payload.backend);
    await tf.ready();
    const model = await tmImage.load(base + "model.json", base + "metadata.json");
    classify = async (img) => (await model.predict(img)).map((r) => ({label: r.className, confidence: r.probability}));
    backendOf = () => tf.getBackend();
  }
  const results = [];
  for (const img of images) results.push(await classify(img));
  let seconds = null;
  if (payload.repeat) {
    await classify(images[0]);
    const t0 = performance.now();
    for (let i = 0; i < payload.repeat; i++) await classify(images[i % images.length]);
    seconds = (performance.now() - t0) / 1000 / payload.repeat;
  }
  return {results, backend: backendOf(), seconds};
}
