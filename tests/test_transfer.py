"""Teach the machine: transfer learning on real photos (see _teach_data for the photo set)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import playml as ml
from _teach_data import LABELS, photo_crops, write_folder


@pytest.fixture(scope="module")
def crops():
    return photo_crops(n_train=4, n_held=4, seed=0)


@pytest.fixture(scope="module")
def fe():
    return ml.feature_extractor()


@pytest.fixture(scope="module")
def clf(fe, crops):
    """Trained with 2 augmented copies per photo: 4 labels × 4 photos × 3 rows."""
    train, _ = crops
    model = fe.classification(augment=2, seed=0)
    for label, images in train.items():
        model.add_images(images, label, progress=False)
    model.history = model.train(progress=False)
    return model


def held_out(crops):
    _, held = crops
    return [x for v in held.values() for x in v], [k for k, v in held.items() for _ in v]


def test_learns_labels_from_a_few_real_photos(clf, crops):
    images, labels = held_out(crops)
    report = clf.evaluate(images, labels)
    assert report.accuracy >= 0.95, report.to_text()
    assert report.examples == 16 and set(report.per_class) == set(LABELS)
    assert repr(clf) == ("ImageClassification(backbone='efficientnet-lite0', labels=['cat', 'coffee', 'rocket', "
                         "'motorcycle'], examples=16, trained=True)")
    assert clf.counts() == {label: 4 for label in LABELS}
    # Teachable Machine's defaults: 50 epochs, training and validation metrics per epoch
    h = clf.history
    assert len(h) == 50 and set(h.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h["loss"][-1] < h["loss"][0]
    head = clf.model
    assert [type(m).__name__ for m in head] == ["Linear", "ReLU", "Linear", "Softmax"]
    assert head[0].out_features == 100 and head[2].out_features == 4


def test_classify_one_and_many(clf, crops):
    _, held = crops
    one = clf.classify(held["coffee"][0])
    assert [type(p).__name__ for p in one] == ["Prediction"] * 4
    assert one[0].label == "coffee"
    conf = [p.confidence for p in one]
    assert conf == sorted(conf, reverse=True) and abs(sum(conf) - 1) < 1e-5
    many = clf.classify([held["cat"][0], held["rocket"][0]], top_k=2)
    assert [len(r) for r in many] == [2, 2] and [r[0].label for r in many] == ["cat", "rocket"]
    probs = clf.probabilities([held["cat"][0], held["rocket"][0]])
    assert probs.shape == (2, 4)
    assert np.isclose(probs[0, 0], many[0][0].confidence)


def test_validation_hold_out_is_per_label_and_keeps_copies_out(fe, crops):
    train, _ = crops
    model = fe.classification(augment=2, seed=3)
    model.add_images([x for v in train.values() for x in v], [k for k, v in train.items() for _ in v],
                     progress=False)
    assert model.examples == 16
    features, targets, groups, copies = model._examples.arrays()
    assert len(features) == 48 and copies.sum() == 32      # 2 copies per photo, featurised when added
    model.train(epochs=3, progress=False, validation_split=0.25)
    held = model.evaluate()                                 # the held-out photos, one per label
    assert held.counts == {label: 1 for label in LABELS}
    assert model.evaluate(part="training").examples == 12


def test_save_and_load_give_the_same_probabilities(clf, crops, tmp_path):
    images, _ = held_out(crops)
    path = clf.save(tmp_path / "my-model")
    assert sorted(p.name for p in path.iterdir()) == ["model.json", "model.weights.bin", "model_meta.json"]
    meta = json.loads((path / "model_meta.json").read_text())
    assert meta["playml"] == {"kind": "image_classification", "version": 1}
    assert meta["labels"] == list(LABELS)
    assert meta["backbone"]["name"] == "efficientnet-lite0" and meta["backbone"]["version"]
    assert meta["preprocessing"]["input_size"] == 224 and meta["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
    model_json = json.loads((path / "model.json").read_text())
    layers = model_json["modelTopology"]["config"]["layers"]
    assert [(x["class_name"], x["config"]["activation"]) for x in layers] == [("Dense", "relu"), ("Dense", "softmax")]
    loaded = ml.load(path)
    assert repr(loaded) == ("ImageClassification(backbone='efficientnet-lite0', labels=['cat', 'coffee', 'rocket', "
                            "'motorcycle'], examples=0, trained=True)")
    assert np.abs(loaded.probabilities(images) - clf.probabilities(images)).max() <= 1e-6
    assert loaded.history_["loss"] == clf.history["loss"]
    assert loaded.classify(images[0])[0].label == clf.classify(images[0])[0].label


def test_a_saved_model_on_an_unknown_backbone_is_refused(clf, tmp_path):
    path = clf.save(tmp_path / "m")
    meta = json.loads((path / "model_meta.json").read_text())
    meta["backbone"]["name"] = "efficientnet-lite9"
    (path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ml.UnknownModelError, match="efficientnet-lite9.*does not have"):
        ml.load(path)
    del meta["backbone"]
    (path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ml.FormatError, match="which image model"):
        ml.load(path)


def test_a_damaged_head_is_refused(clf, tmp_path):
    path = clf.save(tmp_path / "m")
    (path / "model.weights.bin").write_bytes(b"\0" * 16)
    with pytest.raises(ml.FormatError):
        ml.load(path)


@pytest.mark.slow
def test_exported_onnx_matches_classify(clf, crops, tmp_path):
    import onnx
    import onnxruntime as ort

    images, _ = held_out(crops)
    images = images[::3]
    path = clf.export_onnx(tmp_path / "clf.onnx")
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["images"]
    (probs,) = session.run(["probabilities"], {"images": clf.extractor.preprocess(images)})
    assert np.abs(probs - clf.probabilities(images)).max() <= 1e-4
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["labels"]) == list(LABELS)
    assert json.loads(props["preprocessing"])["std"] == [0.5, 0.5, 0.5]


def test_folders_datasets_and_skipped_files(fe, crops, tmp_path):
    train, held = crops
    small = {k: v[:2] for k, v in train.items() if k in ("cat", "rocket")}
    root = write_folder(tmp_path / "photos", small)
    (root / "cat" / "notes.txt").write_text("not a photo")
    (root / "rocket" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    model = fe.classification(seed=0)
    with pytest.warns(UserWarning, match=r"skipped 2 files(?=.*broken\.jpg)(?=.*notes\.txt)"):
        model.add_images(root, progress=False)
    assert model.examples == 4 and model.labels == ["cat", "rocket"]
    assert sorted((p.split("/")[-1], why) for p, why in model.skipped)[1] == ("notes.txt", "not an image file")
    model.train(epochs=20, validation_split=0, progress=False)
    held_root = write_folder(tmp_path / "held", {k: held[k] for k in ("cat", "rocket")})
    dataset = ml.datasets.from_folder(held_root)
    by_folder, by_dataset = model.evaluate(held_root), model.evaluate(dataset)
    assert by_folder.accuracy == by_dataset.accuracy >= 0.75
    assert np.array_equal(by_folder.confusion, by_dataset.confusion)
    model2 = fe.classification(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model2.add_images(ml.datasets.from_folder(root), progress=False)
    assert model2.counts() == {"cat": 2, "rocket": 2}


def test_a_folder_without_images_says_what_was_skipped(fe, tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "readme.txt").write_text("x")
    (tmp_path / "cat" / "empty.png").write_bytes(b"")
    with pytest.raises(ml.DataError, match="No readable images.*skipped"):
        fe.classification().add_images(tmp_path)
    split = tmp_path / "split"
    (split / "train").mkdir(parents=True)
    (split / "validation").mkdir()
    with pytest.raises(ml.DataError, match="already split"):
        fe.classification().add_images(split)


def test_clear_errors(fe, crops):
    train, _ = crops
    cat, coffee = train["cat"][0], train["coffee"][0]
    model = fe.classification()
    with pytest.raises(ml.NotTrainedError, match="not trained yet"):
        model.classify(cat)
    with pytest.raises(ml.DataError, match="no examples yet"):
        model.train(progress=False)
    model.add_image(cat, "cat")
    with pytest.raises(ml.DataError, match="at least 2 labels.*'cat'"):
        model.train(progress=False)
    with pytest.raises(ml.DataError, match="mix words and numbers"):
        model.add_image(coffee, 3)
    with pytest.raises(ml.TaskError, match="regression"):
        model.add_image(coffee, 0.7)
    declared = fe.classification(labels=["cat", "coffee", "tern"])
    declared.add_images([cat, coffee], ["cat", "coffee"], progress=False)
    with pytest.raises(ml.DataError, match="'tern' has no examples.*remove_label"):
        declared.train(progress=False)
    with pytest.raises(ml.DataError, match="mix words and numbers"):
        fe.classification().add_images([cat, coffee], ["cat", 1])
    with pytest.raises(ml.InputError, match="2 images but 3 labels"):
        fe.classification().add_images([cat, coffee], ["cat", "coffee", "cat"])
    with pytest.raises(ml.ImageError):
        fe.classification().add_image(b"not an image", "cat")
    with pytest.raises(ml.TaskError, match="learns numbers"):
        fe.regression().add_image(cat, "cat")
    declared.remove_label("tern")
    with pytest.raises(ml.InputError, match="augmented copies"):
        declared.train(augment=True, progress=False)
    declared.train(epochs=2, progress=False)
    assert declared.labels_ == ["cat", "coffee"] and declared.examples == 2


def test_head_options_and_early_stop(fe, crops, tmp_path):
    train, _ = crops
    model = fe.classification(layers=[], seed=1)
    model.add_images(train["cat"][:2] + train["rocket"][:2], ["cat", "cat", "rocket", "rocket"], progress=False)
    seen = []
    history = model.train(epochs=30, validation_split=0, progress=False,
                          on_epoch=lambda epoch, logs: seen.append(epoch) or epoch < 5)
    assert seen == [1, 2, 3, 4, 5] and len(history) == 5 and history.stopped_early
    assert [type(m).__name__ for m in model.model] == ["Linear", "Softmax"]
    path = model.save(tmp_path / "plain")
    layers = json.loads((path / "model.json").read_text())["modelTopology"]["config"]["layers"]
    assert [x["config"]["units"] for x in layers] == [2]
    model.train(epochs=2, hidden_units=16, progress=False, validation_split=0)
    assert model.model[0].out_features == 16


def test_regression_predicts_brightness(fe, crops, tmp_path):
    """Learn how bright a photo was made (0.15 … 0.9) and predict it for unseen crops."""
    train, held = photo_crops(n_train=2, n_held=1, seed=1)

    def dim(img, factor):
        return np.rint(img.astype(np.float32) * factor).astype(np.uint8)

    levels = (0.15, 0.4, 0.65, 0.9)
    images = [dim(img, b) for v in train.values() for img in v for b in levels]
    values = [b for v in train.values() for _ in v for b in levels]
    reg = fe.regression(seed=0)
    reg.add_images(images, values, progress=False)
    history = reg.train(progress=False)
    assert set(history.metrics) == {"loss", "val_loss"}
    assert repr(reg) == "ImageRegression(backbone='efficientnet-lite0', examples=32, trained=True)"
    tests = [(img, b) for v in held.values() for img in v for b in (0.25, 0.5, 0.8)]
    predicted = reg.predict([dim(img, b) for img, b in tests])
    assert isinstance(predicted, list) and isinstance(predicted[0], float)
    per_photo = np.array(predicted).reshape(-1, 3)
    assert (np.diff(per_photo, axis=1) > 0).mean() >= 0.75     # brighter → higher, for most photos
    report = reg.evaluate([dim(img, b) for img, b in tests], [b for _, b in tests])
    assert report.mae < 0.25
    single = reg.predict(dim(held["coffee"][0], 0.5))
    assert isinstance(single, float)
    loaded = ml.load(reg.save(tmp_path / "reg"))
    assert json.loads((tmp_path / "reg" / "model_meta.json").read_text())["playml"]["kind"] == "image_regression"
    assert abs(loaded.predict(dim(held["coffee"][0], 0.5)) - single) <= 1e-6
