"""Body segmentation: which pixels are a person (MediaPipe Selfie Segmentation, bundled).

>>> import playml as ml
>>> mask = ml.body_segmentation().segment("me.jpg")     # doctest: +SKIP
>>> mask.mask.shape, round(mask.coverage, 2)            # doctest: +SKIP
((480, 640), 0.31)
>>> mask.blur_background().save("me_blurred.jpg")       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.bodies.landmarks import LandmarkTask
from playml.core.checks import check_model
from playml.results.bodies import Mask

__all__ = ["BodySegmentation", "body_segmentation", "Mask"]

_MODELS = {"selfie-segmentation": 0, "selfie-segmentation-landscape": 1}


class BodySegmentation(LandmarkTask):
    """Separate people from the background: an H×W mask (0–1) at the input's size.

    The result :class:`~playml.bodies.landmarks.Mask` can ``blur_background()``,
    ``replace_background(img_or_colour)``, ``cutout()`` (RGBA) and ``to_image()``.
    ``model='selfie-segmentation-landscape'`` is faster with coarser edges; both are bundled.

    >>> seg = ml.body_segmentation(model="selfie-segmentation-landscape")
    """

    def __init__(self, model: str = "selfie-segmentation", *, flipped: bool = False):
        self.model_name = model
        self.flipped = flipped
        check_model("segmentation model", model, _MODELS)

    def __repr__(self) -> str:
        extra = ", flipped=True" if self.flipped else ""
        return f"BodySegmentation(model={self.model_name!r}{extra})"

    def _build(self, static: bool):
        from mediapipe.python.solutions import selfie_segmentation as mp_seg

        return mp_seg.SelfieSegmentation(model_selection=_MODELS[self.model_name])

    def _run(self, graph, rgb: np.ndarray) -> Mask:
        raw = graph.process(rgb)
        mask = np.asarray(raw.segmentation_mask, dtype=np.float32)
        if self.flipped:
            mask, rgb = mask[:, ::-1], rgb[:, ::-1]
        result = Mask(np.ascontiguousarray(mask))
        result._image = np.ascontiguousarray(rgb)
        return result

    def segment(self, image) -> Mask:
        """The person mask of ``image`` (several images give a list of masks)."""
        return self._detect(image)

    detect = segment  # ml5's name

    def segment_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, Mask]]:
        """Yield ``(frame, mask)`` for a video file, ``ml.webcam()`` or images."""
        return self._stream(source, every=every)

    detect_stream = segment_stream


def body_segmentation(model: str = "selfie-segmentation", **options) -> BodySegmentation:
    """A person segmenter (MediaPipe Selfie Segmentation, bundled). See :class:`BodySegmentation`."""
    return BodySegmentation(model, **options)
