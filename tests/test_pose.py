"""Body pose on real photos (MediaPipe BlazePose, bundled)."""
import json

import numpy as np
import pytest

import playml as ml
from playml.results.bodies import Pose


@pytest.fixture(scope="module")
def pose():
    return ml.body_pose()


@pytest.fixture(scope="module")
def astronaut_people(pose, photos):
    return pose.detect(photos["astronaut"])


def test_repr_and_card(pose):
    assert repr(pose) == "BodyPose(model='blazepose-full', complexity=1)"
    assert repr(ml.body_pose(flipped=True)) == "BodyPose(model='blazepose-full', complexity=1, flipped=True)"
    assert pose.model_card.license == "Apache-2.0"
    assert "ONE person" in str(pose.model_card) and pose.model_card.name == "blazepose-full"


def test_astronaut_nose_above_shoulders_on_either_side(astronaut_people, photos):
    assert len(astronaut_people) == 1
    person = astronaut_people[0]
    assert isinstance(person, Pose)
    nose, left, right = person.nose, person.left_shoulder, person.right_shoulder
    for kp in (nose, left, right):
        assert kp.confidence > 0.9
        assert 0 <= kp.x < 512 and 0 <= kp.y < 512
    # nose in the face (the face is around x 180-270, y 70-180 in this photo), shoulders below it
    assert 180 < nose.x < 270 and 70 < nose.y < 180
    assert nose.y < left.y - 50 and nose.y < right.y - 50
    # person's own left shoulder is on the picture's right for someone facing the camera
    assert right.x < nose.x < left.x
    assert left.x - right.x > 120
    assert person.box.contains(nose.x, nose.y)
    assert 0 < person.score <= 1


def test_names_named_access_and_connections(pose, astronaut_people):
    person = astronaut_people[0]
    names = pose.keypoint_names()
    assert len(names) == 33 and names[0] == "nose" and "left_wrist" in names and "right_foot_index" in names
    assert person.names() == names
    assert person["nose"] is person.nose and person[0] is person.nose
    assert person.left_wrist.name == "left_wrist"
    with pytest.raises(AttributeError, match="left_shoulder"):
        person.left_sholder
    pairs = pose.connections()
    assert ("left_shoulder", "right_shoulder") in pairs or ("right_shoulder", "left_shoulder") in pairs
    assert all(a in names and b in names for a, b in pairs) and len(pairs) == 35
    assert person.to_numpy().shape == (33, 2) and len(person.flat()) == 66


def test_keypoints_are_in_pixels_of_the_input(pose, photos, astronaut_people):
    from PIL import Image

    big = np.asarray(Image.fromarray(photos["astronaut"]).resize((1024, 768)))
    person = pose.detect(big)[0]
    small = astronaut_people[0]
    assert person.nose.x == pytest.approx(small.nose.x * 2, abs=12)
    assert person.nose.y == pytest.approx(small.nose.y * 1.5, abs=12)


def test_world_keypoints_are_in_metres(astronaut_people):
    world = {k.name: k for k in astronaut_people[0].keypoints_3d}
    shoulders = abs(world["left_shoulder"].x - world["right_shoulder"].x)
    assert 0.15 < shoulders < 0.8


def test_mirrored_image_gives_mirrored_keypoints(pose, photos, astronaut_people):
    img = photos["astronaut"]
    w = img.shape[1]
    mirrored = pose.detect(np.ascontiguousarray(img[:, ::-1]))[0]
    person = astronaut_people[0]
    # the model on the mirrored photo: the nose moves to width - x
    assert mirrored.nose.x == pytest.approx(w - person.nose.x, abs=6)
    assert mirrored.nose.y == pytest.approx(person.nose.y, abs=6)
    # flipped=True mirrors the keypoints exactly, keeping the person's own left/right names
    flipped = ml.body_pose(flipped=True).detect(img)[0]
    assert flipped.nose.x == pytest.approx(w - person.nose.x, abs=0.02)
    assert flipped.left_shoulder.x == pytest.approx(w - person.left_shoulder.x, abs=0.02)
    assert flipped.left_shoulder.x < flipped.right_shoulder.x


def test_no_person_gives_empty_list(pose, photos):
    assert pose.detect(photos["coffee"]) == []
    assert pose.detect(photos["rocket"]) == []


def test_many_images_and_paths(pose, astronaut_path, coffee_path):
    out = pose.detect([astronaut_path, coffee_path])
    assert len(out) == 2 and len(out[0]) == 1 and out[1] == []


def test_results_are_json_ready(astronaut_people):
    d = json.loads(json.dumps(astronaut_people[0].to_dict()))
    assert d["keypoints"][0]["name"] == "nose" and set(d["box"]) == {"x", "y", "width", "height"}


def test_modes_that_would_download_are_refused():
    for complexity in (0, 2):
        with pytest.raises(ml.OfflineError, match="downloaded"):
            ml.body_pose(complexity=complexity)
    with pytest.raises(ml.OfflineError, match="blazepose-heavy"):
        ml.body_pose("blazepose-heavy")
    with pytest.raises(ml.UnknownModelError, match="blazepose-full"):
        ml.body_pose("blazepose-fulll")
    with pytest.raises(ml.InputError):
        ml.body_pose(min_confidence=2)


def test_bad_image_is_a_friendly_error(pose):
    with pytest.raises(ml.MissingFileError):
        pose.detect("no_such_dancer.jpg")
    with pytest.raises(ml.OfflineError):
        pose.detect("https://example.com/dancer.jpg")


def test_nothing_downloads(pose):
    """Every model file the graphs use is inside the installed wheel."""
    import mediapipe

    from pathlib import Path

    root = Path(mediapipe.__file__).parent / "modules"
    for name in ("pose_landmark/pose_landmark_full.tflite", "pose_detection/pose_detection.tflite"):
        assert (root / name).exists()


def test_every_bodies_model_has_a_card():
    from playml.zoo.mediapipe_cards import cards

    names = [c.name for c in cards()]
    assert names == ["blazepose-full", "mediapipe-hands-full", "mediapipe-hands-lite", "face-mesh",
                     "selfie-segmentation", "selfie-segmentation-landscape"]
    for task in (ml.body_pose(), ml.hand_pose(), ml.hand_pose("mediapipe-hands-lite"), ml.face_mesh(),
                 ml.body_segmentation(), ml.body_segmentation("selfie-segmentation-landscape")):
        card = task.model_card
        assert card.name in names and card.license == "Apache-2.0" and card.weaknesses
        assert "mediapipe" in card.package and card.training_data


@pytest.mark.slow
def test_yoga_example_runs(tmp_path):
    """examples/yoga_pose_classifier.py: keypoints -> ml.neural_network, end to end."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "examples" / "yoga_pose_classifier.py"), "--per-pose", "40",
                           "--epochs", "30", "--save-model", str(tmp_path / "yoga")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "accuracy on 120 poses it never saw" in done.stdout
    assert "astronaut:" in done.stdout and (tmp_path / "yoga" / "model.json").exists()
