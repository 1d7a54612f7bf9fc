// The microphone: 16 kHz mono samples kept in a ring, clips as WAV, a live spectrogram, and
// live classification that sends the last second every 250 ms (one request in flight).
export const RATE = 16000;

export class Microphone {
  constructor() { this.ring = new Float32Array(RATE * 10); this.count = 0; this.recording = null; this.pos = 0; }

  async open() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("This browser cannot use a microphone here. Open the studio at http://127.0.0.1 or localhost.");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false });
    } catch (err) {
      const why = err.name === "NotAllowedError" ? "the browser was not allowed to use it"
        : err.name === "NotFoundError" ? "no microphone was found" : err.message;
      throw new Error(`The microphone could not start: ${why}. You can still upload WAV files.`);
    }
    this.ctx = new AudioContext();
    await this.ctx.resume();
    const source = this.ctx.createMediaStreamSource(this.stream);
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.analyser.smoothingTimeConstant = 0;
    this.node = this.ctx.createScriptProcessor(2048, 1, 1);
    this.node.onaudioprocess = (e) => this._push(e.inputBuffer.getChannelData(0));
    source.connect(this.analyser);
    source.connect(this.node);
    this.node.connect(this.ctx.destination);          // a processor only runs when connected (it outputs silence)
  }

  close() {
    if (this.node) { this.node.onaudioprocess = null; this.node.disconnect(); }
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    if (this.ctx) this.ctx.close();
    this.stream = this.ctx = this.node = null;
  }

  // resample to 16 kHz by linear interpolation, carrying the position across chunks
  _push(input) {
    const step = this.ctx.sampleRate / RATE;
    const out = [];
    let pos = Math.max(0, this.pos);
    while (pos < input.length - 1) {
      const i = Math.floor(pos), f = pos - i;
      out.push(input[i] * (1 - f) + input[i + 1] * f);
      pos += step;
    }
    this.pos = pos - input.length;
    for (const v of out) { this.ring[this.count % this.ring.length] = v; this.count += 1; }
    if (this.recording) this.recording.push(Float32Array.from(out));
  }

  last(n) {
    const out = new Float32Array(n);
    const start = this.count - n;
    for (let k = 0; k < n; k += 1) {
      const j = start + k;
      out[k] = j >= 0 ? this.ring[j % this.ring.length] : 0;
    }
    return out;
  }

  startRecording() { this.recording = []; }

  // the recording cut into clips of `seconds` (a last piece of at least half a clip is kept)
  stopRecording(seconds = 1) {
    const parts = this.recording || [];
    this.recording = null;
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Float32Array(total);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    const size = Math.round(seconds * RATE), clips = [];
    for (let s = 0; s < total; s += size) {
      const clip = all.subarray(s, Math.min(total, s + size));
      if (clip.length >= size / 2 || (!clips.length && clip.length >= RATE / 4)) clips.push(clip);
    }
    return clips;
  }
}

export function wavBlob(samples, rate = RATE) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buffer);
  const text = (o, s) => { for (let i = 0; i < s.length; i += 1) v.setUint8(o + i, s.charCodeAt(i)); };
  text(0, "RIFF"); v.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE"); text(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true); text(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i += 1) v.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, samples[i])) * 32767, true);
  return new Blob([buffer], { type: "audio/wav" });
}

// A scrolling spectrogram of the microphone (low notes at the bottom).
export function spectrogram(canvas, mic) {
  const ctx = canvas.getContext("2d");
  canvas.width = 320; canvas.height = 128;
  const bins = new Uint8Array(mic.analyser.frequencyBinCount);
  let running = true;
  const draw = () => {
    if (!running || !mic.analyser) return;
    mic.analyser.getByteFrequencyData(bins);
    ctx.drawImage(canvas, -2, 0);
    for (let y = 0; y < canvas.height; y += 1) {
      const v = bins[Math.floor((y / canvas.height) * bins.length)] / 255;
      ctx.fillStyle = `rgb(${Math.round(255 * v)}, ${Math.round(200 * Math.sqrt(v))}, ${Math.round(90 - 30 * v)})`;
      ctx.fillRect(canvas.width - 2, canvas.height - 1 - y, 2, 1);
    }
    canvas.dataset.frames = Number(canvas.dataset.frames || 0) + 1;
    requestAnimationFrame(draw);
  };
  draw();
  return () => { running = false; };
}

// Live classification: the last second, every `every` ms, one request in flight.
export class SoundLive {
  constructor({ onReady, onResult, onStatus, onError } = {}, every = 250) {
    this.handlers = { onReady, onResult, onStatus, onError };
    this.every = every; this.frames = 0; this.latencies = []; this.times = [];
  }

  start(mic) {
    this.mic = mic; this.running = true; this.busy = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/live?task=classify`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => this._message(JSON.parse(e.data));
    this.ws.onclose = () => { if (this.running) this._call("onError", "The live connection closed. Is the studio still running?"); this.stop(); };
  }

  stop() { this.running = false; clearInterval(this.timer); if (this.ws) this.ws.close(); this.ws = null; }

  fps() { const t = this.times; return t.length > 1 ? (1000 * (t.length - 1)) / (t[t.length - 1] - t[0]) : 0; }

  _call(name, ...args) { const h = this.handlers[name]; if (h) h(...args); }

  _message(msg) {
    if (msg.type === "status") return this._call("onStatus", msg.message);
    if (msg.type === "ready") {
      this._call("onReady", msg);
      this.timer = setInterval(() => this._send(), this.every);
      return;
    }
    this.busy = false;
    if (msg.type === "error") return this._call("onError", msg.message);
    if (msg.type === "result") {
      this.frames += 1;
      const now = performance.now();
      this.latencies.push(now - this.sent); if (this.latencies.length > 20) this.latencies.shift();
      this.times.push(now); if (this.times.length > 20) this.times.shift();
      this._call("onResult", msg);
    }
  }

  _send() {
    if (!this.running || this.busy || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.mic.count < RATE / 2) return;
    this.busy = true; this.sent = performance.now();
    this.ws.send(this.mic.last(RATE).buffer);
  }
}
