"""Teachable Machine image models, read from their TensorFlow.js export.

A Teachable Machine image export ("Export model" → TensorFlow.js → Download) is a folder with
``model.json``, ``weights.bin`` and ``metadata.json`` (its labels, ``tmVersion``,
``imageSize``). :func:`playml.load` recognises it and returns a :class:`TeachableMachineImage`,
which classifies like the ``@teachablemachine/image`` library: it crops the centre square,
resizes it to the model's size (224, or 96 for the grey "embedded" kind), maps pixels with
``x / 127 - 1`` (grey: ``0.2989 R + 0.587 G + 0.114 B`` first) and runs the model.

>>> import playml as ml
>>> tm = ml.load("tests/data/tfjs/tm-standard")
>>> tm.labels
['blah1', 'blah2']
>>> len(tm.classify("playml/samples/coffee.jpg"))
2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.saving import KINDS_BY_FILES, read_json
from playml.errors import FormatError, MissingFileError
from playml.results import Prediction

__all__ = ["TeachableMachineImage", "tm_preprocess"]


def tm_preprocess(image: Any, size: int, *, grey: bool = False) -> np.ndarray:
    """One image as Teachable Machine feeds it to its model: size×size×3 (or ×1 grey), float32."""
    from PIL import Image

    from playml.core.media import load_pil

    img = load_pil(image).convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    if side != size:
        img = img.resize((size, size), Image.Resampling.BILINEAR)
    x = np.asarray(img, dtype=np.float32)
    if grey:
        x = (x @ np.array([0.2989, 0.5870, 0.1140], dtype=np.float32))[..., None]
    return x / 127.0 - 1.0


class TeachableMachineImage:
    """A Teachable Machine image model (standard or embedded), ready to classify images."""

    def __init__(self, layers_model, metadata: dict[str, Any], path: Path | None = None):
        self.layers_model = layers_model
        self.metadata = metadata
        self.path = path
        shape = layers_model.input_shape
        if shape is None or len(shape) != 3:
            raise FormatError(
                f"This Teachable Machine model takes inputs shaped {shape}; an image model takes "
                "height × width × channels."
            )
        self.image_size = int(metadata.get("imageSize") or shape[0])
        self.grey = bool(metadata.get("grayscale")) or shape[2] == 1
        labels = metadata.get("labels") or []
        outputs = self._outputs()
        if len(labels) != outputs:
            labels = [*labels, *[f"Class {i + 1}" for i in range(len(labels), outputs)]][:outputs]
        self.labels = [str(v) for v in labels]

    def _outputs(self) -> int:
        shape = self.layers_model.input_shape
        return int(np.asarray(self.layers_model.predict(np.zeros((1, *shape), np.float32))).shape[-1])

    @classmethod
    def _from_tm_directory(cls, path: str | os.PathLike, metadata: dict[str, Any]) -> TeachableMachineImage:
        from playml.formats.tfjs import LayersModel

        return cls(LayersModel.from_directory(path), metadata, Path(path))

    def __repr__(self) -> str:
        kind = "embedded, grey" if self.grey else "standard"
        return (
            f"TeachableMachineImage(labels={self.labels}, image_size={self.image_size}, {kind}, "
            f"tmVersion={self.metadata.get('tmVersion')!r})"
        )

    def preprocess(self, image: Any) -> np.ndarray:
        return tm_preprocess(image, self.image_size, grey=self.grey)

    def probabilities(self, images: Any) -> np.ndarray:
        """Class probabilities, one row per image (a single image gives one row)."""
        from playml.core.media import is_many, iter_many

        items = list(iter_many(images)) if is_many(images) else [images]
        x = np.stack([self.preprocess(item) for item in items])
        return self.layers_model.predict(x)

    def classify(self, images: Any, *, top_k: int | None = None):
        """Predictions, most confident first (a list per image when given several)."""
        from playml.core.media import is_many

        probs = self.probabilities(images)
        out = []
        for row in probs:
            order = np.argsort(-row, kind="stable")[: top_k or len(row)]
            out.append([Prediction(label=self.labels[i], confidence=float(row[i])) for i in order])
        return out if is_many(images) else out[0]

    def summary(self) -> str:
        return self.layers_model.summary()


def load_teachable_machine(path: str | os.PathLike) -> TeachableMachineImage:
    """A Teachable Machine image export (``metadata.json``, ``model.json``, weights) as an image classifier."""
    path = Path(path)
    meta = read_json(path / "metadata.json", "metadata")
    if not (path / "model.json").is_file():
        raise MissingFileError(
            f"{path} looks like {KINDS_BY_FILES['teachable-machine']} — it has metadata.json — "
            "but model.json is missing. Copy all three files of the export."
        )
    package = str(meta.get("packageName", "@teachablemachine/image"))
    if package not in ("@teachablemachine/image", ""):
        raise FormatError(
            f"{path} is a Teachable Machine {package.split('/')[-1]} model ({package}); playml reads "
            "Teachable Machine image models."
        )
    return TeachableMachineImage._from_tm_directory(path, meta)
