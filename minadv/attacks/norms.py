"""Row-wise Lp norms, unit vectors, the sign step and the Lp-ball projections.

Every attack works on one row per sample, so every helper here maps an ``(n, d)`` array to
per-row results.  They are the only definitions of these operations in :mod:`minadv.attacks`.

Scale safety.  A gradient can be as small as a subnormal number (a float32 model on inputs in
0…255) or close to the largest float.  ``||g||_2 = sqrt(Σ g_i²)`` then under- or overflows
(``g_i²`` rounds to 0 or inf) and ``g / ||g||`` becomes NaN or inf.  The textbook quotient is
computed after scaling each row by its largest absolute entry, rounded to a power of two
``m = 2^e`` (``max_i |g_i| = f 2^e`` with ``f`` in [0.5, 1))::

    ||g||_2 = m * ||g / m||_2,        g / ||g||_2 = (g / m) / ||g / m||_2

where ``g / m`` has entries in ``(-1, 1]``, the largest at least 1/2, so ``||g / m||_2`` lies in
``[1/2, sqrt(d)]`` and neither step can over- or underflow.  Scaling by a power of two is exact,
so wherever ``||g||`` neither under- nor overflows the result is bitwise the textbook
``g / ||g||`` (the numbers printed by ``minadv reproduce`` do not move).

The sign step ``eps * sign(g)`` is exact for every nonzero float (subnormals included) because
``sign`` is.  A zero entry gives a zero step (``np.sign(±0) = +0``, so ``x + delta = x``
exactly) and zero rows give zero unit vectors, never NaN.

References
----------
Duchi, Shalev-Shwartz, Singer, Chandra. Efficient Projections onto the l1-Ball for Learning in
High Dimensions. ICML 2008, Figure 1 (the L1 projection).
Higham. Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §27.5 (the scaled
2-norm, as in LAPACK's ``xNRM2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_norm, check_scalar
from ..numerics import project_simplex

__all__ = [
    "lp_norms", "lp_norms_kernel", "l2_norms_kernel", "unit_rows_kernel", "sign_step_kernel",
    "project_ball", "project_ball_kernel"]


# ----------------------------------------------------------------------------- norms
def _max_abs_exponents(A: np.ndarray) -> np.ndarray:
    """``(n, 1)`` exponents ``e`` with ``max_i |A_i| = f 2^e``, ``f`` in [0.5, 1) (0 for zero rows)."""
    _, e = np.frexp(np.max(np.abs(A), axis=1, keepdims=True))    # (n, 1) int
    return e


def _scaled_rows(A: np.ndarray, out: np.ndarray | None = None):
    """``S = A 2^-e`` (exact: a power of two) with entries in (-1, 1], and ``||S_i||_2``."""
    e = _max_abs_exponents(A)                                    # (n, 1)
    S = np.ldexp(A, -e, out=out)                                 # (n, d)
    return S, np.sqrt(np.einsum("ij,ij->i", S, S)), e[:, 0]     # norms in [0.5, sqrt(d)] or 0


def l2_norms_kernel(A: np.ndarray) -> np.ndarray:
    """Row L2 norms ``(n,)`` as ``2^e ||A 2^-e||_2`` with ``2^e`` the row's max-abs scale."""
    _, norms, e = _scaled_rows(A)
    return np.ldexp(norms, e)                                    # exact unless not representable


def lp_norms_kernel(A: np.ndarray, norm) -> np.ndarray:
    """Kernel of :func:`lp_norms` (``norm`` canonical: ``np.inf``, 2 or 1)."""
    if norm == np.inf:
        return np.max(np.abs(A), axis=1)
    if norm == 2:
        return l2_norms_kernel(A)
    return np.sum(np.abs(A), axis=1)


def lp_norms(A: Any, norm: Any) -> np.ndarray:
    """Row-wise ``||A_i||_p`` for ``p`` in ``{inf, 2, 1}``.

    Parameters
    ----------
    A : ndarray of shape (n, d), float32 or float64
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}

    Returns
    -------
    ndarray of shape (n,), dtype of ``A``
        The L2 norm is ``m ||A_i / m||_2`` with ``m = max_j |A_ij|`` (module docstring), so it
        neither underflows for subnormal rows nor overflows for rows near the largest float
        (unless the norm itself exceeds it).

    Examples
    --------
    >>> import numpy as np
    >>> lp_norms(np.array([[3e-320, 4e-320]]), 2)
    array([5.e-320])
    """
    A = check_array(A, "A", ndim=2)
    return lp_norms_kernel(A, check_norm(norm))


# ----------------------------------------------------------------------------- directions
def unit_rows_kernel(A: np.ndarray, out: np.ndarray | None = None,
                     length: Any = 1.0) -> np.ndarray:
    """``length * A_i / ||A_i||_2`` per row; zero rows stay zero.  ``out`` may be ``A``.

    ``length`` is a scalar or an ``(n,)`` array.  Computed as ``S (length / ||S||)`` with
    ``S = A / m`` and ``m`` the power of two at the row's max-abs entry (module docstring),
    finite for every finite row whatever its scale.  Scaling by a power of two is exact, so
    where ``||A||`` neither under- nor overflows this is bitwise ``A (length / ||A||)``.
    """
    S, norms, _ = _scaled_rows(A, out=out)
    norms[norms == 0] = 1                                        # zero row -> zero vector
    S *= np.divide(length, norms, dtype=A.dtype)[:, None]        # (n, 1)
    return S


def sign_step_kernel(g: np.ndarray, scale: float, out: np.ndarray | None = None) -> np.ndarray:
    """``scale * sign(g)``, exact for every float (``sign(±0) = +0``, subnormals give ±scale).

    ``out`` may be ``g`` (in place).  ``scale`` is rounded once to ``g``'s dtype.
    """
    step = np.sign(g)             # a new array: NumPy's in-place sign loop is ~20x slower (PGD)
    step *= g.dtype.type(scale)
    if out is None:
        return step
    np.copyto(out, step)
    return out


# ----------------------------------------------------------------------------- projections
def _project_l2_(delta: np.ndarray, eps: float) -> np.ndarray:
    """Rows with ``||delta|| > eps`` become ``eps * delta / ||delta||``, in place."""
    outside = l2_norms_kernel(delta) > eps                       # (n,)
    if outside.any():
        delta[outside] = unit_rows_kernel(delta[outside], length=eps)
    return delta


def _project_l1_(delta: np.ndarray, eps: float) -> np.ndarray:
    """Euclidean projection of each row onto the L1 ball (Duchi et al. 2008), in place.

    For a row ``v`` with ``||v||_1 > eps``: sort ``u = |v|`` decreasingly, ``c = cumsum(u)``,
    ``rho = max{j : u_j > (c_j - eps) / j}``, ``theta = (c_rho - eps) / rho``; the projection is
    ``sign(v) max(|v| - theta, 0)``.  Rows already inside the ball are untouched.
    """
    if eps == 0:
        delta[...] = 0
        return delta
    absd = np.abs(delta)                                         # (n, d)
    outside = np.sum(absd, axis=1) > eps                         # (n,)
    if not outside.any():
        return delta
    a = project_simplex(absd[outside], eps)                      # (m, d) |v| onto the simplex
    # |v| - theta cancels when eps << |v| (theta ~ |v|): rescale the few rows it left outside
    total = np.sum(a, axis=1)                                    # (m,)
    np.multiply(a, np.where(total > eps, eps / np.where(total > 0, total, 1), 1)[:, None], out=a)
    delta[outside] = np.copysign(a, delta[outside])
    return delta


def project_ball_kernel(delta: np.ndarray, eps: float, norm) -> np.ndarray:
    """Project each row of ``delta`` onto the eps-ball of ``norm``, **in place**; returns it."""
    if norm == np.inf:
        return np.clip(delta, -eps, eps, out=delta)
    if norm == 2:
        return _project_l2_(delta, eps)
    return _project_l1_(delta, eps)


def project_ball(delta: Any, eps: float, norm: Any) -> np.ndarray:
    """Euclidean projection of each row of ``delta`` onto ``{||r||_p <= eps}``.

    Parameters
    ----------
    delta : ndarray of shape (n, d), float32 or float64
    eps : float
        Radius, ``>= 0``.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}

    Returns
    -------
    ndarray of shape (n, d), a new array of ``delta``'s dtype
        L_inf: ``clip(delta, -eps, eps)``; L2: ``eps delta / ||delta||_2`` for rows outside
        the ball (rows inside are returned unchanged); L1: the sort-based projection of Duchi
        et al. (2008, Fig. 1), ``O(d log d)`` per row, vectorised over rows.

    Examples
    --------
    >>> import numpy as np
    >>> project_ball(np.array([[3.0, 1.0]]), 2.0, 1)
    array([[2., 0.]])
    """
    delta = check_array(delta, "delta", ndim=2)
    eps = check_scalar(eps, "eps", low=0.0)
    return project_ball_kernel(delta.copy(), eps, check_norm(norm))
