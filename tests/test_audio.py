"""Audio loading: files (WAV/FLAC/OGG), arrays with a sample rate, mixdown, resampling, errors."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from playml.core.audio import is_audio_like, is_silent, list_audio, load_audio, resample, to_mono
from playml.errors import AudioError, InputError, MissingFileError, OfflineError, PlaymlError


def tone(freq: float, rate: int, seconds: float = 0.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("suffix,subtype", [(".wav", "PCM_16"), (".flac", "PCM_24"), (".ogg", "VORBIS")])
def test_reads_files_and_mixes_stereo_down(tmp_path, suffix, subtype):
    left, right = tone(440, 22050), tone(440, 22050, amplitude=0.3)
    path = tmp_path / f"a{suffix}"
    sf.write(path, np.stack([left, right], axis=1), 22050, subtype=subtype)
    samples, rate = load_audio(path)
    assert rate == 22050
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - len(left)) <= 64   # Vorbis may pad a little
    assert abs(peak_frequency(samples, rate) - 440) < 5
    assert abs(np.abs(samples).max() - 0.4) < 0.02   # average of the two channels
    same, _ = load_audio(path.read_bytes())          # bytes of the file work too
    assert np.allclose(same, samples)


def test_arrays_need_a_sample_rate_and_accept_pairs():
    x = tone(300, 8000)
    with pytest.raises(AudioError, match="sample_rate"):
        load_audio(x)
    a, ra = load_audio(x, 8000)
    b, rb = load_audio((x, 8000))
    assert ra == rb == 8000 and np.array_equal(a, b)
    with pytest.raises(AudioError, match="different sample rates"):
        load_audio((x, 8000), 16000)
    for bad_rate in (0, -5, 100, 44100.5, "fast", 10**7):
        with pytest.raises(AudioError):
            load_audio(x, bad_rate)


def test_integer_arrays_are_scaled_and_channels_first_is_understood():
    x = tone(300, 8000)
    as_int16 = np.round(x * 32767).astype(np.int16)
    samples, _ = load_audio(as_int16, 8000)
    assert np.abs(samples - x).max() < 1e-3
    stereo_first = np.stack([x, x])            # (2, n): channels first
    stereo_last = stereo_first.T               # (n, 2)
    assert np.allclose(to_mono(stereo_first), x) and np.allclose(to_mono(stereo_last), x)
    assert np.allclose(load_audio(stereo_first, 8000)[0], x)


def test_resampling_keeps_the_frequency():
    x = tone(1000, 44100, seconds=1.0)
    samples, rate = load_audio(x, 44100, target_rate=16000)
    assert rate == 16000 and len(samples) == 16000
    assert abs(peak_frequency(samples, 16000) - 1000) < 2
    assert resample(x, 44100, 44100) is x


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(AudioError, match="empty"):
        load_audio(np.zeros(0), 16000)
    with pytest.raises(AudioError, match="NaN"):
        load_audio(np.array([0.0, np.nan]), 16000)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not a sound")
    with pytest.raises(AudioError, match="WAV, FLAC or OGG"):
        load_audio(not_audio)
    with pytest.raises(AudioError, match="WAV, FLAC or OGG"):
        load_audio(b"garbage bytes")
    with pytest.raises(MissingFileError):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="folder"):
        load_audio(tmp_path)
    with pytest.raises(OfflineError):
        load_audio("https://example.com/a.wav")
    with pytest.raises(InputError):
        load_audio({"samples": [1, 2]})
    with pytest.raises(AudioError, match="1-D"):
        load_audio(np.zeros((2, 3, 4)), 16000)
    sf.write(tmp_path / "ok.wav", tone(200, 8000), 8000)
    with pytest.raises(AudioError, match="own sample rate"):
        load_audio(tmp_path / "ok.wav", 16000)
    assert issubclass(AudioError, PlaymlError)


def test_silence_and_listing(tmp_path):
    assert is_silent(np.zeros(1000)) and is_silent(np.full(1000, 1e-6))
    assert not is_silent(tone(200, 8000))
    (tmp_path / "clap").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("clap/a.wav", "clap/b.FLAC", ".hidden/c.wav"):
        sf.write(tmp_path / name, tone(200, 8000), 8000)
    (tmp_path / "clap" / "readme.txt").write_text("not audio")
    assert [p.name for p in list_audio(tmp_path)] == ["a.wav", "b.FLAC"]
    assert is_audio_like(tmp_path / "clap" / "a.wav") and not is_audio_like(tmp_path)
    assert is_audio_like((tone(200, 8000), 8000)) and not is_audio_like([tone(200, 8000)])
