// Explorer: look inside an image model (after tfjs-vis, plus Grad-CAM). Open a bundled backbone,
// a model saved in the models folder or any model folder by its path; the table lists its layers;
// pick a layer and an image (upload or a webcam frame) to see the layer's channels as a grid, the
// spread of its weights and activations, and where the model looked for its answer.
import { el } from "../api.js";
import { openCamera, closeCamera, grabJpeg } from "../camera.js";

function useExplorerStyles() {
  if (document.getElementById("explorer-css")) return;
  document.head.append(el("link", { id: "explorer-css", rel: "stylesheet", href: "/static/explorer.css" }));
}

const fmt = (n) => n.toLocaleString("en-US");
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

  const page = el("div", { class: "ex" });
  root.append(page);
  page.append(el("div", { class: "ex-cols" },
    el("section", { class: "card ex-model", "aria-labelledby": "ex-model-title" },
      el("h2", { id: "ex-model-title", text: "Model" }),
      el("label", { for: "ex-model", text: "Open" }), choose, path, el("div", { class: "row" }, open),
      total, tableBox,
      el("details", { class: "what" }, el("summary", { text: "What am I looking at?" }),
        el("p", { text: "A network is a stack of layers. Each layer turns the picture into a new stack of " +
          "pictures (its channels), each picture answering one question (\"is there an edge here?\", \"fur?\", " +
          "\"an eye?\"). The table lists the layers from the input down, the shape of what each one outputs " +
          "(channels and size) and how many numbers (parameters) it learned. Choose a layer to see its channels " +
          "for your image: light means the channel answered strongly there. The histograms show how the layer's " +
          "learned weights and its answers for this image are spread. The heat map shows which parts of the image " +
          "made the model choose its top answer (Grad-CAM: the last layer's channels, weighted by how much each " +
          "one pushed that answer up). Red is most important." }))),
    el("section", { class: "card ex-middle", "aria-labelledby": "ex-grid-title" },
      el("h2", { id: "ex-grid-title", text: "What a layer sees" }),
      el("div", { class: "row" }, file, fileLabel, webcam, snap, videoBox),
      el("div", { class: "row" }, el("label", { for: "ex-layer", text: "Layer" }), layer),
      gridInfo, el("div", { class: "ex-grid-box" }, gridCanvas), probe),
    el("section", { class: "card ex-right", "aria-labelledby": "ex-dist-title" },
      el("h2", { id: "ex-dist-title", text: "Values" }),
      el("h3", { text: "Weights" }), histW, el("h3", { text: "Activations for this image" }), histA,
      el("h2", { id: "ex-cam-title", text: "Where it looked" }), camCanvas, camLabel)));

  function showSummary() {
    const rows = model.layers.map((r) => el("tr", { "data-layer": r.name, tabindex: "0", "aria-selected": "false",
      title: `Show ${r.name}` },
      el("td", { text: r.name, title: r.name }), el("td", { text: r.type, title: r.type }), el("td", { text: r.shape.join(" × ") }),
      el("td", { class: "num", text: fmt(r.parameters) })));
    table.replaceChildren(el("thead", {}, el("tr", {}, el("th", { text: "Layer" }), el("th", { text: "Type" }),
      el("th", { text: "Output shape" }), el("th", { class: "num", text: "Parameters" }))), el("tbody", {}, ...rows));
    total.textContent = `${model.title}: ${model.layers.length} layers, ${fmt(model.parameters)} parameters, ` +
      `${model.input_size}×${model.input_size} input, ${model.labels} labels.`;
    total.dataset.parameters = model.parameters; total.dataset.layers = model.layers.length;
    const keep = layer.value;  // the same layer again when the new model has it
    layer.replaceChildren(...model.layers.map((r) => el("option", { value: r.name, text: `${r.name} · ${r.type} · ${r.shape.join("×")}` })));
    layer.value = model.layers.some((r) => r.name === keep) ? keep : model.default_layer;
    markLayer();
  }

  function markLayer() {
    for (const tr of table.querySelectorAll("tbody tr")) tr.setAttribute("aria-selected", String(tr.dataset.layer === layer.value));
  }

  async function openModel() {
    const json = choose.value === "path" ? { path: path.value.trim() } : { model: choose.value };
    open.disabled = true;
    studio.status("Opening the model…", "busy");
    try {
      model = await api("/api/explorer/open", { method: "POST", json });
      showSummary();
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
      if (!model) { studio.status("Image ready. Open a model to look inside it."); return; }
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
  file.addEventListener("change", () => { if (file.files[0]) useImage(file.files[0], "upload"); });

  webcam.addEventListener("click", async () => {
    if (video) {
      closeCamera(video); video = null; videoBox.replaceChildren(); videoBox.hidden = true; snap.hidden = true;
      webcam.textContent = "Use the webcam"; webcam.setAttribute("aria-pressed", "false");
      return;
    }
    video = el("video", { id: "ex-video", width: 120, height: 90, "aria-label": "The webcam" });
    videoBox.replaceChildren(video); videoBox.hidden = false;
    try {
      await openCamera(video);
      snap.hidden = false; webcam.textContent = "Stop the webcam"; webcam.setAttribute("aria-pressed", "true");
      studio.status("Press “Take this frame” to look at what the webcam sees.");
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

  if (opts.model) { model = opts.model; showSummary(); }
  studio.status("Open a model, then upload an image or use the webcam.");
  return () => { if (video) closeCamera(video); if (imageUrl) URL.revokeObjectURL(imageUrl); };
}
