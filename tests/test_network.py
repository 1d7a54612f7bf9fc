"""neural_network: learns real data, gives clear errors, saves and loads the ml5.js files."""
import json

import numpy as np
import pytest
from matplotlib.colors import CSS4_COLORS, to_rgb

import playml as ml
from playml.errors import DataError, InputError, MissingFileError, NotTrainedError, TaskError

COLOURS = ["red", "green", "blue", "yellow", "orange", "purple"]


def colour_examples(per_colour, seed, noise=25):
    """Noisy shades around the CSS definitions of a handful of colour names."""
    rng = np.random.default_rng(seed)
    out = []
    for name in COLOURS:
        base = np.array(to_rgb(CSS4_COLORS[name])) * 255
        for _ in range(per_colour):
            r, g, b = np.clip(base + rng.normal(0, noise, 3), 0, 255).round()
            out.append(({"r": r, "g": g, "b": b}, name))
    return out


def three_clusters(n, features=1280, seed=0):
    """Three easy clusters of non-negative features (like image embeddings), raw units."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 1, (3, features))
    y = rng.integers(0, 3, n)
    x = np.maximum(centers[y] + rng.normal(0, 0.5, (n, features)), 0).astype(np.float32)
    return x, np.array(["a", "b", "c"])[y]


@pytest.fixture(scope="module")
def colour_net():
    nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"], seed=0)
    for x, name in colour_examples(40, seed=0):
        nn.add_data(x, {"colour": name})
    nn.normalize_data()
    nn.train(epochs=40, batch_size=16, progress=False)
    return nn


def test_colour_classifier_is_right_on_held_out_colours(colour_net):
    held_out = colour_examples(20, seed=1)
    results = colour_net.classify_multiple([x for x, _ in held_out])
    accuracy = np.mean([r[0].label == name for r, (_, name) in zip(results, held_out)])
    assert accuracy >= 0.95
    first = colour_net.classify([250, 5, 5])
    assert first[0].label == "red"
    assert [p.confidence for p in first] == sorted((p.confidence for p in first), reverse=True)
    assert abs(sum(p.confidence for p in first) - 1) < 1e-5
    assert repr(colour_net) == ("NeuralNetwork(task='classification', inputs=['r', 'g', 'b'], outputs=['colour'], "
                                "labels=6, examples=240, trained=True)")
    assert set(colour_net.history_.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_regression_fits_the_tensorflow_js_line():
    nn = ml.neural_network(task="regression", inputs=["x"], outputs=["y"], seed=0)
    for x in np.random.default_rng(0).uniform(-1, 4, 60):
        nn.add_data({"x": x}, {"y": 2 * x - 1})
    nn.normalize_data()
    nn.train(epochs=100, batch_size=8, progress=False)
    unseen = np.linspace(-0.9, 3.9, 17)
    got = np.array([v[0].value for v in nn.predict_multiple([[x] for x in unseen])])
    assert np.abs(got - (2 * unseen - 1)).max() < 0.05
    assert nn.predict({"x": 1.5})[0].label == "y"


def test_defaults_learn_1280_inputs_where_ml5s_sgd_at_0_2_stays_at_chance():
    x, y = three_clusters(400)
    accuracies = {}
    for name, options in (("playml", {}), ("ml5", {"optimizer": "sgd", "learning_rate": 0.2})):
        nn = ml.neural_network(task="classification", seed=0, **options)
        for row, label in zip(x[:300], y[:300]):
            nn.add_data(row, [label])
        nn.train(progress=False)  # every default: 16 hidden units, 32 epochs, batch 32
        predicted = [r[0].label for r in nn.classify_multiple(x[300:])]
        accuracies[name] = np.mean(np.array(predicted) == y[300:])
    assert accuracies["playml"] >= 0.95
    assert accuracies["ml5"] <= 0.5  # ml5.js's literal defaults, same data: chance level


def test_array_data_with_counts_are_named_like_ml5(tmp_path):
    nn = ml.neural_network(task="classification", inputs=2, outputs=1, seed=0)
    for a, b, label in [(0, 0, "low"), (1, 1, "high"), (0.1, 0.2, "low"), (0.9, 0.8, "high")] * 5:
        nn.add_data([a, b], [label])
    assert nn.input_names == ["0", "1"] and nn.output_names == ["0"]
    nn.train(epochs=5, progress=False)
    nn.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model_meta.json").read_text())
    assert list(meta["inputs"]) == ["0", "1"] and meta["outputUnits"] == 2 and meta["inputUnits"] == [2]
    assert meta["playml"] == {"kind": "neural_network", "version": 1, "task": "classification"}
    assert meta["outputs"]["0"]["legend"] == {"low": [1, 0], "high": [0, 1]}


def test_normalizing_a_constant_input_gives_no_nan():
    nn = ml.neural_network(task="classification", inputs=["a", "same"], outputs=["label"], seed=0)
    for i in range(20):
        nn.add_data([i, 7], ["big" if i >= 10 else "small"])
    nn.normalize_data()
    assert nn.meta_["inputs"]["same"]["min"] == nn.meta_["inputs"]["same"]["max"] == 7
    history = nn.train(epochs=3, progress=False)
    assert all(np.isfinite(history["loss"]))
    assert all(np.isfinite(p.confidence) for p in nn.classify([3, 7]))


def test_save_and_load_round_trip(colour_net, tmp_path):
    colour_net.save(tmp_path / "colours")
    assert sorted(p.name for p in (tmp_path / "colours").iterdir()) == ["model.json", "model.weights.bin",
                                                                        "model_meta.json"]
    again = ml.load(tmp_path / "colours")
    other = ml.neural_network().load(tmp_path / "colours" / "model.json")
    probe = [[250, 5, 5], [10, 10, 200], [255, 200, 0]]
    for loaded in (again, other):
        assert isinstance(loaded, ml.NeuralNetwork) and loaded.labels == colour_net.labels
        for a, b in zip(loaded.classify_multiple(probe), colour_net.classify_multiple(probe)):
            assert [p.label for p in a] == [p.label for p in b]
            assert np.allclose([p.confidence for p in a], [p.confidence for p in b], atol=1e-6)


def test_missing_file_is_named(colour_net, tmp_path):
    colour_net.save(tmp_path / "m")
    (tmp_path / "m" / "model.weights.bin").unlink()
    with pytest.raises(MissingFileError, match="model.weights.bin"):
        ml.neural_network().load(tmp_path / "m")
    (tmp_path / "m" / "model_meta.json").unlink()
    with pytest.raises(MissingFileError, match="model.weights.bin, model_meta.json"):
        ml.neural_network().load(tmp_path / "m")


def test_data_files_round_trip_as_ml5_json_and_csv(tmp_path):
    nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"])
    for x, name in colour_examples(3, seed=2):
        nn.add_data(x, {"colour": name})
    nn.save_data(tmp_path / "colours.json")
    nn.save_data(tmp_path / "colours.csv")
    saved = json.loads((tmp_path / "colours.json").read_text())
    assert set(saved["data"][0]) == {"xs", "ys"} and set(saved["data"][0]["xs"]) == {"r", "g", "b"}
    assert (tmp_path / "colours.csv").read_text().splitlines()[0] == "r,g,b,colour"
    for name in ("colours.json", "colours.csv"):
        back = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"])
        back.load_data(tmp_path / name)
        assert back.data() == nn.data()


def test_clear_errors():
    nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"])
    with pytest.raises(DataError, match="no training data"):
        nn.train(progress=False)
    with pytest.raises(DataError, match="missing 'b'"):
        nn.add_data({"r": 1, "g": 2}, {"colour": "red"})
    with pytest.raises(DataError, match="Expected 3 inputs"):
        nn.add_data([1, 2], ["red"])
    with pytest.raises(DataError, match="not a number"):
        nn.add_data(["255", 0, 0], ["red"])
    with pytest.raises(NotTrainedError):
        nn.classify([1, 2, 3])
    reg = ml.neural_network(task="regression", inputs=1, outputs=1)
    with pytest.raises(DataError, match="should be a number"):
        reg.add_data([1.0], ["3.5"])
    for x in range(8):
        reg.add_data([x], [2 * x])
    reg.train(epochs=1, progress=False)
    with pytest.raises(TaskError, match="predict"):
        reg.classify([1.0])
    with pytest.raises(InputError):
        ml.neural_network(task="imageClassification", inputs=3).add_data([1, 2, 3], ["cat"])
    with pytest.raises(ml.UnknownModelError, match="regression"):
        ml.neural_network(task="regresion").add_data([1], [1])


def test_custom_layers_and_debug(capsys):
    nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"], debug=True, seed=0,
                           layers=[{"type": "dense", "units": 8, "activation": "relu"},
                                   {"type": "dense", "units": 8, "activation": "tanh"},
                                   {"type": "dense", "activation": "softmax"}])
    for x, name in colour_examples(5, seed=3):
        nn.add_data(x, {"colour": name})
    nn.normalize_data()
    nn.train(epochs=3, progress=False)
    table = capsys.readouterr().out
    assert "Dense" in table and "tanh" in table and "total weights: 158" in table
    assert len(nn.figure.axes) == 2  # loss and accuracy


@pytest.mark.slow
def test_images_too_small_for_the_layers_are_a_clear_error():
    nn = ml.neural_network(task="imageClassification", inputs=[16, 12, 4])
    for i in range(4):
        nn.add_data(np.full((20, 20, 3), 40 * i, np.uint8), str(i % 2))
    with pytest.raises(ml.InputError, match=r"Layer 3 .*conv2d.* 5×5 kernel .* only 6×4.*bigger images"):
        nn.train(epochs=1, progress=False)


def test_image_classification_cnn_learns_real_photos(photos, tmp_path):
    rng = np.random.default_rng(0)

    def crops(n):
        out = []
        for label in ("chelsea", "rocket"):
            img = photos[label]
            h, w = img.shape[:2]
            for _ in range(n):
                s = int(rng.integers(min(h, w) // 3, min(h, w) // 2))
                y, x = int(rng.integers(0, h - s)), int(rng.integers(0, w - s))
                out.append((img[y:y + s, x:x + s], label))
        return out

    nn = ml.neural_network(task="imageClassification", inputs=[16, 16, 4], seed=0)
    for img, label in crops(40):
        nn.add_data({"image": img}, {"label": label})
    nn.normalize_data()
    nn.train(epochs=20, batch_size=16, progress=False)
    test = crops(15)
    accuracy = np.mean([r[0].label == label for r, (_, label) in zip(nn.classify_multiple([i for i, _ in test]), test)])
    assert accuracy >= 0.8
    assert nn.meta_["inputUnits"] == [16, 16, 4] and nn.meta_["inputs"]["image"]["dtype"] == "array"
    nn.save(tmp_path / "cnn")
    again = ml.load(tmp_path / "cnn")
    assert again.task_ == "imageClassification"
    a, b = again.classify(test[0][0]), nn.classify(test[0][0])
    assert a[0].label == b[0].label and abs(a[0].confidence - b[0].confidence) < 1e-6
