"""Label images with one of the 1,000 ImageNet categories.

>>> import playml as ml
>>> clf = ml.image_classifier()                      # EfficientNet-Lite0, offline
>>> clf.classify("coffee.jpg")[0]                    # doctest: +SKIP
Prediction(label='espresso', confidence=0.95)
>>> clf.classify(["coffee.jpg", "cat.png"], top_k=1)    # many → a list per image  # doctest: +SKIP
[[Prediction(label='espresso', confidence=0.95)], [Prediction(label='tabby cat', confidence=0.4)]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playml.core.media import ImageLike
from playml.core.ranking import check_top_k, ranked
from playml.core.reprs import build_repr
from playml.errors import InputError
from playml.results import Prediction
from playml.zoo import DEFAULT_MODEL, imagenet_labels
from playml.zoo.runtime import BackboneTask

__all__ = ["ImageClassifier", "image_classifier"]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _recheck_margin(recheck: bool | float) -> float | None:
    """The logit margin below which int8 answers are re-run in float32 (``None``: never)."""
    from playml.zoo.quantize import RECHECK_MARGIN

    if recheck is True:
        return RECHECK_MARGIN
    if recheck is False or recheck is None:
        return None
    if isinstance(recheck, (int, float)) and recheck >= 0:
        return float(recheck)
    raise InputError(
        f"recheck must be True, False or a margin in logits ≥ 0 such as {RECHECK_MARGIN} (got {recheck!r})."
    )


class ImageClassifier(BackboneTask):
    """Label an image with one of the 1,000 ImageNet categories.

    Parameters
    ----------
    model : a bundled backbone: ``"efficientnet-lite0"`` (default), ``"efficientnet-lite1"``,
        ``"efficientnet-lite2"`` or ``"mobilenet-v2"`` (``ml.models()`` shows their cards).
    top_k : how many labels :meth:`classify` returns per image (``None`` → all 1,000).
    batch_size, threads : ONNX Runtime batch size and threads.
    precision : ``"float32"`` (default) or ``"int8"``: a statically quantised copy of the
        backbone, about twice as fast on a CPU with int8 instructions; its model card
        states how often it agrees with float32.
    recheck : at ``precision="int8"`` only. ``True`` (default): an image whose two best
        labels int8 puts within ``playml.zoo.quantize.RECHECK_MARGIN`` (0.07) logits of each
        other is run again in float32, and gets float32's answer: int8's rounding flips such
        near-ties (0–7 % of the images in the sets measured are re-run; the label then
        matches float32's on 99.6 % of held-out crops instead of 97.5 %). A number sets the
        margin; ``False`` never re-runs (pure int8, fastest). :attr:`recheck_counts` says how
        many images were re-run.

    ``.session`` is the ONNX Runtime session used for inference; ``.model`` the PyTorch
    network (logits) with the same weights.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        top_k: int | None = 5,
        batch_size: int = 16,
        threads: int | None = None,
        precision: str = "float32",
        recheck: bool | float = True,
    ):
        self.model_name = model
        self.top_k = top_k
        self.batch_size = batch_size
        self.threads = threads
        self.recheck = recheck
        self._setup(model, precision)
        self._margin = _recheck_margin(recheck)

    @property
    def recheck_counts(self) -> dict[str, int]:
        """``{"images": …, "rechecked": …}``: how many images this classifier has labelled, and how
        many of them it ran again in float32 because int8's two best labels were near-tied."""
        return dict(self._get_runner().counts)

    @property
    def labels(self) -> tuple[str, ...]:
        """The 1,000 labels, in the order of the model's outputs."""
        return imagenet_labels()

    @property
    def model(self):
        """The PyTorch network (images → 1,000 logits), loaded on first use."""
        if self._model is None:
            self._model = self._spec.build()
        return self._model

    def __repr__(self) -> str:
        return build_repr(
            "ImageClassifier",
            model=self._spec.name,
            labels=self._spec.num_classes,
            precision=None if self.precision == "float32" else self.precision,
        )

    def probabilities(self, images: ImageLike | Any, *, progress: bool | None = None) -> np.ndarray:
        """Probability of every label: 1-D (1,000) for one image, N×1,000 for many."""
        many, (logits,) = self._get_runner().map(
            images, ["logits"], progress=progress, batch_size=self.batch_size, desc="classify"
        )
        probs = softmax(logits.reshape(-1, self._spec.num_classes))
        return probs if many else probs[0]

    def classify(
        self, images: ImageLike | Any, *, top_k: int | None = None, progress: bool | None = None
    ) -> list[Prediction] | list[list[Prediction]]:
        """The most likely labels, best first.

        One image (a path, PIL image, H×W×3 array, bytes) → a list of :class:`Prediction`;
        many (a list, a folder, an N×H×W×3 array) → a list of such lists, in order.
        """
        k = check_top_k(self.top_k if top_k is None else top_k)
        return ranked(self.probabilities(images, progress=progress), self.labels, k)


def image_classifier(model: str = DEFAULT_MODEL, **options: Any) -> ImageClassifier:
    """An :class:`ImageClassifier` (``ml.image_classifier()`` → EfficientNet-Lite0, ImageNet).

    >>> import playml as ml
    >>> ml.image_classifier()
    ImageClassifier(model='efficientnet-lite0', labels=1000)
    """
    return ImageClassifier(model, **options)
