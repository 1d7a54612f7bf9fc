// Search: find the images that look most alike to a network (after ConvNet Playground).
// The server embeds every image with the chosen model and layer (cached) and makes one sheet of
// thumbnails (a sprite); the page shows the collection from that sheet, and clicking an image asks
// for its 15 nearest (a few kilobytes of JSON), drawn from the same sheet with their distances.
// A second layer can be compared side by side; the map is a PCA or a UMAP of the features.
import { el } from "../api.js";
import { useStyles } from "../explore-common.js";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const BATCH_BYTES = 20 * 1024 * 1024;   // under the studio's 25 MB per request

export async function mount(root, studio) {
  useStyles();
  const { api } = studio;
  const opts = await api("/api/search");
  let info = null, map = null, sprite = null, uploaded = 0, alive = true;

  const source = el("select", { id: "sr-source" }, ...Object.entries(opts.sources).map(([k, v]) => el("option", { value: k, text: v })));
  const folder = el("input", { type: "text", id: "sr-folder", placeholder: "/path/to/a/folder/of/images", hidden: true, "aria-label": "Folder of images" });
  const files = el("input", { type: "file", id: "sr-files", accept: "image/*", multiple: true, "aria-label": "Choose images to upload" });
  const uploadText = el("p", { id: "sr-upload-text", class: "muted", "aria-live": "polite", text: "Choose images, or drop them here." });
  const drop = el("div", { class: "sr-drop", id: "sr-drop", hidden: true }, files, uploadText);
  const model = el("select", { id: "sr-model" }, ...Object.keys(opts.models).map((m) => el("option", { value: m, text: m })));
  const layer = el("select", { id: "sr-layer" });
  const compare = el("select", { id: "sr-compare" });
  const metric = el("select", { id: "sr-metric" }, ...opts.metrics.map((m) => el("option", { value: m, text: m })));
  const build = el("button", { type: "button", id: "sr-build", text: "Build the index" });
  const progress = el("progress", { id: "sr-progress", max: 1, value: 0, "aria-label": "Building the index" });
  const progressText = el("p", { id: "sr-progress-text", class: "muted", "aria-live": "polite" });
  function fillLayers() {
    const layers = opts.models[model.value];
    const choices = () => layers.map((l) => el("option", { value: l.name, text: `${l.name} · ${l.size} values` }));
    layer.replaceChildren(el("option", { value: "", text: "features (what the classifier sees)" }), ...choices());
    compare.replaceChildren(el("option", { value: "", text: "no second layer" }),
      el("option", { value: "features", text: "features (what the classifier sees)" }), ...choices());
  }
  fillLayers();
  model.addEventListener("change", fillLayers);
  source.addEventListener("change", () => { folder.hidden = source.value !== "folder"; drop.hidden = source.value !== "uploads"; });

  const grid = el("div", { class: "sr-grid", id: "sr-grid", role: "list", "aria-label": "The images; choose one to search with it" });
  const count = el("h2", { id: "sr-count", text: "Images" });
  const results = el("div", { class: "sr-results", id: "sr-results", "aria-live": "polite" });
  const scoreText = el("p", { id: "sr-score", class: "muted" });
  const mapMethod = el("select", { id: "sr-map-method", "aria-label": "How the map is made" },
    el("option", { value: "pca", text: "PCA" }), el("option", { value: "umap", text: "UMAP (slower)" }));
  const mapText = el("p", { id: "sr-map-text", class: "muted", "aria-live": "polite" });
  const mapCanvas = el("canvas", { id: "sr-map", width: 680, height: 420, role: "img", tabindex: "0",
    "aria-label": "A map of the images' features: close points look alike to the network. Click a point to search from it." });

  root.append(el("div", { class: "sr" }, el("div", { class: "sr-cols" },
    el("section", { class: "card sr-select", "aria-labelledby": "sr-choose" },
      el("h2", { id: "sr-choose", text: "Choose" }),
      el("label", { for: "sr-source", text: "Images" }), source, folder, drop,
      el("label", { for: "sr-model", text: "Model" }), model,
      el("label", { for: "sr-layer", text: "Layer" }), layer,
      el("label", { for: "sr-compare", text: "Compare with a second layer" }), compare,
      el("label", { for: "sr-metric", text: "Distance" }), metric,
      el("div", { class: "row" }, build), progress, progressText,
      el("details", { class: "what" }, el("summary", { text: "What am I looking at?" }),
        el("p", { text: "A trained network turns every picture into a list of numbers (its features) at the layer you " +
          "choose. Pictures whose numbers are close look alike to the network. Early layers notice colours and " +
          "textures; late layers notice objects. Click any picture to see the 15 closest, with their distance " +
          "(smaller is closer). The score (0–1) says how many of them share the picture's label, counting the " +
          "first places most. Choose a second layer to see both layers' answers side by side. The map squeezes " +
          "the features into two dimensions (PCA, or UMAP, which keeps close neighbours close): neighbours on it " +
          "look alike; click a point to search from it." }))),
    el("section", { class: "card", "aria-labelledby": "sr-count" }, count, grid),
    el("section", { class: "card", "aria-labelledby": "sr-results-title" },
      el("h2", { id: "sr-results-title", text: "The 15 nearest" }), scoreText, results,
      el("div", { class: "row sr-map-head" }, el("h3", { text: "Map of the features" }), mapMethod), mapText, mapCanvas))));

  const thumbUrl = (row) => `/api/search/thumb/${row}.jpg?v=${info.version}`;

  // one picture of an image: a square cut from the sprite, or its own thumbnail when there is no sprite
  function picture(row, alt) {
    if (!sprite) return el("img", { src: thumbUrl(row), alt, loading: "lazy", width: 64, height: 64 });
    const { columns, rows } = sprite, c = row % columns, r = Math.floor(row / columns);
    const node = el("div", { class: "sr-pic", role: alt ? "img" : null, "aria-label": alt || null });
    // set through the CSSOM: the studio's content security policy refuses style attributes
    Object.assign(node.style, {
      backgroundImage: `url("${sprite.url}")`,
      backgroundSize: `${columns * 100}% ${rows * 100}%`,
      backgroundPosition: `${columns > 1 ? c / (columns - 1) * 100 : 0}% ${rows > 1 ? r / (rows - 1) * 100 : 0}%`,
    });
    return node;
  }

  async function loadSprite() {
    sprite = null;
    if (!info.sprite) return;
    const img = new Image();
    img.src = info.sprite.url;
    await img.decode();          // decoded once; the grid, the results and the map all draw from it
    sprite = { ...info.sprite, rows: Math.ceil(info.images / info.sprite.columns), img };
  }

  function showGrid() {
    count.textContent = `${info.images} images · ${info.model} · ${info.layer}` +
      `${info.compare ? ` and ${info.compare}` : ""} · ${info.metric}`;
    grid.replaceChildren(...Array.from({ length: info.images }, (_, row) =>
      el("button", { type: "button", role: "listitem", "data-row": row, "aria-pressed": "false",
        "aria-label": `Image ${row + 1}${info.labels[row] ? ` (${info.labels[row]})` : ""}: search with it` },
        picture(row, ""))));
  }

  async function drawMap() {
    const method = mapMethod.value;
    mapText.textContent = method === "umap"
      ? "Making the UMAP map… the first one can take a minute (its code is compiled on first use)."
      : "Making the PCA map…";
    mapCanvas.dataset.method = "";
    const t0 = performance.now();
    const m = await api(`/api/search/map?method=${method}`);
    if (method !== mapMethod.value) return;      // changed again meanwhile
    map = m;
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
      const row = map.rows[i], [x, y] = map.px[i], s = 30;
      const frame = () => {
        ctx.strokeStyle = PALETTE[names.indexOf(map.labels[i]) % PALETTE.length];
        ctx.lineWidth = 2; ctx.strokeRect(x - s / 2, y - s / 2, s, s);
      };
      if (sprite) {
        const t = sprite.tile;
        ctx.drawImage(sprite.img, (row % sprite.columns) * t, Math.floor(row / sprite.columns) * t, t, t, x - s / 2, y - s / 2, s, s);
        frame();
        continue;
      }
      const img = new Image();
      img.src = thumbUrl(row);
      jobs.push(img.decode().then(() => { ctx.drawImage(img, x - s / 2, y - s / 2, s, s); frame(); }).catch(() => {}));
    }
    await Promise.all(jobs);
    map.base = ctx.getImageData(0, 0, W, H);
    map.focus = -1;
    mapText.textContent = `${method.toUpperCase()} of ${map.rows.length} images (${((performance.now() - t0) / 1000).toFixed(1)} s). ` +
      "Click a point (or pick one with the arrow keys and Enter) to search from it.";
    mapCanvas.dataset.points = map.rows.length;
    mapCanvas.dataset.method = method;
  }

  function column(answer, row, title) {
    const figures = answer.matches.map((m, i) => el("figure", {
      title: `${m.label || ""} · distance ${m.distance.toFixed(4)} · ${m.path}`, "data-row": m.row, "data-path": m.path,
      "data-distance": m.distance, tabindex: "0" },
      picture(m.row, m.label ? `${m.label}` : `image ${m.row + 1}`),
      el("figcaption", { text: `${i + 1}. ${m.distance.toFixed(3)}${m.label ? " " + m.label : ""}` })));
    const list = el("div", { class: "sr-list", "data-layer": answer.layer, "data-row": row,
      "data-score": answer.score === null ? "" : answer.score }, ...figures);
    if (!title) return list;
    const score = answer.score === null ? "no label, no score" : `score ${answer.score.toFixed(3)}`;
    return el("div", { class: "sr-column" }, el("h3", { text: `${answer.layer} · ${score}` }), list);
  }

  async function query(row) {
    const t0 = performance.now();
    for (const b of grid.querySelectorAll("button[aria-pressed=true]")) b.setAttribute("aria-pressed", "false");
    const button = grid.querySelector(`button[data-row="${row}"]`);
    if (button) button.setAttribute("aria-pressed", "true");
    try {
      const r = await api(`/api/search/query/${row}`);
      const imgs = [];
      if (r.compare) {
        results.classList.add("sr-two");
        results.replaceChildren(column(r, row, true), column(r.compare, row, true));
      } else {
        results.classList.remove("sr-two");
        results.replaceChildren(...column(r, row, false).children);
      }
      results.dataset.listedMs = (performance.now() - t0).toFixed(2);
      for (const img of results.querySelectorAll("img")) imgs.push(img.decode().catch(() => {}));
      await Promise.all(imgs);
      await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));   // painted
      const ms = performance.now() - t0;
      const score = (s) => (s === null ? "No label, so no score. " : `Search score ${s.toFixed(3)}. `);
      scoreText.textContent = (r.compare ? "" : score(r.score)) + `${r.ms.toFixed(1)} ms to search, ${ms.toFixed(0)} ms to draw.`;
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
  results.addEventListener("keydown", (e) => {
    const f = e.target.closest("figure[data-row]");
    if (f && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); query(Number(f.dataset.row)); }
  });
  function mapSearch(x, y) {
    if (!map) return;
    let best = 0, bestD = Infinity;
    map.px.forEach(([px, py], i) => { const d = (px - x) ** 2 + (py - y) ** 2; if (d < bestD) { bestD = d; best = i; } });
    query(map.rows[best]);
  }
  mapCanvas.addEventListener("click", (e) => {
    const r = mapCanvas.getBoundingClientRect();
    mapSearch((e.clientX - r.left) * mapCanvas.width / r.width, (e.clientY - r.top) * mapCanvas.height / r.height);
  });
  // keyboard: the arrows step through the points (nearest first in that direction), Enter searches
  function markPoint(i) {
    const ctx = mapCanvas.getContext("2d"), [x, y] = map.px[i];
    ctx.putImageData(map.base, 0, 0);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 5;
    ctx.beginPath(); ctx.arc(x, y, 22, 0, 2 * Math.PI); ctx.stroke();
    map.focus = i;
    mapCanvas.dataset.focus = map.rows[i];
    studio.status(`Point of image ${map.rows[i] + 1}${map.labels[i] ? ` (${map.labels[i]})` : ""}: Enter searches from it.`);
  }
  mapCanvas.addEventListener("keydown", (e) => {
    if (!map || !map.px) return;
    const dirs = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (map.focus < 0) markPoint(0);
      query(map.rows[map.focus]);
    } else if (dirs[e.key]) {
      e.preventDefault();
      if (map.focus < 0) { markPoint(0); return; }
      const [dx, dy] = dirs[e.key], [x0, y0] = map.px[map.focus];
      let best = -1, bestD = Infinity;
      map.px.forEach(([x, y], i) => {
        const along = (x - x0) * dx + (y - y0) * dy;
        if (i === map.focus || along <= 0) return;
        const d = along + 2 * Math.abs((x - x0) * dy - (y - y0) * dx);   // ahead, and not far to the side
        if (d < bestD) { bestD = d; best = i; }
      });
      if (best >= 0) markPoint(best);
    }
  });
  mapMethod.addEventListener("change", () => { if (info) drawMap().catch((err) => { mapText.textContent = ""; studio.status(err.message, "error"); }); });

  async function upload(list) {
    const images = [...list].filter((f) => f.type.startsWith("image/") || /\.(jpe?g|png|gif|bmp|webp|tiff?)$/i.test(f.name));
    if (!images.length) { studio.status("Those are not images. Choose JPEG or PNG pictures.", "error"); return; }
    studio.status(`Uploading ${images.length} images…`, "busy");
    try {
      let batch = [], bytes = 0, first = true, out = null;
      const send = async () => {
        const form = new FormData();
        for (const f of batch) form.append("files", f, f.name);
        out = await api(`/api/search/upload?first=${first}`, { method: "POST", form });
        first = false; batch = []; bytes = 0;
        uploadText.textContent = `${out.images} images uploaded…`;
      };
      for (const f of images) {
        if (batch.length && bytes + f.size > BATCH_BYTES) await send();
        batch.push(f); bytes += f.size;
      }
      await send();
      uploaded = out.images;
      source.value = "uploads"; source.dispatchEvent(new Event("change"));
      uploadText.textContent = `${uploaded} images uploaded. Build the index to search them.`;
      uploadText.dataset.images = uploaded;
      studio.status(`${uploaded} images uploaded; now build the index.`);
    } catch (err) { studio.status(err.message, "error"); }
  }
  files.addEventListener("change", () => { if (files.files.length) upload(files.files); });
  for (const target of [drop, grid]) {
    target.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    target.addEventListener("dragleave", () => drop.classList.remove("over"));
    target.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); });
  }

  async function poll(stop) {
    while (!stop.done && alive) {
      try {
        const p = await api("/api/search/progress");
        if (p.state === "building" || p.state === "ready") {
          progress.max = p.total || 1; progress.value = p.done;
          progressText.textContent = `${p.message} ${p.state === "building" ? `${p.done} of ${p.total}` : ""}`;
        }
      } catch (err) { /* the build call reports errors */ }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function show() {
    await loadSprite();
    showGrid();
    results.replaceChildren(); scoreText.textContent = "";
    drawMap().catch((err) => { mapText.textContent = ""; studio.status(err.message, "error"); });
  }

  build.addEventListener("click", async () => {
    if (source.value === "uploads" && !uploaded) { studio.status("Choose or drop some images first.", "error"); files.focus(); return; }
    build.disabled = true;
    studio.status("Building the index…", "busy");
    const stop = { done: false };
    poll(stop);
    const t0 = performance.now();
    try {
      info = await api("/api/search/build", { method: "POST", json: {
        source: source.value, folder: folder.value.trim(), model: model.value, layer: layer.value || null,
        compare: compare.value || null, metric: metric.value } });
      stop.done = true;
      progress.max = 1; progress.value = 1;
      await show();
      const secs = (performance.now() - t0) / 1000;
      progressText.textContent = `${info.images} images ready in ${secs.toFixed(1)} s.`;
      progressText.dataset.images = info.images;
      studio.status("Click any image to find the ones most like it.");
    } catch (err) {
      studio.status(err.message, "error");
    } finally { stop.done = true; build.disabled = false; }
  });

  if (opts.index) { info = opts.index; show().catch((err) => studio.status(err.message, "error")); }
  studio.status("Choose the images, a model, a layer and a distance, then build the index.");
  return () => { alive = false; };
}
