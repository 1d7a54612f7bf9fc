"""The state behind the Teach page: classes, their example images, training and the model.

A :class:`TeachProject` keeps each example as a small JPEG (for thumbnails and for training)
and trains a fresh :class:`playml.ImageClassification` on all of them when asked, in a worker
thread, recording progress as events that the page reads as a stream. The trained (or opened)
classifier answers the live preview.
"""
from __future__ import annotations

import io
import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playml.web.security import BadRequest, model_path

__all__ = ["TeachProject", "SAMPLE_SIDE", "MAX_SAMPLES"]

#: Examples are kept with their shorter side at most this long (the backbone sees 224 pixels).
SAMPLE_SIDE = 256
#: Most examples a project holds (all classes together).
MAX_SAMPLES = 3000
MAX_CLASSES = 50
_ids = itertools.count(1)


def _jpeg(rgb: np.ndarray, side: int = SAMPLE_SIDE, quality: int = 90) -> bytes:
    from PIL import Image

    img = Image.fromarray(rgb)
    scale = side / min(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


@dataclass
class Sample:
    id: int
    jpeg: bytes


@dataclass
class TeachClass:
    id: int
    name: str
    samples: list[Sample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "samples": [s.id for s in self.samples]}


class TeachProject:
    """Classes, examples and the classifier of one Teach page (shared by its browser tabs)."""

    def __init__(self, models_dir: str | Path, extractor=None):
        self.models_dir = Path(models_dir)
        self._extractor = extractor
        self.classes: list[TeachClass] = []
        self.classifier = None            # trained or opened ImageClassification
        self.model_name: str | None = None
        self.status = "idle"              # idle | training | trained | error
        self.message = "Add a class for each thing to recognise, then examples of each."
        self.events: list[dict[str, Any]] = []   # training progress, read by /api/teach/events
        self.evaluation: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None

    # -- extractor (shared, loaded once) ---------------------------------------------------
    @property
    def extractor(self):
        if self._extractor is None:
            from playml.images.features import FeatureExtractor

            self._extractor = FeatureExtractor()
        return self._extractor

    # -- classes ----------------------------------------------------------------------------
    def _find(self, class_id: int) -> TeachClass:
        for c in self.classes:
            if c.id == class_id:
                return c
        raise BadRequest(f"There is no class number {class_id}. Reload the page.", 404)

    def _check_name(self, name: Any, skip: TeachClass | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("Give the class a name, e.g. 'cat' or 'thumbs up'.")
        name = " ".join(name.split())
        if len(name) > 60:
            raise BadRequest("A class name can be at most 60 characters long.")
        if any(c.name == name and c is not skip for c in self.classes):
            raise BadRequest(f"There is already a class called {name!r}. Pick another name.")
        return name

    def add_class(self, name: Any = None) -> TeachClass:
        with self._lock:
            if len(self.classes) >= MAX_CLASSES:
                raise BadRequest(f"A project can have at most {MAX_CLASSES} classes.")
            if name is None:
                n = len(self.classes) + 1
                while any(c.name == f"Class {n}" for c in self.classes):
                    n += 1
                name = f"Class {n}"
            c = TeachClass(next(_ids), self._check_name(name))
            self.classes.append(c)
            return c

    def rename_class(self, class_id: int, name: Any) -> TeachClass:
        with self._lock:
            c = self._find(class_id)
            c.name = self._check_name(name, skip=c)
            return c

    def delete_class(self, class_id: int) -> None:
        with self._lock:
            self.classes.remove(self._find(class_id))

    def add_samples(self, class_id: int, images: list[np.ndarray]) -> list[Sample]:
        with self._lock:
            c = self._find(class_id)
            total = sum(len(k.samples) for k in self.classes)
            if total + len(images) > MAX_SAMPLES:
                raise BadRequest(f"A project can hold at most {MAX_SAMPLES} examples; it has {total}. Delete some "
                                 "first.")
        added = [Sample(next(_ids), _jpeg(img)) for img in images]   # encode outside the lock
        with self._lock:
            c.samples.extend(added)
        return added

    def sample(self, sample_id: int) -> Sample:
        with self._lock:
            for c in self.classes:
                for s in c.samples:
                    if s.id == sample_id:
                        return s
        raise BadRequest(f"There is no example number {sample_id}.", 404)

    def delete_sample(self, sample_id: int) -> None:
        with self._lock:
            for c in self.classes:
                for s in c.samples:
                    if s.id == sample_id:
                        c.samples.remove(s)
                        return
        raise BadRequest(f"There is no example number {sample_id}.", 404)

    def clear_samples(self, class_id: int) -> None:
        with self._lock:
            self._find(class_id).samples.clear()

    # -- state ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            clf = self.classifier
            return {
                "classes": [c.to_dict() for c in self.classes],
                "status": self.status,
                "message": self.message,
                "trained": clf is not None,
                "labels": list(clf.labels_) if clf is not None else [],
                "model_name": self.model_name,
                "events": len(self.events),
                "evaluation": self.evaluation,
            }

    def _event(self, **event: Any) -> None:
        with self._lock:
            event["n"] = len(self.events)
            self.events.append(event)

    # -- training ---------------------------------------------------------------------------
    def start_training(self, epochs: int = 50, batch_size: int = 16, learning_rate: float = 0.001) -> None:
        """Check the examples, then train in a worker thread (progress goes to :attr:`events`)."""
        if not (isinstance(epochs, int) and 1 <= epochs <= 1000):
            raise BadRequest("Epochs must be a whole number from 1 to 1000.")
        if not (isinstance(batch_size, int) and 1 <= batch_size <= 1024):
            raise BadRequest("Batch size must be a whole number from 1 to 1024.")
        if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate <= 1):
            raise BadRequest("The learning rate must be a number above 0 and at most 1 (try 0.001).")
        with self._lock:
            if self.status == "training":
                raise BadRequest("The model is already training. Wait for it to finish.", 409)
            if len(self.classes) < 2:
                raise BadRequest("Training needs at least 2 classes. Add another class.")
            empty = [c.name for c in self.classes if not c.samples]
            if empty:
                raise BadRequest(f"These classes have no examples yet: {', '.join(empty)}. Add some images to "
                                 "each class, or delete the class.")
            data = [(c.name, [s.jpeg for s in c.samples]) for c in self.classes]
            self.status = "training"
            self.message = "Looking at the examples…"
            self.events = []
            self.evaluation = None
        self._thread = threading.Thread(target=self._train, args=(data, epochs, batch_size, float(learning_rate)),
                                        name="playml-studio-train", daemon=True)
        self._thread.start()

    def _train(self, data: list[tuple[str, list[bytes]]], epochs: int, batch_size: int, learning_rate: float) -> None:
        from playml.errors import PlaymlError
        from playml.images.transfer import ImageClassification

        start = time.perf_counter()
        try:
            labels = [name for name, _ in data]
            clf = ImageClassification(self.extractor, labels=labels)
            images = [jpeg for _, jpegs in data for jpeg in jpegs]
            targets = [name for name, jpegs in data for _ in jpegs]
            self._event(type="status", message=f"Looking at {len(images)} examples…")
            clf.add_images(images, targets, progress=False)
            self._event(type="start", epochs=epochs, examples=len(images))
            with self._lock:
                self.message = f"Training for {epochs} epochs…"

            def on_epoch(epoch: int, logs: dict[str, float]) -> None:
                self._event(type="epoch", epoch=int(epoch), epochs=epochs,
                            **{k: float(v) for k, v in logs.items() if isinstance(v, (int, float))})

            clf.train(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, on_epoch=on_epoch,
                      progress=False)
            evaluation = self._evaluate(clf)
            seconds = time.perf_counter() - start
            with self._lock:
                self.classifier = clf
                self.model_name = None
                self.evaluation = evaluation
                self.status = "trained"
                self.message = f"Trained in {seconds:.1f} s. Try it in the preview."
            self._event(type="done", seconds=round(seconds, 2), evaluation=evaluation)
        except PlaymlError as e:
            self._fail(str(e))
        except Exception as e:  # noqa: BLE001 - shown to the user instead of dying silently
            self._fail(f"Training failed: {type(e).__name__}: {e}")

    def _fail(self, message: str) -> None:
        with self._lock:
            self.status = "error"
            self.message = message
        self._event(type="error", message=message)

    @staticmethod
    def _evaluate(clf) -> dict[str, Any] | None:
        from playml.errors import DataError

        for part in ("validation", "training"):
            try:
                report = clf.evaluate(part=part)
            except DataError:
                continue
            return {"part": part, "accuracy": report.accuracy, "examples": report.examples,
                    "labels": [str(label) for label in report.labels],
                    "per_class": {str(k): (None if v != v else v) for k, v in report.per_class.items()},
                    "confusion": np.asarray(report.confusion).tolist()}
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a training run to end (for tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    # -- using the model --------------------------------------------------------------------
    def current(self):
        with self._lock:
            return self.classifier

    def classify(self, rgb: np.ndarray) -> list[dict[str, Any]]:
        clf = self.current()
        if clf is None:
            raise BadRequest("There is no model yet. Train one (or open a saved one) first.", 409)
        return [{"label": str(p.label), "confidence": round(p.confidence, 5)} for p in clf.classify(rgb)]

    # -- saving and opening ------------------------------------------------------------------
    def save(self, name: Any) -> Path:
        path = model_path(self.models_dir, name)
        clf = self.current()
        if clf is None:
            raise BadRequest("There is nothing to save yet: train the model first.", 409)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        clf.save(path)
        with self._lock:
            self.model_name = name
        return path

    def export_web(self, name: Any) -> Path:
        """Write the current model as an offline web page (``<name>-web`` in the models folder)."""
        path = model_path(self.models_dir, f"{name}-web" if isinstance(name, str) else name)
        clf = self.current()
        if clf is None:
            raise BadRequest("There is nothing to export yet: train the model first.", 409)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return clf.export(path, format="web")

    def saved_models(self) -> list[dict[str, Any]]:
        from playml.core.saving import read_json

        out = []
        if self.models_dir.is_dir():
            for p in sorted(self.models_dir.iterdir()):
                meta = p / "model_meta.json"
                if not p.is_dir() or not meta.exists():
                    continue
                try:
                    info = read_json(meta)
                except Exception:  # noqa: BLE001 - a broken folder is listed as such
                    out.append({"name": p.name, "kind": "unreadable", "labels": []})
                    continue
                kind = (info.get("playml") or {}).get("kind", "neural_network") if isinstance(info, dict) else "?"
                out.append({"name": p.name, "kind": kind, "labels": [str(v) for v in info.get("labels", [])]})
        return out

    def open(self, name: Any) -> None:
        from playml.errors import PlaymlError
        from playml.core.saving import load
        from playml.images.transfer import ImageClassification

        path = model_path(self.models_dir, name)
        if not path.is_dir():
            raise BadRequest(f"There is no saved model called {name!r} in {self.models_dir}.", 404)
        try:
            clf = load(path)
        except PlaymlError as e:
            raise BadRequest(f"{name!r} could not be opened: {e}") from None
        if not isinstance(clf, ImageClassification):
            raise BadRequest(f"{name!r} is not an image classifier, so the Teach page cannot open it.")
        with self._lock:
            if self.status == "training":
                raise BadRequest("Wait for the training to finish before opening another model.", 409)
            self.classifier = clf
            self.model_name = name
            self.classes = [TeachClass(next(_ids), str(label)) for label in clf.labels_]
            self.evaluation = None
            self.events = []
            self.status = "trained"
            self.message = (f"Opened {name!r}. The preview uses it now; add examples to every class to train "
                            "it again.")
