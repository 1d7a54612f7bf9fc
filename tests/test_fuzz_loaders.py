"""Issue 14: a bounded, coverage-guided fuzz run over every loader (see tests/fuzz_loaders.py).

Three groups run in their own process, each under an address-space cap (baseline after
warm-up + 1.5 GB, resource.setrlimit) and a per-call alarm: media files (images, audio,
CSV, ml5 data JSON), model folders (ml5/TF.js networks, image heads, sound classifiers,
anomaly detectors) and image search indexes. Every input must end in a result or a
PlaymlError. ``PLAYML_FUZZ_SECONDS`` (default 100) is shared between the groups.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
TOTAL = float(os.environ.get("PLAYML_FUZZ_SECONDS", 100))
SHARES = {"media": 0.3, "models": 0.45, "index": 0.25}


@pytest.mark.parametrize("group", list(SHARES))
def test_fuzz_every_loader_raises_only_playml_errors(group, tmp_path):
    seconds = max(3.0, TOTAL * SHARES[group])
    out = tmp_path / "stats.json"
    run = subprocess.run([sys.executable, str(HERE / "fuzz_loaders.py"), group, str(seconds), "14", str(out)],
                         capture_output=True, text=True, timeout=seconds + 240,
                         env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    assert run.returncode == 0, f"the fuzz process died (crash, memory cap or hang):\n{run.stderr[-3000:]}"
    stats = json.loads(out.read_text())
    print(f"\nfuzz {group}: {stats['total_inputs']} inputs {stats['inputs']}, {stats['ok']} loaded, "
          f"{stats['playml_error']} PlaymlError, corpus {stats['corpus']}, {stats['lines_covered']} playml lines "
          f"covered, memory cap {stats['memory_cap_mb']} MB (baseline {stats['baseline_mb']} MB)")
    assert stats["failure_count"] == 0, json.dumps(stats["failures"][:5], indent=1)
    assert min(stats["inputs"].values()) >= 10, stats["inputs"]
