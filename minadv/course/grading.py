"""The autograder: run a student's function on an exercise's cases and explain each failure.

A case passes when the function returns the reference's structure, shapes and dtype (NumPy
arrays where the reference returns arrays), with a relative error ``‖got - ref‖ / (‖got‖ +
‖ref‖)`` (cs231n's measure) below :func:`tolerance`, without a NumPy warning (an overflow is a
bug even when the value comes out right) and without modifying its inputs.  The error is taken
over each *returned value as a whole*: a dict of parameter blocks (a gradient, an HVP) is one
vector, so a block that is tiny next to the others (``b2`` of an HVP at saturated logits,
~1e-24 beside ``W1`` ~1e2) is judged at the scale of the whole vector, where float64 rounding
lives, not against its own rounding noise.

A failure carries one hint, the first that applies: an exception (also ``SystemExit`` and a
time budget running out); the wrong structure, type (a list instead of an array) or shape ("did
you transpose?"); a NumPy warning or a non-finite value (overflow -> the exercise's
``overflow_hint``; 0/0 -> its ``nan_hint``); modified inputs; then, if the values are wrong, the
output of a known mistake (each exercise lists its own, e.g. "ties go to the first index"), a
transpose, a sign or the batch size ``n``, else where the values differ; if the values are
right, the wrong dtype.  "Off by a constant factor k" needs every case: :func:`finish_hints`
gives it only when all cases fail with the same ratio ``k``.

:func:`run_case` calls the function in this process (what :func:`minadv.course.check` does in a
notebook); :func:`judge` decides a case from outputs computed anywhere (``minadv grade`` computes
them in a child interpreter, :mod:`minadv.course.isolation`).
"""

from __future__ import annotations

import copy
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Case", "CheckResult", "CaseSpec", "Mistake", "Exercise", "CaseTimeout", "run_case",
           "judge", "finish_hints", "reference_output", "tolerance", "time_budget",
           "call_student"]

OK, FAIL = "\u2713", "\u2717"

DEFAULT_NAN_HINT = ("nan comes from 0/0, inf - inf or 0·inf (NumPy's 'invalid value'): guard every "
                    "division whose denominator can be 0 (a zero row, a zero norm)")


@dataclass(frozen=True)
class Case:
    """Outcome of one graded case: its name, pass/fail, relative error and a hint on failure.

    ``seconds`` is the time the student's function took; ``factor`` is the ratio got/expected
    when the output is a multiple of the reference (read by :func:`finish_hints`).
    """

    name: str
    passed: bool
    rel_error: float
    hint: str = ""
    seconds: float = float("nan")
    factor: float | None = field(default=None, repr=False, compare=False)
    factor_label: str = field(default="", repr=False, compare=False)

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

    @property
    def score(self) -> float:
        """Partial credit: the fraction of cases passed (0 with no case)."""
        return self.n_passed / len(self.cases) if self.cases else 0.0

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

    Required: ``name``, ``summary`` (one line for maintainers), ``reference``, ``make_cases``
    (Generator -> list of :class:`CaseSpec`, at least 6), ``outputs`` (names of the returned
    values: a tuple ``(dx, dW, db)`` has three names, a single array or a dict one) and
    ``overflow_hint`` (shown when NumPy warns of an overflow or a value is inf).

    Optional: ``mistakes`` (tried in order); ``nan_hint`` (shown for 0/0, NumPy's "invalid
    value" or "divide by zero"; a generic text by default); ``tutorial`` (the tutorial file that
    poses the exercise) and ``task`` (one line for ``minadv grade --list``; ``summary`` by
    default); ``forbidden`` (dotted names a submission may not use, e.g.
    ``"scipy.special.expit"`` for ``sigmoid``: the function the exercise asks to write) and
    ``allowed`` (dotted ``minadv`` names a submission may import, e.g.
    ``"minadv.attacks.project_ball"``; every other ``minadv`` import is refused in grading mode,
    see :mod:`minadv.course.imports`).
    """

    name: str
    summary: str
    reference: Callable
    make_cases: Callable[[np.random.Generator], list]
    outputs: tuple
    overflow_hint: str
    mistakes: tuple = ()
    nan_hint: str = DEFAULT_NAN_HINT
    tutorial: str = ""
    task: str = ""
    forbidden: tuple = ()
    allowed: tuple = ()

    @property
    def one_line(self) -> str:
        """The task in one line (``task``, else ``summary``)."""
        return self.task or self.summary


class _Mismatch(Exception):
    """Structure or shape mismatch, carrying its hint."""


class CaseTimeout(BaseException):  # noqa: N818 - raised into the student's code: not an Exception
    """The time budget of one case ran out (a BaseException, so ``except Exception`` in the
    student's code does not swallow it)."""


# ----------------------------------------------------------------------------- helpers
def tolerance(spec: CaseSpec) -> float:
    """``1e-4`` if any float input is float32, else ``1e-7``.

    Derivation: a faithful implementation errs by a few units of roundoff ``u`` times the
    conditioning of the case.  Every case is built so that this conditioning is at most ~1e3
    (sums of <= 20 terms, products of O(1) matrices, cancellations only where the stub names
    the stable form; the whole returned value is compared, so no tiny block sets its own
    scale): float64 ``u = 1.1e-16`` gives <= ~1e-12, five orders below ``1e-7``; float32
    ``u = 6e-8`` gives <= ~6e-5 < ``1e-4``.  A wrong formula (a dropped term, a factor, a
    transpose) errs by >= 1e-3 on the cases here, far above both.
    """
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
    """``‖got - ref‖ / (‖got‖ + ‖ref‖)``, 0 when both are 0.

    No absolute floor: an all-zero reference makes any nonzero ``got`` an error of 1.  A floor
    would need the output's scale, and an all-zero value has none of its own; the inputs give
    one only through each exercise's formula (``dx = dout Wᵀ`` scales as ``|dout||W|``, an HVP
    as a product of four inputs, a mean as ``1/n`` of them), so one generic floor ("a few ulps
    times the inputs' scale") would be too tight for some exercises and, for others, loose
    enough to pass a wrong tiny answer (a forgotten ``1/n`` on a small gradient).  Instead the
    exercises pose an all-zero returned value only where a faithful implementation gives exact
    zeros: masks (inactive ReLUs), zero rows and zero radii, i.e. products with an exact 0,
    which IEEE arithmetic keeps exactly 0 for finite factors (the VAT case where ``H d`` is
    only rounding noise was re-posed for this reason).  ``tests/test_course.py`` checks that
    the instructor solution returns exact zeros wherever a reference value is all zero.
    """
    got, ref = got.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    if not (np.isfinite(got).all() and np.isfinite(ref).all()):
        return 0.0 if np.array_equal(got, ref, equal_nan=True) else np.inf
    top = max(np.max(np.abs(got), initial=0.0), np.max(np.abs(ref), initial=0.0))
    if top == 0:
        return 0.0
    got, ref = got / top, ref / top                     # no overflow/underflow in the norms
    return float(np.linalg.norm(got - ref) / (np.linalg.norm(got) + np.linalg.norm(ref)))


def _joined(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def _flatten(ref, got, label: str):
    """Pairs ``(label, ref_array, got_array)`` of matching leaves; raise _Mismatch if not."""
    if isinstance(ref, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(ref):
            what = type(got).__name__ + (f" of length {len(got)}" if hasattr(got, "__len__")
                                         else "")
            raise _Mismatch(f"expected a tuple ({label}), got a {what}")
        names = label.split(", ")
        if len(names) != len(ref):                   # a nested tuple: name its elements
            names = [f"{label}[{i}]" for i in range(len(ref))]
        return [p for r, g, nm in zip(ref, got, names, strict=True) for p in _flatten(r, g, nm)]
    if isinstance(ref, dict):
        if not isinstance(got, dict) or set(got) != set(ref):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise _Mismatch(f"{label}: expected a dict with keys {sorted(ref)}, got {keys}")
        return [p for k in ref for p in _flatten(ref[k], got[k], k)]
    return [(label, np.asarray(ref), _as_array(got, label, ref))]


def _as_array(got, label, ref):
    if got is None:
        raise _Mismatch(f"{label} is None: did you forget the `return`?")
    if isinstance(ref, np.ndarray) and ref.ndim > 0 and isinstance(got, (list, tuple)):
        raise _Mismatch(f"{label} is a Python {type(got).__name__}, expected a NumPy array: "
                        "return the array itself (not .tolist() or a list of rows; "
                        "np.asarray(...) converts)")
    try:
        arr = np.asarray(got)
    except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's output
        raise _Mismatch(f"{label}: could not convert the output to an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "O" and arr.ndim == 0:          # not array-like at all
            kind = getattr(got, "type_name", type(got).__name__)
            raise _Mismatch(f"{label}: expected numbers, got a {kind} object")
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


def _factor_hint(label, ref, got, n, tol) -> tuple[str, float | None]:
    """A hint for wrong values, and the ratio ``k`` when ``got = k ref`` (else None)."""
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _rel_error(got, ref.T) <= tol:
        return f"{label} equals the transpose of the expected value: did you transpose?", None
    r, g = ref.astype(np.float64).ravel(), got.astype(np.float64).ravel()
    i = int(np.argmax(np.abs(g - r)))
    differ = (f"{label}: got {g[0]:.6g}, expected {r[0]:.6g}" if r.size == 1 else
              f"{label}: values differ from the reference (largest difference at flat "
              f"index {i}: got {g[i]:.6g}, expected {r[i]:.6g})")
    k = _ratio(g, r)
    if k is None or not (k != 0 and _rel_error(g, k * r) < max(tol, 1e-6)):
        return differ, None
    if abs(k + 1) < 1e-6:
        return f"{label} has the wrong sign", None
    if n and abs(k - n) < 1e-6 * n:
        return (f"{label} is n = {n} times too large: the loss is the mean over the n rows, "
                f"divide by n (forgot the 1/n?)"), None
    if n and abs(k * n - 1) < 1e-6:
        return f"{label} is n = {n} times too small: divide by n once, not twice", None
    return differ, k


def _ratio(g: np.ndarray, r: np.ndarray) -> float | None:
    """The least-squares factor ``k = (g·r) / (r·r)`` computed scale-safely, or None when it
    is not a finite number.

    Each vector is divided by its own largest entry first (``gs = g / |g|_max``, ``rs = r /
    |r|_max``, entries in [-1, 1], so ``gs·rs`` and ``rs·rs`` cannot overflow, and ``rs·rs >= 1``
    cannot underflow); then ``k = (gs·rs) / (rs·rs) · (|g|_max / |r|_max)``, the last ratio taken
    in logarithms so that a got ~1e154 against a reference ~1e-160 gives "no factor" instead of
    an overflow."""
    gt, rt = float(np.max(np.abs(g), initial=0.0)), float(np.max(np.abs(r), initial=0.0))
    if not (rt > 0 and np.isfinite(rt) and np.isfinite(g).all()):
        return None
    if gt == 0:
        return 0.0
    log_scale = np.log(gt) - np.log(rt)
    if log_scale > 700:                                 # |k| would exceed ~1e304
        return None
    rs, gs = r / rt, g / gt
    return float(gs @ rs) / float(rs @ rs) * float(np.exp(log_scale))


def finish_hints(cases: list) -> list:
    """Cross-case hints: "off by a constant factor k" when *every* case fails with the same
    ratio ``k`` (a single case cannot tell a factor from a wrong scalar: any two numbers have a
    ratio); the cases are returned unchanged otherwise."""
    ks = [c.factor for c in cases]
    if not cases or any(k is None for k in ks):
        return list(cases)
    if not all(abs(k - ks[0]) <= 1e-6 * abs(ks[0]) for k in ks):
        return list(cases)
    return [replace(c, hint=f"{c.factor_label} is off by a constant factor {c.factor:.6g} "
                            "(the same on every case)") for c in cases]


def _same_args(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_args(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same_args(a[k], b[k]) for k in a)
    return True


def time_budget(seconds: float | None):
    """A context manager raising :class:`CaseTimeout` in this thread after ``seconds``.

    Uses ``signal.setitimer`` (POSIX, main thread only).  Where no timer exists (Windows,
    another thread, Pyodide/JupyterLite) the budget is not enforced: interrupt the kernel
    instead (a ``KeyboardInterrupt`` fails the case and stops the check).
    """
    return _Budget(seconds)


class _Budget:
    def __init__(self, seconds):
        self.seconds = seconds
        self.armed = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
                      and threading.current_thread() is threading.main_thread())

    def __enter__(self):
        if self.armed:
            def expire(signum, frame):
                raise CaseTimeout(self.seconds)
            self.previous = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def call_student(fn, args, kwargs):
    """Call ``fn`` with NumPy warnings recorded; return (output, RuntimeWarning messages)."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return out, msgs


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
def _warning_hint(ex, msgs) -> str:
    over = [m for m in msgs if "overflow" in m]
    if over:
        return f"NumPy warned '{over[0]}': {ex.overflow_hint}"
    return f"NumPy warned '{msgs[0]}': {ex.nan_hint}"


def _sanity_hint(ex, pairs, msgs, modified) -> str:
    """A hint for a warning, a non-finite value or modified inputs ("" if none): these fail a
    case even when the values are right."""
    if msgs:
        return _warning_hint(ex, msgs)
    for name, r, g in pairs:
        if np.isfinite(r).all() and not np.isfinite(g).all():
            if np.isinf(g).any():
                return f"{name} has inf (an overflow): {ex.overflow_hint}"
            return f"{name} has nan (0/0 or inf - inf): {ex.nan_hint}"
    if modified:
        return ("your function modified its input arrays in place: work on a copy "
                "(e.g. x = x.copy(), or out-of-place operations)")
    return ""


def _dtype_hint(pairs) -> str:
    for name, r, g in pairs:
        if r.ndim > 0 and r.dtype.kind == "f" and g.dtype != r.dtype:
            return (f"{name} is {g.dtype} for {r.dtype} inputs: keep the input dtype (create "
                    "arrays with dtype=x.dtype, or .astype(x.dtype))")
    return ""


def reference_output(ex: Exercise, spec: CaseSpec):
    """The reference's output on a copy of the case's inputs."""
    return ex.reference(*copy.deepcopy(spec.args), **copy.deepcopy(spec.kwargs))


def _group_errors(ref, pairs) -> tuple[float, list]:
    """The case's error (the max over the returned values, each compared as one vector) and,
    per leaf, its largest difference relative to its value's largest entry (names the worst
    block in a hint)."""
    sizes = [len(_flatten(r, r, "x")) for r in ref] if isinstance(ref, tuple) else [len(pairs)]
    errors, shares, start = [], [], 0
    for size in sizes:
        group = pairs[start:start + size]
        start += size
        g, r = _joined([p[2] for p in group]), _joined([p[1] for p in group])
        errors.append(_rel_error(g, r))
        with np.errstate(all="ignore"):
            top = max(np.max(np.abs(g), initial=0.0), np.max(np.abs(r), initial=0.0))
            for _, rl, gl in group:
                diff = np.max(np.abs(gl.astype(np.float64) - rl), initial=0.0)
                shares.append(diff / top if top > 0 and np.isfinite(diff / top) else
                              (0.0 if diff == 0 else np.inf))
    return max(errors), shares


def judge(ex: Exercise, spec: CaseSpec, ref, got, msgs=(), *, modified=False,
          seconds=float("nan")) -> Case:
    """The verdict on one case from the student's output ``got`` (see the module docstring)."""
    tol = tolerance(spec)
    label = ", ".join(ex.outputs)
    try:
        pairs = _flatten(ref, got, label)                # (name, ref leaf, student leaf)
        for name, r, g in pairs:
            if g.shape != r.shape:
                raise _Mismatch(_shape_hint(name, r, g))
    except _Mismatch as exc:
        return Case(spec.name, False, np.nan, str(exc), seconds)
    err, shares = _group_errors(ref, pairs)
    problem = _sanity_hint(ex, pairs, list(msgs), modified)
    if problem:
        return Case(spec.name, False, err, problem, seconds)
    if err <= tol:
        dtype_problem = _dtype_hint(pairs)                # right values, wrong dtype
        return Case(spec.name, not dtype_problem, err, dtype_problem, seconds)
    for mistake in ex.mistakes:
        if _matches(mistake.fn, spec, ref, pairs, label, tol):
            return Case(spec.name, False, err, mistake.hint, seconds)
    name, r, g = pairs[int(np.argmax(shares))]
    hint, k = _factor_hint(name, r, g, spec.n, tol)
    return Case(spec.name, False, err, hint, seconds, k, name)


def run_case(ex: Exercise, fn: Callable, spec: CaseSpec, *, timeout: float | None = None) -> Case:
    """Grade ``fn`` on one case of ``ex`` in this process.

    ``NotImplementedError`` and ``KeyboardInterrupt`` propagate (the caller reports the stub /
    stops); every other exception, ``SystemExit`` included, fails the case with its message.
    ``timeout`` seconds: see :func:`time_budget`.
    """
    ref = reference_output(ex, spec)
    args, kwargs = copy.deepcopy(spec.args), copy.deepcopy(spec.kwargs)
    start = time.perf_counter()
    try:
        with time_budget(timeout):
            got, msgs = call_student(fn, args, kwargs)
    except (NotImplementedError, KeyboardInterrupt):
        raise
    except CaseTimeout:
        return Case(spec.name, False, np.nan,
                    f"took longer than the time budget of {timeout:g} s: an infinite loop?",
                    time.perf_counter() - start)
    except SystemExit as exc:
        return Case(spec.name, False, np.nan,
                    f"raised SystemExit({exc.code!r}): return a value, never exit the "
                    "interpreter", time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - the student's bug is reported, not raised
        return Case(spec.name, False, np.nan, f"raised {type(exc).__name__}: {exc}",
                    time.perf_counter() - start)
    seconds = time.perf_counter() - start
    modified = not _same_args((spec.args, spec.kwargs), (args, kwargs))
    return judge(ex, spec, ref, got, msgs, modified=modified, seconds=seconds)
