"""EvaluationReport and RegressionReport: numbers, text, charts, dictionaries."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import playml as ml
from playml.core.evaluation import EvaluationReport, RegressionReport


def test_counts_accuracy_and_confusion():
    true = ["puffin"] * 4 + ["tern"] * 3 + ["gull"] * 3
    pred = ["puffin", "puffin", "puffin", "tern", "tern", "tern", "gull", "gull", "gull", "puffin"]
    report = EvaluationReport.from_labels(true, pred, labels=["puffin", "tern", "gull"])
    assert report.accuracy == pytest.approx(7 / 10)
    assert report.per_class == pytest.approx({"puffin": 0.75, "tern": 2 / 3, "gull": 2 / 3})
    assert report.confusion.tolist() == [[3, 1, 0], [0, 2, 1], [1, 0, 2]]
    assert report.counts == {"puffin": 4, "tern": 3, "gull": 3}
    assert repr(report) == "EvaluationReport(accuracy=0.7, examples=10, labels=['puffin', 'tern', 'gull'])"
    assert ml.EvaluationReport is EvaluationReport


def test_a_label_without_examples_has_no_accuracy():
    report = EvaluationReport.from_codes(np.array([0, 0, 1]), np.array([0, 2, 1]), ["a", "b", "c"])
    assert math.isnan(report.per_class["c"]) and report.confusion[0, 2] == 1
    assert "–" in report.to_text()


def test_text_and_dict():
    report = EvaluationReport.from_labels(["cat", "dog", "dog"], ["cat", "dog", "cat"])
    text = report.to_text()
    assert text.startswith("accuracy 66.7% (2 of 3 right)")
    assert text.splitlines()[-4:] == ["confusion matrix (rows: true label, columns: predicted)",
                                      "        cat   dog", "cat       1     0", "dog       1     1"]
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["confusion"] == [[1, 0], [1, 1]] and data["per_class"] == {"cat": 1.0, "dog": 0.5}
    assert str(report) == text


def test_plot_is_a_figure_with_both_charts():
    from matplotlib.figure import Figure

    fig = EvaluationReport.from_labels(["a", "b", "b"], ["a", "b", "a"]).plot()
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 2 and axes[0].get_xlabel() == "predicted" and axes[1].get_title() == "accuracy per label"


def test_errors():
    with pytest.raises(ml.DataError, match="nothing to evaluate"):
        EvaluationReport.from_labels([], [])
    with pytest.raises(ml.DataError, match="3 true labels but 2"):
        EvaluationReport.from_labels(["a", "b", "a"], ["a", "b"])
    with pytest.raises(ml.DataError, match="not among the model's labels.*zebra"):
        EvaluationReport.from_labels(["a", "zebra"], ["a", "a"], labels=["a", "b"])


def test_regression_report():
    report = RegressionReport.from_values([0.0, 1.0, 2.0, 3.0], [0.5, 1.0, 2.0, 2.5])
    assert report.mae == pytest.approx(0.25) and report.rmse == pytest.approx(math.sqrt(0.125))
    assert report.r2 == pytest.approx(1 - 0.5 / 5.0)
    assert "R² 0.900" in report.to_text()
