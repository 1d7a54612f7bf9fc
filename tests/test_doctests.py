"""Every example in playml's docstrings runs (``>>>`` lines), offline, on bundled data.

Examples that need files or hardware the test machine does not have are marked
``# doctest: +SKIP`` where they are written. ``ml`` (playml) and ``np`` (NumPy) are known
in every example, as in the guides.
"""
from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from contextlib import redirect_stdout

import pytest

import playml

MODULES = sorted(m.name for m in pkgutil.walk_packages(playml.__path__, "playml.") if not m.name.endswith("__main__"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(name: str) -> int:
    module = importlib.import_module(name)
    return sum(len(t.examples) for t in doctest.DocTestFinder().find(module))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # examples name files of a checkout (tests/data/…)
    module = importlib.import_module(name)
    out = io.StringIO()
    with redirect_stdout(out):
        import numpy as np

        result = doctest.testmod(module, optionflags=FLAGS, report=True, verbose=False,
                                 extraglobs={"ml": playml, "np": np})
    assert result.failed == 0, out.getvalue()


def test_the_docstrings_have_examples():
    assert sum(_examples(n) for n in MODULES) > 150
