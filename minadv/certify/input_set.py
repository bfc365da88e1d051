"""The input set ``S(x) = {x' : ||x' - x||_p <= eps} ∩ [clip_min, clip_max]`` and the exact
minimum of a linear function over it.

Every certifier starts here: the first layer's pre-activations ``a_1 = x' W_1 + b_1`` are linear
in ``x'``, and back-substitution (:mod:`minadv.certify.linear`) ends with a linear function
``λᵀx'`` of the input.  Its minimum over ``S(x)`` has closed forms (``docs/theory.md`` §17.1)::

    L∞ ∩ box  (a box [ℓ, υ], ℓ = max(x - eps, lo), υ = min(x + eps, hi)):
              min λᵀx' = Σ_i max(λ_i, 0) ℓ_i + min(λ_i, 0) υ_i
    L2, no box:  min λᵀx' = λᵀx - eps ||λ||_2          (Cauchy–Schwarz; Hölder in general:
    L1, no box:  min λᵀx' = λᵀx - eps ||λ||_∞           the dual norm of the ball's norm)

and, for L2 or L1 inside a box, the separable LP solved exactly by
:func:`minadv.attacks.linear.linear_worst_case_kernel` (water-filling, fractional knapsack).
These minima are exact, which is why every method is exact on a network without hidden layers
(logistic and softmax regression).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import check_array, check_norm, check_scalar
from ..attacks.box import box_rows, check_box
from ..attacks.linear import linear_worst_case_kernel

__all__ = ["InputSet", "input_set", "input_set_kernel", "input_rows", "linear_minimum",
           "linear_minimiser",
           "dual_norm"]


class InputSet(NamedTuple):
    """The validated input set of ``n`` points.

    Attributes
    ----------
    X : ndarray (n, d)
        Centres.
    eps : float
    norm : {np.inf, 2, 1}
    lower, upper : ndarray (n, d)
        The box ``[max(x - eps, lo), min(x + eps, hi)]`` containing ``S(x)`` (equal to it for
        L∞); ``±inf`` never occurs for L∞ and is allowed for L2/L1 without a box.
    lo, hi : ndarray broadcastable to (n, d)
        The data box with ``±inf`` for unbounded sides.
    """

    X: np.ndarray
    eps: float
    norm: Any
    lower: np.ndarray
    upper: np.ndarray
    lo: Any
    hi: Any

    @property
    def boxed(self) -> bool:
        return bool(np.any(np.isfinite(self.lo)) or np.any(np.isfinite(self.hi)))


def input_set_kernel(X: np.ndarray, eps: float, norm, lo, hi) -> InputSet:
    """Kernel of :func:`input_set` (``lo``/``hi`` validated, ``±inf`` for open sides)."""
    lower = np.maximum(X - eps, lo)                              # (n, d)
    upper = np.minimum(X + eps, hi)
    return InputSet(X, eps, norm, lower, upper, lo, hi)


def input_set(X: Any, eps: Any, norm: Any = np.inf, *, clip_min: Any = None,
              clip_max: Any = None) -> InputSet:
    """Validate ``X``, ``eps``, ``norm`` and the data box; return the :class:`InputSet`.

    Raises
    ------
    TypeError, ValueError
        ``X`` not a finite float ``(n, d)`` array; ``eps`` negative or not finite; unknown
        ``norm``; ``clip_min > clip_max`` somewhere (an empty box); ``X`` outside the box.
    """
    X = check_array(X, "X", ndim=2)
    eps = check_scalar(eps, "eps", low=0.0)
    norm = check_norm(norm)
    lo, hi = check_box(X, clip_min, clip_max)
    inf = X.dtype.type(np.inf)
    lo, hi = (-inf if lo is None else lo), (inf if hi is None else hi)
    return input_set_kernel(X, eps, norm, lo, hi)


def input_rows(region: InputSet, rows: slice) -> InputSet:
    """The input set of the points ``X[rows]``."""
    return InputSet(region.X[rows], region.eps, region.norm, region.lower[rows],
                    region.upper[rows], box_rows(region.lo, rows), box_rows(region.hi, rows))


def dual_norm(norm) -> float:
    """The exponent ``q`` with ``1/p + 1/q = 1`` (Hölder): ``∞ ↔ 1``, ``2 ↔ 2``."""
    return {np.inf: 1, 2: 2, 1: np.inf}[norm]


def linear_minimum(region: InputSet, Lam: np.ndarray) -> np.ndarray:
    """``min_{x' ∈ S(x_i)} Λ_{ik} · x'`` for every point ``i`` and row ``k`` (module docstring).

    ``Lam`` is ``(n, m, d)``; returns ``(n, m)``.  Exact (no relaxation).
    """
    if region.norm == np.inf:
        pos, neg = np.maximum(Lam, 0), np.minimum(Lam, 0)        # (n, m, d)
        return (np.einsum("nmd,nd->nm", pos, region.lower)
                + np.einsum("nmd,nd->nm", neg, region.upper))
    centre = np.einsum("nmd,nd->nm", Lam, region.X)              # λᵀx, (n, m)
    if not region.boxed:                                         # Hölder: λᵀx - eps ||λ||_q
        return centre - region.eps * np.linalg.norm(Lam, ord=dual_norm(region.norm), axis=2)
    out = np.empty(Lam.shape[:2], dtype=Lam.dtype)
    for i in range(Lam.shape[0]):                                # boxed L2/L1: exact LP per row
        row = input_rows(region, slice(i, i + 1))
        for k in range(Lam.shape[1]):
            out[i, k] = Lam[i, k] @ linear_minimiser(row, Lam[i, k])
    return out


def linear_minimiser(row: InputSet, direction: np.ndarray) -> np.ndarray:
    """A minimiser ``x' ∈ S(x)`` of ``λᵀx'`` for the one point of ``row`` (``(d,)``).

    The worst case of :func:`minadv.attacks.linear.linear_worst_case_kernel` for the score
    ``λᵀx'`` and label +1 (it minimises ``λᵀδ`` over the ball ∩ box exactly, every norm).
    """
    one = np.ones(1, dtype=direction.dtype)
    delta = linear_worst_case_kernel(direction, one, row.X, row.eps, norm=row.norm, lo=row.lo, hi=row.hi)
    return row.X[0] + delta[0]
