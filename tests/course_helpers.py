"""Test helpers for the course: the instructor solutions, loaded by path (they are not part of
the installed package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

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
