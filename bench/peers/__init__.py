"""Run the JavaScript peers (TensorFlow.js in Node, ml5.js in headless Chromium) from Python.

Every playml capability can time or check itself against the same job done by the JS
libraries, in the same run, on the same machine. Two calls::

    from bench.peers import run_node, run_chromium

    out = run_node("node/train_dense.mjs", {"x": [[...]], "epochs": 5})       # TF.js, wasm backend
    out = run_chromium("browser/ml5_train_save.js", {"task": "classification", ...})
    out["downloads"]   # {"model.json": b"...", ...}: files the page saved (ml5's save())

A Node script is an ES module under ``bench/peers`` that imports ``./lib/node_io.mjs`` and
does ``const payload = readPayload(); ...; writeResult({...})``. A browser script defines
``async function main(payload)`` and returns a JSON-able value; the page has ml5.js
(``ml5``) and TensorFlow.js (``tf``, ml5's own copy) loaded from ``node_modules``, served
from a loopback HTTP server that also serves ``files`` passed to :func:`run_chromium` under
``/files/``. Every request that is not to that server is refused, so nothing reaches the
network. See ``bench/peers/README.md``.
"""
from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PEERS", "available", "run_node", "run_chromium", "chromium_path", "PeerError"]

PEERS = Path(__file__).resolve().parent
NODE_MODULES = PEERS / "node_modules"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


class PeerError(RuntimeError):
    """A JavaScript peer failed; the message carries its stderr or console output."""


def chromium_path() -> str | None:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


def available() -> dict[str, bool]:
    """Which peers can run here: ``{"node": ..., "chromium": ...}``."""
    modules = (NODE_MODULES / "@tensorflow" / "tfjs").exists() and (NODE_MODULES / "ml5").exists()
    return {"node": modules and shutil.which("node") is not None,
            "chromium": modules and chromium_path() is not None}


def _script_path(script: str | os.PathLike) -> Path:
    path = Path(script)
    return path if path.is_absolute() else PEERS / path


def run_node(script: str | os.PathLike, payload: Any = None, *, timeout: float = 600) -> dict:
    """Run an ES-module ``script`` (relative to ``bench/peers``) in Node with ``payload``; return its result."""
    node = shutil.which("node")
    if node is None:
        raise PeerError("node is not installed")
    with tempfile.TemporaryDirectory(prefix="playml-peer-") as tmp:
        payload_file, result_file = Path(tmp) / "payload.json", Path(tmp) / "result.json"
        payload_file.write_text(json.dumps(payload))
        env = {**os.environ, "PEER_PAYLOAD": str(payload_file), "PEER_RESULT": str(result_file)}
        done = subprocess.run([node, str(_script_path(script))], cwd=PEERS, env=env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0 or not result_file.exists():
            raise PeerError(f"{script} failed (exit {done.returncode}):\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}")
        return json.loads(result_file.read_text())


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _handler(files: Mapping[str, bytes], page: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):  # noqa: N802
            path = self.path.split("?")[0]
            body, ctype = None, "application/octet-stream"
            if path in ("/", "/index.html"):
                body, ctype = page.encode(), "text/html"
            elif path.startswith("/files/") and path[len("/files/"):] in files:
                body = files[path[len("/files/"):]]
                ctype = "application/json" if path.endswith(".json") else ctype
            elif path.startswith("/node_modules/"):
                target = (PEERS / path.lstrip("/")).resolve()
                if NODE_MODULES.resolve() in target.parents and target.is_file():
                    body = target.read_bytes()
                    ctype = "text/javascript" if target.suffix in (".js", ".mjs") else (
                        "application/wasm" if target.suffix == ".wasm" else ctype)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>playml peer</title>
<script src="/node_modules/ml5/dist/ml5.min.js"></script>
<script>window.tf = window.tf || (window.ml5 && ml5.tf);</script>
</head><body></body></html>"""


def run_chromium(script: str | os.PathLike, payload: Any = None, *, files: Mapping[str, bytes] | None = None,
                 timeout: float = 600, expect_downloads: int = 0) -> dict:
    """Run a browser ``script`` (path relative to ``bench/peers``, or JS source text) in headless Chromium.

    The script's ``async function main(payload)`` result is returned as ``{"result": ...,
    "downloads": {name: bytes}, "console": [lines]}``. ``expect_downloads`` waits for that
    many downloads (ml5's ``save()`` makes three) after ``main`` returns.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise PeerError("chromium is not installed (apt-get install -y chromium)")
    path = _script_path(script) if not str(script).lstrip().startswith(("async ", "function", "//", "const ")) else None
    source = path.read_text() if path is not None and path.exists() else str(script)
    server = _Server(("127.0.0.1", 0), _handler(dict(files or {}), _PAGE))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    downloads: dict[str, bytes] = {}
    console: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(accept_downloads=True)
                context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin)
                              else route.abort())
                page = context.new_page()
                page.set_default_timeout(timeout * 1000)
                page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))

                def on_download(download):
                    with tempfile.TemporaryDirectory() as tmp:
                        target = Path(tmp) / download.suggested_filename
                        download.save_as(target)
                        downloads[download.suggested_filename] = target.read_bytes()

                page.on("download", on_download)
                page.goto(origin + "/")
                page.wait_for_function("() => typeof ml5 !== 'undefined'")
                page.add_script_tag(content=source)
                try:
                    result = page.evaluate(
                        "async ([payload, ms]) => await Promise.race([main(payload), new Promise((_, reject) =>"
                        " setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))])",
                        [payload, int(timeout * 1000)])
                except Exception as e:  # playwright.Error: keep the page's console for the reader
                    raise PeerError(f"{script if path else 'browser script'} failed: {e}\n" + "\n".join(console[-40:])) from None
                waited = 0
                while len(downloads) < expect_downloads and waited < timeout * 1000:
                    page.wait_for_timeout(100)
                    waited += 100
                if len(downloads) < expect_downloads:
                    raise PeerError(f"expected {expect_downloads} downloads, got {sorted(downloads)}")
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"result": result, "downloads": downloads, "console": console}


def b64(data: bytes) -> str:
    """Bytes → base64 text, to pass binary files inside a JSON payload."""
    return base64.b64encode(data).decode()
