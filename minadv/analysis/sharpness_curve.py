"""Sharpness of adversarially trained logistic regression as a function of eps.

Reproduces the protocol of ``docs/theory.md`` §2.4-2.5 (Yamada et al., arXiv:2102.02950):
train the closed-form adversarial logistic loss (eq. (1.1)) to its certified optimum ``w*(eps)``
(:mod:`minadv.analysis.robust_fit`, float64), warm-starting along the eps grid, and read the spectrum of the
exact Hessian (eq. (1.3)) there.  Under an L2 attack ``lambda_max(H(w*(eps)))`` increases with
eps and diverges at the critical radius (§1.4), because term 2 of (1.3) scales like
``eps mean(s) / ||w*||`` while ``||w*||`` shrinks.  :func:`random_noise_control` is claim (b):
training on random directions of the same norm does not sharpen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_generator, check_eps_grid, check_int, check_scalar
from ..attacks.linear import linear_worst_case_unboxed
from ..robust_logistic import critical_radius_kernel, robust_logistic_hessian_kernel
from .robust_fit import (
    RobustLogisticFit,
    RobustLogisticProblem,
    check_robust_fit_args,
    fit_robust_logistic,
    fit_robust_logistic_kernel,
)

__all__ = [
    "RobustLogisticFit",
    "SharpnessCurve",
    "NoiseControl",
    "fit_robust_logistic",
    "sharpness_curve",
    "random_noise_control",
]


@dataclass
class SharpnessCurve:
    """Per-eps results of :func:`sharpness_curve`; every array has leading length ``len(eps)``.

    ``w`` (m, d), ``b`` (m,), ``w_norm`` (m,), ``lambda_max`` (m,), ``top_eigenvalues``
    (m, k) in decreasing order, ``trace`` (m,), ``robust_loss`` (m,) (eq. (1.1) incl. weight
    decay), ``clean_accuracy`` and ``robust_accuracy`` (m,) (fraction of samples whose clean /
    worst-case margin is > 0; a zero margin counts as an error), ``grad_norm`` (m,) (largest
    entry of the least-norm subgradient) and ``kkt_residual`` (m,) (its L2 norm: the
    optimality certificate of each fit, see
    :class:`~minadv.analysis.robust_fit.RobustLogisticFit`).  Every entry is finite: for L2 the
    grid must stay below eps_c, where the Hessian exists.
    """

    eps: np.ndarray
    w: np.ndarray
    b: np.ndarray
    w_norm: np.ndarray
    lambda_max: np.ndarray
    top_eigenvalues: np.ndarray
    trace: np.ndarray
    robust_loss: np.ndarray
    clean_accuracy: np.ndarray
    robust_accuracy: np.ndarray
    grad_norm: np.ndarray
    kkt_residual: np.ndarray


@dataclass
class NoiseControl:
    """Per-eps results of :func:`random_noise_control`: ``eps``, ``w`` (m, d), ``w_norm``,
    ``lambda_max`` (of the Hessian of the noisy training loss at its optimum) and
    ``lambda_max_clean`` (of the clean logistic Hessian at the same weights)."""

    eps: np.ndarray
    w: np.ndarray
    w_norm: np.ndarray
    lambda_max: np.ndarray
    lambda_max_clean: np.ndarray


# ----------------------------------------------------------------------------- fitting
def _fit(P, theta, gtol):
    """Certified fit (:mod:`minadv.analysis.robust_fit`) warm-started at theta; flat theta."""
    fit = fit_robust_logistic_kernel(P, theta, gtol=gtol)
    return np.r_[fit.w, [fit.b] * P.fit_intercept], fit


def _check_curve_inputs(X, y, norm, fit_intercept, l2, gtol):
    P = check_robust_fit_args(X, y, 0.0, norm=norm, l2=l2, fit_intercept=fit_intercept)
    return P, check_scalar(gtol, "gtol", low=0.0, low_inclusive=False)


# ----------------------------------------------------------------------------- analysis
def _spectrum(theta, P, k):
    """Top-k eigenvalues (decreasing) and trace of eq. (1.3) at theta (Linf/L1: the a.e.
    Hessian, term 1 with ``sign(0) = 0``)."""
    H = robust_logistic_hessian_kernel(theta, P)
    ev = np.linalg.eigvalsh(H)[::-1]
    return ev[:k], float(np.trace(H))


def _accuracies(theta, P):
    d = P.d
    w, b = theta[:d], (theta[d] if P.fit_intercept else 0.0)
    clean = P.y_pm * (P.X @ w + b)                               # (n,)
    delta = linear_worst_case_unboxed(w, P.y_pm, P.X.shape[0], P.eps, P.norm)  # (n, d), §1.1
    robust = clean + P.y_pm * (delta @ w)
    return float(np.mean(clean > 0)), float(np.mean(robust > 0))


def _check_grid(eps_grid, eps_c=None):
    """The eps grid as float64; with ``eps_c`` (L2 attacks) every radius must lie below it."""
    grid = check_eps_grid(eps_grid)
    if eps_c is not None and grid.size and grid.max() > 0 and grid.max() >= eps_c:
        raise ValueError(
            f"eps_grid: expected radii below the critical radius eps_c = {eps_c:.6g} for an "
            f"L2 attack, got max {grid.max():.6g}.  At eps >= eps_c the optimum is w* = 0, "
            "where the L2 Hessian does not exist (term 2 of eq. (1.3) grows like 1/||w||; "
            "lambda_max -> inf as eps -> eps_c).")
    return grid


def sharpness_curve(X: Any, y: Any, eps_grid: Any, norm: Any = 2, *, fit_intercept: bool = False,
                    k: int = 5, l2: float = 0.0, gtol: float = 1e-9) -> SharpnessCurve:
    """Train to the optimum at every eps (warm starts, in grid order) and measure sharpness.

    For each eps: ``w*`` by :func:`fit_robust_logistic` (certified) started from the previous
    optimum, then ``eigvalsh`` of the exact Hessian (eq. (1.3)) for ``lambda_max``, the top-k
    eigenvalues and the trace, the robust loss (1.1), and clean and robust accuracy (robust:
    at the exact worst case of ``docs/theory.md`` §1.1).

    Parameters
    ----------
    X, y, norm, fit_intercept, l2, gtol : as in :func:`fit_robust_logistic`
    eps_grid : array_like (m,), radii >= 0; for ``norm=2`` all below ``critical_radius(X, y, 2,
        fit_intercept)`` (ValueError otherwise: the Hessian does not exist at ``w* = 0``)
    k : int >= 1, number of top eigenvalues kept (at most the number of parameters)

    Returns
    -------
    SharpnessCurve

    References
    ----------
    Yamada et al., arXiv:2102.02950; ``docs/theory.md`` §2.4-2.5 (reproduction table).
    """
    P0, gtol = _check_curve_inputs(X, y, norm, fit_intercept, l2, gtol)
    eps_c = critical_radius_kernel(P0.X, P0.y_pm, 2, P0.fit_intercept) if P0.norm == 2 else None
    grid = _check_grid(eps_grid, eps_c)
    p = P0.d + int(P0.fit_intercept)
    k = check_int(k, "k", low=1, high=p)
    theta, rows = None, []
    for eps in grid:                                             # loop over the grid, not samples
        P = RobustLogisticProblem(P0.X, P0.y_pm, float(eps), P0.norm, P0.l2, P0.fit_intercept)
        theta, fit = _fit(P, theta, gtol)
        top, tr = _spectrum(theta, P, k)
        rows.append((theta.copy(), top, tr, fit.loss, _accuracies(theta, P), fit.grad_norm,
                     fit.kkt_residual))
    return _assemble(grid, rows, P0.d, P0.fit_intercept)


def _assemble(grid, rows, d, fit_intercept):
    W = np.array([r[0][:d] for r in rows]).reshape(len(rows), d)  # (m, d)
    top = np.array([r[1] for r in rows])                         # (m, k)
    col = lambda j: np.array([r[j] for r in rows], dtype=np.float64)  # noqa: E731
    return SharpnessCurve(
        eps=grid, w=W, b=np.array([r[0][d] if fit_intercept else 0.0 for r in rows]),
        w_norm=np.linalg.norm(W, axis=1), lambda_max=top[:, 0].copy(), top_eigenvalues=top,
        trace=col(2), robust_loss=col(3),
        clean_accuracy=np.array([r[4][0] for r in rows]),
        robust_accuracy=np.array([r[4][1] for r in rows]),
        grad_norm=col(5), kkt_residual=col(6))


def random_noise_control(X: Any, y: Any, eps_grid: Any, *, n_directions: int = 20,
                         rng: Any = None, fit_intercept: bool = False, l2: float = 0.0,
                         gtol: float = 1e-9) -> NoiseControl:
    """Claim (b) control: train on fixed random L2 directions of norm eps instead of the attack.

    Draws ``U = rng.normal(size=(K, n, d))`` once (K = n_directions), normalises every
    ``U[k, i]`` to unit L2 norm, and for each eps minimises the plain logistic loss averaged
    over K and n at the points ``x_i + eps U[k, i]`` (warm starts along the grid).  Returns
    ``lambda_max`` of that training loss's Hessian ``(1/(K n)) sum c x~ x~^T`` at its optimum
    (``docs/theory.md`` §2.5 control row: flat in eps).

    Parameters
    ----------
    rng : None, int or Generator.  For the §2.5 numbers pass the generator returned by
        :func:`minadv.datasets.make_sharpness_data` (the stream continues).
    Other parameters as in :func:`sharpness_curve`.
    """
    P0, gtol = _check_curve_inputs(X, y, 2, fit_intercept, l2, gtol)
    grid = _check_grid(eps_grid)
    K = check_int(n_directions, "n_directions", low=1)
    gen = as_generator(rng)
    n, d = P0.X.shape
    U = gen.normal(size=(K, n, d))                               # (K, n, d)
    U /= np.linalg.norm(U, axis=2, keepdims=True)
    y_rep = np.tile(P0.y_pm, K)                                  # (K n,)
    theta, W, lam, lam_clean = None, [], [], []
    for eps in grid:
        Xn = (P0.X[None] + eps * U).reshape(K * n, d)            # (K n, d) noisy copies
        Pn = RobustLogisticProblem(Xn, y_rep, 0.0, 2, P0.l2, P0.fit_intercept)
        theta = _fit(Pn, theta, gtol)[0]
        lam.append(_spectrum(theta, Pn, 1)[0][0])
        lam_clean.append(_spectrum(theta, P0, 1)[0][0])
        W.append(theta[:d].copy())
    W = np.array(W)
    return NoiseControl(grid, W, np.linalg.norm(W, axis=1), np.array(lam), np.array(lam_clean))
