"""The autograder: run a student's function on an exercise's cases and explain each failure.

A case passes when the function returns the reference's structure, shapes and dtype, with a
relative error ``‖got - ref‖ / (‖got‖ + ‖ref‖)`` (cs231n's measure, over all entries) below
``1e-7`` in float64 or ``1e-4`` in float32, without a NumPy warning (an overflow is a bug even
when the value comes out right) and without modifying its inputs.  A failure carries one hint,
the first that applies: an exception; the wrong structure or shape ("did you transpose?"); a
NumPy warning or a non-finite value (the exercise's overflow hint); modified inputs; then, if
the values are wrong, the output of a known mistake (each exercise lists its own, e.g. "ties go
to the first index"), a transpose, a constant factor (a sign, the batch size ``n``), else where
the values differ; if the values are right, the wrong dtype.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "CheckResult", "CaseSpec", "Mistake", "Exercise", "run_case", "tolerance"]

OK, FAIL = "\u2713", "\u2717"


@dataclass(frozen=True)
class Case:
    """Outcome of one graded case: its name, pass/fail, relative error and a hint on failure."""

    name: str
    passed: bool
    rel_error: float
    hint: str = ""

    def line(self) -> str:
        err = "   n/a  " if np.isnan(self.rel_error) else f"{self.rel_error:8.1e}"
        text = f"{OK if self.passed else FAIL} {self.name:<36} rel. error {err}"
        return text if self.passed else f"{text}  hint: {self.hint}"


@dataclass(frozen=True)
class CheckResult:
    """What :func:`minadv.course.check` returns: ``.passed`` and the list ``.cases``."""

    exercise: str
    cases: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.cases)

    def summary(self) -> str:
        verdict = "all cases pass" if self.passed else "some cases fail"
        return f"{self.exercise}: {self.n_passed}/{len(self.cases)} cases passed ({verdict})"

    def __str__(self) -> str:
        return "\n".join([c.line() for c in self.cases] + [self.summary()])


@dataclass(frozen=True)
class CaseSpec:
    """Inputs of one case; ``n`` is the batch size the factor hints compare against."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    n: int | None = None


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: if the student's output equals ``fn(*args)``, show ``hint``."""

    hint: str
    fn: Callable


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: reference, cases, output names and the hints it knows.

    ``summary`` is one line for maintainers; ``outputs`` names the returned values (a tuple
    ``(dx, dW, db)`` has three names, a single array or a dict one); ``overflow_hint`` is shown
    when NumPy warns or a value is inf/nan; ``mistakes`` are tried in order.
    """

    name: str
    summary: str
    reference: Callable
    make_cases: Callable[[np.random.Generator], list]
    outputs: tuple
    overflow_hint: str
    mistakes: tuple = ()


class _Mismatch(Exception):
    """Structure or shape mismatch, carrying its hint."""


# ----------------------------------------------------------------------------- helpers
def tolerance(spec: CaseSpec) -> float:
    """``1e-4`` if any float input is float32, else ``1e-7``."""
    arrays = [a for a in _leaves(spec.args) if isinstance(a, np.ndarray)]
    return 1e-4 if any(a.dtype == np.float32 for a in arrays) else 1e-7


def _leaves(obj):
    if isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _leaves(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _leaves(item)
    else:
        yield obj


def _rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    got, ref = got.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    if not (np.isfinite(got).all() and np.isfinite(ref).all()):
        return 0.0 if np.array_equal(got, ref, equal_nan=True) else np.inf
    top = max(np.max(np.abs(got), initial=0.0), np.max(np.abs(ref), initial=0.0))
    if top == 0:
        return 0.0
    got, ref = got / top, ref / top                     # no overflow/underflow in the norms
    return float(np.linalg.norm(got - ref) / (np.linalg.norm(got) + np.linalg.norm(ref)))


def _flatten(ref, got, label: str):
    """Pairs ``(label, ref_array, got_array)`` of matching leaves; raise _Mismatch if not."""
    if isinstance(ref, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(ref):
            what = type(got).__name__ + (f" of length {len(got)}" if hasattr(got, "__len__")
                                         else "")
            raise _Mismatch(f"expected a tuple ({label}), got a {what}")
        names = label.split(", ")
        return [p for r, g, nm in zip(ref, got, names) for p in _flatten(r, g, nm)]
    if isinstance(ref, dict):
        if not isinstance(got, dict) or set(got) != set(ref):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise _Mismatch(f"{label}: expected a dict with keys {sorted(ref)}, got {keys}")
        return [p for k in ref for p in _flatten(ref[k], got[k], k)]
    return [(label, np.asarray(ref), _as_array(got, label))]


def _as_array(got, label):
    if got is None:
        raise _Mismatch(f"{label} is None: did you forget the `return`?")
    try:
        arr = np.asarray(got)
    except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's output
        raise _Mismatch(f"{label}: could not convert the output to an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise _Mismatch(f"{label}: expected numbers, got an array of dtype {arr.dtype}")
    return arr


def _shape_hint(label, ref, got) -> str:
    text = f"{label} has shape {got.shape}, expected {ref.shape}"
    if got.ndim == 2 and got.shape == ref.shape[::-1]:
        return text + ": did you transpose?"
    if got.size == ref.size:
        return text + ": same entries, wrong shape (keepdims? reshape?)"
    if ref.ndim == 0:
        return text + ": return one number (sum or mean over the rows)"
    return text


def _factor_hint(label, ref, got, n, tol) -> str:
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _rel_error(got, ref.T) <= tol:
        return f"{label} equals the transpose of the expected value: did you transpose?"
    r, g = ref.astype(np.float64).ravel(), got.astype(np.float64).ravel()
    rr = float(r @ r)
    k = float(g @ r) / rr if rr > 0 else 0.0
    if not (rr > 0 and k != 0 and _rel_error(g, k * r) < max(tol, 1e-6)):
        i = int(np.argmax(np.abs(g - r)))
        return (f"{label}: values differ from the reference (largest difference at flat "
                f"index {i}: got {g[i]:.6g}, expected {r[i]:.6g})")
    if abs(k + 1) < 1e-6:
        return f"{label} has the wrong sign"
    if n and abs(k - n) < 1e-6 * n:
        return (f"{label} is n = {n} times too large: the loss is the mean over the n rows, "
                f"divide by n (forgot the 1/n?)")
    if n and abs(k * n - 1) < 1e-6:
        return f"{label} is n = {n} times too small: divide by n once, not twice"
    return f"{label} is off by a constant factor {k:.6g}"


def _same_args(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_args(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same_args(a[k], b[k]) for k in a)
    return True


def _call(fn, spec):
    """Run ``fn`` on a copy of the inputs; return (output, warning messages, inputs after)."""
    args, kwargs = copy.deepcopy(spec.args), copy.deepcopy(spec.kwargs)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return out, msgs, (args, kwargs)


def _matches(fn, spec, ref, pairs, label, tol) -> bool:
    """Whether the mistake ``fn`` gives the student's output (and differs from ``ref``) here."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            wrong = fn(*copy.deepcopy(spec.args), **copy.deepcopy(spec.kwargs))
        wpairs = _flatten(ref, wrong, label)                 # (name, ref leaf, mistake leaf)
    except Exception:  # noqa: BLE001 - a mistake that cannot run on this case does not match
        return False
    if all(w.shape == r.shape and _rel_error(w, r) <= tol for _, r, w in wpairs):
        return False                                   # the mistake is harmless on this case
    return all(w.shape == g.shape and _rel_error(g, w) <= tol
               for (_, _, w), (_, _, g) in zip(wpairs, pairs))


# ----------------------------------------------------------------------------- one case
def _sanity_hint(ex, spec, pairs, msgs, after) -> str:
    """A hint for a warning, a non-finite value or modified inputs ("" if none): these fail a
    case even when the values are right."""
    if msgs:
        return f"NumPy warned '{msgs[0]}': {ex.overflow_hint}"
    for name, r, g in pairs:
        if np.isfinite(r).all() and not np.isfinite(g).all():
            return f"{name} has inf/nan: {ex.overflow_hint}"
    if not _same_args((spec.args, spec.kwargs), after):
        return ("your function modified its input arrays in place: work on a copy "
                "(e.g. x = x.copy(), or out-of-place operations)")
    return ""


def _dtype_hint(pairs) -> str:
    for name, r, g in pairs:
        if r.ndim > 0 and r.dtype.kind == "f" and g.dtype != r.dtype:
            return (f"{name} is {g.dtype} for {r.dtype} inputs: keep the input dtype (create "
                    "arrays with dtype=x.dtype, or .astype(x.dtype))")
    return ""


def run_case(ex: Exercise, fn: Callable, spec: CaseSpec) -> Case:
    """Grade ``fn`` on one case of ``ex`` (see the module docstring for the hint order)."""
    ref = ex.reference(*copy.deepcopy(spec.args), **copy.deepcopy(spec.kwargs))
    tol = tolerance(spec)
    try:
        got, msgs, after = _call(fn, spec)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the student's bug is reported, not raised
        return Case(spec.name, False, np.nan, f"raised {type(exc).__name__}: {exc}")
    label = ", ".join(ex.outputs)
    try:
        pairs = _flatten(ref, got, label)                # (name, ref leaf, student leaf)
        for name, r, g in pairs:
            if g.shape != r.shape:
                raise _Mismatch(_shape_hint(name, r, g))
    except _Mismatch as exc:
        return Case(spec.name, False, np.nan, str(exc))
    errors = [_rel_error(g, r) for _, r, g in pairs]
    err = max(errors)
    problem = _sanity_hint(ex, spec, pairs, msgs, after)
    if problem:
        return Case(spec.name, False, err, problem)
    if err <= tol:
        dtype_problem = _dtype_hint(pairs)                # right values, wrong dtype
        return Case(spec.name, not dtype_problem, err, dtype_problem)
    for mistake in ex.mistakes:
        if _matches(mistake.fn, spec, ref, pairs, label, tol):
            return Case(spec.name, False, err, mistake.hint)
    worst = int(np.argmax(errors))
    name, r, g = pairs[worst]
    return Case(spec.name, False, err, _factor_hint(name, r, g, spec.n, tol))
