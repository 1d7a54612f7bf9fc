"""Speed of the TF.js graph models playml translates to ONNX (MoveNet, CenterNet, NanoDet,
handtrack), against TensorFlow.js 4.22 running the same model.json in Node (wasm backend),
in the same run.

Per model: *load* (playml: read + translate + open the ONNX Runtime session, first time and
from the cache; TF.js: loadGraphModel), *model ms/frame* (the network alone on one input:
``session.run`` vs ``model.executeAsync`` + reading the outputs), their ratio, and for the
tasks *task ms/frame*: ``detect(frame)`` on a 640×480 photo (pre-processing, network,
decoding, NMS, result objects). Targets: MoveNet Lightning ≥ 60 frames/s, detection ≥ 20
frames/s, every model ≥ 3× TF.js wasm.

    .venv/bin/python -m bench.objects
"""
from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import machine, markdown_table

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 20
TF_REPEAT = 8


def _photo(size: tuple[int, int]) -> np.ndarray:
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize(size, Image.BILINEAR))


def _cases():
    """(name, graph model, ONNX outputs, cut inputs, feeds for playml, feeds for TF.js, task factory)."""
    import playml as ml
    from playml.bodies.handtrack import _INPUT, _OUTPUTS, _SIZE

    cases = []
    for name, size, task in [("movenet-lightning", 192, lambda: ml.body_pose(model="movenet")),
                             ("movenet-thunder", 256, lambda: ml.body_pose(model="movenet-thunder")),
                             ("movenet-multipose", 256, lambda: ml.body_pose(model="movenet-multipose"))]:
        x = _photo((size, size))[None].astype(np.int32)
        cases.append((name, None, None, {"input:0": x}, {"input": x}, task))
    x = _photo((512, 512))[None].astype(np.float32)
    cases.append(("centernet", ["tower_0/detections"], None, {"tower_0/images": x}, {"tower_0/images": x},
                  lambda: ml.object_detector()))
    x = (_photo((416, 416)).transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)
    cases.append(("nanodet", None, None, {"input_1:0": x}, {"input_1": x}, None))
    img = _photo((_SIZE, _SIZE))
    pre = (img.astype(np.float32) * np.float32(2 / 255) - 1)[None]
    cases.append(("handtrack", _OUTPUTS, {_INPUT: (np.float32, [1, _SIZE, _SIZE, 3])}, {_INPUT: pre},
                  {"input_tensor": img[None].astype(np.int32)}, lambda: ml.hand_detector()))
    return cases


def _median_ms(fn, n: int) -> float:
    return _timed(fn, n)[0]


def _timed(fn, n: int) -> tuple[float, float]:
    """Median wall ms and median CPU ms (all threads of this process) per call."""
    fn()
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return 1000 * float(np.median(wall)), 1000 * float(np.median(cpu))


def measure() -> list[list]:
    from bench.peers.graph import run_tfjs_graph
    from playml.engines.onnx import forget_sessions
    from playml.formats.tfjs_graph import model_file
    from playml.zoo.tfjs_models import session

    frame = np.concatenate([_photo((320, 480))] * 2, axis=1)  # 640×480, two people
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PLAYML_CACHE"] = tmp  # a cold cache: the first load translates
        for name, outputs, cut, feeds, tf_feeds, task in _cases():
            t = time.perf_counter()
            sess = session(name, outputs, cut)
            first_load = time.perf_counter() - t
            forget_sessions()
            t = time.perf_counter()
            sess = session(name, outputs, cut)
            cached_load = time.perf_counter() - t
            ours, ours_cpu = _timed(lambda: sess.run(None, feeds), REPEAT)
            ref = run_tfjs_graph(model_file(name), tf_feeds, None if name == "handtrack" else outputs,
                                 repeat=TF_REPEAT)
            task_ms = None
            if task is not None:
                t_obj = task()
                task_ms = _median_ms(lambda: t_obj.detect(frame), REPEAT)
            rows.append([name, f"{first_load:.1f} s / {cached_load * 1000:.0f} ms", f"{ref['loadMs']:.0f} ms",
                         f"{ours:.1f}", f"{ours_cpu:.1f}", f"{ref['msPerRun']:.1f}", f"{ref['msPerRun'] / ours:.1f}×",
                         f"{task_ms:.1f} ({1000 / task_ms:.0f} fps)" if task_ms else "—"])
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main() -> None:
    load = os.getloadavg()
    rows = measure()
    header = ["model", "playml load (translate / cached)", "TF.js load", "playml model ms", "playml CPU ms",
              "TF.js wasm ms", "ratio (wall)", "playml task ms/frame"]
    table = markdown_table(header, rows)
    print(table)
    doc = [
        "# TF.js graph models: speed (MoveNet, objects, hands)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, `python -m bench.objects`; load average "
        f"during the run {load[0]:.1f} → {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores).",
        "",
        "*playml model ms*: median of " + str(REPEAT) + " `session.run` calls on a real photo (ONNX Runtime, "
        "the graph translated by `playml.formats.tfjs_graph`). *TF.js wasm ms*: TensorFlow.js 4.22's "
        "`loadGraphModel` + `executeAsync` of the same `model.json` in Node (wasm backend), mean of "
        f"{TF_REPEAT} runs after a warm-up, including reading the outputs. handtrack: playml runs the graph cut "
        "before its TensorFlow post-processing and does NMS in NumPy (in the task column); TF.js runs the whole "
        "graph including its control-flow NMS. *task ms/frame*: `detect(frame)` on a 640×480 picture "
        "(letterbox/resize, network, decoding, NMS, results). *playml CPU ms*: processor time of playml's "
        "process (all its threads) per `session.run`; it hardly depends on what else runs, and 1000 ÷ it is "
        "about the frame rate one free core would give. Other engineers' jobs shared the 2 cores (see the load): "
        "the wall times are inflated and noisy; read the ratios and the CPU column.",
        "",
        table,
        "",
    ]
    out = ROOT / "bench" / "results" / "objects.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(doc))
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
