// Search: find the images that look most alike to a network (after ConvNet Playground).
// The server embeds every image with the chosen model and layer (cached), the page shows the
// collection; clicking an image asks for its 15 nearest, drawn with their distances.
import { el } from "../api.js";
import { useStyles } from "../explore-common.js";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export async function mount(root, studio) {
  useStyles();
  const { api } = studio;
  const opts = await api("/api/search");
  let info = null, map = null;

  const source = el("select", { id: "sr-source" }, ...Object.entries(opts.sources).map(([k, v]) => el("option", { value: k, text: v })));
  const folder = el("input", { type: "text", id: "sr-folder", placeholder: "/path/to/a/folder/of/images", hidden: true });
  const model = el("select", { id: "sr-model" }, ...Object.keys(opts.models).map((m) => el("option", { value: m, text: m })));
  const layer = el("select", { id: "sr-layer" });
  const metric = el("select", { id: "sr-metric" }, ...opts.metrics.map((m) => el("option", { value: m, text: m })));
  const build = el("button", { type: "button", id: "sr-build", text: "Build the index" });
  const progress = el("progress", { id: "sr-progress", max: 1, value: 0, "aria-label": "Building the index" });
  const progressText = el("p", { id: "sr-progress-text", class: "muted", "aria-live": "polite" });
  function fillLayers() {
    const layers = opts.models[model.value];
    layer.replaceChildren(el("option", { value: "", text: "features (what the classifier sees)" }),
      ...layers.map((l) => el("option", { value: l.name, text: `${l.name} · ${l.size} values` })));
  }
  fillLayers();
  model.addEventListener("change", fillLayers);
  source.addEventListener("change", () => { folder.hidden = source.value !== "folder"; });

  const grid = el("div", { class: "sr-grid", id: "sr-grid", role: "list", "aria-label": "The images; choose one to search with it" });
  const count = el("h2", { id: "sr-count", text: "Images" });
  const results = el("div", { class: "sr-results", id: "sr-results", "aria-live": "polite" });
  const scoreText = el("p", { id: "sr-score", class: "muted" });
  const mapCanvas = el("canvas", { id: "sr-map", width: 680, height: 420, role: "img", tabindex: "0",
    "aria-label": "A map of the images' features: close points look alike to the network. Click a point to search from it." });

  root.append(el("div", { class: "sr" }, el("div", { class: "sr-cols" },
    el("section", { class: "card sr-select", "aria-labelledby": "sr-choose" },
      el("h2", { id: "sr-choose", text: "Choose" }),
      el("label", { for: "sr-source", text: "Images" }), source, folder,
      el("label", { for: "sr-model", text: "Model" }), model,
      el("label", { for: "sr-layer", text: "Layer" }), layer,
      el("label", { for: "sr-metric", text: "Distance" }), metric,
      el("div", { class: "row" }, build), progress, progressText,
      el("details", { class: "what" }, el("summary", { text: "What am I looking at?" }),
        el("p", { text: "A trained network turns every picture into a list of numbers (its features) at the layer you " +
          "choose. Pictures whose numbers are close look alike to the network. Early layers notice colours and " +
          "textures; late layers notice objects. Click any picture to see the 15 closest, with their distance " +
          "(smaller is closer). The score (0–1) says how many of them share the picture's label, counting the " +
          "first places most. The map squeezes the features into two dimensions (PCA): neighbours on it look alike." }))),
    el("section", { class: "card", "aria-labelledby": "sr-count" }, count, grid),
    el("section", { class: "card", "aria-labelledby": "sr-results-title" },
      el("h2", { id: "sr-results-title", text: "The 15 nearest" }), scoreText, results,
      el("h3", { text: "Map of the features" }), mapCanvas))));

  const thumbUrl = (row) => `/api/search/thumb/${row}.jpg?v=${info.version}`;

  function showGrid() {
    count.textContent = `${info.images} images · ${info.model} · ${info.layer} · ${info.metric}`;
    grid.replaceChildren(...Array.from({ length: info.images }, (_, row) =>
      el("button", { type: "button", role: "listitem", "data-row": row, "aria-pressed": "false",
        "aria-label": `Image ${row + 1}${info.labels[row] ? ` (${info.labels[row]})` : ""}: search with it` },
        el("img", { src: thumbUrl(row), alt: "", loading: "lazy", width: 64, height: 64 }))));
  }

  async function drawMap() {
    map = await api("/api/search/map");
    const ctx = mapCanvas.getContext("2d"), W = mapCanvas.width, H = mapCanvas.height, pad = 24;
    const xs = map.xy.map((p) => p[0]), ys = map.xy.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    map.px = map.xy.map(([x, y]) => [pad + (x - x0) / (x1 - x0 || 1) * (W - 2 * pad), pad + (y1 - y) / (y1 - y0 || 1) * (H - 2 * pad)]);
    const names = [...new Set(map.labels)];
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    map.px.forEach(([x, y], i) => {
      ctx.fillStyle = PALETTE[names.indexOf(map.labels[i]) % PALETTE.length];
      ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI); ctx.fill();
    });
    // thumbnails for a sample of the points
    const step = Math.max(1, Math.floor(map.rows.length / 80));
    const jobs = [];
    for (let i = 0; i < map.rows.length; i += step) {
      const img = new Image();
      img.src = thumbUrl(map.rows[i]);
      jobs.push(img.decode().then(() => {
        const [x, y] = map.px[i], s = 30;
        ctx.drawImage(img, x - s / 2, y - s / 2, s, s);
        ctx.strokeStyle = PALETTE[names.indexOf(map.labels[i]) % PALETTE.length];
        ctx.lineWidth = 2; ctx.strokeRect(x - s / 2, y - s / 2, s, s);
      }).catch(() => {}));
    }
    await Promise.all(jobs);
    mapCanvas.dataset.points = map.rows.length;
  }

  async function query(row) {
    const t0 = performance.now();
    for (const b of grid.querySelectorAll("button[aria-pressed=true]")) b.setAttribute("aria-pressed", "false");
    const button = grid.querySelector(`button[data-row="${row}"]`);
    if (button) button.setAttribute("aria-pressed", "true");
    try {
      const r = await api(`/api/search/query/${row}`);
      const figures = r.matches.map((m, i) => {
        const img = el("img", { src: m.thumb || thumbUrl(m.row), alt: m.label ? `${m.label}` : `image ${m.row + 1}` });
        return [el("figure", { title: `${m.label || ""} · distance ${m.distance.toFixed(4)} · ${m.path}`, "data-row": m.row, "data-path": m.path, "data-distance": m.distance },
          img, el("figcaption", { text: `${i + 1}. ${m.distance.toFixed(3)}${m.label ? " " + m.label : ""}` })), img];
      });
      results.replaceChildren(...figures.map((f) => f[0]));
      results.dataset.listedMs = (performance.now() - t0).toFixed(2);
      await Promise.all(figures.map((f) => f[1].decode().catch(() => {})));
      const ms = performance.now() - t0;
      scoreText.textContent = (r.score === null ? "No label, so no score. " : `Search score ${r.score.toFixed(3)}. `) +
        `${r.ms.toFixed(1)} ms to search, ${ms.toFixed(0)} ms to draw.`;
      results.dataset.row = row;
      results.dataset.ms = ms.toFixed(2);
      results.dataset.serverMs = r.ms.toFixed(3);
      results.dataset.score = r.score === null ? "" : r.score;
      studio.status(`The images nearest to image ${row + 1}${r.label ? ` (${r.label})` : ""}.`);
    } catch (err) { studio.status(err.message, "error"); }
  }

  grid.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-row]");
    if (b) query(Number(b.dataset.row));
  });
  results.addEventListener("click", (e) => {
    const f = e.target.closest("figure[data-row]");
    if (f) query(Number(f.dataset.row));
  });
  mapCanvas.addEventListener("click", (e) => {
    if (!map) return;
    const r = mapCanvas.getBoundingClientRect();
    const x = (e.clientX - r.left) * mapCanvas.width / r.width, y = (e.clientY - r.top) * mapCanvas.height / r.height;
    let best = 0, bestD = Infinity;
    map.px.forEach(([px, py], i) => { const d = (px - x) ** 2 + (py - y) ** 2; if (d < bestD) { bestD = d; best = i; } });
    query(map.rows[best]);
  });

  async function poll(stop) {
    while (!stop.done) {
      try {
        const p = await api("/api/search/progress");
        if (p.state === "building") {
          progress.max = p.total || 1; progress.value = p.done;
          progressText.textContent = `${p.message} ${p.done} of ${p.total}`;
        }
      } catch (err) { /* the build call reports errors */ }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  build.addEventListener("click", async () => {
    build.disabled = true;
    studio.status("Building the index…", "busy");
    const stop = { done: false };
    poll(stop);
    const t0 = performance.now();
    try {
      info = await api("/api/search/build", { method: "POST", json: {
        source: source.value, folder: folder.value.trim(), model: model.value, layer: layer.value || null, metric: metric.value } });
      stop.done = true;
      progress.max = 1; progress.value = 1;
      const secs = (performance.now() - t0) / 1000;
      progressText.textContent = `${info.images} images ready in ${secs.toFixed(1)} s.`;
      progressText.dataset.images = info.images;
      showGrid();
      results.replaceChildren(); scoreText.textContent = "";
      studio.status("Click any image to find the ones most like it.");
      drawMap().catch((err) => studio.status(err.message, "error"));
    } catch (err) {
      studio.status(err.message, "error");
    } finally { stop.done = true; build.disabled = false; }
  });

  if (opts.index) { info = opts.index; showGrid(); drawMap(); }
  studio.status("Choose the images, a model, a layer and a distance, then build the index.");
  return () => {};
}
