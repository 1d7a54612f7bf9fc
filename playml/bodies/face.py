"""Face mesh: 468 face keypoints (478 with irises) and named parts (MediaPipe Face Mesh, bundled).

>>> import playml as ml
>>> faces = ml.face_mesh(max_faces=1).detect("selfie.jpg")   # doctest: +SKIP
>>> faces[0].box, faces[0].lips.center                       # doctest: +SKIP
(Box(x=180.3, y=60.1, width=110.2, height=140.7), (236.4, 171.0))
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from playml.bodies.landmarks import LandmarkTask
from playml.core.checks import check_count, check_model, check_unit
from playml.engines.mediapipe import landmarks_array, make_keypoints
from playml.results.bodies import Box, Face, _face_parts, _face_point_names

__all__ = ["FaceMesh", "face_mesh", "Face"]


class FaceMesh(LandmarkTask):
    """Find faces and 468 keypoints on each (478 with ``refine_landmarks=True``: irises too).

    Each :class:`~playml.bodies.landmarks.Face` has a ``box`` and named parts — ``lips``,
    ``left_eye``, ``right_eye``, ``left_eyebrow``, ``right_eyebrow``, ``face_oval``, ``nose``,
    and with irises ``left_iris``/``right_iris`` (the person's own left and right). Faces
    come largest first. Both mesh models are bundled.

    >>> mesh = ml.face_mesh(max_faces=2, refine_landmarks=False)   # 468 points, a bit faster
    """

    def __init__(
        self,
        model: str = "face-mesh",
        *,
        max_faces: int = 1,
        refine_landmarks: bool = True,
        min_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        flipped: bool = False,
    ):
        self.model_name = model
        self.max_faces = max_faces
        self.refine_landmarks = refine_landmarks
        self.min_confidence = min_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.flipped = flipped
        check_model("face mesh model", model, ["face-mesh"])
        check_count("max_faces", max_faces)
        check_unit("min_confidence", min_confidence)
        check_unit("min_tracking_confidence", min_tracking_confidence)

    @property
    def points(self) -> int:
        """Keypoints per face: 478 with irises (``refine_landmarks=True``), else 468."""
        return 478 if self.refine_landmarks else 468

    def __repr__(self) -> str:
        extra = ", flipped=True" if self.flipped else ""
        return f"FaceMesh(model={self.model_name!r}, max_faces={self.max_faces}, points={self.points}{extra})"

    def _build(self, static: bool):
        from mediapipe.python.solutions import face_mesh as mp_face

        return mp_face.FaceMesh(
            static_image_mode=static,
            max_num_faces=self.max_faces,
            refine_landmarks=bool(self.refine_landmarks),
            min_detection_confidence=self.min_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def _convert(self, raw, width: int, height: int) -> list[Face]:
        if not raw.multi_face_landmarks:
            return []
        flip = float(width) if self.flipped else None
        out = []
        for landmarks in raw.multi_face_landmarks:
            arr = landmarks_array(landmarks, width, height)
            keypoints, xy = make_keypoints(arr, _face_point_names(len(arr)), confidence=False, flip_width=flip)
            out.append(Face(keypoints, Box.around(xy, width, height)))
        return sorted(out, key=lambda f: -(f.box.width * f.box.height))

    def detect(self, image) -> list[Face]:
        """Faces in ``image``, largest first (``[]`` when there are none)."""
        return self._detect(image)

    def detect_stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, list[Face]]]:
        """Yield ``(frame, faces)`` for a video file, ``ml.webcam()`` or images, tracking faces."""
        return self._stream(source, every=every)

    def parts(self) -> list[str]:
        """Names of the face parts each result offers."""
        return list(_face_parts(self.points))

    @staticmethod
    def connections(kind: str = "contours") -> list[tuple[int, int]]:
        """Mesh lines as index pairs: ``'contours'``, ``'tesselation'`` or ``'irises'``."""
        return Face.connections(kind)


def face_mesh(model: str = "face-mesh", **options) -> FaceMesh:
    """A face mesh detector (MediaPipe Face Mesh, bundled). See :class:`FaceMesh`."""
    return FaceMesh(model, **options)
