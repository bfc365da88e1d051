"""Graded exercises for the minadv course, with an autograder.

Each exercise has a stub (signature and task, :mod:`minadv.course.stubs`), a reference (the
library's own function where minadv has one, :mod:`minadv.course.references`) and a checker
that runs random and adversarial cases (saturated logits, ties, box edges, one-sided boxes,
float32, zero rows, huge scales)::

    >>> import numpy as np
    >>> import minadv.course
    >>> minadv.course.exercises()[:3]
    ['sigmoid', 'logsumexp', 'softmax_cross_entropy_backward']
    >>> print(minadv.course.stub("sigmoid").splitlines()[0])
    def sigmoid(t):
    >>> naive = lambda t: 1 / (1 + np.exp(-t))          # overflows at t = -1000
    >>> minadv.course.check("sigmoid", naive, verbose=False).passed
    False

:func:`check` runs the function in this process (a notebook, also JupyterLite).  From a
shell, ``minadv grade`` runs submissions in a separate interpreter with a time and memory
limit and grades a whole class (:mod:`minadv.course.cli`).  No worked answer ships with the
package.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .grading import Case, CheckResult, finish_hints, run_case
from .registry import EXERCISES, get_exercise

__all__ = ["check", "exercises", "stub", "Case", "CheckResult"]


def exercises() -> list[str]:
    """Names of the graded exercises, in course order."""
    return list(EXERCISES)


def stub(name: str) -> str:
    """Source text of the exercise's stub (signature, task docstring, ``raise NotImplementedError``),
    with an ``Allowed`` section saying what ``minadv grade`` lets the submission use."""
    from . import stubs

    ex = get_exercise(name)
    text = inspect.getsource(getattr(stubs, name))
    end = text.find('"""', text.find('"""') + 3)
    if end < 0:
        return text
    return text[:end].rstrip(" ") + allowed_text(ex) + "    " + text[end:]


def allowed_text(ex) -> str:
    """The ``Allowed`` docstring section of an exercise (from ``forbidden`` and ``allowed``)."""
    import textwrap

    not_these = ""
    if ex.forbidden:
        names = ", ".join(f"``{f}``" for f in ex.forbidden)
        not_these = f", except {names} (what this exercise asks you to write)"
    extra = "".join(f", ``{a}``" for a in ex.allowed)
    body = (f"NumPy, SciPy and the standard library{not_these}.  From minadv only "
            f"``minadv.course.check``/``stub``{extra}: ``minadv grade`` refuses other imports.")
    return ("\n    Allowed\n    -------\n"
            + textwrap.fill(body, width=92, initial_indent="    ", subsequent_indent="    ")
            + "\n")


def check(name: str, fn: Callable, *, verbose: bool = True, rng: Any = 0,
          timeout: float | None = 10.0) -> CheckResult:
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
    timeout : float or None
        Time budget of one case in seconds (default 10): a case that runs longer fails.
        Enforced with ``signal.setitimer`` on the main thread of a POSIX interpreter; where
        no such timer exists (Windows, a worker thread, Pyodide/JupyterLite) it is not, and
        interrupting the kernel fails the running case and stops the check.

    Returns
    -------
    CheckResult
        ``.passed`` is True when every case passes; ``.cases`` lists
        :class:`~minadv.course.grading.Case` (``name``, ``passed``, ``rel_error``, ``hint``).
        A stub that still raises ``NotImplementedError`` gives one failed case saying so.
        ``SystemExit`` inside ``fn`` fails the case (the session goes on).

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
            cases.append(run_case(ex, fn, spec, timeout=timeout))
        except NotImplementedError:
            cases.append(Case(spec.name, False, float("nan"),
                              "not implemented yet: replace `raise NotImplementedError` with "
                              f"your code (see minadv.course.stub({name!r}))"))
            break
        except KeyboardInterrupt:
            cases.append(Case(spec.name, False, float("nan"),
                              "interrupted (KeyboardInterrupt): the remaining cases did not run"))
            break
    cases = finish_hints(cases)
    result = CheckResult(name, cases)
    if verbose:
        print(str(result))
    return result
