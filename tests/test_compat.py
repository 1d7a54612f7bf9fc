"""Models, detectors and indexes saved by playml 0.1.0 load unchanged and answer the same."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import playml as ml
from playml.samples import path as sample

SAVED = Path(__file__).parent / "data" / "saved-0.1.0"
EXPECTED = json.loads((SAVED / "expected.json").read_text())


def test_neural_network():
    got = ml.load(SAVED / "neural_network").classify([250, 10, 5])
    assert [(p.label, round(p.confidence, 5)) for p in got] == [(lab, round(c, 5)) for lab, c in
                                                                EXPECTED["neural_network"]]


def test_image_classification():
    got = ml.load(SAVED / "image_classification").classify(sample("coffee"))
    assert [p.label for p in got] == [lab for lab, _ in EXPECTED["image_classification"]]
    np.testing.assert_allclose([p.confidence for p in got], [c for _, c in EXPECTED["image_classification"]],
                               atol=1e-4)


def test_anomaly_detector():
    det = ml.load(SAVED / "anomaly_detector")
    want = EXPECTED["anomaly_detector"]
    assert det.threshold == pytest.approx(want["threshold"], rel=1e-6)
    np.testing.assert_allclose(det.score(np.asarray(want["x"], dtype=np.float32)), want["scores"], rtol=1e-4,
                               atol=1e-7)


def test_image_search():
    index = ml.load(SAVED / "image_search")
    got = index.query(sample("chelsea"), top_k=3)
    assert [m.path.split("/")[-1] for m in got] == [name for name, _ in EXPECTED["image_search"]]
    np.testing.assert_allclose([m.distance for m in got], [d for _, d in EXPECTED["image_search"]], atol=1e-4)
