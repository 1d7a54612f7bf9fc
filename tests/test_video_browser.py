"""`playml pose clip --out drawn.webm` writes a video that a browser plays: headless Chromium
loads it in a <video> element, knows its size and length, plays it, and paints real frames."""
from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import BROWSER_ARGS, ROOT, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARGS = [*BROWSER_ARGS, "--autoplay-policy=no-user-gesture-required"]
PAGE = """<!doctype html><meta charset="utf-8"><video id="v" src="drawn.webm" muted playsinline></video>
<canvas id="c"></canvas>"""


def test_pose_webm_out_plays_in_chromium(tmp_path, photos):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    from playml.core.video import video_info, write_video

    frames = [np.roll(photos["astronaut"], 8 * i, axis=1)[::2, ::2] for i in range(12)]  # 256×256, 12 frames
    clip = write_video(tmp_path / "clip.avi", frames, fps=6)
    out = tmp_path / "drawn.webm"
    done = subprocess.run([sys.executable, "-m", "playml", "pose", str(clip), "--out", str(out)], cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3" and b"V_VP9" in data[:4096]  # WebM holding VP9
    assert video_info(out)["frames"] == 12
    (tmp_path / "index.html").write_text(PAGE)

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            page.wait_for_function("document.getElementById('v').readyState >= 2 || !!document.getElementById('v').error",
                                   timeout=30_000)
            info = page.evaluate("""() => { const v = document.getElementById('v');
                return {error: v.error && v.error.code, readyState: v.readyState, duration: v.duration,
                        width: v.videoWidth, height: v.videoHeight}; }""")
            assert info["error"] is None, info
            assert info["readyState"] >= 2 and (info["width"], info["height"]) == (256, 256), info
            assert 1.5 <= info["duration"] <= 2.5, info          # 12 frames at 6 fps: 2 s
            page.evaluate("document.getElementById('v').play()")
            page.wait_for_function("document.getElementById('v').currentTime > 0.3", timeout=30_000)
            # a decoded frame holds the drawn photo, not a black or empty picture
            stats = page.evaluate("""() => { const v = document.getElementById('v'), c = document.getElementById('c');
                c.width = v.videoWidth; c.height = v.videoHeight; const g = c.getContext('2d');
                g.drawImage(v, 0, 0); const d = g.getImageData(0, 0, c.width, c.height).data;
                let sum = 0, sq = 0, n = 0;
                for (let i = 0; i < d.length; i += 4) { const y = (d[i] + d[i + 1] + d[i + 2]) / 3; sum += y; sq += y * y; n++; }
                const mean = sum / n; return {mean, std: Math.sqrt(sq / n - mean * mean)}; }""")
            assert 30 < stats["mean"] < 225 and stats["std"] > 20, stats
            assert not errors, errors
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
