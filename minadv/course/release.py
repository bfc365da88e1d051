"""The student release: instructor tutorials (percent-format ``.py``) in, student notebooks out.

The tutorials in the repository are the instructor version.  Each exercise's answer sits
between two marker comments (the words Otter-Grader and nbgrader use)::

    def affine_forward(x, W, b):
        \"\"\"Forward pass of the affine layer ...\"\"\"
        # BEGIN SOLUTION
        out = x @ W + b                                  # (n, m)
        return out, (x, W, b)
        # END SOLUTION

followed by a check cell (``minadv.course.check("affine_forward", affine_forward)``).  The
release replaces every block by the stub body, at the marker's indentation::

        raise NotImplementedError("affine_forward: Forward pass of the affine layer ...")

(the task is the text after ``# BEGIN SOLUTION:`` if there is one, else the first line of the
enclosing function's docstring), keeps every other line, and writes one nbformat-4 notebook per
tutorial with no outputs.  Nothing else is needed at run time: the notebook JSON is written
directly (no jupytext, no nbformat).  Files under ``tutorials/instructor/`` (solutions, answer
key) are never read or written.

Python: :func:`release`; shell: ``minadv course release OUTDIR [--force]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

__all__ = ["BEGIN", "END", "parse_percent", "strip_solutions", "solution_lines", "to_notebook",
           "release", "default_source", "ReleaseError", "main"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_CELL = re.compile(r"^# %%(?P<rest>.*)$")
_DEF = re.compile(r"^(?P<indent>\s*)def (?P<name>\w+)\(")


class ReleaseError(ValueError):
    """A tutorial that cannot be released (unbalanced markers) or a refused output path."""


# ----------------------------------------------------------------------------- percent format
def parse_percent(text: str) -> list[tuple[str, str]]:
    """Cells ``(cell_type, source)`` of a percent-format script (``# %%`` code cells,
    ``# %% [markdown]`` cells with their ``# `` prefixes removed); blank edges trimmed."""
    cells: list[tuple[str, list[str]]] = []
    kind, lines = "code", []
    for line in text.splitlines():
        match = _CELL.match(line)
        if match:
            cells.append((kind, lines))
            kind = "markdown" if "[markdown]" in match["rest"] else "code"
            lines = []
        else:
            lines.append(line)
    cells.append((kind, lines))
    out = []
    for kind, body in cells:
        if kind == "markdown":
            body = [ln[2:] if ln.startswith("# ") else ln[1:] if ln.startswith("#") else ln
                    for ln in body]
        source = "\n".join(body).strip("\n")
        if source.strip():
            out.append((kind, source))
    return out


# ----------------------------------------------------------------------------- solutions
def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """``(begin, end)`` line indices of every marked block; ReleaseError if unbalanced."""
    blocks, start = [], None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if start is not None:
                raise ReleaseError(f"line {i + 1}: {BEGIN} inside the block opened on line "
                                   f"{start + 1}")
            start = i
        elif stripped.startswith(END):
            if start is None:
                raise ReleaseError(f"line {i + 1}: {END} without {BEGIN}")
            blocks.append((start, i))
            start = None
    if start is not None:
        raise ReleaseError(f"line {start + 1}: {BEGIN} is never closed by {END}")
    return blocks


def _task(lines: list[str], begin: int) -> str:
    """The task a stub states: the marker's own text, else the enclosing function's name and
    the first line of its docstring."""
    own = lines[begin].strip()[len(BEGIN):].lstrip(":").strip()
    if own:
        return own
    indent = len(lines[begin]) - len(lines[begin].lstrip())
    for i in range(begin - 1, -1, -1):
        match = _DEF.match(lines[i])
        if match and len(match["indent"]) < indent:
            doc = _summary(lines[i + 1:begin])
            return f"{match['name']}: {doc}" if doc else f"write {match['name']}"
    return "write the code of this exercise"


def _summary(body: list[str]) -> str:
    """The first paragraph of the docstring that opens ``body`` (a function's lines), one line."""
    text = [ln.strip() for ln in body]
    starts = [k for k, ln in enumerate(text) if ln.startswith(('"""', "'''"))]
    if not starts:
        return ""
    quote, parts = text[starts[0]][:3], []
    for k, ln in enumerate(text[starts[0]:]):
        ln = ln[3:] if k == 0 else ln
        closed = quote in ln
        ln = ln.split(quote)[0].strip()
        if not ln and parts:
            break
        if ln:
            parts.append(ln)
        if closed:
            break
    return " ".join(parts)


def strip_solutions(text: str) -> str:
    """``text`` with every marked solution block replaced by ``raise NotImplementedError(task)``."""
    lines = text.splitlines()
    blocks = _blocks(lines)
    out, pos = [], 0
    for begin, end in blocks:
        out.extend(lines[pos:begin])
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        out.append(f"{indent}# YOUR CODE HERE")
        out.append(f"{indent}raise NotImplementedError({_task(lines, begin)!r})")
        pos = end + 1
    out.extend(lines[pos:])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def solution_lines(text: str) -> list[str]:
    """The stripped, non-empty lines inside the marked blocks (what a release must not show)."""
    lines = text.splitlines()
    return [ln.strip() for b, e in _blocks(lines) for ln in lines[b + 1:e] if ln.strip()]


# ----------------------------------------------------------------------------- notebooks
def to_notebook(text: str, *, name: str = "tutorial") -> dict:
    """An nbformat-4.5 notebook (a dict ready for ``json.dump``) of the percent-format ``text``:
    code cells without outputs or execution counts, deterministic cell ids."""
    cells = []
    for i, (kind, source) in enumerate(parse_percent(text)):
        digest = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:12]
        cell = {"cell_type": kind, "id": f"c{i:03d}-{digest}", "metadata": {},
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                               "name": "python3"},
                "language_info": {"name": "python"}}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def default_source() -> Path:
    """``tutorials/`` beside the ``minadv`` package (a source checkout), else ``./tutorials``."""
    beside = Path(__file__).resolve().parents[2] / "tutorials"
    return beside if beside.is_dir() else Path.cwd() / "tutorials"


def _tutorials(source: Path) -> list[Path]:
    return sorted(p for p in source.glob("[0-9]*.py") if p.is_file())


def release(outdir, *, source=None, force: bool = False) -> list[Path]:
    """Write the student notebook of every tutorial in ``source`` into ``outdir``.

    Parameters
    ----------
    outdir : str or Path
        Folder for the notebooks (created if needed); ``NN_name.py`` becomes ``NN_name.ipynb``.
    source : str, Path or None
        The instructor tutorials (default :func:`default_source`).
    force : bool
        Overwrite existing notebooks.  Without it, nothing is written if any target exists.

    Returns
    -------
    list of Path
        The notebooks written, in course order.

    Raises
    ------
    ReleaseError
        No tutorials in ``source``; ``outdir`` inside ``source/instructor``; existing files
        without ``force``; unbalanced solution markers (the file and line are named).
    """
    source = Path(source) if source is not None else default_source()
    outdir = Path(outdir)
    paths = _tutorials(source)
    if not paths:
        raise ReleaseError(f"source: expected a folder with tutorials NN_*.py, got {str(source)!r}")
    instructor = (source / "instructor").resolve()
    if outdir.resolve() == instructor or instructor in outdir.resolve().parents:
        raise ReleaseError(f"outdir: the release never writes into the instructor folder "
                           f"{str(instructor)!r}, got {str(outdir)!r}")
    targets = [outdir / f"{p.stem}.ipynb" for p in paths]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise ReleaseError(f"{len(existing)} file(s) exist, e.g. {existing[0]!r}: nothing "
                           "written (use --force to overwrite, or another folder)")
    notebooks = []
    for path in paths:
        try:
            notebooks.append(to_notebook(strip_solutions(path.read_text(encoding="utf-8")),
                                         name=path.stem))
        except ReleaseError as exc:
            raise ReleaseError(f"{path.name}: {exc}") from None
    outdir.mkdir(parents=True, exist_ok=True)
    for target, nb in zip(targets, notebooks):
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return targets


# ----------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    """``minadv course release OUTDIR [--source DIR] [--force]``; returns the exit status
    (0 written, 2 usage error or refused release, one line on stderr)."""
    parser = argparse.ArgumentParser(
        prog="minadv course", description="The course's instructor tools.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    rel = sub.add_parser("release", help="write the student notebooks (solutions stripped)")
    rel.add_argument("outdir", metavar="OUTDIR", help="folder for the .ipynb files")
    rel.add_argument("--source", default=None, metavar="DIR",
                     help="the instructor tutorials (default: the checkout's tutorials/)")
    rel.add_argument("--force", action="store_true", help="overwrite existing notebooks")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        written = release(args.outdir, source=args.source, force=args.force)
    except ReleaseError as exc:
        print(f"minadv course release: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    print(f"{len(written)} student notebook(s) written to {args.outdir}")
    return 0
