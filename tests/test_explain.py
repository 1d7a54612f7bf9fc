"""ml.model_explorer: summaries, activations, value distributions and Grad-CAM on real models.

The explorer runs the networks in PyTorch; its activations are checked against the ONNX exports
inference uses (``ml.feature_extractor(layer=...)``: the same layer, averaged), its answers against
the models' own ``classify``, and Grad-CAM against a known box on a real photo (the bundled coffee
cup, from scikit-image, CC0).
"""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml import samples

COFFEE = str(samples.path("coffee"))
CHELSEA = str(samples.path("chelsea"))
#: The espresso cup in coffee.jpg (600×400): rim to the saucer, (left, top, right, bottom).
CUP = (175, 15, 415, 245)
TM = "tests/data/tfjs/tm-standard"


@pytest.fixture(scope="module")
def lite0():
    return ml.model_explorer("efficientnet-lite0")


def test_constructor_checks_and_loads_nothing():
    ex = ml.model_explorer("mobilenet")  # an alias
    assert ex._net is None and ex.kind == "backbone"
    assert repr(ml.model_explorer()) == "ModelExplorer(model='efficientnet-lite0', kind='backbone')"
    with pytest.raises(ml.UnknownModelError, match="efficientnet-lite0"):
        ml.model_explorer("efficientnet-lite9")
    with pytest.raises(ml.InputError, match="threads"):
        ml.model_explorer(threads=0)
    folder = ml.model_explorer(TM)
    assert repr(folder) == f"ModelExplorer(model='{TM}')" and folder._loaded is None  # nothing read yet
    assert folder.kind == "teachable_machine"


def test_backbone_summary_matches_the_block_table(lite0):
    from playml.zoo import get_backbone

    spec = get_backbone("efficientnet-lite0")
    rows = lite0.summary()
    assert [r.name for r in rows] == [layer.name for layer in spec.layers()] + ["classifier"]
    for row, layer in zip(rows, spec.layers()):
        assert row.shape == tuple(layer.shape), row
        assert row.parameters == layer.parameters, row
    assert rows[-1] == ml.LayerSummary("classifier", "Linear", (1000,), 1_281_000)
    assert lite0.parameters == spec.parameters() == sum(p.numel() for p in lite0.model.parameters())


@pytest.mark.parametrize("layer", ["stem", "blocks.5", "head"])
def test_activations_agree_with_the_onnx_features(lite0, layer):
    act = lite0.activations(COFFEE, layer)
    assert act.shape == lite0.summary()[lite0.layer_names().index(layer)].shape
    onnx = ml.feature_extractor("efficientnet-lite0", layer=layer).features(COFFEE)
    np.testing.assert_allclose(act.mean(axis=(1, 2)), onnx, atol=2e-4, rtol=1e-4)


def test_one_image_or_many(lite0):
    one = lite0.activations(COFFEE, "blocks.1")
    many = lite0.activations([COFFEE, CHELSEA], "blocks.1")
    assert isinstance(many, list) and len(many) == 2
    np.testing.assert_array_equal(many[0], one)
    assert not np.allclose(many[1], one)
    cams = lite0.grad_cam([COFFEE, CHELSEA])
    assert [c.label for c in cams][0] == "espresso"


def test_distributions(lite0):
    w = lite0.distribution("blocks.3")
    assert w.what == "weights" and w.size == lite0.summary()[4].parameters == int(w.counts.sum())
    np.testing.assert_allclose(w.mean, lite0.weights("blocks.3").mean(), rtol=1e-5)
    a = lite0.distribution("blocks.3", COFFEE, bins=20)
    act = lite0.activations(COFFEE, "blocks.3")
    assert a.what == "activations" and len(a.counts) == 20 and a.size == act.size
    assert a.min == pytest.approx(float(act.min())) and a.max == pytest.approx(float(act.max()))
    with pytest.raises(ml.UnknownModelError, match="blocks.3"):
        lite0.distribution("block3")


def test_grad_cam_puts_the_heat_on_the_cup(lite0):
    cam = lite0.grad_cam(COFFEE)
    top = ml.image_classifier("efficientnet-lite0").classify(COFFEE)[0]
    assert cam.label == top.label == "espresso"
    assert cam.confidence == pytest.approx(top.confidence, abs=1e-3)
    heat = cam.heatmap
    assert heat.shape == (400, 600) and cam.cam.max() == 1.0 and heat.max() == pytest.approx(1.0, abs=0.01)
    left, top_, right, bottom = CUP
    inside = heat[top_:bottom, left:right].sum() / heat.sum()
    seen = (cam.box[2] - cam.box[0]) * (cam.box[3] - cam.box[1])
    area = (right - left) * (bottom - top_) / seen
    assert inside > 0.6 and inside > 1.4 * area, (inside, area)  # far more heat than its share of the area
    x, y = cam.peak()
    assert left <= x < right and top_ <= y < bottom
    assert cam.overlay().shape == (400, 600, 3)
    # asked about another label, it looks elsewhere (or nowhere): not at the same map
    other = lite0.grad_cam(COFFEE, label="tabby cat")
    assert other.label == "tabby cat" and other.confidence < 0.01
    assert not np.allclose(other.cam, cam.cam, atol=0.1)


def test_teachable_machine_model():
    ex = ml.model_explorer(TM)
    tm = ex.loaded
    assert ex.kind == "teachable_machine"
    assert ex.parameters == sum(n for _, _, n in tm.layers_model.layer_table()) == 538_508
    assert ex.summary()[-1] == ml.LayerSummary("dense_Dense2", "Dense", (2,), 200)
    probs = ex.activations(COFFEE, "dense_Dense2")
    np.testing.assert_allclose(probs, tm.probabilities(COFFEE)[0], atol=1e-5)
    act = ex.activations(COFFEE, "out_relu")
    assert act.shape == (1280, 7, 7)  # channels first, whatever the model's own layout
    cam = ex.grad_cam(COFFEE)
    best = tm.classify(COFFEE)[0]
    assert (cam.label, cam.layer) == (best.label, "out_relu")
    assert cam.confidence == pytest.approx(best.confidence, abs=1e-5)


@pytest.mark.slow
def test_taught_classifier(tmp_path):
    clf = ml.ImageClassification(extractor=ml.feature_extractor("mobilenet-v2"), seed=0)
    clf.add_images([COFFEE, CHELSEA, str(samples.path("astronaut"))] * 2, ["cup", "cat", "person"] * 2)
    clf.train(epochs=15)
    clf.save(tmp_path / "taught")
    ex = ml.model_explorer(str(tmp_path / "taught"))
    assert ex.kind == "image_classification" and ex.labels == clf.labels_
    names = ex.layer_names()
    assert names[-5:] == ["features", "taught.0", "taught.1", "taught.2", "taught.3"]
    head = sum(p.numel() for p in clf.model.parameters())
    assert ex.parameters == ml.model_explorer("mobilenet-v2").parameters - 1_281_000 + head
    np.testing.assert_allclose(ex.activations(CHELSEA, "taught.3"), clf.probabilities(CHELSEA), atol=1e-4)
    cam = ex.grad_cam(CHELSEA)
    assert cam.label == "cat" == clf.classify(CHELSEA)[0].label


def _ml5_cnn(width=24, height=24, epochs=15):
    from skimage import data

    rng = np.random.default_rng(0)
    cnn = ml.neural_network(task="imageClassification", inputs=[width, height, 4], seed=0)
    for label, img in (("cat", data.chelsea()), ("rocket", data.rocket()), ("coffee", data.coffee())):
        for _ in range(8):
            y, x = int(rng.integers(0, img.shape[0] - 150)), int(rng.integers(0, img.shape[1] - 150))
            cnn.add_data(img[y:y + 150, x:x + 150], label)
    cnn.normalize_data()
    cnn.train(epochs=epochs, batch_size=8, progress=False)
    return cnn


def test_ml5_image_network(tmp_path):
    import torch

    cnn = _ml5_cnn()
    cnn.save(tmp_path / "cnn")
    for ex in (ml.model_explorer(cnn), ml.model_explorer(str(tmp_path / "cnn"))):   # trained here, or its folder
        assert ex.kind == "ml5_image" and not ex.is_table and ex.input_size == 24
        rows = ex.summary()
        assert [(r.name, r.type, r.shape) for r in rows] == [                      # as ml5.js and TF.js count them
            ("conv2d_1", "Conv2D (relu)", (8, 20, 20)), ("max_pooling2d_1", "MaxPooling2D", (8, 10, 10)),
            ("conv2d_2", "Conv2D (relu)", (16, 6, 6)), ("max_pooling2d_2", "MaxPooling2D", (16, 3, 3)),
            ("flatten_1", "Flatten", (144,)), ("dense_1", "Dense (softmax)", (3,))]
        assert ex.parameters == sum(p.numel() for p in cnn.model.parameters()) == sum(r.parameters for r in rows)
        x = torch.from_numpy(ex.preprocess(CHELSEA)[None])
        assert x.shape == (1, 24, 24, 4)                                             # the whole photo, resized
        with torch.no_grad():
            first = cnn.model[:3](x)[0].numpy()                                      # layout, convolution, ReLU
        np.testing.assert_allclose(ex.activations(CHELSEA, "conv2d_1"), first, atol=1e-6)
        answer = {p.label: p.confidence for p in cnn.classify(CHELSEA)}
        assert {p.label: p.confidence for p in ex.outputs(CHELSEA)} == pytest.approx(answer, abs=1e-4)
        cam = ex.grad_cam(CHELSEA)
        assert cam.label == max(answer, key=answer.get) and cam.heatmap.shape == (300, 451)
        assert cam.box == (0.0, 0.0, 451.0, 300.0)                                   # ml5.js resizes, never crops


def test_models_it_cannot_look_inside_are_refused():
    # table models open (tests/test_explain_tables.py), and ml5.js image networks with square inputs
    assert ml.model_explorer("tests/data/tfjs/dense-regression").kind == "tfjs_table"
    assert ml.model_explorer("tests/data/ml5/colour-classifier").kind == "neural_network"
    assert ml.model_explorer("tests/data/saved-0.1.0/anomaly_detector").kind == "anomaly_detector"
    with pytest.raises(ml.NotTrainedError):
        ml.model_explorer(ml.neural_network(task="imageClassification", inputs=[8, 8, 3]))
    with pytest.raises(ml.TaskError, match="32×24 images.*square"):
        ml.model_explorer(_ml5_cnn(32, 24, epochs=1))
    with pytest.raises(ml.TaskError, match="image models.*table models.*not a SoundClassifier"):
        ml.model_explorer(ml.sound_classifier())
    with pytest.raises(ml.MissingFileError):
        ml.model_explorer("no/such/model").summary()


def test_any_tfjs_layers_image_model():
    """A Keras-style functional model (BatchNorm, SeparableConv2D, shared layer, Concatenate…)."""
    ex = ml.model_explorer("tests/data/tfjs/keras-bn")
    model = ex.loaded
    assert ex.kind == "tfjs_layers" and ex.input_size == 20
    assert ex.parameters == sum(n for _, _, n in model.layer_table())
    x = ex.preprocess(COFFEE)
    assert x.shape == (20, 20, 3) and -1 <= x.min() < x.max() <= 1
    np.testing.assert_allclose(ex.activations(COFFEE, "probs"), model.predict(x), atol=1e-5)
    cam = ex.grad_cam(COFFEE)
    assert cam.label == f"output {int(np.argmax(model.predict(x)))}" and cam.heatmap.shape == (400, 600)
