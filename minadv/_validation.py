"""Input validation at the public boundary.

Every public function of minadv validates its arguments once, with the helpers below, and then
calls unchecked NumPy kernels.  Messages name the argument, say what was expected, what
arrived and, where there is one, the fix.  Kernels never re-validate (an attack calling the
model's forward pass 100 times must not scan the input for NaN 100 times).
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any

import numpy as np

__all__ = [
    "as_generator",
    "all_finite",
    "check_array",
    "check_labels",
    "check_scalar",
    "check_int",
    "check_norm",
    "dual_norm",
    "check_eps_grid",
    "check_float_dtype",
    "FLOAT_DTYPES",
    "NotFittedError",
    "describe",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_NORM_ALIASES = {
    "linf": np.inf, "l_inf": np.inf, "inf": np.inf, "l∞": np.inf,
    "l2": 2, "l_2": 2, "2": 2,
    "l1": 1, "l_1": 1, "1": 1,
}


def describe(value: Any) -> str:
    """What arrived, for an error message: ``"str '0.1'"``, ``"the class MLP"``,
    ``"ndarray of shape (3,) and dtype int64"`` (never a long dump)."""
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    name = getattr(value, "__name__", None)
    if callable(value) and isinstance(name, str):
        return f"{type(value).__name__} {name!r}"
    return f"{type(value).__name__} {reprlib.repr(value)}"


class NotFittedError(ValueError, AttributeError):
    """A scikit-learn-style estimator was used before ``fit`` (the same bases as
    scikit-learn's ``NotFittedError``, so ``except ValueError`` and ``hasattr`` both work)."""


def as_generator(rng: Any = None, name: str = "rng") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from ``rng``.

    Parameters
    ----------
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` draws fresh OS entropy (not reproducible); an int or SeedSequence seeds a new
        PCG64 generator; a Generator is returned as is (so the caller's stream advances).
    name : str, default "rng"
        The argument name used in error messages (``"random_state"`` for the estimators).

    Raises
    ------
    TypeError
        For anything else, in particular the legacy ``numpy.random.RandomState``, floats and
        bools.
    ValueError
        A negative seed.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or isinstance(rng, np.bool_):
        raise TypeError(f"{name}: expected None, an int seed or a numpy.random.Generator, "
                        f"got bool {rng!r}.")
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, numbers.Integral) and rng < 0:
            raise ValueError(f"{name}: a seed must be a non-negative integer, got {rng}.")
        return np.random.default_rng(rng)
    hint = (" The legacy RandomState is not supported: use numpy.random.default_rng(seed)."
            if isinstance(rng, np.random.RandomState) else
            " Use an int seed or numpy.random.default_rng(seed).")
    raise TypeError(
        f"{name}: expected None, an int seed, a SeedSequence or a numpy.random.Generator, got "
        f"{type(rng).__name__} {rng!r}." + hint
    )


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}.") from exc
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {dt}.")
    return dt


def all_finite(array: np.ndarray) -> bool:
    """Whether every entry of the float array ``array`` is finite (no NaN, no infinity).

    ``a·a = Σ a_i²`` is a sum of non-negative squares: finite exactly when every entry is
    finite, unless it overflows (entries beyond ~1e154 in float64, ~1e19 in float32).  One BLAS
    dot (a read of the data) screens; ``isfinite`` (which also writes a mask) decides only when
    the dot is not finite.
    """
    flat = array.ravel()
    return math.isfinite(np.vdot(flat, flat)) or bool(np.isfinite(array).all())


def check_array(
    array: Any,
    name: str,
    *,
    ndim: int | None = 2,
    dtype: Any = None,
    shape: tuple | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Validate a floating-point array and return it (never copied, never cast).

    Parameters
    ----------
    array : array_like
        The value to check.  Lists are converted with ``np.asarray``; NumPy arrays are returned
        unchanged, so the caller's data are never modified or silently upcast.
    name : str
        The argument name used in error messages.
    ndim : int or None
        Required number of dimensions.
    dtype : dtype or None
        Required floating dtype.  ``None`` accepts float32 and float64.
    shape : tuple or None
        Required shape; ``None`` entries are free.
    finite : bool
        Reject NaN and infinity.

    Raises
    ------
    TypeError
        Non-floating or mismatching dtype.
    ValueError
        Wrong number of dimensions, wrong shape, NaN or infinity, empty array.
    """
    if not isinstance(array, np.ndarray):
        if isinstance(array, (list, tuple, numbers.Number)):
            try:
                array = np.asarray(array, dtype=np.float64 if dtype is None else dtype)
            except (TypeError, ValueError) as exc:       # text, complex or ragged lists
                raise TypeError(f"{name}: expected an array of real numbers, got "
                                f"{describe(array)} ({exc}).") from exc
        else:
            raise TypeError(f"{name}: expected a NumPy array, got {describe(array)}.")
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name}: expected a float32 or float64 array, got dtype {array.dtype}. "
            f"Convert it first, e.g. {name}.astype(np.float64)."
        )
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} (the model's dtype), got {array.dtype}. "
            f"Convert it with {name}.astype(np.{np.dtype(dtype)}) or build the model with "
            f"dtype={array.dtype}."
        )
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {array.shape}.")
    if shape is not None:
        if len(shape) != array.ndim or any(
            s is not None and s != a for s, a in zip(shape, array.shape)
        ):
            want = ", ".join("any" if s is None else str(s) for s in shape)
            raise ValueError(f"{name}: expected shape ({want}), got {array.shape}.")
    if array.size == 0 and array.ndim > 0 and array.shape[0] == 0:
        raise ValueError(f"{name}: got an empty array of shape {array.shape}.")
    # isfinite, not the all_finite screen: measured faster per training step after it (its
    # freed mask raises glibc's mmap threshold; docs/benchmarks.md, W1 page faults)
    if finite and not np.isfinite(array).all():
        n_nan = int(np.isnan(array).sum())
        n_inf = int(np.isinf(array).sum())
        raise ValueError(f"{name}: contains {n_nan} NaN and {n_inf} infinite values.")
    return array


def check_labels(y: Any, name: str, n_classes: int, n_samples: int | None = None, *,
                 x_name: str = "X") -> np.ndarray:
    """Validate integer class labels in ``{0, ..., n_classes - 1}`` and return them as int64.

    Float arrays holding whole numbers are accepted (``[0., 1.]``); fractional values, values
    out of range and length mismatches (with the rows of ``x_name``) raise ``ValueError``.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {arr.shape}.")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{name}: has {arr.shape[0]} labels but {x_name} has {n_samples} rows; they must "
            "match."
        )
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected integer class labels, got dtype {arr.dtype}.")
    if arr.dtype.kind == "f":
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))]
        if bad.size:
            raise ValueError(f"{name}: expected integer class labels, got {bad.size} "
                             f"non-integer values such as {bad[0].item()!r}.")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name}: labels must lie in {{0, ..., {n_classes - 1}}}, got values in "
            f"[{arr.min()}, {arr.max()}]."
            + (" Binary labels are 0/1, not -1/+1." if n_classes == 2 and arr.min() == -1 else "")
        )
    return arr.astype(np.int64, copy=False)


def check_scalar(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate a finite real number inside optional bounds and return it as float."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()                              # a 0-d array is a number too
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {describe(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}.")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name}: expected {name} {op} {low}, got {value}.")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name}: expected {name} {op} {high}, got {value}.")
    return value


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Validate an integer inside optional inclusive bounds and return it as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}.")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name}: expected an integer <= {high}, got {value}.")
    return value


def check_norm(norm: Any, name: str = "norm") -> float | int:
    """Canonicalise an attack norm to ``np.inf``, ``2`` or ``1``.

    Accepts ``np.inf``/``float('inf')``/``2``/``1`` (the CleverHans/ART habit) and the strings
    ``"linf"``, ``"l2"``, ``"l1"`` (case-insensitive).
    """
    if isinstance(norm, str):
        key = norm.strip().lower()
        if key in _NORM_ALIASES:
            return _NORM_ALIASES[key]
    elif isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        if norm == np.inf:
            return np.inf
        if norm in (1, 2):
            return int(norm)
    raise ValueError(f"{name}: expected one of np.inf, 2, 1, 'linf', 'l2', 'l1'; got {norm!r}.")


_DUAL_NORM = {np.inf: 1, 2: 2, 1: np.inf}


def dual_norm(norm: Any) -> float | int:
    """The dual exponent ``q`` of an attack norm ``p`` (``1/p + 1/q = 1``): L∞ ↔ L1, L2 ↔ L2.

    The one home of the Hölder pairing ``max_{||δ||_p <= eps} <g, δ> = eps ||g||_q`` used by
    the steepest-ascent step, the linear worst case and the robust logistic loss
    (``docs/theory.md`` §1.1).  ``norm`` is anything :func:`check_norm` accepts.

    Examples
    --------
    >>> dual_norm("linf"), dual_norm(2), dual_norm(1)
    (1, 2, inf)
    """
    return _DUAL_NORM[check_norm(norm)]


def check_eps_grid(eps_grid: Any, name: str = "eps_grid") -> np.ndarray:
    """A grid of attack radii: a non-empty 1-D sequence of finite numbers ``>= 0``, sorted in
    non-decreasing order; returned as float64 (the one eps-grid rule)."""
    values = np.ravel(np.asarray(eps_grid, dtype=object))
    if isinstance(eps_grid, (str, bytes)) or not all(
            isinstance(e, (numbers.Real, np.integer, np.floating)) and not isinstance(e, bool)
            for e in values):
        raise TypeError(f"{name}: expected a sequence of numbers, got {eps_grid!r}.")
    grid = np.atleast_1d(np.asarray(eps_grid, dtype=np.float64))
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence, got shape {grid.shape}.")
    if not np.isfinite(grid).all() or np.any(grid < 0):
        raise ValueError(f"{name}: expected finite values >= 0, got {grid}.")
    if np.any(np.diff(grid) < 0):
        raise ValueError(f"{name}: must be sorted in non-decreasing order, got {grid}.")
    return grid
