"""Run the code blocks of one Markdown page in order, in one namespace, in the current folder.

Usage: python tests/_docs_runner.py PAGE.md

```python blocks are executed; in ```console blocks every line starting with ``$ playml`` is
run (``playml`` is this Python's ``-m playml``) and must exit 0. A block right after the
comment ``<!-- no-run: why -->`` is skipped. The first failure prints which block and line.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import traceback
from pathlib import Path

FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)
NO_RUN = re.compile(r"<!--\s*no-run\b[^>]*-->\s*$")


def blocks(text: str) -> list[tuple[str, str, int, bool]]:
    """(language, code, line number, skipped) of every fenced block."""
    out = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").splitlines()
        skipped = bool(before) and bool(NO_RUN.search(before[-1]))
        out.append((m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1, skipped))
    return out


def console_commands(code: str) -> list[str]:
    cmds = []
    for line in code.splitlines():
        line = line.strip()
        if not line.startswith("$ playml"):
            continue
        line = line[2:]
        if " #" in line:
            line = line[:line.index(" #")]
        cmds.append(line.strip())
    return cmds


def run_console(cmd: str) -> None:
    python = shlex.quote(sys.executable)
    shell_cmd = re.sub(r"(^|&&\s*|\|\s*)playml\b", lambda m: f"{m.group(1)}{python} -m playml", cmd)
    done = subprocess.run(shell_cmd, shell=True, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"`{cmd}` exited {done.returncode}\nstdout:\n{done.stdout[-2000:]}\n"
                           f"stderr:\n{done.stderr[-3000:]}")


def main(page: str) -> int:
    text = Path(page).read_text(encoding="utf-8")
    namespace: dict = {"__name__": "__main__"}
    ran = 0
    for lang, code, line, skipped in blocks(text):
        if skipped or lang not in ("python", "console"):
            continue
        try:
            if lang == "python":
                exec(compile(code, f"{page}:{line}", "exec"), namespace)
            else:
                for cmd in console_commands(code):
                    run_console(cmd)
            ran += 1
        except BaseException:  # noqa: BLE001 - report which block failed
            print(f"\nBLOCK FAILED: {page} line {line} ({lang})\n{code}", file=sys.stderr)
            traceback.print_exc()
            return 1
    print(f"ran {ran} blocks of {page} in {os.getcwd()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
