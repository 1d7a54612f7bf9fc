"""Issue 14: property-based tests (Hypothesis) of the save/load block and the input readers."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import playml as ml
from playml.core.saving import ModelFolder, check_size, read_json, save_directory

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..") and not s.startswith("."))
contents = st.binary(max_size=2048)
KIND = {"playml": {"kind": "property_test"}}


@SETTINGS
@given(first=st.dictionaries(names, contents, max_size=5), second=st.dictionaries(names, contents, max_size=5))
def test_a_save_reads_back_exactly_and_replaces_the_whole_previous_version(first, second):
    with tempfile.TemporaryDirectory() as tmp:
        for files in (first, second):
            files = {**files, "model_meta.json": json.dumps(KIND)}
            try:
                path = save_directory(Path(tmp) / "m", files)
            except ml.FileAccessError:  # the first version left a file the second does not write: kept, refused
                assert files is not first
                assert set(first) - set(second) - {"model_meta.json"} - {
                    "model.json", "model.weights.bin", "items.json", "vectors.npy", "graph.usearch"}
                return
            with ModelFolder(path) as folder:
                for name, data in files.items():
                    want = data.encode() if isinstance(data, str) else data
                    assert folder.read_bytes(name, max_bytes=1 << 20) == want
            assert set(os.listdir(path)) == set(files)
            assert os.listdir(tmp) == ["m"]


@SETTINGS
@given(name=st.lists(st.sampled_from(["../", "/", "./", ".", "secret.bin", "inside.bin", "sub/", "sub", "%2e", "\\",
                                      "~", "proc/self/environ", "/proc/self/", "file:", "x"]), min_size=1,
                     max_size=8).map("".join))
def test_no_name_reads_a_file_outside_the_folder(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("conf")
    (root / "secret.bin").write_bytes(b"SECRET")
    folder_path = root / "m"
    (folder_path / "sub").mkdir(parents=True)
    (folder_path / "inside.bin").write_bytes(b"inside")
    (folder_path / "sub" / "inside.bin").write_bytes(b"inside")
    (folder_path / "sub" / "secret.bin").symlink_to(root / "secret.bin")
    (folder_path / "secret.bin").symlink_to(root / "secret.bin")
    with ModelFolder(folder_path) as folder:
        try:
            data = folder.read_bytes(name, max_bytes=1 << 20)
        except ml.PlaymlError:
            return
        assert data == b"inside"


@SETTINGS
@given(user_files=st.dictionaries(names.filter(lambda n: n not in ("model_meta.json", "model.json",
                                                                     "model.weights.bin")), contents,
                                  min_size=1, max_size=4))
def test_a_folder_with_user_files_is_never_replaced(user_files):
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "project"
        target.mkdir()
        for name, data in user_files.items():
            (target / name).write_bytes(data)
        with pytest.raises(ml.FileAccessError):
            save_directory(target, {"model_meta.json": KIND, "model.json": "{}"})
        assert {p.name: p.read_bytes() for p in target.iterdir()} == user_files
        assert os.listdir(tmp) == ["project"]


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                      st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                                   lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                                   max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_read_json_returns_or_raises_format_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("j") / "f.json"
    path.write_bytes(data)
    try:
        read_json(path)
    except ml.FormatError:
        pass


@SETTINGS
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=4),
                       st.lists(st.integers(), max_size=2)))
def test_check_size_accepts_only_whole_numbers_in_range(value):
    try:
        got = check_size(value, "x", limit=1000, minimum=1)
    except ml.FormatError:
        return
    assert isinstance(got, int) and 1 <= got <= 1000 and got == value and not isinstance(value, bool)


@SETTINGS
@given(samples=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=64),
       rate=st.one_of(st.integers(-10, 500_000), st.floats(allow_nan=True), st.none(), st.text(max_size=3)))
def test_audio_arrays_give_finite_samples_or_an_audio_error(samples, rate):
    from playml.core.audio import load_audio

    try:
        out, got_rate = load_audio(np.asarray(samples, dtype=np.float32), rate)
    except ml.PlaymlError:
        return
    assert out.dtype == np.float32 and np.isfinite(out).all() and 1000 <= got_rate <= 384_000


@SETTINGS
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=4),
       dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_]),
       scale=st.sampled_from([1, 255, 70000, np.nan, np.inf]))
def test_image_arrays_give_rgb_uint8_or_a_playml_error(shape, dtype, scale):
    from playml.core.media import load_image

    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):
        arr = (rng.random(shape) * scale).astype(dtype)
    try:
        out = load_image(arr)
    except ml.PlaymlError:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
