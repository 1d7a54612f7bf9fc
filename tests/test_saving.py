import json
import os

import pytest

import playml as ml
from playml.core.saving import atomic_write, read_json, save_directory


def test_save_directory_writes_all_files(tmp_path):
    out = save_directory(tmp_path / "m", {"a.json": {"x": 1}, "b.bin": b"\x00\x01", "c.txt": "hi"})
    assert json.loads((out / "a.json").read_text()) == {"x": 1}
    assert (out / "b.bin").read_bytes() == b"\x00\x01"


def test_failed_save_leaves_old_model_untouched(tmp_path):
    meta = {"playml": {"kind": "test"}}
    save_directory(tmp_path / "m", {"a.json": {"v": 1}, "model_meta.json": meta})

    class Boom:
        pass

    with pytest.raises(TypeError):
        save_directory(tmp_path / "m", {"a.json": {"v": 2}, "b.bin": Boom(), "model_meta.json": meta})
    assert json.loads((tmp_path / "m" / "a.json").read_text()) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary leftovers


def test_atomic_write_replaces(tmp_path):
    atomic_write(tmp_path / "f.txt", "one")
    atomic_write(tmp_path / "f.txt", "two")
    assert (tmp_path / "f.txt").read_text() == "two"
    assert sorted(os.listdir(tmp_path)) == ["f.txt"]


def test_load_errors_are_friendly(tmp_path):
    with pytest.raises(ml.MissingFileError):
        ml.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ml.FormatError, match="model_meta.json"):
        ml.load(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model_meta.json").write_text("{not json")
    with pytest.raises(ml.FormatError, match="not valid JSON"):
        read_json(tmp_path / "bad" / "model_meta.json")


def test_newer_format_is_refused_for_every_kind(tmp_path):
    from playml.registry import saved_kinds

    for kind in saved_kinds():
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "model_meta.json").write_text(json.dumps({"playml": {"kind": kind, "version": 999}}))
        with pytest.raises(ml.FormatError, match="newer playml"):
            ml.load(tmp_path / kind)
