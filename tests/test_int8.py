"""precision="int8": the statically quantised backbones agree with float32 on real photos.

The int8 export is made once (quantised from the float32 export, calibrated on crops of the
left part of real photos) and cached like the float32 one; the agreement is measured on
crops of the right part of those photos and on a photo never calibrated on.
"""
from __future__ import annotations

import numpy as np
import pytest
from _teach_data import photo_crops

import playml as ml
from playml.errors import UnknownModelError
from playml.zoo import get_backbone
from playml.zoo.export import onnx_path
from playml.zoo.agreement import measure_agreement

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def agreement():
    return measure_agreement(get_backbone("efficientnet-lite0"))


def test_top1_agrees_with_float32_and_top5_accuracy_holds(agreement):
    assert agreement["images"] == 240 and agreement["labelled"] >= 100
    assert agreement["top1_agreement"] >= 0.97, agreement  # pure int8: measured 0.975 (the issue asks 0.99)
    # the image classifier re-runs near-ties in float32: measured 0.996 with 7.1 % re-run
    assert agreement["top1_rechecked"] >= 0.99 and agreement["rechecked_share"] <= 0.1, agreement
    assert agreement["top5_float32"] >= 0.9, agreement               # the labelled photos are recognisable
    assert abs(agreement["top5_int8"] - agreement["top5_float32"]) <= 0.01, agreement


def test_features_stay_close_to_float32(agreement, chelsea_path, coffee_path):
    assert agreement["cosine_mean"] >= 0.998, agreement             # measured 0.9991 (issue: 0.98)
    assert agreement["logits_mse"] <= 0.003, agreement               # measured 0.0023 (0.0061 rounded to nearest)
    f32, q8 = ml.feature_extractor(), ml.feature_extractor(precision="int8")
    a, b = f32.features([chelsea_path, coffee_path]), q8.features([chelsea_path, coffee_path])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() >= 0.98 and not np.array_equal(a, b)              # close, but really another model


def test_classifier_int8_is_cached_under_its_own_key(coffee_path):
    spec = get_backbone("efficientnet-lite0")
    assert onnx_path(spec, precision="int8") != onnx_path(spec)
    assert "int8" in onnx_path(spec, precision="int8").name
    clf = ml.image_classifier(precision="int8")
    assert repr(clf) == "ImageClassifier(model='efficientnet-lite0', labels=1000, precision='int8')"
    assert clf.classify(coffee_path, top_k=1)[0].label == "espresso"
    assert onnx_path(spec, precision="int8").exists()
    ops = {node.op_type for node in __import__("onnx").load(str(onnx_path(spec, precision="int8"))).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert clf.session is ml.image_classifier(precision="int8").session   # one session per file
    card = clf.model_card
    assert card.name == "efficientnet-lite0-int8" and "int8" in card.accuracy and "float32" in card.accuracy


def test_card_states_the_agreement_measured_now(agreement):
    card = ml.image_classifier(precision="int8").model_card
    assert f"{agreement['top1_agreement']:.1%} of {agreement['images']} crops" in card.accuracy, (card.accuracy, agreement)
    rechecked = f"{agreement['top1_rechecked']:.1%} with {agreement['rechecked_share']:.1%} of them re-run"
    assert rechecked in card.accuracy, (card.accuracy, agreement)
    assert f"{agreement['cosine_mean']:.4f}" in card.accuracy, (card.accuracy, agreement)
    assert "20 ImageNet validation photos" in card.accuracy


def test_classifier_gives_float32_labels_on_the_near_ties_int8_flips():
    from playml.zoo.quantize import RECHECK_MARGIN, agreement_photos
    from playml.zoo.runtime import BackboneRunner
    from playml.zoo.preprocessing import preprocess

    spec = get_backbone("efficientnet-lite0")
    crops, _ = agreement_photos(240)
    batch = preprocess(crops, spec)
    (f32,), (q8,) = (BackboneRunner(spec, precision=p).run(batch, ["logits"]) for p in ("float32", "int8"))
    gap = np.diff(np.sort(q8, axis=1)[:, -2:], axis=1)[:, 0]
    flipped = [i for i in np.flatnonzero(f32.argmax(1) != q8.argmax(1)) if gap[i] < RECHECK_MARGIN]
    assert len(flipped) >= 3, gap[f32.argmax(1) != q8.argmax(1)]                  # 5 of the 6 misses here
    near = [crops[i] for i in flipped]
    labels = ml.image_classifier().labels
    expected = [labels[i] for i in f32[flipped].argmax(1)]

    clf = ml.image_classifier(precision="int8")
    assert [p[0].label for p in clf.classify(near, top_k=1)] == expected
    assert clf.recheck_counts == {"images": len(near), "rechecked": len(near)}
    runner = clf._get_runner()
    np.testing.assert_allclose(clf.probabilities(near[0]), ml.image_classifier().probabilities(near[0]), atol=1e-5)
    pure = ml.image_classifier(precision="int8", recheck=False)
    assert [p[0].label for p in pure.classify(near, top_k=1)] != expected          # what the recheck fixes
    confident = [crops[i] for i in np.flatnonzero(gap > 0.5)[:5]]
    before = dict(runner.counts)
    clf.classify(confident)
    assert runner.counts == {"images": before["images"] + 5, "rechecked": before["rechecked"]}  # clear ones stay int8


def test_recheck_margin_keeps_99_percent_on_the_crops_it_was_chosen_on():
    from playml.zoo.quantize import RECHECK_MARGIN, tuning_photos

    measured = measure_agreement(get_backbone("efficientnet-lite0"), crops=tuning_photos())
    assert measured["top1_rechecked"] >= 0.99 > measured["top1_agreement"], measured   # 0.993, 0.978
    smaller = measure_agreement(get_backbone("efficientnet-lite0"), crops=tuning_photos(), margin=RECHECK_MARGIN - 0.01)
    assert smaller["top1_rechecked"] < 0.99, smaller                                    # the smallest such step


def test_imagenet_validation_photos_keep_their_labels_and_accuracy():
    from playml.zoo.quantize import imagenet_photos

    photos, truth = imagenet_photos()
    measured = measure_agreement(get_backbone("efficientnet-lite0"), crops=photos, truth=truth)
    assert measured["images"] == measured["labelled"] == 20
    assert measured["top1_agreement"] >= 0.95 and measured["top1_rechecked"] >= 0.95, measured   # 20 of 20 both
    assert measured["top1_float32"] >= 0.85, measured                                          # 0.90: real labels
    assert abs(measured["top1_int8"] - measured["top1_float32"]) <= 0.05, measured
    assert abs(measured["top5_int8"] - measured["top5_float32"]) <= 0.05, measured            # 0.95 both


def test_gcompris_photos_get_float32_labels_from_the_classifier():
    """113 real photos (GCompris's animals, tools and things) that neither calibration nor the
    margin's choice saw."""
    import _gcompris

    _gcompris.require()
    photos, _ = _gcompris.gcompris_photos()
    measured = measure_agreement(get_backbone("efficientnet-lite0"), crops=photos)
    assert measured["images"] == 113 and measured["cosine_mean"] >= 0.998, measured
    assert measured["top1_agreement"] >= 0.97, measured                       # pure int8: 0.982 (2 misses)
    assert measured["top1_rechecked"] >= 0.99, measured                       # re-running 3.5 %: 1.0
    assert measured["rechecked_share"] <= 0.1, measured


def test_recheck_is_checked():
    with pytest.raises(ml.PlaymlError, match="recheck"):
        ml.image_classifier(precision="int8", recheck="yes")
    with pytest.raises(ml.PlaymlError, match="recheck"):
        ml.image_classifier(precision="int8", recheck=-0.1)
    assert ml.image_classifier(precision="int8", recheck=0.2)._get_runner().recheck == 0.2
    assert ml.image_classifier(recheck=0.2)._get_runner().recheck is None    # float32 has nothing to recheck


def test_gptq_rounding_keeps_layer_outputs_closer_than_nearest_rounding():
    from playml.zoo.rounding import gptq_round

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 64)) @ rng.standard_normal((64, 64)) * 0.3 + 0.5   # correlated inputs
    w = rng.standard_normal((32, 64))
    scale = np.abs(w).max(1) / 127
    nearest = np.clip(np.round(w / scale[:, None]), -127, 127)
    gptq = gptq_round(w, x.T @ x / len(x), scale)
    assert gptq.dtype == np.int8 and np.abs(gptq.astype(int) - nearest).max() <= 3     # still the same grid
    err = {name: np.mean(((w - q * scale[:, None]) @ x.T) ** 2) for name, q in (("nearest", nearest), ("gptq", gptq))}
    assert err["gptq"] < 0.5 * err["nearest"], err


def test_sequential_rounding_compensates_the_error_its_inputs_already_carry():
    from playml.zoo.rounding import _ridge_target, gptq_round

    rng = np.random.default_rng(1)
    x = rng.standard_normal((6000, 48)) @ rng.standard_normal((48, 48)) * 0.3 + 0.2
    x_q = x * 1.08 + 0.02 * rng.standard_normal(x.shape)          # what the quantised upstream layers hand on
    w = rng.standard_normal((16, 48))
    scale = np.abs(w).max(1) / 127
    h, c = x_q.T @ x_q / len(x), x.T @ x_q / len(x)
    np.testing.assert_allclose(_ridge_target(w, h, c, 1e6), w, rtol=1e-4, atol=1e-4)   # a strong pull keeps W
    err = {}
    for name, target in (("float inputs", w), ("compensated", _ridge_target(w, h, c, 0.01))):
        q = gptq_round(target, h, scale) * scale[:, None]
        err[name] = np.mean((x @ w.T - x_q @ q.T) ** 2)
    assert err["compensated"] < 0.2 * err["float inputs"], err


def test_the_first_convolutions_stay_float32_and_the_rest_is_int8():
    import onnx

    from playml.zoo.quantize import CALIBRATION

    model = onnx.load(str(onnx_path(get_backbone("efficientnet-lite0"), precision="int8")))
    made_by = {out: n.op_type for n in model.graph.node for out in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    int8 = [made_by.get(c.input[1]) == "DequantizeLinear" for c in convs]  # weights dequantised from int8
    kept = CALIBRATION["float_convolutions"]
    assert kept == 2 and not any(int8[:kept]) and all(int8[kept:]), int8
    assert made_by[convs[kept].input[0]] == "DequantizeLinear"  # the first int8 layer reads 8-bit activations
    quantised = {n.input[0] for n in model.graph.node if n.op_type == "QuantizeLinear"}
    assert "/blocks.2/Add_output_0" in quantised and len(quantised) >= 50


def test_activations_a_float32_layer_hands_to_an_addition_are_not_rounded():
    """With the first 7 convolutions float32, the last one's output is read by an addition only:
    :func:`_unquantise_float_edges` drops its rounding (a QDQ graph built here, small)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from playml.zoo.quantize import _unquantise_float_edges

    def const(name, value, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)

    w = np.ones((2, 2, 1, 1), np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w_float"], ["a"], name="float_conv"),  # kept float32
        helper.make_node("QuantizeLinear", ["a", "s", "z"], ["a_q"]),
        helper.make_node("DequantizeLinear", ["a_q", "s", "z"], ["a_dq"]),
        helper.make_node("Add", ["a_dq", "x"], ["b"], name="add"),  # read by an addition only
        helper.make_node("QuantizeLinear", ["b", "s", "z"], ["b_q"]),
        helper.make_node("DequantizeLinear", ["b_q", "s", "z"], ["b_dq"]),
        helper.make_node("DequantizeLinear", ["w_q", "ws", "wz"], ["w_dq"]),
        helper.make_node("Conv", ["b_dq", "w_dq"], ["y"], name="int8_conv"),  # an int8 layer reads b
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        [const("w_float", w), const("s", 0.1), const("z", 128, np.uint8), const("w_q", w.astype(np.int8), np.int8),
         const("ws", 0.1), const("wz", 0, np.int8)],
    )
    model = helper.make_model(graph)
    assert _unquantise_float_edges(model) == 1
    quantised = {n.input[0] for n in model.graph.node if n.op_type == "QuantizeLinear"}
    assert quantised == {"b"}  # the float32 layer's output is no longer rounded; the int8 layer's input is
    add = next(n for n in model.graph.node if n.name == "add")
    assert list(add.input) == ["a", "x"]


def test_teach_accuracy_on_held_out_photos_is_unchanged():
    train, held = photo_crops(n_train=4, n_held=10, seed=3)
    images = [x for v in held.values() for x in v]
    labels = [k for k, v in held.items() for _ in v]
    accuracy = {}
    for precision in ("float32", "int8"):
        model = ml.feature_extractor(precision=precision).classification(seed=0)
        for label, crops in train.items():
            model.add_images(crops, label, progress=False)
        model.train(progress=False)
        accuracy[precision] = model.evaluate(images, labels).accuracy
    assert accuracy["float32"] >= 0.9, accuracy
    assert accuracy["int8"] >= accuracy["float32"] - 0.01, accuracy


def test_saved_teach_model_and_search_index_keep_their_precision(tmp_path, chelsea_path, coffee_path):
    model = ml.feature_extractor(precision="int8").classification(seed=0)
    model.add_images([chelsea_path] * 2, "cat", progress=False)
    model.add_images([coffee_path] * 2, "coffee", progress=False)
    model.train(epochs=5, progress=False)
    loaded = ml.load(model.save(tmp_path / "teach"))
    assert loaded.extractor.precision == "int8"
    np.testing.assert_allclose(loaded.probabilities(coffee_path), model.probabilities(coffee_path), atol=1e-6)

    index = ml.image_search([chelsea_path, coffee_path], precision="int8", cache=False)
    again = ml.image_search.load(index.save(tmp_path / "photos.index"))
    assert again.precision == "int8" and again.query(coffee_path, top_k=1)[0].path.endswith("coffee.jpg")
    with pytest.raises(ml.PlaymlError, match="precision"):
        ml.image_search.merge([again, ml.image_search([chelsea_path], cache=False)])


def test_unknown_precision_is_a_friendly_error():
    with pytest.raises(UnknownModelError, match="float32"):
        ml.image_classifier(precision="int4")
    assert ml.feature_extractor(precision="fp32").precision == "float32"
