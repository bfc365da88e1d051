"""``minadv grade --batch`` on a class: 30 students x every exercise (target <= 90 s, 2 cores).

The class is generated from the instructor solutions (``tutorials/instructor/solutions.py``):
two thirds hand in the solutions file (some as a notebook, some as a folder), the rest a copy
with a planted bug in one exercise, one student's function loops forever (it costs one
``--timeout``) and one imports the library (refused).  Timed: one ``minadv grade --batch`` run
in a fresh process, wall clock, with ``--jobs`` = 2 by default.  Reported: the time, the
children's CPU time, the 1-minute load average before and after (the machine is shared: a
load above the core count means the time is inflated), and the gradebook's shape.

Usage: ``python benchmarks/bench_grade.py [--students 30] [--jobs 2] [--keep DIR] [--no-loop]``
(minadv from ``PYTHONPATH``, like every bench file).  Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tutorials" / "instructor" / "solutions.py"

BUGS = [  # (old, new): one planted bug each, as students write them
    ("return dout @ W.T, x.T @ dout, np.sum(dout, axis=0)",
     "return dout @ W.T, dout.T @ x, np.sum(dout, axis=0)"),
    ("return (eps * np.sign(g)).astype(g.dtype)",
     "return np.where(g >= 0, eps, -eps).astype(g.dtype)"),
    ("c = sigmoid(z) * sigmoid(-z)", "c = sigmoid(z) * (1 - sigmoid(z))"),
    ("return dz / n", "return dz"),
    ("e = np.exp(-np.abs(t))                               # in (0, 1]: never overflows\n"
     "    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))",
     "return 1 / (1 + np.exp(-t))"),
]


def _notebook(source: str) -> str:
    cells = [{"cell_type": "code", "source": chunk, "metadata": {}, "outputs": [],
              "execution_count": None} for chunk in source.split("\n\n\n")]
    return json.dumps({"cells": [{"cell_type": "code", "source": "%matplotlib inline",
                                  "metadata": {}, "outputs": [], "execution_count": None}]
                       + cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def make_class(folder: Path, n_students: int, loop: bool = True) -> None:
    """Write ``n_students`` submissions into ``folder``."""
    good = SOLUTIONS.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_students):
        name = f"student{i:02d}"
        text = good
        if i % 3 == 2:                                     # a third carry one planted bug
            old, new = BUGS[(i // 3) % len(BUGS)]
            assert old in text, old
            text = text.replace(old, new)
        if i == 7 and loop:
            text = text.replace("def logsumexp(z):\n", "def logsumexp(z):\n    while True:\n"
                                "        pass\n")
        if i == 11:
            text = "from minadv.course.references import sigmoid  # noqa\n" + text
        if i % 5 == 3:
            (folder / f"{name}.ipynb").write_text(_notebook(text), encoding="utf-8")
        elif i % 5 == 4:
            (folder / name).mkdir(exist_ok=True)
            (folder / name / "answers.py").write_text(text, encoding="utf-8")
        else:
            (folder / f"{name}.py").write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--keep", default=None, help="write the class and gradebook here")
    parser.add_argument("--no-loop", action="store_true",
                        help="no looping student (it costs 6 x --timeout on one worker)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        subs, book = base / "submissions", base / "gradebook.csv"
        make_class(subs, args.students, loop=not args.no_loop)
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "minadv.cli", "grade", "--batch", str(subs),
                               "--out", str(book), "--jobs", str(args.jobs), "--timeout",
                               str(args.timeout)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_after = os.getloadavg()[0]
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        with open(book, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    students = {r["student"] for r in rows}
    full = sum(r["cases_passed"] == r["cases_total"] for r in rows)
    print(f"students {len(students)}, exercises {len(rows) // max(len(students), 1)}, "
          f"rows {len(rows)} ({full} full marks)")
    print(f"wall {seconds:.1f} s with --jobs {args.jobs} (target <= 90 s); CPU of the grader "
          f"and its children {cpu:.1f} s; load average (1 min) {load_before:.2f} before, "
          f"{load_after:.2f} after, on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
