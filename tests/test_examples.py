"""The teaching notebooks of examples/ run in a real kernel, each in under a minute, with a
picture for every chart they draw; they are committed without outputs (issue 19)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests._notebooks import chart_cells, mime_types, run_notebook, stderr_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_the_notebooks_are_committed_without_outputs_and_match_their_generator():
    import json

    assert len(NOTEBOOKS) == 7
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "examples" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.NOTEBOOKS) == [p.name for p in NOTEBOOKS]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_a_picture_for_every_chart(path, tmp_path):
    pytest.importorskip("nbclient")
    import nbformat

    for helper in (ROOT / "examples").glob("*.py"):  # the notebook's neighbours, as in examples/
        shutil.copy(helper, tmp_path / helper.name)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run_notebook(nb, tmp_path)
    took = time.perf_counter() - start
    for cell in chart_cells(nb):
        assert "image/png" in mime_types(cell), f"{path.name}: no picture for\n{cell.source}"
    assert "IProgress" not in stderr_text(nb)
    assert took < 120, f"{path.name} took {took:.0f} s (target: under a minute on a quiet machine)"
