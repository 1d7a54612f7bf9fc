"""Benchmark: playml studio's live preview through its WebSocket, against the same work in Python.

A real studio server runs on 127.0.0.1; a model is taught through its HTTP API (coffee vs
cat photos); then a WebSocket client (the ``websockets`` package, as a browser would) sends
640×480 JPEG frames made from real photos one after another, waiting for each answer.
Reported: classified frames per second and the round-trip time per frame (median and 95th
percentile), next to the same decode + classify called directly in Python (the peer), and
their ratio — the cost of the server, the socket and JSON. Body pose is measured the same
way. Targets: ≥ 20 frames per second and ≤ 60 ms per frame.

    .venv/bin/python -m bench.studio
"""
from __future__ import annotations

import datetime
import io
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import machine

FRAMES = 200
WARMUP = 15
ROUNDS = 2
RESULTS = Path(__file__).parent / "results" / "studio.md"


def _photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {name: getattr(data, name)() for name in ("coffee", "chelsea", "astronaut", "rocket")}


def _jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _frames(photos: dict[str, np.ndarray]) -> list[bytes]:
    """640×480 JPEGs (quality 80, like a browser's canvas.toBlob) of the real photos."""
    from PIL import Image

    return [_jpeg(np.asarray(Image.fromarray(p).resize((640, 480), Image.BILINEAR))) for p in photos.values()]


def _crops(photo: np.ndarray, n: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for _ in range(n):
        s = int(min(h, w) * rng.uniform(0.6, 0.95))
        y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
        out.append(_jpeg(photo[y:y + s, x:x + s], 90))
    return out


def _teach(server, photos) -> None:
    import httpx

    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=base, headers={"x-playml-token": server.token}, timeout=120) as http:
        for name, photo in (("coffee", photos["coffee"]), ("cat", photos["chelsea"])):
            cls = http.post("/api/teach/classes", json={"name": name}).json()
            files = [("files", (f"{name}{i}.jpg", data, "image/jpeg")) for i, data in enumerate(_crops(photo, 12, 1))]
            http.post(f"/api/teach/classes/{cls['id']}/samples", files=files).raise_for_status()
        http.post("/api/teach/train", json={"epochs": 30}).raise_for_status()
        with http.stream("GET", "/api/teach/events") as events:
            for line in events.iter_lines():
                if '"done"' in line or '"error"' in line:
                    assert '"done"' in line, line
                    break


def _webcam_frames(photos: dict[str, np.ndarray], n: int) -> list[bytes]:
    """640×480 JPEGs (quality 85, as the page records them) of moving crops of real photos."""
    from PIL import Image

    out = []
    for i, photo in enumerate(itertools.islice(itertools.cycle(photos.values()), n)):
        h, w = photo.shape[:2]
        dx = int((i * 7) % max(1, w // 8))
        crop = photo[:, dx:dx + w - w // 8]
        out.append(_jpeg(np.asarray(Image.fromarray(crop).resize((640, 480), Image.BILINEAR)), 85))
    return out


def _project_figures(photos: dict[str, np.ndarray]) -> dict[str, float]:
    """Examples recorded per second through the page's upload route, and train time after
    adding 10 examples to 100 (only the 10 featurised) against featurising all 110 again."""
    import httpx

    import playml as ml

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as models:
        server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
        try:
            base = f"http://127.0.0.1:{server.port}"
            with httpx.Client(base_url=base, headers={"x-playml-token": server.token}, timeout=300) as http:
                def upload(class_id: int, frames: list[bytes]) -> None:
                    for i in range(0, len(frames), 6):          # the page sends bursts of 6 pictures
                        files = [("files", (f"webcam-{j}.jpg", d, "image/jpeg")) for j, d in enumerate(frames[i:i + 6])]
                        http.post(f"/api/teach/classes/{class_id}/samples?source=webcam", files=files).raise_for_status()

                def train() -> dict:
                    http.post("/api/teach/train", json={"epochs": 50}).raise_for_status()
                    with http.stream("GET", "/api/teach/events") as events:
                        for line in events.iter_lines():
                            if '"done"' in line or '"error"' in line:
                                assert '"done"' in line, line
                                import json

                                return json.loads(line[6:])
                    raise AssertionError("no end of training")

                a = http.post("/api/teach/classes", json={"name": "coffee"}).json()
                b = http.post("/api/teach/classes", json={"name": "others"}).json()
                first = _webcam_frames({"coffee": photos["coffee"]}, 50)
                second = _webcam_frames({k: v for k, v in photos.items() if k != "coffee"}, 50)
                start = time.perf_counter()
                upload(a["id"], first)
                upload(b["id"], second)
                figures["recorded_per_s"] = 100 / (time.perf_counter() - start)
                start = time.perf_counter()
                done = train()
                figures["train_100_s"] = time.perf_counter() - start
                figures["featurised_100"] = done["featurised"]
                more = _webcam_frames({"coffee": photos["coffee"][::-1]}, 5) + _webcam_frames(
                    {"rocket": photos["rocket"][:, ::-1]}, 5)
                upload(a["id"], more[:5])
                upload(b["id"], more[5:])
                start = time.perf_counter()
                done = train()
                figures["train_110_s"] = time.perf_counter() - start
                figures["featurised_110"] = done["featurised"]
            # the peer: the same 110 examples featurised again, then the same head trained
            clf = ml.ImageClassification(server.app.state.project.extractor)
            start = time.perf_counter()
            clf.add_images(first + more[:5], "coffee", progress=False)
            clf.add_images(second + more[5:], "others", progress=False)
            clf.train(epochs=50, progress=False)
            figures["peer_110_s"] = time.perf_counter() - start
            # the page's recording path without HTTP: decode + keep as an example
            from playml.web.security import decode_image

            project = server.app.state.project.project
            start = time.perf_counter()
            for data in first:
                project.make_example(decode_image(data), "webcam")
            figures["peer_recorded_per_s"] = len(first) / (time.perf_counter() - start)
        finally:
            server.stop()
    return figures


def _kind_figures(photos: dict[str, np.ndarray]) -> dict[str, float]:
    """Live classification of a pose project (camera frames) and a sound project (the last
    second of sound, as the page sends it) through the WebSocket, and the same work in Python."""
    import json
    import shutil
    import subprocess

    from websockets.sync.client import connect

    import playml as ml
    from playml.core.audio import load_audio
    from playml.projects.project import _wav_bytes

    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        photos = {**photos, "grace_hopper": np.asarray(Image.open(f).convert("RGB"))}
    figures: dict[str, float] = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=tmp)
        try:
            teach = server.app.state.project
            # pose: astronaut vs Grace Hopper
            pose = ml.Project("pose", seed=0)
            for name, label in (("astronaut", "astronaut"), ("grace_hopper", "grace")):
                photo = photos[name]
                h, w = photo.shape[:2]
                for i in range(6):
                    s = 0.85 + 0.025 * i
                    pose.add_examples(label, [photo[: int(h * s), int(w * (1 - s)):]])
            pose.train(epochs=50)
            teach.project = pose
            frames = [f for f in _frames({k: photos[k] for k in ("astronaut", "grace_hopper")})]
            times = _through_socket(server, "classify", frames)
            figures["pose_fps"], figures["pose_ms"], _ = _summary(times)
            from playml.core.media import load_image

            peer = _direct(lambda d: pose.classify(load_image(d)), frames)
            figures["pose_py_fps"], figures["pose_py_ms"], _ = _summary(peer)
            # sound: background noise vs espeak-ng speech
            espeak = shutil.which("espeak-ng")
            if espeak:
                sound = ml.Project("sound", seed=0)
                for i in range(8):
                    sound.add_examples("Background noise", [(rng.normal(0, 0.003 * (i + 1), 16000).astype(np.float32),
                                                            16000)])
                for i, word in enumerate(("hello", "one two", "three four", "yes", "no", "good bye", "seven", "ten")):
                    raw = Path(tmp) / f"w{i}.wav"
                    subprocess.run([espeak, "-w", str(raw), word], check=True, capture_output=True)
                    sound.add_examples("speech", [str(raw)])
                sound.train(epochs=50)
                teach.project = sound
                clip, _ = load_audio(str(raw), target_rate=16000)
                second = np.zeros(16000, np.float32)
                second[: min(16000, len(clip))] = clip[:16000]
                windows = [np.roll(second, k * 4000).astype("<f4").tobytes() for k in range(4)]
                url = f"ws://127.0.0.1:{server.port}/ws/live?task=classify&token={server.token}"
                lat = []
                with connect(url, max_size=None, compression=None) as ws:
                    while json.loads(ws.recv())["type"] != "ready":
                        pass
                    for i in range(WARMUP + 80):
                        start = time.perf_counter()
                        ws.send(windows[i % 4])
                        answer = json.loads(ws.recv())
                        assert answer["type"] == "result", answer
                        if i >= WARMUP:
                            lat.append(time.perf_counter() - start)
                figures["sound_fps"], figures["sound_ms"], figures["sound_p95"] = _summary(lat)
                peer = _direct(lambda d: sound.classify((np.frombuffer(d, "<f4"), 16000)), windows)
                figures["sound_py_fps"], figures["sound_py_ms"], _ = _summary(peer)
        finally:
            server.stop()
    return figures


def _through_socket(server, task: str, frames: list[bytes]) -> list[float]:
    """Round-trip seconds per frame: send one JPEG, wait for its answer, send the next."""
    import json

    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{server.port}/ws/live?task={task}&token={server.token}"
    times = []
    with connect(url, max_size=None, compression=None) as ws:
        while json.loads(ws.recv())["type"] != "ready":
            pass
        for i in range(WARMUP + FRAMES):
            data = frames[i % len(frames)]
            start = time.perf_counter()
            ws.send(data)
            answer = json.loads(ws.recv())
            took = time.perf_counter() - start
            assert answer["type"] == "result", answer
            if i >= WARMUP:
                times.append(took)
    return times


def _direct(work, frames: list[bytes]) -> list[float]:
    times = []
    for i in range(WARMUP + FRAMES):
        start = time.perf_counter()
        work(frames[i % len(frames)])
        if i >= WARMUP:
            times.append(time.perf_counter() - start)
    return times


def _summary(times: list[float]) -> tuple[float, float, float]:
    """(frames per second, median ms, 95th-percentile ms)."""
    return len(times) / sum(times), 1000 * statistics.median(times), 1000 * float(np.percentile(times, 95))


def main() -> str:
    import playml as ml
    from playml.core.media import load_image
    from playml.web.live import Classifying
    from playml.web.security import decode_image

    import os

    photos = _photos()
    frames = _frames(photos)
    project = _project_figures(photos)
    kinds = _kind_figures(photos)
    with tempfile.TemporaryDirectory() as models:
        server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
        try:
            _teach(server, photos)
            clf = server.app.state.project.current()
            pose = ml.body_pose()
            stream_frame: list = [None]

            def frames_for_pose():
                while stream_frame[0] is not None:
                    f, stream_frame[0] = stream_frame[0], None
                    yield f

            pose_stream = pose.detect_stream(frames_for_pose())

            def direct_pose(data: bytes):
                stream_frame[0] = load_image(data)
                return next(pose_stream)

            best: dict[str, list[float]] = {}
            for _ in range(ROUNDS):  # contenders take turns so a busy spell does not hit only one
                for key, run in (("ws-classify", lambda: _through_socket(server, "classify", frames)),
                                 ("py-classify", lambda: _direct(
                                     lambda d: clf.classify(decode_image(d, Classifying.draft_size)), frames)),
                                 ("ws-pose", lambda: _through_socket(server, "pose", frames)),
                                 ("py-pose", lambda: _direct(direct_pose, frames))):
                    times = run()
                    if key not in best or statistics.median(times) < statistics.median(best[key]):
                        best[key] = times
            pose_stream.close()
        finally:
            server.stop()

    load = os.getloadavg()[0]
    ws_fps, ws_med, ws_p95 = _summary(best["ws-classify"])
    py_fps, py_med, py_p95 = _summary(best["py-classify"])
    wp_fps, wp_med, wp_p95 = _summary(best["ws-pose"])
    pp_fps, pp_med, pp_p95 = _summary(best["py-pose"])
    rows = [
        ("live preview rate (classify), frames/s", f"{ws_fps:.1f}", f"{py_fps:.1f}", f"{ws_fps / py_fps:.2f}×", "≥ 20"),
        ("round trip per frame (classify), median ms", f"{ws_med:.1f}", f"{py_med:.1f}", f"{ws_med / py_med:.2f}×",
         "≤ 60"),
        ("round trip per frame (classify), 95th pct ms", f"{ws_p95:.1f}", f"{py_p95:.1f}", f"{ws_p95 / py_p95:.2f}×",
         ""),
        ("body pose through the socket, frames/s", f"{wp_fps:.1f}", f"{pp_fps:.1f}", f"{wp_fps / pp_fps:.2f}×", ""),
        ("round trip per frame (pose), median ms", f"{wp_med:.1f}", f"{pp_med:.1f}", f"{wp_med / pp_med:.2f}×", ""),
    ]
    rows += [
        ("webcam examples recorded (bursts of 6 over HTTP), examples/s", f"{project['recorded_per_s']:.1f}",
         f"{project['peer_recorded_per_s']:.1f}", f"{project['recorded_per_s'] / project['peer_recorded_per_s']:.2f}×",
         ""),
        (f"train after adding 10 examples to 100 (featurised {project['featurised_110']:.0f}), s",
         f"{project['train_110_s']:.2f}", f"{project['peer_110_s']:.2f}",
         f"{project['train_110_s'] / project['peer_110_s']:.2f}×", ""),
        (f"first train on 100 examples (featurised {project['featurised_100']:.0f}), s", f"{project['train_100_s']:.2f}",
         "", "", ""),
        ("pose project live (find the body + classify), frames/s", f"{kinds['pose_fps']:.1f}",
         f"{kinds['pose_py_fps']:.1f}", f"{kinds['pose_fps'] / kinds['pose_py_fps']:.2f}×", "≥ 20"),
        ("pose project round trip per frame, median ms", f"{kinds['pose_ms']:.1f}", f"{kinds['pose_py_ms']:.1f}",
         f"{kinds['pose_ms'] / kinds['pose_py_ms']:.2f}×", ""),
    ]
    if "sound_ms" in kinds:
        rows += [
            ("sound project: latency of one decision on the last second, median ms", f"{kinds['sound_ms']:.1f}",
             f"{kinds['sound_py_ms']:.1f}", f"{kinds['sound_ms'] / kinds['sound_py_ms']:.2f}×", "≤ 300"),
            ("sound project: latency, 95th pct ms", f"{kinds['sound_p95']:.1f}", "", "", ""),
            ("sound project: decisions the server can make, per s (the page asks every 250 ms)",
             f"{kinds['sound_fps']:.1f}", f"{kinds['sound_py_fps']:.1f}",
             f"{kinds['sound_fps'] / kinds['sound_py_fps']:.2f}×", "≥ 4"),
        ]
    head = ("| measure | playml studio (WebSocket) | same work called in Python | ratio | target |\n"
            "|---|---:|---:|---:|---|")
    table = "\n".join([head, *(f"| {' | '.join(r)} |" for r in rows)])
    verdict = ("meets" if ws_fps >= 20 and ws_med <= 60 else "misses")
    text = (f"# playml studio: live preview through the WebSocket\n\n"
            f"{datetime.date.today().isoformat()} · {machine()} · load average during the run "
            f"{load:.1f} (other jobs share the 2 cores: figures are noisy; the ratio is measured in the same run)\n\n"
            f"{FRAMES} frames per run after {WARMUP} warm-up frames, best of {ROUNDS} alternating rounds. Source: "
            f"640×480 JPEGs (quality 80) of four scikit-image photos, sent one after another by a `websockets` "
            f"client over 127.0.0.1 to a real studio server; each waits for its answer. The Python column "
            f"decodes the same JPEG the same way (classify: at half size, JPEG draft mode, as the server does) and "
            f"calls `clf.classify` (or the pose stream) directly — the ratio is the "
            f"server's overhead (socket, JSON, threads). The model: EfficientNet-Lite0 features + the trained "
            f"head (2 classes).\n\nProject rows: 100 webcam-like 640×480 JPEGs (quality 85) sent to the upload route in "
            f"bursts of 6 as the page does, then trained (50 epochs); 10 more added and trained again — only those 10 "
            f"are featurised (features are cached by content and backbone). Their Python column: decoding and keeping "
            f"the same frames directly, and a fresh `ImageClassification` that featurises all 110 and trains the same "
            f"head (what every Train did before projects). Pose project: 12 examples found in crops of two photos, live "
            f"frames are the four 640×480 JPEGs (body found by BlazePose, then the keypoint head). Sound project: 8 "
            f"background-noise clips and 8 espeak-ng words; live windows are one second of float32 samples, as the "
            f"page sends them every 250 ms; the Python column classifies the same windows directly.\n\n{table}\n\nThe classify figures {verdict} the targets (≥ 20 frames/s, "
            f"≤ 60 ms per frame).\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(table)
    return text


if __name__ == "__main__":
    main()
