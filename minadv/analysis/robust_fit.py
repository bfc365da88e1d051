"""Certified minimisers of the closed-form adversarial logistic loss (eq. (1.1)).

The loss ``L(w, b) = mean softplus(eps ||w||_q - y (w^T x + b)) + l2/2 ||w||^2`` is convex
(``docs/theory.md`` §1.1) but has kinks: ``||w||_1`` (Linf attack) at every ``w_i = 0``,
``||w||_inf`` (L1 attack) wherever the largest ``|w_i|`` is tied, ``||w||_2`` at ``w = 0``.
A quasi-Newton method on the a.e. gradient stalls at such kinks.  The norm sits *inside* the
softplus, so it is not an additive penalty and proximal steps do not apply; instead each
nonsmooth case becomes a smooth problem with simple bounds, solved exactly by L-BFGS-B:

* Linf attack: ``w = w+ - w-`` with ``w+, w- >= 0``; then ``||w||_1 = 1^T (w+ + w-)`` at the
  optimum (if both ``w+_i, w-_i > 0``, lowering both lowers the loss) and the penalty is
  *linear*, so the loss is smooth on the orthant.  Zeros are exact (variables at a bound).
* L1 attack: the epigraph ``||w||_inf <= t`` is the set ``-t <= w_i <= t``, whose bounds depend
  on ``t``; the scaling ``w = t u``, ``u in [-1, 1]^d``, ``t >= 0`` turns it into a box.  The map
  ``(t, u) -> (w, t)`` is a diffeomorphism for ``t > 0`` that maps faces to faces, so every
  stationary point with ``t > 0`` is a KKT point of the convex problem, i.e. a minimiser.  The
  penalty is ``eps t``; ties are exact (``u_i = +-1`` at a bound).
* L2 attack: smooth away from ``w = 0``; ``w* = 0`` happens only at ``eps >= eps_c`` and is
  detected in closed form.

Every fit starts at ``w = 0`` only when that is the certified answer (``eps >= eps_c``, see
:func:`minadv.robust_logistic.critical_radius`, also with an intercept); otherwise it starts
along a descent direction of the nonsmooth loss at ``(0, b*)``, never on a kink.  After
L-BFGS-B, a few Newton steps on the identified face (the smooth piece where the signs, or the
tied set, are fixed) polish the result, and the certificate is the KKT residual of
:func:`minadv.robust_logistic.robust_logistic_kkt_residual`, computed from the closed form.
Without weight decay a minimiser may not exist (separable data); a linear programme decides
this before fitting (a cutting-plane sequence of them for the L2 cone).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog, minimize

from .._validation import check_array, check_labels, check_norm, check_scalar, dual_norm
from ..numerics import sigmoid
from ..robust_logistic import (
    RobustLogisticProblem,
    critical_radius_kernel,
    min_norm_subgradient_kernel,
    robust_logistic_hessian_kernel,
    robust_logistic_loss_grad_kernel,
    robust_logistic_parts_kernel,
)

__all__ = [
    "RobustLogisticProblem",
    "RobustLogisticFit",
    "fit_robust_logistic",
    "fit_robust_logistic_kernel",
    "has_minimiser",
    "has_minimiser_kernel",
    "check_robust_fit_args",
]



@dataclass
class RobustLogisticFit:
    """Result of :func:`fit_robust_logistic` (float64).

    Attributes
    ----------
    w : ndarray (d,); b : 0-d array (0 without intercept)
    loss : float, eq. (1.1) at ``(w, b)``
    kkt_residual : float, ``dist(0, partial L(w, b))`` (:func:`robust_logistic_kkt_residual`),
        computed from the closed form independently of the optimiser; 0 iff optimal
    certified : bool, ``kkt_residual <= kkt_tol``
    grad_norm : float, largest absolute entry of the least-norm subgradient
    n_iter : int, L-BFGS-B iterations plus Newton polishing steps
    method : str, ``"critical radius"`` (``w* = 0`` in closed form), ``"smooth"``,
        ``"split"`` (Linf) or ``"scaled box"`` (L1); see the module docstring
    message : str, the optimiser's last message
    """

    w: np.ndarray
    b: np.ndarray
    loss: float
    grad_norm: float
    n_iter: int
    message: str
    kkt_residual: float = np.nan
    certified: bool = False
    method: str = ""

    @property
    def params(self) -> dict:
        """The library's parameter dict ``{"w": (d,), "b": ()}``."""
        return {"w": self.w, "b": self.b}


# ----------------------------------------------------------------------------- reformulations
def _split_fun(z, P):
    """Linf attack on ``z = [w+, w-, (b)]`` >= 0: loss and gradient (smooth on the orthant)."""
    d = P.d
    wp, wm = z[:d], z[d:2 * d]
    b = z[2 * d] if P.fit_intercept else 0.0
    pen = P.eps * (wp.sum() + wm.sum())                          # = eps ||w||_1 at the optimum
    loss, g_w, g_b, mean_s = robust_logistic_parts_kernel(wp - wm, b, pen, P.X, P.y_pm, l2=P.l2)
    m = P.eps * mean_s                                           # dL/d(sum w+ + w-)
    return loss, np.r_[g_w + m, m - g_w, [g_b] * int(P.fit_intercept)]


def _scaled_box_fun(z, P):
    """L1 attack on ``z = [t, u, (b)]``, ``w = t u``, ``|u_i| <= 1``: loss and gradient."""
    t, u = z[0], z[1:P.d + 1]
    b = z[P.d + 1] if P.fit_intercept else 0.0
    loss, g_w, g_b, mean_s = robust_logistic_parts_kernel(t * u, b, P.eps * t, P.X, P.y_pm,
                                                          l2=P.l2)
    return loss, np.r_[u @ g_w + P.eps * mean_s, t * g_w, [g_b] * int(P.fit_intercept)]


def _smooth_fun(z, P):
    return robust_logistic_loss_grad_kernel(z, P)


def _reformulation(P):
    """(method, fun, to_z, from_z, bounds) of the smooth problem with bounds for P."""
    d, bias = P.d, [(None, None)] * P.fit_intercept
    if P.eps == 0 or P.norm == 2:
        return "smooth", _smooth_fun, lambda th: th, lambda z: z, None
    if P.norm == np.inf:
        return ("split", _split_fun,
                lambda th: np.r_[np.maximum(th[:d], 0), np.maximum(-th[:d], 0), th[d:]],
                lambda z: np.r_[z[:d] - z[d:2 * d], z[2 * d:]],
                [(0, None)] * (2 * d) + bias)
    return ("scaled box", _scaled_box_fun, lambda th: _to_scaled_box(th, d),
            lambda z: np.r_[z[0] * z[1:d + 1], z[d + 1:]],        # t * (+-1) = +-t exactly
            [(0, None)] + [(-1, 1)] * d + bias)


def _to_scaled_box(theta, d):
    """``[t, u, (b)]`` with ``t = ||w||_inf`` and ``u = w / t`` (the tied maxima map to +-1)."""
    w = theta[:d]
    t = np.max(np.abs(w))
    return np.r_[t, w / t if t > 0 else w, theta[d:]]


# ----------------------------------------------------------------------------- starts
def _zero_point(P):
    """``(0, b*)`` with the optimal bias at w = 0: the log-odds of the class prior."""
    theta = np.zeros(P.d + int(P.fit_intercept))
    if P.fit_intercept:
        n_pos = np.count_nonzero(P.y_pm > 0)
        theta[P.d] = np.log(n_pos) - np.log(P.y_pm.shape[0] - n_pos)
    return theta


def _descent_start(P):
    """``(a d, b*)``: steepest-descent direction of the nonsmooth loss at ``(0, b*)``, scaled
    by the best of a geometric grid of step lengths (a start that is never a kink)."""
    theta0 = _zero_point(P)
    _, g, _, mean_s = robust_logistic_parts_kernel(np.zeros(P.d), theta0[P.d:].sum(), 0.0,
                                                   P.X, P.y_pm, l2=P.l2)
    m = P.eps * mean_s
    if P.norm == np.inf and m > 0:
        direction = -np.sign(g) * np.maximum(np.abs(g) - m, 0.0)  # soft threshold: ||.||_1
    elif P.norm == 1 and m > 0:
        direction = -np.sign(g)                                  # vertex of the L-inf ball
    else:
        direction = -g
    scale = np.sqrt(np.mean((P.X @ direction) ** 2)) + np.finfo(float).tiny
    steps = 2.0 ** np.arange(-40, 13) / scale                      # small ones: eps near eps_c
    losses = [robust_logistic_loss_grad_kernel(np.r_[a * direction, theta0[P.d:]], P)[0]
              for a in steps]
    return np.r_[steps[int(np.argmin(losses))] * direction, theta0[P.d:]]


def _start(P, theta0):
    """The warm start if it is below the loss at ``(0, b*)``, else :func:`_descent_start`.

    Below eps_c, ``w = 0`` is not optimal, and L-BFGS-B only descends: from a start below
    ``L(0, b*) = min_b L(0, b)`` it can never return to the kink ``w = 0`` (for L1 attacks
    the degenerate ``t = 0`` of the scaled box, where every ``u`` is stationary).
    """
    zero_loss = robust_logistic_loss_grad_kernel(_zero_point(P), P)[0]
    if theta0 is not None and np.any(theta0[:P.d]) and (
            robust_logistic_loss_grad_kernel(theta0, P)[0] < zero_loss):
        return theta0
    return _descent_start(P)


# ----------------------------------------------------------------------------- face Newton
@dataclass(frozen=True)
class _Face:
    """The smooth piece of eq. (1.1) through a point: ``w = to_w(phi)`` with orthogonal
    columns, penalty ``eps c^T phi`` and ridge ``l2/2 sum(D phi^2)``; ``Xf = X J`` (n, k)."""

    Xf: np.ndarray
    c: np.ndarray
    D: np.ndarray
    phi: np.ndarray
    idx: np.ndarray          # Linf: free coordinates; L1: the coordinates off the tie
    top: np.ndarray | None   # L1: boolean mask of the tied maxima
    signs: np.ndarray        # Linf: signs of the free coordinates; L1: signs on the tie

    def to_w(self, phi, d):
        w = np.zeros(d)
        if self.top is None:
            w[self.idx] = phi
        else:
            w[self.top] = self.signs * phi[0]                    # exact ties +-t
            w[self.idx] = phi[1:]
        return w


def _face(w, P):
    """The face through w (Linf: fixed signs of the nonzeros; L1: fixed tie set and signs)."""
    if P.norm == np.inf:
        free = np.flatnonzero(w)
        sg = np.sign(w[free])
        return _Face(P.X[:, free], sg, np.ones(free.size), w[free], free, None, sg)
    top = np.abs(w) == np.max(np.abs(w))
    rest = np.flatnonzero(~top)
    sg = np.sign(w[top])
    Xf = np.c_[P.X[:, top] @ sg, P.X[:, rest]]                   # (n, 1 + |rest|)
    c = np.r_[1.0, np.zeros(rest.size)]                          # penalty eps t, t = phi_0
    D = np.r_[top.sum(), np.ones(rest.size)]
    return _Face(Xf, c, D, np.r_[np.max(np.abs(w)), w[rest]], rest, top, sg)


def _face_system(phi, b, F, P):
    """Gradient and Hessian of the face loss in ``[phi, (b)]``: a logistic loss on the
    label-signed features ``a_i = [y_i Xf_i - eps c, y_i]`` (term 1 of eq. (1.3) on the face)."""
    n, fi = P.X.shape[0], int(P.fit_intercept)
    z = P.y_pm * (F.Xf @ phi + b) - P.eps * (F.c @ phi)          # (n,) robust margins
    A = np.c_[P.y_pm[:, None] * F.Xf - P.eps * F.c, P.y_pm[:, None] * np.ones(fi)]
    ridge = np.r_[P.l2 * F.D, np.zeros(fi)]
    g = -(A.T @ sigmoid(-z)) / n + ridge * np.r_[phi, np.zeros(fi)]
    H = (A * (sigmoid(z) * sigmoid(-z))[:, None]).T @ A / n + np.diag(ridge)
    return g, H


def _face_trial(F, phi, b, P):
    """Map face coordinates to theta, kept on the closure of the face: a Linf sign that flips
    becomes an exact 0; an L1 coordinate that overtakes the maximum joins the tie."""
    if F.top is None:
        phi = np.where(phi * F.signs > 0, phi, 0.0)
    else:
        t = max(phi[0], 0.0)                                     # t < 0 would flip the tie
        phi = np.r_[t, np.clip(phi[1:], -t, t)]
    return np.r_[F.to_w(phi, P.d), [b] * int(P.fit_intercept)]


def _backtrack(theta, step, gn, merit, trial_of, P, a_max=np.inf):
    """The next Newton iterate: the point where the face boundary is hit (``a_max < 1``) if
    the loss is lower there, flagged by merit None (the face grows); else the first of
    ``theta + 2^-k step`` (k < 12) whose merit is below ``gn``; else None."""
    if a_max < 1:
        trial = trial_of(theta, a_max * step)
        loss = robust_logistic_loss_grad_kernel
        if np.any(trial[:P.d]) and loss(trial, P)[0] < loss(theta, P)[0]:
            return trial, None
    for a in 0.5 ** np.arange(12):
        trial = trial_of(theta, a * step)
        new = merit(trial) if np.any(trial[:P.d]) else np.inf
        if new < gn:
            return trial, new
    return None


def _damped_newton(theta, P, system, merit, trial_of, max_steps, max_step=None):
    """Newton with backtracking on the merit ``||grad||`` (of the face, or of the smooth
    formulation), stepping onto the face boundary when the step would cross it (an
    active-set move); stops when a step lowers the merit by less than 10 % (quadratic
    convergence has reached rounding level) or no step lowers it.  The step solves
    ``(H + mu I) s = -g`` by LU with ``mu = 1e-10 max diag(H)`` (a null direction of H --
    collinear features -- gets no huge component; elsewhere the step is Newton's to ~1e-10
    relative), or by least squares when that fails.  Returns (theta, n_steps)."""
    steps = 0
    for _ in range(max_steps):
        g, H = system(theta)
        gn = np.linalg.norm(g)
        mu = 1e-10 * np.max(np.abs(np.diag(H)), initial=0.0)    # damps a null direction only
        try:
            step = -np.linalg.solve(H + mu * np.eye(H.shape[0]), g)
            a_max = np.inf if max_step is None else max_step(theta, step)
            found = _backtrack(theta, step, gn, merit, trial_of, P, a_max)
        except np.linalg.LinAlgError:
            found = None
        if found is None:                                        # minimum-norm step
            found = _backtrack(theta, -np.linalg.lstsq(H, g, rcond=None)[0], gn, merit,
                               trial_of, P)
        if found is None:
            return theta, steps
        theta, steps = found[0], steps + 1
        if found[1] is not None and found[1] > 0.9 * gn:
            return theta, steps
    return theta, steps


def _smooth_newton(theta, P, max_steps):
    """Damped Newton on the smooth formulation (L2 away from w = 0, or eps = 0)."""
    def system(th):
        return (robust_logistic_loss_grad_kernel(th, P)[1],
                robust_logistic_hessian_kernel(th, P))

    def merit(th):
        return np.linalg.norm(robust_logistic_loss_grad_kernel(th, P)[1])

    return _damped_newton(theta, P, system, merit, lambda th, s: th + s, max_steps)


def _face_max_step(F, step):
    """Largest ``a`` keeping ``phi + a step`` on the face: a Linf weight reaching 0, or an L1
    weight off the tie reaching ``+-t`` (``t = phi_0`` moves too); inf if none."""
    if F.top is None:
        s = step[:F.phi.size]
        cross = F.signs * s < 0
        return np.min(-F.phi[cross] / s[cross], initial=np.inf)
    t, s_t, w, s = F.phi[0], step[0], F.phi[1:], step[1:F.phi.size]
    a = np.inf
    for sg in (1.0, -1.0):                                       # sg (w + a s) = t + a s_t
        den = sg * s - s_t
        hit = den > 0
        a = min(a, np.min((t - sg * w[hit]) / den[hit], initial=np.inf))
    return a


def _face_newton(theta, P, max_steps):
    """Damped Newton on the face through theta (Linf, L1), merit: the face-gradient norm."""
    def system(th):
        F = _face(th[:P.d], P)
        return _face_system(F.phi, th[P.d:].sum(), F, P)

    def trial_of(th, step):                                      # step in face coordinates
        F = _face(th[:P.d], P)
        k = F.phi.size
        return _face_trial(F, F.phi + step[:k], th[P.d:].sum() + step[k:].sum(), P)

    return _damped_newton(theta, P, system, lambda th: _face_grad_norm(th, P), trial_of,
                          max_steps, lambda th, step: _face_max_step(_face(th[:P.d], P), step))


def _face_grad_norm(theta, P):
    F = _face(theta[:P.d], P)
    return np.linalg.norm(_face_system(F.phi, theta[P.d:].sum(), F, P)[0])


def _polish(theta, P, max_steps=20):
    """Newton polishing of an L-BFGS-B result on its smooth piece; (theta, n_steps)."""
    if not np.any(theta[:P.d]):
        return theta, 0
    if P.eps == 0 or P.norm == 2:
        return _smooth_newton(theta, P, max_steps)
    return _face_newton(theta, P, max_steps)


# ----------------------------------------------------------------------------- existence
def _recession_lp(P, cuts, maxmin=False):
    """LP over a direction ``(w, b, aux[, gamma])`` in a box, on the robust margins
    ``m_i = y_i (x_i^T w + b) - eps N(w)`` with ``N`` the dual norm (aux variables; for
    ``||w||_2`` the cuts ``u^T w <= t`` relax ``t >= ||w||_2``): maximise ``sum m_i`` subject
    to ``m >= 0``, or (``maxmin``) maximise ``gamma`` subject to ``m >= gamma``.
    Returns (value, w, b)."""
    n, d = P.X.shape
    fi, eps, g = int(P.fit_intercept), P.eps, int(maxmin)
    Y = P.y_pm[:, None] * np.c_[P.X, np.ones((n, fi))]            # (n, d + fi)
    n_aux = 0 if eps == 0 else (d if P.norm == np.inf else 1)
    norm_row = np.ones(n_aux)                                     # N(w) = sum aux (or t)
    rows = [np.c_[-Y, np.tile(eps * norm_row, (n, 1)), np.ones((n, g))]]
    E = np.eye(d)
    if n_aux:
        U = np.r_[E, -E] if P.norm != 2 else np.r_[E, -E, cuts]
        aux = np.r_[E, E] if P.norm == np.inf else np.ones((U.shape[0], 1))
        rows.append(np.c_[U, np.zeros((U.shape[0], fi)), -aux, np.zeros((U.shape[0], g))])
    A = np.vstack(rows)
    cost = np.r_[-Y.sum(axis=0), n * eps * norm_row] if not maxmin else np.r_[
        np.zeros(d + fi + n_aux), -1.0]
    bounds = [(-1, 1)] * (d + fi) + [(0, np.sqrt(d))] * n_aux + [(None, 1)] * g
    res = linprog(cost, A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    return -res.fun, res.x[:d], (res.x[d] if fi else 0.0)


def has_minimiser(X: Any, y: Any, eps: float, norm: Any = 2, *, fit_intercept: bool = False,
                  l2: float = 0.0) -> bool | None:
    """Whether eq. (1.1) attains its infimum on ``(X, y)``: True, False or None (undecided).

    Validates, then calls :func:`has_minimiser_kernel` (see there for the method).  ``False``
    is what :func:`fit_robust_logistic` refuses with a ValueError (separable data).
    """
    return has_minimiser_kernel(check_robust_fit_args(X, y, eps, norm=norm, l2=l2,
                                                      fit_intercept=fit_intercept))


def has_minimiser_kernel(P: RobustLogisticProblem, max_cuts: int = 100) -> bool | None:
    """Whether eq. (1.1) attains its infimum: True, False, or None (undecided); no validation.

    With ``l2 > 0`` always (coercive in w; in b whenever both classes occur).  With
    ``l2 = 0`` the convex loss has no minimiser iff some direction ``(w, b)`` makes every
    robust margin ``y_i (x_i^T w + b) - eps ||w||_q >= 0`` and one ``> 0`` (the data are
    separable, robustly at radius eps): along it every softplus term is non-increasing and one
    decreases strictly, so no point is a minimiser; otherwise the loss grows along every
    direction that is not a flat one.  Decided by the LP of maximising the sum of those
    margins (exact for ``||w||_1``, ``||w||_inf`` and eps = 0).  For ``||w||_2`` an outer
    cutting-plane sequence of max-min-margin LPs finds a strictly separating direction, checked
    in float64 with the true norm; if there is none and the sum LP is positive (separable only
    with margin exactly 0), the answer is None.
    """
    if P.l2 > 0:
        return True
    tol = 1e-7 * (1.0 + np.max(np.abs(P.X)))
    value, w, b = _recession_lp(P, np.zeros((0, P.d)))
    if value <= tol * P.X.shape[0]:                              # an upper bound of the truth
        return True
    if P.eps == 0 or P.norm != 2:
        margins = P.y_pm * (P.X @ w + b) - P.eps * np.linalg.norm(w, ord=dual_norm(P.norm))
        return False if margins.min() >= -tol else None
    cuts = np.zeros((0, P.d))
    for _ in range(max_cuts):
        gamma, w, b = _recession_lp(P, cuts, maxmin=True)
        if gamma <= tol:
            return None                                          # no strict separation
        if np.min(P.y_pm * (P.X @ w + b)) - P.eps * np.linalg.norm(w) > 0:
            return False                                         # verified: robustly separable
        cuts = np.r_[cuts, [w / np.linalg.norm(w)]]              # tighten t >= ||w||_2
    return None


# ----------------------------------------------------------------------------- solver
def _lbfgsb(P, theta, gtol):
    """One L-BFGS-B run on the smooth formulation with bounds; (theta, n_iter, message)."""
    method, fun, to_z, from_z, bounds = _reformulation(P)
    res = minimize(fun, to_z(theta), args=(P,), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"gtol": gtol, "ftol": 0.0, "maxiter": 1000, "maxcor": 30})
    return from_z(res.x), int(res.nit), f"{method}: {res.message}"


def _solve(P, theta, gtol, kkt_tol, rounds=4):
    """Alternate L-BFGS-B (finds the face) and Newton on the face (polishes) until the KKT
    residual is below ``kkt_tol / 100``; returns the best point seen."""
    n_iter, best, message = 0, (np.inf, theta), ""
    for _ in range(rounds):
        theta, nit, message = _lbfgsb(P, theta, gtol)
        theta, steps = _polish(theta, P)
        n_iter += nit + steps
        r = np.linalg.norm(min_norm_subgradient_kernel(theta, P))
        best = min(best, (r, theta), key=lambda rt: rt[0])
        if r <= 1e-2 * kkt_tol:
            break
    return best[1], n_iter, message


def fit_robust_logistic_kernel(P: RobustLogisticProblem, theta0: np.ndarray | None = None, *,
                               gtol: float = 1e-9, kkt_tol: float = 1e-8) -> RobustLogisticFit:
    """:func:`fit_robust_logistic` on a validated problem; ``theta0`` (d [+1],) or None."""
    if P.eps >= critical_radius_kernel(P.X, P.y_pm, P.norm, P.fit_intercept):
        theta, n_iter, method, msg = _zero_point(P), 0, "critical radius", "w* = 0: eps >= eps_c"
    else:
        if has_minimiser_kernel(P) is False:
            raise ValueError(_no_minimiser_message(P))
        theta, n_iter, msg = _solve(P, _start(P, theta0), gtol, kkt_tol)
        if P.l2 == 0 and _robust_margins(theta, P).min() > 0:   # the fit itself separates:
            raise ValueError(_no_minimiser_message(P))           # a recession direction
        method = _reformulation(P)[0]
    return _certify(theta, P, n_iter, msg, method, kkt_tol)


def _robust_margins(theta, P):
    """``y_i (x_i^T w + b) - eps ||w||_q`` (n,)."""
    w, b = theta[:P.d], (theta[P.d] if P.fit_intercept else 0.0)
    return P.y_pm * (P.X @ w + b) - P.eps * np.linalg.norm(w, ord=dual_norm(P.norm))


def _no_minimiser_message(P):
    kind = "linearly separable" if P.eps == 0 else f"separable with robust margin > eps = {P.eps}"
    return (f"X, y: the loss has no minimiser: the data are {kind}"
            f"{' (with an intercept)' if P.fit_intercept else ''}, so the loss decreases towards "
            "its infimum as ||w|| -> inf without attaining it.  Use weight decay (l2 > 0) or a "
            "larger eps.")


def _certify(theta, P, n_iter, message, method, kkt_tol):
    xi = min_norm_subgradient_kernel(theta, P)
    r = float(np.linalg.norm(xi))
    if not r <= kkt_tol:
        warnings.warn(f"fit_robust_logistic: could not certify the optimum: KKT residual "
                      f"{r:.3g} > kkt_tol = {kkt_tol:.3g} ({message}).", RuntimeWarning,
                      stacklevel=3)
    loss = robust_logistic_loss_grad_kernel(theta, P)[0]
    b = np.array(theta[P.d] if P.fit_intercept else 0.0)
    return RobustLogisticFit(theta[:P.d].copy(), b, loss, float(np.max(np.abs(xi), initial=0.0)),
                             n_iter, message, r, r <= kkt_tol, method)


# ----------------------------------------------------------------------------- public
def check_robust_fit_args(X: Any, y: Any, eps: float, *, norm: Any, l2: float,
                          fit_intercept: Any) -> RobustLogisticProblem:
    """Validate the data and settings of a fit; return the float64 problem."""
    X = check_array(X, "X", ndim=2).astype(np.float64, copy=False)
    y_pm = 2.0 * check_labels(y, "y", 2, n_samples=X.shape[0]) - 1.0
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept: expected a bool, got {type(fit_intercept).__name__}.")
    if fit_intercept and abs(y_pm.sum()) == y_pm.size:
        raise ValueError("y: an intercept fit needs both classes (with one class the best "
                         "bias is +-inf and the loss has no minimiser).")
    return RobustLogisticProblem(X, y_pm, check_scalar(eps, "eps", low=0.0), check_norm(norm),
                                 check_scalar(l2, "l2", low=0.0), bool(fit_intercept))


def _theta0(w0, d, fit_intercept):
    if w0 is None:
        return None
    w0 = check_array(w0, "w0", ndim=1).astype(np.float64)
    if w0.shape[0] not in (d, d + int(fit_intercept)):
        raise ValueError(f"w0: expected shape ({d},) or ({d + int(fit_intercept)},), "
                         f"got {w0.shape}.")
    theta = np.zeros(d + int(fit_intercept))
    theta[:w0.shape[0]] = w0
    return theta


def fit_robust_logistic(X: Any, y: Any, eps: float, norm: Any = 2, *,
                        fit_intercept: bool = False, l2: float = 0.0, w0: Any = None,
                        gtol: float = 1e-9, kkt_tol: float = 1e-8) -> RobustLogisticFit:
    """Minimise the closed-form adversarial logistic loss (eq. (1.1)) exactly, with a certificate.

    Parameters
    ----------
    X : ndarray (n, d); computed in float64 whatever its dtype
    y : ndarray (n,), labels in {0, 1}
    eps : float >= 0; norm : attack norm (2, np.inf, 1 or "l2", "linf", "l1")
    fit_intercept : bool, learn an unpenalised bias (needs both classes)
    l2 : float >= 0, weight decay ``l2/2 ||w||^2``
    w0 : None or ndarray (d,) or (d+1,), warm start ``[w, b]`` (ignored if its w part is 0)
    gtol : float > 0, L-BFGS-B projected-gradient tolerance (``ftol`` is 0); Newton steps on
        the identified smooth piece then drive the KKT residual to rounding level
    kkt_tol : float > 0, the certificate: ``kkt_residual <= kkt_tol``

    Returns
    -------
    RobustLogisticFit
        With ``kkt_residual`` (the distance of 0 from the subdifferential, computed from the
        closed form), ``certified`` and ``method``.

    Raises
    ------
    ValueError
        Naming the argument for bad input; naming ``X, y`` when no minimiser exists (data
        separable at eps, robustly for eps > 0, and ``l2 = 0``).

    Warns
    -----
    RuntimeWarning
        When the KKT residual exceeds ``kkt_tol`` (the result is returned, uncertified).

    Notes
    -----
    For ``eps >= critical_radius(X, y, norm, fit_intercept)`` the optimum is exactly ``w = 0``
    (with the bias ``log(n_+ / n_-)``) and is returned without iterating (``docs/theory.md``
    §1.4).  Otherwise see :mod:`minadv.analysis.robust_fit`: split variables (Linf), a scaled
    box (L1), the plain problem (L2), each by L-BFGS-B from a descent start, then Newton on the
    identified smooth piece.  Linf optima have exact zeros, L1 optima exact ties.
    """
    P = check_robust_fit_args(X, y, eps, norm=norm, l2=l2, fit_intercept=fit_intercept)
    theta0 = _theta0(w0, P.d, P.fit_intercept)
    gtol = check_scalar(gtol, "gtol", low=0.0, low_inclusive=False)
    kkt_tol = check_scalar(kkt_tol, "kkt_tol", low=0.0, low_inclusive=False)
    return fit_robust_logistic_kernel(P, theta0, gtol=gtol, kkt_tol=kkt_tol)
