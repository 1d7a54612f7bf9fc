"""A Teachable Machine project kept whole: classes, examples, settings, features and model.

A project is a folder::

    my-project/
      model_meta.json        {"playml": {"kind": "teach_project", "version": 1}}  (so ml.load opens it)
      project.json           the classes, their examples (files), the training settings, the format version
      examples/<hash>.jpg    every example, named by its content (images as JPEG, sounds as WAV,
                             poses as keypoint JSON)
      thumbnails/<hash>.jpg  small pictures for the studio
      features/<backbone>.json + .f32   feature vectors already computed, by content and backbone
      model/                 the trained classifier (a normal playml model folder), when there is one

Features are cached per example (by the SHA-256 of its file and the backbone), so training
again after adding ten examples only featurises those ten. Saving writes a new folder next
to the old one and swaps it in (:func:`playml.core.saving.save_directory`); two saves of one
folder at the same time take turns.

>>> import playml as ml
>>> project = ml.Project("image")                                           # doctest: +SKIP
>>> project.classifier.add_images(["a.jpg", "b.jpg"], ["cat", "dog"])       # doctest: +SKIP
>>> history = project.train(epochs=20)                                      # doctest: +SKIP
>>> project.save("pets")                                                    # doctest: +SKIP
>>> ml.load_project("pets").classify("c.jpg")                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playml.errors import DataError, FormatError, InputError, MissingFileError, PlaymlError, not_trained

if TYPE_CHECKING:  # pragma: no cover
    from playml.core.training import History

__all__ = [
    "Project",
    "ProjectClass",
    "Example",
    "project",
    "load_project",
    "FORMAT_VERSION",
    "KINDS",
    "SAMPLE_SIDE",
    "THUMB_SIDE",
]

#: Version of ``project.json`` (a newer one is refused with a FormatError).
FORMAT_VERSION = 1
#: Kinds of project (Teachable Machine's three).
KINDS = ("image", "pose", "sound")
#: Image examples are kept with their shorter side at most this long (the backbone sees 224 pixels).
SAMPLE_SIDE = 256
THUMB_SIDE = 96
PROJECT_FILE = "project.json"
_EXT = {"image": ".jpg", "pose": ".json", "sound": ".wav"}
_ids = itertools.count(1)
_save_locks: dict[str, threading.Lock] = {}
_save_locks_guard = threading.Lock()


def _save_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _save_locks_guard:
        return _save_locks.setdefault(key, threading.Lock())


def _jpeg(img, side: int, quality: int = 90) -> bytes:
    from PIL import Image

    scale = side / min(img.size)
    if scale < 1:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BILINEAR
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(eq=False)
class Example:
    """One example: its file's bytes (JPEG, WAV or keypoint JSON), content hash and where it came from."""

    data: bytes
    source: str = "python"  # "webcam", "upload", "microphone", "python"
    thumbnail: bytes | None = None
    id: int = field(default_factory=lambda: next(_ids))
    hash: str = ""

    def __post_init__(self) -> None:
        if not self.hash:
            self.hash = _digest(self.data)

    def __repr__(self) -> str:
        return f"Example(id={self.id}, hash={self.hash[:12]!r}, source={self.source!r}, bytes={len(self.data)})"


@dataclass(eq=False)
class ProjectClass:
    """A class of the project: its name and its examples."""

    name: str
    examples: list[Example] = field(default_factory=list)
    id: int = field(default_factory=lambda: next(_ids))

    def __repr__(self) -> str:
        return f"ProjectClass(name={self.name!r}, examples={len(self.examples)})"


class _ImageKind:
    """Image examples: JPEGs featurised by a pretrained backbone, an ImageClassification head."""

    def __init__(self, project: Project):
        self.project = project

    def backbone_name(self) -> str:
        return self.project.extractor.spec.name

    def example(self, item: Any, source: str) -> Example:
        from playml.core.media import load_pil

        img = load_pil(item)
        data = _jpeg(img, SAMPLE_SIDE)
        return Example(data, source=source, thumbnail=_jpeg(img, THUMB_SIDE, 80))

    def thumbnail(self, ex: Example) -> bytes:
        from playml.core.media import load_pil

        return _jpeg(load_pil(ex.data), THUMB_SIDE, 80)

    def featurise(self, examples: list[Example]) -> np.ndarray:
        return self.project.extractor.features([ex.data for ex in examples], progress=False).reshape(len(examples), -1)

    def new_model(self, labels: list[str]):
        import playml as ml

        return ml.ImageClassification(self.project.extractor, labels=labels, seed=self.project.seed)

    def classify(self, model, item: Any, top_k: int | None):
        return model.classify(item, top_k=top_k)


#: Body keypoints are turned into these features (see :func:`pose_features`).
POSE_FEATURES = "pose-keypoints-v1"
_pose_lock = threading.Lock()
_pose_task: list = []


def _body_pose():
    """One shared still-image body pose model (loaded on first use)."""
    with _pose_lock:
        if not _pose_task:
            import playml as ml

            _pose_task.append(ml.body_pose())
        return _pose_task[0]


def pose_features(points: Any) -> np.ndarray:
    """33 body keypoints ``[[x, y, confidence], …]`` (pixels) → 99 numbers that do not depend
    on where the person stands or how big they are: positions relative to the middle of the
    hips (or of the seen points), divided by the body's size, and each point's confidence."""
    arr = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    if arr.shape[0] != 33:
        raise InputError(f"A body pose has 33 keypoints; got {arr.shape[0]}.")
    seen = arr[:, 2] >= 0.3
    if seen[23] and seen[24]:
        centre = arr[[23, 24], :2].mean(axis=0)
    else:
        centre = arr[seen, :2].mean(axis=0) if seen.any() else arr[:, :2].mean(axis=0)
    rel = arr[:, :2] - centre
    size = float(np.linalg.norm(rel[seen] if seen.any() else rel, axis=1).max()) or 1.0
    return np.concatenate([rel / size, arr[:, 2:3]], axis=1).reshape(-1).astype(np.float32)


def _pose_points(item: Any) -> tuple[dict[str, Any], Any]:
    """A pose example's keypoints (and the picture, when there is one) from what was given:
    ``{"width", "height", "points"}``, a :class:`playml.bodies.landmarks.Pose`, or an image."""
    if isinstance(item, (bytes, bytearray)) and item[:1] == b"{":
        item = json.loads(bytes(item).decode())
    if isinstance(item, dict) and "points" in item:
        points = [[round(float(v), 2) for v in p[:3]] for p in item["points"]]
        pose_features(points)
        return {"width": int(item.get("width", 0)), "height": int(item.get("height", 0)), "points": points}, None
    if hasattr(item, "keypoints") and hasattr(item, "box"):
        points = [
            [round(float(k.x), 2), round(float(k.y), 2), round(float(k.confidence or 0), 3)] for k in item.keypoints
        ]
        return {"width": 0, "height": 0, "points": points}, None
    from playml.core.media import load_image

    rgb = load_image(item)
    found = _body_pose().detect(rgb)
    if not found:
        raise InputError("No body was found in this picture: step back so the camera sees you.")
    pose = found[0]
    points = [[round(float(k.x), 2), round(float(k.y), 2), round(float(k.confidence or 0), 3)] for k in pose.keypoints]
    return {"width": int(rgb.shape[1]), "height": int(rgb.shape[0]), "points": points}, rgb


def _skeleton_thumbnail(keypoints: dict[str, Any], rgb: Any = None) -> bytes:
    from PIL import Image, ImageDraw

    import playml as ml

    pts = np.asarray(keypoints["points"], dtype=np.float32)
    if rgb is not None:
        img = Image.fromarray(rgb)
    else:
        w = int(keypoints.get("width") or 0) or int(pts[:, 0].max() * 1.1 + 10)
        h = int(keypoints.get("height") or 0) or int(pts[:, 1].max() * 1.1 + 10)
        img = Image.new("RGB", (max(w, 16), max(h, 16)), (240, 242, 246))
    draw = ImageDraw.Draw(img)
    names = ml.body_pose().keypoint_names()
    index = {n: i for i, n in enumerate(names)}
    width = max(2, img.width // 80)
    for a, b in ml.body_pose().connections():
        p, q = pts[index[a]], pts[index[b]]
        if p[2] >= 0.3 and q[2] >= 0.3:
            draw.line([(p[0], p[1]), (q[0], q[1])], fill=(0, 208, 132), width=width)
    for p in pts:
        if p[2] >= 0.3:
            draw.ellipse(
                [p[0] - width * 1.5, p[1] - width * 1.5, p[0] + width * 1.5, p[1] + width * 1.5], fill=(255, 255, 255)
            )
    return _jpeg(img, THUMB_SIDE, 80)


class PoseHead:
    """The classifier of a pose project: a small network (:class:`playml.NeuralNetwork`) on
    :func:`pose_features`; ``classify`` takes a picture, a Pose or keypoints."""

    def __init__(self, labels: Sequence[str], seed: int | None = None, network: Any = None):
        import playml as ml

        self.labels = list(labels)
        self.network = network or ml.neural_network(task="classification", seed=seed)
        self._rows: list[tuple[np.ndarray, str]] = []

    @property
    def labels_(self) -> list[str]:
        return list(self.network.labels) if self.network.model_ is not None else list(self.labels)

    def __repr__(self) -> str:
        return f"PoseHead(labels={self.labels_!r})"

    def add_features(self, features: np.ndarray, targets: Sequence[str]) -> None:
        for row, label in zip(np.asarray(features, dtype=np.float32), targets):
            self.network.add_data(row, [str(label)])

    def train(
        self,
        epochs: int = 50,
        batch_size: int = 16,
        learning_rate: float = 0.001,
        *,
        on_epoch=None,
        progress: bool = False,
    ):
        return self.network.train(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            on_epoch=on_epoch,
            progress=progress,
            validation_split=0.0,
        )

    def classify_features(self, features: np.ndarray, top_k: int | None = None):
        predictions = self.network.classify(np.asarray(features, dtype=np.float32))
        return predictions[:top_k] if top_k else predictions

    def classify(self, item: Any, top_k: int | None = None):
        keypoints, _ = _pose_points(item)
        return self.classify_features(pose_features(keypoints["points"]), top_k)

    def save(self, path: str | os.PathLike) -> Path:
        return self.network.save(path)


class _PoseKind:
    """Pose examples: 33 body keypoints as JSON, classified by a small network on their positions."""

    def __init__(self, project: Project):
        self.project = project

    def backbone_name(self) -> str:
        return POSE_FEATURES

    def example(self, item: Any, source: str) -> Example:
        keypoints, rgb = _pose_points(item)
        data = json.dumps(keypoints, separators=(",", ":"), sort_keys=True).encode()
        return Example(data, source=source, thumbnail=_skeleton_thumbnail(keypoints, rgb))

    def thumbnail(self, ex: Example) -> bytes:
        return _skeleton_thumbnail(json.loads(ex.data))

    def featurise(self, examples: list[Example]) -> np.ndarray:
        return np.stack([pose_features(json.loads(ex.data)["points"]) for ex in examples])

    def new_model(self, labels: list[str]):
        return PoseHead(labels, seed=self.project.seed)

    def classify(self, model, item: Any, top_k: int | None):
        return model.classify(item, top_k=top_k)


SOUND_RATE = 16_000
#: The class a new sound project starts with (Teachable Machine's audio projects do the same).
BACKGROUND_CLASS = "Background noise"


def _wav_bytes(samples: np.ndarray, rate: int = SOUND_RATE) -> bytes:
    import wave

    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _spectrogram_thumbnail(samples: np.ndarray) -> bytes:
    """A small picture of the sound: log-magnitude spectrogram, low notes at the bottom."""
    from PIL import Image

    n, hop = 256, 128
    x = np.asarray(samples, dtype=np.float32)
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop] * np.hanning(n).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames, axis=1))[:, :96]
    db = 20 * np.log10(mag + 1e-6)
    img = np.clip((db + 40) / 80, 0, 1)  # -40 dB … +40 dB
    rgb = np.stack([img * 255, img**0.5 * 200, (1 - img) * 90 + img * 60], axis=-1).astype(np.uint8)
    pic = Image.fromarray(np.ascontiguousarray(rgb.transpose(1, 0, 2)[::-1])).resize((THUMB_SIDE, THUMB_SIDE))
    return _jpeg(pic, THUMB_SIDE, 85)


class _SoundKind:
    """Sound examples: 16 kHz mono WAV clips, the speech embedding's 192 numbers, a SoundClassifier head."""

    def __init__(self, project: Project):
        self.project = project
        self._embedding = None

    def backbone_name(self) -> str:
        return "speech-embedding"

    def embedding(self):
        if self._embedding is None:
            import playml as ml

            self._embedding = ml.sound_classifier().embedding
        return self._embedding

    @staticmethod
    def samples(item: Any) -> np.ndarray:
        from playml.core.audio import load_audio

        samples, _ = load_audio(item, target_rate=SOUND_RATE, what="sound")
        return samples

    def example(self, item: Any, source: str) -> Example:
        samples = self.samples(item)
        if len(samples) > 10 * SOUND_RATE:
            raise InputError("A sound example can be at most 10 seconds long; cut long recordings into clips.")
        return Example(_wav_bytes(samples), source=source, thumbnail=_spectrogram_thumbnail(samples))

    def thumbnail(self, ex: Example) -> bytes:
        return _spectrogram_thumbnail(self.samples(ex.data))

    def featurise(self, examples: list[Example]) -> np.ndarray:
        emb = self.embedding()
        return np.stack([emb.features(self.samples(ex.data)) for ex in examples])

    def new_model(self, labels: list[str]):
        import playml as ml

        return ml.sound_classifier(seed=self.project.seed)

    def classify(self, model, item: Any, top_k: int | None):
        return model.classify(item, top_k=top_k)


class Project:
    """A Teachable Machine project: ``kind`` is ``"image"`` (webcam pictures and photos) or
    ``"pose"`` (body poses: 33 keypoints per example, found by :func:`playml.body_pose`) or
    ``"sound"`` (clips from the microphone or files, as 16 kHz WAV; start with a class of
    background noise, :data:`BACKGROUND_CLASS`).

    Classes keep every example (``project.classes[i].examples``); :meth:`train` featurises
    only examples it has not seen with this backbone before, then trains a fresh head;
    :meth:`save` writes the whole project as a folder that the studio opens, and
    :func:`load_project` (or ``ml.load``) opens it again. ``project.classifier`` adds
    examples and trains like an :class:`playml.ImageClassification` does.
    """

    FORMAT_VERSION = FORMAT_VERSION

    def __init__(
        self,
        kind: str = "image",
        *,
        name: str | None = None,
        extractor: Any = None,
        backbone: str | None = None,
        epochs: int = 50,
        batch_size: int = 16,
        learning_rate: float | None = None,
        seed: int | None = None,
    ):
        from playml.errors import unknown_name

        if kind not in KINDS:
            raise unknown_name("project kind", kind, KINDS)
        self.kind = kind
        self.name = name
        self.path: Path | None = None
        self.classes: list[ProjectClass] = []
        if learning_rate is None:  # Teachable Machine's 0.001 for image features; poses have few numbers
            learning_rate = 0.001 if kind == "image" else 0.01
        self.training = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate}
        self.seed = seed
        self.model = None  # the trained classifier (e.g. ImageClassification)
        self.history_ = None
        self.dirty = False  # changed since it was last saved or opened
        self.last_featurised = 0  # examples the last train() had to featurise
        self._extractor = extractor
        self._backbone = backbone
        self._features: dict[str, dict[str, np.ndarray]] = {}  # backbone -> content hash -> vector
        self._lock = threading.RLock()
        self._kind: Any = {"image": _ImageKind, "pose": _PoseKind, "sound": _SoundKind}[kind](self)

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        counts = ", ".join(f"{c.name}: {len(c.examples)}" for c in self.classes)
        return (
            f"Project(kind={self.kind!r}, name={self.name!r}, classes={{{counts}}}, trained={self.model is not None})"
        )

    @property
    def extractor(self):
        """The image backbone (loaded on first use)."""
        if self._extractor is None:
            import playml as ml

            self._extractor = ml.FeatureExtractor(self._backbone) if self._backbone else ml.FeatureExtractor()
        return self._extractor

    @property
    def backbone(self) -> str:
        if self.kind != "image":
            return self._kind.backbone_name()
        if self._extractor is None and self._backbone:
            return self._backbone
        return self._kind.backbone_name()

    @property
    def labels(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def examples(self) -> int:
        return sum(len(c.examples) for c in self.classes)

    def counts(self) -> dict[str, int]:
        return {c.name: len(c.examples) for c in self.classes}

    @property
    def trained(self) -> bool:
        return self.model is not None

    @property
    def classifier(self) -> ProjectClassifier:
        """Add examples, train and classify like :class:`playml.ImageClassification`; the
        examples are kept in the project (so :meth:`save` keeps them)."""
        return ProjectClassifier(self)

    # ------------------------------------------------------------------ classes
    def _check_name(self, name: Any, skip: ProjectClass | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise InputError("Give the class a name, e.g. 'cat' or 'thumbs up'.")
        name = " ".join(name.split())
        if len(name) > 60:
            raise InputError("A class name can be at most 60 characters long.")
        if any(c.name == name and c is not skip for c in self.classes):
            raise InputError(f"There is already a class called {name!r}. Pick another name.")
        return name

    def find_class(self, key: int | str) -> ProjectClass:
        for c in self.classes:
            if c.id == key or c.name == key:
                return c
        raise InputError(f"There is no class {key!r}; the classes are {self.labels}.")

    def add_class(self, name: str | None = None) -> ProjectClass:
        with self._lock:
            if name is None:
                n = len(self.classes) + 1
                while any(c.name == f"Class {n}" for c in self.classes):
                    n += 1
                name = f"Class {n}"
            c = ProjectClass(self._check_name(name))
            self.classes.append(c)
            self.dirty = True
            return c

    def rename_class(self, key: int | str, name: str) -> ProjectClass:
        with self._lock:
            c = self.find_class(key)
            new = self._check_name(name, skip=c)
            if new != c.name:
                c.name = new
                self.dirty = True
            return c

    def remove_class(self, key: int | str) -> None:
        with self._lock:
            self.classes.remove(self.find_class(key))
            self.dirty = True

    def _class_for(self, label: Any) -> ProjectClass:
        label = str(label) if not isinstance(label, str) else label
        for c in self.classes:
            if c.name == " ".join(label.split()):
                return c
        return self.add_class(label)

    # ------------------------------------------------------------------ examples
    def make_example(self, item: Any, source: str = "python") -> Example:
        """An :class:`Example` from one input (image-like for image projects); not added yet."""
        return self._kind.example(item, source)

    def add_examples(
        self,
        label: int | str,
        items: Sequence[Any] | Any,
        *,
        source: str = "python",
        examples: Sequence[Example] | None = None,
    ) -> list[Example]:
        """Add examples to a class (made if it does not exist yet): a list of inputs, or
        ready :class:`Example` objects (``examples=``). Returns the added examples."""
        if examples is None:
            from playml.core.media import is_many, iter_many

            if self.kind == "sound":
                items = list(items) if isinstance(items, list) else [items]
            else:
                items = list(iter_many(items)) if is_many(items) else [items]
            examples = [self.make_example(item, source) for item in items]
        with self._lock:
            c = self.find_class(label) if isinstance(label, int) else self._class_for(label)
            c.examples.extend(examples)
            if examples:
                self.dirty = True
        return list(examples)

    def example(self, example_id: int) -> Example:
        with self._lock:
            for c in self.classes:
                for ex in c.examples:
                    if ex.id == example_id:
                        return ex
        raise InputError(f"There is no example number {example_id}.")

    def thumbnail(self, ex: Example) -> bytes:
        if ex.thumbnail is None:
            ex.thumbnail = self._kind.thumbnail(ex)
        return ex.thumbnail

    def remove_example(self, example_id: int) -> None:
        with self._lock:
            for c in self.classes:
                for ex in c.examples:
                    if ex.id == example_id:
                        c.examples.remove(ex)
                        self.dirty = True
                        return
        raise InputError(f"There is no example number {example_id}.")

    def clear_class(self, key: int | str) -> None:
        with self._lock:
            c = self.find_class(key)
            if c.examples:
                c.examples.clear()
                self.dirty = True

    # ------------------------------------------------------------------ training
    def features(self, examples: Sequence[Example], on_status: Callable[[str], Any] | None = None) -> np.ndarray:
        """Feature vectors of ``examples``: cached ones are reused, only new content is featurised."""
        backbone = self.backbone
        with self._lock:
            cache = self._features.setdefault(backbone, {})
            todo: dict[str, Example] = {}
            for ex in examples:
                if ex.hash not in cache and ex.hash not in todo:
                    todo[ex.hash] = ex
        self.last_featurised = len(todo)
        if todo:
            if on_status:
                on_status(f"Looking at {len(todo)} new example{'s' if len(todo) != 1 else ''}…")
            new = self._kind.featurise(list(todo.values()))
            with self._lock:
                for h, vec in zip(todo, new):
                    cache[h] = np.asarray(vec, dtype=np.float32)
        with self._lock:
            if not examples:
                return np.zeros((0, 0), np.float32)
            return np.stack([cache[ex.hash] for ex in examples])

    def check_ready(self) -> None:
        if len(self.classes) < 2:
            raise DataError("Training needs at least 2 classes. Add another class.")
        empty = [c.name for c in self.classes if not c.examples]
        if empty:
            raise DataError(
                f"These classes have no examples yet: {', '.join(empty)}. Add some examples to each "
                "class, or delete the class."
            )

    def train(
        self,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        *,
        on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
        on_status: Callable[[str], Any] | None = None,
        progress: bool = False,
    ) -> History:
        """Train a fresh classifier on every example (only new ones are featurised) and
        return its :class:`playml.History`. Settings not given come from ``project.training``
        (and are remembered)."""
        for key, value in (("epochs", epochs), ("batch_size", batch_size), ("learning_rate", learning_rate)):
            if value is not None:
                self.training[key] = value
        with self._lock:
            self.check_ready()
            labels = self.labels
            examples = [ex for c in self.classes for ex in c.examples]
            targets = [c.name for c in self.classes for _ in c.examples]
        feats = self.features(examples, on_status)
        model = self._kind.new_model(labels)
        model.add_features(feats, targets)
        history = model.train(
            epochs=int(self.training["epochs"]),
            batch_size=int(self.training["batch_size"]),
            learning_rate=float(self.training["learning_rate"]),
            on_epoch=on_epoch,
            progress=progress,
        )
        with self._lock:
            self.model = model
            self.history_ = history
            self.dirty = True
        return history

    def classify(self, item: Any, *, top_k: int | None = None):
        """Classify with the trained model (one input → one list of predictions)."""
        model = self.model
        if model is None:
            raise not_trained(
                f"{self.kind} project",
                "classify",
                "Add examples to two classes or more and call "
                "project.train(), or open a trained project with ml.load_project(...).",
            )
        return self._kind.classify(model, item, top_k)

    # ------------------------------------------------------------------ saving
    def _project_json(self, files: dict[str, str], saved_at: str) -> dict[str, Any]:
        import playml

        return {
            "format": "playml-project",
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "name": self.name,
            "playml_version": playml.__version__,
            "saved_at": saved_at,
            "backbone": self.backbone,
            "training": dict(self.training),
            "classes": [
                {
                    "name": c.name,
                    "examples": [
                        {
                            "file": files[ex.hash],
                            "hash": ex.hash,
                            "source": ex.source,
                            "thumbnail": f"thumbnails/{ex.hash}.jpg",
                        }
                        for ex in c.examples
                    ],
                }
                for c in self.classes
            ],
            "model": "model" if self.model is not None else None,
        }

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Save the whole project as the folder ``path`` (by default where it was opened
        from or last saved). Returns the folder."""
        from playml.core.saving import save_directory

        if path is None:
            if self.path is None:
                raise InputError("Give a folder to save the project in: project.save('my-project').")
            path = self.path
        path = Path(path)
        if path.exists() and path.is_dir() and any(path.iterdir()) and not (path / PROJECT_FILE).exists():
            raise FormatError(
                f"{path} is a folder that is not a playml project; saving there would replace it. Pick another name."
            )
        with _save_lock(path):
            with self._lock:
                classes = [(c.name, list(c.examples)) for c in self.classes]
                model = self.model
                backbone = (
                    self.backbone if (self.kind != "image" or self._extractor is not None or self._backbone) else None
                )
                cache = dict(self._features.get(backbone, {})) if backbone else {}
            unique: dict[str, Example] = {ex.hash: ex for _, exs in classes for ex in exs}
            ext = _EXT[self.kind]
            names = {h: f"examples/{h}{ext}" for h in unique}
            saved_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            files: dict[str, Any] = {
                "model_meta.json": {
                    "playml": {"kind": "teach_project", "version": FORMAT_VERSION},
                    "project": PROJECT_FILE,
                    "labels": [n for n, _ in classes],
                }
            }
            old = path if (path / PROJECT_FILE).exists() else None
            for h, ex in unique.items():
                files[names[h]] = _linker(old, names[h], ex.data)
                files[f"thumbnails/{h}.jpg"] = _linker(old, f"thumbnails/{h}.jpg", self.thumbnail(ex))
            kept = [h for h in unique if h in cache]
            if kept and backbone:
                safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in backbone)
                matrix = np.stack([cache[h] for h in kept]).astype("<f4")
                files[f"features/{safe}.json"] = {
                    "backbone": backbone,
                    "dim": int(matrix.shape[1]),
                    "hashes": kept,
                    "file": f"{safe}.f32",
                }
                files[f"features/{safe}.f32"] = matrix.tobytes()
            tmp = None
            try:
                if model is not None:
                    tmp = Path(tempfile.mkdtemp(prefix=".playml-project-model."))
                    model.save(tmp / "model")
                    for p in sorted((tmp / "model").rglob("*")):
                        if p.is_file():
                            files[f"model/{p.relative_to(tmp / 'model').as_posix()}"] = p.read_bytes()
                files[PROJECT_FILE] = self._project_json(names, saved_at)
                save_directory(path, files)
            finally:
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
        with self._lock:
            self.path = path
            if self.name is None:
                self.name = path.name
            self.dirty = False
        return path

    @classmethod
    def _from_directory(cls, path: Path, meta: dict[str, Any] | None = None) -> Project:
        return load_project(path)


def _linker(old: Path | None, name: str, data: bytes):
    """Content named by its hash does not change: link it from the old folder when it is there."""
    source = old / name if old is not None else None

    def write(target: Path) -> None:
        if source is not None and source.is_file():
            try:
                os.link(source, target)
                return
            except OSError:
                pass
        target.write_bytes(data)

    return write


def _read_regular(path: Path, what: str) -> bytes:
    """The bytes of a regular file (a FIFO or device would block: refused)."""
    import stat

    try:
        st = path.stat()
    except FileNotFoundError:
        raise MissingFileError(f"The {what} {path.name} is missing from {path.parent}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise FormatError(f"{path} is not a regular file.")
    return path.read_bytes()


def project(kind: str = "image", **options: Any) -> Project:
    """A new, empty :class:`Project`: ``ml.project("image")``, ``ml.project("pose")`` or
    ``ml.project("sound")`` (options: ``name``, ``epochs``, ``batch_size``, ``learning_rate``,
    ``seed``; ``backbone`` or ``extractor`` for images). Nothing loads until it is used."""
    return Project(kind, **options)


def load_project(path: str | os.PathLike, *, extractor: Any = None) -> Project:
    """Open a project folder saved by the studio or by :meth:`Project.save`.

    A plain model folder (what older versions of the studio saved) opens as a project with
    its classes and model but no examples.

    >>> project = ml.load_project("pets")          # doctest: +SKIP
    >>> project.classifier.add_images("more-pets/"); project.train(); project.save()   # doctest: +SKIP
    """
    from playml.core.saving import load, read_json

    path = Path(path)
    if path.is_file() and path.name in (PROJECT_FILE, "model_meta.json"):
        path = path.parent
    if not path.is_dir():
        raise MissingFileError(f"There is no project at {path}. A project is a folder with a {PROJECT_FILE}.")
    if not (path / PROJECT_FILE).exists():
        if (path / "model_meta.json").exists():  # an older studio saved only the model
            model = load(path)
            if not hasattr(model, "labels_") or not hasattr(model, "extractor"):
                raise FormatError(
                    f"{path} holds a {type(model).__name__}, not an image classifier, so it cannot open as a project."
                )
            project = Project("image", name=path.name, extractor=model.extractor)
            for label in model.labels_:
                project.add_class(str(label))
            project.model = model
            project.dirty = False
            return project
        raise FormatError(f"{path} has no {PROJECT_FILE}, so it is not a playml project folder.")
    info = read_json(path / PROJECT_FILE, "project description")
    if not isinstance(info, dict) or info.get("format") != "playml-project":
        raise FormatError(f"{path / PROJECT_FILE} is not a playml project description.")
    version = info.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FormatError(
            f"{path} was saved by a newer playml (project format {version}; this playml reads up to "
            f"{FORMAT_VERSION}). Upgrade playml to open it."
        )
    kind = info.get("kind", "image")
    training: dict[str, Any] = info["training"] if isinstance(info.get("training"), dict) else {}
    backbone = info.get("backbone")
    if extractor is not None and backbone and extractor.spec.name != backbone:
        extractor = None  # the project's own backbone wins
    if kind not in KINDS:
        raise FormatError(f"{path / PROJECT_FILE} names an unknown kind of project {kind!r}.")
    project = Project(
        kind,
        name=info.get("name") or path.name,
        extractor=extractor if kind == "image" else None,
        backbone=backbone if extractor is None and kind == "image" else None,
        **{k: training[k] for k in ("epochs", "batch_size", "learning_rate") if k in training},
    )
    root = path.resolve()
    for entry in info.get("classes") or []:
        c = project.add_class(entry.get("name"))
        for item in entry.get("examples") or []:
            rel = item.get("file") if isinstance(item, dict) else None
            if not isinstance(rel, str):
                raise FormatError(f"{path / PROJECT_FILE}: an example of {c.name!r} names no file.")
            target = (path / rel).resolve()
            if root not in target.parents:
                raise FormatError(f"{path / PROJECT_FILE}: the example {rel!r} points outside the project folder.")
            data = _read_regular(target, "example")
            thumb = None
            t = item.get("thumbnail")
            if isinstance(t, str) and (path / t).resolve().parent.parent == root and (path / t).is_file():
                thumb = (path / t).read_bytes()
            c.examples.append(Example(data, source=str(item.get("source", "python")), thumbnail=thumb))
    for meta_file in sorted((path / "features").glob("*.json")) if (path / "features").is_dir() else []:
        try:
            meta = read_json(meta_file)
            raw = _read_regular(meta_file.with_name(meta["file"]), "feature file")
            matrix = np.frombuffer(raw, dtype="<f4").reshape(len(meta["hashes"]), int(meta["dim"]))
        except (PlaymlError, KeyError, ValueError, TypeError):
            continue  # a broken cache only costs time
        project._features[str(meta["backbone"])] = {h: matrix[i].copy() for i, h in enumerate(meta["hashes"])}
    if info.get("model") and (path / str(info["model"]) / "model_meta.json").exists():
        model_dir = path / str(info["model"])
        if (model_dir.resolve()).parent != root:
            raise FormatError(f"{path / PROJECT_FILE}: the model folder points outside the project.")
        model = load(model_dir)
        if kind == "pose":
            model = PoseHead([c.name for c in project.classes], network=model)
        if project._extractor is None and getattr(model, "extractor", None) is not None:
            project._extractor = model.extractor
        project.model = model
    project.path = path
    project.dirty = False
    return project


class ProjectClassifier:
    """``project.classifier``: the :class:`playml.ImageClassification` way of adding examples
    and training, with the examples kept in the project."""

    def __init__(self, project: Project):
        self.project = project

    def __repr__(self) -> str:
        return f"ProjectClassifier({self.project!r})"

    @property
    def labels(self) -> list[str]:
        return self.project.labels

    @property
    def labels_(self) -> list | None:
        m = self.project.model
        return list(m.labels_) if m is not None else None

    @property
    def examples(self) -> int:
        return self.project.examples

    @property
    def trained(self) -> bool:
        return self.project.trained

    def counts(self) -> dict[str, int]:
        return self.project.counts()

    def add_image(self, image: Any, label: Any) -> ProjectClassifier:
        self.project.add_examples(str(label), [image])
        return self

    def add_sound(self, audio: Any, label: Any) -> ProjectClassifier:
        """One sound example (a WAV/FLAC/OGG file, its bytes, or ``(samples, sample_rate)``)."""
        self.project.add_examples(str(label), [audio])
        return self

    def add_sounds(self, sounds: list, label: Any) -> ProjectClassifier:
        self.project.add_examples(str(label), list(sounds))
        return self

    def add_images(self, images: Any, labels: Any = None, *, progress: bool | None = None) -> ProjectClassifier:
        """A folder with one sub-folder per label, or a list of images with one label per
        image (or one label for all)."""
        from playml.core.media import is_many, iter_many, list_images

        if isinstance(images, (str, os.PathLike)) and Path(images).is_dir() and labels is None:
            root = Path(images)
            folders = sorted(p for p in root.iterdir() if p.is_dir())
            if not folders:
                raise InputError(f"{root} has no sub-folders: give the label too, add_images(folder, 'cat').")
            for folder in folders:
                files = list_images(folder)
                if files:
                    self.project.add_examples(folder.name, files)
            return self
        items = list(iter_many(images)) if is_many(images) else [images]
        if labels is None:
            raise InputError(
                "Give the labels too: add_images(images, labels) with one label per image, or a folder "
                "with one sub-folder per label."
            )
        if isinstance(labels, (list, tuple, np.ndarray)):
            if len(labels) != len(items):
                raise InputError(f"Give one label per image ({len(items)} images, {len(labels)} labels).")
            for item, label in zip(items, labels):
                self.project.add_examples(str(label), [item])
        else:
            self.project.add_examples(str(labels), items)
        return self

    def train(
        self,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        **kwargs: Any,
    ) -> History:
        return self.project.train(epochs, batch_size, learning_rate, **kwargs)

    def classify(self, images: Any, top_k: int | None = None):
        return self.project.classify(images, top_k=top_k)

    def probabilities(self, images: Any) -> np.ndarray:
        if self.project.model is None:
            raise not_trained(
                f"{self.project.kind} project",
                "do this",
                "Add examples to two classes or more and call project.train().",
            )
        return self.project.model.probabilities(images)

    def evaluate(self, *args: Any, **kwargs: Any):
        if self.project.model is None:
            raise not_trained(
                f"{self.project.kind} project",
                "do this",
                "Add examples to two classes or more and call project.train().",
            )
        return self.project.model.evaluate(*args, **kwargs)

    def save(self, path: str | os.PathLike) -> Path:
        """Save the trained model alone (a normal playml model folder); ``project.save`` keeps everything."""
        if self.project.model is None:
            raise not_trained(
                f"{self.project.kind} project",
                "do this",
                "Add examples to two classes or more and call project.train().",
            )
        return self.project.model.save(path)
