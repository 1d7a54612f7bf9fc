"""`playml classify` and `playml models`."""
from __future__ import annotations

import json

from playml.cli import main


def test_classify_prints_a_table(capsys, coffee_path):
    assert main(["classify", str(coffee_path), "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].endswith("coffee.jpg  (efficientnet-lite0)")
    assert lines[1].split() == ["label", "confidence"]
    assert lines[3].startswith("espresso") and lines[3].endswith("%")
    assert len(lines) == 6


def test_classify_json_and_folders(capsys, samples_dir):
    assert main(["classify", str(samples_dir), "--top-k", "1", "--json", "--model", "mobilenet-v2"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {item["image"].rsplit("/", 1)[-1]: item["predictions"] for item in data}
    assert by_name["coffee.jpg"][0]["label"] == "espresso"
    assert 0 < by_name["coffee.jpg"][0]["confidence"] <= 1


def test_classify_errors_are_friendly(capsys, tmp_path):
    assert main(["classify", str(tmp_path / "missing.jpg")]) == 2
    assert "no file" in capsys.readouterr().err
    assert main(["classify", "x.jpg", "--model", "efficientnet-lite7"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_models_lists_and_shows_cards(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "efficientnet-lite0" in out and "mobilenet-v2" in out and "Apache-2.0" in out
    assert main(["models", "efficientnet-lite1"]) == 0
    out = capsys.readouterr().out
    assert "240×240" in out and "person" in out
    assert main(["models", "efficientnet-lite1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input_size"] == 240
    assert main(["models", "resnet"]) == 2
