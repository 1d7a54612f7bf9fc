"""The state behind the Teach page: a :class:`playml.Project` (classes, examples, model), training, saving.

A :class:`TeachProject` holds the page's current :class:`playml.Project` — every example is
kept (images as small JPEGs) — and trains it in a worker thread when asked, recording progress
as events that the page reads as a stream. Only examples not seen before are featurised
(features are cached by content and backbone). The trained (or opened) classifier answers the
live preview. Projects are folders in the models directory: New, Open, Save and Save as
work on them; an older studio's saved model opens as a project without examples.
"""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from playml.web.security import BadRequest, model_path

__all__ = ["TeachProject", "MAX_SAMPLES"]

#: Most examples a project holds (all classes together).
MAX_SAMPLES = 3000
MAX_CLASSES = 50


def _regular(path: Path) -> bool:
    """True for a regular file (a FIFO or device would block a reader)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class TeachProject:
    """The project of the Teach page (shared by its browser tabs)."""

    def __init__(self, models_dir: str | Path, extractor=None):
        self.models_dir = Path(models_dir)
        self._extractor = extractor
        self.project = self._new_project()
        self.model_name: str | None = None  # the model or project last saved or opened
        self.status = "idle"  # idle | training | trained | error
        self.message = "Add a class for each thing to recognise, then examples of each."
        self.events: list[dict[str, Any]] = []  # training progress, read by /api/teach/events
        self.evaluation: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self.skipped = 0  # pictures of the last upload without a body (pose)

    def _new_project(self, kind: str = "image"):
        from playml.projects import Project

        return Project(kind, extractor=self._extractor if kind == "image" else None)

    @property
    def classes(self):
        return self.project.classes

    @property
    def classifier(self):
        return self.project.model

    # -- extractor (shared, loaded once) ---------------------------------------------------
    @property
    def extractor(self):
        if self._extractor is None:
            from playml.images.features import FeatureExtractor

            self._extractor = FeatureExtractor()
            if self.project.kind == "image":
                self.project._extractor = self.project._extractor or self._extractor
        return self._extractor

    def _guard(self, fn, *args):
        """Project errors in words, with the HTTP status the page should get."""
        from playml.errors import PlaymlError

        try:
            return fn(*args)
        except PlaymlError as e:
            message = str(e)
            raise BadRequest(message, 404 if message.startswith("There is no") else 400) from None

    # -- classes ----------------------------------------------------------------------------
    def add_class(self, name: Any = None):
        with self._lock:
            if len(self.classes) >= MAX_CLASSES:
                raise BadRequest(f"A project can have at most {MAX_CLASSES} classes.")
            if name is not None and not isinstance(name, str):
                raise BadRequest("Give the class a name, e.g. 'cat' or 'thumbs up'.")
            return self._guard(self.project.add_class, name)

    def _find(self, class_id: int):
        for c in self.classes:
            if c.id == class_id:
                return c
        raise BadRequest(f"There is no class number {class_id}. Reload the page.", 404)

    def rename_class(self, class_id: int, name: Any):
        with self._lock:
            self._find(class_id)
            return self._guard(self.project.rename_class, class_id, name)

    def delete_class(self, class_id: int) -> None:
        with self._lock:
            self._find(class_id)
            self.project.remove_class(class_id)

    def add_samples(self, class_id: int, images: list[Any], source: str = "upload"):
        project = self.project
        with self._lock:
            self._find(class_id)
            total = project.examples
            if total + len(images) > MAX_SAMPLES:
                raise BadRequest(
                    f"A project can hold at most {MAX_SAMPLES} examples; it has {total}. Delete some first."
                )
        from playml.errors import AudioError, InputError

        added, missed = [], []
        for img in images:  # encode (find the body) outside the lock
            try:
                added.append(project.make_example(img, source))
            except AudioError as e:
                raise BadRequest(f"This file is not a sound the studio can read ({e}). Use WAV, FLAC or OGG.") from None
            except InputError as e:
                missed.append(str(e))
        self.skipped = len(missed)
        if missed and not added:
            raise BadRequest(missed[0] if len(missed) == 1 else f"{missed[0]} (in all {len(missed)} pictures)")
        with self._lock:
            if project is not self.project:
                raise BadRequest("Another project was opened meanwhile; these examples were not added.", 409)
            self._find(class_id)
            return project.add_examples(class_id, (), examples=added)

    def sample(self, sample_id: int):
        return self._guard(self.project.example, sample_id)

    def thumbnail(self, sample_id: int) -> bytes:
        return self.project.thumbnail(self.sample(sample_id))

    def delete_sample(self, sample_id: int) -> None:
        self._guard(self.project.remove_example, sample_id)

    def clear_samples(self, class_id: int) -> None:
        with self._lock:
            self._find(class_id)
            self.project.clear_class(class_id)

    def unsaved(self) -> bool:
        """Work that would be lost: changes since the last save, with examples or a model to lose."""
        p = self.project
        return p.dirty and (p.examples > 0 or p.model is not None or p.path is not None)

    # -- state ------------------------------------------------------------------------------
    @staticmethod
    def class_dict(c) -> dict[str, Any]:
        return {
            "id": c.id,
            "name": c.name,
            "samples": [ex.id for ex in c.examples],
            "sources": [ex.source for ex in c.examples],
        }

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            p = self.project
            clf = p.model
            return {
                "kind": p.kind,
                "classes": [self.class_dict(c) for c in p.classes],
                "status": self.status,
                "message": self.message,
                "trained": clf is not None,
                "labels": [str(v) for v in clf.labels_] if clf is not None else [],
                "model_name": self.model_name,
                "project_name": p.path.name if p.path is not None else None,
                "dirty": p.dirty,
                "unsaved": self.unsaved(),
                "training": dict(p.training),
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
        if isinstance(epochs, bool) or not (isinstance(epochs, int) and 1 <= epochs <= 1000):
            raise BadRequest("Epochs must be a whole number from 1 to 1000.")
        if isinstance(batch_size, bool) or not (isinstance(batch_size, int) and 1 <= batch_size <= 1024):
            raise BadRequest("Batch size must be a whole number from 1 to 1024.")
        if isinstance(learning_rate, bool) or not (isinstance(learning_rate, (int, float)) and 0 < learning_rate <= 1):
            raise BadRequest("The learning rate must be a number above 0 and at most 1 (try 0.001).")
        with self._lock:
            if self.status == "training":
                raise BadRequest("The model is already training. Wait for it to finish.", 409)
            self._guard(self.project.check_ready)
            self.status = "training"
            self.message = "Looking at the examples…"
            self.events = []
            self.evaluation = None
            project = self.project
        if project.kind == "image":
            _ = self.extractor  # the shared backbone, loaded once
        self._thread = threading.Thread(
            target=self._train,
            args=(project, epochs, batch_size, float(learning_rate)),
            name="playml-studio-train",
            daemon=True,
        )
        self._thread.start()

    def _train(self, project, epochs: int, batch_size: int, learning_rate: float) -> None:
        from playml.errors import PlaymlError

        start = time.perf_counter()
        try:
            self._event(type="status", message=f"Looking at {project.examples} examples…")

            def on_status(message: str) -> None:
                self._event(type="status", message=message)

            def on_epoch(epoch: int, logs: dict[str, float]) -> None:
                if epoch == 1:
                    pass
                self._event(
                    type="epoch",
                    epoch=int(epoch),
                    epochs=epochs,
                    **{k: float(v) for k, v in logs.items() if isinstance(v, (int, float))},
                )

            featurise_start = time.perf_counter()
            with self._lock:
                self.message = f"Training for {epochs} epochs…"
            self._event(type="start", epochs=epochs, examples=project.examples)
            project.train(epochs, batch_size, learning_rate, on_epoch=on_epoch, on_status=on_status)
            evaluation = self._evaluate(project.model)
            seconds = time.perf_counter() - start
            with self._lock:
                self.evaluation = evaluation
                self.status = "trained"
                self.message = (
                    f"Trained in {seconds:.1f} s ({project.last_featurised} new examples looked at). "
                    "Try it in the preview."
                )
            self._event(
                type="done",
                seconds=round(seconds, 2),
                evaluation=evaluation,
                featurised=project.last_featurised,
                featurise_seconds=round(time.perf_counter() - featurise_start, 2),
            )
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

        if not hasattr(clf, "evaluate"):
            return None
        for part in ("validation", "training"):
            try:
                report = clf.evaluate(part=part)
            except DataError:
                continue
            return {
                "part": part,
                "accuracy": report.accuracy,
                "examples": report.examples,
                "labels": [str(label) for label in report.labels],
                "per_class": {str(k): (None if v != v else v) for k, v in report.per_class.items()},
                "confusion": np.asarray(report.confusion).tolist(),
            }
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a training run to end (for tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    # -- using the model --------------------------------------------------------------------
    def current(self):
        with self._lock:
            return self.project.model

    def classify(self, rgb: np.ndarray) -> list[dict[str, Any]]:
        clf = self.current()
        if clf is None:
            raise BadRequest("There is no model yet. Train one (or open a saved one) first.", 409)
        return [{"label": str(p.label), "confidence": round(p.confidence, 5)} for p in clf.classify(rgb)]

    def classify_pose(self, points: list) -> list[dict[str, Any]]:
        from playml.projects.project import pose_features

        clf = self.current()
        if clf is None:
            raise BadRequest("There is no model yet. Train one (or open a saved one) first.", 409)
        return [
            {"label": str(p.label), "confidence": round(p.confidence, 5)}
            for p in clf.classify_features(pose_features(points))
        ]

    # -- saving and opening ------------------------------------------------------------------
    def save(self, name: Any) -> Path:
        """Save the trained model alone (a normal playml model folder, e.g. to share)."""
        from playml.projects.project import _save_lock

        path = model_path(self.models_dir, name)
        clf = self.current()
        if clf is None:
            raise BadRequest("There is nothing to save yet: train the model first.", 409)
        if (path / "project.json").exists():
            raise BadRequest(f"{name!r} is a project; pick another name for the model alone.", 409)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with _save_lock(path):
            clf.save(path)
        with self._lock:
            self.model_name = name
        return path

    def save_project(self, name: Any) -> Path:
        """Save the whole project (examples, settings, model) as the folder ``name``."""
        from playml.errors import PlaymlError

        path = model_path(self.models_dir, name)
        if path.exists() and not path.is_dir():
            raise BadRequest(f"{name!r} is a file in the models folder, not a project.", 409)
        if path.is_dir() and (path / "model_meta.json").exists() and not (path / "project.json").exists():
            raise BadRequest(f"{name!r} is a saved model, not a project; pick another name.", 409)
        with self._lock:
            if self.status == "training":
                raise BadRequest("Wait for the training to finish before saving.", 409)
            project = self.project
        self.models_dir.mkdir(parents=True, exist_ok=True)
        try:
            project.save(path)
        except PlaymlError as e:
            raise BadRequest(f"The project could not be saved: {e}") from None
        with self._lock:
            self.model_name = name
            if self.status != "training":
                self.message = f"Saved the project {name!r}."
        return path

    def new_project(self, discard: bool = False, kind: Any = "image") -> None:
        from playml.projects import KINDS

        if kind not in KINDS:
            raise BadRequest("A new project is an 'image', a 'pose' or a 'sound' project.")
        with self._lock:
            if self.status == "training":
                raise BadRequest("Wait for the training to finish first.", 409)
            if self.unsaved() and not discard:
                raise BadRequest("This project has unsaved changes. Save it first, or confirm to discard them.", 409)
            self.project = self._new_project(kind)
            if kind == "sound":
                from playml.projects.project import BACKGROUND_CLASS

                self.project.add_class(BACKGROUND_CLASS)  # suggested first, as in Teachable Machine
            else:
                self.project.add_class()
            self.project.add_class()
            self.project.dirty = False
            self.model_name = None
            self.evaluation = None
            self.events = []
            self.status = "idle"
            self.message = "A new project: add a class for each thing to recognise, then examples of each."

    def export_web(self, name: Any) -> Path:
        """Write the current model as an offline web page (``<name>-web`` in the models folder)."""
        path = model_path(self.models_dir, f"{name}-web" if isinstance(name, str) else name)
        clf = self.current()
        if clf is None:
            raise BadRequest("There is nothing to export yet: train the model first.", 409)
        if not hasattr(clf, "export"):
            raise BadRequest(
                "Export for the web works for image projects; this project's model cannot be exported yet.", 409
            )
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return clf.export(path, format="web")

    def saved_models(self) -> list[dict[str, Any]]:
        """Projects and models in the models folder (special files are skipped, never read)."""
        from playml.core.saving import read_json, tidy_folder

        out = []
        if self.models_dir.is_dir():
            tidy_folder(self.models_dir)  # puts back a model an interrupted save left aside
            for p in sorted(self.models_dir.iterdir()):
                if p.name.startswith(".") or not p.is_dir():
                    continue
                meta = p / "model_meta.json"
                project_file = p / "project.json"
                if not _regular(meta):
                    continue
                try:
                    info = read_json(meta)
                    if not isinstance(info, dict):
                        raise ValueError
                    kind = (info.get("playml") or {}).get("kind", "neural_network")
                    entry = {"name": p.name, "kind": kind, "labels": [str(v) for v in info.get("labels", [])]}
                    if kind == "teach_project":
                        if not _regular(project_file):
                            raise ValueError
                        pinfo = read_json(project_file)
                        entry.update(
                            project=pinfo.get("kind", "image"),
                            saved_at=pinfo.get("saved_at"),
                            labels=[c.get("name") for c in pinfo.get("classes", [])],
                            examples=sum(len(c.get("examples", [])) for c in pinfo.get("classes", [])),
                            trained=bool(pinfo.get("model")),
                        )
                except Exception:  # noqa: BLE001 - a broken folder is listed as such
                    entry = {"name": p.name, "kind": "unreadable", "labels": []}
                out.append(entry)
        return out

    def open(self, name: Any, discard: bool = True) -> None:
        from playml.errors import PlaymlError
        from playml.projects import load_project

        path = model_path(self.models_dir, name)
        if not path.is_dir():
            raise BadRequest(f"There is no saved project or model called {name!r} in {self.models_dir}.", 404)
        with self._lock:
            if self.status == "training":
                raise BadRequest("Wait for the training to finish before opening another project.", 409)
            if self.unsaved() and not discard:
                raise BadRequest("This project has unsaved changes. Save it first, or confirm to discard them.", 409)
        try:
            project = load_project(path, extractor=self._extractor)
        except PlaymlError as e:
            raise BadRequest(f"{name!r} could not be opened: {e}") from None
        if project.model is not None and not hasattr(project.model, "labels_"):
            raise BadRequest(f"{name!r} is not an image classifier, so the Teach page cannot open it.")
        if self._extractor is None and project._extractor is not None:
            self._extractor = project._extractor
        with self._lock:
            self.project = project
            self.model_name = name
            self.evaluation = None
            self.events = []
            self.status = "trained" if project.model is not None else "idle"
            if project.examples:
                self.message = f"Opened {name!r} with {project.examples} examples."
            elif project.model is not None:
                self.message = (
                    f"Opened {name!r}. The preview uses it now; add examples to every class to train it again."
                )
            else:
                self.message = f"Opened {name!r}."
            if (path / "project.json").exists():
                project.path = path
            else:
                project.path = None  # an old model folder: Save writes a project under a new name
