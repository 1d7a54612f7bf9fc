"""Hand pose (MediaPipe Hands, bundled).

No photo shipped by the installed packages shows a hand clearly enough for the palm
detector (we tried scikit-image, matplotlib and scikit-learn's photos), so the model is
checked on real photos without hands (it must find none) and the result type is checked
on its own.
"""
import json

import numpy as np
import pytest

import playml as ml
from playml.results.bodies import Box, Hand
from playml.results import Keypoint


@pytest.fixture(scope="module")
def hands():
    return ml.hand_pose(max_hands=2)


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket", "astronaut"])
def test_no_hands_on_photos_without_hands(hands, photos, name):
    assert hands.detect(photos[name]) == []


def test_lite_model_runs_offline(photos):
    lite = ml.hand_pose("mediapipe-hands-lite", max_hands=1)
    assert repr(lite) == "HandPose(model='mediapipe-hands-lite', max_hands=1)"
    assert lite.detect(photos["coffee"]) == []
    assert lite.model_card.name == "mediapipe-hands-lite"


def test_names_and_connections(hands):
    names = hands.keypoint_names()
    assert len(names) == 21 and names[0] == "wrist" and names[4] == "thumb_tip" and names[8] == "index_finger_tip"
    pairs = hands.connections()
    assert ("wrist", "thumb_cmc") in pairs and all(a in names and b in names for a, b in pairs)
    assert len(pairs) == 21


def test_hand_result_named_access_and_drawing(hands, photos):
    names = hands.keypoint_names()
    kps = [Keypoint(n, 100.0 + 5 * i, 200.0 - 3 * i, None, 0.0) for i, n in enumerate(names)]
    hand = Hand(kps, "Right", 0.97, Box(100, 140, 100, 60))
    assert hand.index_finger_tip.x == 140.0 and hand["wrist"] is kps[0]
    assert json.loads(json.dumps(hand.to_dict()))["handedness"] == "Right"
    assert repr(hand).startswith("Hand(keypoints=[Keypoint(name='wrist'")
    drawn = np.asarray(ml.draw(photos["coffee"], [hand]))
    assert (drawn != photos["coffee"]).any(axis=2)[140:200, 100:200].sum() > 50


def test_options_are_checked():
    with pytest.raises(ml.InputError, match="max_hands"):
        ml.hand_pose(max_hands=0)
    with pytest.raises(ml.UnknownModelError, match="mediapipe-hands-lite"):
        ml.hand_pose("mediapipe-hands-lit")
    with pytest.raises(ml.InputError, match="min_confidence"):
        ml.hand_pose(min_confidence=-0.1)
