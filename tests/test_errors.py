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


def test_unknown_names_are_listed_under_a_plural_noun_not_a_plural_model_name():
    import playml as ml

    with pytest.raises(ml.UnknownModelError) as e:
        ml.feature_extractor(layer="block9")
    assert "Known layers of efficientnet-lite0: " in str(e.value) and "lite0s" not in str(e.value)
    assert "Known data sets: " in str(unknown_name("data set", "irs", ["iris"]))
    assert "Known classes: " in str(unknown_name("class", "dgo", ["dog"]))
