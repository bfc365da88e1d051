"""Smoothness of adversarial losses: finite-difference gradient-Lipschitz estimates.

Kanai et al. (arXiv:2103.01400, ``docs/theory.md`` §3.2-3.4 and §3.7) compare how smooth the
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

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import as_generator, check_array, check_int
from ..robust_logistic import check_robust_logistic_args, robust_logistic_loss_grad_kernel

__all__ = [
    "random_unit_directions",
    "gradient_lipschitz_ratios",
    "robust_logistic_grad_fn",
    "pgd_adversarial_grad_fn",
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
        g(theta - t v)|| / (2 t)`` (the form quoted in ``docs/theory.md`` §1.3).

    Returns
    -------
    ratios : ndarray (m, k), float64

    Notes
    -----
    Costs ``m k + 1`` (one-sided) or ``2 m k + 1`` gradient calls (the one at theta is
    checked: finite, shaped like theta).  Use float64: the difference of
    two gradients loses ``log10(1/t)`` digits.
    """
    if not callable(grad_fn):
        raise TypeError(f"grad_fn: expected a callable theta -> gradient, got "
                        f"{type(grad_fn).__name__}.")
    if not isinstance(symmetric, (bool, np.bool_)):
        raise TypeError(f"symmetric: expected a bool, got {type(symmetric).__name__}.")
    theta = check_array(theta, "theta", ndim=1)
    V = check_array(directions, "directions", ndim=2, shape=(None, theta.shape[0]))
    ts = check_array(ts, "ts", ndim=1)
    if np.any(ts <= 0):
        raise ValueError(f"ts: expected step sizes > 0, got min {ts.min()}.")
    if np.any(np.linalg.norm(V, axis=1) == 0):
        raise ValueError("directions: contains a zero vector; directions must be unit vectors.")
    g0 = _checked_gradient(grad_fn, theta)
    out = np.empty((V.shape[0], ts.shape[0]))
    for i, v in enumerate(V):                                    # loop over probes, not samples
        for j, t in enumerate(ts):
            g_plus = np.asarray(grad_fn(theta + t * v), dtype=np.float64)
            g_ref = np.asarray(grad_fn(theta - t * v), dtype=np.float64) if symmetric else g0
            out[i, j] = np.linalg.norm(g_plus - g_ref) / (2 * t if symmetric else t)
    return out


def _checked_gradient(grad_fn, theta):
    """``grad_fn(theta)`` as float64, checked once: finite and shaped like theta."""
    g = np.asarray(grad_fn(theta), dtype=np.float64)
    if g.shape != theta.shape or not np.all(np.isfinite(g)):
        raise ValueError(f"grad_fn: expected a finite gradient of shape {theta.shape} at theta, "
                         f"got shape {g.shape} with {np.count_nonzero(~np.isfinite(g))} "
                         "non-finite entries.")
    return g


# ----------------------------------------------------------------------------- linear models
def robust_logistic_grad_fn(X: Any, y: Any, eps: float, *, norm: Any = 2, l2: float = 0.0,
                            fit_intercept: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Closed-form adversarial logistic gradient (eq. (1.2)) as a function of flat theta.

    Validates once and returns ``grad_fn(theta) -> (p,)`` with ``theta = [w]`` or ``[w, b]``,
    for use with :func:`gradient_lipschitz_ratios`.  Linf (``norm=np.inf``) and L2 are the two
    cases compared by Kanai et al.; L1 is accepted too.
    """
    X = check_array(X, "X", ndim=2)
    p = X.shape[1] + int(bool(fit_intercept))
    _, problem = check_robust_logistic_args(np.zeros(p, X.dtype), X, y, eps, norm=norm, l2=l2,
                                            fit_intercept=fit_intercept)

    def grad_fn(theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=X.dtype)
        return robust_logistic_loss_grad_kernel(theta, problem)[1]

    return grad_fn


# ============================================================================= any model / PGD
def pgd_adversarial_grad_fn(model: Any, X: Any, y: Any, eps: float, norm: Any = np.inf, *,
                            n_steps: int = 20, step_size: float | None = None,
                            random_start: bool = False, clip_min: Any = None,
                            clip_max: Any = None, l2: float = 0.0,
                            rng: Any = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Gradient of the adversarial loss of any model, with the inner max solved by PGD.

    ``grad_fn(theta) = ∇_θ L(θ; X + δ̂(θ))`` where ``δ̂(θ)`` is the PGD attack on the model
    with flat parameters ``theta`` (Danskin's theorem, ``docs/theory.md`` §3.2: the gradient
    at the maximiser).  For use with :func:`gradient_lipschitz_ratios` on MLPs, where no closed
    form exists.

    Parameters
    ----------
    model : minadv model
    X, y : data, validated once here
    eps, norm, n_steps, step_size, random_start, clip_min, clip_max
        As in :func:`minadv.attacks.pgd`.
    rng : None, int or numpy.random.Generator
        Source of the random starts.  It is turned into a Generator once and a copy of that
        Generator's state restarts every call, so every ``theta`` sees the same starts (common
        random numbers): the ratio then measures the loss, not the attack's noise.  A
        Generator passed in is copied, never advanced.

    Notes
    -----
    PGD only approximates the maximiser; for very small ``t`` its error (not the loss) can
    dominate the ratio.  For logistic regression PGD is exact (linear score) and this equals
    :func:`robust_logistic_grad_fn`.
    """
    from ..attacks import pgd
    from ..params import flatten, unflatten

    template = model.param_template()
    X = model.check_X(X)
    y = model.check_y(y, X.shape[0])
    start_state = copy.deepcopy(as_generator(rng))              # common random numbers

    def grad_fn(theta: np.ndarray) -> np.ndarray:
        params = unflatten(np.asarray(theta, dtype=model.dtype), template)
        X_adv = pgd(model, params, X, y, eps, norm=norm, n_steps=n_steps, step_size=step_size,
                    random_start=random_start, clip_min=clip_min, clip_max=clip_max,
                    rng=copy.deepcopy(start_state))
        out = model.loss_and_grads_kernel(params, X_adv, y, input_grad=False, l2=l2)
        return flatten(out.grads)

    return grad_fn
