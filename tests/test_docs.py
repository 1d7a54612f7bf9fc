"""Every code block of README.md and docs/*.md runs as written (issue 13, issue 19).

Each page runs in a fresh process, in an empty folder that holds only ``playml/samples``
(as a clone does), so a page may use only the bundled samples and the files it first shows
how to make. Blocks that truly cannot run here (a webcam, a browser, a server that never
returns) carry an explicit ``<!-- no-run: why -->`` comment right before them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._docs_runner import blocks

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _run_page(page: Path, folder: Path) -> subprocess.CompletedProcess:
    (folder / "playml").mkdir()
    (folder / "playml" / "samples").symlink_to(ROOT / "playml" / "samples")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(ROOT / "tests" / "_docs_runner.py"), str(page)], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=1800)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_code_block_of_the_page_runs(page, tmp_path):
    done = _run_page(page, tmp_path)
    assert done.returncode == 0, done.stderr[-6000:]


def test_few_blocks_are_skipped_and_each_says_why():
    total = skipped = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for lang, _code, _line, skip in blocks(text):
            if lang in ("python", "console"):
                total += 1
                skipped += skip
        assert "<!-- no-run -->" not in text, f"{page.name}: say why a block cannot run"
    assert total > 40 and skipped <= total // 6, (total, skipped)
