"""Live webcam frames over a WebSocket: classify them, or find bodies, hands, faces, people and objects.

The browser sends one JPEG per binary message; the server answers each with one JSON
message. Frames are never queued: while one is being worked on, a newer one replaces any
waiting one (the older is dropped and counted), so the answers always follow the newest
frame. The model runs in a thread of its own, off the event loop.

Messages from the server: ``{"type": "ready", ...}`` first (keypoint names and the lines
between them for the body tasks), then ``{"type": "result", "ms": …, "dropped": …, ...}``
per frame, or ``{"type": "error", "message": …}``.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from playml.web.security import MAX_FRAME_BYTES, BadRequest, decode_image

__all__ = ["LIVE_TASKS", "serve_live", "Classifying", "Tracking", "Styling"]


class Classifying:
    """Classify frames with the Teach project's current model (for a pose project: find the
    body first, send its keypoints along, and classify them)."""

    #: the backbone sees 224×224 pixels: a JPEG frame may decode at a fraction of its size
    draft_size = (256, 256)

    def __init__(self, project):
        self.project = project
        self.kind = project.project.kind
        self.tracking = None
        if self.kind == "pose":
            self.draft_size = None  # keypoints in pixels of the frame as sent
            self.tracking = Tracking("pose")
        #: a sound project is sent raw samples (float32, 16 kHz, little-endian), not pictures
        self.raw = self.kind == "sound"

    def process_bytes(self, data: bytes) -> dict[str, Any]:
        samples = np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")
        if not len(samples) or not np.isfinite(samples).all():
            raise BadRequest("Send the last second of sound as 32-bit float samples at 16 kHz.")
        clf = self.project.current()
        if clf is None:
            raise BadRequest("There is no model yet. Train one (or open a saved one) first.", 409)
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        return {
            "predictions": [
                {"label": str(p.label), "confidence": round(float(p.confidence), 5)}
                for p in clf.classify((samples.astype(np.float32), 16000))
            ],
            "level": round(rms, 5),
        }

    def hello(self) -> dict[str, Any]:
        clf = self.project.current()
        hello = {
            "type": "ready",
            "task": "classify",
            "kind": self.kind,
            "labels": [str(v) for v in clf.labels_] if clf else [],
        }
        if self.tracking is not None:
            hello.update({k: v for k, v in self.tracking.hello().items() if k in ("names", "connections")})
        return hello

    def process(self, rgb: np.ndarray) -> dict[str, Any]:
        if self.tracking is None:
            return {"predictions": self.project.classify(rgb)}
        found = self.tracking.process(rgb)["found"]
        if not found:
            return {"predictions": [], "found": [], "message": "No body in view."}
        return {"predictions": self.project.classify_pose(found[0]["points"]), "found": found[:1]}

    def close(self) -> None:
        if self.tracking is not None:
            self.tracking.close()


class Tracking:
    """Body pose, hands or face mesh (MediaPipe's tracking between frames), several people (MoveNet
    MultiPose) or objects (CenterNet) on a stream of frames."""

    draft_size = None  # keypoints come back in pixels of the frame as sent

    def __init__(self, kind: str):
        import playml as ml

        self.kind = kind
        self.task = {
            "pose": ml.body_pose,
            "hands": ml.hand_pose,
            "face": ml.face_mesh,
            "people": lambda: ml.body_pose(model="movenet-multipose"),
            "objects": ml.object_detector,
        }[kind]()
        self._frame: np.ndarray | None = None
        self._stream: Any = None  # the task's detect_stream generator, started on the first frame

    def hello(self) -> dict[str, Any]:
        if self.kind == "face":
            lines = self.task.connections("contours")
            names: list[str] = []
        elif self.kind == "objects":
            lines, names = [], []
        else:
            names = self.task.keypoint_names()
            index = {n: i for i, n in enumerate(names)}
            lines = [(index[a], index[b]) for a, b in self.task.connections()]
        return {"type": "ready", "task": self.kind, "names": names, "connections": [list(p) for p in lines]}

    def _frames(self):
        while self._frame is not None:
            frame, self._frame = self._frame, None
            yield frame

    def process(self, rgb: np.ndarray) -> dict[str, Any]:
        if self._stream is None:
            self._stream = self.task.detect_stream(self._frames())
        self._frame = rgb
        _, found = next(self._stream)
        out = []
        for item in found:
            if self.kind == "objects":
                out.append(
                    {
                        "points": [],
                        "label": item.label,
                        "confidence": round(item.confidence, 3),
                        "box": [item.x, item.y, item.width, item.height],
                    }
                )
                continue
            points = [
                [round(kp.x, 1), round(kp.y, 1), round(kp.confidence, 3) if kp.confidence is not None else 1.0]
                for kp in item.keypoints
            ]
            entry: dict[str, Any] = {"points": points}
            if self.kind == "hands":
                entry["label"] = item.handedness
            out.append(entry)
        return {"found": out}

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self.task is not None:
            self.task.close()
        self.task = None
        self._frame = None
        _give_memory_back()


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for the studio process: each live connection runs in its own
    worker thread, and per-thread arenas otherwise keep the MediaPipe buffers of closed
    connections (measured: 383 → 1,100 MB RSS over 35 pose connections; ~120–150 MB flat with
    this and :func:`_give_memory_back`)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, int(arenas))  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


def _give_memory_back() -> None:
    """Return freed MediaPipe buffers to the system (glibc keeps them in per-thread arenas,
    about 100 MB per closed live connection otherwise)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class Pitching:
    """The pitch of short windows of microphone samples (float32, 16 kHz), with CREPE."""

    raw = True
    draft_size = None

    def __init__(self):
        import playml as ml

        self.detector = ml.pitch_detection()

    def hello(self) -> dict[str, Any]:
        return {"type": "ready", "task": "pitch", "rate": 16000}

    def process_bytes(self, data: bytes) -> dict[str, Any]:
        samples = np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")
        if len(samples) < 1024 or not np.isfinite(samples).all():
            raise BadRequest("Send at least 1024 samples (64 ms) of sound as 32-bit floats at 16 kHz.")
        p = self.detector.get_pitch((samples.astype(np.float32), 16000))
        return {
            "frequency": None if p.frequency is None else round(float(p.frequency), 2),
            "note": p.note,
            "cents": None if p.cents is None else round(float(p.cents), 1),
            "confidence": round(float(p.confidence), 3),
        }

    def close(self) -> None:
        pass


class Styling:
    """Paint each frame in a bundled style (the Create page); answers with the painted JPEG."""

    draft_size = (640, 640)
    size = 320  # the longest side the network works at: live speed on a laptop CPU

    def __init__(self, style: str):
        import playml as ml

        self.style = style
        self.task = ml.style_transfer(style)

    def hello(self) -> dict[str, Any]:
        _ = self.task.session  # export/load the network before the first frame
        return {"type": "ready", "task": "style", "style": self.style}

    def process(self, rgb: np.ndarray) -> dict[str, Any]:
        import base64
        import io

        from PIL import Image

        painted = self.task.transfer_array(rgb, size=self.size)
        buffer = io.BytesIO()
        Image.fromarray(painted).save(buffer, format="JPEG", quality=85)
        return {"image": "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()}

    def close(self) -> None:
        pass


#: Live tasks and what the page says while their model loads.
LIVE_TASKS = {
    "classify": "the Teach model",
    "pose": "the body pose model",
    "hands": "the hand model",
    "face": "the face mesh model",
    "people": "the MoveNet MultiPose model",
    "objects": "the object detector",
    "pitch": "the pitch model (CREPE)",
    **{f"style-{i}": f"painting style {i}" for i in range(26)},
}


def _runner(task: str, project):
    if task == "classify":
        return Classifying(project)
    if task == "pitch":
        return Pitching()
    if task.startswith("style-"):
        return Styling(task)
    return Tracking(task)


async def serve_live(ws, task: str, project) -> None:
    """Run one live WebSocket until the browser closes it."""
    from starlette.websockets import WebSocketDisconnect

    await ws.accept()
    if task not in LIVE_TASKS:
        await ws.send_json(
            {"type": "error", "message": f"Unknown live task {task!r}. Use one of: {', '.join(LIVE_TASKS)}."}
        )
        await ws.close(1008)
        return
    loop = asyncio.get_running_loop()
    worker = ThreadPoolExecutor(1, thread_name_prefix=f"playml-live-{task}")
    newest: list[bytes | None] = [None]
    arrived = asyncio.Event()
    state = {"dropped": 0, "closed": False, "frames": 0}

    async def receive() -> None:
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is None:
                    continue  # text messages are not used yet
                if newest[0] is not None:
                    state["dropped"] += 1
                newest[0] = data
                arrived.set()
        except WebSocketDisconnect:
            pass
        finally:
            state["closed"] = True
            arrived.set()

    listener = asyncio.create_task(receive())
    runner = None
    try:
        await ws.send_json({"type": "status", "message": f"Loading {LIVE_TASKS[task]}…"})
        runner = await loop.run_in_executor(worker, _runner, task, project)
        await ws.send_json(await loop.run_in_executor(worker, runner.hello))

        def work(data: bytes) -> dict[str, Any]:
            start = time.perf_counter()
            try:
                if len(data) > MAX_FRAME_BYTES:
                    raise BadRequest(f"A frame can be at most {MAX_FRAME_BYTES // (1024 * 1024)} MB.", 413)
                if getattr(runner, "raw", False):
                    result = {"type": "result", **runner.process_bytes(data)}
                else:
                    rgb = decode_image(data, runner.draft_size)
                    result = {"type": "result", **runner.process(rgb)}
                    if runner.draft_size is None:
                        result.update(width=rgb.shape[1], height=rgb.shape[0])
            except BadRequest as e:
                result = {"type": "error", "message": str(e)}
            result["ms"] = round((time.perf_counter() - start) * 1000, 2)
            return result

        while True:
            await arrived.wait()
            arrived.clear()
            if state["closed"]:
                break
            data, newest[0] = newest[0], None
            if data is None:
                continue
            result = await loop.run_in_executor(worker, work, data)
            state["frames"] += 1
            result["dropped"] = state["dropped"]
            result["frame"] = state["frames"]
            try:
                await ws.send_json(result)
            except (WebSocketDisconnect, RuntimeError):
                break
    except WebSocketDisconnect:
        pass
    except Exception as e:  # noqa: BLE001 - tell the page in words, then close
        try:
            await ws.send_json({"type": "error", "message": f"The live view stopped: {type(e).__name__}: {e}"})
        except Exception:  # noqa: BLE001
            pass
    finally:
        listener.cancel()
        if runner is not None:
            worker.submit(runner.close)
        worker.shutdown(wait=False)
