// Pitch: the note sung or played into the microphone, and how far it is from being in tune
// (ml5.js's pitch detection example). The server runs CREPE on the last 128 ms, 10 times a second.
import { el } from "../api.js";
import { Microphone, RATE } from "../audio.js";

export async function mount(root, studio) {
  let mic = null, ws = null, timer = null, busy = false, answers = 0;
  const button = el("button", { type: "button", id: "pitch-mic", text: "Turn the microphone on" });
  const note = el("p", { id: "pitch-note", class: "pitch-note", "aria-live": "polite", text: "–" });
  const detail = el("p", { id: "pitch-detail", class: "muted", text: "Sing or play a steady note." });
  const needle = el("span", { class: "needle" });
  const meter = el("div", { class: "tuner", role: "meter", "aria-label": "Cents from the note", "aria-valuemin": -50,
    "aria-valuemax": 50, "aria-valuenow": 0 }, el("span", { class: "flat", text: "flat" }), needle,
    el("span", { class: "sharp", text: "sharp" }));
  root.append(el("section", { class: "card pitch-card", "aria-labelledby": "pitch-title" },
    el("h2", { id: "pitch-title", text: "What note is that?" }), note, meter, detail, el("div", { class: "row" }, button),
    el("p", { class: "muted", text: "The sound goes to the playml server on this computer (CREPE finds the pitch) and never leaves it." })));

  function show(msg) {
    answers += 1;
    note.dataset.answers = answers;
    if (!msg.note || msg.confidence < 0.5) {
      note.textContent = "–"; note.className = "pitch-note"; note.dataset.note = "";
      detail.textContent = "No clear note: sing or play a steady one.";
      return;
    }
    const inTune = Math.abs(msg.cents) <= 10;
    note.textContent = msg.note;
    note.dataset.note = msg.note;
    note.className = "pitch-note " + (inTune ? "in-tune" : "off");
    needle.style.left = `${50 + msg.cents}%`;
    meter.setAttribute("aria-valuenow", Math.round(msg.cents));
    detail.textContent = `${msg.frequency.toFixed(1)} Hz · ${msg.cents > 0 ? "+" : ""}${msg.cents.toFixed(0)} cents · ` +
      (inTune ? "in tune" : msg.cents < 0 ? "a little flat" : "a little sharp");
  }

  function stop() {
    clearInterval(timer); timer = null;
    if (ws) ws.close(); ws = null;
    if (mic) mic.close(); mic = null;
    button.textContent = "Turn the microphone on";
  }

  button.addEventListener("click", async () => {
    if (mic) { stop(); studio.status("The microphone is off."); return; }
    studio.status("Starting the microphone…", "busy");
    const m = new Microphone();
    try { await m.open(); } catch (err) { studio.status(err.message, "error"); return; }
    mic = m;
    button.textContent = "Turn the microphone off";
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/ws/live?task=pitch`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "status") studio.status(msg.message, "busy");
      if (msg.type === "ready") {
        studio.status("Listening.");
        timer = setInterval(() => {
          if (busy || !ws || ws.readyState !== WebSocket.OPEN || mic.count < RATE / 8) return;
          busy = true;
          ws.send(mic.last(2048).buffer);
        }, 100);
      }
      if (msg.type === "result") { busy = false; show(msg); }
      if (msg.type === "error") { busy = false; detail.textContent = msg.message; }
    };
  });

  studio.status("Turn the microphone on and sing a note.");
  return stop;
}
