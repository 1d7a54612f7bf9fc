"""Helpers shared by the command modules: JSON output and simple tables."""
from __future__ import annotations

import json
import sys
from typing import Any

from ..results import to_builtin


def print_json(value: Any) -> None:
    json.dump(to_builtin(value), sys.stdout, indent=2)
    sys.stdout.write("\n")


def print_table(rows: list[list[Any]], header: list[str] | None = None) -> None:
    rows = [[str(c) for c in r] for r in rows]
    if header:
        rows = [list(header)] + rows
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if header and k == 0:
            print("  ".join("-" * w for w in widths))
