"""playml.datasets: the Dataset type, splits, batches, the registry of bundled data sets."""
from __future__ import annotations

import re

import numpy as np
import pytest

import playml as ml
from playml.datasets import Dataset
from playml.errors import DataError, InputError, UnknownModelError


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    # one cache per test session: the first test of each data set parses it, later tests reuse it
    monkeypatch.setenv("PLAYML_CACHE", str(tmp_path_factory.getbasetemp() / "playml-cache"))


@pytest.fixture
def iris():
    return ml.datasets.load("iris")


# ------------------------------------------------------------------ registry and cards
def test_every_bundled_data_set_loads_offline_with_a_card_naming_origin_and_license():
    names = [d.name for d in ml.datasets.list()]
    assert {"iris", "ecg5000", "ecg200"} <= set(names)
    for name in names:
        ds = ml.datasets.load(name)
        assert isinstance(ds, Dataset) and len(ds) > 0, name
        assert ds.kind in ml.datasets.KINDS
        card = ds.card
        for section in ("Origin", "License", "Fields", "Labels", "Size", "Known gaps", "Good for"):
            m = re.search(rf"^## {section}[^\n]*\n+(.+?)(?=^## |\Z)", card, re.S | re.M)
            assert m and len(m.group(1).strip()) > 20, f"{name}: card section {section!r} missing or empty"
        assert ds.describe().startswith(card.strip()[:40])
        if ds.task == "classification":
            assert sum(ds.counts().values()) == len(ds)
            assert set(ds.counts()) == set(ds.labels)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownModelError, match="ecg5000"):
        ml.datasets.load("ecg500")
    with pytest.raises(InputError, match="no option 'nosie'"):
        ml.datasets.load("iris", nosie=0.1)


def test_iris_repr_arrays_and_indexing(iris):
    assert repr(iris) == "Dataset('iris', 150 examples, 4 features, 3 labels: setosa, versicolor, virginica)"
    X, y = iris.arrays()
    assert X.shape == (150, 4) and X.dtype == np.float32 and y.shape == (150,)
    assert iris.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert iris.labels == ["setosa", "versicolor", "virginica"] and iris.kind == "table"
    assert iris.task == "classification" and iris.target_name == "species"
    x0, label0 = iris[0]
    np.testing.assert_allclose(x0, [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    assert label0 == "setosa" and iris[-1][1] == "virginica"
    assert len(iris[10:20]) == 10 and isinstance(iris[10:20], Dataset)
    assert len(iris[[0, 5, 149]]) == 3 and iris[[0, 5, 149]][2][1] == "virginica"
    assert len(iris[iris.y == 1]) == 50
    assert sum(1 for _ in iris) == 150
    with pytest.raises(InputError):
        iris[150]
    df = iris.to_pandas()
    assert list(df.columns) == iris.feature_names + ["species"] and df["species"].iloc[-1] == "virginica"


def test_where_filter_and_named_labels(iris):
    only = iris.where(label=["setosa", "virginica"])
    assert only.counts() == {"setosa": 50, "versicolor": 0, "virginica": 50}
    assert set(only.named_labels()) == {"setosa", "virginica"}
    big = iris.filter(lambda x, label: x[2] > 5.0)
    assert len(big) == int((iris.X[:, 2] > 5.0).sum()) > 0
    with pytest.raises(DataError, match="no label 'rose'.*setosa"):
        iris.where(label="rose")
    with pytest.raises(DataError, match="no label marked as normal"):
        iris.normal_only()


# ------------------------------------------------------------------ splits
def test_split_proportions_stratification_and_seeds(iris):
    train, val, test = iris.split(0.7, 0.15, 0.15, stratify=True, seed=0)
    assert (len(train), len(val), len(test)) == (105, 23, 22)
    assert train.counts() == {"setosa": 35, "versicolor": 35, "virginica": 35}
    for part in (val, test):
        assert all(7 <= k <= 8 for k in part.counts().values())
    # no example is lost or repeated
    rows = np.concatenate([p.X for p in (train, val, test)])
    assert len(np.unique(rows, axis=0)) == len(np.unique(iris.X, axis=0))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, iris.X.tolist()))
    # reproducible with a seed, different with another seed
    again = iris.split(0.7, 0.15, 0.15, stratify=True, seed=0)
    assert np.array_equal(again[0].X, train.X) and np.array_equal(again[2].y, test.y)
    other = iris.split(0.7, 0.15, 0.15, stratify=True, seed=1)
    assert not np.array_equal(other[0].X, train.X)
    # one fraction means (f, 1 - f)
    a, b = iris.split(0.8, seed=3)
    assert (len(a), len(b)) == (120, 30)


def test_stratified_split_keeps_rare_label_proportions():
    ecg = ml.datasets.load("ecg5000")
    parts = ecg.split(0.6, 0.2, 0.2, stratify=True, seed=0)
    whole = np.array(list(ecg.counts().values())) / len(ecg)
    for part in parts:
        share = np.array(list(part.counts().values())) / len(part)
        np.testing.assert_allclose(share, whole, atol=0.002)
    plain = ecg.split(0.6, 0.2, 0.2, seed=0)
    assert sum(len(p) for p in plain) == 5000 and [len(p) for p in plain] == [3000, 1000, 1000]


def test_split_refuses_impossible_requests(iris):
    with pytest.raises(DataError, match="add up to 1"):
        iris.split(0.7, 0.2, 0.2)
    with pytest.raises(DataError, match="between 0 and 1"):
        iris.split(1.2, -0.2)
    tiny = Dataset(np.arange(12.0).reshape(6, 2), ["a", "a", "a", "a", "b", "b"], name="tiny")
    with pytest.raises(DataError, match="'b' has 2"):
        tiny.split(0.5, 0.25, 0.25, stratify=True, seed=0)
    with pytest.raises(DataError, match="would be empty"):
        tiny.split(0.95, 0.05, seed=0)
    with pytest.raises(DataError, match="needs class labels"):
        Dataset(np.zeros((10, 2))).split(0.5, 0.5, stratify=True)


# ------------------------------------------------------------------ batches
def test_batches_cover_every_example_once(iris):
    seen = []
    sizes = []
    for X, y in iris.batches(16, shuffle=True, seed=0):
        assert X.dtype == np.float32 and len(X) == len(y)
        sizes.append(len(X))
        seen.extend(map(tuple, X.tolist()))
    assert sizes == [16] * 9 + [6]
    assert sorted(seen) == sorted(map(tuple, iris.X.tolist()))
    first = next(iris.batches(16, seed=5))[1]
    assert np.array_equal(first, next(iris.batches(16, seed=5))[1])
    ordered = next(iris.batches(10, shuffle=False))[1]
    assert np.array_equal(ordered, iris.y[:10])
    assert [len(X) for X, _ in iris.batches(16, drop_last=True)] == [16] * 9


# ------------------------------------------------------------------ ECG
def test_ecg5000_for_anomaly_detection():
    ecg = ml.datasets.load("ecg5000")
    assert ecg.kind == "sequences" and ecg.shape == (140,) and len(ecg) == 5000
    assert ecg.labels == ["normal", "R-on-T PVC", "PVC", "SP or EB", "unclassified"]
    assert ecg.counts()["normal"] == 2919
    normal = ecg.normal_only()
    assert len(normal) == 2919 and set(normal.named_labels()) == {"normal"}
    train, test = ecg.canonical_split()
    assert (len(train), len(test)) == (500, 4500)
    assert np.array_equal(ml.datasets.load("ecg5000", split="train").X, train.X)
    assert len(ml.datasets.load("ecg5000", split="test")) == 4500
    assert len(train.normal_only()) + len(train.where(label=["R-on-T PVC", "PVC", "SP or EB", "unclassified"])) == 500
    # z-normalised beats as the archive publishes them
    np.testing.assert_allclose(ecg.X.mean(axis=1), 0, atol=1e-4)
    with pytest.raises(InputError, match="'train' or 'test'"):
        ml.datasets.load("ecg5000", split="validation")
    with pytest.raises(DataError, match="no published train/test split"):
        ml.datasets.load("iris", split="train")


def test_ecg200():
    ecg = ml.datasets.load("ecg200")
    assert ecg.shape == (96,) and ecg.counts() == {"myocardial infarction": 67, "normal": 133}
    train, test = ecg.canonical_split()
    assert len(train) == len(test) == 100


# ------------------------------------------------------------------ cache
def test_cache_round_trip_and_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYML_CACHE", str(tmp_path))
    first = ml.datasets.load("ecg200")
    files = list((tmp_path / "datasets").glob("ecg200-*.npz"))
    assert len(files) == 1
    again = ml.datasets.load("ecg200")
    assert np.array_equal(first.X, again.X) and np.array_equal(first.y, again.y)
    assert again.labels == first.labels and again.normal_label == "normal"
    assert np.array_equal(first.meta["split"], again.meta["split"]) and again.notes == first.notes
    ml.datasets.load("wine", cache=False)
    assert not list((tmp_path / "datasets").glob("wine-*"))
    files[0].write_bytes(b"not a zip file")
    rebuilt = ml.datasets.load("ecg200")
    assert np.array_equal(rebuilt.X, first.X)


# ------------------------------------------------------------------ Dataset made by hand
def test_dataset_from_lists_infers_labels_and_kind():
    ds = Dataset([[1, 2], [3, 4], [5, 6]], ["cat", "dog", "cat"], feature_names=["w", "h"], name="pets")
    assert ds.kind == "table" and ds.labels == ["cat", "dog"] and list(ds.y) == [0, 1, 0]
    assert repr(ds) == "Dataset('pets', 3 examples, 2 features, 2 labels: cat, dog)"
    ints = Dataset(np.zeros((4, 1)), [3, 7, 3, 10])
    assert ints.labels == ["3", "7", "10"] and list(ints.y) == [0, 1, 0, 2] and ints[3][1] == "10"
    reg = Dataset(np.arange(10.0)[:, None], np.arange(10.0) * 2, target_name="price")
    assert reg.task == "regression" and "target 'price'" in repr(reg)
    with pytest.raises(DataError, match="3 examples but 2 labels"):
        Dataset([[1], [2], [3]], ["a", "b"])
    text = Dataset(["hello there", "goodbye"], ["hi", "bye"])
    assert text.kind == "text" and text[0] == ("hello there", "hi")


# ------------------------------------------------------------------ command line
def test_cli_lists_and_shows_a_card_with_a_preview(capsys, tmp_path):
    from playml.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "iris" in out and "ecg5000" in out and "shakespeare" in out
    assert main(["datasets", "iris", "--rows", "3"]) == 0
    out = capsys.readouterr().out
    assert "## Origin" in out and "## License" in out and "| setosa | 50 |" in out
    preview = out.split("## First 3 rows")[1].strip().splitlines()
    assert preview[0].split() == ["#", "sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert preview[2].split() == ["0", "5.1", "3.5", "1.4", "0.2", "setosa"] and len(preview) == 5
    assert main(["datasets", "spiral", "-o", "n=40", "-o", "noise=0.1"]) == 0
    assert "n=40, noise=0.1" in capsys.readouterr().out
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
    assert main(["datasets", str(csv), "--label", "kind", "--json"]) == 0
    assert '"counts": {\n    "x": 2,\n    "y": 1\n  }' in capsys.readouterr().out
    assert main(["datasets", "irs"]) == 2
    assert "Did you mean 'iris'" in capsys.readouterr().err
