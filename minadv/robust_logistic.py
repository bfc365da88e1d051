"""Closed-form adversarial logistic regression: loss, gradient, Hessian, critical radius.

Objective (``theory.md`` eq. (1.1), library convention: mean over samples, bias unpenalised)::

    L(w, b) = (1/n) sum_i softplus(eps ||w||_q - y_i (w^T x_i + b)) + (l2 / 2) ||w||_2^2

with ``y_i in {-1, +1}`` (``2 y - 1`` of the {0, 1} labels at the API) and ``q`` the dual
exponent of the attack norm ``p`` (L2 -> ``||w||_2``, Linf -> ``||w||_1``, L1 -> ``||w||_inf``).
It is the exact worst case over ``||delta_i||_p <= eps`` (section 1.1, see
:func:`minadv.attacks.linear.linear_worst_case`).

Goodfellow et al. (2015, section 5) print the Linf case as ``E softplus(y (eps ||w||_1 - w^T x
- b))``, which is right only for ``y = +1``; the label-symmetric form used here is
``softplus(eps ||w||_1 - y (w^T x + b))`` (theory section 1.1).

Notation (eqs. (1.2)-(1.3)): robust margin ``z_i = y_i (w^T x_i + b) - eps ||w||_q``,
``s_i = sigma(-z_i)``, ``c_i = sigma(z_i) sigma(-z_i)``, ``v = d(eps ||w||_q)/dw`` (L2:
``eps u``, ``u = w / ||w||``; Linf: ``eps sign(w)``; L1: ``eps sign(w_j) e_j``, ``j`` = first
index of ``max |w_i|``; the last two are the kink-free a.e. derivatives), and the label-signed
adversarial example ``a_i = [y_i x_i - v, y_i]`` (bias entry only with an intercept).  Then::

    grad L = -(1/n) sum_i s_i a_i + l2 [w, 0]                                         (1.2)
    H      = (1/n) sum_i c_i a_i a_i^T  +  (eps/||w||) mean(s) (I - u u^T)  +  l2 I_w   (1.3)

term 1 is the plain logistic Hessian at the fixed adversarial points; term 2 (L2 only, zero in
the bias row/column) is the curvature created because the attack direction depends on ``w``
(it equals the implicit-function term of eq. (3.2), section 3.3).  Linf and L1 have no term 2
(section 1.3) but gradient jumps where ``w_i`` crosses 0 (Linf) or the arg-max changes (L1).

Two layers: validated public functions on ``(w, b)`` (``b=None``: no intercept) and
unvalidated flat kernels ``loss_grad_kernel`` / ``_hessian_terms`` on ``theta = [w, b]`` that the
optimisers call.  :func:`flat_loss_grad` / :func:`flat_hessian` are the validated flat versions.

References
----------
Goodfellow, Shlens, Szegedy, ICLR 2015 (arXiv:1412.6572), section 5.
Yamada et al., arXiv:2102.02950; Kanai et al., arXiv:2103.01400.  ``theory.md`` sections 1, 3.3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_array, check_labels, check_norm, check_scalar
from .numerics import sigmoid, softplus

__all__ = [
    "loss_grad_kernel",
    "robust_logistic_loss",
    "robust_logistic_grad",
    "robust_logistic_hessian",
    "hessian_terms",
    "critical_radius",
    "flat_loss_grad",
    "flat_hessian",
]

_DUAL = {2: 2, np.inf: 1, 1: np.inf}


# ----------------------------------------------------------------------------- kernels
def _penalty(w, eps, norm):
    """``eps ||w||_q`` and its a.e. gradient ``v`` (zero at w = 0)."""
    if norm == 2:
        nw = np.linalg.norm(w)
        v = w * (eps / nw) if nw > 0 else np.zeros_like(w)
        return eps * nw, v
    if norm == np.inf:                                           # Linf attack: eps ||w||_1
        return eps * np.abs(w).sum(), eps * np.sign(w)
    j = int(np.argmax(np.abs(w)))                                # L1 attack: eps ||w||_inf
    v = np.zeros_like(w)
    v[j] = eps * np.sign(w[j])
    return eps * np.abs(w[j]), v


def _split(theta, d, fit_intercept):
    return theta[:d], (theta[d] if fit_intercept else theta.dtype.type(0))


def _margins(theta, X, y_pm, eps, norm, fit_intercept):
    """Robust margins z (n,) and the penalty gradient v (d,)."""
    w, b = _split(theta, X.shape[1], fit_intercept)
    pen, v = _penalty(w, eps, norm)
    z = y_pm * (X @ w + b) - X.dtype.type(pen)                   # (n,)
    return z, v


def loss_grad_kernel(theta, X, y_pm, eps, norm, l2, fit_intercept):
    """Loss (float) and flat gradient (d [+1],) of eq. (1.1)-(1.2); no validation."""
    n, d = X.shape
    z, v = _margins(theta, X, y_pm, eps, norm, fit_intercept)
    w = theta[:d]
    loss = float(np.mean(softplus(-z), dtype=np.float64)) + 0.5 * l2 * float(w @ w)
    s = sigmoid(-z)                                              # (n,)
    grad = np.empty_like(theta)
    grad[:d] = -(X.T @ (s * y_pm)) / n + np.mean(s) * v + l2 * w  # -(1/n) sum s (y x - v)
    if fit_intercept:
        grad[d] = -np.mean(s * y_pm)
    return loss, grad


def _hessian_terms(theta, X, y_pm, eps, norm, fit_intercept):
    """Term 1 and term 2 of eq. (1.3) as dense (p, p) arrays, p = d [+1]; no validation.

    Term 1 uses ``sum_i c_i a_i a_i^T = Xt^T C Xt - r v^T - v r^T + (sum c) v v^T`` with
    ``Xt = [X, 1]``, ``r = Xt^T (c y)`` (since ``y_i^2 = 1``), so the only O(n d^2) work is
    one symmetric product ``A^T A`` of the scaled copy ``A = sqrt(c) Xt`` (a syrk in BLAS).
    """
    n, d = X.shape
    z, v = _margins(theta, X, y_pm, eps, norm, fit_intercept)
    c = sigmoid(z) * sigmoid(-z)                                 # (n,) >= 0
    p = d + int(fit_intercept)
    A = np.empty((n, p), dtype=X.dtype)
    np.multiply(X, np.sqrt(c)[:, None], out=A[:, :d])            # (n, d) sqrt(c_i) x_i
    if fit_intercept:
        A[:, d] = np.sqrt(c)
    term1 = A.T @ A                                              # (p, p) symmetric rank-n update
    vt = np.zeros(p, dtype=X.dtype)
    vt[:d] = v
    if np.any(vt):
        r = A.T @ (np.sqrt(c) * y_pm)                            # (p,) = Xt^T (c y)
        rv = np.outer(r, vt)
        term1 += np.sum(c) * np.outer(vt, vt) - (rv + rv.T)      # (rv + rv.T) exactly symmetric
    term1 /= n
    return term1, _term2(theta[:d], z, eps, norm, p)


def _term2(w, z, eps, norm, p):
    """(eps/||w||) mean(sigma(-z)) (I - u u^T) on the w block (L2 only; zeros otherwise)."""
    d = w.shape[0]
    term2 = np.zeros((p, p), dtype=w.dtype)
    if norm != 2 or eps == 0:
        return term2
    nw = np.linalg.norm(w)
    u = w / nw
    scale = eps * np.mean(sigmoid(-z)) / nw
    term2[:d, :d] = scale * (np.eye(d, dtype=w.dtype) - np.outer(u, u))
    return term2


def _hessian(theta, X, y_pm, eps, norm, l2, fit_intercept):
    term1, term2 = _hessian_terms(theta, X, y_pm, eps, norm, fit_intercept)
    H = term1 + term2
    d = X.shape[1]
    H[np.arange(d), np.arange(d)] += l2
    return H


# ----------------------------------------------------------------------------- validation
def _check(w, b, X, y, eps, norm, l2, need_hessian=False):
    """Validate the public arguments; return (theta, X, y_pm, eps, norm, l2, fit_intercept)."""
    X = check_array(X, "X", ndim=2)
    n, d = X.shape
    w = check_array(w, "w", ndim=1, shape=(d,))
    fit_intercept = b is not None
    if fit_intercept:
        b = check_array(b, "b", ndim=0)
    y_pm = (2.0 * check_labels(y, "y", 2, n_samples=n) - 1.0).astype(X.dtype)
    eps = check_scalar(eps, "eps", low=0.0)
    norm = check_norm(norm)
    l2 = check_scalar(l2, "l2", low=0.0)
    if need_hessian and norm == 2 and eps > 0 and not np.any(w):
        raise ValueError("w: the L2 adversarial Hessian is undefined at w = 0 when eps > 0 "
                         "(term 2 of eq. (1.3) diverges like 1/||w||).")
    parts = [w.astype(X.dtype, copy=False)] + ([np.reshape(b, (1,)).astype(X.dtype)]
                                               if fit_intercept else [])
    return np.concatenate(parts), X, y_pm, eps, norm, l2, fit_intercept


def _check_flat(theta, X, y, eps, norm, l2, fit_intercept, need_hessian=False):
    X = check_array(X, "X", ndim=2)
    d = X.shape[1]
    theta = check_array(theta, "theta", ndim=1, shape=(d + int(bool(fit_intercept)),))
    b = theta[d] if fit_intercept else None
    return _check(theta[:d], b, X, y, eps, norm, l2, need_hessian)


# ----------------------------------------------------------------------------- public API
def robust_logistic_loss(w: Any, b: Any, X: Any, y: Any, eps: float, norm: Any = 2,
                         l2: float = 0.0) -> float:
    """Adversarial logistic loss, eq. (1.1), in closed form.

    Parameters
    ----------
    w : ndarray of shape (d,)
    b : float, 0-d array or None
        Bias; ``None`` means a model without intercept.
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), labels in {0, 1}
    eps : float, attack radius >= 0 (``eps = 0`` is the plain logistic loss)
    norm : {2, np.inf, 1, "l2", "linf", "l1"}, attack norm ``p``
    l2 : float, weight decay ``(l2 / 2) ||w||^2`` (bias unpenalised)

    Returns
    -------
    float
        ``mean_i softplus(eps ||w||_q - y_i (w^T x_i + b)) + l2/2 ||w||^2`` (accumulated in
        float64 whatever X's dtype).

    Examples
    --------
    >>> import numpy as np
    >>> round(robust_logistic_loss(np.zeros(2), None, np.ones((3, 2)), np.array([0, 1, 1]), 0.5), 6)
    0.693147
    """
    theta, X, y_pm, eps, norm, l2, fi = _check(w, b, X, y, eps, norm, l2)
    return loss_grad_kernel(theta, X, y_pm, eps, norm, l2, fi)[0]


def robust_logistic_grad(w: Any, b: Any, X: Any, y: Any, eps: float, norm: Any = 2,
                         l2: float = 0.0) -> dict:
    """Gradient of eq. (1.1), eq. (1.2): returns ``{"w": (d,), "b": ()}`` (no "b" if b is None).

    At kinks (``w = 0`` for L2; ``w_i = 0`` for Linf; ties of ``max |w_i|`` for L1) the value
    is the a.e. formula with ``sign(0) = 0`` and the first arg-max (one subgradient).
    Arguments as in :func:`robust_logistic_loss`; dtype of X.
    """
    theta, X, y_pm, eps, norm, l2, fi = _check(w, b, X, y, eps, norm, l2)
    g = loss_grad_kernel(theta, X, y_pm, eps, norm, l2, fi)[1]
    d = X.shape[1]
    return {"w": g[:d], "b": g[d].copy()} if fi else {"w": g}


def robust_logistic_hessian(w: Any, b: Any, X: Any, y: Any, eps: float, norm: Any = 2,
                            l2: float = 0.0) -> np.ndarray:
    """Hessian of eq. (1.1), eq. (1.3): (d, d), or (d+1, d+1) with the bias last.

    L2: term 1 + term 2 + ``l2 I`` on the w block.  Linf and L1: term 1 (+ ``l2 I``), the
    Hessian almost everywhere (away from the kinks).  Raises ValueError for L2, eps > 0 and
    ``w = 0`` (the Hessian does not exist there).  See :func:`hessian_terms`.
    """
    theta, X, y_pm, eps, norm, l2, fi = _check(w, b, X, y, eps, norm, l2, need_hessian=True)
    return _hessian(theta, X, y_pm, eps, norm, l2, fi)


def hessian_terms(w: Any, b: Any, X: Any, y: Any, eps: float,
                  norm: Any = 2) -> tuple[np.ndarray, np.ndarray]:
    """Term 1 and term 2 of eq. (1.3) separately (no weight decay).

    Returns
    -------
    term1 : ndarray (p, p)
        ``(1/n) sum_i c_i a_i a_i^T``: the plain logistic Hessian at the fixed adversarial
        points ``x_i + delta_i*`` (what autodiff gives with delta held constant).
    term2 : ndarray (p, p)
        ``(eps/||w||) mean(s) (I - u u^T)`` on the w block for L2; zeros for Linf/L1 and for
        eps = 0.  PSD, annihilates ``w``; equals the second term of eq. (3.2).
    """
    theta, X, y_pm, eps, norm, _, fi = _check(w, b, X, y, eps, norm, 0.0, need_hessian=True)
    return _hessian_terms(theta, X, y_pm, eps, norm, fi)


def flat_loss_grad(theta: Any, X: Any, y: Any, eps: float, norm: Any = 2, l2: float = 0.0,
                   fit_intercept: bool = False) -> tuple[float, np.ndarray]:
    """Loss and gradient on the flat vector ``theta = [w, b]`` (``[w]`` without intercept).

    The form optimisers and :mod:`minadv.analysis.smoothness` use; gradient shape of theta.
    """
    args = _check_flat(theta, X, y, eps, norm, l2, fit_intercept)
    return loss_grad_kernel(*args)


def flat_hessian(theta: Any, X: Any, y: Any, eps: float, norm: Any = 2, l2: float = 0.0,
                 fit_intercept: bool = False) -> np.ndarray:
    """Hessian (eq. (1.3)) on the flat vector ``theta = [w, b]``; shape (len(theta),) * 2."""
    args = _check_flat(theta, X, y, eps, norm, l2, fit_intercept, need_hessian=True)
    return _hessian(*args)


def critical_radius(X: Any, y: Any, norm: Any = 2) -> float:
    """Smallest eps at which ``w* = 0`` for the no-intercept model (section 1.4).

    With ``g0 = (1/n) sum_i y_i x_i``, the directional derivative of (1.1) at ``w = 0`` along
    ``u`` is ``(eps ||u||_q - u^T g0) / 2``; it is ``>= 0`` for all ``u`` iff
    ``eps >= sup_u u^T g0 / ||u||_q = ||g0||_p`` (the dual of the dual is the attack norm):

    * L2 attack (penalty ``eps ||w||_2``): ``eps_c = ||g0||_2``
    * Linf attack (penalty ``eps ||w||_1``): ``eps_c = ||g0||_inf``
    * L1 attack (penalty ``eps ||w||_inf``): ``eps_c = ||g0||_1``

    Weight decay does not change eps_c.  Returns a float.
    """
    X = check_array(X, "X", ndim=2)
    y_pm = 2.0 * check_labels(y, "y", 2, n_samples=X.shape[0]) - 1.0
    norm = check_norm(norm)
    g0 = (X.astype(np.float64).T @ y_pm) / X.shape[0]           # (d,)
    return float(np.linalg.norm(g0, ord=norm))
