"""The explore pages' server side without a browser: uploads, the map, the playground's
background training and the CSV source of the anomalies page, including what they refuse."""
from __future__ import annotations

import time

import numpy as np
import pytest

import playml as ml
from playml.errors import InputError, PlaymlError
from playml.web.explore import AnomalySession, Playground, SearchSession, csv_split


def _photos() -> list[tuple[str, bytes]]:
    from conftest import ROOT

    files = sorted((ROOT / "playml" / "samples").glob("*.jpg"))
    assert len(files) >= 3
    return [(f.name, f.read_bytes()) for f in files]


def test_uploads_are_checked_kept_and_replaced():
    search = SearchSession()
    with pytest.raises(InputError, match="Upload some images first"):
        search.build("uploads", "mobilenet-v2", None, "cosine")
    with pytest.raises(InputError, match="notes.txt"):
        search.upload([("notes.txt", b"not a picture")])
    photos = _photos()
    out = search.upload(photos[:2])
    out = search.upload([(" ../../evil name?.jpg", photos[2][1])], first=False)   # a name cannot leave the folder
    assert out["images"] == 3
    folder = search.upload_dir
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and all("/" not in k and not k.startswith(".") for k in kept)
    info = search.build("uploads", "mobilenet-v2", None, "cosine")
    assert info["images"] == 3 and info["sprite"]["columns"] == 2
    # the sheet of thumbnails: 2 × 2 tiles of 64 pixels
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(search.sprite())).size == (128, 128)
    answer = search.query(1)
    index = ml.image_search(folder, model="mobilenet-v2", metric="cosine")
    assert [m["path"] for m in answer["matches"]] == [m.path for m in index.query(index.paths_[1], top_k=15)]
    with pytest.raises(PlaymlError, match="pca, umap"):
        search.map("tsne")
    search.upload(photos[:1])                            # a new upload replaces the last one
    assert not folder.exists() and search.current is None


def test_playground_plays_in_a_thread_and_stops():
    pg = Playground()
    pg.reset({"dataset": "circle"})
    pg.play(True)
    deadline = time.time() + 60
    while pg.frames()["epoch"] < 5 and time.time() < deadline:
        time.sleep(0.05)
    frame = pg.frames(since=0)
    assert frame["epoch"] >= 5 and frame["playing"]
    assert all(h["epoch"] > 0 for h in frame["history"])
    assert [len(layer["b"]) for layer in frame["weights"]] == [4, 2, 2]
    assert [layer["activation"] for layer in frame["weights"]] == ["tanh", "tanh", "softmax"]
    pg.play(False)
    stopped = pg.epoch
    time.sleep(0.2)
    assert pg.epoch == stopped and not pg.frames()["playing"]
    # the weights the page draws from give the network's own answers on the lattice
    from playml.web.explore import FEATURES, _lattice

    state = pg.state()
    assert state["epoch"] == stopped
    lattice = _lattice(state["grid"]["size"])
    v = np.stack([FEATURES[f](lattice[:, 0], lattice[:, 1]) for f in state["features"]], axis=1)
    for layer in state["weights"]:
        v = v @ np.array(layer["w"]).T + np.array(layer["b"])
        v = np.tanh(v) if layer["activation"] == "tanh" else np.exp(v) / np.exp(v).sum(axis=1, keepdims=True)
    assert np.abs(np.round(v[:, state["blue"]] * 255) - state["grid"]["blue"]).max() <= 1
    pg.step(1)                                           # Step still trains one epoch
    assert pg.epoch == stopped + 1


def test_playground_stops_playing_when_no_page_watches(monkeypatch):
    from playml.web import explore

    monkeypatch.setattr(explore, "UNWATCHED_SECONDS", 0.5)
    pg = Playground()
    pg.play(True)
    time.sleep(0.3)
    assert pg.frames()["playing"]                        # a page asked: it goes on
    time.sleep(1.5)                                      # nobody asks: it stops by itself
    assert not pg._player.is_alive()
    epoch = pg.epoch
    time.sleep(0.2)
    assert pg.epoch == epoch and not pg.frames()["playing"]


def test_anomalies_csv_source(tmp_path):
    import pandas as pd

    ds = ml.datasets.load("ecg200")
    X, _ = ds.arrays()
    table = pd.DataFrame(X[:, :20], columns=[f"t{i}" for i in range(20)])
    table["label"] = [str(v) for v in ds.named_labels()]
    session = AnomalySession()
    with pytest.raises(InputError, match="Upload a CSV"):
        session.start({"dataset": "csv"})
    info = session.upload_csv("beats.csv", table.to_csv(index=False).encode())
    assert info["rows"] == 200 and info["label_column"] == "label"
    assert info["labels"]["label"][0] == "normal"        # the most common first
    with pytest.raises(PlaymlError, match="no label column called .t3."):
        session.start({"dataset": "csv", "label_column": "t3", "normal_label": "normal"})
    with pytest.raises(PlaymlError, match="normal label"):
        session.start({"dataset": "csv", "label_column": "label", "normal_label": "healthy"})

    # no label column: learns from four rows in five, only counts can be shown
    session.upload_csv("numbers.csv", table.drop(columns=["label"]).to_csv(index=False).encode())
    session.start({"dataset": "csv", "epochs": 5})
    deadline = time.time() + 120
    while session.status == "training" and time.time() < deadline:
        time.sleep(0.1)
    assert session.status == "ready", session.error
    assert session.result["anomaly"] is None and len(session.result["scores"]) == 40
    _, test = csv_split(table.drop(columns=["label"]))
    np.testing.assert_allclose(session.result["scores"], session.detector.score(test), rtol=1e-6)
