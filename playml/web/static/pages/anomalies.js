// Anomalies: an autoencoder learns what a normal heartbeat looks like; beats it cannot rebuild
// well are flagged (after Anomagram). Training runs in Python on the studio server; the threshold
// slider is judged in the page, so counts, precision, recall and the ROC point move at once.
import { el } from "../api.js";
import { lineChart } from "../chart.js";
import { useStyles } from "../explore-common.js";

const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}) => { const n = document.createElementNS(SVG, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };

export async function mount(root, studio) {
  useStyles();
  const { api } = studio;
  let result = null, order = null, stop = false;

  const field = (id, label, input) => [el("label", { for: id, text: label }), input];
  const dataset = el("select", { id: "an-dataset" }, el("option", { value: "ecg5000", text: "ECG5000 (5,000 heartbeats)" }),
    el("option", { value: "ecg200", text: "ECG200 (200 heartbeats)" }), el("option", { value: "csv", text: "A CSV file of your own" }));
  const csvFile = el("input", { type: "file", id: "an-csv", accept: ".csv,.tsv,text/csv", "aria-label": "Choose a CSV file" });
  const csvText = el("p", { id: "an-csv-text", class: "muted", "aria-live": "polite", text: "One row per example, numbers in columns, one header row." });
  const labelColumn = el("select", { id: "an-label-column" });
  const normalLabel = el("select", { id: "an-normal" });
  let csv = null;
  const csvBox = el("div", { id: "an-csv-box", class: "an-csv", hidden: true }, csvFile, csvText,
    el("label", { for: "an-label-column", text: "Label column" }), labelColumn,
    el("label", { for: "an-normal", text: "Normal label" }), normalLabel);
  function fillNormal() {
    const values = csv && labelColumn.value ? csv.labels[labelColumn.value] : [];
    normalLabel.replaceChildren(...values.map((v) => el("option", { value: v, text: v })));
    normalLabel.disabled = !values.length;
  }
  labelColumn.addEventListener("change", fillNormal);
  dataset.addEventListener("change", () => { csvBox.hidden = dataset.value !== "csv"; });
  csvFile.addEventListener("change", async () => {
    if (!csvFile.files.length) return;
    const form = new FormData();
    form.append("file", csvFile.files[0], csvFile.files[0].name);
    try {
      csv = await api("/api/anomalies/csv", { method: "POST", form });
      labelColumn.replaceChildren(el("option", { value: "", text: "none (all rows are normal)" }),
        ...Object.keys(csv.labels).map((c) => el("option", { value: c, text: c, selected: c === csv.label_column })));
      fillNormal();
      csvText.textContent = `${csv.name}: ${csv.rows} rows, ${csv.columns.length} columns. Every fifth row is kept for testing.`;
      csvText.dataset.rows = csv.rows;
      studio.status("Choose the label column (if any) and which label is normal, then train.");
    } catch (err) { studio.status(err.message, "error"); }
  });
  const hidden = el("input", { type: "text", id: "an-hidden", value: "15,7" });
  const latent = el("input", { type: "number", id: "an-latent", value: 2, min: 1, max: 16 });
  const optimizer = el("select", { id: "an-optimizer" }, ...["adam", "sgd", "rmsprop", "adagrad"].map((o) => el("option", { value: o, text: o })));
  const lr = el("input", { type: "number", id: "an-lr", value: 0.01, step: 0.001, min: 0.0001 });
  const epochs = el("input", { type: "number", id: "an-epochs", value: 30, min: 1, max: 500 });
  const train = el("button", { type: "button", id: "an-train", text: "Train" });
  const lossBox = el("div", { id: "an-loss" });
  const saveName = el("input", { type: "text", id: "an-save-name", value: "ecg-detector", "aria-label": "Name of the saved detector" });
  const save = el("button", { type: "button", class: "plain", id: "an-save", text: "Save", disabled: true });

  const slider = el("input", { type: "range", id: "an-threshold", min: 0, max: 1000, step: 1, value: 500, disabled: true,
    "aria-label": "Threshold on the reconstruction error" });
  const thresholdOut = el("output", { id: "an-threshold-value", for: "an-threshold" });
  const counts = el("table", { class: "matrix", id: "an-counts" });
  const metrics = el("p", { id: "an-metrics", "aria-live": "polite" });
  const roc = el("div", { id: "an-roc" });
  const scatter = el("canvas", { id: "an-latent-map", width: 440, height: 300, role: "img", tabindex: "0",
    "aria-label": "The 2-number bottleneck of each test beat, coloured by its label; click one to see it" });
  const beat = el("div", { id: "an-beat" });

  root.append(el("div", { class: "an" }, el("div", { class: "an-cols" },
    el("section", { class: "card sr-select", "aria-labelledby": "an-setup" },
      el("h2", { id: "an-setup", text: "Data and network" }),
      ...field("an-dataset", "Data", dataset), csvBox,
      el("div", { class: "an-fields" }, ...field("an-hidden", "Hidden layers", hidden),
        ...field("an-latent", "Bottleneck size", latent), ...field("an-optimizer", "Optimizer", optimizer),
        ...field("an-lr", "Learning rate", lr), ...field("an-epochs", "Epochs", epochs)),
      el("div", { class: "row" }, train), lossBox, el("div", { class: "row" }, saveName, save),
      el("details", { class: "what" }, el("summary", { text: "What am I looking at?" }),
        el("p", { text: "An autoencoder squeezes each example (a heartbeat of 140 numbers, or a row of your CSV) " +
          "through a tiny bottleneck and tries to rebuild it. It only sees normal examples while learning, so it " +
          "rebuilds those well and unusual ones badly. The rebuilding error is the anomaly score: examples above the " +
          "threshold are flagged. Move the slider to trade missed anomalies against false alarms; precision is how " +
          "many flagged examples really are anomalies, recall how many anomalies get flagged. Click a point to see " +
          "that example and its rebuild. A CSV keeps every fifth row for testing; without a label column there " +
          "is nothing to check the flags against, so only their number is shown." }))),
    el("section", { class: "card", "aria-labelledby": "an-judge" },
      el("h2", { id: "an-judge", text: "Threshold" }),
      el("div", { class: "row" }, slider, thresholdOut), metrics, counts, el("h3", { text: "ROC curve" }), roc),
    el("section", { class: "card", "aria-labelledby": "an-look" },
      el("h2", { id: "an-look", text: "Test examples" }), scatter, beat))));

  function thresholdAt(v) {           // slider 0…1000 → a score between the smallest and largest, log scale
    const lo = Math.log(order[0] + 1e-9), hi = Math.log(order[order.length - 1] + 1e-9);
    return Math.exp(lo + (hi - lo) * v / 1000);
  }
  function sliderFor(t) {
    const lo = Math.log(order[0] + 1e-9), hi = Math.log(order[order.length - 1] + 1e-9);
    return Math.round((Math.log(t + 1e-9) - lo) / (hi - lo) * 1000);
  }

  function judge() {
    const t0 = performance.now();
    const t = thresholdAt(Number(slider.value));
    let tp = 0, fp = 0, tn = 0, fn = 0;
    const s = result.scores, a = result.anomaly;
    if (!a) {                         // no labels: only how many are flagged
      const flagged = s.filter((v) => v >= t).length;
      thresholdOut.textContent = t.toPrecision(4);
      counts.replaceChildren(el("tr", {}, el("th", { scope: "row", text: "flagged" }), el("td", { id: "an-flagged", text: flagged })),
        el("tr", {}, el("th", { scope: "row", text: "not flagged" }), el("td", { text: s.length - flagged })));
      metrics.textContent = `${flagged} of ${s.length} test rows flagged. Without labels there is no precision or recall.`;
      Object.assign(metrics.dataset, { threshold: t, flagged });
      metrics.dataset.ms = (performance.now() - t0).toFixed(3);
      return;
    }
    for (let i = 0; i < s.length; i++) {
      const flagged = s[i] >= t;
      if (flagged && a[i]) tp++; else if (flagged) fp++; else if (a[i]) fn++; else tn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0, recall = tp + fn ? tp / (tp + fn) : 0, fpr = fp + tn ? fp / (fp + tn) : 0;
    thresholdOut.textContent = t.toPrecision(4);
    counts.replaceChildren(
      el("tr", {}, el("th", {}), el("th", { scope: "col", text: "flagged" }), el("th", { scope: "col", text: "not flagged" })),
      el("tr", {}, el("th", { scope: "row", text: "anomaly" }), el("td", { class: "hit", id: "an-tp", text: tp }), el("td", { id: "an-fn", text: fn })),
      el("tr", {}, el("th", { scope: "row", text: "normal" }), el("td", { id: "an-fp", text: fp }), el("td", { class: "hit", id: "an-tn", text: tn })));
    metrics.textContent = `Precision ${precision.toFixed(3)} · recall ${recall.toFixed(3)} · false alarms ${(fpr * 100).toFixed(1)} %`;
    Object.assign(metrics.dataset, { threshold: t, precision, recall, fpr, tp, fp, tn, fn });
    const dot = roc.querySelector("circle");
    if (dot) { dot.setAttribute("cx", 30 + fpr * 200); dot.setAttribute("cy", 210 - recall * 200); }
    metrics.dataset.ms = (performance.now() - t0).toFixed(3);
  }

  function drawRoc() {
    if (!result.anomaly) { roc.replaceChildren(el("p", { class: "muted", text: "No labels, so no ROC curve." })); return; }
    const s = result.scores.map((v, i) => [v, result.anomaly[i]]).sort((x, y) => y[0] - x[0]);
    const P = result.anomaly.filter(Boolean).length, N = s.length - P;
    let tp = 0, fp = 0, pts = ["30,210"];
    for (const [, a] of s) { if (a) tp++; else fp++; pts.push(`${(30 + fp / N * 200).toFixed(1)},${(210 - tp / P * 200).toFixed(1)}`); }
    const chart = svg("svg", { viewBox: "0 0 240 235", class: "chart an-roc", role: "img", "aria-label": "ROC curve with the threshold's point" });
    chart.append(svg("rect", { x: 30, y: 10, width: 200, height: 200, fill: "none", stroke: "#d8dce3" }),
      svg("line", { x1: 30, y1: 210, x2: 230, y2: 10, stroke: "#d8dce3", "stroke-dasharray": "4 3" }),
      svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#2457c5", "stroke-width": 2 }),
      svg("circle", { r: 5, fill: "#b3261e", cx: 30, cy: 210 }));
    const label = (x, y, text, anchor = "middle") => { const t = svg("text", { x, y, "text-anchor": anchor }); t.textContent = text; return t; };
    chart.append(label(130, 230, "false alarm rate"), label(4, 110, "recall", "start"));
    roc.replaceChildren(chart);
  }

  function drawScatter() {
    const ctx = scatter.getContext("2d"), W = scatter.width, H = scatter.height, pad = 12;
    const xs = result.latent.map((p) => p[0]), ys = result.latent.map((p) => p[1] ?? 0);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    result.px = result.latent.map(([x, y = 0]) => [pad + (x - x0) / (x1 - x0 || 1) * (W - 2 * pad), pad + (y1 - y) / (y1 - y0 || 1) * (H - 2 * pad)]);
    const names = [...new Set(result.labels)].sort();
    const colours = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    result.px.forEach(([x, y], i) => {
      ctx.fillStyle = colours[names.indexOf(result.labels[i]) % colours.length];
      ctx.globalAlpha = 0.55; ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
    });
    ctx.globalAlpha = 1;
    names.forEach((n, k) => { ctx.fillStyle = colours[k % colours.length]; ctx.fillRect(W - 110, 8 + k * 14, 10, 10);
      ctx.fillStyle = "#1d2330"; ctx.font = "11px sans-serif"; ctx.fillText(n, W - 96, 17 + k * 14); });
  }

  async function showBeat(row) {
    try {
      const b = await api(`/api/anomalies/example/${row}`);
      const series = [{ name: "beat", color: "#1d2330", values: b.values }, { name: "rebuilt", color: "#d62728", values: b.reconstruction, dashed: true }];
      const lo = Math.min(...b.values, ...b.reconstruction);
      const shifted = series.map((s) => ({ ...s, values: s.values.map((v) => v - lo) }));   // the chart starts at 0
      beat.replaceChildren(el("p", { class: "muted", id: "an-beat-title",
        text: `${result.dataset === "csv" ? "Row" : "Beat"} ${row + 1} (${result.labels[row]}): error ${b.score.toPrecision(3)} — ${b.score >= thresholdAt(Number(slider.value)) ? "flagged" : "not flagged"}. Black: the beat; red: the rebuild.` }),
        lineChart(shifted, { width: 440, height: 130, title: "The example and its reconstruction", xLabel: `${b.values.length} values` }));
      beat.dataset.row = row;
    } catch (err) { studio.status(err.message, "error"); }
  }

  scatter.addEventListener("click", (e) => {
    if (!result) return;
    const r = scatter.getBoundingClientRect();
    const x = (e.clientX - r.left) * scatter.width / r.width, y = (e.clientY - r.top) * scatter.height / r.height;
    let best = 0, bestD = Infinity;
    result.px.forEach(([px, py], i) => { const d = (px - x) ** 2 + (py - y) ** 2; if (d < bestD) { bestD = d; best = i; } });
    showBeat(best);
  });
  slider.addEventListener("input", judge);

  train.addEventListener("click", async () => {
    train.disabled = true; save.disabled = true;
    studio.status("Training the autoencoder on normal beats…", "busy");
    try {
      await api("/api/anomalies/train", { method: "POST", json: { dataset: dataset.value, hidden: hidden.value,
        label_column: labelColumn.value || null, normal_label: normalLabel.value || null,
        latent: Number(latent.value), optimizer: optimizer.value, learning_rate: Number(lr.value), epochs: Number(epochs.value) } });
      let st;
      while (!stop) {
        st = await api("/api/anomalies");
        lossBox.replaceChildren(lineChart([{ name: "loss", color: "#2457c5", values: st.losses }], { width: 240, height: 110, title: "Training loss per epoch" }));
        if (st.status !== "training") break;
        await new Promise((r) => setTimeout(r, 300));
      }
      if (st.status === "error") throw new Error(st.error);
      result = await api("/api/anomalies/result");
      order = [...result.scores].sort((a, b) => a - b);
      slider.disabled = false; save.disabled = false;
      slider.value = sliderFor(result.threshold);
      drawRoc(); drawScatter(); judge(); showBeat(0);
      lossBox.dataset.epochs = st.losses.length;
      studio.status(`Trained. ${result.scores.length} test ${result.dataset === "csv" ? "rows" : "beats"} scored; the threshold starts at the 95th percentile of the training errors.`);
    } catch (err) { studio.status(err.message, "error"); }
    finally { train.disabled = false; }
  });
  save.addEventListener("click", async () => {
    try {
      const out = await api("/api/anomalies/save", { method: "POST", json: { name: saveName.value.trim() } });
      studio.status(`Saved to ${out.path}; open it in Python with ml.load(…).`);
    } catch (err) { studio.status(err.message, "error"); }
  });

  studio.status("Choose the data and the network, then train.");
  return () => { stop = true; };
}
