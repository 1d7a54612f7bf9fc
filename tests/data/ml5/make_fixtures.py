"""Regenerate the ml5.js-saved models in this folder (needs Chromium and bench/peers/node_modules).

    .venv/bin/python tests/data/ml5/make_fixtures.py

Each folder holds the three files ml5.js 1.4.0's ``save()`` downloaded, plus ``expected.json``:
the inputs given to ml5's ``classify``/``predict`` after training and what it answered.
"""
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
from bench.peers import run_chromium  # noqa: E402

COLOURS = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0)}


def colour_job():
    rng = np.random.default_rng(0)
    data = []
    for name, rgb in COLOURS.items():
        for _ in range(25):
            r, g, b = np.clip(np.array(rgb) + rng.normal(0, 25, 3), 0, 255).round()
            data.append([{"r": r, "g": g, "b": b}, {"colour": name}])
    probe = [[250, 10, 10], {"r": 10, "g": 120, "b": 20}, [20, 20, 240], [240, 240, 30], [128, 128, 128]]
    return {"mode": "train", "options": {"task": "classification", "inputs": ["r", "g", "b"], "outputs": ["colour"]},
            "data": data, "normalize": True, "train": {"epochs": 20, "batchSize": 16}, "probe": probe,
            "save": True}


def regression_job():
    xs = np.linspace(-1, 4, 21)
    data = [[[float(x)], [float(2 * x - 1)]] for x in xs]
    return {"mode": "train", "options": {"task": "regression", "inputs": 1, "outputs": 1, "learningRate": 0.02}, "data": data,
            "normalize": True, "train": {"epochs": 60, "batchSize": 8}, "probe": [[-0.5], [0.3], [2.2], [3.7]],
            "save": True}


def main():
    for name, job in (("colour-classifier", colour_job()), ("line-regression", regression_job())):
        out = run_chromium("browser/ml5_neural_network.js", job, expect_downloads=3, timeout=300)
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        for fname, data in out["downloads"].items():
            (folder / fname).write_bytes(data)
        (folder / "expected.json").write_text(json.dumps({"task": job["options"]["task"], "probe": job["probe"],
                                                          "outputs": out["result"]["outputs"]}, indent=1))
        print(name, sorted(out["downloads"]), out["result"]["backend"])


if __name__ == "__main__":
    main()
