"""playml studio's API on real photos: classes, examples, training, live frames, save and open."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from _teach_data import photo_crops
from fastapi.testclient import TestClient

import playml as ml
from playml.web.app import create_app

TOKEN = "api-test-token"
BASE = "http://127.0.0.1:8766"
AUTH = {"x-playml-token": TOKEN}


def _jpeg(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _crops(label: str, n: int) -> list[bytes]:
    """JPEGs of crops of real photos (see tests/_teach_data.py)."""
    return [_jpeg(crop) for crop in photo_crops(n_train=n, n_held=0)[0][label]]


def _upload(client, class_id: int, files: list[bytes]):
    return client.post(f"/api/teach/classes/{class_id}/samples", headers=AUTH,
                       files=[("files", (f"photo{i}.jpg", data, "image/jpeg")) for i, data in enumerate(files)])


def _events(client) -> list[dict]:
    with client.stream("GET", "/api/teach/events", headers=AUTH) as stream:
        return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, photos):
    """A studio with two classes (coffee and cat photos), trained once for the module."""
    models = tmp_path_factory.mktemp("models")
    app = create_app(token=TOKEN, models_dir=models, port=8766)
    client = TestClient(app, base_url=BASE)
    coffee = client.post("/api/teach/classes", json={"name": "coffee"}, headers=AUTH).json()
    cat = client.post("/api/teach/classes", json={"name": "cat"}, headers=AUTH).json()
    assert _upload(client, coffee["id"], _crops("coffee", 10)).status_code == 201
    assert _upload(client, cat["id"], _crops("cat", 10)).status_code == 201
    r = client.post("/api/teach/train", json={"epochs": 30, "batch_size": 8, "learning_rate": 0.002}, headers=AUTH)
    assert r.status_code == 202 and r.json()["status"] == "training"
    events = _events(client)
    return client, app, models, events


def test_classes_can_be_added_renamed_and_deleted(tmp_path):
    client = TestClient(create_app(token=TOKEN, models_dir=tmp_path, port=8766), base_url=BASE)
    first = client.post("/api/teach/classes", headers=AUTH).json()
    assert first["name"] == "Class 1" and first["samples"] == []
    second = client.post("/api/teach/classes", json={"name": "  thumbs   up "}, headers=AUTH).json()
    assert second["name"] == "thumbs up"
    r = client.patch(f"/api/teach/classes/{first['id']}", json={"name": "thumbs up"}, headers=AUTH)
    assert r.status_code == 400 and "already a class" in r.json()["detail"]
    r = client.patch(f"/api/teach/classes/{first['id']}", json={"name": "wave"}, headers=AUTH)
    assert r.json()["name"] == "wave"
    assert client.post("/api/teach/classes", json={"name": ""}, headers=AUTH).status_code == 400
    assert client.delete(f"/api/teach/classes/{second['id']}", headers=AUTH).status_code == 204
    assert [c["name"] for c in client.get("/api/teach", headers=AUTH).json()["classes"]] == ["wave"]
    assert client.delete("/api/teach/classes/999999", headers=AUTH).status_code == 404


def test_training_needs_two_classes_with_examples(tmp_path, photos):
    client = TestClient(create_app(token=TOKEN, models_dir=tmp_path, port=8766), base_url=BASE)
    a = client.post("/api/teach/classes", json={"name": "coffee"}, headers=AUTH).json()
    r = client.post("/api/teach/train", headers=AUTH)
    assert r.status_code == 400 and "at least 2 classes" in r.json()["detail"]
    client.post("/api/teach/classes", json={"name": "cat"}, headers=AUTH)
    _upload(client, a["id"], _crops("coffee", 2))
    r = client.post("/api/teach/train", headers=AUTH)
    assert r.status_code == 400 and "cat" in r.json()["detail"] and "no examples" in r.json()["detail"]
    r = client.post("/api/teach/train", json={"epochs": 0}, headers=AUTH)
    assert r.status_code == 400 and "Epochs" in r.json()["detail"]
    r = client.post("/api/teach/classify", files={"file": ("x.jpg", _jpeg(photos["coffee"]), "image/jpeg")},
                    headers=AUTH)
    assert r.status_code == 409 and "Train" in r.json()["detail"]


def test_examples_are_kept_as_thumbnails(trained):
    client, *_ = trained
    state = client.get("/api/teach", headers=AUTH).json()
    assert [len(c["samples"]) for c in state["classes"]] == [10, 10]
    sample = state["classes"][0]["samples"][0]
    r = client.get(f"/api/teach/samples/{sample}.jpg", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    from PIL import Image

    assert min(Image.open(io.BytesIO(r.content)).size) <= 256


def test_training_streams_progress_and_evaluation(trained):
    client, _, _, events = trained
    kinds = [e["type"] for e in events]
    assert kinds[0] == "status" and "start" in kinds and kinds[-1] == "done", kinds
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 31))
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert "accuracy" in epochs[-1]
    evaluation = events[-1]["evaluation"]
    assert evaluation["labels"] == ["coffee", "cat"]
    assert np.asarray(evaluation["confusion"]).shape == (2, 2)
    assert set(evaluation["per_class"]) == {"coffee", "cat"}
    state = client.get("/api/teach", headers=AUTH).json()
    assert state["status"] == "trained" and state["trained"] and state["labels"] == ["coffee", "cat"]
    assert state["evaluation"] == evaluation


def test_classify_an_upload(trained, photos):
    client, *_ = trained
    for name, label in (("coffee", "coffee"), ("chelsea", "cat")):
        r = client.post("/api/teach/classify", files={"file": ("x.jpg", _jpeg(photos[name]), "image/jpeg")},
                        headers=AUTH)
        predictions = r.json()["predictions"]
        assert predictions[0]["label"] == label
        assert predictions[0]["confidence"] > 0.8
        assert sum(p["confidence"] for p in predictions) == pytest.approx(1, abs=1e-3)


def test_live_classification_answers_the_newest_frame(trained, photos):
    client, *_ = trained
    frames = [_jpeg(photos["chelsea"])] * 6 + [_jpeg(photos["coffee"])]
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=classify", headers=AUTH) as ws:
        assert ws.receive_json()["type"] == "status"
        assert ws.receive_json()["labels"] == ["coffee", "cat"]
        ws.send_bytes(frames[0])
        first = ws.receive_json()
        assert first["type"] == "result" and first["predictions"][0]["label"] == "cat"
        assert first["ms"] > 0
        for data in frames[1:]:                # sent without waiting: stale frames are dropped
            ws.send_bytes(data)
        answered = [first]
        while answered[-1]["frame"] + answered[-1]["dropped"] < len(frames):
            answered.append(ws.receive_json())
        assert answered[-1]["predictions"][0]["label"] == "coffee"       # the newest frame is always answered
        assert [a["frame"] for a in answered] == list(range(1, len(answered) + 1))
        ws.send_bytes(b"\xff\xd8 broken jpeg")
        error = ws.receive_json()
        assert error["type"] == "error" and "not an image" in error["message"]


def test_track_pose_on_a_photo(trained, photos):
    client, *_ = trained
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=pose", headers=AUTH) as ws:
        assert ws.receive_json()["type"] == "status"
        ready = ws.receive_json()
        assert ready["names"][0] == "nose" and len(ready["names"]) == 33
        assert all(0 <= a < 33 and 0 <= b < 33 for a, b in ready["connections"])
        ws.send_bytes(_jpeg(photos["astronaut"]))
        result = ws.receive_json()
        assert len(result["found"]) == 1
        nose = result["found"][0]["points"][0]
        assert 150 < nose[0] < 300 and 80 < nose[1] < 200 and nose[2] > 0.9    # the astronaut's nose
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=bogus", headers=AUTH) as ws:
        assert "Unknown live task" in ws.receive_json()["message"]


def test_track_people_and_objects_on_photos(trained, photos):
    client, *_ = trained
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=people", headers=AUTH) as ws:
        assert ws.receive_json()["type"] == "status"
        ready = ws.receive_json()
        assert ready["names"][0] == "nose" and len(ready["names"]) == 17 and ready["connections"]
        two = np.concatenate([photos["astronaut"], photos["astronaut"]], axis=1)
        ws.send_bytes(_jpeg(two))
        result = ws.receive_json()
        assert len(result["found"]) == 2 and len(result["found"][0]["points"]) == 17
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=objects", headers=AUTH) as ws:
        assert ws.receive_json()["type"] == "status"
        assert ws.receive_json()["type"] == "ready"
        ws.send_bytes(_jpeg(photos["coffee"]))
        found = ws.receive_json()["found"]
        assert found[0]["label"] == "cup" and len(found[0]["box"]) == 4 and found[0]["points"] == []


def test_save_then_load_in_python_and_open(trained, photos):
    client, app, models, _ = trained
    r = client.post("/api/teach/save", json={"name": "coffee-or-cat"}, headers=AUTH)
    assert r.status_code == 200
    folder = models / "coffee-or-cat"
    assert {p.name for p in folder.iterdir()} >= {"model.json", "model.weights.bin", "model_meta.json"}
    clf = ml.load(folder)
    served = app.state.project.current()
    assert np.allclose(clf.probabilities(photos["chelsea"]), served.probabilities(photos["chelsea"]), atol=1e-5)
    assert clf.classify(photos["coffee"])[0].label == "coffee"
    listed = client.get("/api/teach/models", headers=AUTH).json()["models"]
    assert {"name": "coffee-or-cat", "kind": "image_classification", "labels": ["coffee", "cat"]} in listed
    # open it in a fresh studio on the same folder
    other = TestClient(create_app(token=TOKEN, models_dir=models, port=8766), base_url=BASE)
    state = other.post("/api/teach/open", json={"name": "coffee-or-cat"}, headers=AUTH).json()
    assert state["trained"] and state["labels"] == ["coffee", "cat"] and state["model_name"] == "coffee-or-cat"
    assert [c["name"] for c in state["classes"]] == ["coffee", "cat"]
    r = other.post("/api/teach/classify", files={"file": ("x.jpg", _jpeg(photos["chelsea"]), "image/jpeg")},
                   headers=AUTH)
    assert r.json()["predictions"][0]["label"] == "cat"
    r = other.post("/api/teach/open", json={"name": "missing"}, headers=AUTH)
    assert r.status_code == 404


def test_projects_save_open_and_ask_before_discarding(trained, photos):
    client, app, models, _ = trained
    r = client.post("/api/project/save", json={"name": "coffee-cat-project"}, headers=AUTH)
    assert r.status_code == 200, r.text
    state = r.json()["state"]
    assert state["project_name"] == "coffee-cat-project" and not state["dirty"] and not state["unsaved"]
    folder = models / "coffee-cat-project"
    info = json.loads((folder / "project.json").read_text())
    assert [len(c["examples"]) for c in info["classes"]] == [10, 10]
    listed = {m["name"]: m for m in client.get("/api/teach/models", headers=AUTH).json()["models"]}
    assert listed["coffee-cat-project"]["kind"] == "teach_project"
    assert listed["coffee-cat-project"]["examples"] == 20 and listed["coffee-cat-project"]["trained"]

    # a second studio opens it with every example; unsaved work there is not thrown away silently
    other = TestClient(create_app(token=TOKEN, models_dir=models, port=8766), base_url=BASE)
    c = other.post("/api/teach/classes", json={"name": "mine"}, headers=AUTH).json()
    assert _upload(other, c["id"], _crops("rocket", 2)).status_code == 201
    r = other.post("/api/teach/open", json={"name": "coffee-cat-project"}, headers=AUTH)
    assert r.status_code == 409 and "unsaved changes" in r.json()["detail"]
    assert other.post("/api/project/new", headers=AUTH).status_code == 409
    state = other.post("/api/teach/open", json={"name": "coffee-cat-project", "discard": True}, headers=AUTH).json()
    assert [len(c["samples"]) for c in state["classes"]] == [10, 10] and state["trained"]
    assert state["project_name"] == "coffee-cat-project" and not state["unsaved"]
    sample = state["classes"][1]["samples"][0]
    assert other.get(f"/api/teach/samples/{sample}.jpg", headers=AUTH).status_code == 200
    r = other.post("/api/teach/classify", files={"file": ("x.jpg", _jpeg(photos["chelsea"]), "image/jpeg")},
                   headers=AUTH)
    assert r.json()["predictions"][0]["label"] == "cat"

    # continue there: one example less, one more, train again: only the new one is featurised
    assert other.delete(f"/api/teach/samples/{sample}", headers=AUTH).status_code == 204
    assert _upload(other, state["classes"][1]["id"], _crops("cat", 11)[-1:]).status_code == 201
    assert other.get("/api/teach", headers=AUTH).json()["unsaved"]
    other.post("/api/teach/train", json={"epochs": 5}, headers=AUTH)
    done = _events(other)[-1]
    assert done["type"] == "done" and done["featurised"] == 1
    state = other.post("/api/project/new", json={"discard": True}, headers=AUTH).json()
    assert len(state["classes"]) == 2 and not any(c["samples"] for c in state["classes"]) and not state["trained"]


def test_saves_of_one_name_take_turns(trained):
    import concurrent.futures

    client, _, models, _ = trained
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda i: client.post("/api/project/save", json={"name": "twice"}, headers=AUTH)
                              .status_code, range(8)))
        codes += list(pool.map(lambda i: client.post("/api/teach/save", json={"name": "model-twice"},
                                                     headers=AUTH).status_code, range(8)))
    assert codes == [200] * 16
    assert ml.load_project(models / "twice").examples == 20
    assert ml.load(models / "model-twice").labels_ == ["coffee", "cat"]
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")]
    # a project name cannot overwrite a model, nor a model a project
    assert client.post("/api/project/save", json={"name": "model-twice"}, headers=AUTH).status_code == 409
    assert client.post("/api/teach/save", json={"name": "twice"}, headers=AUTH).status_code == 409


def test_a_fifo_in_the_models_folder_does_not_freeze_the_list(tmp_path):
    import os

    (tmp_path / "stuck").mkdir()
    os.mkfifo(tmp_path / "stuck" / "model_meta.json")
    os.mkfifo(tmp_path / "pipe")
    client = TestClient(create_app(token=TOKEN, models_dir=tmp_path, port=8766), base_url=BASE)
    r = client.get("/api/teach/models", headers=AUTH)
    assert r.status_code == 200 and r.json()["models"] == []


def test_uploads_stand_up_by_their_exif_orientation(tmp_path, photos):
    from PIL import Image

    client = TestClient(create_app(token=TOKEN, models_dir=tmp_path, port=8766), base_url=BASE)
    c = client.post("/api/teach/classes", json={"name": "sideways"}, headers=AUTH).json()
    img = Image.fromarray(photos["coffee"][:200, :300])             # 300 wide, 200 high
    exif = Image.Exif()
    exif[0x0112] = 6                                                # "rotate 90° clockwise to view"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    sample = client.post(f"/api/teach/classes/{c['id']}/samples", headers=AUTH,
                         files=[("files", ("phone.jpg", buf.getvalue(), "image/jpeg"))]).json()["samples"][0]
    kept = Image.open(io.BytesIO(client.get(f"/api/teach/samples/{sample}.jpg?size=full", headers=AUTH).content))
    assert kept.height > kept.width                                 # stood up, like ml.load_image does


def test_a_sound_project_over_http(tmp_path):
    from playml.projects.project import _wav_bytes

    client = TestClient(create_app(token=TOKEN, models_dir=tmp_path, port=8766), base_url=BASE)
    state = client.post("/api/project/new", json={"kind": "sound", "discard": True}, headers=AUTH).json()
    assert state["kind"] == "sound" and [c["name"] for c in state["classes"]] == ["Background noise", "Class 2"]
    noise, tone = state["classes"][0]["id"], state["classes"][1]["id"]
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    wavs = lambda arrays: [("files", (f"c{i}.wav", _wav_bytes(a.astype(np.float32)), "audio/wav"))  # noqa: E731
                           for i, a in enumerate(arrays)]
    assert client.post(f"/api/teach/classes/{noise}/samples?source=microphone", headers=AUTH,
                       files=wavs([rng.normal(0, 0.01, 16000) for _ in range(5)])).status_code == 201
    assert client.post(f"/api/teach/classes/{tone}/samples", headers=AUTH,
                       files=wavs([0.5 * np.sin(2 * np.pi * f * t) for f in (400, 500, 600, 700, 800)])).status_code == 201
    r = client.post(f"/api/teach/classes/{tone}/samples", headers=AUTH, files=[("files", ("x.wav", b"nope", "audio/wav"))])
    assert r.status_code == 400 and "not a sound the studio can read" in r.json()["detail"]
    sample = client.get("/api/teach", headers=AUTH).json()["classes"][1]["samples"][0]
    assert client.get(f"/api/teach/samples/{sample}.wav", headers=AUTH).content[:4] == b"RIFF"
    client.post("/api/teach/train", json={"epochs": 40}, headers=AUTH)
    assert _events(client)[-1]["type"] == "done"
    with client.websocket_connect(BASE.replace("http", "ws") + "/ws/live?task=classify", headers=AUTH) as ws:
        assert ws.receive_json()["type"] == "status"
        assert ws.receive_json()["kind"] == "sound"
        ws.send_bytes((0.5 * np.sin(2 * np.pi * 650 * t)).astype("<f4").tobytes())
        assert ws.receive_json()["predictions"][0]["label"] == "Class 2"
        ws.send_bytes(rng.normal(0, 0.01, 16000).astype("<f4").tobytes())
        assert ws.receive_json()["predictions"][0]["label"] == "Background noise"


def test_export_for_the_web(trained):
    client, _, models, _ = trained
    # "Export for the web": an offline page next to the saved models, not listed as one
    r = client.post("/api/teach/export-web", json={"name": "coffee-or-cat"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert {"index.html", "tf.min.js", "model.json", "metadata.json"} <= set(r.json()["files"])
    assert json.loads((models / "coffee-or-cat-web" / "metadata.json").read_text())["labels"] == ["coffee", "cat"]
    assert "coffee-or-cat-web" not in [m["name"] for m in client.get("/api/teach/models", headers=AUTH).json()["models"]]
    assert client.post("/api/teach/export-web", json={"name": "../x"}, headers=AUTH).status_code == 400
