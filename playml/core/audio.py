"""Turn anything audio-like into samples.

Every playml audio task accepts the same kinds of sound: a path to a WAV, FLAC or OGG
file (``str`` or ``pathlib.Path``), the raw bytes of such a file, or an array of
samples together with its sample rate — ``task(samples, sample_rate=16000)`` or the
pair ``(samples, 16000)``. :func:`load_audio` turns any of them into a mono
``float32`` array (values about −1…1) and its sample rate, mixing channels down and
resampling when asked. URLs are refused: playml works offline.

>>> import numpy as np
>>> from playml.core.audio import load_audio
>>> t = np.arange(8000) / 8000
>>> samples, rate = load_audio(np.sin(2 * np.pi * 440 * t), 8000, target_rate=16000)
>>> samples.shape, rate
((16000,), 16000)
"""

from __future__ import annotations

import os
from math import gcd
from pathlib import Path
from typing import Any, TypeGuard, Union

import numpy as np

from playml.core.media import list_files, open_source
from playml.errors import AudioError, InputError

__all__ = [
    "AudioLike",
    "AUDIO_SUFFIXES",
    "load_audio",
    "resample",
    "to_mono",
    "rms",
    "is_silent",
    "is_audio_like",
    "list_audio",
]

AudioLike = Union[str, os.PathLike, bytes, "np.ndarray", tuple, Any]

#: File types playml reads (through libsndfile, via the ``soundfile`` package).
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga"})

#: Sample rates outside this range are refused as mistakes (Hz).
MIN_RATE, MAX_RATE = 1_000, 384_000

#: Files declaring more samples than this (all channels) are refused before reading: 2**28 float32
#: samples are 1 GiB, about 93 minutes of 48 kHz mono.
MAX_SAMPLES = 1 << 28

#: Below this RMS level (about −80 dBFS) a sound counts as silence.
SILENCE_RMS = 1e-4


def _check_rate(sample_rate: Any) -> int:
    if sample_rate is None:
        raise AudioError(
            "An array of samples needs its sample rate: pass sample_rate=16000 (or whatever rate "
            "the audio was recorded at), or the pair (samples, sample_rate)."
        )
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError, OverflowError):
        raise AudioError(
            f"The sample rate must be a number of samples per second, like 16000 (got {str(sample_rate)[:40]!r})."
        ) from None
    if isinstance(sample_rate, bool) or not np.isfinite(rate) or rate != int(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"The sample rate must be a whole number of samples per second between "
            f"{MIN_RATE:,} and {MAX_RATE:,}, like 16000 or 44100 (got {sample_rate!r})."
        )
    return int(rate)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of a 2-D array (samples × channels, or channels × samples)."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise AudioError(f"Audio samples must be a 1-D array (mono) or 2-D (with channels); got shape {samples.shape}.")
    # Fewer than 9 rows and many more columns: channels first (as torchaudio and librosa store it).
    if samples.shape[0] <= 8 and samples.shape[1] > samples.shape[0]:
        return samples.mean(axis=0)
    return samples.mean(axis=1)


def _as_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == object or samples.dtype.kind not in "biuf":
        raise AudioError(f"Audio samples must be numbers (got an array of {samples.dtype}).")
    if samples.dtype.kind == "f":
        out = samples.astype(np.float32, copy=False)
        if not np.isfinite(out).all():
            raise AudioError("The audio samples contain NaN or infinity.")
        return out
    if samples.dtype == np.uint8:  # 8-bit WAV convention: 128 is silence
        return (samples.astype(np.float32) - 128.0) / 128.0
    if samples.dtype == np.bool_:
        return samples.astype(np.float32)
    scale = float(2 ** (8 * samples.dtype.itemsize - 1))
    return (samples.astype(np.float64) / scale).astype(np.float32)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Change the sample rate with a polyphase filter (``scipy.signal.resample_poly``)."""
    from_rate, to_rate = int(from_rate), int(to_rate)
    if from_rate == to_rate or len(samples) == 0:
        return samples
    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def _read_file(source: Any) -> tuple[np.ndarray, int]:
    import soundfile as sf

    name, fp = open_source(
        source, error=AudioError, kind="audio", file_kind="a WAV, FLAC or OGG file", folder_hint="Pass one sound file."
    )
    try:
        with sf.SoundFile(fp) as f:
            rate, frames, channels = int(f.samplerate), int(f.frames), int(f.channels)
            # the header's numbers are checked before anything is allocated from them
            if not MIN_RATE <= rate <= MAX_RATE:
                raise AudioError(
                    f"{name} declares a sample rate of {rate:,} Hz; playml reads {MIN_RATE:,} to "
                    f"{MAX_RATE:,} Hz. The file is damaged or not a recording."
                )
            if not 1 <= channels <= 64 or frames * channels > MAX_SAMPLES:
                raise AudioError(
                    f"{name} declares {frames:,} frames of {channels} channels, more than playml "
                    f"reads ({MAX_SAMPLES:,} samples, about {MAX_SAMPLES // 48_000 // 60} minutes). "
                    "Cut it into shorter pieces."
                )
            data = f.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OverflowError, EOFError, MemoryError):
        kind = f"a {Path(name).suffix.lower()} file" if Path(name).suffix else "that kind of data"
        raise AudioError(
            f"playml cannot read {name} as sound: it cannot decode {kind}. "
            "Use a WAV, FLAC or OGG file; convert others first, e.g. "
            "`ffmpeg -i sound.m4a sound.wav`."
        ) from None
    except OSError as e:
        from playml.core.saving import os_error

        raise os_error(e, name) from None
    if not np.isfinite(data).all():
        raise AudioError(f"{name} holds NaN or infinite samples; it is damaged.")
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0], int(rate)


def _is_pair(value: Any) -> TypeGuard[tuple[Any, Any]]:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and np.ndim(value[1]) == 0
        and (isinstance(value[0], (np.ndarray, list)) or hasattr(value[0], "__array__"))
    )


def load_audio(
    audio: AudioLike, sample_rate: int | None = None, *, target_rate: int | None = None, what: str = "audio"
) -> tuple[np.ndarray, int]:
    """Return ``(samples, rate)``: mono ``float32`` samples and their sample rate.

    ``audio`` is a file path, file bytes, an array (then ``sample_rate`` is required), or the
    pair ``(array, sample_rate)``. With ``target_rate`` the samples are resampled to it.
    Empty audio raises :class:`~playml.errors.AudioError`.
    """
    if _is_pair(audio):
        audio, pair_rate = audio
        if sample_rate is not None and pair_rate != sample_rate:
            raise AudioError(f"Two different sample rates were given ({pair_rate} and {sample_rate}). Pass just one.")
        sample_rate = pair_rate
    if isinstance(audio, (str, os.PathLike, bytes, bytearray, memoryview)):
        samples, rate = _read_file(audio)
        if sample_rate is not None and int(sample_rate) != rate:
            raise AudioError(
                f"The file's own sample rate is {rate} Hz; do not pass sample_rate={sample_rate} "
                "for a file (playml reads it from the file)."
            )
    elif isinstance(audio, np.ndarray) or hasattr(audio, "__array__") or isinstance(audio, (list, tuple)):
        if hasattr(audio, "detach"):  # torch tensor
            audio = audio.detach().cpu().numpy()
        samples = _as_float(to_mono(np.asarray(audio)))
        rate = _check_rate(sample_rate)
    else:
        raise InputError(
            f"playml cannot use a {type(audio).__name__} as audio. Pass a path to a WAV, FLAC or OGG file, "
            "the bytes of one, or an array of samples with its sample_rate."
        )
    if samples.size == 0:
        raise AudioError(f"The {what} is empty (no samples). Record or pass a longer sound.")
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if target_rate is not None and target_rate != rate:
        samples, rate = resample(samples, rate, target_rate), int(target_rate)
    return samples, rate


def rms(samples: np.ndarray) -> float:
    """Root-mean-square level of the samples (0 for silence, about 0.7 for a full-scale sine)."""
    s = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(s * s))) if s.size else 0.0


def is_silent(samples: np.ndarray, threshold: float = SILENCE_RMS) -> bool:
    """True when the sound is so quiet that it is silence (RMS below ``threshold``)."""
    return rms(samples) < threshold


def is_audio_like(value: Any) -> bool:
    """True for one sound: a file path, file bytes, a 1-D array or a (samples, rate) pair."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, (str, os.PathLike)):
        return not Path(value).is_dir()
    if _is_pair(value):
        return True
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return False


def list_audio(folder: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Sound files under ``folder`` (by suffix), sorted, hidden files skipped."""
    return list_files(folder, AUDIO_SUFFIXES, recursive=recursive)


def microphone_blocks(rate: int = 16_000, block_seconds: float = 0.05):
    """Yield mono float32 blocks from the default microphone (through the ``sounddevice``
    package and its PortAudio library); a missing one raises a DependencyError that says how
    to get it."""
    from playml.errors import DependencyError

    try:
        import sounddevice
    except (ImportError, OSError) as e:
        why = "the PortAudio library is missing" if isinstance(e, OSError) else "sounddevice is not installed"
        raise DependencyError(
            f"Listening to the microphone needs the sounddevice package and the PortAudio library ({why}). "
            "Install them with `pip install sounddevice` and your system's PortAudio (Debian/Ubuntu: "
            "`apt install libportaudio2`; macOS and Windows wheels include it) — or pass source='recording.wav' "
            "to listen to a file instead."
        ) from None
    import queue

    blocks: queue.Queue = queue.Queue(maxsize=200)

    def callback(indata, frames, time_info, status):  # noqa: ARG001 - sounddevice's signature
        try:
            blocks.put_nowait(np.asarray(indata[:, 0], dtype=np.float32).copy())
        except queue.Full:
            pass

    try:
        stream = sounddevice.InputStream(
            samplerate=rate, channels=1, dtype="float32", blocksize=int(rate * block_seconds), callback=callback
        )
    except Exception as e:  # noqa: BLE001 - PortAudio reports a missing device in many ways
        raise DependencyError(f"The microphone could not be opened ({e}). Check that one is connected.") from None
    with stream:
        while True:
            yield blocks.get()


def sliding_windows(
    source: Any = None, *, rate: int = 16_000, window: float = 1.0, every: float = 0.25, seconds: float | None = None
):
    """Yield ``(time, samples)``: the last ``window`` seconds every ``every`` seconds, from the
    microphone (``source=None``) or from a sound file / ``(samples, rate)`` played as if live
    (no waiting: for tests and for classifying a recording the way a live stream would)."""
    size, step = int(round(window * rate)), max(1, int(round(every * rate)))
    if source is None:
        blocks = microphone_blocks(rate)
    else:
        samples, _ = load_audio(source, target_rate=rate)
        blocks = (samples[i : i + step] for i in range(0, len(samples), step))
    ring: np.ndarray = np.zeros(size, np.float32)
    seen = 0
    next_at = step
    limit = None if seconds is None else int(seconds * rate)
    for block in blocks:
        block = np.asarray(block, dtype=np.float32)
        if len(block) >= size:
            ring = block[-size:].copy()
        else:
            ring = np.concatenate([ring[len(block) :], block])
        seen += len(block)
        while seen >= next_at:
            yield next_at / rate, ring.copy()
            next_at += step
        if limit is not None and seen >= limit:
            return
