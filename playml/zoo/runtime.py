"""Run an image backbone over one image or many, in ONNX Runtime (no PyTorch import).

Shared by :class:`playml.ImageClassifier` and :class:`playml.FeatureExtractor`. Many
images are processed in batches; the next batches are decoded and preprocessed in
background threads while ONNX Runtime works on the current one (PIL and ONNX Runtime
both release the GIL, so the two overlap).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from playml.core.media import is_many, iter_many
from playml.zoo.preprocessing import preprocess
from playml.zoo.specs import BackboneSpec

__all__ = ["BackboneRunner", "BackboneTask", "PROGRESS_THRESHOLD", "PREPROCESS_THREADS"]

#: With ``progress=None``, a progress bar appears from this many images on.
PROGRESS_THRESHOLD = 64
#: Threads that decode and preprocess upcoming batches while ONNX Runtime works.
PREPROCESS_THREADS = 2
#: Images per ONNX Runtime call. One at a time keeps the activations in the CPU cache: measured
#: ~30 % less CPU per image, ~45 % more images/s end to end than calls of 16 (2-core AMD EPYC).
INFERENCE_BATCH = 1


class BackboneRunner:
    """The ONNX Runtime session of one backbone (up to one layer) and its batching."""

    def __init__(
        self,
        spec: BackboneSpec,
        layer: str = "features",
        threads: int | None = None,
        precision: str = "float32",
        outputs: tuple[str, ...] | None = None,
        recheck: float | None = None,
    ):
        """``outputs``: the only outputs :meth:`run` will be asked for (``None``: any), so the
        session can leave out what they do not need (see :func:`inference_session`).
        ``recheck``: at int8, the images whose two best logits are closer than this are run
        again in float32 and get float32's outputs (see :meth:`run`)."""
        from playml.zoo.quantize import check_precision

        self.spec, self.layer, self.threads, self.outputs = spec, spec.check_layer(layer), threads, outputs
        self.precision = check_precision(precision)
        self.recheck = recheck if self.precision != "float32" else None
        self._sessions: dict[bool, Any] = {}
        self._reference: BackboneRunner | None = None
        #: How many images :meth:`run` has handled, and how many of them it ran again in float32.
        self.counts = {"images": 0, "rechecked": 0}

    @property
    def session(self):
        """The session for many images, decoded while it runs (its idle threads sleep)."""
        return self._session(False)

    def _session(self, spinning: bool):
        made = self._sessions.get(spinning)
        if made is None:
            from playml.zoo.export import inference_session

            made = self._sessions[spinning] = inference_session(
                self.spec, self.layer, self.threads, self.precision, spinning=spinning, outputs=self.outputs
            )
        return made

    def run(self, batch: np.ndarray, outputs: list[str], *, alone: bool = False) -> list[np.ndarray]:
        """Run on a preprocessed N×3×S×S float32 batch, ``INFERENCE_BATCH`` at a time. ``alone``:
        nothing is decoded meanwhile, so a session whose threads spin during each run is used
        (one image: 3.7 → 2.9 ms for lite0 int8 here; see ``session_options``)."""
        session = self._session(alone)
        step = max(1, INFERENCE_BATCH)
        if len(batch) <= step:
            results = session.run(outputs, {"images": batch})
        else:
            parts = [session.run(outputs, {"images": batch[i : i + step]}) for i in range(0, len(batch), step)]
            results = [np.concatenate(p) for p in zip(*parts)]
        self.counts["images"] += len(batch)
        if self.recheck is not None and "logits" in outputs:
            self._recheck(batch, outputs, results, alone)
        return results

    def _recheck(self, batch: np.ndarray, outputs: list[str], results: list[np.ndarray], alone: bool) -> None:
        """Replace, in place, every output of the images whose two best logits are within
        ``self.recheck`` of each other by float32's: int8's rounding flips such near-ties."""
        logits = results[outputs.index("logits")]
        best_two = np.partition(logits, -2, axis=1)[:, -2:]
        near = np.flatnonzero(np.abs(best_two[:, 1] - best_two[:, 0]) < self.recheck)
        if near.size == 0:
            return
        if self._reference is None:
            self._reference = BackboneRunner(self.spec, self.layer, self.threads, "float32", self.outputs)
        for store, again in zip(results, self._reference.run(batch[near], outputs, alone=alone)):
            store[near] = again
        self.counts["rechecked"] += int(near.size)

    def _batches(self, items: list[Any], batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
        chunks = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
        if len(chunks) <= 1:  # nothing to overlap
            for chunk in chunks:
                yield len(chunk), preprocess(chunk, self.spec)
            return
        workers = max(1, PREPROCESS_THREADS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="playml-preprocess") as pool:
            pending = deque(pool.submit(preprocess, c, self.spec) for c in chunks[:workers])
            queued = len(pending)
            while pending:
                batch = pending.popleft().result()
                if queued < len(chunks):  # keep the workers busy while ONNX Runtime runs this batch
                    pending.append(pool.submit(preprocess, chunks[queued], self.spec))
                    queued += 1
                yield len(batch), batch

    def map(
        self,
        images: Any,
        outputs: list[str],
        *,
        batch_size: int = 16,
        progress: bool | None = None,
        desc: str = "images",
    ) -> tuple[bool, list[np.ndarray]]:
        """Run on one image or many: ``(many, [array per output])`` with one row per image."""
        many = is_many(images)
        items = list(iter_many(images)) if many else [images]
        size = max(1, int(batch_size))
        alone = len(items) <= size  # one batch: decoded before it runs, nothing overlaps
        self._session(alone)  # build/load it before the progress bar starts
        show = progress if progress is not None else len(items) >= PROGRESS_THRESHOLD
        bar = None
        if show:
            from playml.core.progress import progress_bar

            bar = progress_bar(total=len(items), desc=desc, unit="img")
        results: list[list[np.ndarray]] = [[] for _ in outputs]
        try:
            for n, batch in self._batches(items, size):
                for store, value in zip(results, self.run(batch, outputs, alone=alone)):
                    store.append(value)
                if bar is not None:
                    bar.update(n)
        finally:
            if bar is not None:
                bar.close()
        arrays = [np.concatenate(r) if r else np.zeros((0,), np.float32) for r in results]
        return many, arrays


class BackboneTask:
    """What :class:`~playml.ImageClassifier` and :class:`~playml.FeatureExtractor` share:
    a backbone spec, its model card and a lazily created ONNX Runtime session."""

    _layer = "features"
    _outputs: tuple[str, ...] | None = None  # the outputs its runner is asked for (None: any)
    _margin: float | None = None  # int8 near-ties re-run in float32 (see BackboneRunner's recheck)

    def _setup(self, model: str, precision: str = "float32") -> None:
        from playml.zoo import get_backbone
        from playml.zoo.quantize import check_precision

        self._spec = get_backbone(model)  # fails early on an unknown name; loads nothing
        self.precision = check_precision(precision)
        self._runner: BackboneRunner | None = None
        self._model = None

    @property
    def spec(self) -> BackboneSpec:
        """The backbone's :class:`~playml.zoo.BackboneSpec` (block table, input size, weights)."""
        return self._spec

    @property
    def model_card(self):
        """Where the model comes from and what it gets wrong (:class:`playml.ModelCard`); at
        ``precision="int8"``, the card of the quantised model (with its measured agreement)."""
        if self.precision == "int8":
            from playml.zoo.quantize import quantized_card

            return quantized_card(self._spec)
        return self._spec.card

    @property
    def input_size(self) -> int:
        """Side of the square the images are resized to (224 for EfficientNet-Lite0)."""
        return self._spec.input_size

    @property
    def session(self):
        """The ``onnxruntime.InferenceSession`` (exported and cached on first use)."""
        return self._get_runner().session

    def _get_runner(self) -> BackboneRunner:
        if self._runner is None:
            self._runner = BackboneRunner(
                self._spec, self._layer, self.threads, self.precision, self._outputs, recheck=self._margin
            )
        return self._runner
