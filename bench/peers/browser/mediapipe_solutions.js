// MediaPipe's own JavaScript solutions (@mediapipe/pose, hands, face_mesh, selfie_segmentation: the
// same models as playml's, compiled to WebAssembly) timed on the same frames. Called by bench.bodies
// through bench.peers.run_chromium, with the frames as /files/frame_NNN.jpg.
//
// payload: {model: "pose"|"hands"|"face"|"segmentation", frames: [names], rounds, cpu}; cpu (default
//   true) runs inference with XNNPACK in WebAssembly; false uses WebGL, which is SwiftShader's
//   software GL on a machine without a GPU (about 50 times slower here).
//   -> {ms_per_frame, found, frames}
async function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(s);
  });
}

const SOLUTIONS = {
  pose: ["pose", "Pose", {modelComplexity: 1, smoothLandmarks: true}, (r) => !!r.poseLandmarks],
  hands: ["hands", "Hands", {maxNumHands: 2, modelComplexity: 1},
          (r) => !!(r.multiHandLandmarks && r.multiHandLandmarks.length)],
  face: ["face_mesh", "FaceMesh", {maxNumFaces: 1, refineLandmarks: true},
         (r) => !!(r.multiFaceLandmarks && r.multiFaceLandmarks.length)],
  segmentation: ["selfie_segmentation", "SelfieSegmentation", {modelSelection: 0}, (r) => !!r.segmentationMask],
};

async function main(payload) {
  const [pkg, cls, options, found] = SOLUTIONS[payload.model];
  const base = `/node_modules/@mediapipe/${pkg}/`;
  await loadScript(base + pkg + ".js");
  const canvases = [];
  for (const name of payload.frames) {
    const bitmap = await createImageBitmap(await (await fetch("/files/" + name)).blob());
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    canvases.push(canvas);
  }
  const solution = new window[cls]({locateFile: (file) => base + file});
  solution.setOptions({...options, useCpuInference: payload.cpu !== false});
  let last = null;
  solution.onResults((r) => { last = r; });
  await solution.initialize();
  await solution.send({image: canvases[0]});  // warm up
  const times = [];
  let hits = 0;
  for (let k = 0; k < (payload.rounds || 3); k++) {
    solution.reset();
    hits = 0;
    const t0 = performance.now();
    for (const canvas of canvases) {
      await solution.send({image: canvas});
      if (last && found(last)) hits++;
    }
    times.push(performance.now() - t0);
  }
  await solution.close();
  return {ms_per_frame: Math.min(...times) / canvases.length, found: hits, frames: canvases.length};
}
