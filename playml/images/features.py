"""Turn images into feature vectors with a pretrained backbone.

A feature vector is the list of numbers the backbone computes just before it decides on
a label: similar images get similar vectors. They are what transfer learning
(:meth:`FeatureExtractor.classification`) and image search build on.

>>> import playml as ml
>>> fe = ml.feature_extractor()                      # EfficientNet-Lite0, 1280 numbers
>>> fe.features("coffee.jpg").shape                  # doctest: +SKIP
(1280,)
>>> fe.features("photos/").shape                     # a folder: one row per image  # doctest: +SKIP
(200, 1280)
>>> ml.feature_extractor(layer="blocks.10").layers()[:2]   # doctest: +SKIP
[Layer(name='stem', shape=(32, 112, 112), size=32, parameters=928), ...]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playml.core.media import ImageLike
from playml.core.reprs import build_repr
from playml.zoo import DEFAULT_MODEL
from playml.zoo.runtime import BackboneTask
from playml.zoo.specs import Layer

__all__ = ["FeatureExtractor", "feature_extractor"]


class FeatureExtractor(BackboneTask):
    """Feature vectors from a pretrained ImageNet backbone, at any depth.

    Parameters
    ----------
    model : name of a bundled backbone (``ml.models()`` lists them).
    layer : where to read the features: ``"features"`` (default; the pooled 1280-d vector
        the classifier sees), or any name from :meth:`layers` (``"stem"``,
        ``"blocks.0"`` … ``"head"``); the layer's output is averaged over the image.
    batch_size : images per ONNX Runtime call.
    threads : ONNX Runtime threads.
    precision : ``"float32"`` (default) or ``"int8"`` (a statically quantised backbone, about
        twice as fast; features stay within a cosine similarity of about 0.99 of float32's).

    Engines: ``.session`` is the ``onnxruntime.InferenceSession`` used for inference;
    ``.model`` (or :meth:`torch_module`) is the PyTorch module with the same weights,
    for training.
    """

    _outputs = ("features",)  # its session leaves out the classifier

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        layer: str | None = None,
        *,
        batch_size: int = 16,
        threads: int | None = None,
        precision: str = "float32",
    ):
        self.model_name = model
        self.layer = layer
        self.batch_size = batch_size
        self.threads = threads
        self._setup(model, precision)
        self._layer = self._spec.check_layer(layer)

    @property
    def dim(self) -> int:
        """Length of one feature vector."""
        return self._spec.layer(self._layer).size

    def layers(self) -> list[Layer]:
        """The layers you can read features from, input to output, with shapes and sizes."""
        return self._spec.layers()

    def __repr__(self) -> str:
        return build_repr(
            "FeatureExtractor",
            model=self._spec.name,
            layer=None if self._layer == "features" else self._layer,
            dim=self.dim,
            precision=None if self.precision == "float32" else self.precision,
        )

    # ------------------------------------------------------------------ engines
    def torch_module(self, layer: str | None = None):
        """A PyTorch module: N×3×S×S preprocessed images → N×D pooled features of ``layer``.

        Each call builds a fresh backbone with the pretrained weights, so fine-tuning one
        module never changes another. Feed it the output of :meth:`preprocess` (as a tensor).
        """
        from playml.zoo.network import Truncated

        layer = self._spec.check_layer(self._layer if layer is None else layer)
        return Truncated(self._spec.build(), "head" if layer == "features" else layer).eval()

    @property
    def model(self):
        """The PyTorch module up to this extractor's layer (loaded on first use)."""
        if self._model is None:
            self._model = self.torch_module()
        return self._model

    # ------------------------------------------------------------------ work
    def preprocess(self, images: Any) -> np.ndarray:
        """One image or many → the N×3×S×S float32 batch the backbone takes (resized, normalised)."""
        from playml.core.media import is_many, iter_many
        from playml.zoo.preprocessing import preprocess

        return preprocess(list(iter_many(images)) if is_many(images) else [images], self._spec)

    def features(
        self,
        images: ImageLike | Any,
        *,
        progress: bool | None = None,
        batch_size: int | None = None,
        engine: str = "local",
        address: str | None = None,
        workers: int | None = None,
    ) -> np.ndarray:
        """Feature vectors: one image → a 1-D float32 array; many (a list, a folder, an
        N×H×W×3 array) → an N×D array, computed in batches with a progress bar for big inputs.

        ``engine="ray"`` embeds image files (a folder or a list of paths) in Ray Data tasks,
        one ONNX session per worker (``workers``, default one per CPU of the cluster), on a
        local Ray or the cluster at ``address``: same array, same order (``pip install
        'playml[ray]'``; see docs/search.md).

        >>> fe.features("coffee.jpg")[:3]                 # doctest: +SKIP
        array([-0.17, 0.41, 1.93], dtype=float32)
        """
        if str(engine).lower() != "local":
            return self._features_ray(images, engine, address, workers, batch_size)
        many, (feats,) = self._get_runner().map(
            images, ["features"], progress=progress, batch_size=batch_size or self.batch_size, desc="features"
        )
        if many:
            return feats.reshape(-1, self.dim)
        return feats[0]

    def _features_ray(
        self, images: Any, engine: str, address: str | None, workers: int | None, batch_size: int | None
    ) -> np.ndarray:
        import os
        from pathlib import Path

        from playml.core.media import is_many, iter_many
        from playml.errors import ImageError, InputError, unknown_name

        if str(engine).lower() != "ray":
            raise unknown_name("engine", engine, ("local", "ray"))
        many = is_many(images)
        items = list(iter_many(images)) if many else [images]
        if not all(isinstance(item, (str, os.PathLike)) for item in items):
            raise InputError(
                "engine='ray' reads image files: pass a folder or a list of file paths "
                "(in-memory images are embedded locally: leave engine out)."
            )
        paths = [str(Path(item).expanduser().resolve()) for item in items]
        from playml.images.distributed import embed_files

        self.session  # noqa: B018  (export the model once here, not in every worker)
        out = np.zeros((len(paths), self.dim), np.float32)
        problems: list[str] = []

        def store(rows: np.ndarray, vectors: np.ndarray, errors: list[str]) -> None:
            out[rows] = vectors
            problems.extend(f"{paths[r]}: {e}" for r, e in zip(rows.tolist(), errors) if e)

        embed_files(
            paths,
            self._spec.name,
            self._layer,
            self.precision,
            address=address,
            batch_size=batch_size or self.batch_size,
            workers=workers,
            on_batch=store,
        )
        if problems:
            raise ImageError(f"{len(problems)} image(s) could not be read, e.g. {problems[0]}")
        return out if many else out[0]

    # ------------------------------------------------------------------ teach
    def classification(self, **kwargs: Any):
        """A new :class:`playml.ImageClassification` that learns labels on top of these features."""
        import playml  # the teaching classes build on this one: reach them through the public face

        return playml.ImageClassification(extractor=self, **kwargs)

    def regression(self, **kwargs: Any):
        """A new :class:`playml.ImageRegression` that learns numbers on top of these features."""
        import playml

        return playml.ImageRegression(extractor=self, **kwargs)


def feature_extractor(model: str = DEFAULT_MODEL, layer: str | None = None, **options: Any) -> FeatureExtractor:
    """A :class:`FeatureExtractor` (``ml.feature_extractor()`` → EfficientNet-Lite0, 1280 numbers).

    >>> import playml as ml
    >>> ml.feature_extractor()
    FeatureExtractor(model='efficientnet-lite0', dim=1280)
    """
    return FeatureExtractor(model, layer, **options)
