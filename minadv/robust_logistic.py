"""Closed-form adversarial logistic regression: loss, gradient, Hessian, critical radius.

Objective (``docs/theory.md`` §1.1 eq. (1.1); "section N" below means ``docs/theory.md`` §N;
library convention: mean over samples, bias unpenalised)::

    L(w, b) = (1/n) sum_i softplus(eps ||w||_q - y_i (w^T x_i + b)) + (l2 / 2) ||w||_2^2

with ``y_i in {-1, +1}`` (``2 y - 1`` of the {0, 1} labels at the API) and ``q`` the dual
exponent of the attack norm ``p`` (L2 -> ``||w||_2``, Linf -> ``||w||_1``, L1 -> ``||w||_inf``).
It is the exact worst case over ``||delta_i||_p <= eps`` (section 1.1, see
:func:`minadv.attacks.linear.linear_worst_case`).

Goodfellow et al. (2015, section 5) print the Linf case as ``E softplus(y (eps ||w||_1 - w^T x
- b))``, which is right only for ``y = +1``; the label-symmetric form used here is
``softplus(eps ||w||_1 - y (w^T x + b))`` (section 1.1).

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

Two layers (one naming rule): validated public functions -- ``robust_logistic_loss`` /
``_grad`` / ``_hessian`` / ``hessian_terms`` / ``robust_logistic_kkt_residual`` on ``(w, b)``
(``b=None``: no intercept) and :func:`robust_logistic_loss_grad` / :func:`flat_hessian` on the
flat ``theta = [w, b]`` -- each calling its unvalidated ``*_kernel(theta, problem)`` on flat
``theta`` and a :class:`RobustLogisticProblem` (the data and the configuration in one record,
the form the optimisers of :mod:`minadv.analysis.robust_fit` call).  Configuration after the
data is keyword-only (``eps`` is the fifth positional argument, as in the attacks).

Optimality (section 1.4 and :func:`robust_logistic_kkt_residual`): the loss is convex but not
differentiable where ``w = 0`` (L2), ``w_i = 0`` (Linf) or ``max |w_i|`` is tied (L1), so the
certificate is the least-norm subgradient, not the a.e. gradient.

References
----------
Goodfellow, Shlens, Szegedy, ICLR 2015 (arXiv:1412.6572), section 5.
Yamada et al., arXiv:2102.02950; Kanai et al., arXiv:2103.01400.  ``docs/theory.md`` §1, §3.3.
Duchi, Shalev-Shwartz, Singer, Chandra, ICML 2008 (projection onto the simplex, Fig. 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._validation import check_array, check_labels, check_norm, check_scalar, dual_norm
from .numerics import project_simplex, sigmoid, softplus

__all__ = [
    "RobustLogisticProblem",
    "robust_logistic_loss",
    "robust_logistic_grad",
    "robust_logistic_hessian",
    "robust_logistic_hessian_kernel",
    "robust_logistic_loss_grad",
    "robust_logistic_loss_grad_kernel",
    "robust_logistic_parts_kernel",
    "hessian_terms",
    "hessian_terms_kernel",
    "flat_hessian",
    "robust_logistic_kkt_residual",
    "robust_logistic_kkt_residual_kernel",
    "min_norm_subgradient_kernel",
    "critical_radius",
    "critical_radius_kernel",
    "check_robust_logistic_args",
]


@dataclass(frozen=True)
class RobustLogisticProblem:
    """One instance of eq. (1.1): ``X`` (n, d), ``y_pm`` (n,) in {-1, +1} in ``X``'s dtype,
    ``eps``, canonical ``norm`` (2, np.inf, 1), ``l2`` and ``fit_intercept``.

    What every ``*_kernel(theta, problem)`` of this module takes after the flat parameters
    (:func:`check_robust_logistic_args` builds one from user input).
    """

    X: np.ndarray
    y_pm: np.ndarray
    eps: float
    norm: float | int
    l2: float = 0.0
    fit_intercept: bool = False

    @property
    def d(self) -> int:
        """Number of features."""
        return self.X.shape[1]


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


def _margins(theta, P):
    """Robust margins z (n,) and the penalty gradient v (d,)."""
    w, b = _split(theta, P.d, P.fit_intercept)
    pen, v = _penalty(w, P.eps, P.norm)
    z = P.y_pm * (P.X @ w + b) - P.X.dtype.type(pen)             # (n,)
    return z, v


def robust_logistic_parts_kernel(w, b, pen, X, y_pm, *, l2):
    """Eq. (1.1) with the penalty ``pen = eps ||w||_q`` held as a free scalar; no validation.

    ``L = mean softplus(pen - y (X w + b)) + l2/2 ||w||^2``.  Returns ``(L, g_w, g_b, mean_s)``
    with ``g_w = -(1/n) X^T (s y) + l2 w`` (d,), ``g_b = -mean(s y)`` and ``dL/dpen = mean(s)``,
    ``s = sigma(-z)``.  The solvers of :mod:`minadv.analysis.robust_fit` compose it with the
    smooth reformulations of the penalty (chain rule through ``pen``).
    """
    z = y_pm * (X @ w + b) - pen                                 # (n,) robust margins
    loss = float(np.mean(softplus(-z), dtype=np.float64)) + 0.5 * l2 * float(w @ w)
    s = sigmoid(-z)                                              # (n,)
    g_w = -(X.T @ (s * y_pm)) / X.shape[0] + l2 * w              # (d,)
    return loss, g_w, -np.mean(s * y_pm), np.mean(s)


def robust_logistic_loss_grad_kernel(theta, P: RobustLogisticProblem):
    """Loss (float) and flat gradient (d [+1],) of eq. (1.1)-(1.2); no validation.

    The gradient is ``parts + mean(s) v`` with the a.e. penalty gradient ``v`` (one
    subgradient at kinks: ``sign(0) = 0``, first arg-max).
    """
    d = P.d
    w, b = _split(theta, d, P.fit_intercept)
    pen, v = _penalty(w, P.eps, P.norm)
    loss, g_w, g_b, mean_s = robust_logistic_parts_kernel(w, b, P.X.dtype.type(pen), P.X,
                                                          P.y_pm, l2=P.l2)
    grad = np.empty_like(theta)
    grad[:d] = g_w + mean_s * v                                  # -(1/n) sum s (y x - v) + l2 w
    if P.fit_intercept:
        grad[d] = g_b
    return loss, grad


def hessian_terms_kernel(theta, P: RobustLogisticProblem):
    """Term 1 and term 2 of eq. (1.3) as dense (p, p) arrays, p = d [+1]; no validation.

    Term 1 as eq. (1.3) reads, ``(1/n) Σ_i c_i a_i a_iᵀ = Aᵀ A / n`` with the rows
    ``A_i = sqrt(c_i) a_i``, ``a_i = [y_i x_i - v, y_i]``: a Gram matrix, so positive
    semidefinite by construction, whatever the rounding (``c_i >= 0``).  One ``(n, p)`` buffer
    filled in place (no ``(n, d)`` temporaries) and one symmetric product (benchmark W4).
    """
    n, d = P.X.shape
    z, v = _margins(theta, P)
    sqrt_c = np.sqrt(sigmoid(z) * sigmoid(-z))                   # (n,) sqrt(c_i), c_i >= 0
    A = np.empty((n, d + int(P.fit_intercept)), dtype=P.X.dtype)  # (n, p) rows sqrt(c_i) a_i
    Aw = A[:, :d]                                                # the w block, a view
    np.multiply(P.X, P.y_pm[:, None], out=Aw)                    # y_i x_i
    Aw -= v                                                      # - v (broadcast, in place)
    Aw *= sqrt_c[:, None]                                        # sqrt(c_i) (y_i x_i - v)
    if P.fit_intercept:
        A[:, d] = sqrt_c * P.y_pm                                # sqrt(c_i) y_i
    term1 = A.T @ A                                              # (p, p) Σ c_i a_i a_iᵀ
    term1 /= n
    return term1, _term2(theta[:d], z, P.eps, P.norm, A.shape[1])


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


def robust_logistic_hessian_kernel(theta, P: RobustLogisticProblem):
    """Hessian of eq. (1.3) on flat theta, (p, p): term 1 + term 2 + ``l2 I_w``; no validation."""
    term1, term2 = hessian_terms_kernel(theta, P)
    H = term1 + term2
    H[np.arange(P.d), np.arange(P.d)] += P.l2
    return H


# ----------------------------------------------------------------------------- optimality
def _simplex(a, r):
    """``a`` (k,) projected onto ``{lam >= 0, sum(lam) = r}`` (zero for ``r <= 0``)."""
    return project_simplex(a[None, :], r)[0] if r > 0 else np.zeros_like(a)


def _min_norm_penalty_part(g, w, m, norm):
    """Smallest ``g + m v`` over ``v`` in the subdifferential of ``||w||_q`` (section 1.3)."""
    if norm == 2:
        nw, ng = np.linalg.norm(w), np.linalg.norm(g)
        if nw > 0:
            return g + m * (w / nw)
        return g * max(1.0 - m / ng, 0.0) if ng > 0 else g
    if norm == np.inf:                                           # ||w||_1: per coordinate
        shrunk = np.sign(g) * np.maximum(np.abs(g) - m, 0.0)     # w_i = 0: dist(-g_i, [-m, m])
        return np.where(w != 0, g + m * np.sign(w), shrunk)
    top = np.abs(w) == np.max(np.abs(w))                         # ||w||_inf: the tied maxima
    if not np.any(w):                                            # subdifferential: L1 unit ball
        a = np.abs(g)
        return np.zeros_like(g) if a.sum() <= m else g - np.sign(g) * _simplex(a, m)
    sg = np.sign(w[top])
    out = g.copy()
    out[top] = g[top] + sg * _simplex(-sg * g[top], m)   # simplex weights on the ties
    return out


def min_norm_subgradient_kernel(theta, P: RobustLogisticProblem):
    """The element of least L2 norm of the subdifferential of eq. (1.1) at theta, (p,).

    ``partial L = {g_data + eps mean(s) [v, 0] : v in partial ||w||_q}`` (softplus is smooth
    and increasing, so the chain rule is exact); its least-norm element is zero exactly at
    the minimisers (KKT).  Computed in float64 from the closed form, independently of any
    optimiser.  No validation.
    """
    w, b = _split(theta, P.d, P.fit_intercept)
    pen = P.eps * float(np.linalg.norm(w, ord=dual_norm(P.norm)))
    _, g_w, g_b, mean_s = robust_logistic_parts_kernel(w, b, pen, P.X, P.y_pm, l2=P.l2)
    xi = _min_norm_penalty_part(g_w, w, P.eps * mean_s, P.norm)
    return np.r_[xi, g_b] if P.fit_intercept else xi


def robust_logistic_kkt_residual_kernel(theta, P: RobustLogisticProblem):
    """``dist(0, partial L(theta))``: L2 norm of :func:`min_norm_subgradient_kernel`."""
    return float(np.linalg.norm(min_norm_subgradient_kernel(theta, P)))


# ----------------------------------------------------------------------------- validation
def _check(w, b, X, y, eps, norm, l2, need_hessian=False):
    """Validate the public arguments; return ``(theta, RobustLogisticProblem)``."""
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
    return np.concatenate(parts), RobustLogisticProblem(X, y_pm, eps, norm, l2, fit_intercept)


def check_robust_logistic_args(theta: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
                               l2: float = 0.0, fit_intercept: bool = False,
                               need_hessian: bool = False) -> tuple:
    """Validate the flat-form arguments once; return ``(theta, problem)`` for the kernels.

    ``problem`` is a :class:`RobustLogisticProblem` with ``y_pm = 2 y - 1`` in X's dtype and
    ``norm`` canonical (``2``, ``np.inf`` or ``1``).  Raises ValueError/TypeError naming the
    argument (``theta`` must have length ``d + fit_intercept``).
    """
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept: expected a bool, got {type(fit_intercept).__name__}.")
    X = check_array(X, "X", ndim=2)
    d = X.shape[1]
    theta = check_array(theta, "theta", ndim=1, shape=(d + int(bool(fit_intercept)),))
    b = theta[d] if fit_intercept else None
    return _check(theta[:d], b, X, y, eps, norm, l2, need_hessian)


# ----------------------------------------------------------------------------- public API
def robust_logistic_loss(w: Any, b: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
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
    theta, problem = _check(w, b, X, y, eps, norm, l2)
    return robust_logistic_loss_grad_kernel(theta, problem)[0]


def robust_logistic_grad(w: Any, b: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
                         l2: float = 0.0) -> dict:
    """Gradient of eq. (1.1), eq. (1.2): returns ``{"w": (d,), "b": ()}`` (no "b" if b is None).

    The dict form of :func:`robust_logistic_loss_grad`.  At kinks (``w = 0`` for L2;
    ``w_i = 0`` for Linf; ties of ``max |w_i|`` for L1) the value is the a.e. formula with
    ``sign(0) = 0`` and the first arg-max (one subgradient; the optimality measure there is
    :func:`robust_logistic_kkt_residual`).  Arguments as in :func:`robust_logistic_loss`.
    """
    theta, problem = _check(w, b, X, y, eps, norm, l2)
    g = robust_logistic_loss_grad_kernel(theta, problem)[1]
    d = problem.d
    return {"w": g[:d], "b": g[d].copy()} if problem.fit_intercept else {"w": g}


def robust_logistic_hessian(w: Any, b: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
                            l2: float = 0.0) -> np.ndarray:
    """Hessian of eq. (1.1), eq. (1.3): (d, d), or (d+1, d+1) with the bias last.

    L2: term 1 + term 2 + ``l2 I`` on the w block.  Linf and L1: term 1 (+ ``l2 I``), the
    Hessian almost everywhere (away from the kinks).  Raises ValueError for L2, eps > 0 and
    ``w = 0`` (the Hessian does not exist there).  See :func:`hessian_terms`.
    """
    return robust_logistic_hessian_kernel(*_check(w, b, X, y, eps, norm, l2, need_hessian=True))


def hessian_terms(w: Any, b: Any, X: Any, y: Any, eps: float, *,
                  norm: Any = 2) -> tuple[np.ndarray, np.ndarray]:
    """Term 1 and term 2 of eq. (1.3) separately (no weight decay).

    Returns
    -------
    term1 : ndarray (p, p)
        ``(1/n) sum_i c_i a_i a_i^T``: the plain logistic Hessian at the fixed adversarial
        points ``x_i + delta_i*`` (what autodiff gives with delta held constant).  Positive
        semidefinite by construction (a Gram matrix, :func:`hessian_terms_kernel`).
    term2 : ndarray (p, p)
        ``(eps/||w||) mean(s) (I - u u^T)`` on the w block for L2; zeros for Linf/L1 and for
        eps = 0.  PSD, annihilates ``w``; equals the second term of eq. (3.2).
    """
    return hessian_terms_kernel(*_check(w, b, X, y, eps, norm, 0.0, need_hessian=True))


def robust_logistic_loss_grad(theta: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
                              l2: float = 0.0,
                              fit_intercept: bool = False) -> tuple[float, np.ndarray]:
    """Loss and gradient on the flat vector ``theta = [w, b]`` (``[w]`` without intercept).

    The form optimisers and :mod:`minadv.analysis.smoothness` use; gradient shape of theta.
    Validates, then calls :func:`robust_logistic_loss_grad_kernel`.
    """
    return robust_logistic_loss_grad_kernel(*check_robust_logistic_args(
        theta, X, y, eps, norm=norm, l2=l2, fit_intercept=fit_intercept))


def flat_hessian(theta: Any, X: Any, y: Any, eps: float, *, norm: Any = 2, l2: float = 0.0,
                 fit_intercept: bool = False) -> np.ndarray:
    """Hessian (eq. (1.3)) on the flat vector ``theta = [w, b]``; shape (len(theta),) * 2.

    The flat form of :func:`robust_logistic_hessian` (same kernel,
    :func:`robust_logistic_hessian_kernel`).
    """
    return robust_logistic_hessian_kernel(*check_robust_logistic_args(
        theta, X, y, eps, norm=norm, l2=l2, fit_intercept=fit_intercept, need_hessian=True))


def robust_logistic_kkt_residual(w: Any, b: Any, X: Any, y: Any, eps: float, *, norm: Any = 2,
                                 l2: float = 0.0) -> float:
    """Optimality certificate of eq. (1.1): ``dist(0, partial L(w, b))`` (0 iff optimal).

    The loss is convex (section 1.1), so ``(w, b)`` is a minimiser iff ``0`` lies in its
    subdifferential ``g_data + eps mean(s) [partial ||w||_q, 0]`` with
    ``g_data = -(1/n) sum_i s_i y_i [x_i, 1] + l2 [w, 0]``.  Per attack norm (KKT):

    * L2 (``||w||_2``): ``w != 0``: the gradient (1.2); ``w = 0``: ``||g_w||_2 <= eps mean(s)``.
    * Linf (``||w||_1``): ``g_i = -eps mean(s) sign(w_i)`` where ``w_i != 0`` and
      ``|g_i| <= eps mean(s)`` where ``w_i = 0`` (exact zeros).
    * L1 (``||w||_inf``): ``g_i = 0`` off the tied maxima ``T = {|w_i| = ||w||_inf}``, and
      ``-sign(w_T) g_T`` in ``eps mean(s)`` times the simplex on T (exact ties).

    Returns the L2 norm of the least-norm subgradient (float64), evaluated exactly at the
    given floats: a near-zero that is not exactly 0 (Linf), or a near-tie that is not exact
    (L1), is not a kink, and the residual says so.  Arguments as in
    :func:`robust_logistic_loss`.
    """
    theta, P = _check(w, b, X, y, eps, norm, l2)
    P64 = replace(P, X=P.X.astype(np.float64, copy=False), y_pm=P.y_pm.astype(np.float64))
    return robust_logistic_kkt_residual_kernel(theta.astype(np.float64), P64)


def critical_radius(X: Any, y: Any, norm: Any = 2, *, fit_intercept: bool = False) -> float:
    """Smallest eps at which the optimum of eq. (1.1) has ``w* = 0`` (section 1.4).

    Without intercept, with ``g0 = (1/n) sum_i y_i x_i`` the directional derivative of (1.1)
    at ``w = 0`` along ``u`` is ``(eps ||u||_q - u^T g0) / 2``; it is ``>= 0`` for all ``u``
    iff ``eps >= sup_u u^T g0 / ||u||_q = ||g0||_p`` (the dual of the dual is the attack norm).

    With an intercept, the best bias at ``w = 0`` is the log-odds of the class prior,
    ``b* = log(n_+ / n_-)``; there ``s_i = 1 - pi`` for ``y_i = +1`` and ``pi`` for
    ``y_i = -1`` (``pi = n_+ / n``), so ``g_w = -pi (1 - pi) (mu_+ - mu_-)`` and
    ``eps mean(s) = 2 eps pi (1 - pi)``; ``w = 0`` is optimal iff ``||g_w||_p <= eps mean(s)``:

        eps_c = ||g0||_p               (no intercept)
        eps_c = ||mu_+ - mu_-||_p / 2  (intercept; mu_+- the class means)

    for the attack norm p (L2 -> 2, Linf -> inf, L1 -> 1 of the vector above).  Weight decay
    does not change eps_c.  Returns a float.  Raises ValueError with an intercept when one
    class is missing (then ``b* = +-inf`` and no optimum exists).
    """
    X = check_array(X, "X", ndim=2)
    y01 = check_labels(y, "y", 2, n_samples=X.shape[0])
    norm = check_norm(norm)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept: expected a bool, got {type(fit_intercept).__name__}.")
    return critical_radius_kernel(X.astype(np.float64), 2.0 * y01 - 1.0, norm, fit_intercept)


def critical_radius_kernel(X, y_pm, norm, fit_intercept):
    """:func:`critical_radius` on float64 X and +-1 labels; no validation."""
    if not fit_intercept:
        return float(np.linalg.norm(X.T @ y_pm / X.shape[0], ord=norm))
    pos = y_pm > 0
    if pos.all() or not pos.any():
        raise ValueError("y: an intercept fit needs both classes (with one class the best "
                         "bias is +-inf and the loss has no minimiser).")
    gap = X[pos].mean(axis=0) - X[~pos].mean(axis=0)             # (d,) mu_+ - mu_-
    return 0.5 * float(np.linalg.norm(gap, ord=norm))



