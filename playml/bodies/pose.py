"""Body pose: 33 named keypoints for one person (MediaPipe BlazePose, bundled, offline).

>>> import playml as ml
>>> pose = ml.body_pose()
>>> people = pose.detect("dancer.jpg")                      # doctest: +SKIP
>>> people[0].nose                                          # doctest: +SKIP
Keypoint(name='nose', x=222.7, y=128, confidence=0.9993, z=-425.1)
>>> for frame, people in pose.detect_stream("clip.mp4"):    # doctest: +SKIP
...     ...
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.bodies.landmarks import LandmarkTask
from playml.core.checks import check_unit
from playml.engines.mediapipe import landmarks_array, make_keypoints, world_keypoints
from playml.errors import OfflineError
from playml.results.bodies import Box, Pose, _pose_tables

__all__ = ["BodyPose", "body_pose", "Pose"]

_REFUSED = {0: "blazepose-lite", 2: "blazepose-heavy"}


class BodyPose(LandmarkTask):
    """Find one person's body keypoints (nose, shoulders, wrists, hips, knees, ankles …).

    Keypoints are in pixels of the input image, named like ml5's bodyPose (``nose``,
    ``left_shoulder`` … the person's own left), with ``confidence`` (MediaPipe's
    visibility) and a relative depth ``z``. Only MediaPipe's bundled "full" model is offered
    (``complexity=1``); the lite and heavy models would be downloaded, so they are refused.

    >>> pose = ml.body_pose(flipped=True)         # mirror keypoints for a selfie-view webcam
    >>> from playml import samples
    >>> people = pose.detect(samples.path("astronaut"))  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = "blazepose-full",
        complexity: int = 1,
        *,
        min_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth: bool = True,
        flipped: bool = False,
    ):
        self.model_name = model
        self.complexity = complexity
        self.min_confidence = min_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.smooth = smooth
        self.flipped = flipped
        self._check()

    def _check(self) -> None:
        complexity = {v: k for k, v in _REFUSED.items()}.get(self.model_name, self.complexity)
        if self.model_name not in ("blazepose-full", *_REFUSED.values()):
            from playml.errors import unknown_name

            raise unknown_name("body pose model", self.model_name, ["blazepose-full"])
        if complexity != 1:
            name = _REFUSED.get(complexity, f"complexity {complexity!r}")
            raise OfflineError(
                f"Body pose complexity must be 1 (the bundled 'blazepose-full' model). The {name} model "
                "is not bundled with MediaPipe and would have to be downloaded, and playml never "
                "downloads. Use ml.body_pose() with no model options."
            )
        check_unit("min_confidence", self.min_confidence)
        check_unit("min_tracking_confidence", self.min_tracking_confidence)

    def __repr__(self) -> str:
        extra = ", flipped=True" if self.flipped else ""
        return f"BodyPose(model={self.model_name!r}, complexity={self.complexity}{extra})"

    # -- engine -------------------------------------------------------------------------------
    def _build(self, static: bool):
        from mediapipe.python.solutions import pose as mp_pose

        return mp_pose.Pose(
            static_image_mode=static,
            model_complexity=1,
            smooth_landmarks=self.smooth,
            enable_segmentation=False,
            min_detection_confidence=self.min_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def _convert(self, raw, width: int, height: int) -> list[Pose]:
        if raw.pose_landmarks is None:
            return []
        names = _pose_tables()[0]
        arr = landmarks_array(raw.pose_landmarks, width, height)
        flip = float(width) if self.flipped else None
        keypoints, xy = make_keypoints(arr, names, confidence=True, flip_width=flip)
        seen = arr[:, 3] >= 0.5
        box = Box.around(xy[seen] if seen.sum() >= 2 else xy, width, height)
        world = (
            world_keypoints(raw.pose_world_landmarks, names, flipped=self.flipped)
            if raw.pose_world_landmarks is not None
            else None
        )
        return [Pose(keypoints, box, round(float(arr[:, 3].mean()), 4), world)]

    # -- public -------------------------------------------------------------------------------
    def detect(self, image) -> list[Pose]:
        """People in ``image`` (at most one: BlazePose follows a single person).

        Returns ``[]`` when nobody is found. Several images (a list, a folder) give a list of
        lists.
        """
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Pose]]]:
        """Yield ``(frame, people)`` for each frame of a video file, ``ml.webcam()`` or images.

        MediaPipe tracks the person from frame to frame, which is faster and steadier than
        calling :meth:`detect` on each frame.
        """
        return self._stream(source, every=every)

    @staticmethod
    def keypoint_names() -> list[str]:
        """The 33 keypoint names in MediaPipe's order."""
        return list(_pose_tables()[0])

    @staticmethod
    def connections() -> list[tuple[str, str]]:
        """Skeleton lines as pairs of keypoint names (for drawing)."""
        return Pose.connections()


def body_pose(model: str = "blazepose-full", complexity: int = 1, **options):
    """A body pose detector.

    ``model="blazepose"`` (the default, MediaPipe BlazePose: 33 keypoints of one person, see
    :class:`BodyPose`) or MoveNet: ``"movenet"`` (Lightning), ``"movenet-thunder"``,
    ``"movenet-multipose"`` (several people), see :class:`playml.bodies.movenet.MoveNetPose`.
    ml5.js's ``model_type="MULTIPOSE_LIGHTNING"`` etc. choose MoveNet too.
    """
    from playml.bodies.movenet import MoveNetPose, movenet_name

    if str(model).lower() == "blazepose":
        model = "blazepose-full"
    if options.get("model_type") is not None or movenet_name(model) is not None:
        if complexity != 1:
            from playml.errors import InputError

            raise InputError("complexity is a BlazePose option; MoveNet models have none.")
        return MoveNetPose(model if movenet_name(model) else "movenet", **options)
    if str(model).startswith("movenet"):
        from playml.errors import unknown_name

        raise unknown_name(
            "body pose model", model, ["blazepose-full", "movenet", "movenet-thunder", "movenet-multipose"]
        )
    return BodyPose(model, complexity, **options)
