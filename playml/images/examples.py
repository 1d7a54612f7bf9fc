"""Examples in: from photos, folders and data sets to feature rows.

What the teachable models (:mod:`playml.images.transfer`) do when examples arrive: any
image collection (a folder with one sub-folder per label, a list, an array, a Dataset)
becomes items and targets; the backbone turns them into feature rows in batches, with
augmented copies; unreadable files are left out, listed and reported in one warning; and
the rows are kept in memory with the example each one comes from.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.augmentation import Augmentation
from playml.core.media import is_many, iter_many, load_image
from playml.errors import DataError, ImageError, InputError
from playml.images.features import FeatureExtractor

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


class _Intake:
    """How a teachable model (:class:`playml.images.teachable._Teachable`) takes examples in:
    image collections to items and targets, items to feature rows, skipped files reported."""

    extractor: FeatureExtractor
    seed: int | None
    _rng: np.random.Generator | None

    def _folder_target(self, name: str) -> Any:
        return name

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

            frame: Any = sys._getframe()
            level, here = 1, str(Path(__file__).parents[1])
            while frame is not None and frame.f_code.co_filename.startswith(here):  # point at the caller's line
                frame, level = frame.f_back, level + 1
            warnings.warn(
                f"{what} skipped {len(skipped)} files that are not usable images: "
                f"{_skipped_text(skipped)} (see .skipped)",
                DatasetWarning,
                stacklevel=level,
            )

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
