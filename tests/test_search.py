"""Image search on real photos: label-true results, layers, metrics, files, resuming, errors."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from conftest import make_labelled_photos
from scipy.spatial.distance import cdist

import playml as ml
from playml.images.features import FeatureExtractor
from playml.images.search import ImageSearch, Match, search_score


@pytest.fixture(scope="module")
def index(labelled_photos, tmp_path_factory):
    return ml.image_search(labelled_photos, cache=tmp_path_factory.mktemp("chunks"))


@pytest.fixture
def count_embeddings(monkeypatch):
    """Count the images that really go through the model (calls through to it)."""
    seen: list[int] = []
    real = FeatureExtractor.features

    def counting(self, images, **kw):
        seen.append(len(images) if isinstance(images, list) else 1)
        return real(self, images, **kw)

    monkeypatch.setattr(FeatureExtractor, "features", counting)
    return seen


def test_top_15_is_dominated_by_the_query_label(index, labelled_photos):
    assert len(index) == 60 and index.labels == ["astronaut", "camera", "chelsea", "coffee", "grace_hopper", "rocket"]
    for label in index.labels:
        hits = index.query(labelled_photos / label / "03.jpg", top_k=15)
        assert isinstance(hits[0], Match) and hits[0].path.endswith(f"{label}/03.jpg")  # itself first
        assert hits[0].distance == pytest.approx(0, abs=1e-5) and hits[0].score == pytest.approx(1, abs=1e-5)
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        same = sum(h.label == label for h in hits[:10])
        assert same >= 9, f"{label}: only {same} of the top 10 share its label: {hits[:10]}"


def test_a_new_photo_finds_its_own_kind(index, tmp_path):
    new = make_labelled_photos(tmp_path / "new", per_label=1, seed=7)
    files = sorted(new.rglob("*.jpg"))
    results = index.query(files, top_k=5)          # several images → one list each
    for f, hits in zip(files, results):
        assert [h.label for h in hits[:3]] == [f.parent.name] * 3


def test_evaluate_beats_random_by_a_wide_margin(index):
    result = index.evaluate()
    assert result.k == 15 and result.queries == 60
    # 10 images per label: at best 9 same-label hits, at the top of 15 → 99/120
    assert result.ideal == pytest.approx(99 / 120, abs=1e-4)
    assert result.baseline == pytest.approx(9 / 59, abs=1e-4)
    assert result.score >= 0.9 * result.ideal
    assert result.score - result.baseline > 0.5
    assert set(result.per_label) == set(index.labels)
    assert result.to_dict()["score"] == result.score


def test_search_score_formula():
    assert search_score([True] * 15) == 1.0
    assert search_score([False] * 15) == 0.0
    assert search_score([True] + [False] * 14) == pytest.approx(15 / 120)
    assert search_score([False] * 14 + [True]) == pytest.approx(1 / 120)
    assert search_score([True, False, True]) == pytest.approx((3 + 1) / 6)


def test_different_layers_give_different_scores(index, labelled_photos, tmp_path):
    early = ml.image_search(labelled_photos, layer="blocks.4", cache=False)
    assert early.dim == 40 and early.vectors_.shape == (60, 40)
    late, mid = index.evaluate().score, early.evaluate().score
    assert abs(late - mid) > 0.02
    assert late > mid


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean", "minkowski", "dot"])
def test_every_metric_agrees_with_brute_force(index, labelled_photos, metric):
    other = index.with_metric(metric, p=3)
    query = index.embed(labelled_photos / "coffee" / "05.jpg")
    hits = other.query_vector(query, top_k=8)
    X = np.asarray(index.vectors_, dtype=np.float64)
    ref = 1 - X @ query if metric == "dot" else cdist(query[None], X, metric, **({"p": 3} if metric == "minkowski"
                                                                              else {}))[0]
    order = np.argsort(ref)[:8]
    np.testing.assert_allclose([h.distance for h in hits], ref[order], rtol=1e-4, atol=1e-4)
    assert [h.path for h in hits[:3]] == [index.paths_[i] for i in order[:3]]
    assert all(h.label == "coffee" for h in hits[:5])
    assert other.evaluate().score > 0.6


def test_save_load_round_trip_is_self_describing(index, labelled_photos, tmp_path):
    path = index.save(tmp_path / "photos.index")
    assert sorted(os.listdir(path)) == ["items.json", "model_meta.json", "vectors.npy"]
    meta = json.loads((path / "model_meta.json").read_text())
    assert meta["playml"]["kind"] == "image_search" and meta["playml"]["playml_version"] == ml.__version__
    assert (meta["model"], meta["layer"], meta["metric"], meta["pooling"]) == \
        ("efficientnet-lite0", "features", "cosine", "global-average")
    assert meta["preprocessing"]["input_size"] == 224 and meta["count"] == 60 and meta["dim"] == 1280
    assert np.load(path / "vectors.npy", allow_pickle=False).dtype == np.float32
    for loaded in (ml.image_search.load(path), ml.load(path)):
        assert isinstance(loaded, ImageSearch) and repr(loaded) == repr(index)
        q = labelled_photos / "rocket" / "01.jpg"
        assert [m.to_dict() for m in loaded.query(q, top_k=5)] == [m.to_dict() for m in index.query(q, top_k=5)]
    assert ml.image_search.load(path, metric="euclidean").query(q, top_k=1)[0].path.endswith("rocket/01.jpg")


def test_approximate_index_saves_its_graph(labelled_photos, index, tmp_path):
    approx = index.with_metric("cosine", exact=False)        # same vectors, HNSW graph
    assert approx.index_.approximate and "approximate" in repr(approx)
    path = approx.save(tmp_path / "approx.index")
    assert (path / "graph.usearch").exists()
    loaded = ImageSearch.load(path)
    assert loaded.index_.approximate
    q = labelled_photos / "chelsea" / "02.jpg"
    assert [m.path for m in loaded.query(q, top_k=5)] == [m.path for m in index.query(q, top_k=5)]


def test_mismatched_model_or_weights_is_a_clear_error(index, tmp_path):
    path = index.save(tmp_path / "photos.index")
    with pytest.raises(ml.FormatError, match="built with the model 'efficientnet-lite0', not 'mobilenet-v2'"):
        ImageSearch.load(path, model="mobilenet-v2")
    with pytest.raises(ml.FormatError, match="layer"):
        ImageSearch.load(path, layer="blocks.3")
    meta = json.loads((path / "model_meta.json").read_text())
    meta["weights"]["version"] = "0.0.1"
    (path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ml.FormatError, match="Rebuild the index"):
        ImageSearch.load(path)
    meta["weights"]["version"] = None
    meta["layer"] = "blocks.4"  # 40 numbers per vector, but the file holds 1280
    (path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ml.FormatError, match="do not match"):
        ImageSearch.load(path)
    with pytest.raises(ml.ShapeError, match="same model and layer"):
        index.query_vector(np.ones(40, np.float32))
    with pytest.raises(ml.MissingFileError):
        ImageSearch.load(tmp_path / "nothing.index")
    np.save(path / "vectors.npy", np.array([{"a": 1}], dtype=object))  # a pickled object: refused
    meta["layer"] = "features"
    (path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ml.FormatError):
        ImageSearch.load(path)


def test_interrupted_build_resumes_without_redoing_work(labelled_photos, tmp_path, monkeypatch):
    folder = shutil.copytree(labelled_photos, tmp_path / "photos")
    cache = tmp_path / "chunks"
    real = FeatureExtractor.features
    calls: list[int] = []
    stop_at = [2]

    def counting(self, images, **kw):  # counts images through the real model; can "crash"
        if len(calls) == stop_at[0]:
            raise KeyboardInterrupt
        calls.append(len(images) if isinstance(images, list) else 1)
        return real(self, images, **kw)

    monkeypatch.setattr(FeatureExtractor, "features", counting)
    with pytest.raises(KeyboardInterrupt):
        ImageSearch(chunk_size=16, cache=cache).build(folder)
    assert calls == [16, 16] and len(list(cache.rglob("chunk-*.npz"))) == 2

    calls.clear()
    stop_at[0] = None
    index = ImageSearch(chunk_size=16, cache=cache).build(folder)
    assert sum(calls) == 60 - 32 and len(index) == 60
    assert index.last_build_ == {"images": 60, "embedded": 28, "from_cache": 32, "kept": 0, "skipped": 0}

    # a changed file (new content → new size and time) is embedded again; the others are not
    calls.clear()
    changed = folder / "coffee" / "00.jpg"
    shutil.copy(folder / "rocket" / "00.jpg", changed)
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    index.add(folder)
    assert sum(calls) == 1 and len(index) == 60
    twins = index.query(folder / "rocket" / "00.jpg", top_k=2)       # now the same picture twice
    assert {m.path for m in twins} == {str(changed.resolve()), str((folder / "rocket" / "00.jpg").resolve())}
    assert twins[1].distance == pytest.approx(0, abs=1e-5)

    # a fresh object over the same folder finds everything in the cache
    calls.clear()
    again = ImageSearch(cache=cache).build(folder)
    assert sum(calls) == 0 and again.last_build_["from_cache"] == 60


def test_add_grows_the_index(labelled_photos, tmp_path, count_embeddings):
    a, b = tmp_path / "a", tmp_path / "b"
    for label in ("coffee", "rocket"):
        shutil.copytree(labelled_photos / label, a / label)
    shutil.copytree(labelled_photos / "chelsea", b / "chelsea")
    index = ml.image_search(a, metric="euclidean", cache=False)
    assert len(index) == 20 and sum(count_embeddings) == 20
    index.add(b)
    assert len(index) == 30 and sum(count_embeddings) == 30
    index.add(b)                                  # nothing new, nothing changed
    assert sum(count_embeddings) == 30
    assert {h.label for h in index.query(b / "chelsea" / "04.jpg", top_k=5)} == {"chelsea"}
    index.add([labelled_photos / "camera" / "00.jpg"])  # a list of files works too
    assert len(index) == 31 and index.labels_[-1] is None


def test_unreadable_files_are_skipped_with_a_warning(tmp_path, labelled_photos):
    folder = shutil.copytree(labelled_photos / "coffee", tmp_path / "few" / "coffee")
    (folder / "broken.jpg").write_bytes(b"this is not a jpeg")
    with pytest.warns(UserWarning, match="could not be read"):
        index = ImageSearch(cache=False, chunk_size=4).build(tmp_path / "few")
    assert len(index) == 10 and [p for p, _ in index.skipped_] == [str((folder / "broken.jpg").resolve())]


def test_shards_merge_into_the_full_index(index, labelled_photos, tmp_path):
    cache = index.cache  # the module index's chunks: shards reuse them
    parts = [ImageSearch(cache=cache).build(labelled_photos, shard=f"{i}/3") for i in range(3)]
    assert sum(len(p) for p in parts) == 60 and all(len(p) for p in parts)
    for i, p in enumerate(parts):
        p.save(tmp_path / f"part-{i}.index")
    merged = ImageSearch.merge([tmp_path / f"part-{i}.index" for i in range(3)])
    assert sorted(merged.paths_) == sorted(index.paths_)
    order = [merged.paths_.index(p) for p in index.paths_]
    np.testing.assert_allclose(np.asarray(merged.vectors_)[order], index.vectors_, atol=1e-6)
    with pytest.raises(ml.FormatError, match="layer"):
        ImageSearch.merge([index, ml.image_search(labelled_photos / "coffee", layer="blocks.4", cache=False)])
    with pytest.raises(ml.InputError, match="shard"):
        ImageSearch().build(labelled_photos, shard="3/3")


def test_map_is_a_figure_coloured_by_label(index):
    fig = index.plot_map(method="pca")
    ax = fig.axes[0]
    assert len(ax.collections) == 6
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == index.labels
    rows, xy = index.map_2d("pca")
    assert xy.shape == (60, 2) and len(rows) == 60


@pytest.mark.slow
def test_umap_map_groups_labels(index):
    rows, xy = index.map_2d("umap")
    labels = np.array([index.labels_[i] for i in rows])
    # each image's nearest neighbour on the map has its label, almost always
    d = cdist(xy, xy)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.9
    assert index.plot_map().axes[0].collections


def test_layers_repr_and_errors(index, tmp_path, labelled_photos):
    names = [layer.name for layer in index.layers()]
    assert names[0] == "stem" and "blocks.4" in names and names[-1] == "features"
    assert repr(index) == ("ImageSearch(model='efficientnet-lite0', metric='cosine', images=60, labels=6, "
                           "search='exact')")
    assert "layer='blocks.4'" in repr(ImageSearch(layer="blocks.4", metric="minkowski", p=2))
    with pytest.raises(ml.UnknownModelError, match="blocks"):
        ImageSearch(layer="block.4")
    with pytest.raises(ml.InputError, match="metric"):
        ImageSearch(metric="hamming")
    with pytest.raises(ml.NotTrainedError, match="Build it first"):
        ImageSearch().query(labelled_photos / "coffee" / "00.jpg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ml.DataError, match="no images"):
        ImageSearch(cache=False).build(tmp_path / "empty")
    unlabelled = ImageSearch(cache=False).build(sorted((labelled_photos / "coffee").glob("*.jpg"))[:3])
    with pytest.raises(ml.DataError, match="one sub-folder per label"):
        unlabelled.evaluate()
    with pytest.raises(ml.OfflineError):
        ImageSearch().build("https://example.com/photos/")
    assert ml.image_search.load == ImageSearch.load
