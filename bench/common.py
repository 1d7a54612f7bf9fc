"""Helpers shared by the benchmarks."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """``nproc`` and the CPU model, for the header of a results file."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"
