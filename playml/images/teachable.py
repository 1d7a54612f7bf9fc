"""The teachable image model: what image classification and image regression share.

Feature rows of the examples (:mod:`playml.images.examples`) train a small head through the
one training loop; the model saves as a TensorFlow.js layers head with ``model_meta.json``,
loads back with ``ml.load``, and exports whole (backbone + head) as ONNX, TensorFlow.js, a
Teachable Machine model or an offline web page. The tasks are in :mod:`playml.images.transfer`.
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

from playml.core.augmentation import DEFAULT_COPIES
from playml.core.media import is_many
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
from playml.images.examples import _Examples, _Intake
from playml.images.features import FeatureExtractor

#: Version of the saved-model layout (``model_meta.json["playml"]["version"]``).
FORMAT_VERSION = 1
#: Activations a hidden layer of the head can use (all of them load in TensorFlow.js).
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu")


class _Teachable(_Intake):
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
        self.model_: Any = None  # the trained head (a torch module)
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

    # ------------------------------------------------------------------ adding examples
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
                **spec.preprocessing(),
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
