"""Sharpness of adversarially trained logistic regression as a function of eps.

Reproduces the protocol of ``theory.md`` section 2.4-2.5 (Yamada et al., arXiv:2102.02950):
train the closed-form adversarial logistic loss (eq. (1.1)) to its optimum ``w*(eps)`` with
full-batch L-BFGS-B in float64, warm-starting along the eps grid, and read the spectrum of the
exact Hessian (eq. (1.3)) there.  Under an L2 attack ``lambda_max(H(w*(eps)))`` increases with
eps and diverges at the critical radius (section 1.4), because term 2 of (1.3) scales like
``eps mean(s) / ||w*||`` while ``||w*||`` shrinks.  :func:`random_noise_control` is claim (b):
training on random directions of the same norm does not sharpen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from .._validation import (
    as_generator,
    check_array,
    check_int,
    check_labels,
    check_norm,
    check_scalar,
)
from ..attacks.linear import linear_worst_case_unboxed as _worst_case_unboxed
from ..robust_logistic import _hessian, loss_grad_kernel

__all__ = [
    "RobustLogisticFit",
    "SharpnessCurve",
    "NoiseControl",
    "fit_robust_logistic",
    "sharpness_curve",
    "random_noise_control",
]


@dataclass
class RobustLogisticFit:
    """Result of :func:`fit_robust_logistic` (float64).

    Attributes: ``w`` (d,), ``b`` 0-d array (0 without intercept), ``loss`` (objective at the
    optimum), ``grad_norm`` (max-abs gradient), ``n_iter``, ``message`` (optimiser's).
    """

    w: np.ndarray
    b: np.ndarray
    loss: float
    grad_norm: float
    n_iter: int
    message: str

    @property
    def params(self) -> dict:
        """The library's parameter dict ``{"w": (d,), "b": ()}``."""
        return {"w": self.w, "b": self.b}


@dataclass
class SharpnessCurve:
    """Per-eps results of :func:`sharpness_curve`; every array has leading length ``len(eps)``.

    ``w`` (m, d), ``b`` (m,), ``w_norm`` (m,), ``lambda_max`` (m,), ``top_eigenvalues``
    (m, k) in decreasing order, ``trace`` (m,), ``robust_loss`` (m,) (eq. (1.1) incl. weight
    decay), ``clean_accuracy`` and ``robust_accuracy`` (m,) (fraction of samples whose clean /
    worst-case margin is > 0; a zero margin counts as an error), ``grad_norm`` (m,).
    Eigenvalues are ``inf`` where the L2 Hessian does not exist (``w* = 0``, eps >= eps_c).
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
def _fit(X, y_pm, eps, norm, fit_intercept, l2, theta0, gtol):
    """L-BFGS-B on the flat kernel; X, y_pm, theta0 float64; no validation."""
    d = X.shape[1]
    if not fit_intercept and eps > 0 and eps >= _critical(X, y_pm, norm):
        theta = np.zeros(d)                                      # exact optimum (section 1.4)
        loss = loss_grad_kernel(theta, X, y_pm, eps, norm, l2, False)[0]
        return theta, loss, 0.0, 0, "w* = 0: eps >= critical radius"
    res = minimize(loss_grad_kernel, theta0, args=(X, y_pm, eps, norm, l2, fit_intercept),
                   jac=True, method="L-BFGS-B",
                   options={"gtol": gtol, "ftol": 0.0, "maxiter": 20000, "maxcor": 30})
    loss, g = loss_grad_kernel(res.x, X, y_pm, eps, norm, l2, fit_intercept)
    return res.x, loss, float(np.max(np.abs(g))), int(res.nit), str(res.message)


def _critical(X, y_pm, norm):
    """``||mean(y x)||_p``: minadv.robust_logistic.critical_radius on +-1 labels."""
    return float(np.linalg.norm(X.T @ y_pm / X.shape[0], ord=norm))


def _check_fit_inputs(X, y, norm, l2, gtol):
    X = check_array(X, "X", ndim=2).astype(np.float64, copy=False)
    y_pm = 2.0 * check_labels(y, "y", 2, n_samples=X.shape[0]) - 1.0
    norm = check_norm(norm)
    l2 = check_scalar(l2, "l2", low=0.0)
    gtol = check_scalar(gtol, "gtol", low=0.0, low_inclusive=False)
    return X, y_pm, norm, l2, gtol


def _theta0(w0, d, fit_intercept):
    theta = np.zeros(d + int(fit_intercept))
    if w0 is not None:
        w0 = check_array(w0, "w0", ndim=1)
        if w0.shape[0] not in (d, d + int(fit_intercept)):
            raise ValueError(f"w0: expected shape ({d},) or ({d + int(fit_intercept)},), "
                             f"got {w0.shape}.")
        theta[:w0.shape[0]] = w0
    return theta


def fit_robust_logistic(X: Any, y: Any, eps: float, norm: Any = 2, fit_intercept: bool = False,
                        l2: float = 0.0, w0: Any = None, gtol: float = 1e-12) -> RobustLogisticFit:
    """Minimise the closed-form adversarial logistic loss (eq. (1.1)) with L-BFGS-B.

    Parameters
    ----------
    X : ndarray (n, d); computed in float64 whatever its dtype
    y : ndarray (n,), labels in {0, 1}
    eps : float >= 0; norm : attack norm (2, np.inf, 1 or "l2", "linf", "l1")
    fit_intercept : bool, learn an unpenalised bias
    l2 : float, weight decay ``l2/2 ||w||^2``
    w0 : None or ndarray (d,) or (d+1,), warm start (``[w, b]``)
    gtol : float, L-BFGS-B projected-gradient tolerance (``ftol`` is 0, so the run stops on
        the gradient or when the line search can make no further progress)

    Returns
    -------
    RobustLogisticFit

    Notes
    -----
    Without intercept and for ``eps >= critical_radius(X, y, norm)`` the optimum is exactly
    ``w = 0`` (section 1.4) and is returned without iterating (the L2 loss has a kink there).
    """
    X, y_pm, norm, l2, gtol = _check_fit_inputs(X, y, norm, l2, gtol)
    eps = check_scalar(eps, "eps", low=0.0)
    d = X.shape[1]
    theta0 = _theta0(w0, d, fit_intercept)
    theta, loss, gn, nit, msg = _fit(X, y_pm, eps, norm, fit_intercept, l2, theta0, gtol)
    b = np.array(theta[d] if fit_intercept else 0.0)
    return RobustLogisticFit(theta[:d].copy(), b, loss, gn, nit, msg)


# ----------------------------------------------------------------------------- analysis
def _spectrum(theta, X, y_pm, eps, norm, l2, fit_intercept, k):
    """Top-k eigenvalues (decreasing) and trace of eq. (1.3); inf where it does not exist."""
    d = X.shape[1]
    if norm == 2 and eps > 0 and not np.any(theta[:d]):
        return np.full(k, np.inf), np.inf
    H = _hessian(theta, X, y_pm, eps, norm, l2, fit_intercept)
    ev = np.linalg.eigvalsh(H)[::-1]
    return ev[:k], float(np.trace(H))


def _accuracies(theta, X, y_pm, eps, norm, fit_intercept):
    d = X.shape[1]
    w, b = theta[:d], (theta[d] if fit_intercept else 0.0)
    clean = y_pm * (X @ w + b)                                   # (n,)
    delta = _worst_case_unboxed(w, y_pm, X.shape[0], eps, norm)  # (n, d), theory section 1.1
    robust = clean + y_pm * (delta @ w)
    return float(np.mean(clean > 0)), float(np.mean(robust > 0))


def _check_grid(eps_grid):
    grid = check_array(eps_grid, "eps_grid", ndim=1)
    if np.any(grid < 0):
        raise ValueError(f"eps_grid: expected eps >= 0, got min {grid.min()}.")
    return grid.astype(np.float64)


def sharpness_curve(X: Any, y: Any, eps_grid: Any, norm: Any = 2, fit_intercept: bool = False,
                    k: int = 5, l2: float = 0.0, gtol: float = 1e-12) -> SharpnessCurve:
    """Train to the optimum at every eps (warm starts, in grid order) and measure sharpness.

    For each eps: ``w*`` by :func:`fit_robust_logistic` started from the previous optimum,
    then ``eigvalsh`` of the exact Hessian (eq. (1.3)) for ``lambda_max``, the top-k
    eigenvalues and the trace, the robust loss (1.1), and clean and robust accuracy (robust:
    at the exact worst case of section 1.1).

    Parameters
    ----------
    X, y, norm, fit_intercept, l2, gtol : as in :func:`fit_robust_logistic`
    eps_grid : array_like (m,), radii >= 0 (an increasing grid below eps_c is the intended use)
    k : int >= 1, number of top eigenvalues kept (at most the number of parameters)

    Returns
    -------
    SharpnessCurve

    References
    ----------
    Yamada et al., arXiv:2102.02950; ``theory.md`` sections 2.4-2.5 (reproduction table).
    """
    X, y_pm, norm, l2, gtol = _check_fit_inputs(X, y, norm, l2, gtol)
    grid = _check_grid(eps_grid)
    p = X.shape[1] + int(fit_intercept)
    k = check_int(k, "k", low=1, high=p)
    theta = np.zeros(p)
    rows = []
    for eps in grid:                                             # loop over the grid, not samples
        theta, loss, gn, _, _ = _fit(X, y_pm, eps, norm, fit_intercept, l2, theta, gtol)
        top, tr = _spectrum(theta, X, y_pm, eps, norm, l2, fit_intercept, k)
        acc = _accuracies(theta, X, y_pm, eps, norm, fit_intercept)
        rows.append((theta.copy(), top, tr, loss, acc, gn))
    return _assemble(grid, rows, X.shape[1], fit_intercept)


def _assemble(grid, rows, d, fit_intercept):
    W = np.array([r[0][:d] for r in rows])                       # (m, d)
    top = np.array([r[1] for r in rows])                         # (m, k)
    return SharpnessCurve(
        eps=grid, w=W,
        b=np.array([r[0][d] if fit_intercept else 0.0 for r in rows]),
        w_norm=np.linalg.norm(W, axis=1), lambda_max=top[:, 0].copy(), top_eigenvalues=top,
        trace=np.array([r[2] for r in rows]), robust_loss=np.array([r[3] for r in rows]),
        clean_accuracy=np.array([r[4][0] for r in rows]),
        robust_accuracy=np.array([r[4][1] for r in rows]),
        grad_norm=np.array([r[5] for r in rows]))


def random_noise_control(X: Any, y: Any, eps_grid: Any, n_directions: int = 20, rng: Any = None,
                         fit_intercept: bool = False, l2: float = 0.0,
                         gtol: float = 1e-12) -> NoiseControl:
    """Claim (b) control: train on fixed random L2 directions of norm eps instead of the attack.

    Draws ``U = rng.normal(size=(K, n, d))`` once (K = n_directions), normalises every
    ``U[k, i]`` to unit L2 norm, and for each eps minimises the plain logistic loss averaged
    over K and n at the points ``x_i + eps U[k, i]`` (warm starts along the grid).  Returns
    ``lambda_max`` of that training loss's Hessian ``(1/(K n)) sum c x~ x~^T`` at its optimum
    (theory section 2.5 control row: flat in eps).

    Parameters
    ----------
    rng : None, int or Generator.  For the section 2.5 numbers pass the generator returned by
        :func:`minadv.datasets.make_sharpness_data` (the stream continues).
    Other parameters as in :func:`sharpness_curve`.
    """
    X, y_pm, _, l2, gtol = _check_fit_inputs(X, y, 2, l2, gtol)
    grid = _check_grid(eps_grid)
    K = check_int(n_directions, "n_directions", low=1)
    gen = as_generator(rng)
    n, d = X.shape
    U = gen.normal(size=(K, n, d))                               # (K, n, d)
    U /= np.linalg.norm(U, axis=2, keepdims=True)
    y_rep = np.tile(y_pm, K)                                     # (K n,)
    theta = np.zeros(d + int(fit_intercept))
    W, lam, lam_clean = [], [], []
    for eps in grid:
        Xn = (X[None] + eps * U).reshape(K * n, d)               # (K n, d) noisy copies
        theta = _fit(Xn, y_rep, 0.0, 2, fit_intercept, l2, theta, gtol)[0]
        lam.append(_spectrum(theta, Xn, y_rep, 0.0, 2, l2, fit_intercept, 1)[0][0])
        lam_clean.append(_spectrum(theta, X, y_pm, 0.0, 2, l2, fit_intercept, 1)[0][0])
        W.append(theta[:d].copy())
    W = np.array(W)
    return NoiseControl(grid, W, np.linalg.norm(W, axis=1), np.array(lam), np.array(lam_clean))
