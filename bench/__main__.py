"""Run every benchmark and collect their tables into bench/RESULTS.md.

    .venv/bin/python -m bench              # all areas
    .venv/bin/python -m bench images teach # some areas

Each area is a module `bench/<area>.py` that prints its table and writes
`bench/results/<area>.md` (date, machine, figures for playml and its peers, ratios,
targets). Areas run one after another in fresh processes so they do not disturb each
other; absolute times drift on shared machines, the ratios are what to read.
"""
from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

from .common import machine

HERE = Path(__file__).parent
AREAS = ["images", "teach", "network", "datasets", "bodies", "objects", "audio_text", "search", "anomaly", "create",
         "studio", "bridge"]


def main(argv: list[str]) -> int:
    areas = argv or [a for a in AREAS if (HERE / f"{a}.py").exists()]
    failed = []
    for area in areas:
        print(f"\n=== bench.{area} ===", flush=True)
        if subprocess.call([sys.executable, "-m", f"bench.{area}"], cwd=HERE.parent) != 0:
            failed.append(area)
    write_results()
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def write_results() -> Path:
    """Concatenate bench/results/*.md (in AREAS order) into bench/RESULTS.md."""
    parts = [
        "# Benchmark results\n",
        f"Collected {datetime.date.today().isoformat()} from `bench/results/` on {machine()}. "
        "Each section states when it was measured. Run `make bench` (or `python -m bench AREA`) "
        "to measure again.\n",
    ]
    order = {a: i for i, a in enumerate(AREAS)}
    for f in sorted((HERE / "results").glob("*.md"), key=lambda p: (order.get(p.stem, 99), p.stem)):
        text = f.read_text().strip()
        parts.append("\n" + text.replace("\n# ", "\n## ").replace("# ", "## ", 1) + "\n")
    out = HERE / "RESULTS.md"
    out.write_text("\n".join(parts))
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
