"""Teach the machine: new labels (or numbers) from a few example photos.

The Teachable Machine / ml5.js ``featureExtractor`` recipe. A pretrained backbone turns
each photo into a feature vector once, when you add it; training then fits only a small
head on those vectors — Dense(100, relu) → Dense(labels, softmax), Adam, categorical
cross-entropy, 50 epochs, batches of 16, learning rate 0.001, 15 % of each label held out
to validate — which takes well under a second.

>>> import playml as ml
>>> clf = ml.feature_extractor().classification()                # doctest: +SKIP
>>> clf.add_images("photos/")           # photos/puffin/*.jpg, photos/tern/*.jpg  # doctest: +SKIP
>>> history = clf.train()                                        # doctest: +SKIP
>>> clf.classify("new.jpg")                                      # doctest: +SKIP
[Prediction(label='puffin', confidence=0.97), Prediction(label='tern', confidence=0.03)]
>>> clf.save("my-model/"); ml.load("my-model/")                  # doctest: +SKIP
ImageClassification(backbone='efficientnet-lite0', labels=['puffin', 'tern'], examples=0, trained=True)

The saved head is a TensorFlow.js layers model (``model.json`` + ``model.weights.bin``), so
TensorFlow.js loads it unchanged; :meth:`ImageClassification.export_onnx` writes backbone
and head as one ONNX graph.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.augmentation import DEFAULT_COPIES, Augmentation
from playml.core.media import is_many, iter_many, load_image
from playml.core.ranking import check_top_k, ranked
from playml.core.reprs import build_repr
from playml.core.training import History
from playml.errors import (
    DataError,
    DependencyError,
    FormatError,
    ImageError,
    InputError,
    TaskError,
    UnknownModelError,
    not_trained,
)
from playml.images.features import FeatureExtractor
from playml.results import Prediction

__all__ = ["ImageClassification", "ImageRegression", "FORMAT_VERSION", "ACTIVATIONS"]

#: Version of the saved-model layout (``model_meta.json["playml"]["version"]``).
FORMAT_VERSION = 1
#: Activations a hidden layer of the head can use (all of them load in TensorFlow.js).
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu")
_CHUNK = 128  # images featurised per call (the backbone batches within it)
_CHUNK_AUGMENTED = 32  # smaller when each image brings its decoded copies along
_PROGRESS_FROM = 64  # with progress=None, a bar appears from this many images on
_SPLIT_FOLDERS = {"train", "training", "validation", "val", "valid", "test", "testing"}


def _name_of(item: Any, i: int) -> str:
    return str(item) if isinstance(item, (str, os.PathLike)) else f"image {i + 1}"


def _reason(error: Exception, item: Any) -> str:
    return str(error).removeprefix(str(item)).strip(" :") or "cannot be read"


def _skipped_text(skipped: Sequence[tuple[str, str]], limit: int = 3) -> str:
    first = ", ".join(f"{Path(p).name} ({why})" for p, why in skipped[:limit])
    return first + (f" and {len(skipped) - limit} more" if len(skipped) > limit else "")


def _plain(value: Any) -> Any:
    """NumPy scalars → Python values (labels and targets are stored as plain Python)."""
    return value.item() if isinstance(value, np.generic) else value


class _Examples:
    """Feature rows in memory: which example each row comes from, and augmented copies."""

    def __init__(self) -> None:
        self.features: list[np.ndarray] = []
        self.targets: list[Any] = []
        self.groups: list[int] = []  # the original example a row belongs to
        self.copies: list[bool] = []  # True for augmented copies
        self.count = 0  # original examples
        self._arrays: tuple | None = None

    def add(self, feats: np.ndarray, targets: list, origin: np.ndarray, is_copy: np.ndarray) -> None:
        if not len(feats):
            return
        self.features.append(np.asarray(feats, dtype=np.float32))
        self.targets.extend(targets)
        self.groups.extend((origin + self.count).tolist())
        self.copies.extend(is_copy.tolist())
        self.count += int(origin.max()) + 1 if len(origin) else 0
        self._arrays = None

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` is True (groups renumbered)."""
        x, targets, groups, copies = self.arrays()
        _, groups = np.unique(groups[mask], return_inverse=True)
        self.features = [x[mask]] if mask.any() else []
        self.targets = [t for t, k in zip(targets, mask) if k]
        self.groups, self.copies = groups.tolist(), copies[mask].tolist()
        self.count = int(groups.max()) + 1 if len(groups) else 0
        self._arrays = None

    def arrays(self) -> tuple[np.ndarray, list, np.ndarray, np.ndarray]:
        if self._arrays is None:
            x = np.concatenate(self.features) if self.features else np.zeros((0, 0), np.float32)
            self.features = [x] if len(x) else []
            self._arrays = (
                x,
                self.targets,
                np.asarray(self.groups, dtype=np.int64),
                np.asarray(self.copies, dtype=bool),
            )
        return self._arrays


class _Teachable:
    """What image classification and image regression share: adding examples, training,
    saving. Use :class:`ImageClassification` or :class:`ImageRegression`."""

    FORMAT_VERSION = FORMAT_VERSION  # files in a newer format are refused by ml.load

    _kind = ""
    _loss = ""

    def __init__(
        self,
        extractor: FeatureExtractor | str | None = None,
        *,
        hidden_units: int = 100,
        layers: Sequence[int] | None = None,
        activation: str = "relu",
        augment: bool | int = False,
        seed: int | None = None,
    ):
        if not isinstance(extractor, FeatureExtractor):
            extractor = FeatureExtractor() if extractor is None else FeatureExtractor(extractor)
        self.extractor = extractor
        self.hidden_units = hidden_units
        self.layers = layers
        self.activation = activation
        self.augment = augment
        self.seed = seed
        self.skipped: list[tuple[str, str]] = []  # files add_images could not use: (path, reason)
        self.model_ = None
        self.history_: History | None = None
        self._examples = _Examples()
        self._rng: np.random.Generator | None = None
        self._held: dict[str, tuple[np.ndarray, list]] = {}  # "training"/"validation" → (features, targets)

    # ------------------------------------------------------------------ description
    @property
    def backbone(self) -> str:
        """Name of the pretrained image model underneath (e.g. ``'efficientnet-lite0'``)."""
        return self.extractor.spec.name

    @property
    def examples(self) -> int:
        """How many images were added (augmented copies not counted)."""
        return self._examples.count

    @property
    def trained(self) -> bool:
        return self.model_ is not None

    @property
    def model(self):
        """The trained head, a ``torch.nn.Sequential`` taking feature vectors (N×D)."""
        self._require_trained("use .model")
        return self.model_

    def _require_trained(self, doing: str) -> None:
        if self.model_ is None:
            raise not_trained(
                "model", doing, "Add examples, then call .train(), or open a saved one with ml.load('folder/')."
            )

    def _copies(self) -> int:
        if self.augment is True:
            return DEFAULT_COPIES
        if self.augment is False or self.augment is None:
            return 0
        if isinstance(self.augment, numbers.Integral) and self.augment >= 0:
            return int(self.augment)
        raise InputError(f"augment must be True, False or a number of copies per image (got {self.augment!r}).")

    def _hidden(self) -> list[int]:
        sizes = list(self.layers) if self.layers is not None else ([self.hidden_units] if self.hidden_units else [])
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise InputError(
                f"Hidden layer sizes must be whole numbers ≥ 1 (got {sizes}). "
                "Example: layers=[100] or hidden_units=100."
            )
        if self.activation not in ACTIVATIONS:
            raise InputError(f"Unknown activation {self.activation!r}. Use one of: {', '.join(ACTIVATIONS)}.")
        return [int(s) for s in sizes]

    # ------------------------------------------------------------------ targets (per task)
    def _target(self, value: Any) -> Any:
        raise NotImplementedError

    def _encode(self, targets: list) -> np.ndarray:
        raise NotImplementedError

    def _outputs(self) -> int:
        raise NotImplementedError

    def _folder_target(self, name: str) -> Any:
        return name

    # ------------------------------------------------------------------ adding examples
    def _featurise(
        self, items: list, *, copies: int = 0, progress: bool | None = None, what: str = "features"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str]]]:
        """Feature rows for ``items`` (with ``copies`` augmented copies each), in batches.

        Returns ``(features, origin, is_copy, skipped)``: ``origin[r]`` is the position in
        ``items`` that row ``r`` comes from; unreadable images are left out and listed in
        ``skipped`` as ``(name, reason)``.
        """
        fe = self.extractor
        augmentation = Augmentation()
        if copies and self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        feats: list[np.ndarray] = []
        origin: list[int] = []
        is_copy: list[bool] = []
        skipped: list[tuple[str, str]] = []
        show = progress if progress is not None else len(items) >= _PROGRESS_FROM
        bar = None
        if show:
            from playml.core.progress import progress_bar

            bar = progress_bar(total=len(items), desc=what, unit="img")
        chunk = _CHUNK_AUGMENTED if copies else _CHUNK
        try:
            for start in range(0, len(items), chunk):
                batch, owners, flags = [], [], []
                for i, item in enumerate(items[start : start + chunk], start):
                    if copies:
                        try:
                            x = load_image(item)
                        except ImageError as e:
                            skipped.append((_name_of(item, i), _reason(e, item)))
                            continue
                        batch += [x, *augmentation.copies(x, copies, seed=self._rng)]
                        owners += [i] * (copies + 1)
                        flags += [False] + [True] * copies
                    else:
                        batch.append(item)
                        owners.append(i)
                        flags.append(False)
                if batch:
                    try:
                        feats.append(fe.features(batch, progress=False))
                        origin += owners
                        is_copy += flags
                    except ImageError:  # find the unreadable ones, one by one
                        for item, i, flag in zip(batch, owners, flags):
                            try:
                                feats.append(fe.features([item], progress=False))
                            except ImageError as e:
                                skipped.append((_name_of(item, i), _reason(e, item)))
                                continue
                            origin.append(i)
                            is_copy.append(flag)
                if bar is not None:
                    bar.update(min(chunk, len(items) - start))
        finally:
            if bar is not None:
                bar.close()
        x = np.concatenate(feats) if feats else np.zeros((0, fe.dim), np.float32)
        return x, np.asarray(origin, dtype=np.int64), np.asarray(is_copy, dtype=bool), skipped

    def _collect(self, images: Any, labels: Any, *, what: str) -> tuple[list, list | None, list, list]:
        """Any kind of image collection → ``(items, targets or None, label folders, skipped)``."""
        from playml.datasets.dataset import is_dataset

        if is_dataset(images):
            if images.kind != "images":
                raise InputError(
                    f"{what} needs images; this data set holds {images.kind}. Use ml.neural_network() for tables."
                )
            X, y = images.arrays()
            items = list(X)
            if labels is None and y is not None:
                labels = [_plain(v) for v in (images.named_labels() if images.label_names is not None else y)]
            return items, self._spread(labels, len(items)), list(images.label_names or []), []
        if isinstance(images, (str, os.PathLike)) and Path(images).is_dir():
            return self._collect_folder(Path(images), labels, what=what)
        if is_many(images):
            items = list(iter_many(images))
            return items, self._spread(labels, len(items)), [], []
        return [images], self._spread(labels, 1), [], []

    @staticmethod
    def _spread(labels: Any, n: int) -> list | None:
        if labels is None:
            return None
        if isinstance(labels, (str, bytes, numbers.Number, np.generic)):
            return [_plain(labels)] * n
        labels = [_plain(v) for v in labels]
        if len(labels) != n:
            raise InputError(
                f"There are {n} images but {len(labels)} labels; give one label per image, "
                "or one label for all of them."
            )
        return labels

    def _collect_folder(self, root: Path, labels: Any, *, what: str) -> tuple[list, list | None, list, list]:
        from playml.datasets.files import DatasetWarning, from_folder

        subdirs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if subdirs and {s.lower() for s in subdirs} <= _SPLIT_FOLDERS:
            raise DataError(
                f"{str(root)!r} holds the folders {', '.join(subdirs)}: a data set already split in "
                f"parts. Add the training part (e.g. {str(root / subdirs[-1])!r}) and evaluate on the "
                "other part, or run `playml train` on the whole folder."
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatasetWarning)  # reported below, in our own words
            ds = from_folder(root)
        items = [str(p) for p in ds.X]
        if labels is None:
            if ds.label_names is None:
                raise DataError(
                    f"{str(root)!r} has images but no sub-folders, so their label is unknown. "
                    "Put them in one sub-folder per label (photos/cat/, photos/dog/), or pass "
                    "the label: add_images(folder, 'cat')."
                )
            labels = [self._folder_target(str(v)) for v in ds.named_labels()]
        return items, self._spread(labels, len(items)), [self._folder_target(s) for s in subdirs], list(ds.skipped)

    def _report_skipped(self, skipped: list[tuple[str, str]], what: str) -> None:
        from playml.datasets.files import DatasetWarning

        if skipped:
            import sys

            frame, level, here = sys._getframe(), 1, str(Path(__file__).parents[1])
            while frame is not None and frame.f_code.co_filename.startswith(here):  # point at the caller's line
                frame, level = frame.f_back, level + 1
            warnings.warn(
                f"{what} skipped {len(skipped)} files that are not usable images: "
                f"{_skipped_text(skipped)} (see .skipped)",
                DatasetWarning,
                stacklevel=level,
            )

    def add_image(self, image: Any, label: Any) -> _Teachable:
        """Add one example: any image-like input (path, PIL image, array, bytes) and its label.

        The image is turned into a feature vector now (with its augmented copies when
        ``augment`` is on), so training later is fast. Returns ``self``.
        """
        if is_many(image):
            return self.add_images(image, label)
        return self._add([image], [self._target(label)], progress=False, strict=True)

    def add_images(self, images: Any, labels: Any = None, *, progress: bool | None = None) -> _Teachable:
        """Add many examples at once (featurised in batches).

        ``images`` is a folder with one sub-folder per label (``photos/puffin/*.jpg``), a
        list of image-like inputs, an N×H×W×3 array, or a :class:`playml.Dataset` of
        images. ``labels`` gives one label per image, or one label for all of them (a
        folder of images without sub-folders needs it). Files that are not images or cannot
        be read are skipped, listed in ``.skipped`` with the reason, and reported in one
        warning. Returns ``self``.
        """
        items, targets, declared, skipped = self._collect(images, labels, what="add_images")
        if targets is None:
            raise InputError(
                "Give the labels too: add_images(images, labels) with one label per image, or a "
                "folder with one sub-folder per label."
            )
        targets = [self._target(t) for t in targets]
        self.skipped.extend(skipped)
        self._add(
            items,
            targets,
            progress=progress,
            strict=False,
            skipped=skipped,
            source=images,
            declared=[self._target(label) for label in declared],
        )
        return self

    def add_features(self, features: Any, labels: Any) -> _Teachable:
        """Add examples that were already turned into feature vectors by this model's
        backbone (``clf.extractor.features(images)``), e.g. kept from an earlier session:
        an N×D array and one label per row (or one label for all). Nothing is featurised
        again. Returns ``self``.
        """
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim == 1:
            feats = feats[None]
        if feats.ndim != 2 or feats.shape[1] != self.extractor.dim:
            raise InputError(
                f"Features must be an N×{self.extractor.dim} array from the {self.backbone} backbone "
                f"(got shape {feats.shape})."
            )
        if not np.isfinite(feats).all():
            raise InputError("The features contain NaN or infinity.")
        n = len(feats)
        targets = [labels] * n if not isinstance(labels, (list, tuple, np.ndarray)) else list(labels)
        if len(targets) != n:
            raise InputError(f"Give one label per feature row ({n} rows, {len(targets)} labels).")
        targets = [self._target(t) for t in targets]
        if hasattr(self, "_check_kinds"):
            self._check_kinds(targets)
        if n:
            self._examples.add(feats, targets, np.arange(n), np.zeros(n, dtype=bool))
        for label in targets:
            self._declare(label)
        return self

    def _declare(self, label: Any) -> None:
        """Classification knows labels that have no examples yet; regression has none."""

    def _add(
        self,
        items: list,
        targets: list,
        *,
        progress: bool | None,
        strict: bool,
        skipped: list | None = None,
        source: Any = None,
        declared: Sequence[Any] = (),
    ) -> _Teachable:
        feats, origin, is_copy, bad = self._featurise(
            items, copies=self._copies(), progress=progress, what="adding images"
        )
        if strict and bad:
            raise ImageError(f"{bad[0][0]}: {bad[0][1]}")
        all_skipped = list(skipped or []) + bad
        if not strict:
            self.skipped.extend(bad)
        if not len(origin):
            where = f" in {str(source)!r}" if isinstance(source, (str, os.PathLike)) else ""
            listed = "; ".join(f"{Path(p).name}: {why}" for p, why in all_skipped[:5])
            raise DataError(
                f"No usable images{where}: nothing was added. "
                + (f"Skipped {len(all_skipped)}: {listed}." if all_skipped else "")
            )
        self._report_skipped(all_skipped, "add_images")
        # renumber origins so groups count only the images that were added
        kept, origin = np.unique(origin, return_inverse=True)
        self._examples.add(feats, [targets[i] for i in kept[origin]], origin, is_copy)
        for label in [*declared, *targets]:
            self._declare(label)
        return self

    # ------------------------------------------------------------------ training
    def _check_ready(self, targets: list) -> None:
        """Raise a DataError when the examples cannot be trained on."""

    def _build_head(self, inputs: int, outputs: int):
        from torch import nn

        act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU, "selu": nn.SELU}
        mods: list = []
        for units in self._hidden():
            mods += [nn.Linear(inputs, units), act[self.activation]()]
            inputs = units
        mods.append(nn.Linear(inputs, outputs))
        return nn.Sequential(*mods)

    def train(
        self,
        epochs: int = 50,
        batch_size: int = 16,
        learning_rate: float = 0.001,
        validation_split: float = 0.15,
        *,
        validation_data: Any = None,
        validation_labels: Any = None,
        on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
        progress: bool = True,
        augment: bool | None = None,
        hidden_units: int | None = None,
        layers: Sequence[int] | None = None,
    ) -> History:
        """Train the head on the added examples and return a :class:`playml.History`.

        Teachable Machine's defaults: 50 epochs, batches of 16, Adam with learning rate
        0.001, and ``validation_split=0.15`` of each label held out to validate (their
        augmented copies are left out of training too). ``validation_data`` (a folder, a
        list of images with ``validation_labels``, or a Dataset) validates on other images
        instead. ``on_epoch(epoch, logs)`` is called after every epoch; returning ``False``
        stops early. ``augment=False`` trains without the augmented copies made when the
        images were added. ``hidden_units``/``layers`` change the head (e.g. ``layers=[]``
        for no hidden layer, ``layers=[256, 64]`` for two).

        >>> history = clf.train(epochs=20, on_epoch=lambda e, logs: print(e, logs["loss"]))  # doctest: +SKIP
        """
        import torch

        from playml.core.training import fit, validation_indices

        if hidden_units is not None:
            self.hidden_units, self.layers = hidden_units, None
        if layers is not None:
            self.layers = layers
        x, targets, groups, copies = self._examples.arrays()
        if not len(x):
            raise DataError(
                "There are no examples yet. Add some first: add_image(image, label) or "
                "add_images('photos/') with one sub-folder per label."
            )
        self._check_ready(targets)
        if augment and not copies.any():
            raise InputError(
                "There are no augmented copies to train on. Make the model with augment=True "
                "before adding the images (e.g. fe.classification(augment=True))."
            )
        y = self._encode(targets)
        originals = np.flatnonzero(~copies)
        use = np.ones(len(x), dtype=bool) if augment is None or augment else ~copies
        if validation_data is not None:
            xv, tv = self._featurise_labelled(validation_data, validation_labels, what="validation_data")
            yv = self._encode(tv)
            train_rows, val_rows = np.flatnonzero(use), np.zeros(0, dtype=np.int64)
        else:
            _, va = validation_indices(
                y[originals] if self._kind == "image_classification" else None,
                len(originals),
                validation_split,
                stratify=self._kind == "image_classification",
                seed=self.seed,
            )
            held = np.isin(groups, groups[originals[va]])
            train_rows, val_rows = np.flatnonzero(use & ~held), originals[va]
            xv, yv = x[val_rows], y[val_rows]
        if not len(train_rows):
            raise DataError("validation_split left nothing to train on. Add more examples or lower it.")
        head = self._build_head(x.shape[1], self._outputs())
        xt, yt = x[train_rows], y[train_rows]
        yt, yv, unscale = self._scale_targets(yt, yv)
        history = fit(
            head,
            torch.from_numpy(xt),
            torch.from_numpy(yt),
            loss=self._loss,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            validation_data=(torch.from_numpy(xv), torch.from_numpy(yv)) if len(xv) else None,
            on_epoch=on_epoch,
            progress=progress,
            seed=self.seed,
            description="training",
        )
        unscale(head)
        self.model_ = self._finish_head(head)
        self.history_ = history
        kept = np.setdiff1d(originals, val_rows)
        self._held = {
            "training": (x[kept], [targets[r] for r in kept]),
            "validation": (xv, tv if validation_data is not None else [targets[r] for r in val_rows]),
        }
        self._after_training()
        return history

    def _scale_targets(self, yt: np.ndarray, yv: np.ndarray):
        return yt, yv, lambda head: None

    def _finish_head(self, head):
        return head.eval()

    def _after_training(self) -> None:
        pass

    def _featurise_labelled(self, data: Any, labels: Any, *, what: str) -> tuple[np.ndarray, list]:
        """Featurise evaluation/validation images (no augmentation) with their targets."""
        items, targets, _, skipped = self._collect(data, labels, what=what)
        if targets is None:
            raise InputError(
                f"{what} needs the true labels: a folder with one sub-folder per label, a Dataset, "
                "or images together with labels=[…]."
            )
        feats, origin, _, bad = self._featurise(items, progress=None, what=what)
        skipped = list(skipped) + bad
        if not len(origin):
            raise DataError(
                f"No usable images in {what}"
                + (f" (skipped {len(skipped)}: {_skipped_text(skipped)})." if skipped else ".")
            )
        self._report_skipped(skipped, what)
        return feats, [targets[i] for i in origin]

    def _head_size(self) -> int:
        from torch import nn

        return [m for m in self.model.modules() if isinstance(m, nn.Linear)][-1].out_features

    def _head_outputs(self, features: np.ndarray) -> np.ndarray:
        import torch

        from playml.core.training import forward_of

        self._require_trained("make predictions")
        return forward_of(self.model_)(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))).numpy()

    def _outputs_for(self, images: Any) -> tuple[bool, np.ndarray]:
        self._require_trained("make predictions")
        many = is_many(images)
        feats = self.extractor.features(images)
        return many, self._head_outputs(feats.reshape(-1, self.extractor.dim))

    def _held_out(self, part: str) -> tuple[np.ndarray, list]:
        """The features and targets of the last training's ``part`` ("training" or "validation")."""
        if part not in ("validation", "training"):
            raise InputError(f"part must be 'validation' or 'training' (got {part!r}).")
        feats, truth = self._held.get(part, (np.zeros((0, 0)), []))
        if not truth:
            raise DataError(
                f"There are no {part} examples in memory to evaluate on (a loaded model keeps none, and "
                "validation_split=0 holds none back). Pass images: evaluate('held_out/')."
            )
        return feats, truth

    # ------------------------------------------------------------------ saving
    def _meta(self) -> dict[str, Any]:
        spec, card = self.extractor.spec, self.extractor.model_card
        meta: dict[str, Any] = {
            "playml": {"kind": self._kind, "version": FORMAT_VERSION},
            "backbone": {
                "name": spec.name,
                "package": card.package,
                "version": card.version,
                "layer": self.extractor.layer or "features",
                "feature_dim": self.extractor.dim,
                "precision": self.extractor.precision,
            },
            "preprocessing": {
                "input_size": spec.input_size,
                "crop_fraction": spec.crop_fraction,
                "resample": spec.resample,
                "mean": list(spec.mean),
                "std": list(spec.std),
                "layout": "NCHW",
                "color": "RGB",
                "steps": f"centre crop of {spec.crop_fraction:g} of the shorter side, {spec.resample} resize to "
                f"{spec.input_size}×{spec.input_size}, pixels/255, minus mean, divided by std",
            },
            "head": {
                "layers": self._hidden(),
                "activation": self.activation,
                "inputs": self.extractor.dim,
                "outputs": self._head_size(),
            },
            "history": self.history_.to_dict() if self.history_ is not None else None,
        }
        return meta

    def save(self, path: str | os.PathLike) -> Path:
        """Save as a directory: ``model.json`` + ``model.weights.bin`` (the head, in the
        TensorFlow.js layers format) and ``model_meta.json`` (labels, backbone, preprocessing).
        ``ml.load(path)`` restores the whole pipeline. The write is atomic."""
        from playml.core.saving import save_directory
        from playml.formats.tfjs import to_tfjs

        self._require_trained("save it")
        model_json, weights = to_tfjs(self.model_, name=self._kind)
        return save_directory(
            path, {"model.json": model_json, "model.weights.bin": weights, "model_meta.json": self._meta()}
        )

    @classmethod
    def _from_directory(cls, path: Path, meta: dict[str, Any]):
        from torch import nn

        from playml.formats.tfjs import from_tfjs, read_tfjs
        from playml.zoo import backbone_names, get_backbone

        try:
            backbone, head_info = meta["backbone"], meta.get("head") or {}
            name, layer = backbone["name"], backbone.get("layer", "features")
        except (KeyError, TypeError):
            raise FormatError(
                f"{path / 'model_meta.json'} does not say which image model the head was trained "
                "on (no 'backbone' entry). Was it saved by playml?"
            ) from None
        try:
            spec = get_backbone(name)
        except UnknownModelError:
            raise UnknownModelError(
                f"The model in {path} was trained on features of the image model {name!r}, which this playml "
                f"does not have (it has: {', '.join(backbone_names())}). Upgrade playml, or retrain the model on "
                "one of those."
            ) from None
        try:
            spec.weights_path()
        except DependencyError as e:
            raise DependencyError(f"The model in {path} needs the image model {name!r}. {e}") from None
        saved_version, installed = backbone.get("version"), spec.card.version
        if saved_version and installed and str(saved_version) != str(installed):
            warnings.warn(
                f"{path} was trained with {backbone.get('package', name)} {saved_version}; version "
                f"{installed} is installed, so its predictions may differ a little.",
                UserWarning,
                stacklevel=3,
            )
        precision = backbone.get("precision", "float32")
        obj = cls(
            FeatureExtractor(spec.name, layer if layer != "features" else None, precision=precision),
            layers=head_info.get("layers"),
            activation=head_info.get("activation", "relu"),
        )
        head = from_tfjs(*read_tfjs(path))
        linears = [m for m in head if isinstance(m, nn.Linear)]
        if not linears or linears[0].in_features != obj.extractor.dim:
            raise FormatError(
                f"The head in {path / 'model.json'} does not take the {obj.extractor.dim} features of "
                f"{spec.name!r}; model.json and model_meta.json do not belong together."
            )
        obj._restore(head, meta, path)
        if meta.get("history"):
            history = meta["history"]
            obj.history_ = History(
                metrics={k: list(v) for k, v in history.get("metrics", {}).items()},
                stopped_early=bool(history.get("stopped_early", False)),
            )
        return obj

    def _restore(self, head, meta: dict[str, Any], path: Path) -> None:
        self.model_ = head.eval()

    def export_onnx(self, path: str | os.PathLike) -> Path:
        """Write backbone + head as one ONNX graph (written atomically).

        Input ``images``: an N×3×S×S float32 tensor, preprocessed exactly like
        :meth:`playml.FeatureExtractor.preprocess` (RGB, centre crop, resize to S, pixels
        scaled to 0–1, minus ``mean``, divided by ``std``; the values are in the file's
        metadata and in ``model_meta.json``). Output: ``probabilities`` (N×labels) for
        classification, ``values`` for regression. The labels are stored in the graph's
        metadata (``labels``, JSON).
        """
        import onnx
        import torch

        from playml.core.saving import atomic_write
        from playml.engines.onnx import export_torch

        self._require_trained("export it")
        output = "probabilities" if self._kind == "image_classification" else "values"
        pipeline = torch.nn.Sequential(self.extractor.torch_module(), self.model_).eval()
        size = self.extractor.input_size
        proto = onnx.load_from_string(
            export_torch(
                pipeline,
                (torch.zeros(1, 3, size, size),),
                ["images"],
                [output],
                {"images": {0: "batch"}, output: {0: "batch"}},
            )
        )
        meta = self._meta()
        for key, value in (
            ("playml_kind", self._kind),
            ("backbone", json.dumps(meta["backbone"])),
            ("preprocessing", json.dumps(meta["preprocessing"])),
            ("labels", json.dumps(self._labels_for_meta())),
        ):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        return atomic_write(path, proto.SerializeToString())

    def _labels_for_meta(self) -> list:
        return []

    # ------------------------------------------------------------------ whole-model export
    EXPORT_FORMATS = ("teachable-machine", "tfjs", "onnx", "web")

    def _tfjs_whole_model(self) -> tuple[dict[str, Any], bytes]:
        """Backbone + head as one TF.js layers model taking Teachable Machine's input (centre
        square, ``x / 127 - 1``, N×S×S×3), so TM's library and ml5.js feed it as they are."""
        from torch import nn

        from playml.formats.tfjs import _activation_name
        from playml.formats.tfjs_writer import inverted_residual_to_tfjs

        spec = self.extractor.spec
        mods, head = list(self.model_), []
        for i, m in enumerate(mods):
            if isinstance(m, nn.Linear):
                nxt = mods[i + 1] if i + 1 < len(mods) else None
                act = _activation_name(nxt) if nxt is not None else None
                head.append((act or "linear", m))
            elif _activation_name(m) is None and not isinstance(m, nn.Dropout):
                raise FormatError(f"The head has a {type(m).__name__}, which cannot be exported for TF.js.")
        std, mean = np.asarray(spec.std, dtype=np.float64), np.asarray(spec.mean, dtype=np.float64)
        net = self.extractor.torch_module().net
        return inverted_residual_to_tfjs(
            net,
            input_size=spec.input_size,
            layer=self.extractor.layer or "head",
            head=head,
            input_scale=127.0 / (255.0 * std),
            input_shift=(127.0 / 255.0 - mean) / std,
            same_padding=spec.same_padding,
            name=f"playml_{self._kind}",
        )

    def _tm_metadata(self) -> dict[str, Any]:
        from playml import __version__

        return {
            "tfjsVersion": "4.22.0",
            "tmVersion": "2.4.10",
            "packageVersion": "0.8.5",
            "packageName": "@teachablemachine/image",
            "timeStamp": "",
            "userMetadata": {
                "playml": {
                    "version": __version__,
                    "kind": self._kind,
                    "backbone": self.extractor.spec.name,
                    "input": "centre square crop resized to imageSize, RGB, x / 127 - 1",
                }
            },
            "modelName": f"playml-{self._kind}",
            "labels": [str(v) for v in self._labels_for_meta()],
            "imageSize": self.extractor.spec.input_size,
        }

    def export(self, path: str | os.PathLike, format: str = "teachable-machine") -> Path:
        """Export the whole model (backbone + head) for other tools; written atomically as a folder.

        - ``"teachable-machine"``: ``model.json`` + ``weights.bin`` + ``metadata.json`` — loads
          unchanged in ``@teachablemachine/image`` and ml5.js's ``imageClassifier``
          (``ml5.imageClassifier("…/model.json")``), and in ``ml.load``.
        - ``"tfjs"``: the same TF.js layers model with ``labels.json`` (no Teachable Machine metadata).
        - ``"onnx"``: ``model.onnx`` (see :meth:`export_onnx`) + ``labels.json``.
        - ``"web"``: a static page that works offline: ``index.html`` with the webcam, live
          confidence bars and the model card, the model, and TensorFlow.js's runtime copied from
          its npm package (no CDN). Open it with ``python -m http.server`` in that folder.

        The TF.js models take Teachable Machine's input: the centre square of the picture resized
        to ``imageSize``, pixels mapped with ``x / 127 - 1`` (the first layer converts that to
        what the backbone expects). playml itself crops a little tighter, so predictions on the
        same photo can differ slightly; on the same crop they agree.
        """
        from playml.core.saving import save_directory
        from playml.errors import unknown_name

        if format not in self.EXPORT_FORMATS:
            raise unknown_name("export format", format, self.EXPORT_FORMATS)
        self._require_trained("export it")
        if format in ("teachable-machine", "web") and self._kind != "image_classification":
            raise TaskError(f"The {format!r} export is for image classifiers; export this model as 'tfjs' or 'onnx'.")
        labels = {"labels": [str(v) for v in self._labels_for_meta()], "kind": self._kind}
        if format == "onnx":
            return save_directory(path, {"model.onnx": lambda target: self.export_onnx(target), "labels.json": labels})
        model_json, weights = self._tfjs_whole_model()
        if format == "tfjs":
            return save_directory(
                path,
                {
                    "model.json": model_json,
                    "weights.bin": weights,
                    "labels.json": {
                        **labels,
                        "imageSize": self.extractor.spec.input_size,
                        "input": "centre square, RGB, x / 127 - 1",
                    },
                },
            )
        files = {"model.json": model_json, "weights.bin": weights, "metadata.json": self._tm_metadata()}
        if format == "web":
            from playml.formats.web_export import web_files

            files = web_files(files, title=f"playml {self._kind.replace('_', ' ')}", card=self._card_markdown())
        return save_directory(path, files)

    def _card_markdown(self) -> str:
        card = self.extractor.model_card
        lines = [
            f"# {type(self).__name__}",
            "",
            f"Labels: {', '.join(str(v) for v in self._labels_for_meta())}",
            "",
            f"Backbone: {card.title} ({card.package} {card.version}); licence {card.license}.",
            f"Head: {' → '.join(str(u) for u in self._hidden())} {self.activation} → {self._head_size()} outputs.",
            f"Examples: {self.examples}.",
        ]
        if self.history_ is not None and self.history_.metrics:
            last = {k: v[-1] for k, v in self.history_.metrics.items() if v}
            lines.append("Last epoch: " + ", ".join(f"{k} {v:.3f}" for k, v in last.items()) + ".")
        lines += [
            "",
            "Input: the centre square of the camera picture, resized to "
            f"{self.extractor.spec.input_size}×{self.extractor.spec.input_size}, pixels x / 127 − 1.",
            "Made with playml; runs entirely in this browser.",
        ]
        return "\n".join(lines)


class ImageClassification(_Teachable):
    """Teach new labels from a few example images (transfer learning).

    >>> import playml as ml
    >>> clf = ml.feature_extractor().classification()         # doctest: +SKIP
    >>> clf.add_image("puffin1.jpg", "puffin")                # doctest: +SKIP
    >>> clf.add_images("photos/")                             # doctest: +SKIP
    >>> clf.train()                                           # doctest: +SKIP
    >>> clf.classify("new.jpg")[0]                            # doctest: +SKIP
    Prediction(label='puffin', confidence=0.97)

    Parameters
    ----------
    extractor : a :class:`playml.FeatureExtractor` or a backbone name (default
        ``'efficientnet-lite0'``).
    labels : labels to know from the start (their order is the output order); more are
        added as examples arrive.
    hidden_units, layers, activation : the head: ``Dense(hidden_units, activation) →
        Dense(labels, softmax)``; ``layers=[256, 64]`` for more hidden layers, ``[]`` for none.
    augment : ``True`` adds 4 changed copies (flip, crop, colour jitter) of every image when
        it is added, ``N`` adds N copies; off by default.
    seed : makes the validation split, the augmentation and the initial weights repeatable.
    """

    _kind = "image_classification"
    _loss = "categorical_crossentropy"

    def __init__(
        self,
        extractor: FeatureExtractor | str | None = None,
        *,
        labels: Sequence[Any] | None = None,
        hidden_units: int = 100,
        layers: Sequence[int] | None = None,
        activation: str = "relu",
        augment: bool | int = False,
        seed: int | None = None,
    ):
        super().__init__(
            extractor, hidden_units=hidden_units, layers=layers, activation=activation, augment=augment, seed=seed
        )
        self.labels: list = []
        self.labels_: list | None = None
        labels = [self._target(label) for label in labels or []]
        self._check_kinds(labels)
        for label in labels:
            self._declare(label)

    def __repr__(self) -> str:
        return build_repr(
            "ImageClassification",
            backbone=self.backbone,
            labels=list(self.labels),
            examples=self.examples,
            trained=self.trained,
        )

    # targets -------------------------------------------------------------
    def _target(self, label: Any) -> Any:
        label = _plain(label)
        if label is None or (isinstance(label, str) and not label.strip()):
            raise InputError("Every example needs a label (a word like 'cat', or a whole number).")
        if isinstance(label, float) and not label.is_integer():
            raise TaskError(
                f"{label} looks like a number to predict, not a label. For numbers use "
                "fe.regression(); for labels use words ('cat') or whole numbers."
            )
        if isinstance(label, float):
            label = int(label)
        if not isinstance(label, (str, numbers.Integral)):
            raise InputError(f"A label must be a word or a whole number, not a {type(label).__name__}.")
        return label

    def _declare(self, label: Any) -> None:
        label = self._target(label)
        if label not in self.labels:
            self.labels.append(label)

    def _check_kinds(self, labels: Sequence[Any]) -> None:
        every = [*self.labels, *labels]
        if len({isinstance(t, str) for t in every}) > 1:
            word = next(t for t in every if isinstance(t, str))
            number = next(t for t in every if not isinstance(t, str))
            raise DataError(
                f"The labels mix words and numbers: {word!r} and {number!r}. Use one kind for every "
                f"label, e.g. {str(number)!r} as text."
            )

    def _add(self, items, targets, **kwargs):
        self._check_kinds([*targets, *kwargs.get("declared", ())])
        return super()._add(items, targets, **kwargs)

    def _encode(self, targets: list, known: list | None = None) -> np.ndarray:
        """Label positions in ``known`` (the labels being trained, by default); unknown labels are an error."""
        known = self.labels if known is None else known
        index = {label: i for i, label in enumerate(known)}
        unknown = sorted({str(t) for t in targets if t not in index})
        if unknown:
            raise DataError(
                f"These labels are not ones the model learned: {', '.join(unknown)}. It knows: "
                f"{', '.join(map(str, known))}."
            )
        return np.array([index[t] for t in targets], dtype=np.int64)

    def _outputs(self) -> int:
        return len(self.labels)

    def _check_ready(self, targets: list) -> None:
        counts = self.counts()
        if len(self.labels) < 2:
            only = f" (only {self.labels[0]!r})" if self.labels else ""
            raise DataError(
                f"Training needs at least 2 labels{only}. Add examples of another label, "
                "e.g. add_image(photo, 'something else')."
            )
        empty = [str(label) for label, c in counts.items() if c == 0]
        if empty:
            raise DataError(
                f"The label{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
                f"{'have' if len(empty) > 1 else 'has'} no examples. Add images of "
                f"{'them' if len(empty) > 1 else 'it'}, or remove "
                f"{'them' if len(empty) > 1 else 'it'}: remove_label({empty[0]!r})."
            )

    def remove_label(self, label: Any) -> ImageClassification:
        """Forget a label and all its examples (the next :meth:`train` learns without it)."""
        label = _plain(label)
        if label not in self.labels:
            raise InputError(f"There is no label {label!r}; the labels are {self.labels}.")
        _, targets, _, _ = self._examples.arrays()
        self._examples.keep(np.array([t != label for t in targets], dtype=bool))
        self.labels.remove(label)
        return self

    def counts(self) -> dict:
        """Examples per label (augmented copies not counted)."""
        _, targets, _, copies = self._examples.arrays()
        out = {label: 0 for label in self.labels}
        for t, c in zip(targets, copies):
            if not c:
                out[t] += 1
        return out

    def _finish_head(self, head):
        from torch import nn

        return nn.Sequential(*head, nn.Softmax(dim=-1)).eval()

    def _after_training(self) -> None:
        self.labels_ = list(self.labels)

    def _labels_for_meta(self) -> list:
        return list(self.labels_ or [])

    def _meta(self) -> dict[str, Any]:
        meta = super()._meta()
        return {**meta, "labels": list(self.labels_ or []), "task": "classification"}

    def _restore(self, head, meta: dict[str, Any], path: Path) -> None:
        from torch import nn

        labels = meta.get("labels")
        if not isinstance(labels, list) or len(labels) < 2:
            raise FormatError(f"{path / 'model_meta.json'} lists no labels (it needs at least 2).")
        last = [m for m in head if isinstance(m, nn.Linear)][-1]
        if last.out_features != len(labels) or not isinstance(head[-1], nn.Softmax):
            raise FormatError(
                f"The head in {path / 'model.json'} does not end in a softmax over the "
                f"{len(labels)} labels of model_meta.json."
            )
        self.labels = list(labels)
        self.labels_ = list(labels)
        self.model_ = head.eval()

    # predictions ----------------------------------------------------------
    def probabilities(self, images: Any) -> np.ndarray:
        """Probability of each label (in ``labels_`` order): one image → a 1-D array; many → N×labels."""
        many, probs = self._outputs_for(images)
        return probs if many else probs[0]

    def classify(self, images: Any, *, top_k: int | None = None) -> list[Prediction] | list[list[Prediction]]:
        """Labels with their confidence, best first: one image → a list of
        :class:`playml.Prediction`; many (a list, a folder) → a list of such lists."""
        k = check_top_k(top_k)
        many, probs = self._outputs_for(images)
        results = ranked(probs, self.labels_, k)
        return results if many else results[0]

    def evaluate(self, data: Any = None, labels: Any = None, *, part: str = "validation"):
        """Accuracy, accuracy per label and the confusion matrix on labelled images.

        ``data`` is a folder with one sub-folder per label, a list of images with ``labels``,
        or a :class:`playml.Dataset`. Without ``data``, the examples held out for validation
        in the last :meth:`train` are used (``part="training"`` for the training examples).
        Returns a :class:`playml.EvaluationReport` (``.plot()`` draws it).
        """
        from playml.core.evaluation import EvaluationReport

        self._require_trained("evaluate it")
        if data is None:
            feats, truth = self._held_out(part)
        else:
            feats, truth = self._featurise_labelled(data, labels, what="evaluate")
        true = self._encode(truth, self.labels_)
        predicted = self._head_outputs(feats).argmax(axis=1)
        return EvaluationReport.from_codes(true, predicted, self.labels_)


class ImageRegression(_Teachable):
    """Teach a number (or several) from example images, e.g. how open a hand is, 0 to 1.

    >>> reg = ml.feature_extractor().regression()           # doctest: +SKIP
    >>> reg.add_image("slider_low.jpg", 0.1)                 # doctest: +SKIP
    >>> reg.train(); reg.predict("new.jpg")                  # doctest: +SKIP
    0.42

    The head is ``Dense(hidden_units, activation) → Dense(outputs)`` trained with mean
    squared error on standardised targets (the reported loss is in those units: 1 means no
    better than always predicting the average); the saved head predicts in your units.
    """

    _kind = "image_regression"
    _loss = "mse"

    def __init__(
        self,
        extractor: FeatureExtractor | str | None = None,
        *,
        hidden_units: int = 100,
        layers: Sequence[int] | None = None,
        activation: str = "relu",
        augment: bool | int = False,
        seed: int | None = None,
    ):
        super().__init__(
            extractor, hidden_units=hidden_units, layers=layers, activation=activation, augment=augment, seed=seed
        )
        self.outputs_: int | None = None

    def __repr__(self) -> str:
        outputs = self.outputs_ if (self.outputs_ or 1) > 1 else None
        return build_repr(
            "ImageRegression", backbone=self.backbone, outputs=outputs, examples=self.examples, trained=self.trained
        )

    def _target(self, value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, (str, bytes)):
            raise TaskError(
                f"Regression learns numbers, but got the label {value!r}. Pass a number like 0.7, "
                "or use fe.classification() to learn labels."
            )
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"A regression target must be a number or a list of numbers (got {value!r}).") from None
        if arr.size == 0 or not np.isfinite(arr).all():
            raise InputError(f"A regression target must be a finite number (got {value!r}).")
        width = self.outputs_ or (len(self._examples.targets[0]) if self._examples.targets else arr.size)
        if arr.size != width:
            raise DataError(f"Every target must have {width} number{'s' if width > 1 else ''}; got {arr.size}.")
        return tuple(float(v) for v in arr)

    def _folder_target(self, name: str) -> Any:
        try:
            return float(name)
        except ValueError:
            raise DataError(
                f"For regression the sub-folders must be named by numbers (e.g. 0.5/); {name!r} is not a number."
            ) from None

    def _encode(self, targets: list) -> np.ndarray:
        return np.asarray(targets, dtype=np.float32).reshape(len(targets), -1)

    def _outputs(self) -> int:
        if self._examples.targets:
            return len(self._examples.targets[0])
        return self.outputs_ or 1

    def _check_ready(self, targets: list) -> None:
        if len(self._examples.targets) < 2:
            raise DataError("Regression needs at least 2 examples with different values.")

    def _scale_targets(self, yt: np.ndarray, yv: np.ndarray):
        """Train on standardised targets; fold the scale back into the last layer afterwards."""
        import torch

        mean = yt.mean(axis=0)
        std = yt.std(axis=0)
        std = np.where(std > 0, std, 1.0).astype(np.float32)

        def unscale(head) -> None:
            last = head[-1]
            with torch.no_grad():
                last.weight.mul_(torch.from_numpy(std)[:, None])
                last.bias.mul_(torch.from_numpy(std)).add_(torch.from_numpy(mean))

        return (yt - mean) / std, (yv - mean) / std, unscale

    def _after_training(self) -> None:
        self.outputs_ = self._outputs()

    def _restore(self, head, meta: dict[str, Any], path: Path) -> None:
        from torch import nn

        last = [m for m in head if isinstance(m, nn.Linear)][-1]
        self.outputs_ = last.out_features
        self.model_ = head.eval()

    def _meta(self) -> dict[str, Any]:
        return {**super()._meta(), "task": "regression"}

    def predict(self, images: Any) -> float | np.ndarray | list:
        """The predicted number: one image → a float (an array for several outputs);
        many → a list of floats (an N×outputs array for several outputs)."""
        many, values = self._outputs_for(images)
        if values.shape[1] == 1:
            flat = [float(v) for v in values[:, 0]]
            return flat if many else flat[0]
        return values if many else values[0]

    def evaluate(self, data: Any = None, labels: Any = None, *, part: str = "validation"):
        """Mean absolute error, RMSE and R² on images with known values (a
        :class:`playml.core.evaluation.RegressionReport`); without ``data``, on the held-out examples."""
        from playml.core.evaluation import RegressionReport

        self._require_trained("evaluate it")
        if data is None:
            feats, truth = self._held_out(part)
        else:
            feats, truth = self._featurise_labelled(data, labels, what="evaluate")
            truth = [self._target(t) for t in truth]
        return RegressionReport.from_values(self._encode(truth), self._head_outputs(feats))
