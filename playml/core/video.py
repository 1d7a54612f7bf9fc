"""Frames in and out: video files and webcams (OpenCV), RGB frames as NumPy arrays.

>>> import playml as ml
>>> for frame, people in ml.body_pose().detect_stream("clip.mp4"):   # doctest: +SKIP
...     print(frame.shape, len(people))
>>> cam = ml.webcam()    # a PlaymlError when there is no camera   # doctest: +SKIP
>>> from playml.core.video import write_video
>>> write_video("out.mp4", frames, fps=30)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.media import IMAGE_SUFFIXES, check_not_url, list_images, load_image
from playml.errors import DependencyError, InputError, MissingFileError

__all__ = [
    "VIDEO_SUFFIXES",
    "Webcam",
    "webcam",
    "read_video",
    "video_info",
    "frames",
    "VideoWriter",
    "write_video",
    "is_video",
]

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif"})
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID", ".webm": "VP90"}
# Browsers (Chromium, Firefox, Safari) play H.264 in .mp4 and VP9 in .webm, not MPEG-4 part 2.
# OpenCV's wheels carry no H.264 encoder, so .mp4 tries H.264 ("avc1") and falls back to
# MPEG-4 part 2 with a warning that suggests .webm (VP9), which every build here writes.
_BROWSER_FOURCC = {".mp4": "avc1", ".m4v": "avc1", ".mov": "avc1"}


def _cv2():
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the environment
        raise DependencyError("Video needs OpenCV. Install it with: pip install opencv-python-headless") from None
    return cv2


def is_video(path: Any) -> bool:
    """True for a path whose suffix is a video format (``.mp4``, ``.avi``, ``.mov`` …)."""
    return isinstance(path, (str, os.PathLike)) and Path(path).suffix.lower() in VIDEO_SUFFIXES - {".gif"}


def _open_capture(path: str | os.PathLike):
    cv2 = _cv2()
    check_not_url(str(path))
    p = Path(path)
    if not p.exists():
        raise MissingFileError(
            f"There is no video file {str(p)!r}. Check the spelling and the folder you are in ({os.getcwd()})."
        )
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{str(p)!r} could not be opened as a video. Use an MP4, AVI, MOV or MKV file.")
    return cap


def video_info(path: str | os.PathLike) -> dict[str, Any]:
    """``{'width', 'height', 'fps', 'frames'}`` of a video file (frames may be an estimate)."""
    cv2 = _cv2()
    cap = _open_capture(path)
    try:
        return {
            "width": int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": float(cap.get(cv2.CAP_PROP_FPS)) or 30.0,
            "frames": int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
        }
    finally:
        cap.release()


def read_video(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of a video file as H×W×3 RGB ``uint8`` arrays."""
    cv2 = _cv2()
    cap = _open_capture(path)
    count = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    if count == 0:
        raise InputError(f"{str(path)!r} has no frames OpenCV can decode. Re-encode it as H.264 MP4 or MJPEG AVI.")


class Webcam:
    """A camera as an endless iterator of RGB frames. Stop with ``close()`` or Ctrl+C.

    >>> with ml.webcam() as cam:                   # doctest: +SKIP
    ...     frame = cam.read()
    """

    def __init__(self, index: int = 0, *, width: int | None = None, height: int | None = None):
        self.index = index
        self.width = width
        self.height = height
        self._cap: Any = None  # cv2.VideoCapture while open

    def open(self) -> "Webcam":
        if self._cap is not None:
            return self
        cv2 = _cv2()
        if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{self.index}"):
            raise InputError(self._missing())  # skip OpenCV's noisy probe when there is no device
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise InputError(self._missing())
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._cap = cap
        return self

    def _missing(self) -> str:
        return (
            f"No camera found (camera {self.index}). Plug one in or allow access to it, try another "
            "index with ml.webcam(1), or use a video file instead: detect_stream('clip.mp4')."
        )

    def read(self) -> np.ndarray:
        """One RGB frame."""
        cv2 = _cv2()
        self.open()
        ok, bgr = self._cap.read()
        if not ok:
            raise InputError(f"Camera {self.index} stopped sending frames. Is another program using it?")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def __iter__(self) -> Iterator[np.ndarray]:
        self.open()
        while self._cap is not None:
            yield self.read()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "Webcam":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Webcam(index={self.index}, open={self._cap is not None})"


def webcam(index: int = 0, *, width: int | None = None, height: int | None = None) -> Webcam:
    """Open camera ``index`` (0 is the default camera). Raises a PlaymlError if there is none."""
    return Webcam(index, width=width, height=height).open()


def frames(source: Any) -> Iterator[np.ndarray]:
    """RGB frames from a video file, a webcam (``ml.webcam()`` or an index), a folder of
    images, a 4-D array or any iterable of image-like things."""
    if isinstance(source, Webcam):
        return iter(source)
    if isinstance(source, int) and not isinstance(source, bool):
        return _own_camera(webcam(source))
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        if p.is_dir():
            return (load_image(f) for f in list_images(p))
        if p.suffix.lower() in IMAGE_SUFFIXES and p.suffix.lower() != ".gif":
            return iter([load_image(p)])
        return read_video(p)
    if isinstance(source, np.ndarray):
        if source.ndim != 4:
            raise InputError(f"A stream of frames as an array must be 4-D (frames × H × W × 3); got {source.shape}.")
        return (load_image(f) for f in source)
    if isinstance(source, Iterable):
        return (load_image(f) for f in source)
    raise InputError(
        f"playml cannot read frames from a {type(source).__name__}. Pass a video file path, "
        "ml.webcam(), a folder of images or a list of images."
    )


def _own_camera(cam: Webcam) -> Iterator[np.ndarray]:
    """Frames of a camera opened for this stream only; released when the stream ends."""
    try:
        yield from cam
    finally:
        cam.close()


class _quiet_stderr:
    """Silence the C libraries' messages on file descriptor 2 for a moment (OpenCV/FFmpeg)."""

    def __enter__(self):
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:  # no real stderr (some notebook set-ups): nothing to silence
            self._saved = None
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)


class VideoWriter:
    """Write RGB frames to a video file; the file appears only when ``close()`` succeeds.

    The format follows the suffix: ``.webm`` (VP9: plays in every browser), ``.mp4`` (H.264
    where OpenCV has an encoder for it, else MPEG-4 part 2, which browsers do not play),
    ``.avi`` (MJPEG), ``.mkv``. The file gets the usual mode (0666 less the umask).
    """

    def __init__(self, path: str | os.PathLike, fps: float = 30.0):
        self.path = Path(path)
        self.fps = float(fps)
        suffix = self.path.suffix.lower()
        if suffix not in _FOURCC:
            raise InputError(
                f"playml writes videos as {', '.join(sorted(_FOURCC))}; {str(self.path)!r} has another suffix."
            )
        if not self.fps > 0:
            raise InputError(f"fps must be above 0 (got {fps!r}).")
        self._writer: Any = None  # cv2.VideoWriter after the first frame
        self._tmp: str | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, frame) -> None:
        cv2 = _cv2()
        rgb = load_image(frame)
        h, w = rgb.shape[:2]
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(
                prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent
            )
            os.close(fd)
            self._writer = self._open(cv2, w, h)
            if not self._writer.isOpened():
                self._discard()
                raise InputError(f"OpenCV cannot write {str(self.path)!r}. Try an .avi file instead.")
            self._size = (w, h)
        elif self._size is not None and (w, h) != self._size:
            raise InputError(
                f"All frames of a video must have the same size: {self._size[0]}×{self._size[1]} first, then {w}×{h}."
            )
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def _open(self, cv2, w: int, h: int):
        suffix = self.path.suffix.lower()
        browser = _BROWSER_FOURCC.get(suffix)
        if browser:
            with _quiet_stderr():  # the probe's failure is expected and FFmpeg says so loudly
                writer = cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*browser), self.fps, (w, h))
            if writer.isOpened():
                return writer
            writer.release()
            import warnings

            warnings.warn(
                f"This OpenCV has no H.264 encoder, so {self.path.name} is MPEG-4 part 2, which web "
                f"browsers do not play. Write {self.path.with_suffix('.webm').name} (VP9) for a browser.",
                stacklevel=3,
            )
        with _quiet_stderr():  # "tag … is not supported" for VP9 in WebM: OpenCV picks the right tag itself
            return cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*_FOURCC[suffix]), self.fps, (w, h))

    def _discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._tmp:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None

    def close(self) -> Path:
        if self._writer is None:
            raise InputError("No frames were written, so there is no video to save.")
        self._writer.release()
        self._writer = None
        from playml.core.saving import umask_mode

        assert self._tmp is not None  # made with the writer
        umask_mode(self._tmp)
        os.replace(self._tmp, self.path)
        self._tmp = None
        return self.path

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()

    def __repr__(self) -> str:
        return f"VideoWriter({str(self.path)!r}, fps={self.fps:g}, frames={self.frames})"


def write_video(path: str | os.PathLike, frames: Iterable[Any], fps: float = 30.0) -> Path:
    """Write image-like ``frames`` to a video file (atomically) and return its path."""
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path
