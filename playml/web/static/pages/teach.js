// Teach: classes as cards, examples from the webcam or files, train, preview live, save/open.
import { el } from "../api.js";
import { openCamera, closeCamera, grabJpeg, LiveSocket } from "../camera.js";
import { lineChart, legend, confusionTable } from "../chart.js";

const COLORS = { loss: "#b3261e", val_loss: "#b3261e", accuracy: "#2457c5", val_accuracy: "#2457c5" };

export async function mount(root, studio) {
  const { api } = studio;
  let state = null;
  let camera = null;          // MediaStream when the webcam is on
  let live = null;            // LiveSocket of the preview
  let history = [];           // per-epoch logs of the current training
  let events = null;          // EventSource of the current training
  const cards = new Map();    // class id -> { node, parts }
  let uploads = Promise.resolve();

  // ---------------------------------------------------------------- layout
  const video = el("video", { class: "mirror", "aria-label": "Webcam picture", muted: true, playsinline: true });
  const camButton = el("button", { type: "button", class: "plain", id: "camera-toggle", text: "Turn the webcam on" });
  const classList = el("div", { id: "classes" });
  const addClassButton = el("button", { type: "button", id: "add-class", text: "+ Add a class" });
  const trainButton = el("button", { type: "button", id: "train", text: "Train model" });
  const epochs = el("input", { type: "number", id: "epochs", min: 1, max: 1000, value: 50 });
  const batch = el("input", { type: "number", id: "batch-size", min: 1, max: 1024, value: 16 });
  const rate = el("input", { type: "number", id: "learning-rate", min: 0.00001, max: 1, step: 0.0001, value: 0.001 });
  const trainInfo = el("p", { id: "train-info", class: "muted", "aria-live": "polite",
    text: "Add examples to at least two classes, then train." });
  const chartBox = el("div", { id: "chart" });
  const bars = el("ul", { class: "bars", id: "bars", "aria-live": "off" });
  const previewInfo = el("p", { id: "preview-info", class: "muted", text: "Train a model (or open one) to see it work." });
  const previewToggle = el("input", { type: "checkbox", id: "preview-on", checked: true });
  const hood = el("div", { id: "hood" }, el("p", { class: "muted", text: "Shown after training." }));
  const saveName = el("input", { type: "text", id: "save-name", placeholder: "my-model", maxlength: 64 });
  const saveButton = el("button", { type: "button", id: "save", text: "Save" });
  const exportButton = el("button", { type: "button", id: "export-web", text: "Export for the web",
    title: "an offline web page: webcam, live confidence bars, the model (TensorFlow.js, no CDN)" });
  const openSelect = el("select", { id: "open-name" });
  const openButton = el("button", { type: "button", class: "plain", id: "open", text: "Open" });
  const modelsInfo = el("p", { class: "muted", id: "models-info" });

  root.append(el("div", { class: "columns" },
    el("section", { class: "card", "aria-labelledby": "classes-title" },
      el("h2", { id: "classes-title", text: "1 · Classes and examples" }),
      el("p", { class: "muted", text: "Hold “Hold to record” to take webcam pictures, or upload / drop image files on a class." }),
      classList,
      el("div", { class: "row" }, addClassButton)),
    el("div", {},
      el("section", { class: "card", "aria-labelledby": "train-title" },
        el("h2", { id: "train-title", text: "2 · Train" }),
        el("div", { class: "row" }, trainButton),
        el("details", {},
          el("summary", { text: "Advanced" }),
          el("div", { class: "row" }, el("label", { for: "epochs", text: "Epochs" }), epochs),
          el("div", { class: "row" }, el("label", { for: "batch-size", text: "Batch size" }), batch),
          el("div", { class: "row" }, el("label", { for: "learning-rate", text: "Learning rate" }), rate)),
        trainInfo, chartBox),
      el("section", { class: "card", "aria-labelledby": "hood-title" },
        el("details", { id: "hood-details" }, el("summary", { id: "hood-title", text: "Under the hood" }), hood))),
    el("div", {},
      el("section", { class: "card", "aria-labelledby": "preview-title" },
        el("h2", { id: "preview-title", text: "3 · Preview" }),
        el("div", { class: "camera" }, video),
        el("div", { class: "row" }, camButton,
          el("label", {}, previewToggle, " Classify the webcam live")),
        bars, previewInfo),
      el("section", { class: "card", "aria-labelledby": "save-title" },
        el("h2", { id: "save-title", text: "4 · Save or open" }),
        el("div", { class: "row" }, el("label", { for: "save-name", text: "Name" }), saveName, saveButton, exportButton),
        el("div", { class: "row" }, el("label", { for: "open-name", text: "Saved models" }), openSelect, openButton),
        modelsInfo))));

  // ---------------------------------------------------------------- helpers
  const fail = (err) => studio.status(err.message || String(err), "error");
  async function refresh() {
    state = await api("/api/teach");
    render();
  }

  async function ensureCamera() {
    if (camera) return true;
    studio.status("Starting the webcam…", "busy");
    try {
      camera = await openCamera(video);
    } catch (err) {
      fail(err);
      return false;
    }
    camButton.textContent = "Turn the webcam off";
    studio.status("The webcam is on.");
    updatePreview();
    return true;
  }

  function stopCamera() {
    stopPreview();
    closeCamera(video);
    camera = null;
    camButton.textContent = "Turn the webcam on";
  }

  camButton.addEventListener("click", () => (camera ? stopCamera() : ensureCamera()));

  // ---------------------------------------------------------------- class cards
  function upload(classId, blobs, what) {
    uploads = uploads.then(async () => {
      if (!blobs.length) return;
      const form = new FormData();
      blobs.forEach((b, i) => form.append("files", b, b.name || `webcam-${i}.jpg`));
      try {
        studio.status(`Adding ${blobs.length} ${what}…`, "busy");
        await api(`/api/teach/classes/${classId}/samples`, { method: "POST", form });
        await refresh();
        studio.status(`Added ${blobs.length} ${what}.`);
      } catch (err) { fail(err); }
    });
    return uploads;
  }

  function recorder(classId, button) {
    let timer = null, pending = [], count = 0, active = false;
    const tick = async () => {
      const blob = await grabJpeg(video, { quality: 0.85 });
      if (blob && active) {
        pending.push(blob); count += 1;
        button.textContent = `Recording… ${count}`;
        if (pending.length >= 6) { upload(classId, pending, "webcam pictures"); pending = []; }
      }
    };
    const start = async (event) => {
      if (event) event.preventDefault();
      if (active) return;
      active = true;
      if (!(await ensureCamera())) { active = false; return; }
      if (!active) return;
      count = 0;
      button.classList.add("recording");
      button.setAttribute("aria-pressed", "true");
      studio.status("Recording from the webcam: keep holding the button…", "busy");
      tick();
      timer = setInterval(tick, 120);
    };
    const stop = () => {
      if (!active) return;
      active = false;
      clearInterval(timer);
      button.classList.remove("recording");
      button.setAttribute("aria-pressed", "false");
      button.textContent = "Hold to record";
      upload(classId, pending, "webcam pictures");
      pending = [];
    };
    button.addEventListener("pointerdown", start);
    button.addEventListener("pointerup", stop);
    button.addEventListener("pointerleave", stop);
    button.addEventListener("pointercancel", stop);
    button.addEventListener("keydown", (e) => { if ((e.key === " " || e.key === "Enter") && !e.repeat) start(e); });
    button.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") stop(); });
    button.addEventListener("blur", stop);
  }

  function makeCard(cls) {
    const nameInput = el("input", { type: "text", class: "name", value: cls.name, maxlength: 60,
      "aria-label": "Class name", id: `class-name-${cls.id}` });
    const count = el("span", { class: "muted count" });
    const record = el("button", { type: "button", class: "record", text: "Hold to record", "aria-pressed": "false",
      title: "Hold down (mouse, touch, Space or Enter) to take webcam pictures" });
    const files = el("input", { type: "file", accept: "image/*", multiple: true, class: "visually-hidden",
      id: `files-${cls.id}` });
    const fileLabel = el("label", { class: "file-label", for: `files-${cls.id}` }, "Upload images", files);
    const clear = el("button", { type: "button", class: "plain", text: "Clear" });
    const remove = el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete class ${cls.name}` });
    const thumbs = el("div", { class: "thumbs", role: "list", "aria-label": `Examples of ${cls.name}` });
    const node = el("article", { class: "card class-card drop", "data-class-id": cls.id },
      el("div", { class: "row" }, nameInput, count),
      el("div", { class: "row" }, record, fileLabel, clear, remove),
      thumbs);
    nameInput.addEventListener("change", async () => {
      try { await api(`/api/teach/classes/${cls.id}`, { method: "PATCH", json: { name: nameInput.value } }); await refresh(); }
      catch (err) { fail(err); await refresh(); }
    });
    nameInput.addEventListener("keydown", (e) => { if (e.key === "Enter") nameInput.blur(); });
    files.addEventListener("change", () => { upload(cls.id, [...files.files], "images"); files.value = ""; });
    clear.addEventListener("click", async () => {
      try { await api(`/api/teach/classes/${cls.id}/samples`, { method: "DELETE" }); await refresh(); } catch (err) { fail(err); }
    });
    remove.addEventListener("click", async () => {
      try { await api(`/api/teach/classes/${cls.id}`, { method: "DELETE" }); await refresh(); } catch (err) { fail(err); }
    });
    node.addEventListener("dragover", (e) => { e.preventDefault(); node.classList.add("over"); });
    node.addEventListener("dragleave", () => node.classList.remove("over"));
    node.addEventListener("drop", (e) => {
      e.preventDefault();
      node.classList.remove("over");
      const dropped = [...e.dataTransfer.files].filter((f) => f.type.startsWith("image/"));
      if (dropped.length) upload(cls.id, dropped, "images");
      else studio.status("Only image files can be dropped on a class.", "error");
    });
    recorder(cls.id, record);
    return { node, nameInput, count, thumbs, remove, shown: [] };
  }

  function renderClasses() {
    const seen = new Set();
    let previous = null;
    for (const cls of state.classes) {
      seen.add(cls.id);
      let card = cards.get(cls.id);
      if (!card) { card = makeCard(cls); cards.set(cls.id, card); }
      // move a card only when it is out of place: moving it would take the focus away
      const slot = previous ? previous.nextSibling : classList.firstChild;
      if (slot !== card.node) classList.insertBefore(card.node, slot);
      previous = card.node;
      if (document.activeElement !== card.nameInput) card.nameInput.value = cls.name;
      card.remove.setAttribute("aria-label", `Delete class ${cls.name}`);
      card.thumbs.setAttribute("aria-label", `Examples of ${cls.name}`);
      card.count.textContent = `${cls.samples.length} example${cls.samples.length === 1 ? "" : "s"}`;
      const ids = cls.samples;
      if (ids.join() !== card.shown.join()) {
        card.thumbs.replaceChildren(...ids.slice(-120).map((id) =>
          el("img", { src: `/api/teach/samples/${id}.jpg`, alt: `example ${id}`, loading: "lazy", role: "listitem" })));
        card.shown = ids.slice();
      }
    }
    for (const [id, card] of cards) if (!seen.has(id)) { card.node.remove(); cards.delete(id); }
  }

  addClassButton.addEventListener("click", async () => {
    try {
      const cls = await api("/api/teach/classes", { method: "POST", json: {} });
      await refresh();
      const card = cards.get(cls.id);
      if (card) { card.nameInput.focus(); card.nameInput.select(); }
    } catch (err) { fail(err); }
  });

  // ---------------------------------------------------------------- training
  function drawChart() {
    const pick = (key) => history.map((h) => (key in h ? h[key] : null));
    const lossSeries = [{ name: "loss", color: COLORS.loss, values: pick("loss") }];
    const accSeries = [{ name: "accuracy", color: COLORS.accuracy, values: pick("accuracy") }];
    if (history.some((h) => "val_loss" in h)) lossSeries.push({ name: "validation loss", color: COLORS.val_loss, values: pick("val_loss"), dashed: true });
    if (history.some((h) => "val_accuracy" in h)) accSeries.push({ name: "validation accuracy", color: COLORS.val_accuracy, values: pick("val_accuracy"), dashed: true });
    chartBox.replaceChildren(
      el("h3", { text: "Loss" }), lineChart(lossSeries, { title: "Loss per epoch" }), legend(lossSeries),
      el("h3", { text: "Accuracy" }), lineChart(accSeries, { yMax: 1, title: "Accuracy per epoch" }), legend(accSeries));
  }

  function follow() {
    if (events) events.close();
    events = new EventSource("/api/teach/events");
    events.onmessage = async (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "status") { trainInfo.textContent = event.message; studio.status(event.message, "busy"); }
      if (event.type === "start") { history = []; trainInfo.textContent = `Training on ${event.examples} examples…`; }
      if (event.type === "epoch") {
        history.push(event);
        const acc = event.accuracy !== undefined ? `, accuracy ${(100 * event.accuracy).toFixed(0)}%` : "";
        trainInfo.textContent = `Epoch ${event.epoch} of ${event.epochs}: loss ${event.loss.toFixed(3)}${acc}`;
        studio.status(`Training: epoch ${event.epoch} of ${event.epochs}…`, "busy");
        drawChart();
      }
      if (event.type === "done" || event.type === "error" || event.type === "idle") {
        events.close(); events = null;
        trainButton.disabled = false;
        await refresh();
        if (event.type === "done") {
          trainInfo.textContent = `Done in ${event.seconds} s.`;
          studio.status(state.message);
          document.getElementById("hood-details").open = true;
        } else if (event.type === "error") {
          trainInfo.textContent = event.message;
          fail(new Error(event.message));
        }
      }
    };
    events.onerror = () => { if (events) { events.close(); events = null; trainButton.disabled = false; refresh().catch(fail); } };
  }

  trainButton.addEventListener("click", async () => {
    await uploads;
    const json = { epochs: Number(epochs.value), batch_size: Number(batch.value), learning_rate: Number(rate.value) };
    try {
      trainButton.disabled = true;
      history = [];
      chartBox.replaceChildren();
      await api("/api/teach/train", { method: "POST", json });
      studio.status("Training started…", "busy");
      follow();
    } catch (err) { trainButton.disabled = false; fail(err); }
  });

  // ---------------------------------------------------------------- under the hood
  function renderHood() {
    const ev = state.evaluation;
    if (!ev) {
      hood.replaceChildren(el("p", { class: "muted", text: state.trained
        ? "An opened model keeps no examples to check it on. Train it again to see these figures."
        : "Shown after training." }));
      return;
    }
    const which = ev.part === "validation" ? "examples held back from training (validation)" : "the training examples (too few to hold some back)";
    const perClass = el("ul", { class: "bars" }, ...ev.labels.map((label) => {
      const v = ev.per_class[label];
      const span = el("span");
      span.style.width = `${v === null ? 0 : 100 * v}%`;
      return el("li", {}, el("span", { text: label }), el("div", { class: "bar" }, span),
        el("span", { class: "num", text: v === null ? "–" : `${Math.round(100 * v)}%` }));
    }));
    hood.replaceChildren(
      el("p", { id: "accuracy", text: `Accuracy ${(100 * ev.accuracy).toFixed(0)}% on ${ev.examples} ${which}.` }),
      el("h3", { text: "Accuracy per class" }), perClass,
      el("h3", { text: "Confusion matrix" }), confusionTable(ev.labels, ev.confusion));
  }

  // ---------------------------------------------------------------- preview
  function renderBars(predictions) {
    const byLabel = new Map(predictions.map((p) => [p.label, p.confidence]));
    const best = predictions.length ? predictions[0].label : null;
    const labels = state.labels.length ? state.labels : predictions.map((p) => p.label);
    bars.replaceChildren(...labels.map((label) => {
      const v = byLabel.get(label) || 0;
      const span = el("span");
      span.style.width = `${(100 * v).toFixed(1)}%`;
      return el("li", { class: label === best ? "top" : "", "data-label": label },
        el("span", { text: label }), el("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100,
          "aria-valuenow": Math.round(100 * v), "aria-label": `confidence for ${label}` }, span),
        el("span", { class: "num", text: `${Math.round(100 * v)}%` }));
    }));
  }

  function stopPreview() {
    if (live) live.stop();
    live = null;
  }

  function updatePreview() {
    const want = camera && state && state.trained && previewToggle.checked;
    if (!want) {
      stopPreview();
      if (state && !state.trained) previewInfo.textContent = "Train a model (or open one) to see it work.";
      else if (!camera) previewInfo.textContent = "Turn the webcam on to try the model.";
      return;
    }
    if (live) return;
    live = new LiveSocket("classify", {
      onStatus: (m) => { previewInfo.textContent = m; },
      onReady: () => { previewInfo.textContent = "Classifying the webcam…"; },
      onResult: (msg) => {
        renderBars(msg.predictions);
        previewInfo.textContent = `${live ? live.frames : 0} frames classified · ${live ? live.fps().toFixed(0) : 0} per second · ${msg.ms.toFixed(0)} ms on the server`;
        previewInfo.dataset.frames = live ? live.frames : 0;
      },
      onError: (m) => { previewInfo.textContent = m; },
    });
    live.start(video);
  }

  previewToggle.addEventListener("change", updatePreview);

  // ---------------------------------------------------------------- save and open
  async function listModels() {
    const info = await api("/api/teach/models");
    const models = info.models.filter((m) => m.kind === "image_classification");
    openSelect.replaceChildren(...(models.length ? models.map((m) => el("option", { value: m.name,
      text: `${m.name} (${m.labels.join(", ")})` })) : [el("option", { value: "", text: "no saved models yet" })]));
    openButton.disabled = !models.length;
    modelsInfo.textContent = `Models are kept in ${info.models_dir}`;
  }

  saveButton.addEventListener("click", async () => {
    const name = saveName.value.trim();
    if (!name) { fail(new Error("Type a name for the model first.")); saveName.focus(); return; }
    try {
      studio.status(`Saving ${name}…`, "busy");
      const saved = await api("/api/teach/save", { method: "POST", json: { name } });
      studio.status(`Saved to ${saved.path}. Load it in Python with ml.load(…).`);
      await refresh();
      await listModels();
    } catch (err) { fail(err); }
  });

  exportButton.addEventListener("click", async () => {
    const name = saveName.value.trim();
    if (!name) { fail(new Error("Type a name for the model first.")); saveName.focus(); return; }
    try {
      studio.status(`Exporting ${name} for the web…`, "busy");
      const done = await api("/api/teach/export-web", { method: "POST", json: { name } });
      studio.status(`Web page written to ${done.path}. Serve it with: python -m http.server (in that folder).`);
    } catch (err) { fail(err); }
  });

  openButton.addEventListener("click", async () => {
    if (!openSelect.value) return;
    try {
      studio.status(`Opening ${openSelect.value}…`, "busy");
      stopPreview();
      state = await api("/api/teach/open", { method: "POST", json: { name: openSelect.value } });
      render();
      studio.status(state.message);
    } catch (err) { fail(err); }
  });

  // ---------------------------------------------------------------- all together
  function render() {
    renderClasses();
    renderHood();
    if (!state.trained) bars.replaceChildren();
    else if (!bars.children.length) renderBars([]);
    if (state.model_name && !saveName.value) saveName.value = state.model_name;
    updatePreview();
  }

  try {
    await refresh();
    if (!state.classes.length) {
      await api("/api/teach/classes", { method: "POST", json: {} });
      await api("/api/teach/classes", { method: "POST", json: {} });
      await refresh();
    }
    if (state.status === "training") { trainButton.disabled = true; follow(); }
    await listModels();
    studio.status(state.message);
  } catch (err) { fail(err); }

  return () => { stopCamera(); if (events) events.close(); };
}
