// Track: body pose, hands, face mesh, several people or objects found by the server, drawn over the webcam.
import { el } from "../api.js";
import { openCamera, closeCamera, LiveSocket } from "../camera.js";

const TASKS = [
  { id: "pose", title: "Body pose", note: "33 keypoints of one person" },
  { id: "hands", title: "Hands", note: "21 keypoints per hand, up to two hands" },
  { id: "face", title: "Face mesh", note: "478 keypoints; the outlines are drawn" },
  { id: "people", title: "Several people", note: "17 keypoints per person, up to six people (MoveNet)" },
  { id: "objects", title: "Objects", note: "boxes around 80 kinds of everyday things (CenterNet, COCO)" },
];
const COLORS = { pose: "#00d084", hands: "#ffb000", face: "#4fc3f7", people: "#ff6ec7", objects: "#ffd54f" };
const WHAT = { pose: "person", hands: "hand", face: "face", people: "person", objects: "object" };

export async function mount(root, studio) {
  let camera = null, live = null, ready = null, task = "pose", last = null;
  const video = el("video", { class: "mirror", muted: true, playsinline: true, "aria-label": "Webcam picture" });
  const canvas = el("canvas", { class: "mirror", id: "overlay", "aria-hidden": "true" });
  const camButton = el("button", { type: "button", id: "track-camera", text: "Turn the webcam on" });
  const info = el("p", { id: "track-info", class: "muted", "aria-live": "polite", text: "Turn the webcam on to start." });
  const found = el("p", { id: "track-found", "aria-live": "polite" });
  const choices = el("fieldset", {}, el("legend", { text: "What to find" }),
    ...TASKS.map((t) => el("div", { class: "choice" },
      el("input", { type: "radio", name: "track-task", id: `task-${t.id}`, value: t.id, checked: t.id === task }),
      el("label", { for: `task-${t.id}` }, el("strong", { text: t.title }), ` — ${t.note}`))));

  root.append(el("div", { class: "track-layout" },
    el("section", { class: "card", "aria-labelledby": "track-title" },
      el("h2", { id: "track-title", text: "Track bodies, hands and faces" }),
      el("div", { class: "camera" }, video, canvas)),
    el("section", { class: "card" }, choices, el("div", { class: "row" }, camButton), found, info,
      el("p", { class: "muted", text: "The pictures go to the playml server on this computer, which finds the keypoints and sends them back to be drawn." }))));

  function draw() {
    const ctx = canvas.getContext("2d");
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!last || !ready) return;
    const sx = canvas.width / last.width, sy = canvas.height / last.height;
    const color = COLORS[ready.task] || "#fff";
    ctx.lineWidth = Math.max(2, canvas.width / 320);
    for (const item of last.found) {
      if (item.box) {  // an object: its box, and its label written so it reads right on the mirrored canvas
        const [x, y, w, h] = item.box;
        ctx.strokeStyle = color;
        ctx.strokeRect(x * sx, y * sy, w * sx, h * sy);
        ctx.save();
        const px = Math.max(12, canvas.width / 40);
        ctx.translate((x + w) * sx, y * sy);
        ctx.scale(-1, 1);
        ctx.font = `${px}px sans-serif`;
        ctx.fillStyle = color;
        ctx.fillText(`${item.label} ${Math.round(item.confidence * 100)}%`, 4, px + 2);  // inside the box's top
        ctx.restore();
        continue;
      }
      const pts = item.points;
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (const [a, b] of ready.connections) {
        const p = pts[a], q = pts[b];
        if (!p || !q || p[2] < 0.3 || q[2] < 0.3) continue;
        ctx.moveTo(p[0] * sx, p[1] * sy);
        ctx.lineTo(q[0] * sx, q[1] * sy);
      }
      ctx.stroke();
      if (ready.task !== "face") {
        ctx.fillStyle = "#fff";
        for (const p of pts) {
          if (p[2] < 0.3) continue;
          ctx.beginPath();
          ctx.arc(p[0] * sx, p[1] * sy, ctx.lineWidth * 1.5, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }
  }

  function connect() {
    if (live) live.stop();
    ready = null; last = null; draw();
    found.textContent = ""; delete found.dataset.count;
    live = new LiveSocket(task, {
      onStatus: (m) => { info.textContent = m; studio.status(m, "busy"); },
      onReady: (msg) => { ready = msg; info.textContent = "Looking…"; studio.status(`Tracking: ${task}.`); },
      onResult: (msg) => {
        last = msg;
        draw();
        const n = msg.found.length;
        const what = WHAT[task] || "thing";
        const plural = what === "person" ? "people" : `${what}s`;
        found.textContent = n ? `Found ${n} ${n > 1 ? plural : what}` +
          (task === "hands" || task === "objects" ? ` (${msg.found.map((h) => h.label).join(", ")})` : "") :
          `No ${what} in view.`;
        found.dataset.count = n;
        info.textContent = `${live.frames} frames · ${live.fps().toFixed(0)} per second · ${msg.ms.toFixed(0)} ms on the server`;
        info.dataset.frames = live.frames;
      },
      onError: (m) => { info.textContent = m; studio.status(m, "error"); },
    });
    live.start(video);
  }

  for (const input of choices.querySelectorAll("input")) {
    input.addEventListener("change", () => { task = input.value; if (camera) connect(); });
  }

  camButton.addEventListener("click", async () => {
    if (camera) {
      if (live) live.stop();
      live = null;
      closeCamera(video);
      camera = null;
      last = null; draw();
      camButton.textContent = "Turn the webcam on";
      info.textContent = "The webcam is off.";
      studio.status("The webcam is off.");
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

  studio.status("Choose what to find, then turn the webcam on.");
  return () => { if (live) live.stop(); closeCamera(video); };
}
