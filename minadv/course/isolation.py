"""Grading a submission in a separate interpreter: the parent side of ``minadv grade``.

The student's file never runs in the grader's process, and what runs in the child is the
file's definitions only (:mod:`minadv.course.definitions`: a tutorial's training, plots and
``check(...)`` calls are dropped before the child starts).  For each source file the parent starts
``python -I runner.py`` (:mod:`minadv.course.runner`: isolated mode, so no ``PYTHONPATH``, user
site or current directory leaks in; a minimal environment with one BLAS thread), hands it the
case inputs as ``.npz`` files in a temporary folder, and reads back one ``.npz`` of outputs per
case.  The parent computes the references, compares and decides every verdict and the exit
status, so nothing the child prints, exits with, patches or registers (``sys.exit``,
``os._exit``, ``atexit``, rebinding grader functions, ``object.__setattr__`` on an exercise)
reaches it: the grader's objects do not exist in the child.

Limits, per case: ``timeout`` seconds of wall time (the child is killed, the case fails and
the other cases go on in a new child: a loop that only some inputs trigger costs only those
cases, a loop on every input costs ``timeout`` per case); loading the submission in a child
may take ``max(timeout, LOAD_TIMEOUT)`` seconds (:func:`load_timeout`: imports are paid once
per child, whatever the per-case limit); an
address-space cap of ``memory_mb`` (``resource.setrlimit(RLIMIT_AS)``; enforced on Linux, not
on Windows, loosely on macOS).  The default cap, 1024 MB, is over four times what the child
needs: ``python -I`` with NumPy, SciPy's ``special``/``linalg`` and one OpenBLAS thread peaks at
230 MB of address space (``VmPeak``, measured on Linux x86-64), ``minadv.attacks`` at 190 MB;
an allocation beyond the cap raises ``MemoryError`` in the child, which fails the case.  A
child that dies, hangs or writes an unreadable file fails that case with a one-line reason.

What the guard does not do: a determined student can still read files or hide their own NumPy
warnings from the runner; they cannot obtain the references (the child never loads them) or
change a verdict.  Imports of ``minadv`` are refused (static check in
:mod:`minadv.course.imports`, import hook in the child) unless the exercise allows them.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import runner
from .grading import Case, CaseSpec, CheckResult, finish_hints, judge, reference_output
from .registry import get_exercise

__all__ = ["PreparedCase", "prepare_cases", "run_submission", "child_environment",
           "DEFAULT_TIMEOUT", "LOAD_TIMEOUT", "load_timeout", "DEFAULT_MEMORY_MB"]

DEFAULT_TIMEOUT = 10.0
#: seconds a child may take to load the submission, at least (interpreter start, NumPy, SciPy
#: and the file's own imports: a notebook importing matplotlib takes about a second); a short
#: per-case ``timeout`` does not shorten it
LOAD_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 1024
RUNNER = Path(runner.__file__).resolve()


@dataclass(frozen=True)
class PreparedCase:
    """One case ready to run: its spec, the reference output and the inputs file."""

    exercise: str
    spec: CaseSpec
    ref: object
    inputs: str


def prepare_cases(names, seed: int, folder) -> dict:
    """Draw each exercise's cases, compute the references, write the inputs to ``folder``;
    returns ``{name: [PreparedCase, ...]}`` (shared by every student).

    Exercise ``name`` draws from ``default_rng([seed, crc32(name)])``: its cases depend on the
    seed and the name only, not on which other exercises are graded with it.
    """
    prepared = {}
    for name in names:
        ex = get_exercise(name)
        gen = np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])
        cases = []
        for j, spec in enumerate(ex.make_cases(gen)):
            path = os.path.join(folder, f"in_{name}_{j}.npz")
            runner.save_tree(path, {"case": spec.name}, {"args": tuple(spec.args),
                                                         "kwargs": dict(spec.kwargs)})
            cases.append(PreparedCase(name, spec, reference_output(ex, spec), path))
        prepared[name] = cases
    return prepared


def child_environment() -> dict:
    """A minimal environment: one BLAS/OpenMP thread, UTF-8, nothing from the user's shell."""
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8",
           "PYTHONHASHSEED": "0", "PATH": os.defpath, "LC_ALL": "C.UTF-8"}
    for key in ("SYSTEMROOT", "TMP", "TEMP", "TMPDIR"):         # Windows needs SYSTEMROOT
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _minadv_root() -> str:
    import minadv

    return str(Path(minadv.__file__).resolve().parent.parent)


class _Child:
    """One child interpreter running the tasks from ``start`` on; protocol lines via a queue."""

    def __init__(self, job: str, start: int):
        self.err = open(os.path.join(job, f"stderr_{start}.txt"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(RUNNER), job, str(start)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.err,
            env=child_environment(), cwd=job, start_new_session=(os.name == "posix"))
        self.job, self.start = job, start
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            for raw in self.proc.stdout:
                self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):                       # closed under us by kill()
            pass
        self.lines.put(None)                                # EOF: the child is gone

    def next_line(self, timeout: float):
        """The next protocol line, ``None`` at EOF, ``TimeoutError`` after ``timeout``."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def kill(self):
        try:
            if os.name == "posix":                  # the child and whatever it spawned
                os.killpg(self.proc.pid, signal.SIGKILL)
            elif self.proc.poll() is None:
                self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        self.err.close()

    def death(self) -> str:
        """One line on why the child ended: exit status or signal, last stderr line."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        how = (f"killed by signal {-code}" if code < 0 else f"exit status {code}")
        path = os.path.join(self.job, f"stderr_{self.start}.txt")
        lines = Path(path).read_text("utf-8", "replace").strip().splitlines() if (
            os.path.exists(path)) else []
        tail = f"; last error line: {lines[-1][:200]}" if lines else ""
        return f"the submission ended the grading process ({how}){tail}"


def _failed(spec: CaseSpec, hint: str) -> Case:
    return Case(spec.name, False, float("nan"), hint)


def _verdict(task: PreparedCase, out_path: str) -> Case:
    """Read the child's output for ``task`` and judge it (garbage fails the case)."""
    ex = get_exercise(task.exercise)
    try:
        record, trees = runner.load_tree(out_path)
        error, notimpl = record.get("error"), bool(record.get("notimpl"))
        msgs = [str(m) for m in record.get("msgs", [])]
        modified, seconds = bool(record.get("modified")), float(record.get("seconds", np.nan))
    except Exception as exc:  # noqa: BLE001 - unreadable output: the case fails
        return _failed(task.spec, f"the grading process returned an unreadable result ({exc})")
    if notimpl:
        return Case(task.spec.name, False, float("nan"), "not implemented yet: replace "
                    "`raise NotImplementedError` with your code", seconds)
    if error and error.startswith("raised NameError"):
        error += (" (minadv grade runs only the file's definitions, allowed imports and "
                  "simple constants: compute the value inside the function)")
    if error:
        return Case(task.spec.name, False, float("nan"), error, seconds)
    return judge(ex, task.spec, task.ref, trees["out"], msgs, modified=modified, seconds=seconds)


def run_submission(source, workdir, tasks, *, timeout=DEFAULT_TIMEOUT,
                   memory_mb=DEFAULT_MEMORY_MB, allowed=(), allow_imports=False) -> dict:
    """Run the file ``source`` on ``tasks`` (PreparedCase list) in child interpreters.

    Returns ``{exercise: CheckResult}`` with the cases in task order.  ``workdir`` goes first
    on the child's ``sys.path`` (a submission may import its neighbours).  A load failure
    (syntax error, ``sys.exit`` at import, a crash or hang while loading) fails every case
    with that reason.
    """
    cases: list = [None] * len(tasks)
    with tempfile.TemporaryDirectory(prefix="minadv-grade-") as job:
        manifest = {"source": str(Path(source).resolve()), "workdir": str(Path(workdir).resolve()),
                    "minadv_root": _minadv_root(), "memory_mb": memory_mb,
                    "allowed": sorted(allowed), "allow_imports": bool(allow_imports),
                    "tasks": [{"exercise": t.exercise, "inputs": t.inputs} for t in tasks]}
        Path(job, "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        start = 0
        while start < len(tasks):
            start = _one_child(job, start, tasks, cases, timeout)
    results = {}
    for task, case in zip(tasks, cases):
        results.setdefault(task.exercise, []).append(case)
    return {name: CheckResult(name, finish_hints(found)) for name, found in results.items()}


def load_timeout(timeout: float) -> float:
    """Seconds a child may take to load the submission: ``max(timeout, LOAD_TIMEOUT)``.

    Loading is paid once per child, not per case, and its cost (imports) has nothing to do
    with the per-case limit: a short ``timeout`` for fast exercises must not fail the load."""
    return max(float(timeout), LOAD_TIMEOUT)


def _one_child(job, start, tasks, cases, timeout) -> int:
    """Run one child from task ``start``; fill ``cases``; return where the next child starts."""
    child, load_limit = _Child(job, start), load_timeout(timeout)
    try:
        try:
            line = child.next_line(load_limit)
        except TimeoutError:
            line = f"load-error loading took longer than {load_limit:g} s"
        if line != "loaded":
            reason = (line[len("load-error "):] if line and line.startswith("load-error ")
                      else child.death())
            for i in range(start, len(tasks)):
                cases[i] = _failed(tasks[i].spec, f"cannot load the submission: {reason}")
            return len(tasks)
        for i in range(start, len(tasks)):
            began = time.perf_counter()
            try:
                line = child.next_line(timeout)
            except TimeoutError:
                cases[i] = Case(tasks[i].spec.name, False, float("nan"),
                                f"timed out after {timeout:g} s (an infinite loop?)",
                                time.perf_counter() - began)
                return i + 1                       # a new child runs the other cases
            if line != f"done {i}":
                cases[i] = _failed(tasks[i].spec, child.death() if line is None else
                                   f"the grading process wrote an unexpected line {line[:80]!r}")
                return i + 1
            cases[i] = _verdict(tasks[i], os.path.join(job, f"out_{i}.npz"))
        return len(tasks)
    finally:
        child.kill()
