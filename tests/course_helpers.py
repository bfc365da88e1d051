"""Test helpers for the course: the instructor solutions, loaded by path (they are not part of
the installed package), and the check that a planted mistake fails with the hint naming it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import minadv.course as course

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_PATH = ROOT / "tutorials" / "instructor" / "solutions.py"


def load_solutions():
    """The module ``tutorials/instructor/solutions.py`` (imported once, by file path)."""
    name = "minadv_instructor_solutions"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SOLUTIONS_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def planted_params(planted: dict) -> list:
    """``pytest.param(name, label, fn, hint)`` for every planted mistake of
    ``{exercise: [(label, fn, hint), ...]}``, with the id ``name-label``."""
    return [pytest.param(name, label, fn, hint, id=f"{name}-{label}")
            for name, items in planted.items() for label, fn, hint in items]


def assert_fails_with_hint(name: str, fn, hint: str) -> None:
    """``fn`` fails exercise ``name``, and one failing case's hint contains ``hint``."""
    res = course.check(name, fn, verbose=False)
    assert not res.passed
    hints = [c.hint for c in res.cases if not c.passed]
    assert any(hint in h for h in hints), hints
