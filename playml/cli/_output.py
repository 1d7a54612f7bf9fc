"""Helpers shared by the command modules: JSON output and simple tables."""

from __future__ import annotations

import json
import sys
from typing import Any

from playml.core.reprs import plural
from playml.results import to_builtin

__all__ = ["plural", "print_json", "print_table", "expand_images", "print_per_image"]


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


def expand_images(paths: list[str]) -> list[str]:
    """Image arguments → files: a folder stands for the images in it (sorted). Empty → InputError."""
    from pathlib import Path

    from playml.core.media import list_images
    from playml.errors import InputError

    files: list[str] = []
    for p in paths:
        files += [str(f) for f in list_images(p)] if Path(p).is_dir() else [p]
    if not files:
        raise InputError("No images found in " + ", ".join(paths) + ".")
    return files


def print_per_image(
    files: list[str], results: list, *, key: str, title, rows, header: list[str], as_json: bool = False
) -> None:
    """Print one result list per image: JSON ``[{"image": f, key: r}]``, or a titled table per image."""
    if as_json:
        print_json([{"image": f, key: r} for f, r in zip(files, results)])
        return
    for i, (f, result) in enumerate(zip(files, results)):
        if i:
            print()
        print(title(f))
        print_table(rows(result), header)
