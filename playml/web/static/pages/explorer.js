// Explorer: look inside a model (after tfjs-vis, plus Grad-CAM). Open a bundled backbone, a model
// saved in the models folder or any model folder by its path; the table lists its layers; pick a
// layer and an image (upload, a webcam frame, or the webcam live) to see the layer's channels as a grid, the spread
// of its weights and activations, and where the model looked for its answer. A table model (an
// ml5.js neural network, a TF.js model with a flat input) takes a row instead: a form built from
// its inputs, every layer's numbers as a heat row, its answer, and which inputs pushed it.
import { el } from "../api.js";
import { openCamera, closeCamera, grabJpeg } from "../camera.js";

function useExplorerStyles() {
  if (document.getElementById("explorer-css")) return;
  document.head.append(el("link", { id: "explorer-css", rel: "stylesheet", href: "/static/explorer.css" }));
}

const fmt = (n) => n.toLocaleString("en-US");
const plain = (v) => String(Number(v.toPrecision(4)));  // 255, 0.25, 1.235e-7
const short = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

function drawHistogram(canvas, h, colour) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 18;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  if (!h) { ctx.fillStyle = "#5b6475"; ctx.font = "12px sans-serif"; ctx.fillText("This layer has no weights.", 8, H / 2); canvas.dataset.counts = "[]"; return; }
  const top = Math.max(...h.counts, 1), bw = (W - 2 * pad) / h.counts.length;
  ctx.fillStyle = colour;
  h.counts.forEach((c, i) => {
    const bh = (c / top) * (H - 2 * pad);
    ctx.fillRect(pad + i * bw, H - pad - bh, Math.max(1, bw - 1), bh);
  });
  ctx.strokeStyle = "#d8dce3"; ctx.beginPath(); ctx.moveTo(pad, H - pad); ctx.lineTo(W - pad, H - pad); ctx.stroke();
  ctx.fillStyle = "#1d2330"; ctx.font = "11px sans-serif";
  ctx.textAlign = "left"; ctx.fillText(short(h.min), pad, H - 4);
  ctx.textAlign = "right"; ctx.fillText(short(h.max), W - pad, H - 4);
  ctx.textAlign = "left"; ctx.fillText(`${fmt(h.size)} values · mean ${short(h.mean)} · sd ${short(h.std)}`, pad, 12);
  canvas.dataset.counts = JSON.stringify(h.counts);
  canvas.dataset.min = h.min; canvas.dataset.max = h.max; canvas.dataset.size = h.size;
}

function loadImage(src) {
  const img = new Image();
  img.src = src;
  return img.decode().then(() => img);
}

export async function mount(root, studio) {
  useExplorerStyles();
  const { api } = studio;
  const opts = await api("/api/explorer");
  let model = null, imageUrl = null, grid = null, video = null, busy = 0;

  const choose = el("select", { id: "ex-model" },
    el("optgroup", { label: "Bundled backbones" }, ...opts.backbones.map((b) => el("option", { value: b.id, text: b.title }))),
    opts.saved.length ? el("optgroup", { label: `Saved in ${opts.models_dir}` }, ...opts.saved.map((b) => el("option", { value: b.id, text: b.title }))) : null,
    el("option", { value: "path", text: "A model folder on this computer…" }));
  const path = el("input", { type: "text", id: "ex-path", hidden: true, placeholder: "/path/to/a/model-folder",
    "aria-label": "Path of a model folder (playml, Teachable Machine or TF.js layers)" });
  const open = el("button", { type: "button", id: "ex-open", text: "Open" });
  const total = el("p", { id: "ex-total", class: "muted", "aria-live": "polite" });
  const table = el("table", { id: "ex-summary", class: "ex-table" });
  const tableBox = el("div", { class: "ex-table-box", tabindex: "-1" }, table);

  const file = el("input", { type: "file", id: "ex-file", accept: "image/*" });
  const fileLabel = el("label", { class: "file-label", for: "ex-file", text: "Upload an image" });
  const webcam = el("button", { type: "button", class: "plain", id: "ex-webcam", text: "Use the webcam", "aria-pressed": "false" });
  const snap = el("button", { type: "button", id: "ex-snap", text: "Take this frame", hidden: true });
  const live = el("button", { type: "button", class: "plain", id: "ex-live", text: "Keep looking (live)", hidden: true,
    "aria-pressed": "false", title: "Explore frame after frame, as fast as the computer answers" });
  const videoBox = el("div", { class: "ex-video", hidden: true });
  const layer = el("select", { id: "ex-layer", "aria-label": "Layer" });
  const gridCanvas = el("canvas", { id: "ex-grid", width: 10, height: 10, role: "img", tabindex: "0",
    "aria-label": "The layer's channels, one small picture each (light = high)" });
  const gridInfo = el("p", { id: "ex-grid-info", class: "muted", "aria-live": "polite" });
  const probe = el("p", { id: "ex-probe", class: "muted", text: "Point at a channel to read its numbers." });
  const histW = el("canvas", { id: "ex-hist-weights", width: 330, height: 110, role: "img", "aria-label": "Histogram of the layer's weights" });
  const histA = el("canvas", { id: "ex-hist-activations", width: 330, height: 110, role: "img", "aria-label": "Histogram of the layer's activations for the image" });
  const camCanvas = el("canvas", { id: "ex-cam", width: 330, height: 220, role: "img", "aria-label": "The image with the heat map of where the model looked" });
  const camLabel = el("p", { id: "ex-cam-label", "aria-live": "polite" });
  // a table model's views
  const form = el("form", { id: "ex-form", class: "ex-form", hidden: true, "aria-label": "The model's inputs" });
  const strips = el("div", { id: "ex-strips", class: "ex-strips", hidden: true, "aria-live": "polite" });
  const answer = el("ul", { id: "ex-outputs", class: "ex-outputs", hidden: true, "aria-label": "The model's answer" });
  const attr = el("canvas", { id: "ex-attr", width: 330, height: 60, hidden: true, role: "img",
    "aria-label": "How much each input pushed the answer (gradient × input)" });
  const attrTitle = el("h3", { id: "ex-attr-title", text: "Which inputs pushed it", hidden: true });
  const attrLabel = el("p", { id: "ex-attr-label", class: "muted", hidden: true, "aria-live": "polite" });
  let row = null, rowBusy = false, rowAgain = false;

  const page = el("div", { class: "ex" });
  root.append(page);
  page.append(el("div", { class: "ex-cols" },
    el("section", { class: "card ex-model", "aria-labelledby": "ex-model-title" },
      el("h2", { id: "ex-model-title", text: "Model" }),
      el("label", { for: "ex-model", text: "Open" }), choose, path, el("div", { class: "row" }, open),
      total, tableBox,
      el("details", { class: "what" }, el("summary", { text: "What am I looking at?" }),
        el("p", { class: "what-table", hidden: true, text: "This model takes one row of numbers (or choices), " +
          "not a picture. Each dense layer multiplies the row by its weights, adds its biases and bends the result " +
          "(its activation, e.g. relu), giving one number per unit; the table lists the layers, how many units each " +
          "outputs and how many numbers (parameters) it learned. Change the inputs to see every layer's numbers for " +
          "your row as a strip of cells (dark = high, within that layer), the answer (for a classifier, how sure it " +
          "is of each label), and the spread of the chosen layer's weights and numbers. There is no Grad-CAM here: " +
          "Grad-CAM weighs a convolution's feature maps to colour pixels, and a table model has no pixels and no " +
          "maps. Its analogue is shown instead: gradient × input, how much each input pushed the top answer up " +
          "(orange) or down (blue)." }),
        el("p", { class: "what-image", text: "A network is a stack of layers. Each layer turns the picture into a new stack of " +
          "pictures (its channels), each picture answering one question (\"is there an edge here?\", \"fur?\", " +
          "\"an eye?\"). The table lists the layers from the input down, the shape of what each one outputs " +
          "(channels and size) and how many numbers (parameters) it learned. Choose a layer to see its channels " +
          "for your image: light means the channel answered strongly there. The histograms show how the layer's " +
          "learned weights and its answers for this image are spread. The heat map shows which parts of the image " +
          "made the model choose its top answer (Grad-CAM: the last layer's channels, weighted by how much each " +
          "one pushed that answer up). Red is most important." }))),
    el("section", { class: "card ex-middle", "aria-labelledby": "ex-grid-title" },
      el("h2", { id: "ex-grid-title", text: "What a layer sees" }),
      el("div", { class: "row ex-image-only" }, file, fileLabel, webcam, snap, live, videoBox), form,
      el("div", { class: "row" }, el("label", { for: "ex-layer", text: "Layer" }), layer),
      gridInfo, el("div", { class: "ex-grid-box ex-image-only" }, gridCanvas), strips, probe),
    el("section", { class: "card ex-right", "aria-labelledby": "ex-dist-title" },
      el("h2", { id: "ex-dist-title", text: "Values" }),
      el("h3", { text: "Weights" }), histW, el("h3", { id: "ex-hist-a-title", text: "Activations for this image" }), histA,
      el("h2", { id: "ex-cam-title", text: "Where it looked" }), camCanvas, camLabel, answer, attrTitle, attr, attrLabel)));
  const titles = { grid: page.querySelector("#ex-grid-title"), histA: page.querySelector("#ex-hist-a-title"),
    cam: page.querySelector("#ex-cam-title") };

  function showSummary() {
    const rows = model.layers.map((r) => el("tr", { "data-layer": r.name, tabindex: "0", "aria-selected": "false",
      title: `Show ${r.name}` },
      el("td", { text: r.name, title: r.name }), el("td", { text: r.type, title: r.type }), el("td", { text: r.shape.join(" × ") }),
      el("td", { class: "num", text: fmt(r.parameters) })));
    table.replaceChildren(el("thead", {}, el("tr", {}, el("th", { text: "Layer" }), el("th", { text: "Type" }),
      el("th", { text: "Output shape" }), el("th", { class: "num", text: "Parameters" }))), el("tbody", {}, ...rows));
    total.textContent = `${model.title}: ${model.layers.length} layers, ${fmt(model.parameters)} parameters, ` +
      (model.table ? `${model.inputs.length} inputs, ${model.labels} ${model.classifier ? "labels" : "outputs"}.`
        : `${model.input_size}×${model.input_size} input, ${model.labels} labels.`);
    total.dataset.parameters = model.parameters; total.dataset.layers = model.layers.length;
    const keep = layer.value;  // the same layer again when the new model has it
    layer.replaceChildren(...model.layers.map((r) => el("option", { value: r.name, text: `${r.name} · ${r.type} · ${r.shape.join("×")}` })));
    layer.value = model.layers.some((r) => r.name === keep) ? keep : model.default_layer;
    markLayer();
    showMode();
  }

  // -- a table model: the form, every layer's numbers, the answer, gradient × input ------------------
  function showMode() {
    const t = Boolean(model && model.table);
    for (const n of page.querySelectorAll(".ex-image-only")) n.hidden = t;
    page.querySelector(".what-table").hidden = !t; page.querySelector(".what-image").hidden = t;
    for (const n of [form, strips, answer, attrTitle, attr, attrLabel]) n.hidden = !t;
    camCanvas.hidden = t; gridInfo.hidden = t;
    probe.textContent = t ? "Point at a cell to read its number." : "Point at a channel to read its numbers.";
    titles.grid.textContent = t ? "What each layer computes for this row" : "What a layer sees";
    titles.histA.textContent = t ? "Activations for this row" : "Activations for this image";
    titles.cam.textContent = !t ? "Where it looked" : model.classifier ? "Its answer"
      : model.kind === "anomaly_detector" ? "Its rebuild of the row" : "What it predicts";
    camLabel.textContent = t ? "" : camLabel.textContent;
    if (t) buildForm();
  }

  function buildForm() {
    const fields = model.inputs.map((f, i) => {
      const id = `ex-in-${i}`;
      if (f.dtype === "string") {
        const sel = el("select", { id, name: f.name }, ...f.choices.map((c) => el("option", { value: c, text: c })));
        return el("div", { class: "ex-field" }, el("label", { for: id, text: f.name }), sel);
      }
      const known = typeof f.min === "number" && typeof f.max === "number";
      const mid = known ? (f.min + f.max) / 2 : (typeof f.default === "number" ? f.default : 0);
      const step = known ? Math.max((f.max - f.min) / 100, 1e-6) : "any";
      const num = el("input", { type: "number", id, name: f.name, step: "any", value: String(Number(mid.toPrecision(6))),
        title: known ? `trained on ${plain(f.min)} … ${plain(f.max)}` : "" });
      const parts = [el("label", { for: id, text: f.name }), num];
      if (known) {
        const slide = el("input", { type: "range", min: f.min, max: f.max, step, value: mid, tabindex: "-1",
          "aria-label": `${f.name} (slider)` });
        slide.addEventListener("input", () => { num.value = String(Number(Number(slide.value).toPrecision(6))); runRow(); });
        num.addEventListener("input", () => { slide.value = num.value; });
        parts.push(slide, el("span", { class: "muted ex-range", text: `${plain(f.min)} … ${plain(f.max)}` }));
      }
      return el("div", { class: "ex-field" }, ...parts);
    });
    const note = model.inputs.some((f) => typeof f.min === "number") ? "The inputs start in the middle of the range the model was trained on."
      : model.inputs.some((f) => typeof f.default === "number") ? "The inputs start at the mean of the data the model was trained on."
        : "Type the numbers the model takes.";
    form.replaceChildren(el("p", { class: "muted ex-form-note", text: note }), ...fields);
    strips.replaceChildren(); answer.replaceChildren(); row = null;
  }

  function formRow() {
    const out = {};
    for (const [i, f] of model.inputs.entries()) {
      const v = form.querySelector(`#ex-in-${i}`).value;
      out[f.name] = f.dtype === "string" ? v : Number(v);
    }
    return out;
  }

  function heatColour(v, lo, hi) {  // dark = high; a layer with negative numbers: blue below 0, orange above
    if (lo < 0) {
      const m = Math.max(-lo, hi, 1e-12), t = Math.min(1, Math.abs(v) / m);
      return v < 0 ? `rgb(${Math.round(255 - 219 * t)},${Math.round(255 - 168 * t)},${Math.round(255 - 58 * t)})`
        : `rgb(${Math.round(255 - 38 * t)},${Math.round(255 - 125 * t)},${Math.round(255 - 212 * t)})`;
    }
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    const c = Math.round(255 - 225 * t);
    return `rgb(${c},${c},${Math.round(255 - 160 * t)})`;
  }

  function drawStrips(r) {
    const shape = Object.fromEntries(model.layers.map((l) => [l.name, l]));
    strips.replaceChildren(...r.layers.map((l) => {
      const n = l.values.length, cell = Math.max(4, Math.min(26, Math.floor(430 / n))), perRow = Math.floor(430 / cell);
      const rows = Math.ceil(n / perRow);
      const c = el("canvas", { class: "ex-strip", width: Math.min(n, perRow) * cell, height: rows * cell, role: "img",
        "data-layer": l.name, "aria-label": `The ${n} numbers of ${l.name} for this row` });
      const lo = Math.min(...l.values), hi = Math.max(...l.values), ctx = c.getContext("2d");
      l.values.forEach((v, i) => {
        ctx.fillStyle = heatColour(v, lo, hi);
        ctx.fillRect((i % perRow) * cell, Math.floor(i / perRow) * cell, cell - 1, cell - 1);
      });
      Object.assign(c.dataset, { values: JSON.stringify(l.values), cell, perRow });
      c.addEventListener("mousemove", (e) => {
        const b = c.getBoundingClientRect();
        const i = Math.floor((e.clientY - b.top) * c.height / b.height / cell) * perRow + Math.floor((e.clientX - b.left) * c.width / b.width / cell);
        if (i >= 0 && i < n) probe.textContent = `${l.name}, unit ${i}: ${short(l.values[i])} (this layer goes from ${short(lo)} to ${short(hi)}).`;
      });
      const s = shape[l.name] || { type: "" };
      const head = el("p", { class: "ex-strip-head", text: `${l.name} · ${s.type} · ${n} unit${n === 1 ? "" : "s"} · ${short(lo)} … ${short(hi)}` });
      const box = el("div", { class: "ex-strip-box", "data-layer": l.name, "aria-selected": String(l.name === layer.value) }, head, c);
      box.addEventListener("click", () => { layer.value = l.name; markLayer(); runRow(); });
      return box;
    }));
  }

  function drawAnswer(r) {
    const top = Math.max(...r.outputs.map((o) => Math.abs(o.value)), 1e-12);
    answer.replaceChildren(...r.outputs.map((o) => {
      const share = r.classifier ? o.value : Math.abs(o.value) / top;
      const fill = el("span", {});
      fill.style.width = `${(100 * Math.max(0, Math.min(1, share))).toFixed(1)}%`;  // CSSOM: allowed by the page's CSP
      return el("li", { "data-label": o.label, "data-value": String(o.value) },
        el("span", { class: "ex-out-label", text: o.label }),
        el("span", { class: "ex-out-bar" }, fill),
        el("span", { class: "ex-out-value", text: r.classifier ? `${(100 * o.value).toFixed(1)} %` : short(o.value) }));
    }));
    const a = r.attribution, n = a.values.length, ctx = attr.getContext("2d");
    attr.height = 18 * n + 8;
    // name (up to 78 px) · value (right-aligned at 136 px) · bars either side of the zero line
    const W = attr.width, mid = 136 + (W - 136) / 2, room = (W - 136) / 2 - 6, m = Math.max(...a.values.map(Math.abs), 1e-12);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, attr.height); ctx.font = "11px sans-serif";
    const fit = (text) => { let t = text; while (t.length > 1 && ctx.measureText(t).width > 78) t = t.slice(0, -1); return t === text ? t : `${t.slice(0, -1)}…`; };
    a.values.forEach((v, i) => {
      const y = 4 + 18 * i, w = (Math.abs(v) / m) * room;
      ctx.fillStyle = v >= 0 ? "#d9822b" : "#2457c5";
      ctx.fillRect(v >= 0 ? mid : mid - w, y + 3, Math.max(1, w), 11);
      ctx.fillStyle = "#1d2330"; ctx.textAlign = "left"; ctx.fillText(fit(a.inputs[i]), 2, y + 12);
      ctx.textAlign = "right"; ctx.fillText(short(v), 134, y + 12);
    });
    ctx.strokeStyle = "#5b6475"; ctx.beginPath(); ctx.moveTo(mid, 2); ctx.lineTo(mid, attr.height - 2); ctx.stroke();
    Object.assign(attr.dataset, { label: a.label, score: a.score, values: JSON.stringify(a.values) });
    attrLabel.textContent = `Which inputs pushed “${a.label}” (${r.classifier ? `${(100 * a.score).toFixed(1)} %` : short(a.score)}): ` +
      "gradient × input, orange up, blue down. (No Grad-CAM: a table model has no pixels or feature maps.)";
  }

  async function runRow() {
    if (!model || !model.table) return;
    if (rowBusy) { rowAgain = true; return; }  // one request at a time; the latest values win
    rowBusy = true;
    const t0 = performance.now();
    try {
      do {
        rowAgain = false;
        const r = await api("/api/explorer/row", { method: "POST", json: { row: formRow(), layer: layer.value } });
        row = r;
        drawStrips(r); drawAnswer(r);
        drawHistogram(histW, r.weights, "#2457c5");
        drawHistogram(histA, r.activations, "#d9822b");
        markLayer();
        strips.dataset.ms = (performance.now() - t0).toFixed(2);
        strips.dataset.row = JSON.stringify(r.row);
        studio.status(`Every layer of the model for this row; ${r.layer} chosen (${r.ms.toFixed(0)} ms on the server).`);
      } while (rowAgain);
    } catch (err) { studio.status(err.message, "error"); } finally { rowBusy = false; }
  }

  function markLayer() {
    for (const tr of table.querySelectorAll("tbody tr")) tr.setAttribute("aria-selected", String(tr.dataset.layer === layer.value));
    for (const b of strips.querySelectorAll(".ex-strip-box")) b.setAttribute("aria-selected", String(b.dataset.layer === layer.value));
  }

  async function openModel() {
    const json = choose.value === "path" ? { path: path.value.trim() } : { model: choose.value };
    open.disabled = true;
    studio.status("Opening the model…", "busy");
    try {
      model = await api("/api/explorer/open", { method: "POST", json });
      showSummary();
      if (model.table) { studio.status("Model open. Change its inputs to see what each layer computes."); await runRow(); return; }
      studio.status(imageUrl ? "Model open." : "Model open. Now upload an image or use the webcam.");
      if (imageUrl) await refresh();
    } catch (err) { studio.status(err.message, "error"); } finally { open.disabled = false; }
  }

  async function drawGrid(r, t0) {
    const g = r.grid;
    const img = await loadImage(g.png);
    gridCanvas.width = img.width; gridCanvas.height = img.height;
    const ctx = gridCanvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, 0, 0);
    // scale the canvas on screen to fill the box, keeping pixels sharp
    const box = gridCanvas.parentElement.clientWidth || 440;
    const room = Math.max(200, window.innerHeight - gridCanvas.parentElement.getBoundingClientRect().top - 70);
    const scale = Math.min(box / img.width, Math.min(440, room) / img.height, 8);
    gridCanvas.style.width = `${Math.floor(img.width * scale)}px`;
    gridCanvas.style.height = `${Math.floor(img.height * scale)}px`;
    grid = g;
    Object.assign(gridCanvas.dataset, { layer: r.layer, channels: g.channels, shown: g.shown, cols: g.cols,
      tileWidth: g.width, tileHeight: g.height, mins: JSON.stringify(g.mins), maxs: JSON.stringify(g.maxs) });
    const ms = performance.now() - t0;
    gridCanvas.dataset.ms = ms.toFixed(2);
    gridCanvas.dataset.serverMs = r.ms.toFixed(2);
    gridInfo.textContent = `${r.layer}: ${g.channels} channel${g.channels === 1 ? "" : "s"} of ${g.height}×${g.width}` +
      (g.shown < g.channels ? ` (the first ${g.shown} shown)` : "") +
      `, each scaled to its own range · ${r.ms.toFixed(0)} ms to compute, ${ms.toFixed(0)} ms to draw.`;
  }

  async function showLayer() {
    if (model && model.table) { markLayer(); await runRow(); return; }
    if (!model || !imageUrl) return;
    markLayer();
    const t0 = performance.now();
    busy += 1;
    studio.status(`Running the image through ${layer.value}…`, "busy");
    try {
      const r = await api("/api/explorer/layer", { method: "POST", json: { layer: layer.value } });
      await drawGrid(r, t0);
      drawHistogram(histW, r.weights, "#2457c5");
      drawHistogram(histA, r.activations, "#d9822b");
      studio.status(`The channels of ${r.layer} for this image.`);
    } catch (err) { studio.status(err.message, "error"); } finally { busy -= 1; }
  }

  async function showCam() {
    if (!model || !imageUrl) return;
    const ctx = camCanvas.getContext("2d");
    if (!model.classifier) {
      ctx.clearRect(0, 0, camCanvas.width, camCanvas.height);
      camLabel.textContent = "This model gives no labels, so there is no answer to explain.";
      return;
    }
    const source = gridCanvas.dataset.source;  // of the image this answer is about
    try {
      const r = await api("/api/explorer/gradcam", { method: "POST", json: {} });
      const [img, heat] = await Promise.all([loadImage(imageUrl), loadImage(r.png)]);
      const s = Math.min(330 / img.width, 260 / img.height);
      camCanvas.width = Math.round(img.width * s); camCanvas.height = Math.round(img.height * s);
      ctx.drawImage(img, 0, 0, camCanvas.width, camCanvas.height);
      ctx.drawImage(heat, 0, 0, camCanvas.width, camCanvas.height);
      ctx.strokeStyle = "#fff"; ctx.setLineDash([4, 3]);
      ctx.strokeRect(r.box[0] * s, r.box[1] * s, (r.box[2] - r.box[0]) * s, (r.box[3] - r.box[1]) * s);
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.arc(r.peak[0] * s, r.peak[1] * s, 6, 0, 2 * Math.PI); ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke(); ctx.lineWidth = 1;
      Object.assign(camCanvas.dataset, { source, label: r.label, confidence: r.confidence, peakX: r.peak[0], peakY: r.peak[1], layer: r.layer });
      camLabel.textContent = `Top answer: ${r.label} (${(100 * r.confidence).toFixed(1)} %). Red marks the pixels that pushed it ` +
        `most (layer ${r.layer}); the circle is the hottest point, the dashed square what the model sees.`;
    } catch (err) { camLabel.textContent = err.message; }
  }

  async function refresh() { await showLayer(); await showCam(); }  // the grid first: the server does one at a time

  async function useImage(blob, source) {
    const form = new FormData();
    form.append("file", blob, source === "webcam" ? "webcam.jpg" : (blob.name || "image"));
    try {
      const info = await api(`/api/explorer/image?source=${source}`, { method: "POST", form });
      if (imageUrl) URL.revokeObjectURL(imageUrl);
      imageUrl = URL.createObjectURL(blob);
      page.lastImage = blob;  // the bytes the server got (tests compare the page with Python on them)
      gridCanvas.dataset.source = info.source;
      if (!model || model.table) { studio.status("Image ready. Open an image model to look inside it."); return; }
      await refresh();
    } catch (err) { studio.status(err.message, "error"); }
  }

  choose.addEventListener("change", () => { path.hidden = choose.value !== "path"; if (!path.hidden) path.focus(); });
  open.addEventListener("click", openModel);
  path.addEventListener("keydown", (e) => { if (e.key === "Enter") openModel(); });
  layer.addEventListener("change", showLayer);
  table.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-layer]");
    if (tr) { layer.value = tr.dataset.layer; showLayer(); }
  });
  table.addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr[data-layer]");
    if (!tr) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); layer.value = tr.dataset.layer; showLayer(); }
    if (e.key === "ArrowDown" && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    if (e.key === "ArrowUp" && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });
  form.addEventListener("input", (e) => { if (e.target.type !== "range") runRow(); });
  form.addEventListener("submit", (e) => { e.preventDefault(); runRow(); });
  file.addEventListener("change", () => { if (file.files[0]) useImage(file.files[0], "upload"); });

  // Live: the next frame is sent as soon as the last one is drawn (grid and Grad-CAM), so the page
  // never queues work on the server; data-frames counts the frames drawn, data-live says whether it runs.
  let liveOn = false, liveLoop = null;
  gridCanvas.dataset.live = "off";
  function setLive(on) {
    liveOn = on;
    live.setAttribute("aria-pressed", on ? "true" : "false");
    live.textContent = on ? "Stop looking" : "Keep looking (live)";
    snap.disabled = on;
    if (on && !liveLoop) liveLoop = runLive().finally(() => { liveLoop = null; gridCanvas.dataset.live = "off"; });
  }
  async function runLive() {
    gridCanvas.dataset.live = "on";
    let frames = 0;
    const t0 = performance.now();
    while (liveOn && video) {
      const blob = await grabJpeg(video, { quality: 0.85 });
      if (!blob || !liveOn) break;
      await useImage(blob, "webcam");
      frames += 1;
      gridCanvas.dataset.frames = String(frames);
      gridCanvas.dataset.fps = (frames / ((performance.now() - t0) / 1000)).toFixed(1);
      studio.status(`Live: ${gridCanvas.dataset.fps} frames a second.`);
      await new Promise((r) => requestAnimationFrame(r));
    }
  }
  live.addEventListener("click", () => setLive(!liveOn));

  webcam.addEventListener("click", async () => {
    if (video) {
      setLive(false);
      closeCamera(video); video = null; videoBox.replaceChildren(); videoBox.hidden = true; snap.hidden = true;
      live.hidden = true;
      webcam.textContent = "Use the webcam"; webcam.setAttribute("aria-pressed", "false");
      return;
    }
    video = el("video", { id: "ex-video", width: 120, height: 90, "aria-label": "The webcam" });
    videoBox.replaceChildren(video); videoBox.hidden = false;
    try {
      await openCamera(video);
      snap.hidden = false; live.hidden = false;
      webcam.textContent = "Stop the webcam"; webcam.setAttribute("aria-pressed", "true");
      studio.status("Press “Take this frame” to look at what the webcam sees, or “Keep looking” to follow it live.");
    } catch (err) {
      studio.status(err.message, "error"); video = null; videoBox.hidden = true;
    }
  });
  snap.addEventListener("click", async () => {
    if (!video) return;
    const blob = await grabJpeg(video, { quality: 0.92 });
    if (blob) await useImage(blob, "webcam");
  });

  gridCanvas.addEventListener("mousemove", (e) => {
    if (!grid) return;
    const r = gridCanvas.getBoundingClientRect();
    const x = Math.floor((e.clientX - r.left) * gridCanvas.width / r.width), y = Math.floor((e.clientY - r.top) * gridCanvas.height / r.height);
    const col = Math.floor(x / (grid.width + 1)), row = Math.floor(y / (grid.height + 1)), c = row * grid.cols + col;
    const i = y - row * (grid.height + 1), j = x - col * (grid.width + 1);
    if (c >= grid.shown || i >= grid.height || j >= grid.width || col >= grid.cols) return;
    const g = gridCanvas.getContext("2d").getImageData(x, y, 1, 1).data[0];
    const v = grid.mins[c] + (g / 255) * (grid.maxs[c] - grid.mins[c]);
    probe.textContent = `Channel ${c}: ${short(v)} here (this channel goes from ${short(grid.mins[c])} to ${short(grid.maxs[c])}, mean ${short(grid.means[c])}).`;
  });

  if (opts.model) { model = opts.model; showSummary(); if (model.table) runRow(); }
  studio.status("Open a model, then upload an image or use the webcam.");
  return () => { liveOn = false; if (video) closeCamera(video); if (imageUrl) URL.revokeObjectURL(imageUrl); };
}
