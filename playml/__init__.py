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

from .errors import (
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
    "image_classifier": "playml.classifier:image_classifier",
    "ImageClassifier": "playml.classifier:ImageClassifier",
    "feature_extractor": "playml.features:feature_extractor",
    "FeatureExtractor": "playml.features:FeatureExtractor",
    "models": "playml.zoo:models",
    "ModelCard": "playml.zoo:ModelCard",
    # teach the machine
    "ImageClassification": "playml.transfer:ImageClassification",
    "ImageRegression": "playml.transfer:ImageRegression",
    "EvaluationReport": "playml.evaluation:EvaluationReport",
    "neural_network": "playml.network:neural_network",
    "NeuralNetwork": "playml.network:NeuralNetwork",
    "History": "playml.training:History",
    "load": "playml.saving:load",
    "datasets": "playml.datasets:",
    "Dataset": "playml.datasets:Dataset",
    # bodies, hands, faces
    "body_pose": "playml.pose:body_pose",
    "hand_pose": "playml.hands:hand_pose",
    "face_mesh": "playml.face:face_mesh",
    "body_segmentation": "playml.segmentation:body_segmentation",
    "draw": "playml.drawing:draw",
    "webcam": "playml.video:webcam",
    # sound and text
    "pitch_detection": "playml.pitch:pitch_detection",
    "sound_classifier": "playml.sounds:sound_classifier",
    "sentence_encoder": "playml.sentences:sentence_encoder",
    "sentiment": "playml.sentiment_analyzer:sentiment",
    "PitchDetector": "playml.pitch:PitchDetector",
    "SoundClassifier": "playml.sounds:SoundClassifier",
    "SentenceEncoder": "playml.sentences:SentenceEncoder",
    "SentimentAnalyzer": "playml.sentiment_analyzer:SentimentAnalyzer",
    # see inside
    "image_search": "playml.search:image_search",
    "anomaly_detector": "playml.anomaly:anomaly_detector",
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
