"""Benchmark: embedding a folder for image search, locally and with Ray Data (1 and 2 workers).

    .venv/bin/python -m bench.search_ray [--images 600] [--int8]

One run on this machine, same folder of 640×480 JPEGs (bench.images.make_folder), no chunk
cache (every image embedded each time):

1. ``ml.image_search(folder)`` — the local engine (one process, decode threads + ONNX Runtime);
2. ``ml.image_search(folder, engine="ray")`` on a local Ray (``ray.init(num_cpus=2)``) with
   1 and 2 workers (one 1-thread ONNX session each); Ray's start-up is timed apart.

Writes ``bench/results/search_ray.md`` with the arithmetic for 10 million photos on N machines.
"""
from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from bench.images import load_average, machine, make_folder

ROOT = Path(__file__).resolve().parents[1]


def rate(build, paths: list) -> tuple[float, float, float]:
    """``(whole, steady, fixed)``: images/s of a whole build of ``paths`` (best of 2, what a user
    waits for), and from builds of a third and all of them the steady images/s (the slope: extra
    images / extra seconds) and the fixed seconds per build that are left (Ray starts its worker
    actors, each opens its ONNX session, for every build). For 10 million photos the fixed
    seconds vanish, so the arithmetic below uses the steady figure; builds of a few hundred
    images make it steady enough (with 100 and 200 it swung from 0.6× to 4.7× between runs)."""
    third = paths[: len(paths) // 3]
    times = {}
    for part in (third, paths):
        best = 1e9
        for _ in range(2):
            t = time.perf_counter()
            build(part)
            best = min(best, time.perf_counter() - t)
        times[len(part)] = best
    (n1, t1), (n2, t2) = sorted(times.items())
    steady = (n2 - n1) / max(t2 - t1, 1e-9)
    return n2 / t2, steady, max(0.0, t2 - n2 / steady)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    precision = "int8" if args.int8 else "float32"
    import ray

    import playml as ml
    from playml.images import distributed
    from playml.images.search import ImageSearch

    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_folder(folder, args.images)
        n = args.images
        ml.feature_extractor(precision=precision).session  # the export exists before anything is timed
        local = rate(lambda part: ImageSearch(cache=False, precision=precision).build(part, progress=False), paths)
        t = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        start = time.perf_counter() - t
        rays = {}
        real = distributed.embed_files
        for workers in (1, 2):
            def embed(*a, _w=workers, **kw):
                kw["workers"] = _w
                return real(*a, **kw)

            distributed.embed_files = embed
            try:
                ImageSearch(cache=False, engine="ray", precision=precision).build(paths[:8], progress=False)  # warm
                rays[workers] = rate(lambda part: ImageSearch(cache=False, engine="ray", precision=precision)
                                     .build(part, progress=False), paths)
            finally:
                distributed.embed_files = real
        ray.shutdown()
    per_machine = max(r[1] for r in rays.values())
    header = ["engine", f"images/s, whole build of {n}", "images/s (steady)", "fixed s per build", "scaling (whole)"]
    rows = [["local engine (1 process)", f"{local[0]:.0f}", f"{local[1]:.0f}", f"{local[2]:.1f}", ""],
            ["Ray, 1 worker", f"{rays[1][0]:.0f}", f"{rays[1][1]:.0f}", f"{rays[1][2]:.1f}",
             f"{rays[1][0] / local[0]:.2f}× local"],
            ["Ray, 2 workers", f"{rays[2][0]:.0f}", f"{rays[2][1]:.0f}", f"{rays[2][2]:.1f}",
             f"{rays[2][0] / rays[1][0]:.2f}× 1 worker, {rays[2][0] / local[0]:.2f}× local"]]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in [header, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    table = "\n".join(lines)
    hours = {m: 10_000_000 / (per_machine * m) / 3600 for m in (1, 10, 50, 100)}
    arithmetic = (f"10 M photos ÷ ({per_machine:.0f} images/s per 2-core machine × N machines): "
                  + ", ".join(f"N = {m}: {h:.1f} h" for m, h in hours.items())
                  + f" (the steady rate of the best Ray row; the local engine on one machine: {local[1]:.0f} images/s). "
                    f"A machine with c cores adds about {per_machine / 2:.0f} × c images/s when workers scale as "
                    f"they did here (1 → 2 workers, steady: {rays[2][1] / rays[1][1]:.2f}×); the driver only receives vectors "
                    "(5 KB per photo, 50 GB for 10 M), so it is not the limit below a few thousand images/s.")
    text = (f"# Image search build: local vs Ray ({precision})\n\n{datetime.date.today().isoformat()} · {machine()} · "
            f"{n} JPEGs 640×480 · load average {load_before} at the start, {load_average()} at the end (other jobs "
            "shared the 2 cores: compare the ratios) · Ray start-up "
            f"{start:.1f} s (not counted)\n\n{table}\n\n{arithmetic}\n")
    print(text)
    out = ROOT / "bench" / "results" / ("search_ray.md" if precision == "float32" else "search_ray_int8.md")
    out.write_text(text, encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
