"""Draw results on a picture: skeletons, hands, face meshes, masks, boxes and keypoints.

>>> import playml as ml
>>> img = "dancer.jpg"
>>> ml.draw(img, ml.body_pose().detect(img)).save("dancer_pose.png")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playml.core.media import load_image
from playml.errors import InputError
from playml.results import Detection, Keypoint
from playml.results.bodies import COCO_SKELETON, Box, Face, FacePart, Hand, Mask, Pose

__all__ = ["draw"]

_LEFT, _RIGHT, _MIDDLE = (255, 138, 0), (0, 170, 255), (240, 240, 240)
_FINGERS = {
    "thumb": (255, 80, 80),
    "index": (255, 200, 0),
    "middle": (80, 220, 80),
    "ring": (0, 170, 255),
    "pinky": (200, 90, 255),
}
_FACE = (0, 230, 180)
_MASK = (0, 200, 255)


_PALETTE = (
    (255, 99, 71),
    (60, 179, 113),
    (65, 105, 225),
    (255, 215, 0),
    (238, 130, 238),
    (0, 206, 209),
    (255, 140, 0),
    (154, 205, 50),
    (199, 21, 133),
    (100, 149, 237),
)


def _label_colour(label: str) -> tuple[int, int, int]:
    import zlib

    return _PALETTE[zlib.crc32(label.encode()) % len(_PALETTE)]


def _side_colour(name: str) -> tuple[int, int, int]:
    return _LEFT if name.startswith("left") else _RIGHT if name.startswith("right") else _MIDDLE


def _finger_colour(name: str) -> tuple[int, int, int]:
    return next((c for f, c in _FINGERS.items() if name.startswith(f)), _MIDDLE)


class _Painter:
    def __init__(self, img, *, color, radius, width, min_confidence, labels, mesh):
        from PIL import ImageDraw

        self.img = img
        self.canvas = ImageDraw.Draw(img)
        short = min(img.size)
        self.radius = radius if radius is not None else max(2, round(short / 160))
        self.width = width if width is not None else max(1, round(short / 240))
        self.color = color
        self.min_confidence = min_confidence
        self.labels = labels
        self.mesh = mesh

    def _ok(self, kp: Keypoint) -> bool:
        return kp.confidence is None or kp.confidence >= self.min_confidence

    def point(self, kp: Keypoint, colour, radius=None) -> None:
        r = self.radius if radius is None else radius
        self.canvas.ellipse(
            [kp.x - r, kp.y - r, kp.x + r, kp.y + r], fill=self.color or colour, outline=(0, 0, 0) if r >= 3 else None
        )
        if self.labels:
            self.canvas.text((kp.x + r + 1, kp.y - r), kp.name, fill=self.color or colour)

    def line(self, a: Keypoint, b: Keypoint, colour, width=None) -> None:
        self.canvas.line([(a.x, a.y), (b.x, b.y)], fill=self.color or colour, width=width or self.width)

    def box(self, box: Box, colour) -> None:
        self.canvas.rectangle([box.x, box.y, box.x_max, box.y_max], outline=self.color or colour, width=self.width)

    def skeleton(self, result, colour_of) -> None:
        named = {kp.name: kp for kp in result.keypoints}
        pairs = [(a, b) for a, b in result.connections() if a in named and b in named]
        if not pairs and len(named) == 17:  # MoveNet's 17 COCO keypoints
            pairs = [(a, b) for a, b in COCO_SKELETON if a in named and b in named]
        for a, b in pairs:
            ka, kb = named[a], named[b]
            if self._ok(ka) and self._ok(kb):
                self.line(ka, kb, colour_of(b))
        for kp in result.keypoints:
            if self._ok(kp):
                self.point(kp, colour_of(kp.name))

    def detection(self, det: Detection) -> None:
        from PIL import ImageFont

        colour = self.color or _label_colour(det.label)
        x0, y0, x1, y1 = det.x, det.y, det.x + det.width, det.y + det.height
        self.canvas.rectangle([x0, y0, x1, y1], outline=colour, width=max(2, self.width))
        text = f"{det.label} {det.confidence:.0%}"
        size = max(11, round(min(self.img.size) / 40))
        try:
            font = ImageFont.load_default(size=size)
        except TypeError:  # older Pillow: one fixed size
            font = ImageFont.load_default()
        left, top, right, bottom = self.canvas.textbbox((0, 0), text, font=font)
        tw, th = right - left + 6, bottom - top + 4
        ty = y0 - th if y0 - th >= 0 else y0
        self.canvas.rectangle([x0, ty, x0 + tw, ty + th], fill=colour)
        self.canvas.text((x0 + 3 - left, ty + 2 - top), text, fill=(0, 0, 0), font=font)

    def face(self, face: Face) -> None:
        kps = face.keypoints
        if self.mesh == "tesselation":
            for a, b in Face.connections("tesselation"):
                self.line(kps[a], kps[b], (120, 120, 120), width=1)
        if self.mesh in ("contours", "tesselation"):
            for a, b in Face.connections("contours"):
                self.line(kps[a], kps[b], _FACE)
            if len(kps) > 468:
                for a, b in Face.connections("irises"):
                    self.line(kps[a], kps[b], (255, 255, 255))
        small = max(1, self.radius // 2)
        for kp in kps:
            self.point(kp, _FACE, radius=small)

    def mask(self, mask: Mask, alpha: float = 0.45) -> None:
        from PIL import Image

        if mask.mask.shape != (self.img.height, self.img.width):
            raise InputError(
                f"The mask is {mask.mask.shape[1]}×{mask.mask.shape[0]} but the picture is "
                f"{self.img.width}×{self.img.height}. Draw it on the image it was made from."
            )
        rgb = np.asarray(self.img, dtype=np.float32)
        a = (mask.mask[:, :, None] * alpha).astype(np.float32)
        tint = np.asarray(self.color or _MASK, dtype=np.float32)
        self.img.paste(Image.fromarray(np.clip(np.rint(rgb * (1 - a) + tint * a), 0, 255).astype(np.uint8)))

    def any(self, result: Any) -> None:
        if result is None:
            return
        if isinstance(result, Mask):
            self.mask(result)
        elif isinstance(result, Pose):
            self.skeleton(result, _side_colour)
        elif isinstance(result, Hand):
            self.skeleton(result, _finger_colour)
        elif isinstance(result, Face):
            self.face(result)
        elif isinstance(result, FacePart):
            for kp in result.keypoints:
                self.point(kp, _FACE)
        elif isinstance(result, Keypoint):
            self.point(result, _side_colour(result.name))
        elif isinstance(result, Detection):
            self.detection(result)
        elif isinstance(result, Box):
            self.box(result, _MIDDLE)
        elif isinstance(result, (list, tuple)):
            for r in sorted(result, key=lambda r: not isinstance(r, Mask)):  # masks first, under the lines
                self.any(r)
        else:
            raise InputError(
                f"ml.draw cannot draw a {type(result).__name__}. Pass what body_pose, hand_pose, "
                "face_mesh, body_segmentation, object_detector or hand_detector returned "
                "(or keypoints / boxes)."
            )


def draw(
    image,
    results: Any,
    *,
    color: tuple[int, int, int] | None = None,
    radius: int | None = None,
    width: int | None = None,
    min_confidence: float = 0.5,
    labels: bool = False,
    mesh: str = "contours",
):
    """Return a copy of ``image`` (a PIL RGB image) with ``results`` drawn on it.

    ``results`` is anything body_pose / hand_pose / face_mesh / body_segmentation returned
    (one result or a list), or Keypoints and Boxes. Pose keypoints below
    ``min_confidence`` are skipped. ``mesh`` chooses the face lines: ``'contours'``,
    ``'tesselation'`` (the full mesh) or ``'points'``. ``labels=True`` writes keypoint names.

    >>> people = ml.body_pose().detect(img)            # doctest: +SKIP
    >>> ml.draw(img, people, labels=True).show()       # doctest: +SKIP
    """
    from PIL import Image

    from playml.core.checks import check_choice, check_unit

    check_choice("mesh", mesh, ["contours", "tesselation", "points"])
    check_unit("min_confidence", min_confidence)
    picture = Image.fromarray(load_image(image))
    _Painter(
        picture, color=color, radius=radius, width=width, min_confidence=min_confidence, labels=labels, mesh=mesh
    ).any(results)
    return picture
