"""Training speed of ``neural_network`` against ml5.js, TensorFlow.js and a plain PyTorch loop.

The job (issue 4): 300 examples of 1,280 numbers (three clusters, normalised to 0–1) →
Dense(128, relu) → Dense(3, softmax), 50 epochs, batch 16, no validation split, SGD at 0.2 —
ml5.js's own optimizer for classification, so every row does the same arithmetic. Rows:

- playml: ``ml.neural_network(..., layers=[...], optimizer="sgd", learning_rate=0.2).train(...)``;
- ml5.js 1.4.0 in headless Chromium (its default backend here: WebGL on SwiftShader, i.e. the
  CPU — says nothing about a real GPU), timed around ``nn.train`` inside the page;
- TensorFlow.js 4.22 on the wasm backend in Node (``bench/peers/node/train_dense.mjs``);
- a plain PyTorch loop (``torch.optim.SGD``), what one writes by hand, with PyTorch's default
  threads and with one thread;
- the same with Adam (lr 0.001) for playml, TF.js and PyTorch, as playml's default optimizer.

playml and PyTorch: best of REPEATS runs; the JS peers: best of JS_REPEATS (they are slow).

    .venv/bin/python -m bench.network
"""
from __future__ import annotations

import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench import common

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "network.md"
N, FEATURES, HIDDEN, CLASSES, EPOCHS, BATCH, LR_SGD, LR_ADAM = 300, 1280, 128, 3, 50, 16, 0.2, 0.001
REPEATS = int(os.environ.get("REPEATS", 5))
JS_REPEATS = int(os.environ.get("JS_REPEATS", 1))
TARGETS = {"ml5.js": 40.0, "TF.js wasm": 15.0}  # issue 22: ≥ 40× ml5.js


def machine() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{common.machine()}, load average {load}"


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centers = rng.uniform(0, 1, (CLASSES, FEATURES))
    y = rng.integers(0, CLASSES, N)
    x = np.maximum(centers[y] + rng.normal(0, 0.5, (N, FEATURES)), 0)
    x = (x - x.min(0)) / (x.max(0) - x.min(0))
    return x.astype(np.float32), y


def best(fn, repeats: int) -> tuple[float, float]:
    runs = [fn() for _ in range(repeats)]
    return min(r[0] for r in runs), runs[-1][1]


def bench_playml(x, y, optimizer: str, lr: float):
    import playml as ml

    def once():
        nn = ml.neural_network(task="classification", optimizer=optimizer, learning_rate=lr, seed=0,
                               layers=[{"type": "dense", "units": HIDDEN, "activation": "relu"},
                                       {"type": "dense", "activation": "softmax"}])
        for row, label in zip(x, y):
            nn.add_data(row, [str(label)])
        t = time.perf_counter()
        h = nn.train(epochs=EPOCHS, batch_size=BATCH, validation_split=0, progress=False)
        return time.perf_counter() - t, h["loss"][-1]

    return best(once, REPEATS)


def bench_torch(x, y, optimizer: str, lr: float, threads: int | None = None):
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    default_threads = torch.get_num_threads()

    def once():
        torch.set_num_threads(threads or default_threads)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES))
        opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
        t = time.perf_counter()
        for _ in range(EPOCHS):
            order = torch.randperm(N)
            total = 0.0
            for s in range(0, N, BATCH):
                idx = order[s:s + BATCH]
                loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
        elapsed = time.perf_counter() - t
        torch.set_num_threads(default_threads)
        return elapsed, total / N

    return best(once, REPEATS)


def bench_tfjs(x, y, optimizer: str, lr: float):
    from bench.peers import run_node

    def once():
        out = run_node("node/train_dense.mjs", {"x": x.tolist(), "y": y.tolist(), "classes": CLASSES, "hidden": [HIDDEN],
                                                "optimizer": optimizer, "learningRate": lr, "epochs": EPOCHS,
                                                "batchSize": BATCH, "validationSplit": 0, "backend": "wasm"})
        return out["seconds"], out["loss"][-1]

    return best(once, JS_REPEATS)


def bench_ml5(x, y):
    from bench.peers import run_chromium

    job = {"mode": "train", "options": {"task": "classification", "learningRate": LR_SGD,
                                        "layers": [{"type": "dense", "units": HIDDEN, "activation": "relu"},
                                                   {"type": "dense", "activation": "softmax"}]},
           "data": [[row.tolist(), [str(label)]] for row, label in zip(x, y)], "normalize": False,
           "train": {"epochs": EPOCHS, "batchSize": BATCH, "validationSplit": 0}}

    def once():
        out = run_chromium("browser/ml5_neural_network.js", job, timeout=900)["result"]
        return out["seconds"], out["losses"][-1], out["backend"]

    runs = [once() for _ in range(JS_REPEATS)]
    return min(r[0] for r in runs), runs[-1][1], runs[-1][2]


def main() -> None:
    from bench.peers import available

    x, y = data()
    start = machine()
    have = available()
    rows: list[tuple[str, str, float | None, float | None]] = []
    print(f"neural_network training: {N}×{FEATURES} → Dense({HIDDEN}, relu) → Dense({CLASSES}, softmax), "
          f"{EPOCHS} epochs, batch {BATCH}\n{machine()}\n", flush=True)
    pl_sgd = bench_playml(x, y, "sgd", LR_SGD)
    rows.append(("playml", f"SGD {LR_SGD}", *pl_sgd))
    rows.append(("plain PyTorch loop", f"SGD {LR_SGD}", *bench_torch(x, y, "sgd", LR_SGD)))
    rows.append(("plain PyTorch loop, 1 thread", f"SGD {LR_SGD}", *bench_torch(x, y, "sgd", LR_SGD, threads=1)))
    if have["node"]:
        rows.append(("TF.js wasm", f"SGD {LR_SGD}", *bench_tfjs(x, y, "sgd", LR_SGD)))
    if have["chromium"]:
        seconds, loss, backend = bench_ml5(x, y)
        rows.append(("ml5.js", f"SGD {LR_SGD} ({backend}, SwiftShader)", seconds, loss))
    pl_adam = bench_playml(x, y, "adam", LR_ADAM)
    rows.append(("playml", f"Adam {LR_ADAM}", *pl_adam))
    rows.append(("plain PyTorch loop", f"Adam {LR_ADAM}", *bench_torch(x, y, "adam", LR_ADAM)))
    if have["node"]:
        rows.append(("TF.js wasm", f"Adam {LR_ADAM}", *bench_tfjs(x, y, "adam", LR_ADAM)))

    table_rows = []
    for name, opt, seconds, loss in rows:
        ours = pl_sgd[0] if opt.startswith("SGD") else pl_adam[0]
        table_rows.append([name, opt, f"{seconds:.2f}", f"{loss:.4f}", "" if name == "playml" else f"{seconds / ours:.1f}×",
                           f"≥ {TARGETS[name]:.0f}×" if name in TARGETS else ""])
    table = common.markdown_table(["engine", "optimizer", "training time (s)", "final loss", "playml is … faster",
                                   "target"], table_rows)
    print(table)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nat the end: {machine()}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        f"# neural_network training speed\n\n{stamp} — at the start: {start}; at the end: {machine()}\n\n"
        f"Job: {N} examples × {FEATURES} features → Dense({HIDDEN}, relu) → Dense({CLASSES}, softmax), "
        f"{EPOCHS} epochs, batch {BATCH}, no validation split. playml and PyTorch: best of {REPEATS}; "
        f"JS peers: best of {JS_REPEATS}. ml5.js runs in headless Chromium on WebGL rendered by SwiftShader "
        "(software, on the CPU: not a real GPU). Run: `.venv/bin/python -m bench.network`.\n\n"
        f"{table}\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
