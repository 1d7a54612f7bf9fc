"""The task contract of docs/ARCHITECTURE.md, checked over every task in playml/registry.py.

1. Every task class, factory and result type is a public name of ``playml`` (in ``__all__``).
2. Constructors only store and check options: building every task loads no model and
   imports none of PyTorch, ONNX Runtime or MediaPipe.
3. ``top_k`` is keyword-only wherever it appears, and no method takes ``k`` but as the
   deprecated keyword-only alias of ``top_k``.
4. Learners have ``train(...) -> History``; used before training they raise the one
   ``NotTrainedError`` wording ("This … is not trained yet, so it cannot …").
5. Every saved kind is read back by a class that declares its own ``FORMAT_VERSION``.
6. Reprs are built one way: ``ClassName(field=value, …)`` with no ``<…>`` placeholders.
7. One input or many: a list of two inputs gives a list of the two single answers.
"""
from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

import playml as ml
from playml.registry import TASKS, saved_kinds
from playml.samples import path as sample


def _resolve(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_public_names(task):
    for target in (task.cls, task.factory, *task.results):
        if target is None:
            continue
        name = target.rpartition(":")[2]
        assert name in ml.__all__, f"{name} ({task.name}) is not in playml.__all__"
        assert getattr(ml, name) is _resolve(target)


def test_constructors_load_nothing():
    factories = [t.factory.rpartition(":")[2] for t in TASKS if t.factory]
    code = ("import sys, playml as ml\n"
            f"tasks = [getattr(ml, name)() for name in {factories!r}]\n"
            "tasks += [ml.ImageClassification(), ml.ImageRegression()]\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnxruntime', 'mediapipe'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"constructing tasks imported {out.stdout.strip()}"


def _public_methods(cls):
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_") or name == "__init__":
            yield name, member


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_top_k_is_keyword_only(task):
    cls = _resolve(task.cls)
    for name, method in _public_methods(cls):
        params = inspect.signature(method).parameters
        if "top_k" in params:
            assert params["top_k"].kind is inspect.Parameter.KEYWORD_ONLY, f"{cls.__name__}.{name}: top_k"
        if "k" in params:
            assert params["k"].kind is inspect.Parameter.KEYWORD_ONLY and params["k"].default is None, \
                f"{cls.__name__}.{name} takes k: call it top_k (k may stay only as a deprecated keyword)"


def test_the_old_k_still_works_and_warns():
    index = ml.image_search([sample("coffee"), sample("chelsea"), sample("astronaut")], model="mobilenet-v2",
                            cache=False)
    with pytest.warns(DeprecationWarning, match="top_k"):
        old = index.query(sample("chelsea"), k=2)
    assert [m.path for m in old] == [m.path for m in index.query(sample("chelsea"), top_k=2)]


LEARNERS = [t for t in TASKS if t.learner]
UNTRAINED_USE = {  # how each learner is used once trained
    "image_classification": lambda m: m.classify(sample("coffee")),
    "image_regression": lambda m: m.predict(sample("coffee")),
    "sound_classifier": lambda m: m.classify(np.zeros(16000, dtype=np.float32), 16000),
    "neural_network": lambda m: m.classify([1, 2, 3]),
    "anomaly_detector": lambda m: m.score(np.zeros((2, 4), dtype=np.float32)),
    "project": lambda m: m.classify(sample("coffee")),
    "char_rnn": lambda m: m.generate("ROMEO:"),
}


@pytest.mark.parametrize("task", LEARNERS, ids=lambda t: t.name)
def test_learners_train_into_a_history(task):
    cls = _resolve(task.cls)
    train = getattr(cls, "train", None)
    assert train is not None, f"{cls.__name__} has no train()"
    assert inspect.signature(train).return_annotation in ("History", ml.History), \
        f"{cls.__name__}.train must return a History"


@pytest.mark.parametrize("task", LEARNERS, ids=lambda t: t.name)
def test_untrained_use_says_so_one_way(task):
    model = _resolve(task.cls)()
    with pytest.raises(ml.NotTrainedError) as caught:
        UNTRAINED_USE[task.name](model)
    assert re.match(r"This [\w ]+ is not trained yet, so it cannot [^.]+\. \S", str(caught.value)), str(caught.value)


@pytest.mark.parametrize("kind", sorted(saved_kinds()))
def test_saved_kinds_declare_a_format_version(kind):
    cls = _resolve(saved_kinds()[kind])
    declared = [c for c in cls.__mro__ if "FORMAT_VERSION" in vars(c)]
    assert declared and isinstance(cls.FORMAT_VERSION, int) and cls.FORMAT_VERSION >= 1, cls


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_repr_is_built_one_way(task):
    obj = getattr(ml, task.factory.rpartition(":")[2])() if task.factory else _resolve(task.cls)()
    text = repr(obj)
    assert re.fullmatch(rf"{type(obj).__name__}\(.*\)", text, re.S), text
    assert "<" not in text, text


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.allclose(a, b, atol=1e-5)
    return repr(a) == repr(b)


@pytest.fixture(scope="module")
def colour_net():
    nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"])
    for r, g, b, label in [(250, 10, 10, "red"), (240, 30, 20, "red"), (10, 10, 250, "blue"), (20, 30, 240, "blue")]:
        nn.add_data([r, g, b], [label])
    nn.normalize_data()
    nn.train(epochs=60, progress=False)
    return nn


ONE_OR_MANY = {  # task -> (build, method, one input)
    "image_classifier": (lambda: ml.image_classifier("mobilenet-v2"), "classify", sample("coffee")),
    "feature_extractor": (lambda: ml.feature_extractor("mobilenet-v2"), "features", sample("coffee")),
    "body_pose": (lambda: ml.body_pose(), "detect", sample("astronaut")),
    "face_mesh": (lambda: ml.face_mesh(), "detect", sample("astronaut")),
    "sentence_encoder": (lambda: ml.sentence_encoder(), "embed", "a cat on a mat"),
    "sentiment": (lambda: ml.sentiment(), "predict", "What a lovely day"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ONE_OR_MANY))
def test_one_input_or_many(name):
    build, method, one = ONE_OR_MANY[name]
    run = getattr(build(), method)
    single, many = run(one), run([one, one])
    assert len(many) == 2 and _same(many[0], single) and _same(many[1], single), name


def test_neural_network_takes_one_or_many(colour_net):
    single = colour_net.classify([250, 10, 5])
    many = colour_net.classify([[250, 10, 5], [10, 20, 250]])
    assert len(many) == 2 and repr(many[0]) == repr(single) and many[1][0].label == "blue"
    assert len(colour_net.classify([250, 10, 5], top_k=1)) == 1
