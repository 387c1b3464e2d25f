"""The worked examples in attnkit's docstrings are run, so they cannot go stale."""
import doctest
import importlib
import pkgutil

import pytest

import attnkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(attnkit.__path__, "attnkit.")
                 if not m.name.rsplit(".", 1)[-1].startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} fail"
