"""`playml pitch`, `playml similar` and `playml sentiment` from the command line."""
from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from playml.cli import main


def write_tone(path, freq=440.0, rate=22050, seconds=0.5):
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, 0.5 * np.sin(2 * np.pi * freq * t), rate)
    return path


def test_pitch_summary_track_json_and_plot(tmp_path, capsys):
    wav = write_tone(tmp_path / "a4.wav")
    assert main(["pitch", str(wav)]) == 0
    out = capsys.readouterr().out
    assert "A4" in out and "Hz" in out
    png = tmp_path / "pitch.png"
    assert main(["pitch", str(wav), "--json", "--track", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pitch"]["note"] == "A4" and abs(data["pitch"]["frequency"] - 440) < 4.4
    assert len(data["track"]["times"]) == 1 + 8000 // 160
    assert "NaN" not in json.dumps(data)
    assert png.stat().st_size > 5000
    assert main(["pitch", str(wav), "--track"]) == 0
    assert "confidence" in capsys.readouterr().out


def test_pitch_of_silence_and_bad_files(tmp_path, capsys):
    sf.write(tmp_path / "quiet.wav", np.zeros(8000), 16000)
    assert main(["pitch", str(tmp_path / "quiet.wav")]) == 0
    assert "no clear pitch" in capsys.readouterr().out
    (tmp_path / "notes.wav").write_text("not a sound")
    assert main(["pitch", str(tmp_path / "notes.wav")]) == 2
    assert "WAV, FLAC or OGG" in capsys.readouterr().err
    assert main(["pitch", str(tmp_path / "missing.wav")]) == 2
    assert "There is no file" in capsys.readouterr().err


def test_similar_with_texts_and_a_file(tmp_path, capsys):
    assert main(["similar", "happy dog", "tax forms are due", "a joyful puppy", "-k", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["text"] for r in data["results"]] == ["a joyful puppy"]
    lines = tmp_path / "candidates.txt"
    lines.write_text("the weather is cold\na cheerful hound\n", encoding="utf-8")
    assert main(["similar", "happy dog", str(lines)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "similarity" in table[0] and "a cheerful hound" in table[2]
    assert main(["similar", "", "a"]) == 2
    assert "empty" in capsys.readouterr().err


def test_sentiment(capsys):
    assert main(["sentiment", "What a lovely day", "I hate Mondays", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["label"] for d in data] == ["positive", "negative"] and data[0]["text"] == "What a lovely day"
    assert main(["sentiment", "The sky is blue"]) == 0
    assert "neutral" in capsys.readouterr().out
    assert main(["sentiment", " "]) == 2
    assert "empty" in capsys.readouterr().err
