// Playground: a small neural network learns to split 2-D points into orange and blue, live
// (after the TensorFlow Playground). The network trains in Python on the studio server, in a
// thread of its own while Play is on; the page keeps fetching the latest weights and losses (a few
// hundred numbers) and computes the decision boundary and each neuron's picture from the weights
// itself, so drawing never waits for training and training never waits for drawing.
import { el } from "../api.js";
import { lineChart, legend } from "../chart.js";
import { useStyles } from "../explore-common.js";

const NAMES = { "x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂", "sin(x1)": "sin x₁", "sin(x2)": "sin x₂" };
const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [232, 234, 235];

function colour(v) {            // v in 0…255: 0 = orange, 255 = blue, through white
  const t = v / 255 * 2 - 1, a = Math.abs(t), c = t < 0 ? ORANGE : BLUE;
  return [0, 1, 2].map((i) => Math.round(WHITE[i] + (c[i] - WHITE[i]) * a));
}

const FEATURE = { "x1": (a) => a, "x2": (a, b) => b, "x1^2": (a) => a * a, "x2^2": (a, b) => b * b,
  "x1*x2": (a, b) => a * b, "sin(x1)": (a) => Math.sin(a), "sin(x2)": (a, b) => Math.sin(b) };
const ACTIVATION = { tanh: Math.tanh, relu: (v) => (v > 0 ? v : 0), sigmoid: (v) => 1 / (1 + Math.exp(-v)), linear: (v) => v };
const EXTENT = 6, BOUNDARY = 64, NEURON = 24;

// The network's answers on a size × size lattice over −6…6 (rows from x₂ = +6 down), from its
// weights: p(blue) as 0…255, and each hidden neuron's output scaled by its layer's largest.
export function picture(net, size) {
  const fns = net.features.map((f) => FEATURE[f]), layers = net.weights, n = size * size;
  const blue = new Uint8ClampedArray(n);
  const hidden = layers.slice(0, -1).map((l) => l.b.map(() => new Float32Array(n)));
  const acts = layers.map((l) => ACTIVATION[l.activation] || ACTIVATION.linear);
  for (let i = 0; i < n; i++) {
    const x1 = ((i % size) + 0.5) / size * 2 * EXTENT - EXTENT, x2 = EXTENT - (Math.floor(i / size) + 0.5) / size * 2 * EXTENT;
    let v = fns.map((f) => f(x1, x2));
    for (let li = 0; li < layers.length; li++) {
      const { w, b, activation } = layers[li], out = new Array(b.length);
      for (let j = 0; j < b.length; j++) { let sum = b[j]; const wj = w[j]; for (let k = 0; k < v.length; k++) sum += wj[k] * v[k]; out[j] = sum; }
      if (activation === "softmax") {
        const m = Math.max(...out), e = out.map((o) => Math.exp(o - m)), z = e.reduce((x, y) => x + y, 0);
        v = e.map((x) => x / z);
      } else {
        v = out.map(acts[li]);
        if (li < hidden.length) for (let j = 0; j < v.length; j++) hidden[li][j][i] = v[j];
      }
    }
    blue[i] = Math.round(v[net.blue] * 255);
  }
  const neurons = [];
  for (const layer of hidden) {
    let scale = 1e-6;
    for (const vals of layer) for (const x of vals) scale = Math.max(scale, Math.abs(x));
    for (const vals of layer) neurons.push(Uint8ClampedArray.from(vals, (x) => Math.round((x / scale + 1) * 127.5)));
  }
  return { blue, neurons };
}

function paintGrid(canvas, size, values) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = colour(values[i]);
    img.data.set([r, g, b, 255], i * 4);
  }
  const small = new OffscreenCanvas(size, size);
  small.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export async function mount(root, studio) {
  useStyles();
  const { api } = studio;
  let state = await api("/api/playground");
  const options = state.options;
  let settings = { ...state.settings };
  let playing = false, busy = false, stop = false;
  let points = state.points;
  const speed = { epochs: 0, frames: 0, since: performance.now(), from: 0 };

  // -- controls ---------------------------------------------------------------------------------
  const exportName = el("input", { type: "text", id: "pg-export-name", value: "playground-network", "aria-label": "Name of the exported network" });
  const exportBtn = el("button", { type: "button", class: "plain", id: "pg-export", text: "Export this network" });
  const exportOut = el("p", { id: "pg-export-out", class: "muted" });
  const playBtn = el("button", { type: "button", id: "pg-play", "aria-pressed": "false", text: "▶ Play" });
  const stepBtn = el("button", { type: "button", id: "pg-step", class: "plain", text: "Step" });
  const resetBtn = el("button", { type: "button", id: "pg-reset", class: "plain", text: "Start again" });
  const epochOut = el("output", { id: "pg-epoch", text: "0" });
  const select = (id, label, values, value, names = {}) => {
    const s = el("select", { id }, ...values.map((v) => el("option", { value: v, text: names[v] || v, selected: String(v) === String(value) })));
    return [el("label", { for: id, text: label }), s];
  };
  const [lrLabel, lr] = select("pg-lr", "Learning rate", [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], settings.learning_rate);
  const [actLabel, act] = select("pg-activation", "Activation", options.activations, settings.activation);
  const [regLabel, reg] = select("pg-reg", "Regularisation", options.regularization, settings.regularization);
  const [rateLabel, rate] = select("pg-reg-rate", "Regularisation rate", [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], settings.regularization_rate);
  const bar = el("div", { class: "pg-bar card" },
    el("div", { class: "row" }, resetBtn, playBtn, stepBtn, el("span", {}, "Epoch ", epochOut),
      el("span", { class: "pg-spacer" }), exportName, exportBtn),
    el("div", { class: "row" }, lrLabel, lr, actLabel, act, regLabel, reg, rateLabel, rate));

  const datasets = el("fieldset", { class: "pg-datasets" }, el("legend", { text: "Data" }),
    ...options.datasets.map((d) => el("label", { class: "pg-radio" },
      el("input", { type: "radio", name: "pg-dataset", value: d, id: `pg-data-${d}`, checked: d === settings.dataset }), ` ${d}`)));
  const slider = (id, label, min, max, step, value) => {
    const input = el("input", { type: "range", id, min, max, step, value });
    const out = el("output", { for: id, text: String(value) });
    input.addEventListener("input", () => { out.textContent = input.value; });
    return [el("label", { for: id }, `${label}: `, out), input];
  };
  const [ratioL, ratio] = slider("pg-ratio", "Training points (%)", 10, 90, 10, settings.ratio);
  const [noiseL, noise] = slider("pg-noise", "Noise", 0, 50, 5, settings.noise);
  const [batchL, batch] = slider("pg-batch", "Batch size", 1, 30, 1, settings.batch_size);
  const dataCard = el("section", { class: "card pg-data", "aria-labelledby": "pg-data-title" },
    el("h2", { id: "pg-data-title", text: "Data" }), datasets, ratioL, ratio, noiseL, noise, batchL, batch);

  const features = el("fieldset", { class: "pg-features" }, el("legend", { text: "Features (inputs)" }),
    ...options.features.map((f) => el("label", { class: "pg-check" },
      el("input", { type: "checkbox", value: f, id: `pg-feature-${f}`, checked: settings.features.includes(f) }), ` ${NAMES[f] || f}`)));
  const layersBox = el("div", { class: "pg-layers", id: "pg-layers" });
  const addLayer = el("button", { type: "button", class: "plain", id: "pg-add-layer", "aria-label": "Add a hidden layer", text: "+ layer" });
  const removeLayer = el("button", { type: "button", class: "plain", id: "pg-remove-layer", "aria-label": "Remove the last hidden layer", text: "− layer" });
  const netCard = el("section", { class: "card pg-net", "aria-labelledby": "pg-net-title" },
    el("h2", { id: "pg-net-title" }, "Network: ", el("span", { id: "pg-net-shape" })),
    el("div", { class: "pg-net-row" }, features, layersBox),
    el("div", { class: "row" }, addLayer, removeLayer), exportOut);

  const output = el("canvas", { id: "pg-output", width: 300, height: 300, role: "img",
    "aria-label": "The decision boundary: orange and blue areas, with the data points" });
  const lossText = el("p", { id: "pg-loss", "aria-live": "off" });
  const chartBox = el("div", { id: "pg-chart" });
  const speedText = el("p", { id: "pg-speed", class: "muted" });
  const showTest = el("input", { type: "checkbox", id: "pg-show-test" });
  const outCard = el("section", { class: "card pg-out", "aria-labelledby": "pg-out-title" },
    el("h2", { id: "pg-out-title", text: "Output" }), lossText, output,
    el("div", { class: "row" }, showTest, el("label", { for: "pg-show-test", text: "Show the test points" })),
    chartBox, speedText);

  const help = el("details", { class: "what", open: true }, el("summary", { text: "What am I looking at?" }),
    el("p", { text: "Each dot is a point with two numbers, x₁ (across) and x₂ (up), and a colour. The network on the " +
      "left gets the features you tick, passes them through its hidden layers of neurons and answers “orange” or " +
      "“blue”. The background of the big square shows its answer everywhere: the line where the colours meet is " +
      "its decision boundary. Press Play and watch it move as the network learns; the small squares show what each " +
      "neuron has learnt to notice. Loss is how wrong the answers are (0 is perfect): training loss on the points it " +
      "learns from, test loss on points it never sees. Everything trains in Python on this computer." }));

  netCard.append(help);
  root.append(el("div", { class: "pg" }, bar, el("div", { class: "pg-cols" }, dataCard, netCard, outCard)));

  // -- drawing -----------------------------------------------------------------------------------
  function drawNetwork() {
    const hidden = settings.hidden;
    document.getElementById("pg-net-shape").textContent =
      `${settings.features.length} inputs → ${hidden.length ? hidden.join(" → ") + " → " : ""}1 output`;
    layersBox.replaceChildren(...hidden.map((n, li) => el("div", { class: "pg-layer", "data-layer": li },
      el("div", { class: "row pg-layer-head" },
        el("button", { type: "button", class: "plain small", "aria-label": `Add a neuron to layer ${li + 1}`, "data-add": li, text: "+" }),
        el("button", { type: "button", class: "plain small", "aria-label": `Remove a neuron from layer ${li + 1}`, "data-remove": li, text: "−" })),
      el("div", { class: "muted", text: `${n} neuron${n > 1 ? "s" : ""}` }),
      ...Array.from({ length: n }, (_, j) => el("canvas", { class: "pg-neuron", width: 44, height: 44, "data-layer": li, "data-neuron": j, "aria-hidden": "true" })))));
    addLayer.disabled = hidden.length >= options.max_layers;
    removeLayer.disabled = hidden.length === 0;
  }

  let history = state.history || [];
  let dots = null, chartAt = 0;
  function drawOutput(s, full = false) {
    if (full) history = s.history;
    else if (s !== state) history = [...history.slice(-399), ...s.history.filter((h) => !history.length || h.epoch > history[history.length - 1].epoch)];
    const t0 = performance.now();
    state = s;             // kept for redraws (e.g. "show the test points")
    const boundary = picture(s, BOUNDARY);
    paintGrid(output, BOUNDARY, boundary.blue);
    const ctx = output.getContext("2d"), W = output.width, E = EXTENT;
    const px = (v) => (v + E) / (2 * E) * W, py = (v) => (E - v) / (2 * E) * W;
    // the points do not move while it trains: drawn once into a layer of their own, then copied
    const key = `${showTest.checked}`;
    if (!dots || dots.points !== points || dots.key !== key) {
      const layer = new OffscreenCanvas(W, W), lc = layer.getContext("2d");
      for (let i = 0; i < points.x.length; i++) {
        const test = i >= points.train;
        if (test && !showTest.checked) continue;
        const [x, y] = points.x[i];
        lc.beginPath();
        lc.arc(px(x), py(y), 3, 0, 2 * Math.PI);
        lc.fillStyle = points.label[i] ? "rgb(8,119,189)" : "rgb(245,147,34)";
        lc.fill();
        lc.strokeStyle = test ? "#000" : "#fff";
        lc.lineWidth = 1;
        lc.stroke();
      }
      dots = { points, key, layer };
    }
    ctx.drawImage(dots.layer, 0, 0);
    const neurons = picture(s, NEURON).neurons;
    layersBox.querySelectorAll("canvas.pg-neuron").forEach((c, k) => { if (neurons[k]) paintGrid(c, NEURON, neurons[k]); });
    epochOut.textContent = String(s.epoch);
    lossText.textContent = `Test loss ${s.test_loss.toFixed(3)} · Training loss ${s.train_loss.toFixed(3)}`;
    lossText.dataset.test = s.test_loss;
    lossText.dataset.train = s.train_loss;
    lossText.dataset.epoch = s.epoch;
    if (!playing || t0 - chartAt > 250) {     // while playing, the chart is redrawn 4 times a second
      chartAt = t0;
      const series = [
        { name: "test loss", color: "#222", values: history.map((h) => h.test_loss) },
        { name: "training loss", color: "#999", values: history.map((h) => h.train_loss), dashed: true },
      ];
      chartBox.replaceChildren(lineChart(series, { width: 300, height: 90, title: "Loss as it trains",
        xLabel: `epoch ${history.length ? history[history.length - 1].epoch : 0}` }), legend(series));
    }
    speed.frames += 1;
    speedText.dataset.drawMs = (performance.now() - t0).toFixed(2);
  }

  function showSpeed() {
    const secs = (performance.now() - speed.since) / 1000;
    if (secs < 0.5) return;
    const sps = (state.epoch - speed.from) / secs, fps = speed.frames / secs;
    speedText.textContent = `${sps.toFixed(0)} epochs per second · boundary redrawn ${fps.toFixed(0)} times per second`;
    speedText.dataset.stepsPerSecond = sps.toFixed(2);
    speedText.dataset.fps = fps.toFixed(2);
  }

  // -- actions -----------------------------------------------------------------------------------
  async function reset() {
    await setPlaying(false);
    while (busy) await new Promise((r) => setTimeout(r, 20));
    studio.status("Making the data and a new network…", "busy");
    try {
      const s = await api("/api/playground/reset", { method: "POST", json: settings });
      settings = s.settings; points = s.points;
      drawNetwork(); drawOutput(s, true);
      studio.status("A new, untrained network. Press Play (or Step) to train it.");
    } catch (err) { studio.status(err.message, "error"); }
  }

  async function step(n) {
    busy = true;
    try {
      const s = await api("/api/playground/step", { method: "POST", json: { steps: n } });
      drawOutput(s);
      return s;
    } finally { busy = false; }
  }

  // While playing: fetch the latest picture (weights and losses) and draw it if it is new. The next
  // fetch is already on its way while this one is drawn and the frame is painted.
  async function loop(run) {
    const fetchFrame = () => api(`/api/playground/frame?since=${state.epoch}`).catch((err) => ({ error: err.message }));
    let next = fetchFrame();
    while (playing && !stop && run === playRun) {
      const f = await next;
      if (!playing || run !== playRun) break;
      if (f.error) { studio.status(f.error, "error"); setPlaying(false); break; }
      // the server stops playing when no page has asked for a while (a hidden tab draws no frames): go on
      if (f.playing === false) await api("/api/playground/play", { method: "POST", json: { on: true } });
      next = fetchFrame();
      if (f.epoch !== state.epoch) { drawOutput(f); showSpeed(); }
      await new Promise((r) => requestAnimationFrame(() => r()));
    }
  }

  let playRun = 0, pausing = null;
  async function setPlaying(on) {
    if (pausing) await pausing;
    if (on === playing) return;
    playing = on;
    playRun += 1;
    playBtn.textContent = on ? "❚❚ Pause" : "▶ Play";
    playBtn.setAttribute("aria-pressed", String(on));
    if (on) {
      speed.frames = 0; speed.since = performance.now(); speed.from = state.epoch;
      studio.status("Training…", "busy");
      try { await api("/api/playground/play", { method: "POST", json: { on: true } }); }
      catch (err) { studio.status(err.message, "error"); playing = false; return; }
      loop(playRun);
    } else {
      // the server stops after the epoch under way and answers with the final state
      pausing = api("/api/playground/play", { method: "POST", json: { on: false } })
        .then((s) => { drawOutput(s); studio.status("Paused. Press Play to go on training."); })
        .catch((err) => studio.status(err.message, "error"))
        .finally(() => { pausing = null; });
      await pausing;
    }
  }

  playBtn.addEventListener("click", () => setPlaying(!playing));
  stepBtn.addEventListener("click", async () => { if (!busy) { await setPlaying(false); try { await step(1); } catch (err) { studio.status(err.message, "error"); } } });
  resetBtn.addEventListener("click", reset);
  const change = (fn) => () => { fn(); reset(); };
  lr.addEventListener("change", change(() => { settings.learning_rate = Number(lr.value); }));
  act.addEventListener("change", change(() => { settings.activation = act.value; }));
  reg.addEventListener("change", change(() => { settings.regularization = reg.value; }));
  rate.addEventListener("change", change(() => { settings.regularization_rate = Number(rate.value); }));
  ratio.addEventListener("change", change(() => { settings.ratio = Number(ratio.value); }));
  noise.addEventListener("change", change(() => { settings.noise = Number(noise.value); }));
  batch.addEventListener("change", change(() => { settings.batch_size = Number(batch.value); }));
  showTest.addEventListener("change", () => { if (state) drawOutput(state); });   // same state: history unchanged
  datasets.addEventListener("change", change(() => { settings.dataset = datasets.querySelector("input:checked").value; }));
  features.addEventListener("change", (e) => {
    const ticked = [...features.querySelectorAll("input:checked")].map((i) => i.value);
    if (!ticked.length) { e.target.checked = true; studio.status("The network needs at least one feature.", "error"); return; }
    settings.features = ticked; reset();
  });
  addLayer.addEventListener("click", change(() => { settings.hidden = [...settings.hidden, 2]; }));
  removeLayer.addEventListener("click", change(() => { settings.hidden = settings.hidden.slice(0, -1); }));
  layersBox.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const h = [...settings.hidden];
    if (b.dataset.add !== undefined) { const i = Number(b.dataset.add); if (h[i] >= options.max_neurons) return; h[i] += 1; }
    else if (b.dataset.remove !== undefined) { const i = Number(b.dataset.remove); if (h[i] <= 1) return; h[i] -= 1; }
    settings.hidden = h; reset();
  });
  exportBtn.addEventListener("click", async () => {
    try {
      const out = await api("/api/playground/export", { method: "POST", json: { name: exportName.value.trim() } });
      exportOut.textContent = `Saved to ${out.path}: ml5.js loads its model.json, playml loads it with ml.load(…).`;
      exportOut.dataset.path = out.path;
      studio.status(`Exported the network to ${out.path}.`);
    } catch (err) { studio.status(err.message, "error"); }
  });

  drawNetwork();
  drawOutput(state, true);
  studio.status("Press Play to train the network, or change the data, features and layers first.");
  return () => { stop = true; if (playing) api("/api/playground/play", { method: "POST", json: { on: false } }).catch(() => {}); playing = false; };
}
