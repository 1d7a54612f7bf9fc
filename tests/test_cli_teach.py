"""`playml train` + `playml predict` round trip on folders of real photos."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import playml as ml
from _teach_data import LABELS, photo_crops, write_folder
from playml.cli import main


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("teach")
    train, held = photo_crops(n_train=4, n_held=2, seed=2)
    write_folder(root / "data" / "train", train)
    write_folder(root / "data" / "validation", held)
    (root / "data" / "train" / "cat" / "notes.txt").write_text("not a photo")
    return root


@pytest.mark.slow
def test_train_then_predict_round_trip(folders, capsys):
    model_dir, report = folders / "model", folders / "report.png"
    code = main(["train", str(folders / "data"), "--epochs", "30", "--seed", "0", "--out", str(model_dir),
                 "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "16 photos in 4 labels" in out
    assert "epoch  30/30  loss" in out and "val_accuracy" in out
    assert "training accuracy   100.0%" in out
    line = next(x for x in out.splitlines() if x.startswith("validation accuracy"))
    assert float(line.split()[2].rstrip("%")) >= 87.5 and "(8 photos" in line
    assert "confusion matrix (rows: true label" in out
    assert all(any(x.startswith(label) for x in out.splitlines()) for label in LABELS)
    assert "notes.txt (not an image file)" in err
    assert report.stat().st_size > 10_000
    assert sorted(p.name for p in model_dir.iterdir()) == ["model.json", "model.weights.bin", "model_meta.json"]

    held = sorted(str(p) for p in (folders / "data" / "validation").rglob("*.jpg"))
    assert main(["predict", str(model_dir), *held[:3], "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    loaded = ml.load(model_dir)
    expected = loaded.probabilities(held[:3])
    for row, probs in zip(printed, expected):
        got = {p["label"]: p["confidence"] for p in row["predictions"]}
        assert max(abs(got[label] - p) for label, p in zip(loaded.labels_, probs)) <= 1e-6
    assert main(["predict", str(model_dir), held[0], "--top-k", "2"]) == 0
    table = capsys.readouterr().out
    assert table.count("%") == 2


@pytest.mark.slow
def test_python_model_predicts_the_same_on_the_command_line(folders, tmp_path):
    train, held = photo_crops(n_train=3, n_held=1, seed=4)
    clf = ml.feature_extractor().classification(seed=0)
    for label, images in train.items():
        clf.add_images(images, label, progress=False)
    clf.train(epochs=20, progress=False)
    clf.save(tmp_path / "m")
    photo_dir = write_folder(tmp_path / "held", held)
    files = sorted(str(p) for p in photo_dir.rglob("*.jpg"))
    done = subprocess.run([sys.executable, "-m", "playml", "predict", str(tmp_path / "m"), str(photo_dir), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [row["image"] for row in printed] == files
    expected = clf.probabilities(files)
    for row, probs in zip(printed, expected):
        got = {p["label"]: p["confidence"] for p in row["predictions"]}
        assert max(abs(got[label] - p) for label, p in zip(clf.labels_, probs)) <= 1e-6


def test_errors_on_the_command_line(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing"), "--out", str(tmp_path / "m")]) == 2
    assert "There is no folder" in capsys.readouterr().err
    (tmp_path / "one" / "cat").mkdir(parents=True)
    (tmp_path / "one" / "cat" / "a.txt").write_text("x")
    assert main(["train", str(tmp_path / "one"), "--out", str(tmp_path / "m")]) == 2
    assert "No readable images" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nothing"), "x.jpg"]) == 2
    assert "There is no model" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
