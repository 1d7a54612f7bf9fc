"""playml — friendly, local-first machine learning for Python.

Pretrained models in one line, teach a model from a few examples, see inside. Everything
runs on your own machine: no account, no cloud, no download at run time.

>>> import playml as ml
>>> clf = ml.image_classifier()                       # doctest: +SKIP
>>> clf.classify("coffee.jpg")[0]                     # doctest: +SKIP
Prediction(label='espresso', confidence=0.95)

Names are imported lazily, so ``import playml`` is quick and inference-only work never
imports PyTorch.
"""
from __future__ import annotations

import importlib
from typing import Any

from playml.errors import (
    AudioError,
    DataError,
    DependencyError,
    FormatError,
    ImageError,
    InputError,
    MissingFileError,
    NotTrainedError,
    OfflineError,
    PlaymlError,
    ShapeError,
    TaskError,
    UnknownModelError,
)

__version__ = "0.1.0"

# public name -> "module:attribute" (imported on first use).
# Module files are named after the concept; the one-liner factories are named after the task.
_LAZY: dict[str, str] = {
    # pretrained images
    "image_classifier": "playml.images.classifier:image_classifier",
    "ImageClassifier": "playml.images.classifier:ImageClassifier",
    "feature_extractor": "playml.images.features:feature_extractor",
    "FeatureExtractor": "playml.images.features:FeatureExtractor",
    "models": "playml.zoo:models",
    "ModelCard": "playml.zoo:ModelCard",
    # teach the machine
    "ImageClassification": "playml.images.transfer:ImageClassification",
    "ImageRegression": "playml.images.transfer:ImageRegression",
    "EvaluationReport": "playml.core.evaluation:EvaluationReport",
    "neural_network": "playml.tabular.network:neural_network",
    "NeuralNetwork": "playml.tabular.network:NeuralNetwork",
    "History": "playml.core.training:History",
    "load": "playml.core.saving:load",
    "datasets": "playml.datasets:",
    "Dataset": "playml.datasets:Dataset",
    # bodies, hands, faces
    "body_pose": "playml.bodies.pose:body_pose",
    "hand_pose": "playml.bodies.hands:hand_pose",
    "face_mesh": "playml.bodies.face:face_mesh",
    "body_segmentation": "playml.bodies.segmentation:body_segmentation",
    "draw": "playml.core.drawing:draw",
    "webcam": "playml.core.video:webcam",
    # sound and text
    "pitch_detection": "playml.sound.pitch:pitch_detection",
    "sound_classifier": "playml.sound.sounds:sound_classifier",
    "sentence_encoder": "playml.text.sentences:sentence_encoder",
    "sentiment": "playml.text.sentiment:sentiment",
    "PitchDetector": "playml.sound.pitch:PitchDetector",
    "SoundClassifier": "playml.sound.sounds:SoundClassifier",
    "SentenceEncoder": "playml.text.sentences:SentenceEncoder",
    "SentimentAnalyzer": "playml.text.sentiment:SentimentAnalyzer",
    # see inside
    "image_search": "playml.images.search:image_search",
    "anomaly_detector": "playml.tabular.anomaly:anomaly_detector",
    # surfaces
    "studio": "playml.web:studio",
    # results
    "Prediction": "playml.results:Prediction",
    "Value": "playml.results:Value",
    "Keypoint": "playml.results:Keypoint",
}

_ERRORS = [
    "PlaymlError", "InputError", "MissingFileError", "ImageError", "AudioError", "ShapeError",
    "OfflineError", "UnknownModelError", "DataError", "NotTrainedError", "TaskError",
    "FormatError", "DependencyError",
]

__all__ = sorted([*_LAZY, *_ERRORS, "__version__"])


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'playml' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
