// Small SVG charts: no library, nothing fetched.
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// series: [{ name, color, values: [numbers or null], dashed }]; all share one x axis (epochs).
// xLabel: the text at the end of the x axis (default: "epoch N", N the number of values).
export function lineChart(series, { width = 360, height = 180, yMax = null, title = "", xLabel = null } = {}) {
  const pad = { left: 34, right: 8, top: 8, bottom: 22 };
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && Number.isFinite(v));
  const top = yMax !== null ? yMax : Math.max(1e-6, ...all) * 1.05;
  const x = (i) => pad.left + (i / (n - 1)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - Math.min(v, top) / top) * (height - pad.top - pad.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  for (const frac of [0, 0.5, 1]) {
    const v = top * frac;
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: "#e3e7ee" }));
    const label = svg("text", { x: pad.left - 4, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = v >= 10 ? v.toFixed(0) : v.toFixed(2);
    chart.append(label);
  }
  const xl = svg("text", { x: width - pad.right, y: height - 6, "text-anchor": "end" });
  xl.textContent = xLabel ?? `epoch ${Math.max(0, ...series.map((s) => s.values.length))}`;
  chart.append(xl);
  for (const s of series) {
    const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter(Boolean);
    if (!pts.length) continue;
    chart.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 2,
      "stroke-dasharray": s.dashed ? "5 3" : "none" }));
  }
  return chart;
}

export function legend(series) {
  const box = document.createElement("div");
  box.className = "legend";
  for (const s of series) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = s.color;
    item.append(swatch, s.name);
    box.append(item);
  }
  return box;
}

// The confusion matrix as a table: rows are the true class, columns the predicted one.
export function confusionTable(labels, matrix) {
  const table = document.createElement("table");
  table.className = "matrix";
  const caption = table.createCaption();
  caption.className = "muted";
  caption.textContent = "rows: true class · columns: predicted";
  const head = table.createTHead().insertRow();
  head.append(document.createElement("th"));
  for (const label of labels) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    head.append(th);
  }
  const body = table.createTBody();
  matrix.forEach((row, i) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = labels[i];
    tr.append(th);
    row.forEach((count, j) => {
      const td = tr.insertCell();
      td.textContent = count;
      if (i === j) td.className = "hit";
    });
  });
  return table;
}
