"""Graded exercises for the minadv course, with an autograder.

Each exercise has a stub (signature and task, :mod:`minadv.course.stubs`), a reference (the
library's own function where minadv has one, :mod:`minadv.course.references`), instructor
solutions kept apart (:mod:`minadv.course.solutions`) and a checker that runs random and
adversarial cases (saturated logits, ties, box edges, float32, zero rows, huge scales)::

    >>> import minadv.course
    >>> minadv.course.exercises()[:3]
    ['sigmoid', 'logsumexp', 'softmax_cross_entropy_backward']
    >>> print(minadv.course.stub("sigmoid").splitlines()[0])
    def sigmoid(t):
    >>> from minadv.course import solutions
    >>> minadv.course.check("sigmoid", solutions.sigmoid, verbose=False).passed
    True

From a shell: ``minadv grade --list`` and ``minadv grade NAME path/to/solution.py``
(:func:`minadv.course.cli.main`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .grading import Case, CheckResult, run_case
from .registry import EXERCISES, get_exercise

__all__ = ["check", "exercises", "stub", "Case", "CheckResult"]


def exercises() -> list[str]:
    """Names of the graded exercises, in course order."""
    return list(EXERCISES)


def stub(name: str) -> str:
    """Source text of the exercise's stub (signature, task docstring, ``raise NotImplementedError``)."""
    from . import stubs

    get_exercise(name)
    return inspect.getsource(getattr(stubs, name))


def check(name: str, fn: Callable, *, verbose: bool = True, rng: Any = 0) -> CheckResult:
    """Grade ``fn`` on every case of exercise ``name``; print one line per case.

    Parameters
    ----------
    name : str
        One of :func:`exercises`.
    fn : callable
        The student's function, with the stub's signature.
    verbose : bool
        Print ``✓``/``✗``, the relative error and, on failure, a hint for every case, then a
        summary line.
    rng : None, int or numpy.random.Generator
        Seed of the random cases (the adversarial ones are fixed).

    Returns
    -------
    CheckResult
        ``.passed`` is True when every case passes; ``.cases`` lists
        :class:`~minadv.course.grading.Case` (``name``, ``passed``, ``rel_error``, ``hint``).
        A stub that still raises ``NotImplementedError`` gives one failed case saying so.

    Raises
    ------
    ValueError
        Unknown exercise name.
    TypeError
        ``fn`` not callable.
    """
    from .._validation import as_generator

    ex = get_exercise(name)
    if not callable(fn):
        raise TypeError(f"fn: expected the function to grade, got {type(fn).__name__}.")
    cases = []
    for spec in ex.make_cases(as_generator(rng)):
        try:
            cases.append(run_case(ex, fn, spec))
        except NotImplementedError:
            cases.append(Case(spec.name, False, float("nan"),
                              "not implemented yet: replace `raise NotImplementedError` with "
                              f"your code (see minadv.course.stub({name!r}))"))
            break
        if verbose:
            print(cases[-1].line())
    result = CheckResult(name, cases)
    if verbose:
        if cases and not cases[-1].passed and "not implemented" in cases[-1].hint:
            print(cases[-1].line())
        print(result.summary())
    return result
