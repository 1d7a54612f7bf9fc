"""A sound classifier you teach with a few examples of each sound.

Like Teachable Machine's audio projects: record (or generate) a handful of one-second
examples per label, train for a few seconds, then classify new sounds. Under the hood
every sound becomes 192 numbers from Google's pretrained speech embedding (shipped as
ONNX files in the ``openwakeword`` package, Apache-2.0), and a small neural network
learns your labels on top of them through playml's shared training loop.

Background noise: add examples of "nothing happening" (room noise, silence, hum) with
:meth:`SoundClassifier.add_background_noise` — or a sub-folder named
``_background_noise_`` for :meth:`SoundClassifier.add_sounds` — so the classifier has an
answer for "none of my sounds". Long background recordings are cut into one-second
examples.

>>> import playml as ml
>>> sounds = ml.sound_classifier()
>>> sounds.add_sound("clap1.wav", "clap")             # doctest: +SKIP
>>> sounds.add_sounds("recordings/")                   # recordings/clap/*.wav, recordings/snap/*.wav  # doctest: +SKIP
>>> history = sounds.train(epochs=50)                  # doctest: +SKIP
>>> sounds.classify("new.wav")[0]                      # doctest: +SKIP
Prediction(label='clap', confidence=0.97)
>>> sounds.save("my-sounds/"); ml.load("my-sounds/")   # TF.js layers files, like ml5.js  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playml.core.audio import AudioLike, is_audio_like, is_silent, list_audio, load_audio
from playml.core.ranking import check_top_k, ranked
from playml.core.reprs import build_repr
from playml.errors import AudioError, DataError, FormatError, InputError, not_trained
from playml.results import to_builtin
from playml.zoo.speech import (
    CLIP_SECONDS,
    FEATURE_SIZE,
    SAMPLE_RATE,
    SpeechEmbedding,
    shared_embedding,
    speech_embedding_card,
)

if TYPE_CHECKING:  # pragma: no cover
    from playml.core.training import History
    from playml.zoo.cards import ModelCard

__all__ = ["SoundClassifier", "sound_classifier", "BACKGROUND_NOISE"]

#: The label (and folder name) for "none of my sounds", as in Teachable Machine and Speech Commands.
BACKGROUND_NOISE = "_background_noise_"

# --------------------------------------------------------------------------- the head


def _build_head(inputs: int, hidden: int, outputs: int, dropout: float):
    """Standardise the 192 features, then dense → ReLU → dropout → dense (logits)."""
    import torch
    from torch import nn

    class Standardize(nn.Module):
        """(x − mean) / std with the training examples' mean and std (folded into the first layer on save)."""

        fixed_transform = True  # fit applies it once to the data and trains the rest on its fast dense path

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.zeros(inputs))
            self.register_buffer("std", torch.ones(inputs))

        def forward(self, x):
            return (x - self.mean) / self.std

    return nn.Sequential(
        Standardize(), nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs)
    )


def _for_tfjs(model):
    """The head as plain TF.js layers: standardisation folded into the first dense layer, softmax added."""
    import copy

    import torch
    from torch import nn

    standardize, first, *rest = model
    folded = copy.deepcopy(first)
    with torch.no_grad():
        folded.weight.copy_(first.weight / standardize.std)
        folded.bias.copy_(first.bias - folded.weight @ standardize.mean)
    return nn.Sequential(folded, *copy.deepcopy(rest), nn.Softmax(dim=-1)).eval()


# --------------------------------------------------------------------------- the task


class SoundClassifier:
    """Learn to tell your own sounds apart from a few examples of each.

    ``hidden_units`` is the size of the small network trained on top of the speech
    embedding; ``dropout`` its dropout rate; ``seed`` makes training repeatable.

    >>> import numpy as np, playml as ml
    >>> t = np.arange(16000) / 16000
    >>> sounds = ml.sound_classifier(seed=0)
    >>> for f in (300, 350, 400):
    ...     _ = sounds.add_sound(np.sin(2 * np.pi * f * t), "low", sample_rate=16000)
    ...     _ = sounds.add_sound(np.sin(2 * np.pi * 8 * f * t), "high", sample_rate=16000)
    >>> history = sounds.train(epochs=30, progress=False)
    >>> sounds.classify((np.sin(2 * np.pi * 3000 * t), 16000))[0].label
    'high'
    """

    FORMAT_VERSION = 1  #: the saved format; files in a newer format are refused by ml.load

    def __init__(self, *, hidden_units: int = 64, dropout: float = 0.25, seed: int | None = None):
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.seed = seed
        self._features: list[np.ndarray] = []
        self._labels: list[str] = []
        self._embedding = None

    # ------------------------------------------------------------ description
    def __repr__(self) -> str:
        labels = self.labels
        return build_repr("SoundClassifier", labels=list(labels), examples=self.examples, trained=self.trained)

    @property
    def labels(self) -> list[str]:
        """The trained labels, then those of examples added since (in the order first seen)."""
        return list(dict.fromkeys([*(getattr(self, "labels_", None) or []), *self._labels]))

    @property
    def trained(self) -> bool:
        return getattr(self, "model_", None) is not None

    def counts(self) -> dict[str, int]:
        """How many examples each label has."""
        return dict(Counter(self._labels))

    @property
    def examples(self) -> int:
        """How many examples were added."""
        return len(self._labels)

    @property
    def embedding(self) -> SpeechEmbedding:
        """The pretrained speech embedding (its ONNX sessions are ``.embedding.sessions``)."""
        if self._embedding is None:
            self._embedding = shared_embedding()
        return self._embedding

    @property
    def model(self):
        """The trained network (a ``torch.nn.Module``: 192 features → one logit per label)."""
        self._require_trained("show its network")
        return self.model_

    @property
    def model_card(self) -> ModelCard:
        return speech_embedding_card()

    # ------------------------------------------------------------ examples
    def _features_of(self, audio: AudioLike, sample_rate: int | None) -> np.ndarray:
        samples, _ = load_audio(audio, sample_rate, target_rate=SAMPLE_RATE, what="sound")
        return self.embedding.features(samples)

    def add_sound(self, audio: AudioLike, label: str, sample_rate: int | None = None) -> SoundClassifier:
        """Add one example of ``label``: a sound file, or samples with their ``sample_rate``.

        About one second is ideal; shorter sounds are padded with silence, longer ones are
        summarised over their whole length. A list of sounds or a folder adds each of them
        with this label.
        """
        label = self._check_label(label)
        if _is_many(audio):  # a list or a folder: every sound gets this label
            for item in _expand(audio):
                self.add_sound(item, label, sample_rate)
            return self
        samples, _ = load_audio(audio, sample_rate, target_rate=SAMPLE_RATE, what="sound")
        if label == BACKGROUND_NOISE:
            return self._add_background(samples)
        if is_silent(samples):
            raise AudioError(
                f"This example of {label!r} is silent. Check the microphone or the file. For examples of "
                "'nothing happening', use add_background_noise(...) instead."
            )
        self._add(self.embedding.features(samples), label)
        return self

    def add_background_noise(self, audio: AudioLike, sample_rate: int | None = None) -> SoundClassifier:
        """Add background noise ("none of my sounds"); long recordings become 1-second examples."""
        samples, _ = load_audio(audio, sample_rate, target_rate=SAMPLE_RATE, what="background noise")
        return self._add_background(samples)

    def _add_background(self, samples: np.ndarray) -> SoundClassifier:
        for features in self._clip_features(samples):
            self._add(features, BACKGROUND_NOISE)
        return self

    def _clip_features(self, samples: np.ndarray) -> list[np.ndarray]:
        """Features of each one-second clip of a (background) recording; shorter ones as a whole."""
        clip = int(CLIP_SECONDS * SAMPLE_RATE)
        count = max(1, len(samples) // clip)
        return [
            self.embedding.features(samples[i * clip : (i + 1) * clip] if count > 1 else samples) for i in range(count)
        ]

    def add_sounds(self, folder: str | os.PathLike) -> SoundClassifier:
        """Add every sound file of ``folder``, labelled by its sub-folder (``folder/clap/1.wav`` → 'clap').

        A sub-folder named ``_background_noise_`` holds background noise.
        """
        folder = Path(folder)
        files = list_audio(folder)
        if not files:
            raise DataError(
                f"There are no WAV, FLAC or OGG files in {str(folder)!r}. Put the examples of each "
                "label in a sub-folder named after the label, e.g. sounds/clap/clap1.wav."
            )
        loose = [f for f in files if f.parent == folder]
        if loose:
            raise DataError(
                f"{loose[0].name} is directly in {str(folder)!r}; put each sound in a sub-folder named "
                "after its label (e.g. clap/clap1.wav) so playml knows what it is."
            )
        for path in files:
            label = path.relative_to(folder).parts[0]
            if label == BACKGROUND_NOISE:
                self.add_background_noise(path)
            else:
                self.add_sound(path, label)
        return self

    def add_features(self, features: Any, labels: Any) -> SoundClassifier:
        """Add examples already turned into features by :attr:`embedding` (``embedding.features(samples)``,
        192 numbers each), e.g. kept from an earlier session: an N×192 array and one label per
        row (or one for all). Nothing is computed again. Returns ``self``."""
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim == 1:
            feats = feats[None]
        if feats.ndim != 2 or feats.shape[1] != FEATURE_SIZE:
            raise InputError(
                f"Sound features are N×{FEATURE_SIZE} arrays from the speech embedding (got shape {feats.shape})."
            )
        if not np.isfinite(feats).all():
            raise InputError("The features contain NaN or infinity.")
        labels = [labels] * len(feats) if isinstance(labels, (str, int)) else list(labels)
        if len(labels) != len(feats):
            raise InputError(f"Give one label per feature row ({len(feats)} rows, {len(labels)} labels).")
        for row, label in zip(feats, labels):
            self._add(row, self._check_label(label))
        return self

    def _check_label(self, label: Any) -> str:
        if isinstance(label, bool) or not isinstance(label, (str, int)):
            raise InputError(f"A label is a short name like 'clap' (got {label!r}).")
        label = str(label).strip()
        if not label:
            raise InputError("The label is empty. Give each sound a name like 'clap' or 'whistle'.")
        return label

    def _add(self, features: np.ndarray, label: str) -> None:
        self._features.append(features)
        self._labels.append(label)

    # ------------------------------------------------------------ training
    def train(
        self,
        epochs: int = 50,
        batch_size: int = 16,
        learning_rate: float = 0.001,
        validation_split: float = 0.15,
        *,
        on_epoch=None,
        progress: bool = True,
    ) -> History:
        """Train on the examples added so far; returns the :class:`~playml.core.training.History`.

        Teachable Machine's defaults, like the image classifier: 50 epochs, batches of 16,
        Adam with learning rate 0.001, and ``validation_split=0.15`` of each label's examples
        held out to validate (see :meth:`evaluate`; 0 trains on everything).
        ``on_epoch(epoch, logs)`` is called after each epoch (return ``False`` to stop);
        ``progress`` shows a progress bar.
        """
        import torch

        from playml.core.training import fit, validation_indices

        counts = self.counts()
        if len(counts) < 2:
            have = f"only {list(counts)[0]!r}" if counts else "none yet"
            raise DataError(
                f"A sound classifier needs examples of at least two labels (it has {have}). Add "
                f"examples of another sound, or background noise with add_background_noise(...)."
            )
        labels = list(dict.fromkeys(self._labels))
        x = np.stack(self._features).astype(np.float32)
        y = np.array([labels.index(label) for label in self._labels])
        train, held_out = validation_indices(y, len(y), validation_split, stratify=True, seed=self.seed)
        if self.seed is not None:
            torch.manual_seed(self.seed)
        model = _build_head(FEATURE_SIZE, int(self.hidden_units), len(labels), float(self.dropout))
        with torch.no_grad():
            model[0].mean.copy_(torch.from_numpy(x[train].mean(axis=0)))
            model[0].std.copy_(torch.from_numpy(x[train].std(axis=0) + 1e-3))
        validation = (torch.from_numpy(x[held_out]), torch.from_numpy(y[held_out])) if len(held_out) else None
        history = fit(
            model,
            torch.from_numpy(x[train]),
            torch.from_numpy(y[train]),
            loss="categorical_crossentropy",
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            validation_data=validation,
            on_epoch=on_epoch,
            progress=progress,
            seed=self.seed,
            description="training sounds",
        )
        self.model_ = model.eval()
        self.labels_ = labels
        self.history_ = history
        self._split = {"training": train, "validation": held_out}
        return history

    def evaluate(self, sounds: Any = None, labels: Any = None, *, part: str = "validation"):
        """Accuracy, accuracy per label and the confusion matrix, as a :class:`playml.EvaluationReport`.

        ``sounds`` is a folder with one sub-folder per label, or a list of sounds with their
        ``labels``. Without them, the examples held out for validation in the last
        :meth:`train` are used (``part="training"`` for the ones it trained on).
        """
        import torch

        from playml.core.evaluation import EvaluationReport

        self._require_trained("evaluate it")
        if sounds is None:
            split = getattr(self, "_split", None)
            if split is None or part not in split:
                raise DataError(
                    "There are no held-out examples to evaluate on (the classifier was loaded, or "
                    "part is not 'validation' or 'training'). Pass sounds and their labels."
                )
            if len(split[part]) == 0:
                raise DataError(
                    f"No examples were held out for {part} in the last train(). Train with "
                    "validation_split=0.15, or pass sounds and their labels."
                )
            x = np.stack([self._features[i] for i in split[part]])
            truth = [self._labels[i] for i in split[part]]
        else:
            feats, truth = [], []
            for item, label in zip(*_labelled(sounds, labels)):
                if label == BACKGROUND_NOISE:  # cut into one-second clips, as when it was added
                    clips = self._clip_features(load_audio(item, target_rate=SAMPLE_RATE)[0])
                else:
                    clips = [self._features_of(item, None)]
                feats += clips
                truth += [label] * len(clips)
            x = np.stack(feats)
        unknown = sorted(set(truth) - set(self.labels_))
        if unknown:
            raise DataError(f"The labels {unknown} are not among the trained labels {self.labels_}.")
        with torch.inference_mode():
            predicted = self.model_(torch.from_numpy(x)).argmax(dim=1).numpy()
        true = np.array([self.labels_.index(label) for label in truth])
        return EvaluationReport.from_codes(true, predicted, self.labels_)

    def _require_trained(self, doing: str) -> None:
        if not self.trained:
            raise not_trained(
                "sound classifier",
                doing,
                "Add examples with add_sound(...) and call train(), or open a saved one with ml.load('folder/').",
            )

    # ------------------------------------------------------------ using it
    def probabilities(self, audio: AudioLike, sample_rate: int | None = None) -> np.ndarray:
        """Probability of each label (in the order of :attr:`labels`); N×labels for many sounds."""
        import torch

        self._require_trained("classify sounds")
        many = _is_many(audio)
        items = _expand(audio) if many else [audio]
        x = np.stack([self._features_of(item, sample_rate) for item in items])
        with torch.inference_mode():
            probs = torch.softmax(self.model_(torch.from_numpy(x)), dim=1).numpy()
        return probs if many else probs[0]

    def classify(self, audio: AudioLike, sample_rate: int | None = None, *, top_k: int | None = None):
        """Labels for a sound, best first: ``[Prediction(label='clap', confidence=0.97), …]``.

        Many sounds (a list or a folder) give one list per sound.
        """
        k = check_top_k(top_k)
        return ranked(self.probabilities(audio, sample_rate), self.labels_, k)

    def listen(
        self,
        source: AudioLike | None = None,
        *,
        every: float = 0.25,
        window: float = 1.0,
        seconds: float | None = None,
        top_k: int | None = None,
    ):
        """Classify the microphone live: yields ``(time, predictions)`` for the last ``window``
        seconds, every ``every`` seconds (a sliding window, like the studio's live view).

        ``source`` plays a sound file (or ``(samples, rate)``) as if it were the microphone;
        ``seconds`` stops after that long. The microphone needs the ``sounddevice`` package and
        PortAudio (a :class:`~playml.errors.DependencyError` says so when they are missing).

        >>> for t, predictions in sounds.listen(seconds=5):      # doctest: +SKIP
        ...     print(f"{t:4.2f} s  {predictions[0].label}")
        """
        from playml.core.audio import sliding_windows

        self._require_trained("listen")
        for t, samples in sliding_windows(source, rate=SAMPLE_RATE, window=window, every=every, seconds=seconds):
            yield t, self.classify((samples, SAMPLE_RATE), top_k=top_k)

    # ------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Save into a folder in the TensorFlow.js layers format ml5.js uses: ``model.json``,
        ``model.weights.bin`` (the classifier on top of the embedding, softmax included) and
        ``model_meta.json`` (labels and how the 192 input features are made). ``ml.load(path)``
        reads it back.
        """
        import json

        from playml._version import __version__
        from playml.core.saving import save_directory
        from playml.formats.tfjs import to_tfjs

        self._require_trained("be saved")
        model_json, weights = to_tfjs(_for_tfjs(self.model_))
        meta = {
            "playml": {"kind": "sound_classifier", "version": self.FORMAT_VERSION},
            "created_by": f"playml {__version__}",
            "labels": list(self.labels_),
            "background_label": BACKGROUND_NOISE,
            "architecture": {
                "inputs": FEATURE_SIZE,
                "hidden_units": int(self.hidden_units),
                "outputs": len(self.labels_),
                "dropout": float(self.dropout),
            },
            "features": {
                "embedding": "Google speech_embedding: openwakeword 0.4.0 melspectrogram.onnx + embedding_model.onnx",
                "sample_rate": SAMPLE_RATE,
                "clip_seconds": CLIP_SECONDS,
                "inputs": "mean (first 96) and max (last 96) over time of the 96-number embeddings, "
                "one every 80 ms; the model's first layer includes the standardisation",
            },
            "training": {
                "seed": self.seed,
                "examples": self.counts(),
                "history": to_builtin(self.history_.to_dict()) if getattr(self, "history_", None) else None,
            },
        }
        return save_directory(
            path, {"model.json": json.dumps(model_json), "model.weights.bin": weights, "model_meta.json": meta}
        )

    @classmethod
    def _from_directory(cls, path: Path, meta: dict[str, Any]) -> SoundClassifier:
        import torch
        from torch import nn

        from playml.formats.tfjs import from_tfjs, read_tfjs

        try:
            arch = meta["architecture"]
            labels = [str(label) for label in meta["labels"]]
            inputs, hidden, outputs = int(arch["inputs"]), int(arch["hidden_units"]), int(arch["outputs"])
            dropout = float(arch.get("dropout", 0.25))
            seed = (meta.get("training") or {}).get("seed")
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(
                f"{path / 'model_meta.json'} is missing or has a wrong entry ({e}). "
                "Was it saved by playml's sound classifier?"
            ) from None
        if inputs != FEATURE_SIZE:
            raise FormatError(
                f"{path / 'model_meta.json'} describes a model with {inputs} inputs; this playml's "
                f"sound classifier makes {FEATURE_SIZE} numbers per sound. Was it saved by another "
                "version?"
            )
        if outputs != len(labels):
            raise FormatError(
                f"{path / 'model_meta.json'} lists {len(labels)} labels for a model with {outputs} "
                "outputs; they must match. Was the file edited?"
            )
        model = from_tfjs(*read_tfjs(path))
        try:
            width = model(torch.zeros(1, FEATURE_SIZE)).shape[-1]
        except RuntimeError:
            width = None
        if not isinstance(model[-1], nn.Softmax) or width != len(labels):
            raise FormatError(
                f"The model in {path} does not take {FEATURE_SIZE} numbers and give a probability "
                f"for each of its {len(labels)} labels; it was not saved by playml's sound classifier."
            )
        clf = cls(hidden_units=hidden, dropout=dropout, seed=seed)
        clf.model_ = model[:-1].eval()  # logits, like a freshly trained head
        clf.labels_ = labels
        clf.history_ = None
        return clf


def _is_many(audio: Any) -> bool:
    if isinstance(audio, (str, os.PathLike)) and not (isinstance(audio, str) and "://" in audio):
        return Path(audio).is_dir()
    return isinstance(audio, list) or (isinstance(audio, tuple) and not is_audio_like(audio))


def _expand(audio: Any) -> list[Any]:
    if isinstance(audio, (str, os.PathLike)):
        files = list_audio(audio)
        if not files:
            raise DataError(f"There are no WAV, FLAC or OGG files in {str(audio)!r}.")
        return list(files)
    items = list(audio)
    if not items:
        raise InputError("The list of sounds is empty.")
    return items


def _labelled(sounds: Any, labels: Any) -> tuple[list[Any], list[str]]:
    """(sounds, labels) from a folder with one sub-folder per label, or from a list and its labels."""
    if labels is None:
        if not (isinstance(sounds, (str, os.PathLike)) and Path(sounds).is_dir()):
            raise InputError(
                "Pass the labels of the sounds too (evaluate(sounds, labels)), or a folder with one "
                "sub-folder per label."
            )
        root = Path(sounds)
        files = [f for f in list_audio(root) if f.parent != root]
        if not files:
            raise DataError(f"There are no sound files in sub-folders of {str(root)!r}.")
        return list(files), [f.relative_to(root).parts[0] for f in files]
    items = _expand(sounds) if _is_many(sounds) else [sounds]
    labels = [labels] if isinstance(labels, str) else [str(label) for label in labels]
    if len(items) != len(labels):
        raise DataError(f"There are {len(items)} sounds but {len(labels)} labels; they must match one to one.")
    return items, labels


def sound_classifier(**options) -> SoundClassifier:
    """A new, untrained :class:`SoundClassifier` (teach it with ``add_sound`` and ``train``)."""
    return SoundClassifier(**options)


def sound_cards() -> list[ModelCard]:
    """Card of the speech embedding (for ``ml.models()``)."""
    return [speech_embedding_card()]
