"""Without Ray, engine="ray" says which extra to install (Ray is optional: playml[ray])."""
from __future__ import annotations

import sys

import pytest

import playml as ml
from playml.errors import DependencyError


def test_missing_ray_names_the_extra(monkeypatch, coffee_path):
    monkeypatch.setitem(sys.modules, "ray", None)          # what an environment without Ray looks like
    with pytest.raises(DependencyError, match=r"pip install 'playml\[ray\]'"):
        ml.feature_extractor().features([coffee_path], engine="ray")
    with pytest.raises(DependencyError, match=r"playml\[ray\]"):
        ml.image_search([coffee_path], engine="ray", cache=False)


def test_pyproject_declares_the_extra():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert any(req.startswith("ray[data]") for req in project["optional-dependencies"]["ray"])
