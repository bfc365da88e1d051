"""Graded exercises of tutorial 10: the references and the instructor solutions pass, the
planted mistakes fail with their hint, the stubs say "not implemented", and the big-M reference
is the rows the library's MILP writes."""

import importlib.util
import pathlib

import numpy as np
import pytest

import minadv.course as course
from minadv.certify import as_network
from minadv.certify.program import network_program
from minadv.course import references, stubs
from minadv.course.certify_cases import CERTIFY_EXERCISES
from minadv.models import MLP

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "instructor_solutions", ROOT / "tutorials" / "instructor" / "solutions.py")
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)

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
    assert len(ex.mistakes) >= 2
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
