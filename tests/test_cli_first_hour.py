"""The `playml` command behaves like a Unix command (issue 19): a reader that goes away
(`| head -1`) ends it quietly with 0; `evaluate`, `search add`, updating indexes, file
modes from the umask, plain lines when piped, and errors that give command-line advice."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "playml" / "samples"


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")


def playml(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "playml", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """photos/ and held_out/ from the bundled textures, a trained model, an index, a WAV and a CSV."""
    import playml as ml
    import soundfile

    folder = tmp_path_factory.mktemp("cli")
    textures = ml.datasets.load("textures", per_row=3)
    train, held_out = textures.split(0.67, 0.33, stratify=True, seed=0)
    train.to_folder(folder / "photos")
    held_out.to_folder(folder / "held_out")
    t = np.arange(16000) / 16000
    soundfile.write(folder / "hum.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 16000)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    np.savetxt(folder / "readings.csv", x, delimiter=",", header="a,b,c,d", comments="")
    playml("train", "photos", "--out", "model", "--epochs", "5", "--seed", "0", cwd=folder)
    playml("search", "build", "photos", "--out", "photos.index", "--quiet", cwd=folder)
    playml("anomaly", "train", "readings.csv", "--out", "det", "--epochs", "2", "--quiet", cwd=folder)
    return folder


def _commands(folder: Path) -> list[list[str]]:
    astronaut = str(SAMPLES / "astronaut.jpg")
    return [
        ["classify", str(SAMPLES), "--top-k", "5"],
        ["models"],
        ["datasets"],
        ["datasets", "iris"],
        ["train", "photos", "--out", "model2", "--epochs", "3"],
        ["predict", "model", "held_out"],
        ["evaluate", "model", "held_out"],
        ["pose", astronaut],
        ["hands", astronaut],
        ["face", astronaut],
        ["segment", astronaut, "--out", "mask.png"],
        ["pitch", "hum.wav", "--track"],
        ["similar", "a happy dog", "a joyful puppy", "tax forms", "a cat"],
        ["sentiment", "What a lovely day", "What an awful day"],
        ["search", "query", "photos.index", "held_out"],
        ["search", "evaluate", "photos.index"],
        ["search", "add", "photos.index", "held_out"],
        ["search", "map", "photos.index", "--out", "map.png", "--method", "pca"],
        ["anomaly", "score", "det", "readings.csv"],
        ["detect", astronaut],
        ["style", "--help"],
        ["write", "--help"],
        ["export", "--help"],
        ["serve", "--help"],   # a server: runs until stopped
        ["studio", "--help"],  # a server: runs until stopped
    ]


def _with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reader is already gone: every write meets a broken pipe
    (the worst case of `| head -1`, and deterministic)."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([sys.executable, "-m", "playml", *args], cwd=cwd, env=_env(), stdout=w,
                              stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(w)


@pytest.mark.slow
def test_every_command_piped_into_a_reader_that_leaves_exits_0_without_a_traceback(workspace):
    from playml.cli.main import build_parser

    commands = _commands(workspace)
    top = {a[0] for a in commands}
    sub = build_parser()._subparsers._group_actions[0].choices
    assert set(sub) <= top, f"commands without a pipe test: {sorted(set(sub) - top)}"
    for args in commands:
        done = _with_closed_stdout(args, workspace)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, (args, done.stderr[-2000:])
    # and the real thing
    for line in ("datasets", "models", "evaluate model held_out"):
        done = subprocess.run(f"{sys.executable} -m playml {line} | head -1", shell=True, cwd=workspace,
                              env=_env(), capture_output=True, text=True, timeout=600, executable="/bin/bash")
        assert done.returncode == 0 and len(done.stdout.splitlines()) == 1 and not done.stderr, done


@pytest.mark.slow
def test_evaluate_reports_accuracy_the_confusion_matrix_and_the_photos_it_got_wrong(workspace):
    import shutil

    wrong = workspace / "mixed"
    shutil.copytree(workspace / "held_out", wrong)
    moved = next((wrong / "galaxies").iterdir())
    shutil.move(moved, wrong / "brick" / moved.name)  # a galaxies photo filed under brick
    done = playml("evaluate", "model", "mixed", "--report", "report.png", cwd=workspace)
    out = done.stdout
    assert out.startswith("accuracy ") and "confusion matrix" in out
    assert "labelled wrongly" in out and moved.name in out
    assert (workspace / "report.png").stat().st_size > 5000
    import json

    data = json.loads(playml("evaluate", "model", "mixed", "--json", cwd=workspace).stdout)
    assert any(m["image"].endswith(moved.name) and m["true"] == "brick" for m in data["misclassified"])
    assert data["accuracy"] < 1.0


@pytest.mark.slow
def test_search_build_into_an_existing_index_adds_and_search_add_adds(workspace):
    from playml.images.search import ImageSearch

    playml("search", "build", "photos/brick", "--out", "two.index", "--quiet", cwd=workspace)
    first = len(ImageSearch.load(workspace / "two.index"))
    done = playml("search", "build", "photos/grass", "--out", "two.index", "--quiet", cwd=workspace)
    assert "added" in done.stdout
    second = len(ImageSearch.load(workspace / "two.index"))
    assert second == first + len(list((workspace / "photos" / "grass").iterdir()))
    playml("search", "add", "two.index", "held_out/gravel", "--quiet", cwd=workspace)
    assert len(ImageSearch.load(workspace / "two.index")) == second + len(list((workspace / "held_out" /
                                                                               "gravel").iterdir()))


@pytest.mark.slow
def test_saved_files_and_folders_get_the_umask_modes(workspace):
    playml("segment", str(SAMPLES / "astronaut.jpg"), "--out", "mask.png", cwd=workspace)
    old = os.umask(0o022)
    try:
        for path in [workspace / "model", workspace / "model" / "model.json", workspace / "photos.index",
                     workspace / "photos.index" / "vectors.npy", workspace / "mask.png"]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
    finally:
        os.umask(old)


@pytest.mark.slow
def test_piped_train_prints_plain_lines_and_one_label_fails_before_any_photo(workspace):
    done = playml("train", "photos", "--out", "model3", "--epochs", "3", cwd=workspace)
    assert "\r" not in done.stdout + done.stderr  # no progress bar redraws in a log
    assert "epoch   3/3" in done.stdout and "photos in 4 labels" in done.stdout
    (workspace / "one" / "cat").mkdir(parents=True)
    for f in list((workspace / "photos" / "brick").iterdir())[:3]:
        (workspace / "one" / "cat" / f.name).write_bytes(f.read_bytes())
    done = playml("train", "one", "--out", "m", cwd=workspace, check=False)
    assert done.returncode == 2 and "at least 2 sub-folders" in done.stderr and "playml train" in done.stderr
    assert "add_image" not in done.stderr  # command-line advice, not Python


def test_webm_video_is_vp9_with_the_umask_mode(tmp_path):
    from playml.core.video import read_video, write_video

    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(10)]
    path = write_video(tmp_path / "clip.webm", frames, fps=10)
    assert path.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # Matroska/WebM
    assert b"V_VP9" in path.read_bytes()[:4096]
    assert len(list(read_video(path))) == 10
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_datasets_shows_the_bundled_set_over_a_local_folder_of_the_same_name(tmp_path):
    """`playml datasets photos` is the bundled set even with a ./photos folder here (with a note
    naming it); written as a path (./photos, photos/) it is the folder."""
    import shutil

    (tmp_path / "photos" / "cat").mkdir(parents=True)
    for name in ("chelsea.jpg", "coffee.jpg"):
        shutil.copy(SAMPLES / name, tmp_path / "photos" / "cat" / name)
    bundled = playml("datasets", "photos", "--rows", "1", cwd=tmp_path)
    assert bundled.stdout.startswith("# photos — ") and "astronaut" in bundled.stdout
    assert "playml datasets ./photos" in bundled.stderr
    for written in ("./photos", "photos/"):
        mine = playml("datasets", written, "--rows", "1", cwd=tmp_path)
        assert "| cat | 2 |" in mine.stdout and "astronaut" not in mine.stdout, mine.stdout
        assert "read 2 images from photos in 1 label folder\n" in mine.stdout  # not "1 label folders"
        assert "## First row\n" in mine.stdout and not mine.stderr
    missing = playml("datasets", "./iris", cwd=tmp_path, check=False)
    assert missing.returncode != 0 and "playml datasets iris" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_datasets_says_what_it_does_with_a_csv_without_label(tmp_path):
    (tmp_path / "readings.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
    (tmp_path / "birds.csv").write_text("wing,beak,species\n1,2,owl\n3,4,hawk\n5,6,owl\n")
    (tmp_path / "numbers.csv").write_text("a,b,c\n1,2,3\n3,4,5\n")
    named = playml("datasets", "readings.csv", cwd=tmp_path)
    assert "using the column 'label' as the label" in named.stderr and "--no-label" in named.stderr
    assert "label 'label': 2 classes (x, y)" in named.stdout
    every = playml("datasets", "readings.csv", "--no-label", cwd=tmp_path)
    assert not every.stderr and "label=x" in every.stdout     # the label column became features, as asked
    guessed = playml("datasets", "birds.csv", cwd=tmp_path)
    assert "every column of birds.csv (wing, beak, species) is treated as a feature" in guessed.stderr
    assert "--label species" in guessed.stderr and "species=owl" in guessed.stdout
    plain = playml("datasets", "numbers.csv", cwd=tmp_path)
    assert "is treated as a feature" in plain.stderr and "--label COLUMN" in plain.stderr
    chosen = playml("datasets", "birds.csv", "--label", "species", cwd=tmp_path)
    assert not chosen.stderr and "label 'species': 2 classes (hawk, owl)" in chosen.stdout
