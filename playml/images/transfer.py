"""Teach the machine: new labels (or numbers) from a few example photos.

The Teachable Machine / ml5.js ``featureExtractor`` recipe. A pretrained backbone turns
each photo into a feature vector once, when you add it; training then fits only a small
head on those vectors — Dense(100, relu) → Dense(labels, softmax), Adam, categorical
cross-entropy, 50 epochs, batches of 16, learning rate 0.001, 15 % of each label held out
to validate — which takes well under a second.

>>> import playml as ml
>>> clf = ml.feature_extractor().classification()                # doctest: +SKIP
>>> clf.add_images("photos/")           # photos/puffin/*.jpg, photos/tern/*.jpg  # doctest: +SKIP
>>> history = clf.train()                                        # doctest: +SKIP
>>> clf.classify("new.jpg")                                      # doctest: +SKIP
[Prediction(label='puffin', confidence=0.97), Prediction(label='tern', confidence=0.03)]
>>> clf.save("my-model/"); ml.load("my-model/")                  # doctest: +SKIP
ImageClassification(backbone='efficientnet-lite0', labels=['puffin', 'tern'], examples=0, trained=True)

The saved head is a TensorFlow.js layers model (``model.json`` + ``model.weights.bin``), so
TensorFlow.js loads it unchanged; :meth:`ImageClassification.export_onnx` writes backbone
and head as one ONNX graph.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.ranking import check_top_k, ranked
from playml.core.reprs import build_repr
from playml.errors import DataError, FormatError, InputError, TaskError
from playml.images.examples import _plain
from playml.images.features import FeatureExtractor
from playml.images.teachable import ACTIVATIONS, FORMAT_VERSION, _Teachable
from playml.results import Prediction

__all__ = ["ImageClassification", "ImageRegression", "FORMAT_VERSION", "ACTIVATIONS"]


class ImageClassification(_Teachable):
    """Teach new labels from a few example images (transfer learning).

    >>> import playml as ml
    >>> clf = ml.feature_extractor().classification()         # doctest: +SKIP
    >>> clf.add_image("puffin1.jpg", "puffin")                # doctest: +SKIP
    >>> clf.add_images("photos/")                             # doctest: +SKIP
    >>> clf.train()                                           # doctest: +SKIP
    >>> clf.classify("new.jpg")[0]                            # doctest: +SKIP
    Prediction(label='puffin', confidence=0.97)

    Parameters
    ----------
    extractor : a :class:`playml.FeatureExtractor` or a backbone name (default
        ``'efficientnet-lite0'``).
    labels : labels to know from the start (their order is the output order); more are
        added as examples arrive.
    hidden_units, layers, activation : the head: ``Dense(hidden_units, activation) →
        Dense(labels, softmax)``; ``layers=[256, 64]`` for more hidden layers, ``[]`` for none.
    augment : ``True`` adds 4 changed copies (flip, crop, colour jitter) of every image when
        it is added, ``N`` adds N copies; off by default.
    seed : makes the validation split, the augmentation and the initial weights repeatable.
    """

    _kind = "image_classification"
    _loss = "categorical_crossentropy"

    def __init__(
        self,
        extractor: FeatureExtractor | str | None = None,
        *,
        labels: Sequence[Any] | None = None,
        hidden_units: int = 100,
        layers: Sequence[int] | None = None,
        activation: str = "relu",
        augment: bool | int = False,
        seed: int | None = None,
    ):
        super().__init__(
            extractor, hidden_units=hidden_units, layers=layers, activation=activation, augment=augment, seed=seed
        )
        self.labels: list = []
        self.labels_: list | None = None
        labels = [self._target(label) for label in labels or []]
        self._check_kinds(labels)
        for label in labels:
            self._declare(label)

    def __repr__(self) -> str:
        return build_repr(
            "ImageClassification",
            backbone=self.backbone,
            labels=list(self.labels),
            examples=self.examples,
            trained=self.trained,
        )

    # targets -------------------------------------------------------------
    def _target(self, label: Any) -> Any:
        label = _plain(label)
        if label is None or (isinstance(label, str) and not label.strip()):
            raise InputError("Every example needs a label (a word like 'cat', or a whole number).")
        if isinstance(label, float) and not label.is_integer():
            raise TaskError(
                f"{label} looks like a number to predict, not a label. For numbers use "
                "fe.regression(); for labels use words ('cat') or whole numbers."
            )
        if isinstance(label, float):
            label = int(label)
        if not isinstance(label, (str, numbers.Integral)):
            raise InputError(f"A label must be a word or a whole number, not a {type(label).__name__}.")
        return label

    def _declare(self, label: Any) -> None:
        label = self._target(label)
        if label not in self.labels:
            self.labels.append(label)

    def _check_kinds(self, labels: Sequence[Any]) -> None:
        every = [*self.labels, *labels]
        if len({isinstance(t, str) for t in every}) > 1:
            word = next(t for t in every if isinstance(t, str))
            number = next(t for t in every if not isinstance(t, str))
            raise DataError(
                f"The labels mix words and numbers: {word!r} and {number!r}. Use one kind for every "
                f"label, e.g. {str(number)!r} as text."
            )

    def _add(self, items, targets, **kwargs):
        self._check_kinds([*targets, *kwargs.get("declared", ())])
        return super()._add(items, targets, **kwargs)

    def _encode(self, targets: list, known: list | None = None) -> np.ndarray:
        """Label positions in ``known`` (the labels being trained, by default); unknown labels are an error."""
        known = self.labels if known is None else known
        index = {label: i for i, label in enumerate(known)}
        unknown = sorted({str(t) for t in targets if t not in index})
        if unknown:
            raise DataError(
                f"These labels are not ones the model learned: {', '.join(unknown)}. It knows: "
                f"{', '.join(map(str, known))}."
            )
        return np.array([index[t] for t in targets], dtype=np.int64)

    def _outputs(self) -> int:
        return len(self.labels)

    def _check_ready(self, targets: list) -> None:
        counts = self.counts()
        if len(self.labels) < 2:
            only = f" (only {self.labels[0]!r})" if self.labels else ""
            raise DataError(
                f"Training needs at least 2 labels{only}. Add examples of another label, "
                "e.g. add_image(photo, 'something else')."
            )
        empty = [str(label) for label, c in counts.items() if c == 0]
        if empty:
            raise DataError(
                f"The label{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
                f"{'have' if len(empty) > 1 else 'has'} no examples. Add images of "
                f"{'them' if len(empty) > 1 else 'it'}, or remove "
                f"{'them' if len(empty) > 1 else 'it'}: remove_label({empty[0]!r})."
            )

    def remove_label(self, label: Any) -> ImageClassification:
        """Forget a label and all its examples (the next :meth:`train` learns without it)."""
        label = _plain(label)
        if label not in self.labels:
            raise InputError(f"There is no label {label!r}; the labels are {self.labels}.")
        _, targets, _, _ = self._examples.arrays()
        self._examples.keep(np.array([t != label for t in targets], dtype=bool))
        self.labels.remove(label)
        return self

    def counts(self) -> dict:
        """Examples per label (augmented copies not counted)."""
        _, targets, _, copies = self._examples.arrays()
        out = {label: 0 for label in self.labels}
        for t, c in zip(targets, copies):
            if not c:
                out[t] += 1
        return out

    def _finish_head(self, head):
        from torch import nn

        return nn.Sequential(*head, nn.Softmax(dim=-1)).eval()

    def _after_training(self) -> None:
        self.labels_ = list(self.labels)

    def _labels_for_meta(self) -> list:
        return list(self.labels_ or [])

    def _meta(self) -> dict[str, Any]:
        meta = super()._meta()
        return {**meta, "labels": list(self.labels_ or []), "task": "classification"}

    def _restore(self, head, meta: dict[str, Any], path: Path) -> None:
        from torch import nn

        labels = meta.get("labels")
        if not isinstance(labels, list) or len(labels) < 2:
            raise FormatError(f"{path / 'model_meta.json'} lists no labels (it needs at least 2).")
        last = [m for m in head if isinstance(m, nn.Linear)][-1]
        if last.out_features != len(labels) or not isinstance(head[-1], nn.Softmax):
            raise FormatError(
                f"The head in {path / 'model.json'} does not end in a softmax over the "
                f"{len(labels)} labels of model_meta.json."
            )
        self.labels = list(labels)
        self.labels_ = list(labels)
        self.model_ = head.eval()

    # predictions ----------------------------------------------------------
    def probabilities(self, images: Any) -> np.ndarray:
        """Probability of each label (in ``labels_`` order): one image → a 1-D array; many → N×labels."""
        many, probs = self._outputs_for(images)
        return probs if many else probs[0]

    def classify(self, images: Any, *, top_k: int | None = None) -> list[Prediction] | list[list[Prediction]]:
        """Labels with their confidence, best first: one image → a list of
        :class:`playml.Prediction`; many (a list, a folder) → a list of such lists."""
        k = check_top_k(top_k)
        many, probs = self._outputs_for(images)
        results = ranked(probs, self.labels_, k)
        return results if many else results[0]

    def evaluate(self, data: Any = None, labels: Any = None, *, part: str = "validation"):
        """Accuracy, accuracy per label and the confusion matrix on labelled images.

        ``data`` is a folder with one sub-folder per label, a list of images with ``labels``,
        or a :class:`playml.Dataset`. Without ``data``, the examples held out for validation
        in the last :meth:`train` are used (``part="training"`` for the training examples).
        Returns a :class:`playml.EvaluationReport` (``.plot()`` draws it).
        """
        from playml.core.evaluation import EvaluationReport

        self._require_trained("evaluate it")
        if data is None:
            feats, truth = self._held_out(part)
        else:
            feats, truth = self._featurise_labelled(data, labels, what="evaluate")
        true = self._encode(truth, self.labels_)
        predicted = self._head_outputs(feats).argmax(axis=1)
        return EvaluationReport.from_codes(true, predicted, self.labels_)


class ImageRegression(_Teachable):
    """Teach a number (or several) from example images, e.g. how open a hand is, 0 to 1.

    >>> reg = ml.feature_extractor().regression()           # doctest: +SKIP
    >>> reg.add_image("slider_low.jpg", 0.1)                 # doctest: +SKIP
    >>> reg.train(); reg.predict("new.jpg")                  # doctest: +SKIP
    0.42

    The head is ``Dense(hidden_units, activation) → Dense(outputs)`` trained with mean
    squared error on standardised targets (the reported loss is in those units: 1 means no
    better than always predicting the average); the saved head predicts in your units.
    """

    _kind = "image_regression"
    _loss = "mse"

    def __init__(
        self,
        extractor: FeatureExtractor | str | None = None,
        *,
        hidden_units: int = 100,
        layers: Sequence[int] | None = None,
        activation: str = "relu",
        augment: bool | int = False,
        seed: int | None = None,
    ):
        super().__init__(
            extractor, hidden_units=hidden_units, layers=layers, activation=activation, augment=augment, seed=seed
        )
        self.outputs_: int | None = None

    def __repr__(self) -> str:
        outputs = self.outputs_ if (self.outputs_ or 1) > 1 else None
        return build_repr(
            "ImageRegression", backbone=self.backbone, outputs=outputs, examples=self.examples, trained=self.trained
        )

    def _target(self, value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, (str, bytes)):
            raise TaskError(
                f"Regression learns numbers, but got the label {value!r}. Pass a number like 0.7, "
                "or use fe.classification() to learn labels."
            )
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"A regression target must be a number or a list of numbers (got {value!r}).") from None
        if arr.size == 0 or not np.isfinite(arr).all():
            raise InputError(f"A regression target must be a finite number (got {value!r}).")
        width = self.outputs_ or (len(self._examples.targets[0]) if self._examples.targets else arr.size)
        if arr.size != width:
            raise DataError(f"Every target must have {width} number{'s' if width > 1 else ''}; got {arr.size}.")
        return tuple(float(v) for v in arr)

    def _folder_target(self, name: str) -> Any:
        try:
            return float(name)
        except ValueError:
            raise DataError(
                f"For regression the sub-folders must be named by numbers (e.g. 0.5/); {name!r} is not a number."
            ) from None

    def _encode(self, targets: list) -> np.ndarray:
        return np.asarray(targets, dtype=np.float32).reshape(len(targets), -1)

    def _outputs(self) -> int:
        if self._examples.targets:
            return len(self._examples.targets[0])
        return self.outputs_ or 1

    def _check_ready(self, targets: list) -> None:
        if len(self._examples.targets) < 2:
            raise DataError("Regression needs at least 2 examples with different values.")

    def _scale_targets(self, yt: np.ndarray, yv: np.ndarray):
        """Train on standardised targets; fold the scale back into the last layer afterwards."""
        import torch

        mean = yt.mean(axis=0)
        std = yt.std(axis=0)
        std = np.where(std > 0, std, 1.0).astype(np.float32)

        def unscale(head) -> None:
            last = head[-1]
            with torch.no_grad():
                last.weight.mul_(torch.from_numpy(std)[:, None])
                last.bias.mul_(torch.from_numpy(std)).add_(torch.from_numpy(mean))

        return (yt - mean) / std, (yv - mean) / std, unscale

    def _after_training(self) -> None:
        self.outputs_ = self._outputs()

    def _restore(self, head, meta: dict[str, Any], path: Path) -> None:
        from torch import nn

        last = [m for m in head if isinstance(m, nn.Linear)][-1]
        self.outputs_ = last.out_features
        self.model_ = head.eval()

    def _meta(self) -> dict[str, Any]:
        return {**super()._meta(), "task": "regression"}

    def predict(self, images: Any) -> float | np.ndarray | list:
        """The predicted number: one image → a float (an array for several outputs);
        many → a list of floats (an N×outputs array for several outputs)."""
        many, values = self._outputs_for(images)
        if values.shape[1] == 1:
            flat = [float(v) for v in values[:, 0]]
            return flat if many else flat[0]
        return values if many else values[0]

    def evaluate(self, data: Any = None, labels: Any = None, *, part: str = "validation"):
        """Mean absolute error, RMSE and R² on images with known values (a
        :class:`playml.core.evaluation.RegressionReport`); without ``data``, on the held-out examples."""
        from playml.core.evaluation import RegressionReport

        self._require_trained("evaluate it")
        if data is None:
            feats, truth = self._held_out(part)
        else:
            feats, truth = self._featurise_labelled(data, labels, what="evaluate")
            truth = [self._target(t) for t in truth]
        return RegressionReport.from_values(self._encode(truth), self._head_outputs(feats))
