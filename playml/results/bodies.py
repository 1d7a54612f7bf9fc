"""What the body, hand and face tasks return: boxes, poses, hands, faces and masks.

:class:`Pose`, :class:`Hand` and :class:`Face` hold :class:`~playml.results.Keypoint` lists
in pixels of the input image, with named access (``person.nose``, ``hand.index_finger_tip``,
``face.lips``). :class:`Mask` is a person mask. Skeleton lines and face parts come from
MediaPipe's tables, read once from the installed package when first asked for.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from playml.core.media import load_image
from playml.errors import InputError
from playml.results.base import Keypoint, Rectangle, Result

__all__ = ["Box", "Pose", "Hand", "Face", "FacePart", "Mask", "COCO_SKELETON"]


#: Skeleton lines of the 17 COCO keypoints (MoveNet, PoseNet, ml5.js's bodyPose), as name pairs.
COCO_SKELETON = (
    ("nose", "left_eye"),
    ("nose", "right_eye"),
    ("left_eye", "left_ear"),
    ("right_eye", "right_ear"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
)


@dataclasses.dataclass(repr=False)
class Box(Rectangle, Result):
    """A rectangle in pixels: top-left corner ``(x, y)``, ``width`` and ``height``."""

    x: float
    y: float
    width: float
    height: float

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """True when the point ``(x, y)`` lies inside the box (grown by ``margin`` pixels)."""
        return (self.x - margin <= x <= self.x_max + margin) and (self.y - margin <= y <= self.y_max + margin)

    @classmethod
    def around(cls, xy: np.ndarray, width: float | None = None, height: float | None = None) -> "Box":
        """The smallest box around points ``xy`` (N×2), clipped to the image when its size is given."""
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if width is not None and height is not None:
            x0, x1 = np.clip([x0, x1], 0, width)
            y0, y1 = np.clip([y0, y1], 0, height)
        x0, y0, x1, y1 = (round(float(v), 2) for v in (x0, y0, x1, y1))  # as rounded as the keypoints
        return cls(x0, y0, round(x1 - x0, 2), round(y1 - y0, 2))


class _NamedKeypoints:
    """Mixin: look keypoints up by name as attributes (``pose.nose``) or items (``pose['nose']``)."""

    keypoints: list[Keypoint]

    def __getattr__(self, name: str) -> Keypoint:
        if name.startswith("_") or name == "keypoints":
            raise AttributeError(name)
        for kp in self.keypoints:
            if kp.name == name:
                return kp
        raise AttributeError(
            f"{type(self).__name__} has no keypoint or attribute {name!r}. Keypoints: {', '.join(self.names())}."
        )

    def __getitem__(self, key: str | int) -> Keypoint:
        if isinstance(key, int):
            return self.keypoints[key]
        try:
            return getattr(self, key)
        except AttributeError as e:
            raise KeyError(str(e)) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.names()))

    def names(self) -> list[str]:
        """Keypoint names in order."""
        return [kp.name for kp in self.keypoints]

    def to_numpy(self, *, z: bool = False) -> np.ndarray:
        """Keypoints as an N×2 (or N×3 with ``z=True``) float array of pixel coordinates."""
        cols = [[kp.x, kp.y] + ([kp.z or 0.0] if z else []) for kp in self.keypoints]
        return np.asarray(cols, dtype=np.float32).reshape(len(cols), 3 if z else 2)

    def flat(self) -> list[float]:
        """``[x0, y0, x1, y1, …]`` — handy as input to ``ml.neural_network``."""
        return [float(v) for kp in self.keypoints for v in (kp.x, kp.y)]


@dataclasses.dataclass(repr=False)
class Pose(_NamedKeypoints, Result):
    """One person's 33 body keypoints (pixels), their box and the mean keypoint confidence.

    ``keypoints_3d`` are the same points in metres, centred between the hips.
    """

    keypoints: list[Keypoint]
    box: Box
    score: float
    keypoints_3d: list[Keypoint] | None = dataclasses.field(default=None, repr=False)

    @staticmethod
    def connections() -> list[tuple[str, str]]:
        """Skeleton lines as pairs of keypoint names."""
        return list(_pose_tables()[1])


@dataclasses.dataclass(repr=False)
class Hand(_NamedKeypoints, Result):
    """One hand: 21 keypoints (pixels), ``'Left'`` or ``'Right'`` and how sure the model is."""

    keypoints: list[Keypoint]
    handedness: str
    confidence: float
    box: Box
    keypoints_3d: list[Keypoint] | None = dataclasses.field(default=None, repr=False)

    @staticmethod
    def connections() -> list[tuple[str, str]]:
        """Finger and palm lines as pairs of keypoint names."""
        return list(_hand_tables()[1])


@dataclasses.dataclass(repr=False)
class FacePart(_NamedKeypoints, Result):
    """A named group of face keypoints (``lips``, ``left_eye``, …) and its box."""

    name: str
    keypoints: list[Keypoint]
    box: Box

    @property
    def center(self) -> tuple[float, float]:
        xy = self.to_numpy().astype(np.float64)
        return (round(float(xy[:, 0].mean()), 2), round(float(xy[:, 1].mean()), 2))


@dataclasses.dataclass(repr=False)
class Face(Result):
    """One face: 468 mesh keypoints (478 with irises), in pixels, and its box.

    Named parts come from MediaPipe's connection sets: ``face.lips``, ``face.left_eye``,
    ``face.right_eyebrow``, ``face.face_oval``, ``face.nose``, ``face.left_iris`` … (left and
    right are the person's own). Each keypoint is named after the first part it belongs to,
    or ``'mesh'``.
    """

    keypoints: list[Keypoint]
    box: Box

    def __getattr__(self, name: str) -> FacePart:
        if name.startswith("_") or name == "keypoints":
            raise AttributeError(name)
        if name in _face_parts(len(self.keypoints)):
            return self.part(name)
        raise AttributeError(f"Face has no part or attribute {name!r}. Parts: {', '.join(self.parts())}.")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.parts()))

    def parts(self) -> list[str]:
        """Names of the parts this face has (the irises need 478 points)."""
        return list(_face_parts(len(self.keypoints)))

    def part(self, name: str) -> FacePart:
        """The keypoints of one named part, with their box."""
        table = _face_parts(len(self.keypoints))
        if name not in table:
            from playml.errors import unknown_name

            raise unknown_name("face part", name, table)
        kps = [self.keypoints[i] for i in table[name]]
        xy = np.asarray([[k.x, k.y] for k in kps], dtype=np.float64)
        return FacePart(name, kps, Box.around(xy))

    def to_numpy(self, *, z: bool = False) -> np.ndarray:
        return _NamedKeypoints.to_numpy(self, z=z)  # type: ignore[arg-type]

    @staticmethod
    def connections(kind: str = "contours") -> list[tuple[int, int]]:
        """Mesh lines as index pairs: ``'contours'`` (eyes, brows, lips, oval) or ``'tesselation'``."""
        from mediapipe.python.solutions import face_mesh_connections as fc

        edges = {"contours": fc.FACEMESH_CONTOURS, "tesselation": fc.FACEMESH_TESSELATION, "irises": fc.FACEMESH_IRISES}
        if kind not in edges:
            from playml.errors import unknown_name

            raise unknown_name("face connection set", kind, edges)
        return sorted(edges[kind])


@dataclasses.dataclass(repr=False)
class Mask(Result):
    """A person mask: ``mask`` is H×W float32, 1 where a person is, 0 elsewhere.

    The image it was made from is kept, so ``mask.blur_background()`` needs no argument.
    """

    mask: np.ndarray

    def __post_init__(self) -> None:
        self._image: np.ndarray | None = None

    @property
    def coverage(self) -> float:
        """Fraction of the picture covered by people (mask > 0.5)."""
        return float((self.mask > 0.5).mean())

    def binary(self, threshold: float = 0.5) -> np.ndarray:
        """H×W bool array: True where the mask is above ``threshold``."""
        return self.mask > threshold

    def to_image(self):
        """The mask as a grayscale PIL image (white = person)."""
        from PIL import Image

        return Image.fromarray(np.clip(np.rint(self.mask * 255), 0, 255).astype(np.uint8), mode="L")

    def _source(self, image) -> np.ndarray:
        if image is None:
            if self._image is None:
                raise InputError("This mask does not know its image. Pass it: mask.blur_background(img).")
            return self._image
        img = load_image(image)
        if img.shape[:2] != self.mask.shape:
            raise InputError(
                f"The image is {img.shape[1]}×{img.shape[0]} but the mask is "
                f"{self.mask.shape[1]}×{self.mask.shape[0]}. Use the image the mask was made from."
            )
        return img

    def _composite(self, person: np.ndarray, background: np.ndarray):
        from PIL import Image

        alpha = self.mask[:, :, None].astype(np.float32)
        out = person.astype(np.float32) * alpha + background.astype(np.float32) * (1.0 - alpha)
        return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8))

    def blur_background(self, image=None, radius: float = 12):
        """The picture with everything but the people blurred (a PIL image)."""
        from PIL import Image, ImageFilter

        img = self._source(image)
        blurred = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))
        return self._composite(img, blurred)

    def replace_background(self, background, image=None):
        """The people pasted onto ``background`` (any image-like or an RGB colour tuple)."""
        from PIL import Image

        img = self._source(image)
        h, w = self.mask.shape
        if isinstance(background, tuple) and len(background) == 3:
            bg = np.empty_like(img)
            bg[:] = np.asarray(background, dtype=np.uint8)
        else:
            bg = np.asarray(Image.fromarray(load_image(background)).resize((w, h), Image.BILINEAR))
        return self._composite(img, bg)

    def cutout(self, image=None):
        """The people on a transparent background (an RGBA PIL image)."""
        from PIL import Image

        img = self._source(image)
        alpha = np.clip(np.rint(self.mask * 255), 0, 255).astype(np.uint8)
        return Image.fromarray(np.dstack([img, alpha]), mode="RGBA")

    def to_dict(self) -> dict[str, Any]:
        return {"mask": self.mask.tolist(), "coverage": self.coverage}


# ---------------------------------------------------------------------------------------------
# skeletons and face parts (MediaPipe's tables, read once from the installed package)


@functools.cache
def _pose_tables() -> tuple[list[str], list[tuple[str, str]]]:
    from mediapipe.python.solutions import pose as mp_pose

    names = [lm.name.lower() for lm in mp_pose.PoseLandmark]
    return names, [(names[a], names[b]) for a, b in sorted(mp_pose.POSE_CONNECTIONS)]


@functools.cache
def _hand_tables() -> tuple[list[str], list[tuple[str, str]]]:
    from mediapipe.python.solutions import hands as mp_hands

    names = [lm.name.lower() for lm in mp_hands.HandLandmark]
    return names, [(names[a], names[b]) for a, b in sorted(mp_hands.HAND_CONNECTIONS)]


_FACE_PART_SETS = [
    "lips",
    "left_eye",
    "left_eyebrow",
    "right_eye",
    "right_eyebrow",
    "face_oval",
    "nose",
    "left_iris",
    "right_iris",
]


@functools.cache
def _face_parts(n_points: int) -> dict[str, list[int]]:
    """Part name -> keypoint indices in drawing order, for a mesh of ``n_points``."""
    from mediapipe.python.solutions import face_mesh_connections as fc

    parts = {}
    for name in _FACE_PART_SETS:
        edges = sorted(getattr(fc, f"FACEMESH_{name.upper()}"))
        idx = list(dict.fromkeys(i for edge in edges for i in edge))
        if max(idx) < n_points:
            parts[name] = idx
    return parts


@functools.cache
def _face_point_names(n_points: int) -> list[str]:
    names = ["mesh"] * n_points
    for part, idx in reversed(list(_face_parts(n_points).items())):
        for i in idx:
            names[i] = part
    return names
