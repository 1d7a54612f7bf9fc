"""Teachable Machine projects in Python: examples kept, features cached, saved whole, opened again."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from _teach_data import photo_crops

import playml as ml
from playml.errors import FormatError, InputError, NotTrainedError

FIXTURES = Path(__file__).parent / "data" / "projects"


@pytest.fixture(scope="module")
def extractor():
    return ml.FeatureExtractor()


@pytest.fixture(scope="module")
def crops():
    return photo_crops(n_train=12, n_held=3, seed=3)


@pytest.fixture(scope="module")
def trained(extractor, crops, tmp_path_factory):
    train, _ = crops
    project = ml.Project("image", extractor=extractor, seed=0)
    project.classifier.add_images(train["coffee"][:8], "coffee")
    project.classifier.add_images(train["cat"][:8], ["cat"] * 8)
    project.train(epochs=30)
    folder = project.save(tmp_path_factory.mktemp("projects") / "coffee-or-cat")
    return project, folder


def test_a_project_keeps_its_examples_and_model(trained, crops):
    project, folder = trained
    assert project.labels == ["coffee", "cat"] and project.counts() == {"coffee": 8, "cat": 8}
    assert project.last_featurised == 16 and not project.dirty
    info = json.loads((folder / "project.json").read_text())
    assert info["format"] == "playml-project" and info["version"] == ml.projects.FORMAT_VERSION
    assert info["kind"] == "image" and info["backbone"] == "efficientnet-lite0"
    assert info["training"]["epochs"] == 30
    files = [e["file"] for c in info["classes"] for e in c["examples"]]
    assert len(files) == 16 and all((folder / f).is_file() for f in files)
    assert all((folder / e["thumbnail"]).is_file() for c in info["classes"] for e in c["examples"])
    assert (folder / "model" / "model.weights.bin").is_file()
    assert (folder / "features" / "efficientnet-lite0.f32").stat().st_size == 16 * 1280 * 4
    _, held = crops
    for label in ("coffee", "cat"):
        assert project.classify(held[label][0])[0].label == label


def test_open_in_python_continue_and_save_again(trained, crops, extractor, tmp_path):
    project, folder = trained
    opened = ml.load_project(folder, extractor=extractor)
    assert isinstance(ml.load(folder), ml.Project)                     # ml.load dispatches on the kind
    assert opened.counts() == project.counts() and opened.trained and not opened.dirty
    assert opened.training["epochs"] == 30
    _, held = crops
    assert np.allclose(opened.model.probabilities(held["cat"][0]), project.model.probabilities(held["cat"][0]),
                       atol=1e-5)
    # continue: 4 more examples of each class; only those are featurised
    train, _ = crops
    opened.classifier.add_images(train["coffee"][8:12], "coffee").add_images(train["cat"][8:12], "cat")
    assert opened.dirty
    opened.train()
    assert opened.last_featurised == 8
    again = opened.save(tmp_path / "continued")
    reopened = ml.load_project(again, extractor=extractor)
    assert reopened.counts() == {"coffee": 12, "cat": 12}
    reopened.train(epochs=5)
    assert reopened.last_featurised == 0                               # the cache was saved with it


def test_per_example_delete_and_resave_in_place(trained, extractor, tmp_path):
    _, folder = trained
    import shutil

    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    project = ml.load_project(copy, extractor=extractor)
    victim = project.classes[0].examples[0]
    project.remove_example(victim.id)
    project.save()                                                     # where it came from
    info = json.loads((copy / "project.json").read_text())
    assert len(info["classes"][0]["examples"]) == 7
    assert not (copy / f"examples/{victim.hash}.jpg").exists()
    with pytest.raises(InputError):
        project.remove_example(victim.id)


def test_concurrent_saves_of_one_folder_take_turns(trained, extractor, tmp_path):
    project, _ = trained
    errors: list[BaseException] = []

    def save():
        try:
            project.save(tmp_path / "same")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert ml.load_project(tmp_path / "same", extractor=extractor).counts() == project.counts()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]          # no leftovers


def test_an_older_studio_save_opens_as_a_project(trained, extractor, tmp_path):
    project, _ = trained
    old = project.model.save(tmp_path / "old-model")                   # what the older studio page saved
    opened = ml.load_project(old)
    assert opened.labels == ["coffee", "cat"] and opened.examples == 0 and opened.trained


def test_a_version_1_fixture_opens(extractor):
    project = ml.load_project(FIXTURES / "v1-shapes", extractor=extractor)
    assert project.counts() == {"red square": 2, "blue circle": 2}
    assert project.training == {"epochs": 12, "batch_size": 4, "learning_rate": 0.002}
    assert not project.trained
    project.train()
    assert project.last_featurised == 4
    assert project.classify(project.classes[1].examples[0].data)[0].label == "blue circle"


def test_friendly_errors(tmp_path, extractor):
    with pytest.raises(ml.UnknownModelError, match="project kind"):
        ml.Project("video")
    project = ml.Project("image", extractor=extractor)
    with pytest.raises(NotTrainedError):
        project.classify(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ml.DataError, match="at least 2 classes"):
        project.train()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    project.add_class("a")
    with pytest.raises(FormatError, match="not a playml project"):
        project.save(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "project.json").write_text(json.dumps({"format": "playml-project", "version": 99, "classes": []}))
    with pytest.raises(FormatError, match="newer playml"):
        ml.load_project(newer)
    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "project.json").write_text(json.dumps({"format": "playml-project", "version": 1, "kind": "image",
                                                     "classes": [{"name": "x", "examples": [
                                                         {"file": "../other/notes.txt"}]}]}))
    with pytest.raises(FormatError, match="outside"):
        ml.load_project(escape)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        fifo.mkdir()
        os.mkfifo(fifo / "x.jpg")
        (fifo / "project.json").write_text(json.dumps({"format": "playml-project", "version": 1, "kind": "image",
                                                       "classes": [{"name": "x", "examples": [{"file": "x.jpg"}]}]}))
        with pytest.raises(FormatError, match="not a regular file"):
            ml.load_project(fifo)


def test_a_pose_project_learns_body_poses(photos, tmp_path):
    from PIL import Image

    def crops(img, n, seed):
        rng = np.random.default_rng(seed)
        h, w = img.shape[:2]
        out = []
        for _ in range(n):
            s = rng.uniform(0.85, 1.0)
            ch, cw = int(h * s), int(w * s)
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            out.append(np.ascontiguousarray(img[y:y + ch, x:x + cw]))
        return out

    project = ml.Project("pose", seed=0)
    assert project.training["learning_rate"] == 0.01
    project.classifier.add_images(crops(photos["astronaut"], 5, 0), "astronaut")
    project.classifier.add_images(crops(photos["grace_hopper"], 5, 1), "grace")
    with pytest.raises(InputError, match="No body"):
        project.classifier.add_image(photos["coffee"], "grace")
    example = json.loads(project.classes[0].examples[0].data)
    assert len(example["points"]) == 33 and example["width"] > 0
    project.train(epochs=50)
    assert project.last_featurised == 10
    folder = project.save(tmp_path / "poses")
    opened = ml.load_project(folder)
    assert opened.kind == "pose" and opened.counts() == {"astronaut": 5, "grace": 5}
    for name, label in (("astronaut", "astronaut"), ("grace_hopper", "grace")):
        assert opened.classify(photos[name])[0].label == label
    # keypoints alone classify too (what the studio's live view sends)
    assert opened.classify(example)[0].label == "astronaut"
    # the same pose moved and scaled gives the same features
    from playml.projects.project import pose_features

    moved = [[x * 2 + 40, y * 2 + 10, c] for x, y, c in example["points"]]
    assert np.allclose(pose_features(moved), pose_features(example["points"]), atol=1e-5)
    thumb = Image.open(__import__("io").BytesIO(opened.thumbnail(opened.classes[0].examples[0])))
    assert max(thumb.size) <= 200
