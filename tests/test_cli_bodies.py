"""`playml pose|hands|face|segment` on real photos and a clip made from real frames."""
import json

import numpy as np
import pytest
from PIL import Image

from playml.cli import main


@pytest.fixture(scope="module")
def grace_path(tmp_path_factory, photos):
    path = tmp_path_factory.mktemp("cli") / "grace.jpg"
    Image.fromarray(photos["grace_hopper"]).save(path)
    return path


def test_pose_table_and_drawing(astronaut_path, tmp_path, capsys):
    out = tmp_path / "pose.png"
    assert main(["pose", str(astronaut_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "nose" in text and "saved" in text
    drawn = np.asarray(Image.open(out).convert("RGB")).astype(int)
    original = np.asarray(Image.open(astronaut_path).convert("RGB")).astype(int)
    assert drawn.shape == original.shape and (np.abs(drawn - original).sum(axis=2) > 60).sum() > 200


def test_face_json(grace_path, capsys):
    assert main(["face", str(grace_path), "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)
    assert len(faces) == 1 and len(faces[0]["keypoints"]) == 478


def test_hands_none_found(grace_path, capsys):
    assert main(["hands", str(grace_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_segment_mask_and_blur(grace_path, tmp_path, capsys):
    mask_path, blur_path = tmp_path / "mask.png", tmp_path / "blur.jpg"
    assert main(["segment", str(grace_path), "--out", str(mask_path)]) == 0
    mask = np.asarray(Image.open(mask_path))
    assert mask.ndim == 2 and mask[3, 3] < 30 and mask[300, 256] > 220
    assert main(["segment", str(grace_path), "--out", str(blur_path), "--blur"]) == 0
    assert Image.open(blur_path).size == (512, 600)
    assert "cover" in capsys.readouterr().out


def test_video_in_video_out(tmp_path, photos, capsys):
    from playml.core.video import video_info, write_video

    frames = [np.roll(photos["astronaut"], 8 * i, axis=1) for i in range(6)]
    clip = write_video(tmp_path / "clip.avi", frames, fps=6)
    out = tmp_path / "drawn.mp4"
    assert main(["pose", str(clip), "--out", str(out)]) == 0
    assert "6 frames, something found in 6" in capsys.readouterr().out
    assert video_info(out)["frames"] == 6
    assert main(["face", str(clip), "--json"]) == 0
    per_frame = json.loads(capsys.readouterr().out)
    assert [f["frame"] for f in per_frame] == list(range(6)) and all(len(f["results"]) == 1 for f in per_frame)


def test_friendly_errors(astronaut_path, tmp_path, capsys):
    assert main(["pose", str(tmp_path / "missing.jpg")]) == 2
    assert "There is no file" in capsys.readouterr().err
    assert main(["pose", str(astronaut_path), "--out", str(tmp_path / "x.mp4")]) == 2
    assert ".png" in capsys.readouterr().err
