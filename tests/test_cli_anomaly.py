"""`playml anomaly train` / `score` round trip on a real table (breast-cancer rows as a CSV)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import playml as ml
from playml.cli import main


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory):
    """Training CSV: benign and malignant rows with a `diagnosis` label column; a test CSV
    of held-out rows plus 10 rows with one planted extreme value."""
    ds = ml.datasets.load("breast_cancer")
    df = ds.to_pandas().rename(columns={"label": "diagnosis"})
    rng = np.random.default_rng(0)
    order = rng.permutation(len(df))
    train, test = df.iloc[order[:400]], df.iloc[order[400:]].reset_index(drop=True)
    planted = test[test.diagnosis == "benign"].head(10).copy()
    for i, col in zip(planted.index, rng.choice(ds.feature_names, 10)):
        planted.loc[i, col] = df[col].max() * 3
    planted["diagnosis"] = "planted"
    test = test.iloc[:60]
    folder = tmp_path_factory.mktemp("anomaly-cli")
    train.to_csv(folder / "train.csv", index=False)
    import pandas as pd

    pd.concat([test, planted], ignore_index=True).to_csv(folder / "test.csv", index=False)
    return folder, len(test)


def test_train_then_score_round_trip(csv_files, capsys):
    folder, n_real = csv_files
    out = folder / "det"
    code = main(["anomaly", "train", str(folder / "train.csv"), "--label-column", "diagnosis",
                 "--normal-label", "benign", "--out", str(out), "--hidden", "16,8", "--latent", "4",
                 "--epochs", "200", "--batch-size", "64", "--seed", "0", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["layers"] == [30, 16, 8, 4, 8, 16, 30]
    assert summary["normal_label"] == "benign" and summary["examples"] > 200
    assert (out / "model_meta.json").exists()

    code = main(["anomaly", "score", str(out), str(folder / "test.csv"), "--label-column", "diagnosis", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    flags = np.array(result["is_anomaly"])
    assert len(result["scores"]) == len(flags) == n_real + 10
    assert flags[n_real:].all()                                      # every planted row is flagged
    assert result["threshold"] == summary["threshold"]
    # the report treats every label other than the training one ('benign') as an anomaly
    report = result["report"]
    assert report["tp"] + report["fn"] == n_real + 10 - result["labels"].count("benign")
    # the scores are exactly the Python API's
    det = ml.load(out)
    assert np.allclose(det.score(folder / "test.csv", label_column="diagnosis"), result["scores"], rtol=0, atol=0)

    code = main(["anomaly", "score", str(out), str(folder / "test.csv"), "--label-column", "diagnosis",
                 "--rows", "3", "--threshold", "0"])
    text = capsys.readouterr().out
    assert code == 0
    assert f"{n_real + 10} of {n_real + 10} examples are anomalies" in text
    assert "planted" in text and "ROC AUC" in text


def test_mistakes_give_a_message_and_exit_code_2(csv_files, capsys, tmp_path):
    folder, _ = csv_files
    code = main(["anomaly", "train", str(folder / "train.csv"), "--label-column", "diagnosis", "--out",
                 str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "--normal-label" in err and "benign" in err and not (tmp_path / "x").exists()
    assert main(["anomaly", "score", str(tmp_path / "missing"), str(folder / "test.csv")]) == 2
    assert "no model" in capsys.readouterr().err.lower()


@pytest.mark.slow
def test_installed_command_on_bundled_ecg5000(tmp_path):
    """The real `playml` entry point, on the bundled data set's published train/test parts."""
    run = [sys.executable, "-m", "playml", "anomaly"]
    train = subprocess.run([*run, "train", "ecg5000", "--normal-label", "normal", "--out", str(tmp_path / "ecg"),
                            "--hidden", "15,7", "--epochs", "100", "--batch-size", "32", "--seed", "0", "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stderr
    assert "Learned normal from 292 examples labelled 'normal'" in train.stdout
    score = subprocess.run([*run, "score", str(tmp_path / "ecg"), "ecg5000", "--json"],
                           capture_output=True, text=True, timeout=300)
    assert score.returncode == 0, score.stderr
    result = json.loads(score.stdout)
    assert len(result["scores"]) == 4500 and result["report"]["roc_auc"] >= 0.95
