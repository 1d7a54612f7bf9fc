"""The base of the MediaPipe tasks: lazy graphs, image loading, ``flipped`` and video streams.

:class:`LandmarkTask` is the base class of ``BodyPose``, ``HandPose``, ``FaceMesh`` and
``BodySegmentation``: it loads images, runs the bundled MediaPipe graph (lazily, once,
through :mod:`playml.engines.mediapipe`), mirrors results for ``flipped=True`` and streams
video with MediaPipe's tracking between frames. What the tasks return lives in
:mod:`playml.results.bodies`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from playml.core.media import is_many, iter_many, load_image
from playml.engines.mediapipe import import_mediapipe, quiet_native_logs
from playml.errors import InputError, PlaymlError

__all__ = ["LandmarkTask"]


@functools.cache
def _warmup_image() -> np.ndarray:
    from playml.samples import path

    try:
        return load_image(path("astronaut"))[::2, ::2].copy()
    except PlaymlError:  # pragma: no cover - samples removed
        return np.zeros((64, 64, 3), dtype=np.uint8)


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
            raise InputError(
                f"{str(image)!r} is a video. Use detect_stream({str(image)!r}) to go through its "
                "frames: for frame, results in task.detect_stream(...)."
            )
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
