"""ml.feature_extractor(): vectors, batches, layers, the PyTorch module behind it."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import playml as ml


@pytest.fixture(scope="module")
def fe():
    return ml.feature_extractor()


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_one_image_gives_one_vector(fe, coffee_path):
    assert repr(fe) == "FeatureExtractor(model='efficientnet-lite0', dim=1280)"
    v = fe.features(coffee_path)
    assert v.shape == (1280,) and v.dtype == np.float32 and np.isfinite(v).all()


def test_similar_photos_have_similar_features(fe, photos):
    coffee, flipped, cat = fe.features([photos["coffee"], photos["coffee"][:, ::-1], photos["chelsea"]])
    assert cosine(coffee, flipped) > 0.9 > cosine(coffee, cat) + 0.2


def test_many_images_batched_equal_single(photos, tmp_path, capsys, monkeypatch):
    import playml.core.progress

    monkeypatch.setattr(playml.core.progress, "interactive_stderr", lambda: True)  # bars show on a terminal only
    fe = ml.feature_extractor(batch_size=3)
    images = [photos[k] for k in ("coffee", "chelsea", "astronaut", "rocket", "grace_hopper")]
    many = fe.features(images, progress=True)
    assert many.shape == (5, 1280)
    assert "5/5" in capsys.readouterr().err  # the tqdm progress bar
    for row, image in zip(many, images):
        np.testing.assert_allclose(row, fe.features(image), atol=1e-4)
    for i, image in enumerate(images[:2]):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    np.testing.assert_allclose(fe.features(tmp_path), many[:2], atol=1e-4)
    assert fe.features([]).shape == (0, 1280)
    # many images (decoded while it runs) use a session whose idle threads sleep; one image, one
    # whose threads spin through each run: two sessions of one file, the same numbers
    runner = fe._get_runner()
    assert set(runner._sessions) == {False, True}
    spins = {k: s.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")
             for k, s in runner._sessions.items()}
    assert spins == {False: "0", True: "1"}


def test_layers_listing(fe):
    layers = fe.layers()
    names = [layer.name for layer in layers]
    assert names[:3] == ["stem", "blocks.0", "blocks.1"] and names[-3:] == ["blocks.15", "head", "features"]
    assert layers[0].shape == (32, 112, 112) and layers[0].size == 32
    assert layers[-2].shape == (1280, 7, 7) and layers[-1].shape == (1280,)
    assert sum(layer.parameters for layer in layers) + 1280 * 1000 + 1000 == 4_652_008
    assert "Layer(name='stem', shape=(32, 112, 112)" in repr(layers[0])


def test_intermediate_layer_matches_pytorch(photos):
    torch = pytest.importorskip("torch")
    fe = ml.feature_extractor(layer="blocks.5")
    assert fe.dim == 80 and "layer='blocks.5'" in repr(fe)
    images = [photos["coffee"], photos["chelsea"]]
    onnx = fe.features(images)
    with torch.no_grad():
        ref = fe.torch_module()(torch.from_numpy(fe.preprocess(images))).numpy()
    assert onnx.shape == ref.shape == (2, 80)
    np.testing.assert_allclose(onnx, ref, atol=1e-4)
    assert ml.feature_extractor(layer=5).dim == 80  # a block number works too


def test_unknown_layer_suggests_names():
    with pytest.raises(ml.UnknownModelError, match="blocks.15"):
        ml.feature_extractor(layer="blocks.16")


def test_engines_for_later_work(fe, coffee_path):
    torch = pytest.importorskip("torch")
    x = fe.preprocess(coffee_path)
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32 and -1.0 <= x.min() < x.max() <= 1.0
    assert fe.session.get_inputs()[0].name == "images"
    assert isinstance(fe.model, torch.nn.Module)
    with torch.no_grad():
        np.testing.assert_allclose(fe.model(torch.from_numpy(x))[0].numpy(), fe.features(coffee_path), atol=1e-4)
    module = fe.torch_module("blocks.2")
    assert module(torch.from_numpy(x)).shape == (1, 24)


def test_the_feature_session_leaves_the_classifier_out(fe, photos):
    """ONNX Runtime runs every node of a graph whatever outputs are asked for, so the features run on
    a copy without the 1280 × 1000 classifier: the same numbers as the whole network's, one output."""
    clf = ml.image_classifier()
    assert [o.name for o in fe.session.get_outputs()] == ["features"]
    assert {o.name for o in clf.session.get_outputs()} == {"features", "logits"}
    x = fe.preprocess([photos["coffee"], photos["chelsea"]])
    alone = fe.session.run(["features"], {"images": x})[0]
    whole = clf.session.run(["features"], {"images": x})[0]
    np.testing.assert_allclose(alone, whole, rtol=0, atol=1e-6)
    assert np.array_equal(fe.features([photos["coffee"], photos["chelsea"]]), alone)


def test_teaching_methods_delegate_to_transfer():
    transfer = pytest.importorskip("playml.images.transfer")
    fe = ml.feature_extractor()
    assert isinstance(fe.classification(), transfer.ImageClassification)
    assert isinstance(fe.regression(), transfer.ImageRegression)
