"""Smoothness of adversarial losses: finite-difference gradient-Lipschitz estimates.

Kanai et al. (arXiv:2103.01400, ``theory.md`` sections 3.2-3.4 and 3.7) compare how smooth the
adversarial loss is in the parameters under L2 and Linf attacks.  A loss is beta-smooth if
``||grad L(theta1) - grad L(theta2)|| <= beta ||theta1 - theta2||``; we probe it with the ratios

    r(v, t)     = ||grad L(theta + t v) - grad L(theta)|| / t                    (one-sided)
    r_sym(v, t) = ||grad L(theta + t v) - grad L(theta - t v)|| / (2 t)          (symmetric)

over unit directions ``v`` and a grid of ``t``.  For a smooth loss both tend to ``||H v||`` as
``t -> 0`` (compare with an HVP, section 12); across a kink the gradient jumps by a fixed
amount and the ratio grows like ``1/t``.  For the linear model the adversarial gradient is in
closed form (:mod:`minadv.robust_logistic`): Linf jumps by ``2 eps mean(s)`` when ``w_i``
crosses 0 (section 1.3), while L2 stays smooth away from ``w = 0``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._validation import as_generator, check_array, check_int
from ..robust_logistic import _check_flat, _loss_grad

__all__ = [
    "random_unit_directions",
    "gradient_lipschitz_ratios",
    "robust_logistic_grad_fn",
]


def random_unit_directions(dim: int, n: int, rng: Any = None) -> np.ndarray:
    """``n`` directions drawn uniformly on the unit L2 sphere of R^dim; shape (n, dim), float64.

    Normalised standard normals (rotation invariant).  ``rng``: seed or Generator.
    """
    dim = check_int(dim, "dim", low=1)
    n = check_int(n, "n", low=1)
    V = as_generator(rng).standard_normal((n, dim))              # (n, dim)
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def gradient_lipschitz_ratios(grad_fn: Callable[[np.ndarray], np.ndarray], theta: Any,
                              directions: Any, ts: Any, symmetric: bool = False) -> np.ndarray:
    """Finite-difference gradient-Lipschitz ratios along given directions.

    Parameters
    ----------
    grad_fn : callable, flat theta (p,) -> flat gradient (p,)
    theta : ndarray (p,), base point
    directions : ndarray (m, p), unit vectors (rows are not re-normalised, so t keeps its
        meaning as a step length; a row of norm 0 raises)
    ts : array_like (k,), step sizes > 0
    symmetric : bool
        False: ``||g(theta + t v) - g(theta)|| / t``;  True: ``||g(theta + t v) -
        g(theta - t v)|| / (2 t)`` (the form quoted in theory section 1.3).

    Returns
    -------
    ratios : ndarray (m, k), float64

    Notes
    -----
    Costs ``m k`` (one-sided, +1) or ``2 m k`` gradient calls.  Use float64: the difference of
    two gradients loses ``log10(1/t)`` digits.
    """
    theta = check_array(theta, "theta", ndim=1)
    V = check_array(directions, "directions", ndim=2, shape=(None, theta.shape[0]))
    ts = check_array(ts, "ts", ndim=1)
    if np.any(ts <= 0):
        raise ValueError(f"ts: expected step sizes > 0, got min {ts.min()}.")
    if np.any(np.linalg.norm(V, axis=1) == 0):
        raise ValueError("directions: contains a zero vector; directions must be unit vectors.")
    g0 = None if symmetric else np.asarray(grad_fn(theta), dtype=np.float64)
    out = np.empty((V.shape[0], ts.shape[0]))
    for i, v in enumerate(V):                                    # loop over probes, not samples
        for j, t in enumerate(ts):
            g_plus = np.asarray(grad_fn(theta + t * v), dtype=np.float64)
            g_ref = np.asarray(grad_fn(theta - t * v), dtype=np.float64) if symmetric else g0
            out[i, j] = np.linalg.norm(g_plus - g_ref) / (2 * t if symmetric else t)
    return out


# ----------------------------------------------------------------------------- linear models
def robust_logistic_grad_fn(X: Any, y: Any, eps: float, norm: Any = 2, l2: float = 0.0,
                            fit_intercept: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Closed-form adversarial logistic gradient (eq. (1.2)) as a function of flat theta.

    Validates once and returns ``grad_fn(theta) -> (p,)`` with ``theta = [w]`` or ``[w, b]``,
    for use with :func:`gradient_lipschitz_ratios`.  Linf (``norm=np.inf``) and L2 are the two
    cases compared by Kanai et al.; L1 is accepted too.
    """
    X = check_array(X, "X", ndim=2)
    p = X.shape[1] + int(bool(fit_intercept))
    _, X, y_pm, eps, norm, l2, fi = _check_flat(np.zeros(p, X.dtype), X, y, eps, norm, l2,
                                                fit_intercept)

    def grad_fn(theta: np.ndarray) -> np.ndarray:
        return _loss_grad(np.asarray(theta, dtype=X.dtype), X, y_pm, eps, norm, l2, fi)[1]

    return grad_fn


# ============================================================================= MLP / PGD
# Reserved: an estimator for MLPs whose adversarial gradient comes from a PGD attack
# (Danskin, theory section 3.2) will be added here by the MLP/attacks owner, e.g.
#     pgd_adversarial_grad_fn(model, X, y, eps, norm, steps, step_size, rng) -> grad_fn
# so that gradient_lipschitz_ratios works unchanged.  Note: a PGD gradient is only an
# approximation of the adversarial gradient; for small t its attack error dominates the ratio.
# =============================================================================
