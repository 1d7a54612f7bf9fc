"""The bundled data sets hold what their cards say, and one trains neural_network end to end."""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml.datasets import playground
from playml.errors import InputError


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PLAYML_CACHE", str(tmp_path_factory.getbasetemp() / "playml-cache"))


def test_tables_match_their_cards():
    wine = ml.datasets.load("wine")
    assert (len(wine), wine.X.shape[1]) == (178, 13) and list(wine.counts().values()) == [59, 71, 48]
    cancer = ml.datasets.load("breast-cancer")  # dashes and aliases work too
    assert cancer.counts() == {"malignant": 212, "benign": 357} and cancer.X.shape == (569, 30)
    assert cancer.feature_names[0] == "mean_radius" and cancer.feature_names[-1] == "worst_fractal_dimension"
    np.testing.assert_allclose(cancer.X[0, :2], [17.99, 10.38], rtol=1e-6)


def test_penguins_encode_categories_and_drop_missing_rows():
    p = ml.datasets.load("penguins")
    assert p.counts() == {"Adelie": 146, "Chinstrap": 68, "Gentoo": 119}
    assert p.feature_names[:4] == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    assert "island=Biscoe" in p.feature_names and "sex=male" in p.feature_names
    assert not np.isnan(p.X).any() and set(p.meta["year"].tolist()) == {2007, 2008, 2009}
    # Gentoo live on Biscoe only: the shortcut the card warns about is really in the data
    gentoo = p.where(label="Gentoo")
    assert (gentoo.X[:, p.feature_names.index("island=Biscoe")] == 1).all()
    full = ml.datasets.load("penguins", missing="fill")
    assert len(full) == 344 and not np.isnan(full.X).any()


def test_digit_images():
    digits = ml.datasets.load("digits")
    assert digits.X.shape == (1797, 8, 8, 3) and digits.X.dtype == np.uint8 and digits.X.max() == 255
    assert np.array_equal(digits.X[..., 0], digits.X[..., 2])
    mnist = ml.datasets.load("mnist")
    assert mnist.X.shape == (5000, 28, 28, 3) and set(mnist.counts().values()) == {500}
    assert repr(mnist) == "Dataset('mnist', 5000 images 28×28, 10 labels: 0, 1, 2, 3, 4, … 9)"
    # white digit on black: the border is dark, the centre has ink
    assert mnist.X[:, 0, :, 0].mean() < 1 and mnist.X[:, 10:18, 10:18, 0].mean() > 60
    with pytest.raises(ml.DataError, match="does not fit in a table"):
        mnist.to_pandas()


def test_photos_are_real_readable_images():
    photos = ml.datasets.load("photos")
    assert {"cat", "coffee", "astronaut", "rocket"} <= set(photos.labels)
    for i in range(len(photos)):
        img = photos.image(i)
        assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 200


def test_shakespeare_speeches():
    plays = ml.datasets.load("shakespeare")
    assert plays.kind == "text" and plays.labels == ["comedy", "history", "tragedy"]
    assert len(set(plays.meta["play"])) == 38 and len(plays) > 30000
    hamlet = plays.where(play="Hamlet")
    first = hamlet[0]
    assert first == ("Who's there?", "tragedy") and hamlet.meta["speaker"][0] == "Bernardo"
    texts = " ".join(hamlet.X.tolist())
    assert "To be, or not to be" in texts and "Exit Ghost" not in texts  # stage directions left out
    assert not any(c in texts for c in "*_#\\")
    by_play = ml.datasets.load("shakespeare", unit="play")
    assert len(by_play) == 38 and by_play.counts() == {"comedy": 15, "history": 11, "tragedy": 12}
    assert len(ml.datasets.load("shakespeare", label="play").labels) == 38
    with pytest.raises(InputError, match="unit must be"):
        ml.datasets.load("shakespeare", unit="line")


@pytest.mark.parametrize("shape", playground.SHAPES)
def test_playground_sets_follow_their_rules(shape):
    ds = ml.datasets.load(shape, n=400, noise=0.0, seed=1)
    X, y = ds.arrays()
    assert X.shape == (400, 2) and ds.labels == ["orange", "blue"] and ds.feature_names == ["x1", "x2"]
    assert abs(y.mean() - 0.5) < 0.1
    blue, orange = X[y == 1], X[y == 0]
    if shape == "circle":
        assert np.hypot(*blue.T).max() <= 2.5 and np.hypot(*orange.T).min() >= 3.5
    elif shape == "xor":
        assert (blue[:, 0] * blue[:, 1] >= 0).all() and (orange[:, 0] * orange[:, 1] < 0).all()
        assert np.abs(X).min() >= 0.3
    elif shape == "gaussian":
        np.testing.assert_allclose(blue.mean(axis=0), [2, 2], atol=0.2)
        np.testing.assert_allclose(orange.mean(axis=0), [-2, -2], atol=0.2)
    else:  # spiral: radius grows with the angle, up to 5
        assert np.hypot(*X.T).max() <= 5.0
    # same seed, same points; other seed or noise, other points
    assert np.array_equal(ml.datasets.load(shape, n=400, seed=1).X, X)
    assert not np.array_equal(ml.datasets.load(shape, n=400, seed=2).X, X)
    noisy = ml.datasets.load(shape, n=400, noise=0.5, seed=1)
    assert not np.array_equal(noisy.X, X) or not np.array_equal(noisy.y, y)


def test_playground_noise_flips_labels_near_the_boundary():
    clean = ml.datasets.load("circle", n=2000, noise=0.0)
    noisy = ml.datasets.load("circle", n=2000, noise=0.5)
    inside = lambda ds: np.hypot(*ds.X.T) < 2.5  # noqa: E731
    assert (clean.y == inside(clean)).all()
    agree = (noisy.y == inside(noisy)).mean()
    assert 0.6 < agree < 0.97
    with pytest.raises(InputError, match="noise goes from 0 to 0.5"):
        ml.datasets.load("xor", noise=25)


@pytest.mark.slow
def test_neural_network_learns_iris_from_ml_datasets():
    iris = ml.datasets.load("iris")
    train, test = iris.split(0.8, 0.2, stratify=True, seed=0)
    nn = ml.neural_network(task="classification", inputs=iris.feature_names, outputs=[iris.target_name])
    for x, label in train:
        nn.add_data([float(v) for v in x], [label])
    nn.normalize_data()
    nn.train(epochs=100, batch_size=16)
    correct = sum(nn.classify([float(v) for v in x])[0].label == label for x, label in test)
    assert correct / len(test) >= 0.9
