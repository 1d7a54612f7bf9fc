"""A static web page that runs an exported image classifier offline: webcam, live bars, model card.

:func:`web_files` adds ``index.html``, ``app.js``, ``style.css`` and TensorFlow.js's runtime
(``tf.min.js`` and its wasm backend, copied from the pinned npm packages at export time — never a CDN) to the files
of a Teachable-Machine-layout export. Serve the folder with ``python -m http.server`` (a
browser only opens the camera for pages served from ``localhost`` or HTTPS).

Where the runtime comes from, in order: the ``PLAYML_TFJS_DIST`` environment variable (the
``tf.min.js`` file, or the package's folder), then the ``node_modules`` that ``make setup``
installs next to playml's sources (``bench/peers/node_modules/@tensorflow/tfjs``).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any

from playml.errors import DependencyError

__all__ = ["TFJS_VERSION", "tfjs_runtime", "web_files"]

#: The TensorFlow.js version the page is written for (the one pinned in bench/peers/package.json).
TFJS_VERSION = "4.22.0"


def _candidates() -> list[Path]:
    out = []
    env = os.environ.get("PLAYML_TFJS_DIST")
    if env:
        p = Path(env)
        out += [p] if p.suffix == ".js" else [p / "dist" / "tf.min.js", p / "tf.min.js"]
    root = Path(__file__).resolve().parents[2]
    out.append(root / "bench" / "peers" / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js")
    return out


def tfjs_runtime() -> tuple[bytes, str]:
    """``(tf.min.js bytes, version)`` from the installed npm package; a clear error if there is none."""
    path, version = _runtime_path()
    return path.read_bytes(), version


def _runtime_path() -> tuple[Path, str]:
    for path in _candidates():
        if path.is_file():
            version = "unknown"
            package = path.parent.parent / "package.json"
            if package.is_file():
                version = json.loads(package.read_text()).get("version", "unknown")
            if version not in (TFJS_VERSION, "unknown"):
                raise DependencyError(
                    f"{path} is TensorFlow.js {version}; the web export needs {TFJS_VERSION} "
                    f"(npm install @tensorflow/tfjs@{TFJS_VERSION})."
                )
            return path, version
    raise DependencyError(
        "The web export copies TensorFlow.js's runtime (tf.min.js) from its npm package, and none was found. "
        f"Run `make setup` in playml's source folder, or `npm pack @tensorflow/tfjs@{TFJS_VERSION}`, unpack it "
        "and set PLAYML_TFJS_DIST to the unpacked folder. Looked in: " + ", ".join(str(p) for p in _candidates())
    )


WASM_FILES = (
    "tf-backend-wasm.min.js",
    "tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm",
)


def wasm_runtime(tf_min: Path) -> dict[str, bytes]:
    """TF.js's wasm backend files (same version), from ``@tensorflow/tfjs-backend-wasm`` next to the
    ``@tensorflow/tfjs`` package of ``tf_min``; empty if that package is not there (the page then
    uses WebGL or the CPU)."""
    dist = tf_min.parent.parent.parent / "tfjs-backend-wasm" / "dist"
    package = dist.parent / "package.json"
    if not package.is_file() or json.loads(package.read_text()).get("version") != TFJS_VERSION:
        return {}
    if not all((dist / name).is_file() for name in WASM_FILES):
        return {}
    return {name: (dist / name).read_bytes() for name in WASM_FILES}


_STYLE = """body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:920px;margin:0 auto;padding:16px;display:grid;grid-template-columns:1fr 1fr;gap:16px}
h1{grid-column:1/-1;font-size:1.4rem;margin:8px 0}
section{background:#fff;border-radius:10px;padding:12px;box-shadow:0 1px 3px #0002}
video,canvas{width:100%;border-radius:8px;background:#222;aspect-ratio:1;object-fit:cover}
.bar{margin:6px 0}.bar .name{display:flex;justify-content:space-between;font-size:.95rem}
.bar .track{height:14px;background:#e4e7ec;border-radius:7px;overflow:hidden}
.bar .fill{height:100%;background:#3b7ddd;width:0;transition:width .1s}
.bar.top .fill{background:#1f9d55}
#card{grid-column:1/-1;white-space:pre-wrap;font-size:.9rem}
#status{font-size:.85rem;color:#667}"""

_APP = """// playml web export: classify the webcam with the model in this folder (TensorFlow.js, offline).
const meta = await (await fetch("metadata.json")).json();
const size = meta.imageSize || 224;
const status = document.getElementById("status");
const bars = document.getElementById("bars");
const rows = meta.labels.map((label) => {
  const row = document.createElement("div");
  row.className = "bar";
  row.innerHTML = `<div class="name"><span></span><span class="pct">0%</span></div><div class="track"><div class="fill"></div></div>`;
  row.querySelector("span").textContent = label;
  bars.appendChild(row);
  return row;
});
// Backend: ?backend=… if given; else WebGL on a real GPU, wasm when WebGL is a software renderer.
async function pickBackend() {
  const asked = new URLSearchParams(location.search).get("backend");
  if (tf.wasm) tf.wasm.setWasmPaths(new URL(".", location.href).href);
  if (asked) return tf.setBackend(asked);
  let software = true;
  try {
    const gl = document.createElement("canvas").getContext("webgl2") || document.createElement("canvas").getContext("webgl");
    const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "";
    software = !gl || /swiftshader|llvmpipe|software/i.test(renderer);
  } catch (err) { software = true; }
  if (!software && await tf.setBackend("webgl")) return true;
  if (tf.wasm && await tf.setBackend("wasm")) return true;
  return tf.setBackend("cpu");
}
await pickBackend();
await tf.ready();
const model = await tf.loadLayersModel("model.json");
status.textContent = `model loaded (TensorFlow.js ${tf.version.tfjs}, ${tf.getBackend()} backend)`;
const video = document.getElementById("video");
const canvas = document.createElement("canvas");
canvas.width = canvas.height = size;
const ctx = canvas.getContext("2d");
try {
  video.srcObject = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
  await video.play();
} catch (err) {
  status.textContent = "no camera: " + err.message;
  throw err;
}
window.playmlPredictions = [];
let frames = 0, started = performance.now();
async function tick() {
  const w = video.videoWidth, h = video.videoHeight, side = Math.min(w, h);
  if (side > 0) {
    ctx.drawImage(video, (w - side) / 2, (h - side) / 2, side, side, 0, 0, size, size);
    const probs = tf.tidy(() => model.predict(tf.browser.fromPixels(canvas).toFloat().div(127).sub(1).expandDims(0)));
    const values = await probs.data();
    probs.dispose();
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]) best = i; });
    rows.forEach((row, i) => {
      row.querySelector(".fill").style.width = (100 * values[i]).toFixed(1) + "%";
      row.querySelector(".pct").textContent = (100 * values[i]).toFixed(1) + "%";
      row.classList.toggle("top", i === best);
    });
    frames += 1;
    window.playmlPredictions = Array.from(values);
    window.playmlFrames = frames;
    status.textContent = `${meta.labels[best]} — ${(frames / ((performance.now() - started) / 1000)).toFixed(1)} predictions/s, ${tf.getBackend()} backend, offline`;
  }
  requestAnimationFrame(tick);
}
tick();
"""


def web_files(files: dict[str, Any], *, title: str, card: str) -> dict[str, Any]:
    """``files`` (model.json, weights.bin, metadata.json) plus the page and the TF.js runtime."""
    tf_path, version = _runtime_path()
    runtime = tf_path.read_bytes()
    wasm = wasm_runtime(tf_path)
    wasm_tag = '<script src="tf-backend-wasm.min.js"></script>' if wasm else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title><link rel="stylesheet" href="style.css">
<script src="tf.min.js"></script>{wasm_tag}</head>
<body><main>
<h1>{html.escape(title)}</h1>
<section><video id="video" playsinline muted></video><div id="status">loading…</div></section>
<section><div id="bars"></div></section>
<section id="card">{html.escape(card)}</section>
</main><script type="module" src="app.js"></script></body></html>
"""
    runtime_note = {
        "package": "@tensorflow/tfjs",
        "version": version,
        "licence": "Apache-2.0",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in {"tf.min.js": runtime, **wasm}.items()},
    }
    return {
        **files,
        "index.html": page,
        "app.js": _APP,
        "style.css": _STYLE,
        "tf.min.js": runtime,
        **wasm,
        "runtime.json": runtime_note,
        "README.md": card + "\n\nServe this folder (python -m http.server) and "
        "open http://localhost:8000/ — everything runs offline in the browser. Add ?backend=wasm, webgl or "
        "cpu to the address to choose TensorFlow.js's backend.\n",
    }
