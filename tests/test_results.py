import json

import numpy as np

from playml.results import Keypoint, Prediction, Value, to_builtin


def test_prediction_repr_and_dict():
    p = Prediction(label="espresso", confidence=0.953)
    assert repr(p) == "Prediction(label='espresso', confidence=0.953)"
    assert p.to_dict() == {"label": "espresso", "confidence": 0.953}


def test_keypoint_omits_missing_depth():
    k = Keypoint(name="nose", x=10.5, y=20.25, confidence=0.9)
    assert "z=" not in repr(k)
    assert Keypoint(name="nose", x=1, y=2, z=0.5).z == 0.5


def test_to_builtin_makes_json_ready():
    value = {"a": np.float32(0.5), "b": [Value(label="y", value=np.float64(2.0))], "c": np.arange(3)}
    json.dumps(to_builtin(value))
    assert to_builtin(value)["c"] == [0, 1, 2]
