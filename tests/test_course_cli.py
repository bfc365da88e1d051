"""``minadv grade`` (minadv.course.cli.main): list, pass (0), fail (1), usage errors (2)."""

import sys
import textwrap

import pytest

import minadv.course as course
from minadv.course.cli import main

GOOD = """
import numpy as np

def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""

BAD = """
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)      # dW transposed
"""


@pytest.fixture
def write(tmp_path):
    def _write(text, name="solution.py"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)
    return _write


def test_list(capsys):
    assert main(["--list"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == course.exercises() and err == ""


def test_pass_exits_0(write, capsys):
    assert main(["affine_backward", write(GOOD)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("affine_backward: 4/4 cases passed")


def test_fail_exits_1_with_hint(write, capsys):
    assert main(["affine_backward", write(BAD)]) == 1
    out = capsys.readouterr().out
    assert "did you transpose?" in out and "\u2717" in out


def test_stub_exits_1_without_traceback(write, capsys):
    assert main(["sigmoid", write(course.stub("sigmoid"))]) == 1
    captured = capsys.readouterr()
    assert "not implemented yet" in captured.out and "Traceback" not in captured.err


@pytest.mark.parametrize("argv_tail,message", [
    (["affine_sideways", "GOOD"], "unknown exercise 'affine_sideways'"),
    (["affine_backward", "MISSING"], "file not found"),
    (["sigmoid", "GOOD"], "defines no function named 'sigmoid'"),
    (["affine_backward", "BROKEN"], "cannot import"),
    (["affine_backward"], "usage: minadv grade"),
    ([], "usage: minadv grade"),
    (["--bogus", "x"], "usage: minadv grade"),
])
def test_usage_errors_exit_2_with_one_line(write, tmp_path, capsys, argv_tail, message):
    paths = {"GOOD": write(GOOD), "MISSING": str(tmp_path / "nope.py"),
             "BROKEN": write("def affine_backward(:\n", "broken.py")}
    argv = [paths.get(a, a) for a in argv_tail]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err and err.startswith("minadv grade: ")


def test_solution_may_import_its_neighbour(write, capsys):
    write("def transpose(a):\n    return a.T\n", "helpers.py")
    path = write("from helpers import transpose\n\n"
                 "def affine_backward(dout, cache):\n"
                 "    x, W, b = cache\n"
                 "    return dout @ transpose(W), transpose(x) @ dout, dout.sum(axis=0)\n",
                 "mine.py")
    try:
        assert main(["affine_backward", path]) == 0
    finally:
        sys.modules.pop("helpers", None)
    capsys.readouterr()
