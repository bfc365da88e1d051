"""``minadv grade``: grade one solution file, or a whole class, in isolated interpreters.

Usage (``argv`` is what follows ``grade``)::

    minadv grade --list                           # exercise, tutorial, one-line task
    minadv grade NAME path/to/solution.py         # one exercise, one file (.py or .ipynb)
    minadv grade --batch SUBMISSIONS [--exercises a,b] [--out gradebook.csv]
                 [--gradescope results.json] [--jobs J]
    common options: [--seed N] [--timeout S] [--memory MB] [--allow-imports]

A submission may be a whole tutorial notebook: only its definitions (defs, classes, allowed
imports, simple constants) are graded and run, every other top-level statement is dropped
(:mod:`minadv.course.definitions`).  Each submission runs in a child interpreter
(:mod:`minadv.course.isolation`) with a per-case
time limit (``--timeout``, default 10 s) and a memory cap (``--memory``, default 1024 MB, POSIX);
the grader compares its outputs with the references.  Imports of ``minadv`` and of the library
function an exercise asks to write are refused (:mod:`minadv.course.imports`;
``--allow-imports`` turns that off).  The random cases come from the grader's seed (``--seed``,
default :data:`minadv.course.batch.GRADER_SEED`), not from the seed 0 students use in
``check()``.  Partial credit is the fraction of cases passed (:mod:`minadv.course.batch`).
The instructor's guide is ``docs/grading.md``.

Exit status: 0 when every case passes, 1 when a case fails (also a refused, crashing, looping
or exiting submission), 2 for a usage error (unknown exercise, missing file, a file that
cannot be imported or has no function ``NAME``), reported on one line of stderr.  ``--batch``
exits 0 once the gradebook is written (the grades are in it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


class UsageError(Exception):
    """A one-line error for stderr (exit status 2)."""


USAGE = "usage: minadv grade --list | NAME FILE | --batch SUBMISSIONS (see --help)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message}; {USAGE}")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``minadv grade``."""
    from .batch import GRADER_SEED
    from .isolation import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, LOAD_TIMEOUT

    p = _Parser(prog="minadv grade", description="Grade course exercises in isolated "
                "interpreters: one file (NAME FILE) or a class (--batch).",
                epilog="Exit status: 0 all cases pass, 1 a case fails, 2 usage error. "
                       "Partial credit in the gradebook: the fraction of cases passed.")
    p.add_argument("name", nargs="?", metavar="NAME", help="exercise to grade (see --list)")
    p.add_argument("file", nargs="?", metavar="FILE", help="the solution (.py or .ipynb)")
    p.add_argument("--list", action="store_true", help="list exercises, tutorials and tasks")
    p.add_argument("--batch", metavar="SUBMISSIONS",
                   help="folder with one .py/.ipynb file or one folder per student "
                        "(or one student's file)")
    p.add_argument("--exercises", metavar="A,B", help="exercises to grade (default: all)")
    p.add_argument("--out", metavar="CSV", help="write the gradebook (default: gradebook.csv)")
    p.add_argument("--gradescope", metavar="PATH",
                   help="write Gradescope's results.json (a folder of them for several students)")
    p.add_argument("--jobs", type=_count, default=0, metavar="J", help="students graded at once (default: "
                   "the available cores)")
    p.add_argument("--seed", type=_count, default=GRADER_SEED, metavar="N",
                   help=f"seed of the random cases (default {GRADER_SEED})")
    p.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds per case (default {DEFAULT_TIMEOUT:g}; loading the file may take "
                        f"max(S, {LOAD_TIMEOUT:g}))")
    p.add_argument("--memory", type=_positive, default=DEFAULT_MEMORY_MB, metavar="MB",
                   help=f"memory cap of the child in MB (default {DEFAULT_MEMORY_MB}; POSIX)")
    p.add_argument("--allow-imports", action="store_true",
                   help="do not refuse minadv imports or the exercise's forbidden functions")
    return p


def _list() -> int:
    from .registry import EXERCISES

    width = max(len(n) for n in EXERCISES)
    for name, ex in EXERCISES.items():
        where = ex.tutorial or "-"
        print(f"{name:<{width}}  {where:<36}  {ex.one_line}")
    return 0


def _exercise_names(text) -> list[str]:
    from . import exercises

    if not text:
        return exercises()
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in exercises()]
    if unknown or not names:
        raise UsageError(f"--exercises: unknown exercise {', '.join(unknown) or text!r}; "
                         "`minadv grade --list` shows the names")
    return names


def _single(args) -> int:
    from . import exercises
    from .batch import Submission, grade_students

    if args.name not in exercises():
        raise UsageError(f"unknown exercise {args.name!r}; `minadv grade --list` shows the names")
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {args.file}")
    if path.suffix not in (".py", ".ipynb"):
        raise UsageError(f"cannot import {args.file}: not a .py or .ipynb file")
    (student,) = grade_students([Submission(path.stem, (path,))], [args.name], seed=args.seed,
                                jobs=1, timeout=args.timeout, memory_mb=args.memory,
                                allow_imports=args.allow_imports)
    result = student.results[args.name]
    hints = {c.hint for c in result.cases}
    if len(hints) == 1:
        (hint,) = hints
        if hint.startswith("cannot load the submission: "):
            raise UsageError(f"cannot import {args.file}: {hint.split(': ', 1)[1]}")
        if hint.startswith("the submission defines no function named"):
            raise UsageError(f"{args.file} defines no function named {args.name!r}")
        if hint.startswith("refused: "):
            print(f"minadv grade: {hint}", file=sys.stderr)
            return 1
    print(str(result))
    return 0 if result.passed else 1


def _batch(args) -> int:
    from .batch import discover, grade_students, write_gradebook, write_gradescope

    if args.name or args.file:
        raise UsageError("--batch takes no NAME or FILE (use --exercises a,b)")
    try:
        subs = discover(args.batch)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not subs:
        raise UsageError(f"no submissions (.py, .ipynb or folders) in {args.batch}")
    names = _exercise_names(args.exercises)
    start = time.perf_counter()
    students = grade_students(subs, names, seed=args.seed, jobs=args.jobs or None,
                              timeout=args.timeout, memory_mb=args.memory,
                              allow_imports=args.allow_imports)
    out = args.out or "gradebook.csv"
    write_gradebook(out, students)
    total = len(names)
    for st in students:
        print(f"{st.student:<24} {st.score:6.2f} / {total}")
    print(f"gradebook: {out} ({len(students)} students x {total} exercises, "
          f"{time.perf_counter() - start:.1f} s)")
    if args.gradescope:
        files = write_gradescope(args.gradescope, students)
        print(f"gradescope: {files[0] if len(files) == 1 else args.gradescope} "
              f"({len(files)} results.json)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``grade`` with the arguments ``argv``; return the exit status (0, 1 or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:                    # --help
            return int(exc.code or 0)
        if args.list:
            return _list()
        if args.batch:
            return _batch(args)
        if not (args.name and args.file):
            raise UsageError(USAGE)
        return _single(args)
    except UsageError as exc:
        print(f"minadv grade: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
