"""Live listening in Python: a sliding window over the microphone (or a file played as if live)."""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml.core.audio import sliding_windows


def test_sliding_windows_follow_the_sound():
    rate = 16000
    sound = np.concatenate([np.zeros(rate, np.float32), np.full(rate, 0.5, np.float32)])
    windows = list(sliding_windows((sound, rate), window=1.0, every=0.25))
    assert [t for t, _ in windows] == [0.25 * k for k in range(1, 9)]
    assert all(len(w) == rate for _, w in windows)
    assert windows[3][1].max() == 0 and windows[-1][1].min() == 0.5      # silence, then the tone fills the window
    assert len(list(sliding_windows((sound, rate), every=0.5, seconds=1.0))) == 2


def test_sounds_listen_decides_every_quarter_second():
    rate = 16000
    t = np.arange(rate) / rate
    sounds = ml.sound_classifier(seed=0)
    for f in (300, 350, 400):
        sounds.add_sound(np.sin(2 * np.pi * f * t) * 0.5, "low", sample_rate=rate)
        sounds.add_sound(np.sin(2 * np.pi * 8 * f * t) * 0.5, "high", sample_rate=rate)
    sounds.train(epochs=30, progress=False)
    stream = np.concatenate([np.sin(2 * np.pi * 330 * t), np.sin(2 * np.pi * 2900 * t)]).astype(np.float32) * 0.5
    decisions = list(sounds.listen((stream, rate)))
    assert len(decisions) == 8
    assert decisions[3][1][0].label == "low" and decisions[-1][1][0].label == "high"


def test_listening_without_a_microphone_library_says_what_to_install():
    try:
        import sounddevice  # noqa: F401
    except (ImportError, OSError):
        pass
    else:
        pytest.skip("sounddevice and PortAudio are installed here")
    with pytest.raises(ml.DependencyError, match="sounddevice"):
        next(ml.pitch_detection().listen())
