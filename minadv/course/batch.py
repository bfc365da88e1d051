"""Grading a class: find the submissions, grade them in parallel, write a gradebook.

A submissions folder holds one entry per student: a ``.py`` file, a ``.ipynb`` notebook (its
code cells are extracted from the JSON, no Jupyter needed; ``!shell`` and ``%magic`` lines and
``%%cell`` magics are skipped) or a folder of such files (each exercise is graded from the
first file, in name order, that defines it at module level).  The student's name is the file's
stem or the folder's name.  A student's files may import their own neighbours (a helper
module in their folder); a file in the class folder may not import the files beside it (the
other students').

A submission may be a whole tutorial (the student release's notebooks import ``minadv`` for
data, training and plots): only its definitions are graded and run, every other top-level
statement is dropped first (:mod:`minadv.course.definitions`).

Partial credit: an exercise scores the fraction of its cases passed (``cases_passed /
cases_total``, in [0, 1]); a student's total is the sum over the exercises graded.  Every
student gets the same cases, drawn from the grader's seed (``--seed``; by default
:data:`GRADER_SEED`, not the seed 0 that students see in ``check()``).
"""

from __future__ import annotations

import ast
import csv
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .definitions import keep_definitions, parse_source
from .grading import Case, CheckResult
from .imports import refusals
from .isolation import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, prepare_cases, run_submission
from .registry import get_exercise

__all__ = ["GRADER_SEED", "Submission", "StudentResult", "discover", "discover_names",
           "notebook_source", "notebook_source_text", "grade_students",
           "write_gradebook", "gradescope_results", "write_gradescope", "default_jobs",
           "plan_submission", "run_children", "ChildRun"]

GRADER_SEED = 20260516
GRADEBOOK_FIELDS = ("student", "exercise", "cases_passed", "cases_total", "score", "seconds",
                    "error")


@dataclass(frozen=True)
class Submission:
    """One student's files (``.py`` and ``.ipynb``).

    ``neighbours``: whether the files may import the modules beside them (``helpers.py``):
    true for a student's own folder or a single file, false for one file among the other
    students' files of a class folder (those neighbours are classmates)."""

    student: str
    files: tuple
    neighbours: bool = True


@dataclass
class StudentResult:
    """One student's results: ``{exercise: CheckResult}``."""

    student: str
    results: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results.values())


def _code_files(folder: Path) -> tuple:
    return tuple(sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb")
                        and not p.name.startswith(".")))


def discover(folder) -> list[Submission]:
    """The students in ``folder``: one per ``.py``/``.ipynb`` file or sub-folder, by name
    (``folder`` may also be one file: one student)."""
    folder = Path(folder)
    if folder.is_file() and folder.suffix in (".py", ".ipynb"):
        return [Submission(folder.stem, (folder,))]          # one student (e.g. Gradescope)
    if not folder.is_dir():
        raise ValueError(f"submissions: expected a folder or a .py/.ipynb file, got "
                         f"{str(folder)!r}")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            files = _code_files(entry)
            if files:
                found.append(Submission(entry.name, files))
        elif entry.suffix in (".py", ".ipynb"):
            found.append(Submission(entry.stem, (entry,), neighbours=False))
    return found


def notebook_source(path) -> str:
    """The code cells of the notebook ``path`` as one Python source (magics skipped)."""
    return notebook_source_text(Path(path).read_text(encoding="utf-8"))


def notebook_source_text(text: str) -> str:
    """The code cells of a notebook's JSON ``text`` as one Python source (magics skipped)."""
    nb = json.loads(text)
    chunks = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.lstrip().startswith("%%"):
            continue                                    # a cell magic: not Python
        lines = [line for line in text.splitlines()
                 if not line.lstrip().startswith(("!", "%"))]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def discover_names(entries) -> list[str]:
    """Student names for relative paths ``entries`` laid out as in a submissions folder."""
    names = []
    for entry in entries:
        parts = Path(entry).parts
        name = parts[0] if len(parts) > 1 else Path(parts[0]).stem
        if name not in names:
            names.append(name)
    return names


def _source(path: Path) -> str:
    return notebook_source(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")


def _top_level_names(source: str) -> set:
    """Names ``source`` binds at module level by ``def`` or plain assignment (one parse; an
    unparsable file binds none: the child reports its syntax error)."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _answered(defined: set) -> list[str]:
    """The exercises whose function a file defines at module level (``defined``: its
    :func:`_top_level_names`)."""
    from .registry import EXERCISES

    return [name for name in EXERCISES if name in defined]


def _refused(prepared_cases, messages) -> CheckResult:
    text = "refused: " + "; ".join(messages[:3]) + (" (pass --allow-imports to override)")
    cases = [Case(p.spec.name, False, float("nan"), text) for p in prepared_cases]
    return CheckResult(prepared_cases[0].exercise, cases)


def _local_modules(folder: Path) -> set:
    """Names a submission in ``folder`` may import from its neighbours."""
    return {p.stem for p in folder.iterdir() if p.suffix == ".py"} | {
        p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}


@dataclass
class ChildRun:
    """One child interpreter's work for a student: a file's definitions and its cases."""

    stem: str
    source: str                         # the definitions the child runs
    workdir: Path | None                # the student's folder (None: a fresh temp dir)
    tasks: list
    allowed: list


def plan_submission(sub: Submission, prepared: dict, *,
                    allow_imports=False) -> tuple[StudentResult, list[ChildRun]]:
    """Everything about one student that reads the source: which file answers which exercise,
    the refusals, and the definitions each child runs (:mod:`minadv.course.definitions`).

    What is judged (:func:`~minadv.course.imports.refusals`) and run is the same cut.  The
    batch calls this on the main thread only: CPython 3.11's AST conversion is not
    thread-safe (CPython issue gh-106905), so no parse happens on the pool's threads."""
    sources = {f: _source(Path(f)) for f in sub.files}
    defined = {f: _top_level_names(sources[f]) for f in sub.files}     # one parse per file
    plan: dict = {}                                     # file -> exercise names
    for name in prepared:
        owner = next((f for f in sub.files if name in defined[f]), sub.files[0])
        plan.setdefault(owner, []).append(name)
    out, runs = StudentResult(sub.student), []
    for file, names in plan.items():
        # the minadv names any exercise answered in this file allows (a file answering
        # several exercises imports them all, whichever one is graded now)
        allowed_anywhere = {a for n in set(names) | set(_answered(defined[file]))
                            for a in get_exercise(n).allowed}
        local = _local_modules(Path(file).parent) if sub.neighbours else set()
        tasks = []
        for name in names:
            why = [] if allow_imports else refusals(
                sources[file], get_exercise(name), allowed_anywhere=allowed_anywhere,
                graded=names, local_modules=local)
            if why:
                out.results[name] = _refused(prepared[name], why)
            else:
                tasks += prepared[name]
        if tasks:
            runs.append(ChildRun(Path(file).stem, _definitions(
                sources[file], names, allowed_anywhere, local, allow_imports),
                Path(file).parent if sub.neighbours else None, tasks,
                sorted(allowed_anywhere)))
    return out, runs


def run_children(out: StudentResult, runs: list, prepared: dict, *, timeout=DEFAULT_TIMEOUT,
                 memory_mb=DEFAULT_MEMORY_MB, allow_imports=False) -> StudentResult:
    """Run a student's planned children (:func:`plan_submission`) and collect the verdicts."""
    for run in runs:
        with tempfile.TemporaryDirectory(prefix="minadv-src-") as tmp:
            path = Path(tmp, run.stem + ".py")          # the definitions, run in the child
            path.write_text(run.source, encoding="utf-8")
            out.results.update(run_submission(
                path, run.workdir or Path(tmp), run.tasks, timeout=timeout,
                memory_mb=memory_mb, allowed=run.allowed, allow_imports=allow_imports))
    out.results = {name: out.results[name] for name in prepared}   # course order
    return out


def _definitions(source, graded, allowed, local, allow_imports) -> str:
    """What the child runs: the definitions of ``source`` (a syntax error is left for the
    child to report)."""
    try:
        return keep_definitions(source, graded=graded, allowed=allowed, local_modules=local,
                                keep_all_imports=allow_imports).source
    except SyntaxError:
        return source


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                               # not Linux
        return max(1, os.cpu_count() or 1)


def grade_students(subs, names, *, seed=GRADER_SEED, jobs=None, timeout=DEFAULT_TIMEOUT,
                   memory_mb=DEFAULT_MEMORY_MB, allow_imports=False) -> list[StudentResult]:
    """Grade every submission on the exercises ``names``, ``jobs`` students at a time."""
    with tempfile.TemporaryDirectory(prefix="minadv-cases-") as folder:
        prepared = prepare_cases(names, seed, folder)
        # every parse on this thread; the pool's threads only wait for children
        plans = [plan_submission(s, prepared, allow_imports=allow_imports) for s in subs]
        with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
            return list(pool.map(lambda plan: run_children(
                *plan, prepared, timeout=timeout, memory_mb=memory_mb,
                allow_imports=allow_imports), plans))


def _first_problem(result: CheckResult) -> str:
    bad = [c for c in result.cases if not c.passed]
    return f"{bad[0].name}: {bad[0].hint}".replace("\n", " ") if bad else ""


def _seconds(result: CheckResult) -> float:
    return sum(c.seconds for c in result.cases if c.seconds == c.seconds)    # skip nan


def write_gradebook(path, students) -> None:
    """The CSV gradebook: one row per student and exercise (:data:`GRADEBOOK_FIELDS`)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(GRADEBOOK_FIELDS)
        for st in students:
            for name, res in st.results.items():
                writer.writerow([st.student, name, res.n_passed, len(res.cases),
                                 f"{res.score:.4f}", f"{_seconds(res):.4f}",
                                 _first_problem(res)])


def gradescope_results(student: StudentResult) -> dict:
    """Gradescope's ``results.json`` for one student: one test per exercise, ``max_score`` 1,
    ``score`` the fraction of cases passed."""
    tests = [{"name": name, "score": round(res.score, 6), "max_score": 1.0,
              "status": "passed" if res.passed else "failed", "output": str(res)}
             for name, res in student.results.items()]
    return {"score": round(student.score, 6), "tests": tests}


def write_gradescope(path, students) -> list[Path]:
    """One student: ``path`` is the ``results.json``.  Several: ``path`` is a folder with
    ``<student>/results.json`` each.  Returns the files written."""
    path = Path(path)
    targets = ([(path, students[0])] if len(students) == 1 else
               [(path / st.student / "results.json", st) for st in students])
    for file, st in targets:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(gradescope_results(st), indent=1, ensure_ascii=False),
                        encoding="utf-8")
    return [file for file, _ in targets]
