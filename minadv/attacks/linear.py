"""Exact worst-case perturbations of a linear score ``f(x) = w^T x + b``.

For any loss that is non-increasing in the signed margin ``m = y (w^T x + b)`` (logistic,
hinge, exponential) the inner maximisation over ``||delta||_p <= eps`` only has to minimise
the linear function ``y w^T delta``.  Without a data box it has the closed forms of
``docs/theory.md`` §1.1 (Hoelder, ``q`` the dual exponent):

====  ====================================  =========================
norm  delta*                                worst margin
====  ====================================  =========================
L2    ``-eps y w / ||w||_2``                ``m - eps ||w||_2``
Linf  ``-eps y sign(w)``                    ``m - eps ||w||_1``
L1    ``-eps y sign(w_j) e_j``,             ``m - eps ||w||_inf``
      ``j`` = first index of ``max |w_i|``
====  ====================================  =========================

With a box ``clip_min <= x + delta <= clip_max`` the problem is still a separable linear
programme over a ball and is solved exactly (no iterative attack):

* Linf: per-coordinate clip of the unboxed solution.
* L1: fractional knapsack.  Every unit of budget buys ``|w_i|`` margin in coordinate ``i``, so
  the coordinates are filled greedily in the order of decreasing ``|w_i|`` (the same order for
  every sample), each up to its room in the box.
* L2: water-filling.  The KKT conditions give ``delta(tau) = s * min(tau |w|, room)`` with
  ``s = -y sign(w)``; ``||delta(tau)||`` is piecewise ``sqrt(A + tau^2 B)`` between the sorted
  breakpoints ``room_i / |w_i|``, so ``tau`` is found exactly per sample by a sorted
  breakpoint search (vectorised over samples, no bisection).

Labels are ``y in {0, 1}`` at the API (``y_pm = 2 y - 1`` inside).  The bias is never perturbed.
Zero weights give a zero perturbation.

References
----------
Goodfellow, Shlens, Szegedy. Explaining and Harnessing Adversarial Examples. ICLR 2015
(arXiv:1412.6572), section 5.  ``docs/theory.md`` §1.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_labels, check_norm, check_scalar, dual_norm
from .box import check_box
from .norms import unit_rows_kernel

__all__ = ["linear_worst_case", "linear_worst_case_kernel", "linear_worst_case_unboxed",
           "robust_margin"]


# ----------------------------------------------------------------------------- validation
def _check_inputs(w, b, X, y, eps, norm, clip_min, clip_max):
    """Validate the public arguments once; return canonical arrays."""
    X = check_array(X, "X", ndim=2)
    n, d = X.shape
    w = check_array(w, "w", ndim=1, shape=(d,))
    b = check_array(0.0 if b is None else b, "b", ndim=0)
    y_pm = 2.0 * check_labels(y, "y", 2, n_samples=n) - 1.0
    eps = check_scalar(eps, "eps", low=0.0)
    norm = check_norm(norm)
    lo, hi = _check_box(X, clip_min, clip_max)
    return w.astype(X.dtype, copy=False), b, X, y_pm.astype(X.dtype), eps, norm, lo, hi


def _check_box(X, clip_min, clip_max):
    """The attacks' box check (:func:`~minadv.attacks.box.check_box`), None -> ±inf."""
    lo, hi = check_box(X, clip_min, clip_max)
    inf = X.dtype.type(np.inf)
    return (-inf if lo is None else lo), (inf if hi is None else hi)


# ----------------------------------------------------------------------------- kernels
def linear_worst_case_unboxed(w: np.ndarray, y_pm: np.ndarray, n: int, eps: float,
                              norm) -> np.ndarray:
    """Unboxed closed forms (module table) without validation; returns delta (n, d).

    ``w`` (d,), ``y_pm`` (n,) in {-1, +1}, ``norm`` canonical.  Used where no box exists
    (e.g. :func:`minadv.analysis.sharpness_curve`).
    """
    if norm == 2:
        v = unit_rows_kernel(w[None, :])[0]                      # (d,) unit (0 for w = 0)
    elif norm == np.inf:
        v = np.sign(w)                                           # (d,)
    else:
        j = int(np.argmax(np.abs(w)))                            # first index of max |w|
        v = np.zeros_like(w)
        v[j] = np.sign(w[j])
    return (-eps * y_pm)[:, None] * v                            # (n, d)


def _room(X, s, lo, hi, eps):
    """How far each coordinate may move in its direction ``s``, capped at eps (n, d)."""
    room = np.where(s > 0, hi - X, X - lo)                       # (n, d), >= 0
    return np.minimum(room, X.dtype.type(eps))                   # |delta_i| <= eps anyway


def _l1_knapsack(a, room, eps):
    """Greedy fractional knapsack: fill by decreasing |w_i| (stable sort: low index first)."""
    order = np.argsort(-a, kind="stable")                        # (d,) same for every sample
    r = room[:, order]                                           # (n, d) sorted rooms
    spent_before = np.cumsum(r, axis=1) - r                      # budget used by better coords
    take = np.clip(eps - spent_before, 0.0, r)                   # (n, d)
    amount = np.empty_like(take)
    amount[:, order] = take
    return amount


def _l2_water_fill(a, room, eps):
    """Exact ``tau`` with ``||min(tau a, room)||_2 = eps`` per sample; returns |delta| (n, d).

    Coordinates are clipped (saturate their room) in the order of their breakpoints
    ``t_i = room_i / a_i``.  At ``tau = t_k`` the squared norm is
    ``sum_{j<=k} room_j^2 + t_k^2 sum_{j>k} a_j^2``; the first k where this reaches eps^2 fixes
    the free set ``{j >= k}`` and ``tau^2 = (eps^2 - sum_{j<k} room_j^2) / sum_{j>=k} a_j^2``.
    """
    pos = a > 0
    safe_a = np.where(pos, a, 1.0)
    t = np.where(pos, room / safe_a, np.inf)                     # (n, d) breakpoints
    order = np.argsort(t, axis=1)
    t_s = np.take_along_axis(t, order, axis=1)
    r2_s = np.take_along_axis(room, order, axis=1) ** 2
    a2_s = (a * a)[order]                                        # (n, d)
    a2_from = np.cumsum(a2_s[:, ::-1], axis=1)[:, ::-1]          # sum_{j>=k} a_j^2
    a2_after = a2_from - a2_s                                    # sum_{j>k} a_j^2 (exact 0 at end)
    a2_after = np.maximum(a2_after, 0.0)
    r2_upto = np.cumsum(r2_s, axis=1)                            # sum_{j<=k} room_j^2
    finite = np.isfinite(t_s)
    sq = np.where(finite, r2_upto + np.where(finite, t_s, 0.0) ** 2 * a2_after, np.inf)
    reached = sq >= eps * eps                                    # monotone in k
    k = np.argmax(reached, axis=1)                               # first k reaching eps
    hit = reached[np.arange(len(k)), k]
    idx = np.arange(len(k))
    r2_before = r2_upto[idx, k] - r2_s[idx, k]
    denom = a2_from[idx, k]
    tau2 = np.where(hit, (eps * eps - r2_before) / np.where(denom > 0, denom, 1.0), np.inf)
    tau = np.sqrt(np.maximum(tau2, 0.0))[:, None]                # (n, 1); inf: box vertex
    return np.where(pos, np.minimum(np.where(pos, tau * safe_a, 0.0), room), 0.0)


def _worst_case_boxed(w, y_pm, X, eps, norm, lo, hi):
    """Exact boxed worst case: delta_i = s_i * amount_i with s = -y sign(w)."""
    s = -y_pm[:, None] * np.sign(w)                              # (n, d) in {-1, 0, 1}
    room = _room(X, s, lo, hi, eps)
    a = np.abs(w)
    if norm == np.inf:
        amount = room
    elif norm == 1:
        amount = _l1_knapsack(a, room, eps)
    else:
        amount = _l2_water_fill(a, room, eps)
    return (s * amount).astype(X.dtype, copy=False)


def linear_worst_case_kernel(w: np.ndarray, y_pm: np.ndarray, X: np.ndarray, eps: float, *,
                             norm, lo, hi) -> np.ndarray:
    """Kernel of :func:`linear_worst_case`: ``y_pm`` in {-1, +1}, ``lo``/``hi`` with ±inf
    for unbounded sides (no ``None``), everything validated."""
    if np.all(np.isneginf(lo)) and np.all(np.isposinf(hi)):
        delta = linear_worst_case_unboxed(w, y_pm, X.shape[0], eps, norm)   # (n, d)
        return delta.astype(X.dtype, copy=False)
    return _worst_case_boxed(w, y_pm, X, eps, norm, lo, hi)


# ----------------------------------------------------------------------------- public API
def linear_worst_case(
    w: Any,
    b: Any,
    X: Any,
    y: Any,
    eps: float,
    *,
    norm: Any,
    clip_min: Any = None,
    clip_max: Any = None,
) -> np.ndarray:
    """Optimal perturbation of a linear classifier (exact, no iterations).

    Solves, independently for every sample,
    ``min_delta y_pm (w^T (x + delta) + b)`` s.t. ``||delta||_p <= eps`` and
    ``clip_min <= x + delta <= clip_max``.

    Parameters
    ----------
    w : ndarray of shape (d,)
        Weights (cast to X's dtype for the computation).
    b : float, 0-d array or None
        Bias; it does not change the optimal delta and is accepted for a uniform signature.
    X : ndarray of shape (n, d), float32 or float64
        Clean inputs; must lie inside the box when one is given.
    y : ndarray of shape (n,)
        Integer labels in {0, 1}.
    eps : float
        Attack radius, ``>= 0``.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
        Norm of the ball.
    clip_min, clip_max : None, float or array broadcastable to (n, d)
        Data box.  ``None`` means unbounded on that side.

    Returns
    -------
    delta : ndarray of shape (n, d), dtype of X
        Unboxed, ``||delta_i||_p = eps`` for ``w != 0``.  Ties: for L1 the budget goes to the
        first index of ``max |w_i|``; with a box the knapsack fills equal ``|w_i|`` from the
        lowest index.  Coordinates with ``w_i = 0`` never move; ``w = 0`` gives ``delta = 0``.

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite values, ``eps < 0``, labels outside {0, 1}, unknown norm,
        ``clip_min > clip_max`` or X outside the box.

    Notes
    -----
    Unboxed closed forms: ``docs/theory.md`` §1.1.  Boxed: see the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((1, 2)); y = np.array([1])
    >>> linear_worst_case(np.array([3.0, 4.0]), 0.0, X, y, 1.0, norm=2)
    array([[-0.6, -0.8]])
    """
    w, b, X, y_pm, eps, norm, lo, hi = _check_inputs(w, b, X, y, eps, norm, clip_min, clip_max)
    return linear_worst_case_kernel(w, y_pm, X, eps, norm=norm, lo=lo, hi=hi)


def robust_margin(
    w: Any,
    b: Any,
    X: Any,
    y: Any,
    eps: float,
    *,
    norm: Any,
    clip_min: Any = None,
    clip_max: Any = None,
) -> np.ndarray:
    """Worst-case signed margin ``min_delta y_pm (w^T (x + delta) + b)`` per sample.

    Without a box this is ``y_pm (w^T x + b) - eps ||w||_q`` (``q`` the dual exponent of the
    attack norm, ``docs/theory.md`` eq. (1.1)); with a box it is the margin at :func:`linear_worst_case`.
    Arguments as in :func:`linear_worst_case`.

    Returns
    -------
    margin : ndarray of shape (n,), dtype of X

    Examples
    --------
    >>> import numpy as np
    >>> robust_margin(np.array([3.0, 4.0]), 0.0, np.zeros((1, 2)), np.array([1]), 1.0,
    ...               norm=np.inf)
    array([-7.])
    """
    w, b, X, y_pm, eps, norm, lo, hi = _check_inputs(w, b, X, y, eps, norm, clip_min, clip_max)
    clean = y_pm * (X @ w + b.astype(X.dtype))
    if np.all(np.isneginf(lo)) and np.all(np.isposinf(hi)):
        return (clean - X.dtype.type(eps * np.linalg.norm(w.astype(np.float64), ord=dual_norm(norm)))).astype(
            X.dtype, copy=False)
    delta = _worst_case_boxed(w, y_pm, X, eps, norm, lo, hi)
    return clean + y_pm * (delta @ w)
