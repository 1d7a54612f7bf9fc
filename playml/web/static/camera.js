// The webcam: open it, grab JPEG frames, and stream them to the server one at a time.

export async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser cannot use a camera here. Open the studio at http://127.0.0.1 or localhost.");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (err) {
    const why = err.name === "NotAllowedError" ? "the browser was not allowed to use it"
      : err.name === "NotFoundError" ? "no camera was found" : err.message;
    throw new Error(`The webcam could not start: ${why}. You can still upload images.`);
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  return stream;
}

export function closeCamera(video) {
  const stream = video && video.srcObject;
  if (stream) for (const track of stream.getTracks()) track.stop();
  if (video) video.srcObject = null;
}

const scratch = document.createElement("canvas");

// One frame of the video as a JPEG Blob (at most maxSide pixels on its longer side).
export function grabJpeg(video, { quality = 0.8, maxSide = 640 } = {}) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return Promise.resolve(null);
  const scale = Math.min(1, maxSide / Math.max(w, h));
  scratch.width = Math.round(w * scale);
  scratch.height = Math.round(h * scale);
  scratch.getContext("2d").drawImage(video, 0, 0, scratch.width, scratch.height);
  return new Promise((resolve) => scratch.toBlob(resolve, "image/jpeg", quality));
}

// Sends a frame, waits for the answer, sends the next: the view never falls behind.
export class LiveSocket {
  constructor(task, { onReady, onResult, onStatus, onError } = {}) {
    this.task = task;
    this.handlers = { onReady, onResult, onStatus, onError };
    this.running = false;
    this.frames = 0;
    this.times = [];
  }

  start(video) {
    this.video = video;
    this.running = true;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/live?task=${encodeURIComponent(this.task)}`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (event) => this._message(JSON.parse(event.data));
    this.ws.onclose = () => {
      if (this.running) this._call("onError", "The live connection closed. Is the studio still running?");
      this.running = false;
    };
  }

  stop() {
    this.running = false;
    if (this.ws) this.ws.close();
    this.ws = null;
  }

  fps() {
    const t = this.times;
    return t.length > 1 ? (1000 * (t.length - 1)) / (t[t.length - 1] - t[0]) : 0;
  }

  _call(name, ...args) {
    const handler = this.handlers[name];
    if (handler) handler(...args);
  }

  _message(msg) {
    if (msg.type === "status") return this._call("onStatus", msg.message);
    if (msg.type === "ready") { this._call("onReady", msg); return this._send(); }
    if (msg.type === "error") this._call("onError", msg.message);
    if (msg.type === "result") {
      this.frames += 1;
      this.times.push(performance.now());
      if (this.times.length > 20) this.times.shift();
      this._call("onResult", msg);
    }
    // answer received: send the next frame (after a short pause when the model complained)
    if (msg.type === "error") setTimeout(() => this._send(), 500);
    else this._send();
  }

  async _send() {
    if (!this.running || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const blob = await grabJpeg(this.video);
    if (!blob) { setTimeout(() => this._send(), 100); return; }
    if (this.running && this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(await blob.arrayBuffer());
  }
}
