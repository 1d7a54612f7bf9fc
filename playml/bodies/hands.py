"""Hand pose: 21 named keypoints per hand and which hand it is (MediaPipe Hands, bundled).

>>> import playml as ml
>>> hands = ml.hand_pose(max_hands=2).detect("wave.jpg")      # doctest: +SKIP
>>> hands[0].handedness, hands[0].index_finger_tip            # doctest: +SKIP
('Right', Keypoint(name='index_finger_tip', x=301.2, y=88.5, z=-12.3))
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.bodies.landmarks import LandmarkTask
from playml.core.checks import check_count, check_model, check_unit
from playml.engines.mediapipe import landmarks_array, make_keypoints, world_keypoints
from playml.results.bodies import Box, Hand, _hand_tables

__all__ = ["HandPose", "hand_pose", "Hand"]

_MODELS = {"mediapipe-hands-full": 1, "mediapipe-hands-lite": 0}
_SWAP = {"Left": "Right", "Right": "Left"}


class HandPose(LandmarkTask):
    """Find hands: 21 keypoints each (``wrist``, ``thumb_tip``, ``index_finger_tip`` …).

    ``handedness`` is ``'Left'`` or ``'Right'`` — the person's own hand in an ordinary
    (not mirrored) photo or webcam frame. Hands come sorted by ``confidence``, best first.
    ``model='mediapipe-hands-lite'`` is smaller and faster; both models are bundled.

    >>> hands = ml.hand_pose(max_hands=1, flipped=True)   # selfie-view webcam
    """

    def __init__(
        self,
        model: str = "mediapipe-hands-full",
        *,
        max_hands: int = 2,
        min_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        flipped: bool = False,
    ):
        self.model_name = model
        self.max_hands = max_hands
        self.min_confidence = min_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.flipped = flipped
        check_model("hand pose model", model, _MODELS)
        check_count("max_hands", max_hands)
        check_unit("min_confidence", min_confidence)
        check_unit("min_tracking_confidence", min_tracking_confidence)

    def __repr__(self) -> str:
        extra = ", flipped=True" if self.flipped else ""
        return f"HandPose(model={self.model_name!r}, max_hands={self.max_hands}{extra})"

    def _build(self, static: bool):
        from mediapipe.python.solutions import hands as mp_hands

        return mp_hands.Hands(
            static_image_mode=static,
            max_num_hands=self.max_hands,
            model_complexity=_MODELS[self.model_name],
            min_detection_confidence=self.min_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def _convert(self, raw, width: int, height: int) -> list[Hand]:
        if not raw.multi_hand_landmarks:
            return []
        names = _hand_tables()[0]
        flip = float(width) if self.flipped else None
        worlds = raw.multi_hand_world_landmarks or [None] * len(raw.multi_hand_landmarks)
        out = []
        for landmarks, handed, world in zip(raw.multi_hand_landmarks, raw.multi_handedness, worlds):
            arr = landmarks_array(landmarks, width, height)
            keypoints, xy = make_keypoints(arr, names, confidence=False, flip_width=flip)
            label = handed.classification[0]
            # MediaPipe names the hand as if the picture were mirrored (selfie view): swap it.
            out.append(
                Hand(
                    keypoints,
                    _SWAP.get(label.label, label.label),
                    round(float(label.score), 4),
                    Box.around(xy, width, height),
                    world_keypoints(world, names, flipped=self.flipped) if world is not None else None,
                )
            )
        return sorted(out, key=lambda h: -h.confidence)

    def detect(self, image) -> list[Hand]:
        """Hands in ``image``, best first (``[]`` when there are none)."""
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Hand]]]:
        """Yield ``(frame, hands)`` for a video file, ``ml.webcam()`` or images, tracking hands."""
        return self._stream(source, every=every)

    @staticmethod
    def keypoint_names() -> list[str]:
        """The 21 hand keypoint names in MediaPipe's order."""
        return list(_hand_tables()[0])

    @staticmethod
    def connections() -> list[tuple[str, str]]:
        """Finger and palm lines as pairs of keypoint names."""
        return Hand.connections()


def hand_pose(model: str = "mediapipe-hands-full", **options) -> HandPose:
    """A hand keypoint detector (MediaPipe Hands, bundled). See :class:`HandPose`."""
    return HandPose(model, **options)
