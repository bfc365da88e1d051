"""Graded exercises of tutorial 10: the references and the instructor solutions pass, the
planted mistakes fail with their hint, the stubs say "not implemented", and the big-M reference
is the rows the library's MILP writes."""

import pathlib

import numpy as np
import pytest
from course_helpers import load_solutions

import minadv.course as course
from minadv.certify import as_network
from minadv.certify.program import network_program
from minadv.course import references, stubs
from minadv.course.certify_cases import CERTIFY_EXERCISES
from minadv.models import MLP

ROOT = pathlib.Path(__file__).resolve().parent.parent
solutions = load_solutions()

NAMES = [ex.name for ex in CERTIFY_EXERCISES]


def test_the_exercises_are_registered_in_course_order():
    assert course.exercises()[-2:] == NAMES == ["interval_affine_relu", "big_m_relu"]


@pytest.mark.parametrize("name", NAMES)
def test_reference_and_solution_pass(name):
    for fn in (getattr(references, name), getattr(solutions, name)):
        res = course.check(name, fn, verbose=False)
        assert res.passed, [c for c in res.cases if not c.passed]
        assert len(res.cases) >= 4


@pytest.mark.parametrize("ex", CERTIFY_EXERCISES, ids=NAMES)
def test_planted_mistakes_fail_with_their_hint(ex):
    assert len(ex.mistakes) >= 3                # with PLANTED below: >= 4 planted bugs each
    for mistake in ex.mistakes:
        res = course.check(ex.name, mistake.fn, verbose=False)
        assert not res.passed
        assert any(mistake.hint in c.hint for c in res.cases if not c.passed), mistake.hint


@pytest.mark.parametrize("name", NAMES)
def test_stub_reports_not_implemented(name, capsys):
    res = course.check(name, getattr(stubs, name))
    assert not res.passed and "not implemented yet" in res.cases[0].hint
    text = course.stub(name)
    assert text.startswith(f"def {name}(") and "Returns" in text


def test_big_m_reference_is_the_library_milp_rows():
    """A 1-1-1 network with one unstable unit: the MILP's rows on (a, h, z) are the exercise's
    rows 2–4 (row 1, h >= 0, is the variable bound of h)."""
    model = MLP([1, 1, 2])
    params = {"W1": np.array([[1.0]]), "b1": np.array([0.0]), "W2": np.array([[1.0, -1.0]]),
              "b2": np.zeros(2)}
    lo, up = np.array([-0.7]), np.array([1.3])
    prog = network_program(as_network(model, params), np.array([-0.7]), np.array([1.3]),
                           [(lo, up)], integer=True)
    ineq = prog.row_lo == -np.inf
    A_lib = prog.A[ineq][:, 1:]                                  # drop x' (coefficient 0)
    A_ref, c_ref = references.big_m_relu(lo, up)
    np.testing.assert_allclose(A_lib, A_ref[0, 1:])
    np.testing.assert_allclose(prog.row_hi[ineq], c_ref[0, 1:])
    assert prog.var_lo[2] == 0.0                                 # h >= 0 as a bound


# ----------------------------------------------------------------------------- independent
# Written from the stubs' docstrings, not from the references: the centre-radius form of the
# interval (the stub's Notes) and the big-M rows filled unit by unit from the numbered list.
def _independent_interval(lower, upper, W, b):
    mid, rad = (upper + lower) / 2, (upper - lower) / 2     # (n, d_in)
    centre, radius = mid @ W + b, rad @ np.abs(W)           # (n, d_out)
    return np.maximum(centre - radius, 0), np.maximum(centre + radius, 0)


def _independent_big_m(lower, upper):
    n = lower.shape[0]
    A, c = np.zeros((n, 4, 3), lower.dtype), np.zeros((n, 4), lower.dtype)
    for i in range(n):
        l, u = lower[i], upper[i]
        A[i] = [[0, -1, 0],          # h >= 0              ->  -h <= 0
                [1, -1, 0],          # h >= a              ->  a - h <= 0
                [0, 1, -u],          # h <= u z            ->  h - u z <= 0
                [-1, 1, -l]]         # h <= a - l (1 - z)  ->  -a + h - l z <= -l
        c[i] = [0, 0, 0, -l]
    return A, c


INDEPENDENT = {"interval_affine_relu": _independent_interval, "big_m_relu": _independent_big_m}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", NAMES)
def test_independent_docstring_implementation_passes(name, seed):
    res = course.check(name, INDEPENDENT[name], verbose=False, rng=seed)
    assert res.passed, [c for c in res.cases if not c.passed]
    assert len(res.cases) >= 6


# A third planted bug per exercise, written here (not one of the exercise's known mistakes):
# the grader must fail it even without a dedicated hint.
PLANTED = {
    "interval_affine_relu": lambda lower, upper, W, b: (
        np.maximum(lower @ np.abs(W) + b, 0), np.maximum(upper @ np.abs(W) + b, 0)),
    "big_m_relu": lambda lower, upper: tuple(
        -x for x in _independent_big_m(lower, upper)),     # every row's sign flipped
}


@pytest.mark.parametrize("name", NAMES)
def test_third_planted_bug_fails(name):
    res = course.check(name, PLANTED[name], verbose=False)
    assert not res.passed
