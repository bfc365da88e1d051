"""The wheel built from the repository ships no instructor solution: no solutions module, and
no solution function's body in any file.

The wheel is built with ``pip wheel --no-deps --no-build-isolation --no-index`` (no network),
so the build backend comes from this environment: setuptools makes wheels itself from 70.1 on,
older setuptools needs the ``wheel`` package (both are in the ``test`` extra of ``setup.cfg``).
Only where neither is installed does the test stage the same files with setuptools' ``build``
command (``build_py``: the packages and package data that ``bdist_wheel`` zips) and check
those; :func:`test_a_real_wheel_is_built_where_the_environment_can` makes sure that fallback
is never taken where a real wheel can be built.
"""

import ast
import shutil
import subprocess
import sys
import zipfile

import pytest
from course_helpers import ROOT, SOLUTIONS_PATH


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _canonical(source: str) -> str:
    """Python source without comments or layout (``ast.unparse``), whitespace-normalised."""
    try:
        return _normalised(ast.unparse(ast.parse(source)))
    except SyntaxError:
        return _normalised(source)


def _solution_bodies() -> dict:
    """Each solution function's body (statements after the docstring), canonical form."""
    tree = ast.parse(SOLUTIONS_PATH.read_text(encoding="utf-8"))
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
            text = _normalised("\n".join(ast.unparse(stmt) for stmt in body))
            if len(text) >= 40:            # a one-liner like `return x @ W` is not a solution
                bodies[node.name] = text
    return bodies


def _can_build_wheels() -> bool:
    """setuptools >= 70.1 (bdist_wheel built in) or the ``wheel`` package."""
    import importlib.metadata as md
    import importlib.util

    try:
        version = tuple(int(p) for p in md.version("setuptools").split(".")[:2])
    except (md.PackageNotFoundError, ValueError):
        return False
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src") / "minadv"
    # the checkout without its caches and virtual environments (CI's .venv lives in the clone:
    # copying it cost seconds and built nothing)
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
        ".venv", "venv", ".tox", ".hypothesis"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(out)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode == 0:
        (path,) = out.glob("minadv-*.whl")
        with zipfile.ZipFile(path) as zf:
            files = {name: zf.read(name).decode("utf-8", "replace") for name in zf.namelist()}
        files["<built>"] = "wheel"
        return files
    assert not _can_build_wheels(), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "invalid command 'bdist_wheel'" in proc.stdout + proc.stderr, proc.stderr[-2000:]
    lib = out / "lib"
    proc = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()",
                           "build", "--build-base", str(out / "build"), "--build-lib", str(lib)],
                          cwd=src, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = {p.relative_to(lib).as_posix(): p.read_text("utf-8", "replace")
             for p in lib.rglob("*") if p.is_file()}
    files["<built>"] = "staged files"
    return files


def test_a_real_wheel_is_built_where_the_environment_can(wheel):
    if _can_build_wheels():
        assert wheel["<built>"] == "wheel"
        assert any(n.endswith(".dist-info/RECORD") for n in wheel)
        assert any(n.startswith("minadv/data/") for n in wheel)      # package data too
    else:
        assert wheel["<built>"] == "staged files"


def test_wheel_has_the_course_but_no_solutions_module(wheel):
    assert "minadv/course/grading.py" in wheel and "minadv/course/runner.py" in wheel
    assert not [n for n in wheel if "solution" in n.lower()]
    assert not [n for n in wheel if n.startswith(("tutorials/", "tests/"))]


def test_wheel_contains_no_solution_function_body(wheel):
    bodies = _solution_bodies()
    assert len(bodies) >= 12
    own = _canonical(SOLUTIONS_PATH.read_text(encoding="utf-8"))
    assert all(body in own for body in bodies.values())       # the search finds a copy
    texts = {name: _canonical(text) if name.endswith(".py") else _normalised(text)
             for name, text in wheel.items()}
    leaks = [(fn, name) for fn, body in bodies.items() for name, text in texts.items()
             if body in text]
    assert leaks == []
    marker = "Instructor solutions: plain NumPy answers"
    assert not [name for name, text in wheel.items() if marker in text]
