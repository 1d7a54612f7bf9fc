"""Video files in and out, and detect_stream with tracking, on a clip made from real photos."""
import numpy as np
import pytest
from PIL import Image

import playml as ml
from playml.core.video import VideoWriter, frames, read_video, video_info, write_video

N = 20


def _clip_frames(photos):
    """The astronaut walking right across a 640×480 coffee-photo background, growing a little."""
    background = Image.fromarray(photos["coffee"]).resize((640, 480))
    astronaut = Image.fromarray(photos["astronaut"])
    out, offsets = [], []
    for i in range(N):
        size = 420 + 3 * i
        x = 20 + 7 * i
        canvas = background.copy()
        canvas.paste(astronaut.resize((size, size)), (x, 480 - size))
        out.append(np.asarray(canvas))
        offsets.append((x, 480 - size, size / 512))
    return out, offsets


@pytest.fixture(scope="module")
def clip(tmp_path_factory, photos):
    frames_, offsets = _clip_frames(photos)
    path = write_video(tmp_path_factory.mktemp("video") / "walk.avi", frames_, fps=10)
    return path, frames_, offsets


def test_write_and_read_back(clip):
    path, frames_, _ = clip
    info = video_info(path)
    assert (info["width"], info["height"], info["frames"]) == (640, 480, N)
    assert info["fps"] == pytest.approx(10)
    back = list(read_video(path))
    assert len(back) == N and back[0].shape == (480, 640, 3)
    assert np.abs(back[5].astype(int) - frames_[5]).mean() < 8  # MJPEG is lossy, but close


def test_detect_stream_tracks_the_person(clip, photos):
    path, _, offsets = clip
    reference = ml.body_pose().detect(photos["astronaut"])[0].nose
    seen = list(ml.body_pose().detect_stream(path))
    assert len(seen) == N
    for (frame, people), (x, y, scale) in zip(seen, offsets):
        assert frame.shape == (480, 640, 3) and len(people) == 1
        nose = people[0].nose
        assert nose.x == pytest.approx(x + reference.x * scale, abs=15)
        assert nose.y == pytest.approx(y + reference.y * scale, abs=15)
    xs = [people[0].nose.x for _, people in seen]
    assert xs[-1] - xs[0] > 120


def test_face_stream_every_other_frame_and_flipped(clip):
    path, _, _ = clip
    seen = list(ml.face_mesh(flipped=True).detect_stream(path, every=2))
    assert len(seen) == N
    assert all(len(faces) == 1 for _, faces in seen)
    assert seen[0][1] is seen[1][1]  # frame 1 reuses frame 0's results
    frame, faces = seen[4]
    # flipped: frames come out mirrored and the face box lies on the mirrored face
    face_pixels = frame[int(faces[0].box.center[1]), int(faces[0].box.center[0])]
    assert face_pixels.mean() > 60  # skin, not the dark coffee background


def test_segment_stream_from_a_list_of_images(photos):
    seen = list(ml.body_segmentation().segment_stream([photos["astronaut"], photos["rocket"]]))
    assert [round(m.coverage, 1) > 0.2 for _, m in seen] == [True, False]


def test_mp4_writer_is_atomic(tmp_path, photos):
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, fps=5) as w:
            w.write(photos["astronaut"])
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    with VideoWriter(out, fps=5) as w:
        for _ in range(3):
            w.write(photos["astronaut"])
        with pytest.raises(ml.InputError, match="same size"):
            w.write(photos["coffee"])
    assert video_info(out)["frames"] == 3 and [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_friendly_errors(tmp_path, photos):
    with pytest.raises(ml.MissingFileError):
        list(read_video(tmp_path / "missing.mp4"))
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(ml.InputError):
        list(ml.body_pose().detect_stream(bad))
    with pytest.raises(ml.InputError, match="suffix"):
        VideoWriter(tmp_path / "x.gifv")
    with pytest.raises(ml.InputError, match="every"):
        list(ml.body_pose().detect_stream([photos["astronaut"]], every=0))
    with pytest.raises(ml.InputError):
        list(frames(3.5))


def test_webcam_without_camera_is_a_clear_error():
    import os

    if os.path.exists("/dev/video0"):
        pytest.skip("this machine has a camera")
    with pytest.raises(ml.PlaymlError, match="No camera"):
        ml.webcam()
    with pytest.raises(ml.PlaymlError, match="No camera"):
        list(ml.body_pose().detect_stream(0))
