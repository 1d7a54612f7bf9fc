// Teach: classes as cards, examples from the webcam or files, train, preview live, save/open.
import { el } from "../api.js";
import { openCamera, closeCamera, grabJpeg, LiveSocket } from "../camera.js";
import { lineChart, legend, confusionTable } from "../chart.js";
import { Microphone, SoundLive, spectrogram, wavBlob, RATE } from "../audio.js";

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
  const saveButton = el("button", { type: "button", class: "plain", id: "save", text: "Export the model" });
  const openSelect = el("select", { id: "open-name", "aria-label": "Saved projects and models" });
  const exportButton = el("button", { type: "button", class: "plain", id: "export-web", text: "Export for the web",
    title: "an offline web page: webcam, live confidence bars, the model (TensorFlow.js, no CDN)" });
  const openButton = el("button", { type: "button", class: "plain", id: "open", text: "Open" });
  const modelsInfo = el("p", { class: "muted", id: "models-info" });
  const projectTitle = el("strong", { id: "project-title", text: "New project" });
  const projectState = el("span", { id: "project-state", class: "muted" });
  const newButton = el("button", { type: "button", class: "plain", id: "project-new", text: "New" });
  const kindSelect = el("select", { id: "project-kind", "aria-label": "Kind of new project" },
    el("option", { value: "image", text: "image project" }), el("option", { value: "pose", text: "pose project" }),
    el("option", { value: "sound", text: "sound project" }));
  const spectro = el("canvas", { id: "spectrogram", class: "spectrogram", "aria-label": "Live spectrogram of the microphone" });
  let mic = null, stopSpectrogram = null;
  const overlay = el("canvas", { class: "mirror", id: "preview-overlay", "aria-hidden": "true" });
  const help = el("p", { class: "muted", id: "classes-help" });
  const projectSave = el("button", { type: "button", id: "project-save", text: "Save" });
  const projectSaveAs = el("button", { type: "button", class: "plain", id: "project-save-as", text: "Save as…" });
  const autosave = el("input", { type: "checkbox", id: "autosave", checked: true });

  root.append(
    el("section", { class: "project-bar", "aria-label": "Project" },
      el("span", {}, "Project: ", projectTitle, " ", projectState),
      el("span", { class: "row" }, newButton, kindSelect, projectSave, projectSaveAs,
        el("label", {}, autosave, " Autosave")),
      el("span", { class: "row" }, openSelect, openButton)),
    el("div", { class: "columns teach" },
    el("section", { class: "card classes-col", "aria-labelledby": "classes-title" },
      el("h2", { id: "classes-title", text: "1 · Classes and examples" }),
      help,
      classList,
      el("div", { class: "row" }, addClassButton)),
    el("div", { class: "train-col" },
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
    el("div", { class: "preview-col" },
      el("section", { class: "card preview-card", "aria-labelledby": "preview-title" },
        el("h2", { id: "preview-title", text: "3 · Preview" }),
        el("div", { class: "camera" }, video, overlay, spectro),
        el("div", { class: "row" }, camButton,
          el("label", {}, previewToggle, " Classify live")),
        bars, previewInfo),
      el("section", { class: "card", "aria-labelledby": "save-title" },
        el("h2", { id: "save-title", text: "4 · Export" }),
        el("p", { class: "muted", text: "Save the project (above) to keep every example. Export the trained model alone to use it elsewhere:" }),
        el("div", { class: "row" }, el("label", { for: "save-name", text: "Name" }), saveName, saveButton, exportButton),
        modelsInfo))));

  // ---------------------------------------------------------------- helpers
  const fail = (err) => studio.status(err.message || String(err), "error");
  async function refresh() {
    state = await api("/api/teach");
    render();
  }

  const isSound = () => state && state.kind === "sound";

  async function ensureMic() {
    if (mic) return true;
    studio.status("Starting the microphone…", "busy");
    const m = new Microphone();
    try { await m.open(); } catch (err) { fail(err); return false; }
    mic = m;
    stopSpectrogram = spectrogram(spectro, mic);
    camButton.textContent = "Turn the microphone off";
    studio.status("The microphone is on.");
    updatePreview();
    return true;
  }

  function stopMic() {
    stopPreview();
    if (stopSpectrogram) stopSpectrogram();
    if (mic) mic.close();
    mic = null; stopSpectrogram = null;
    camButton.textContent = "Turn the microphone on";
  }

  async function ensureCamera() {
    if (isSound()) return ensureMic();
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

  camButton.addEventListener("click", () => (isSound() ? (mic ? stopMic() : ensureMic()) : camera ? stopCamera() : ensureCamera()));

  // ---------------------------------------------------------------- class cards
  let queued = 0;
  function upload(classId, blobs, what, source = "upload") {
    queued += 1;
    root.dataset.uploading = queued;
    uploads = uploads.then(async () => {
      if (!blobs.length) return;
      const form = new FormData();
      blobs.forEach((b, i) => form.append("files", b, b.name || `webcam-${i}.jpg`));
      try {
        studio.status(`Adding ${blobs.length} ${what}…`, "busy");
        const added = await api(`/api/teach/classes/${classId}/samples?source=${source}`, { method: "POST", form });
        await refresh();
        studio.status(`Added ${added.samples.length} ${what}` + (added.skipped ? ` (${added.skipped} without a body in view were left out).` : "."));
      } catch (err) { fail(err); }
    }).finally(() => { queued -= 1; root.dataset.uploading = queued; });
    return uploads;
  }

  // files dropped on a class, folders included (read through the entries API)
  async function droppedImages(transfer) {
    const entries = [...(transfer.items || [])].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    if (!entries.length) return [...transfer.files].filter((f) => f.type.startsWith(isSound() ? "audio/" : "image/"));
    const files = [];
    async function walk(entry) {
      if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        if (file.type.startsWith(isSound() ? "audio/" : "image/")) files.push(file);
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
          if (!batch.length) break;
          for (const child of batch) await walk(child);
        }
      }
    }
    for (const entry of entries) await walk(entry);
    return files;
  }

  function recorder(classId, button) {
    let timer = null, pending = [], count = 0, active = false;
    const tick = async () => {
      const blob = await grabJpeg(video, { quality: 0.85 });
      if (blob && active) {
        pending.push(blob); count += 1;
        button.textContent = `Recording… ${count}`;
        if (pending.length >= 6) { upload(classId, pending, "webcam pictures", "webcam"); pending = []; }
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
      if (isSound()) {
        mic.startRecording();
        studio.status("Recording from the microphone: keep holding the button (each second is one example)…", "busy");
        const started = performance.now();
        timer = setInterval(() => { button.textContent = `Recording… ${((performance.now() - started) / 1000).toFixed(1)} s`; }, 100);
        return;
      }
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
      if (isSound()) {
        if (!mic) return;
        const clips = mic.stopRecording(1).map((c, i) => new File([wavBlob(c)], `microphone-${i}.wav`, { type: "audio/wav" }));
        if (clips.length) upload(classId, clips, "sound clips", "microphone");
        else studio.status("That was too short: hold the button for at least a second.", "error");
        return;
      }
      upload(classId, pending, "webcam pictures", "webcam");
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

  // take n pictures, one every 150 ms, then add them together
  async function burst(classId, n, button) {
    if (!(await ensureCamera())) return;
    button.disabled = true;
    if (isSound()) {
      mic.startRecording();
      for (let i = 0; i < n; i += 1) {
        button.textContent = `Clip ${i + 1} of ${n}…`;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const clips = mic.stopRecording(1).slice(0, n).map((c, i) => new File([wavBlob(c)], `microphone-${i}.wav`, { type: "audio/wav" }));
      button.textContent = "Record";
      button.disabled = false;
      await upload(classId, clips, "sound clips", "microphone");
      return;
    }
    const blobs = [];
    for (let i = 0; i < n; i += 1) {
      const blob = await grabJpeg(video, { quality: 0.85 });
      if (blob) blobs.push(blob);
      button.textContent = `Recording ${i + 1} of ${n}…`;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    button.textContent = "Record";
    button.disabled = false;
    await upload(classId, blobs, "webcam pictures", "webcam");
  }

  async function deleteSample(id) {
    try { await api(`/api/teach/samples/${id}`, { method: "DELETE" }); await refresh(); } catch (err) { fail(err); }
  }

  function makeCard(cls) {
    const nameInput = el("input", { type: "text", class: "name", value: cls.name, maxlength: 60,
      "aria-label": "Class name", id: `class-name-${cls.id}` });
    const count = el("span", { class: "muted count" });
    const record = el("button", { type: "button", class: "record", text: "Hold to record", "aria-pressed": "false",
      title: "Hold down (mouse, touch, Space or Enter) to take webcam pictures" });
    const files = el("input", { type: "file", accept: isSound() ? "audio/*,.wav,.flac,.ogg" : "image/*", multiple: true, class: "visually-hidden",
      id: `files-${cls.id}` });
    const fileLabel = el("label", { class: "file-label", for: `files-${cls.id}` }, isSound() ? "Upload sounds" : "Upload images", files);
    const clear = el("button", { type: "button", class: "plain", text: "Clear" });
    const burstCount = el("input", { type: "number", class: "burst-count", min: 1, max: 200, value: 10,
      "aria-label": `Pictures in a burst for ${cls.name}` });
    const burstButton = el("button", { type: "button", class: "plain burst", text: "Record",
      title: "Take this many webcam pictures in a row" });
    burstButton.addEventListener("click", () => burst(cls.id, Math.max(1, Math.min(200, Number(burstCount.value) || 10)), burstButton));
    const remove = el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete class ${cls.name}` });
    const thumbs = el("div", { class: "thumbs", role: "list", "aria-label": `Examples of ${cls.name}` });
    const node = el("article", { class: "card class-card drop", "data-class-id": cls.id },
      el("div", { class: "row" }, nameInput, count),
      el("div", { class: "row" }, record, fileLabel),
      el("div", { class: "row" }, burstButton, burstCount, el("span", { class: "muted", text: "in a burst" }), clear, remove),
      thumbs);
    nameInput.addEventListener("change", async () => {
      try { await api(`/api/teach/classes/${cls.id}`, { method: "PATCH", json: { name: nameInput.value } }); await refresh(); }
      catch (err) { fail(err); await refresh(); }
    });
    nameInput.addEventListener("keydown", (e) => { if (e.key === "Enter") nameInput.blur(); });
    files.addEventListener("change", () => { upload(cls.id, [...files.files], isSound() ? "sounds" : "images"); files.value = ""; });
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
      droppedImages(e.dataTransfer).then((dropped) => {
        if (dropped.length) upload(cls.id, dropped, isSound() ? "sounds" : "images");
        else studio.status("Only image files (or folders of them) can be dropped on a class.", "error");
      });
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
        const sources = new Map(ids.map((id, i) => [id, (cls.sources || [])[i]]));
        card.thumbs.replaceChildren(...ids.slice(-120).map((id) =>
          el("figure", { class: "thumb", role: "listitem", "data-sample": id },
            el("img", { src: `/api/teach/samples/${id}.jpg`, alt: `example ${id}`, loading: "lazy",
              class: sources.get(id) === "webcam" ? "mirror" : "" }),
            el("button", { type: "button", class: "thumb-delete", "aria-label": `Delete example ${id}`, title: "Delete this example",
              text: "×", onclick: () => deleteSample(id) }))));
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

  let skeleton = null;     // { connections } of a pose project's live view
  function drawPose(found, width, height) {
    const ctx = overlay.getContext("2d");
    overlay.width = video.videoWidth || 640;
    overlay.height = video.videoHeight || 480;
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (!skeleton || !found || !found.length) return;
    const sx = overlay.width / width, sy = overlay.height / height;
    ctx.lineWidth = Math.max(2, overlay.width / 320);
    ctx.strokeStyle = "#00d084";
    ctx.fillStyle = "#fff";
    const pts = found[0].points;
    ctx.beginPath();
    for (const [a, b] of skeleton.connections) {
      const p = pts[a], q = pts[b];
      if (!p || !q || p[2] < 0.3 || q[2] < 0.3) continue;
      ctx.moveTo(p[0] * sx, p[1] * sy);
      ctx.lineTo(q[0] * sx, q[1] * sy);
    }
    ctx.stroke();
    for (const p of pts) {
      if (p[2] < 0.3) continue;
      ctx.beginPath();
      ctx.arc(p[0] * sx, p[1] * sy, ctx.lineWidth * 1.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    overlay.dataset.drawn = Number(overlay.dataset.drawn || 0) + 1;
  }

  function stopPreview() {
    skeleton = null;
    drawPose([], 1, 1);
    if (live) live.stop();
    live = null;
  }

  function updatePreview() {
    if (isSound()) {
      if (!(mic && state.trained && previewToggle.checked)) {
        stopPreview();
        previewInfo.textContent = !state.trained ? "Train a model (or open one) to hear it work." : "Turn the microphone on to try the model.";
        return;
      }
      if (live) return;
      live = new SoundLive({
        onStatus: (m) => { previewInfo.textContent = m; },
        onReady: () => { previewInfo.textContent = "Listening…"; },
        onResult: (msg) => {
          renderBars(msg.predictions);
          const lat = live.latencies.length ? live.latencies.reduce((a, b) => a + b, 0) / live.latencies.length : 0;
          previewInfo.textContent = `${live.frames} decisions · ${live.fps().toFixed(1)} per second · ${lat.toFixed(0)} ms from sending to answer`;
          previewInfo.dataset.frames = live.frames;
          previewInfo.dataset.latency = lat.toFixed(1);
        },
        onError: (m) => { previewInfo.textContent = m; },
      });
      live.start(mic);
      return;
    }
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
      onReady: (msg) => { skeleton = msg.connections ? msg : null; previewInfo.textContent = "Classifying the webcam…"; },
      onResult: (msg) => {
        renderBars(msg.predictions);
        if (skeleton) drawPose(msg.found, msg.width, msg.height);
        previewInfo.textContent = `${live ? live.frames : 0} frames classified · ${live ? live.fps().toFixed(0) : 0} per second · ${msg.ms.toFixed(0)} ms on the server`;
        previewInfo.dataset.frames = live ? live.frames : 0;
      },
      onError: (m) => { previewInfo.textContent = m; },
    });
    live.start(video);
  }

  previewToggle.addEventListener("change", updatePreview);

  // ---------------------------------------------------------------- projects: new, open, save, autosave
  async function listModels() {
    const info = await api("/api/teach/models");
    const usable = info.models.filter((m) => m.kind === "teach_project" || m.kind === "image_classification");
    openSelect.replaceChildren(...(usable.length ? usable.map((m) => el("option", { value: m.name,
      text: m.kind === "teach_project"
        ? `${m.name} (project: ${m.examples} examples, ${m.labels.join(", ")})`
        : `${m.name} (model: ${m.labels.join(", ")})` })) : [el("option", { value: "", text: "nothing saved yet" })]));
    openButton.disabled = !usable.length;
    modelsInfo.textContent = `Projects and models are kept in ${info.models_dir}`;
  }

  function askToDiscard(doing) {
    if (!state || !state.unsaved) return true;
    return window.confirm(`This project has unsaved changes. ${doing} anyway and lose them?`);
  }

  let saving = Promise.resolve();
  let autosaveTimer = null;

  function saveProject(name, { quiet = false } = {}) {
    saving = saving.then(async () => {
      try {
        if (!quiet) studio.status(`Saving the project ${name}…`, "busy");
        const saved = await api("/api/project/save", { method: "POST", json: { name } });
        state = saved.state;
        render();
        studio.status(quiet ? `Autosaved to ${saved.path}.` : `Saved the project to ${saved.path}. Open it in Python with ml.load_project(…).`);
        await listModels();
      } catch (err) { fail(err); }
    });
    return saving;
  }

  function scheduleAutosave() {
    clearTimeout(autosaveTimer);
    if (!state || !state.project_name || !state.dirty || !autosave.checked || state.status === "training") return;
    autosaveTimer = setTimeout(async () => {
      await uploads;
      if (state && state.project_name && state.dirty && state.status !== "training") saveProject(state.project_name, { quiet: true });
    }, 1500);
  }

  projectSave.addEventListener("click", async () => {
    await uploads;
    if (state.project_name) return saveProject(state.project_name);
    return saveAs();
  });

  async function saveAs() {
    await uploads;
    const name = window.prompt("Save the project as (a name for its folder):", state.project_name || "my-project");
    if (name === null) return null;
    if (!name.trim()) { fail(new Error("Type a name for the project.")); return null; }
    return saveProject(name.trim());
  }
  projectSaveAs.addEventListener("click", saveAs);

  newButton.addEventListener("click", async () => {
    if (!askToDiscard("Start a new project")) return;
    try {
      stopPreview();
      state = await api("/api/project/new", { method: "POST", json: { discard: true, kind: kindSelect.value } });
      history = []; chartBox.replaceChildren(); trainInfo.textContent = "Add examples to at least two classes, then train.";
      render();
      studio.status(state.message);
    } catch (err) { fail(err); }
  });

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
    if (!askToDiscard(`Open ${openSelect.value}`)) return;
    try {
      studio.status(`Opening ${openSelect.value}…`, "busy");
      stopPreview();
      state = await api("/api/teach/open", { method: "POST", json: { name: openSelect.value, discard: true } });
      history = []; chartBox.replaceChildren();
      render();
      studio.status(state.message);
    } catch (err) { fail(err); }
  });

  window.addEventListener("beforeunload", beforeUnload);
  function beforeUnload(e) { if (state && state.unsaved) { e.preventDefault(); e.returnValue = ""; } }

  // ---------------------------------------------------------------- all together
  let shownKind = null;
  function render() {
    if (shownKind !== null && shownKind !== state.kind) { stopPreview(); if (mic) stopMic(); if (camera) stopCamera(); }
    if (shownKind !== state.kind) {
      camButton.textContent = state.kind === "sound" ? "Turn the microphone on" : "Turn the webcam on";
      previewToggle.parentElement.lastChild.textContent = state.kind === "sound" ? " Classify live" : " Classify live";
    }
    shownKind = state.kind;
    renderClasses();
    renderHood();
    if (!state.trained) bars.replaceChildren();
    else if (!bars.children.length) renderBars([]);
    if (state.model_name && !saveName.value) saveName.value = state.model_name;
    projectTitle.textContent = state.project_name || `New ${state.kind} project (not saved yet)`;
    help.textContent = state.kind === "pose"
      ? "A pose project learns body poses: hold “Hold to record” while you strike a pose (the keypoints are kept), or upload photos of people."
      : state.kind === "sound"
        ? "A sound project: record “Background noise” first (the room, quietly), then each sound. Hold “Hold to record” (every second is one example) or record N one-second clips; WAV files can be uploaded too."
        : "Hold “Hold to record” to take webcam pictures, or upload / drop image files (or folders) on a class.";
    root.dataset.kind = state.kind;
    projectState.textContent = state.dirty && state.project_name ? "· unsaved changes" : state.project_name ? "· saved" : "";
    projectState.dataset.dirty = state.dirty ? "1" : "0";
    if (state.training) {
      for (const [input, key] of [[epochs, "epochs"], [batch, "batch_size"], [rate, "learning_rate"]]) {
        if (document.activeElement !== input) input.value = state.training[key];
      }
    }
    scheduleAutosave();
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

  return () => { stopCamera(); stopMic(); if (events) events.close(); clearTimeout(autosaveTimer); window.removeEventListener("beforeunload", beforeUnload); };
}
