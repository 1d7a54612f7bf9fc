// Create: the webcam painted live in one of the 26 bundled styles, and a character LSTM that
// learns to write like Shakespeare, then writes with the temperature you choose.
import { api, el } from "../api.js";
import { openCamera, closeCamera, LiveSocket } from "../camera.js";

const STYLES = Array.from({ length: 26 }, (_, i) => `style-${i}`);

export async function mount(root, studio) {
  let camera = null, live = null, style = "style-19", polling = null;

  // -- style transfer ------------------------------------------------------------------------
  const video = el("video", { class: "mirror", muted: true, playsinline: true, "aria-label": "Webcam picture" });
  const painted = el("img", { id: "create-painted", class: "mirror", alt: "The webcam picture, painted" });
  const camButton = el("button", { type: "button", id: "create-camera", text: "Turn the webcam on" });
  const styleSelect = el("select", { id: "create-style", "aria-label": "Painting style" },
    ...STYLES.map((s) => el("option", { value: s, text: s, selected: s === style })));
  const styleInfo = el("p", { id: "create-style-info", class: "muted", "aria-live": "polite",
    text: "Turn the webcam on to paint it." });

  // -- writer --------------------------------------------------------------------------------
  const trainButton = el("button", { type: "button", id: "create-train", text: "Teach it Shakespeare (about a minute)" });
  const writerInfo = el("p", { id: "create-writer-info", class: "muted", "aria-live": "polite", text: "Not trained yet." });
  const prompt = el("input", { id: "create-prompt", type: "text", value: "ROMEO:", "aria-label": "Start the text with" });
  const temperature = el("input", { id: "create-temperature", type: "range", min: "0", max: "1.5", step: "0.1", value: "0.8",
    "aria-label": "Temperature" });
  const tempLabel = el("span", { id: "create-temperature-value", text: "0.8" });
  const writeButton = el("button", { type: "button", id: "create-write", text: "Write", disabled: true });
  const output = el("pre", { id: "create-output", class: "card", "aria-live": "polite" });
  const saveName = el("input", { id: "create-save-name", type: "text", value: "shakespeare-writer",
    "aria-label": "Save the writer as" });
  const saveButton = el("button", { type: "button", id: "create-save", text: "Save", disabled: true });
  const openSelect = el("select", { id: "create-open-name", "aria-label": "A saved writer" });
  const openButton = el("button", { type: "button", id: "create-open", text: "Open", disabled: true });

  root.append(el("div", { class: "track-layout" },
    el("section", { class: "card", "aria-labelledby": "create-style-title" },
      el("h2", { id: "create-style-title", text: "Paint the webcam" }),
      el("div", { class: "camera" }, video),
      painted),
    el("section", { class: "card" },
      el("div", { class: "row" }, el("label", { for: "create-style", text: "Style " }), styleSelect, camButton),
      styleInfo,
      el("p", { class: "muted", text: "26 styles from a network trained on 26 paintings (the model does not name them). The frames go to the playml server on this computer." }),
      el("h2", { text: "Write like Shakespeare" }),
      el("div", { class: "row" }, trainButton), writerInfo,
      el("div", { class: "row" }, el("label", { for: "create-prompt", text: "Start with " }), prompt),
      el("div", { class: "row" }, el("label", { for: "create-temperature", text: "Temperature " }), temperature, tempLabel, writeButton),
      output,
      el("div", { class: "row" }, el("label", { for: "create-save-name", text: "Save as " }), saveName, saveButton),
      el("div", { class: "row" }, el("label", { for: "create-open-name", text: "Or open a saved writer " }), openSelect, openButton),
      el("p", { class: "muted", text: "Writers are saved in the studio's models folder, as TensorFlow.js files; ml.load(folder) opens them in Python, and a writer saved from Python with rnn.save(...) into that folder opens here." }))));

  function connect() {
    if (live) live.stop();
    live = new LiveSocket(style, {
      onStatus: (m) => { styleInfo.textContent = m; studio.status(m, "busy"); },
      onReady: () => { styleInfo.textContent = "Painting…"; studio.status(`Painting in ${style}.`); },
      onResult: (msg) => {
        painted.src = msg.image;
        styleInfo.textContent = `${live.frames} frames · ${live.fps().toFixed(1)} per second · ${msg.ms.toFixed(0)} ms on the server`;
        styleInfo.dataset.frames = live.frames;
      },
      onError: (m) => { styleInfo.textContent = m; studio.status(m, "error"); },
    });
    live.start(video);
  }

  styleSelect.addEventListener("change", () => { style = styleSelect.value; if (camera) connect(); });
  camButton.addEventListener("click", async () => {
    if (camera) {
      if (live) live.stop();
      live = null;
      closeCamera(video);
      camera = null;
      camButton.textContent = "Turn the webcam on";
      styleInfo.textContent = "The webcam is off.";
      return;
    }
    studio.status("Starting the webcam…", "busy");
    try {
      camera = await openCamera(video);
    } catch (err) {
      studio.status(err.message, "error");
      return;
    }
    camButton.textContent = "Turn the webcam off";
    connect();
  });

  function showWriter(state) {
    writerInfo.textContent = state.baseline_loss && state.status === "ready" && (state.history.val_loss || []).length
      ? `${state.message} Validation loss ${state.history.val_loss.at(-1).toFixed(3)} nats per character (a bigram model: ${state.baseline_loss.toFixed(3)}).`
      : state.message;
    writerInfo.dataset.status = state.status;
    writeButton.disabled = state.status !== "ready";
    saveButton.disabled = state.status !== "ready";
    trainButton.disabled = state.status === "training";
    openButton.disabled = state.status === "training" || !openSelect.value;
  }

  async function listWriters() {
    const { writers } = await api("/api/create/writers");
    openSelect.replaceChildren(...writers.map((n) => el("option", { value: n, text: n })));
    if (!writers.length) openSelect.append(el("option", { value: "", text: "(none saved yet)" }));
    openButton.disabled = !writers.length;
  }

  async function poll() {
    try {
      const state = await api("/api/create/writer");
      showWriter(state);
      if (state.status === "training") polling = setTimeout(poll, 500);
      else { polling = null; studio.status(state.status === "error" ? state.message : "The writer is ready.", state.status === "error" ? "error" : undefined); }
    } catch (err) {
      studio.status(err.message, "error");
    }
  }

  trainButton.addEventListener("click", async () => {
    try {
      showWriter(await api("/api/create/train", { method: "POST", json: { characters: 200000, epochs: 3 } }));
      studio.status("Training the writer…", "busy");
      if (!polling) poll();
    } catch (err) {
      studio.status(err.message, "error");
    }
  });
  temperature.addEventListener("input", () => { tempLabel.textContent = temperature.value; });
  writeButton.addEventListener("click", async () => {
    try {
      const out = await api("/api/create/write", { method: "POST",
        json: { prompt: prompt.value, temperature: Number(temperature.value), length: 300 } });
      output.textContent = out.text;
    } catch (err) {
      studio.status(err.message, "error");
    }
  });

  saveButton.addEventListener("click", async () => {
    try {
      const out = await api("/api/create/save", { method: "POST", json: { name: saveName.value.trim() } });
      studio.status(`Saved the writer as ${out.name}.`);
      await listWriters();
      openSelect.value = out.name;
    } catch (err) {
      studio.status(err.message, "error");
    }
  });
  openButton.addEventListener("click", async () => {
    try {
      showWriter(await api("/api/create/open", { method: "POST", json: { name: openSelect.value } }));
      studio.status(`Opened the writer ${openSelect.value}.`);
    } catch (err) {
      studio.status(err.message, "error");
    }
  });

  await listWriters();
  showWriter(await api("/api/create/writer"));
  studio.status("Choose a style and turn the webcam on, or teach the writer.");
  return () => { if (live) live.stop(); if (polling) clearTimeout(polling); closeCamera(video); };
}
