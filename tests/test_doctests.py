"""Run the docstring examples of every minadv module (they are part of the documentation)."""

import doctest
import importlib
import pkgutil

import pytest

import minadv

MODULES = sorted(m.name for m in pkgutil.walk_packages(minadv.__path__, "minadv."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
