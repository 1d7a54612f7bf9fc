"""The teachable sound classifier on spoken words (espeak-ng), tones and noise bursts made in the test.

espeak-ng is a system package (``apt-get install -y espeak-ng``; CI installs it). Locally
the tests that need it skip when it is missing; in CI (PLAYML_REQUIRE_BROWSER=1) they fail.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

import playml as ml
from playml.errors import AudioError, DataError, InputError, NotTrainedError
from playml.sound.sounds import BACKGROUND_NOISE, SoundClassifier
from playml.core.training import History

RATE = 16000
TRAIN_VOICES = ["en-gb", "en-us", "en-gb-scotland", "en-us+f2", "en-gb+m3", "en-gb-scotland+f4"]
TEST_VOICES = ["en-029", "en-gb-x-rp", "en-gb-x-gbclan", "en-029+f3", "en-gb-x-rp+m5", "en-us+f5"]


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        if os.environ.get("PLAYML_REQUIRE_BROWSER"):
            pytest.fail("espeak-ng is required in CI but is not installed (apt-get install espeak-ng)")
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
    return path


def say(word: str, voice: str, speed: int, pitch: int) -> bytes:
    """WAV bytes of espeak-ng saying ``word``."""
    out = subprocess.run([require_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
                         capture_output=True, check=True)
    return out.stdout


def whistle(rng) -> tuple[np.ndarray, int]:
    t = np.arange(RATE) / RATE
    return (0.4 * np.sin(2 * np.pi * rng.uniform(600, 1200) * t)).astype(np.float32), RATE


def noise_burst(rng) -> tuple[np.ndarray, int]:
    x = 0.002 * rng.standard_normal(RATE)
    start = rng.integers(2000, 9000)
    x[start:start + 3000] += 0.5 * rng.standard_normal(3000)
    return x.astype(np.float32), RATE


def dataset(voices: list[str], seed: int) -> list[tuple[object, str]]:
    rng = np.random.default_rng(seed)
    items = []
    for i, voice in enumerate(voices):
        speed, pitch = 130 + 15 * (i % 4), 35 + 10 * (i % 3)
        items += [(say("yes", voice, speed, pitch), "yes"), (say("no", voice, speed, pitch), "no"),
                  (whistle(rng), "whistle"), (noise_burst(rng), "burst")]
    return items


@pytest.fixture(scope="module")
def trained():
    require_espeak()
    rng = np.random.default_rng(0)
    sounds = ml.sound_classifier(seed=0)
    for audio, label in dataset(TRAIN_VOICES, seed=1):
        sounds.add_sound(audio, label)
    sounds.add_background_noise((0.01 * rng.standard_normal(4 * RATE), RATE))   # 4 one-second examples
    history = sounds.train(epochs=60, validation_split=0, progress=False)
    return sounds, history


def test_learns_words_tones_and_bursts_and_generalises_to_new_voices(trained):
    sounds, history = trained
    assert isinstance(history, History) and len(history) == 60
    assert history["accuracy"][-1] == 1.0 and history["loss"][-1] < history["loss"][0]
    assert sounds.labels == ["yes", "no", "whistle", "burst", BACKGROUND_NOISE]
    assert sounds.counts()[BACKGROUND_NOISE] == 4
    test = dataset(TEST_VOICES, seed=2)
    results = sounds.classify([audio for audio, _ in test])
    accuracy = np.mean([r[0].label == label for r, (_, label) in zip(results, test)])
    assert accuracy >= 0.9, [(label, r[0]) for r, (_, label) in zip(results, test) if r[0].label != label]
    report = sounds.evaluate([audio for audio, _ in test], [label for _, label in test])
    assert report.accuracy == accuracy and report.confusion.shape == (5, 5)
    one = sounds.classify(test[0][0], top_k=2)
    assert len(one) == 2 and one[0].confidence >= one[1].confidence
    assert abs(sum(p.confidence for p in sounds.classify(test[0][0])) - 1) < 1e-3
    quiet = sounds.classify((0.01 * np.random.default_rng(5).standard_normal(RATE), RATE))
    assert quiet[0].label == BACKGROUND_NOISE


def test_save_and_load_give_the_same_probabilities(trained, tmp_path):
    sounds, _ = trained
    test = [audio for audio, _ in dataset(TEST_VOICES[:2], seed=3)]
    sounds.save(tmp_path / "sounds")
    files = sorted(p.name for p in (tmp_path / "sounds").iterdir())
    assert files == ["model.json", "model.weights.bin", "model_meta.json"]   # TF.js layers, like ml5.js
    loaded = ml.load(tmp_path / "sounds")
    assert isinstance(loaded, SoundClassifier) and loaded.labels == sounds.labels
    assert np.allclose(loaded.probabilities(test), sounds.probabilities(test), atol=1e-5)
    assert [p[0].label for p in loaded.classify(test)] == [p[0].label for p in sounds.classify(test)]
    topology = json.loads((tmp_path / "sounds" / "model.json").read_text())["modelTopology"]
    layers = [layer["class_name"] for layer in topology["config"]["layers"]]
    assert layers == ["Dense", "Dropout", "Dense"]          # relu and softmax are activations of the Dense layers
    assert repr(loaded).endswith("examples=0, trained=True)")
    with pytest.raises(DataError, match="held-out"):
        loaded.evaluate()                      # a loaded classifier has no examples of its own
    with pytest.raises(DataError, match="must match"):
        loaded.evaluate(test, ["yes"])
    with pytest.raises(DataError, match="not among"):
        loaded.evaluate(test[:1], ["maybe"])


def test_add_sounds_from_folders_with_background_noise(tmp_path):
    rng = np.random.default_rng(3)
    for label, make in (("whistle", whistle), ("burst", noise_burst)):
        (tmp_path / label).mkdir()
        for i in range(4):
            samples, rate = make(rng)
            sf.write(tmp_path / label / f"{i}.wav", samples, rate)
    (tmp_path / BACKGROUND_NOISE).mkdir()
    sf.write(tmp_path / BACKGROUND_NOISE / "room.flac", 0.01 * rng.standard_normal(3 * 22050), 22050)
    sounds = ml.sound_classifier(seed=1).add_sounds(tmp_path)
    assert sounds.counts() == {"whistle": 4, "burst": 4, BACKGROUND_NOISE: 3}
    one_label = ml.sound_classifier().add_sound(tmp_path / "whistle", "tone")      # a folder, one label
    one_label.add_sound([whistle(rng), whistle(rng)], "tone")                      # a list, one label
    assert one_label.counts() == {"tone": 6}
    sounds.train(epochs=30, progress=False)                     # holds out 15 % of each label
    assert "val_accuracy" in sounds.history_
    held_out = sounds.evaluate()
    assert held_out.examples == 3 and held_out.accuracy >= 2 / 3    # one of each label
    assert sounds.evaluate(tmp_path).examples == 11                  # the folder, labelled by sub-folder
    predictions = sounds.classify(tmp_path / "whistle")          # a folder: one list per file
    assert len(predictions) == 4 and all(p[0].label == "whistle" for p in predictions)


def test_mistakes_give_clear_errors(tmp_path):
    sounds = ml.sound_classifier()
    tone = whistle(np.random.default_rng(0))
    with pytest.raises(NotTrainedError, match="trained"):
        sounds.classify(tone)
    with pytest.raises(NotTrainedError):
        sounds.evaluate()
    with pytest.raises(DataError, match="at least two labels"):
        sounds.train(progress=False)
    sounds.add_sound(tone, "whistle")
    with pytest.raises(DataError, match="only 'whistle'"):
        sounds.train(progress=False)
    with pytest.raises(AudioError, match="silent"):
        sounds.add_sound(np.zeros(RATE), "clap", sample_rate=RATE)
    with pytest.raises(InputError, match="empty"):
        sounds.add_sound(tone, "  ")
    with pytest.raises(AudioError, match="sample_rate"):
        sounds.add_sound(np.ones(100), "clap")
    with pytest.raises(AudioError, match="empty"):
        sounds.add_sound(np.zeros(0), "clap", sample_rate=RATE)
    (tmp_path / "loose.wav").write_bytes(b"")
    with pytest.raises(DataError, match="sub-folder"):
        sounds.add_sounds(tmp_path)
    assert repr(sounds) == "SoundClassifier(labels=['whistle'], examples=1, trained=False)"
    assert sounds.model_card.name == "speech-embedding" and "Apache-2.0" in sounds.model_card.license


def test_damaged_saves_give_format_errors(tmp_path):
    from playml.errors import FormatError, MissingFileError

    t = np.arange(RATE) / RATE
    sounds = ml.sound_classifier(seed=0)
    for f in (300, 350):
        sounds.add_sound(np.sin(2 * np.pi * f * t), "low", sample_rate=RATE)
        sounds.add_sound(np.sin(2 * np.pi * 8 * f * t), "high", sample_rate=RATE)
    sounds.train(epochs=5, progress=False)
    sounds.save(tmp_path / "a")
    (tmp_path / "a" / "model.weights.bin").unlink()
    with pytest.raises(MissingFileError, match="model.weights.bin"):
        ml.load(tmp_path / "a")
    sounds.save(tmp_path / "b")
    meta_path = tmp_path / "b" / "model_meta.json"
    meta = json.loads(meta_path.read_text())
    meta["labels"], meta["architecture"]["outputs"] = ["x", "y", "z"], 3
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="3 labels"):
        ml.load(tmp_path / "b")
    meta["playml"]["version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="newer playml"):
        ml.load(tmp_path / "b")
