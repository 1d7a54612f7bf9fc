"""Face mesh on real photos (MediaPipe Face Mesh, bundled)."""
import numpy as np
import pytest

import playml as ml
from playml.results.bodies import Face


@pytest.fixture(scope="module")
def mesh():
    return ml.face_mesh(max_faces=2)


def _reference_box(img):
    """An independent face box from MediaPipe's separate BlazeFace detector."""
    from mediapipe.python.solutions import face_detection

    with face_detection.FaceDetection(model_selection=0) as fd:
        det = fd.process(img).detections
    assert det and len(det) == 1
    b = det[0].location_data.relative_bounding_box
    h, w = img.shape[:2]
    return b.xmin * w, b.ymin * h, b.width * w, b.height * h


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_face_found_with_mesh_inside_the_face_box(mesh, photos, name):
    img = photos[name]
    faces = mesh.detect(img)
    assert len(faces) == 1
    face = faces[0]
    assert isinstance(face, Face) and len(face.keypoints) == 478
    x, y, w, h = _reference_box(img)
    # the face box agrees with the independent detector's box
    assert face.box.center[0] == pytest.approx(x + w / 2, abs=0.15 * w)
    assert face.box.width == pytest.approx(w, rel=0.35)
    # every mesh point lies inside the detector's box (grown by a quarter: the mesh includes the forehead)
    xy = face.to_numpy()
    assert (xy[:, 0] > x - 0.25 * w).all() and (xy[:, 0] < x + 1.25 * w).all()
    assert (xy[:, 1] > y - 0.25 * h).all() and (xy[:, 1] < y + 1.25 * h).all()
    assert all(face.box.contains(k.x, k.y, margin=0.01) for k in face.keypoints)


def test_named_parts_are_where_a_face_has_them(mesh, photos):
    face = mesh.detect(photos["grace_hopper"])[0]
    assert face.parts() == ["lips", "left_eye", "left_eyebrow", "right_eye", "right_eyebrow", "face_oval",
                            "nose", "left_iris", "right_iris"]
    left, right = face.left_eye.center, face.right_eye.center
    assert right[0] < left[0]  # the person's own left eye is on the picture's right
    assert face.lips.center[1] > left[1] + 20 and face.lips.center[1] > right[1] + 20
    assert face.left_eyebrow.center[1] < left[1]
    assert right[0] < face.nose.center[0] < left[0]
    assert len(face.left_iris.keypoints) == 4
    assert face.lips.box.width > face.lips.box.height
    assert {k.name for k in face.keypoints} >= {"lips", "left_eye", "face_oval", "mesh"}
    with pytest.raises(AttributeError, match="lips"):
        face.lip


def test_pose_nose_is_inside_the_face_box(mesh, photos):
    face = mesh.detect(photos["astronaut"])[0]
    person = ml.body_pose().detect(photos["astronaut"])[0]
    assert face.box.contains(person.nose.x, person.nose.y)


def test_without_irises_468_points(photos):
    mesh = ml.face_mesh(refine_landmarks=False)
    assert repr(mesh) == "FaceMesh(model='face-mesh', max_faces=1, points=468)"
    face = mesh.detect(photos["astronaut"])[0]
    assert len(face.keypoints) == 468 and "left_iris" not in face.parts()
    with pytest.raises(ml.UnknownModelError):
        face.part("left_iris")


def test_mirrored_face(mesh, photos):
    img = photos["grace_hopper"]
    w = img.shape[1]
    face = mesh.detect(img)[0]
    flipped = ml.face_mesh(flipped=True).detect(img)[0]
    assert flipped.keypoints[1].x == pytest.approx(w - face.keypoints[1].x, abs=0.02)
    mirrored = mesh.detect(np.ascontiguousarray(img[:, ::-1]))[0]
    assert mirrored.box.center[0] == pytest.approx(w - face.box.center[0], abs=8)


def test_no_face(mesh, photos):
    assert mesh.detect(photos["coffee"]) == []


def test_options_are_checked():
    with pytest.raises(ml.InputError, match="max_faces"):
        ml.face_mesh(max_faces=0)
    with pytest.raises(ml.UnknownModelError, match="face-mesh"):
        ml.face_mesh("face-mesh-9000")
    assert ml.face_mesh().model_card.name == "face-mesh"


def test_draw_mesh_stays_on_the_face(mesh, photos):
    img = photos["astronaut"]
    face = mesh.detect(img)[0]
    drawn = np.asarray(ml.draw(img, [face], mesh="tesselation")).astype(int)
    changed = np.abs(drawn - img).sum(axis=2) > 30
    b = face.box
    inside = changed[int(b.y) - 3:int(b.y_max) + 4, int(b.x) - 3:int(b.x_max) + 4].sum()
    assert inside > 0.2 * b.width * b.height and inside > 0.95 * changed.sum()
    with pytest.raises(ml.InputError, match="mesh"):
        ml.draw(img, face, mesh="wireframe")
    with pytest.raises(ml.InputError, match="draw"):
        ml.draw(img, "nose")


def test_a_video_path_points_to_detect_stream(mesh, tmp_path):
    with pytest.raises(ml.InputError, match="detect_stream"):
        mesh.detect(tmp_path / "clip.mp4")
