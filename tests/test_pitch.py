"""Pitch detection with CREPE on synthesized tones: within 1 %, right note, silence has no pitch."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import sawtooth

import playml as ml
from playml.errors import AudioError, InputError, UnknownModelError
from playml.sound.pitch import Pitch, PitchTrack, decode, frames_of, frequency_to_note

RATE = 16000
RNG = np.random.default_rng(7)


def synth(kind: str, freq: float, seconds: float = 0.4, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    if kind == "sine":
        return 0.5 * np.sin(2 * np.pi * freq * t)
    if kind == "sawtooth":
        return 0.3 * sawtooth(2 * np.pi * freq * t)
    if kind == "noisy":   # sine with white noise at about 14 dB SNR
        return 0.5 * np.sin(2 * np.pi * freq * t) + 0.07 * RNG.standard_normal(len(t))
    raise ValueError(kind)


@pytest.fixture(scope="module")
def tiny():
    return ml.pitch_detection()


# notes from E2 to B5 (80 Hz–1 kHz), plus the two ends of the range themselves
NOTES = {"E2": 82.41, "A2": 110.0, "D3": 146.83, "G3": 196.0, "C4": 261.63, "E4": 329.63, "A4": 440.0,
         "C#5": 554.37, "G5": 783.99, "B5": 987.77}


@pytest.mark.parametrize("kind", ["sine", "sawtooth", "noisy"])
def test_tones_come_back_within_one_percent_with_the_right_note(tiny, kind):
    for note, freq in NOTES.items():
        result = tiny.get_pitch(synth(kind, freq), sample_rate=RATE)
        assert result.frequency is not None, (kind, note, result)
        assert abs(result.frequency / freq - 1) < 0.01, (kind, note, result)
        assert result.note == note, (kind, note, result)
        assert result.confidence >= 0.5
    for freq in (80.0, 1000.0):
        result = tiny.get_pitch(synth(kind, freq), sample_rate=RATE)
        assert abs(result.frequency / freq - 1) < 0.01, (kind, freq, result)


def test_silence_and_quiet_noise_have_no_pitch(tiny):
    for quiet in (np.zeros(8000), 1e-5 * RNG.standard_normal(8000)):
        result = tiny.get_pitch(quiet, sample_rate=RATE)
        assert result.frequency is None and result.note is None and result.confidence == 0
    loud_noise = tiny.get_pitch(0.3 * RNG.standard_normal(8000), sample_rate=RATE)
    assert loud_noise.frequency is None and loud_noise.confidence < 0.5


def test_track_follows_a_melody_and_plots(tiny, tmp_path):
    # 0.3 s of A3, 0.2 s of silence, 0.3 s of E4, written as a 44.1 kHz stereo file
    melody = np.concatenate([synth("sine", 220, 0.3, 44100), np.zeros(int(0.2 * 44100)),
                             synth("sine", 329.63, 0.3, 44100)])
    path = tmp_path / "melody.wav"
    sf.write(path, np.stack([melody, melody], axis=1), 44100)
    track = tiny.track(path)
    assert isinstance(track, PitchTrack)
    n = 1 + int(0.8 * RATE) // 160
    assert len(track) == n and track.frequency.shape == track.confidence.shape == (n,)
    assert np.allclose(np.diff(track.times), 0.01)
    notes = track.notes()
    assert notes[10] == "A3" and notes[65] == "E4"
    assert np.isnan(track.frequency[40]) and notes[40] is None          # the silent middle
    assert 0.0 <= track.confidence.min() and track.confidence.max() <= 1.0
    assert track.voiced.sum() > 40
    fig = track.plot()
    fig.savefig(tmp_path / "track.png")
    assert (tmp_path / "track.png").stat().st_size > 5000
    assert track.to_dict()["frequency"][40] != track.to_dict()["frequency"][40]   # NaN survives as NaN
    assert "times=<array" in repr(track)


def test_our_network_matches_the_onnx_engine_and_decoding(tiny):
    import torch

    frames = frames_of(synth("sine", 440, 0.2))
    with torch.inference_mode():
        eager = tiny.model(torch.from_numpy(frames)).numpy()
    fast = tiny.salience(frames)
    assert fast.shape == (len(frames), 360)
    assert np.abs(eager - fast).max() < 1e-4
    freq, conf = decode(fast)
    assert np.all(np.abs(freq[5:-5] / 440 - 1) < 0.01) and np.all(conf[5:-5] > 0.5)


def test_names_results_and_errors(tiny):
    assert frequency_to_note(440) == "A4" and frequency_to_note(261.63) == "C4"
    assert frequency_to_note(27.5) == "A0" and frequency_to_note(None) is None and frequency_to_note(0) is None
    p = Pitch(frequency=440.2, confidence=0.93, note="A4", cents=0.8)
    assert repr(p) == "Pitch(frequency=440.2, confidence=0.93, note='A4')"
    assert p.to_dict() == {"frequency": 440.2, "confidence": 0.93, "note": "A4", "cents": 0.8}
    assert repr(tiny) == "PitchDetector(model='tiny', threshold=0.5)"
    assert tiny.model_card.name == "crepe-tiny" and tiny.model_card.license == "MIT"
    with pytest.raises(UnknownModelError, match="tiny"):
        ml.pitch_detection("small")
    with pytest.raises(InputError):
        ml.pitch_detection(threshold=2)
    with pytest.raises(AudioError, match="sample_rate"):
        tiny.get_pitch(np.zeros(100))
    with pytest.raises(AudioError, match="empty"):
        tiny.get_pitch(np.zeros(0), sample_rate=RATE)
    with pytest.raises(InputError):
        tiny.salience(np.zeros((3, 100)))


def test_full_model_agrees(tmp_path):
    full = ml.pitch_detection("full")
    for freq in (110.0, 440.0):
        result = full.get_pitch(synth("sine", freq, 0.15), sample_rate=RATE)
        assert abs(result.frequency / freq - 1) < 0.01 and result.confidence > 0.8
    assert full.get_pitch(np.zeros(2000), sample_rate=RATE).frequency is None
