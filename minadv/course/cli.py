"""``minadv grade``: grade a solution file from the command line.

Usage (``argv`` is what follows ``grade``)::

    minadv grade --list                      # one exercise name per line
    minadv grade NAME path/to/solution.py    # run the checker on the function NAME in the file

Exit status: 0 when every case passes, 1 when a case fails, 2 for a usage error (unknown
exercise, missing file, a file that cannot be imported or has no function ``NAME``), which is
reported on one line of stderr.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["main", "load_function"]

USAGE = "usage: minadv grade --list | minadv grade NAME path/to/solution.py"


class UsageError(Exception):
    """A one-line error for stderr (exit status 2)."""


def load_function(path: str, name: str):
    """Import the file ``path`` as a module and return its attribute ``name`` (a callable)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"file not found: {path}")
    spec = importlib.util.spec_from_file_location(f"_minadv_grade_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))     # the file may import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the student's file failed: report it on one line
        raise UsageError(f"cannot import {path}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UsageError(f"{path} defines no function named {name!r}")
    return fn


def main(argv: list[str] | None = None) -> int:
    """Run ``grade`` with the arguments ``argv``; return the exit status (0, 1 or 2)."""
    from . import check, exercises

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv == ["--list"]:
            print("\n".join(exercises()))
            return 0
        if len(argv) != 2 or argv[0].startswith("-"):
            raise UsageError(USAGE)
        name, path = argv
        if name not in exercises():
            raise UsageError(f"unknown exercise {name!r}; `minadv grade --list` shows the names")
        fn = load_function(path, name)
    except UsageError as exc:
        print(f"minadv grade: {exc}", file=sys.stderr)
        return 2
    return 0 if check(name, fn).passed else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
