"""VectorIndex: every metric against SciPy's brute force, approximate recall, incremental updates."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import playml as ml
from playml.core.vector_index import METRICS, VectorIndex, check_metric, pairwise_distances, to_score


def feature_like(n: int, dim: int = 256, seed: int = 0) -> np.ndarray:
    """Vectors shaped like pooled CNN features: ReLU of a clustered low-dimensional latent."""
    base = np.random.default_rng(99)
    centres = base.normal(scale=1.5, size=(50, 16))
    proj = base.normal(scale=0.25, size=(16, dim))
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=(n, 16)) + centres[rng.integers(0, 50, n)]
    return (np.maximum(lat @ proj, 0) + 0.05 * np.abs(rng.normal(size=(n, dim)))).astype(np.float32)


def reference(queries, vectors, metric, p=3):
    if metric == "dot":
        return 1.0 - queries.astype(np.float64) @ vectors.astype(np.float64).T
    if metric == "minkowski":
        return cdist(queries, vectors, "minkowski", p=p)
    return cdist(queries, vectors, metric)


def recall(found, truth) -> float:
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / len(b) for a, b in zip(found, truth)]))


@pytest.fixture(scope="module")
def data():
    return feature_like(1500, seed=1), feature_like(25, seed=2)


@pytest.mark.parametrize("metric", METRICS)
def test_exact_search_matches_scipy_brute_force(data, metric):
    X, Q = data
    ref = reference(Q, X, metric, p=3)
    idx, dist = VectorIndex(metric, p=3, exact=True).fit(X).search(Q, k=15)
    assert idx.shape == dist.shape == (25, 15)
    assert np.all(np.diff(dist, axis=1) >= 0), "results must come closest first"
    want = np.sort(ref, axis=1)[:, :15]
    np.testing.assert_allclose(dist, want, rtol=2e-4, atol=2e-4)
    # the returned rows really are at those distances
    np.testing.assert_allclose(dist, np.take_along_axis(ref, idx, axis=1), rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(pairwise_distances(Q, X, metric, p=3), ref, rtol=2e-4, atol=2e-3)


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_minkowski_exponent(data, p):
    X, Q = data
    _, dist = VectorIndex("minkowski", p=p).fit(X).search(Q[:3], k=5)
    np.testing.assert_allclose(dist, np.sort(cdist(Q[:3], X, "minkowski", p=p), axis=1)[:, :5], rtol=1e-4)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean", "dot"])
def test_approximate_recall_at_15(metric):
    X, Q = feature_like(6000, seed=3), feature_like(60, seed=4)
    truth = np.argsort(reference(Q, X, metric), axis=1)[:, :15]
    index = VectorIndex(metric, exact=False).fit(X)
    assert index.approximate and index.ann_ is not None
    idx, dist = index.search(Q, k=15)
    assert recall(idx, truth) >= 0.95
    # distances are exact even though the search was not
    np.testing.assert_allclose(dist, np.take_along_axis(reference(Q, X, metric), idx, 1), rtol=2e-4, atol=2e-4)
    # exact=True on the same index bypasses the graph
    assert recall(index.search(Q, k=15, exact=True)[0], truth) == 1.0


def test_size_threshold_switches_to_approximate(data):
    X, _ = data
    assert not VectorIndex("cosine").fit(X).approximate            # 1,500 < 20,000
    assert VectorIndex("cosine", threshold=1000).fit(X).approximate
    assert not VectorIndex("cosine", threshold=1000, exact=True).fit(X).approximate
    assert not VectorIndex("minkowski", exact=False).fit(X).approximate  # no graph for minkowski
    small = VectorIndex("cosine", threshold=1000).fit(X[:900])
    assert not small.approximate
    small.add(X[900:])                                               # grows past the threshold
    assert small.approximate and len(small) == len(X)


@pytest.mark.parametrize("exact", [True, False])
def test_add_and_replace_match_a_fresh_index(data, exact):
    X, Q = data
    grown = VectorIndex("euclidean", exact=exact).fit(X[:700])
    rows = grown.add(X[700:])
    np.testing.assert_array_equal(rows, np.arange(700, len(X)))
    fresh = VectorIndex("euclidean", exact=True).fit(X)
    got, want = grown.search(Q, 10), fresh.search(Q, 10)
    if exact:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
    else:  # the approximate graph grown in two steps finds (nearly) the same neighbours, at the same distances
        recall = np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(got[0].tolist(), want[0].tolist())])
        assert recall >= 0.95, recall
        for gi, gd, wi, wd in zip(got[0], got[1], want[0], want[1]):
            np.testing.assert_allclose(np.sort(gd[np.isin(gi, wi)]), np.sort(wd[np.isin(wi, gi)]), rtol=1e-5)
    # replace row 5 by a copy of the first query: it becomes that query's nearest neighbour
    grown.replace([5], Q[:1])
    idx, dist = grown.search(Q[0], k=1)
    assert idx[0] == 5 and dist[0] == pytest.approx(0.0, abs=1e-4)


def test_graph_save_and_load(tmp_path, data):
    X, Q = data
    index = VectorIndex("cosine", exact=False).fit(X)
    index.save_graph(tmp_path / "g.usearch")
    again = VectorIndex("cosine", exact=False)
    again.vectors_ = X
    again.load_graph(tmp_path / "g.usearch")
    np.testing.assert_array_equal(again.search(Q, 15)[0], index.search(Q, 15)[0])
    (tmp_path / "bad.usearch").write_bytes(b"not a graph")
    with pytest.raises(ml.FormatError):
        again.load_graph(tmp_path / "bad.usearch")


def test_single_query_shapes_scores_and_memory(data):
    X, Q = data
    index = VectorIndex("cosine").fit(X)
    idx, dist = index.search(Q[0], k=3)
    assert idx.shape == dist.shape == (3,)
    np.testing.assert_allclose(to_score(dist, "cosine"), 1 - dist)
    assert to_score(np.array([0.0, 1.0]), "euclidean").tolist() == [1.0, 0.5]
    assert index.search(Q[0], k=10_000)[0].shape == (len(X),)     # k larger than the index
    assert index.memory_bytes()["vectors"] == X.nbytes
    assert "exact" in repr(index) and "cosine" in repr(index)


def test_metric_names_and_errors(data):
    X, Q = data
    assert check_metric("L2") == "euclidean" and check_metric("squared euclidean") == "sqeuclidean"
    assert check_metric("ip") == "dot" and check_metric("cos") == "cosine"
    with pytest.raises(ml.InputError, match="cosine"):
        VectorIndex("manhatan")
    with pytest.raises(ml.InputError, match="p"):
        VectorIndex("minkowski", p=0.5)
    index = VectorIndex("cosine")
    with pytest.raises(ml.InputError, match="empty"):
        index.search(Q[0])
    index.fit(X)
    with pytest.raises(ml.ShapeError, match="same model and layer"):
        index.search(np.ones(7))
    with pytest.raises(ml.InputError, match="k must"):
        index.search(Q[0], k=0)
    with pytest.raises(ml.InputError, match="NaN"):
        index.search(np.full(X.shape[1], np.nan))
