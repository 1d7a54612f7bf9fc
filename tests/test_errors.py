import pytest

import playml as ml
from playml.errors import unknown_name


def test_every_error_is_a_playml_error():
    for name in ml._ERRORS:
        assert issubclass(getattr(ml, name), ml.PlaymlError)


def test_missing_file_is_also_builtin_file_not_found():
    assert issubclass(ml.MissingFileError, FileNotFoundError)


def test_unknown_name_suggests_closest():
    err = unknown_name("model", "efficientnet-lite9", ["efficientnet-lite0", "mobilenet-v2"])
    assert "efficientnet-lite0" in str(err) and "Did you mean" in str(err)
    assert not str(err).startswith("'")  # KeyError quoting is undone
