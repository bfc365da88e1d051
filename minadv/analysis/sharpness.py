"""Sharpness measures beyond ``λ_max``: ε-sharpness (Keskar et al. 2017) and the Hessian trace.

* :func:`epsilon_sharpness` — the largest loss increase in a weight ball,
  ``max_{ζ ∈ C_ρ} L(θ + ζ) − L(θ)``, found by projected gradient ascent with a fixed number of
  steps (a lower bound on the true maximum; exact for a quadratic with enough steps).
  :func:`sharpness_ascent` is the same ascent for any flat ``value_and_grad`` callable.
* :func:`hessian_trace` — ``tr ∇²L``: exact (``P`` HVPs) or by Hutchinson's estimator.

For small ``ρ`` around a minimum, ``L(θ + ζ) − L(θ) ≈ ½ ζᵀ H ζ``, so the ε-sharpness is
``≈ ½ ρ² λ_max`` (tested): the two measures agree locally and differ for larger ``ρ``, where the
ball sees the non-quadratic landscape.

References
----------
Keskar, N. S., Mudigere, D., Nocedal, J., Smelyanskiy, M., Tang, P. T. P. (2017). On
large-batch training for deep learning: generalization gap and sharp minima. ICLR 2017,
section 2.2.1, eq. (3).
Hutchinson, M. F. (1989). Commun. Stat. Simul. Comput. 18(3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_array, check_int, check_scalar
from ..models.base import Model
from ..params import Params, flatten, unflatten
from .hessian import hessian_operator, hutchinson_trace

__all__ = ["epsilon_sharpness", "sharpness_ascent", "SharpnessResult", "hessian_trace"]


class SharpnessResult(NamedTuple):
    """Result of :func:`epsilon_sharpness`.

    Attributes
    ----------
    sharpness : float
        ``max_t L(θ + ζ_t) − L(θ) >= 0`` over the ascent iterates (``ζ_0 = 0`` included).
    loss : float
        ``L(θ)``.
    max_loss : float
        ``L(θ + ζ*)``.
    perturbation : dict
        The maximiser ``ζ*`` (same names/shapes as ``params``).
    trace : ndarray of shape (n_steps + 1,)
        ``L(θ + ζ_t) − L(θ)`` along the ascent (``trace[0] = 0``).
    keskar : float
        Keskar et al.'s normalisation ``100 · sharpness / (1 + L(θ))``.
    """

    sharpness: float
    loss: float
    max_loss: float
    perturbation: Params
    trace: np.ndarray
    keskar: float


def _project(u: np.ndarray, rho: float) -> np.ndarray:
    """Euclidean projection onto ``{‖u‖ <= rho}`` (scales only when outside)."""
    norm = np.linalg.norm(u)
    return u * (rho / norm) if norm > rho else u


def _ascent_start(n: int, rho: float, random_start: bool, gen) -> np.ndarray:
    if not random_start or rho == 0:
        return np.zeros(n)
    u = gen.standard_normal(n)
    return u * (rho / np.linalg.norm(u))                  # uniform on the sphere of radius ρ


def _check_ascent_args(value_and_grad, x0, scale, random_start):
    """Validate the callable, ``x0`` (P,) and ``scale`` (P,) > 0; return float64 x0 and s."""
    if not callable(value_and_grad):
        raise TypeError("value_and_grad: expected a callable x -> (f(x), grad f(x)), got "
                        f"{type(value_and_grad).__name__}.")
    if not isinstance(random_start, (bool, np.bool_)):
        raise TypeError(f"random_start: expected a bool, got {type(random_start).__name__}.")
    x0 = check_array(x0, "x0", ndim=1).astype(np.float64)
    if scale is None:
        return x0, np.ones_like(x0)
    s = check_array(scale, "scale", ndim=1, shape=x0.shape).astype(np.float64)
    if np.any(s <= 0):
        raise ValueError(f"scale: expected positive per-coordinate scales, got min {s.min()}.")
    return x0, s


def _checked_call(value_and_grad, x):
    """``value_and_grad(x0)``, checked once: a finite float and a finite gradient shaped like x."""
    out = value_and_grad(x)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError("value_and_grad: expected it to return a pair (f(x), grad f(x)), got "
                        f"{type(out).__name__}.")
    f, g = float(out[0]), np.asarray(out[1], dtype=np.float64)
    if g.shape != x.shape or not np.isfinite(f) or not np.all(np.isfinite(g)):
        raise ValueError(f"value_and_grad: at x0 expected a finite value and a finite gradient "
                         f"of shape {x.shape}, got value {f} and gradient of shape {g.shape}.")
    return f, g


def sharpness_ascent(value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
                     x0: np.ndarray, rho: float, *, n_steps: int = 20,
                     step_size: float | None = None, scale: np.ndarray | None = None,
                     random_start: bool = True, rng: Any = None):
    """Projected normalised-gradient ascent of ``f(x0 + s ⊙ u)`` over ``‖u‖₂ <= rho``.

    Parameters
    ----------
    value_and_grad : callable
        ``x -> (f(x), ∇f(x))`` on flat float64 vectors of shape ``(P,)``.
    x0 : ndarray of shape (P,)
    rho : float
        Radius ``>= 0``.
    n_steps : int, default 20
        Number of ascent steps (one gradient each).
    step_size : float, optional
        Length of each step in ``u``; default ``rho`` (a full-radius normalised step, whose
        fixed point on the sphere is the KKT condition ``∇_u f ∥ u``).
    scale : ndarray of shape (P,), optional
        Positive per-coordinate scale ``s`` (the ball becomes an ellipsoid); default ones.
    random_start : bool, default True
        Start from a uniform point on the sphere ``‖u‖ = rho`` (needed at a stationary point,
        where the gradient is 0); otherwise from ``u = 0``.
    rng : None, int or Generator
        Source of the random start.

    Returns
    -------
    increase : float
        ``max_t f(x0 + s ⊙ u_t) − f(x0)`` over the iterates including ``u = 0`` (so ``>= 0``).
    zeta : ndarray of shape (P,)
        The best perturbation ``s ⊙ u*``.
    trace : ndarray of shape (n_steps + 1,)
        The increase at ``u = 0`` and after each step.
    f0 : float
        ``f(x0)``.

    Notes
    -----
    ``u ← Π_ρ(u + η ĝ)``, ``ĝ = (s ⊙ ∇f)/‖s ⊙ ∇f‖``: L2 projected gradient ascent (as in PGD
    attacks, Madry et al. 2018) in weight space.  The result is a lower bound on the true
    maximum, like every ascent-based sharpness (Keskar et al. 2017 use L-BFGS-B on a box).
    """
    rho = check_scalar(rho, "rho", low=0.0)
    n_steps = check_int(n_steps, "n_steps", low=0)
    eta = rho if step_size is None else check_scalar(step_size, "step_size", low=0.0)
    x0, s = _check_ascent_args(value_and_grad, x0, scale, random_start)
    f0, g = _checked_call(value_and_grad, x0)
    best, best_u, trace = 0.0, np.zeros_like(x0), [0.0]
    u = _ascent_start(x0.shape[0], rho, random_start, as_generator(rng))
    f, g = value_and_grad(x0 + s * u) if u.any() else (f0, g)
    for _ in range(n_steps):
        gu = s * g                                        # ∇_u f(x0 + s ⊙ u)
        norm = np.linalg.norm(gu)
        if norm > 0:
            u = _project(u + eta * gu / norm, rho)
        f, g = value_and_grad(x0 + s * u)
        trace.append(f - f0)
        if f - f0 > best:
            best, best_u = f - f0, u.copy()
    return float(best), s * best_u, np.array(trace), float(f0)


def _model_value_and_grad(model: Model, like: Params, X, y, l2: float) -> Callable:
    def value_and_grad(x: np.ndarray):
        res = model.loss_and_grads_kernel(unflatten(x, like), X, y, input_grad=False, l2=l2)
        return res.loss, flatten(res.grads).astype(np.float64, copy=False)

    return value_and_grad


def epsilon_sharpness(model: Model, params: Params, X: np.ndarray, y: np.ndarray,
                      rho: float, *, n_steps: int = 20, step_size: float | None = None,
                      relative: bool = False, random_start: bool = True, rng: Any = None,
                      l2: float = 0.0) -> SharpnessResult:
    """ε-sharpness of the mean loss at ``θ`` (Keskar et al. 2017), in an L2 weight ball.

    Parameters
    ----------
    model : Model
    params : dict
        The point ``θ``.
    X : ndarray of shape (n, n_features); y : ndarray of shape (n,)
    rho : float
        Ball radius ``ρ >= 0`` (Keskar's ``ε``; named ``rho`` because ``eps`` is only ever the
        attack radius in minadv).
    n_steps : int, default 20
        Ascent steps (one gradient each).
    step_size : float, optional
        Default ``rho`` (see :func:`sharpness_ascent`).
    relative : bool, default False
        If True, the set is ``{ζ = (|θ| + 1) ⊙ u : ‖u‖₂ <= ρ}``: Keskar et al.'s per-coordinate
        scaling ``|θ_i| + 1`` (their eq. (3) uses an L∞ box with the same scaling) with an L2
        ball, so ``ρ`` is a relative size.  Otherwise ``{‖ζ‖₂ <= ρ}``.
    random_start : bool, default True
        Start on the sphere (needed at a minimum, where the gradient vanishes).
    rng : None, int or Generator
        Source of the random start.
    l2 : float, default 0

    Returns
    -------
    SharpnessResult

    Notes
    -----
    ``φ(θ, ρ) = max_{ζ ∈ C_ρ} L(θ + ζ) − L(θ)``.  It is ``>= 0``, equals 0 at ``ρ = 0`` and is
    non-decreasing in ``ρ`` (nested sets); near a minimum ``φ ≈ ½ ρ² λ_max(∇²L)``.  Keskar et al.
    report ``100 · φ / (1 + L(θ))`` (field ``keskar``).

    References
    ----------
    Keskar et al. (2017), ICLR, section 2.2.1, eq. (3).
    """
    params, X, y = model.check_inputs(params, X, y)
    if y is None:
        raise ValueError("y: the loss needs the labels; got None.")
    l2 = check_scalar(l2, "l2", low=0.0)
    if not isinstance(relative, (bool, np.bool_)):
        raise TypeError(f"relative: expected a bool, got {type(relative).__name__}.")
    x0 = flatten(params).astype(np.float64)
    scale = np.abs(x0) + 1 if relative else None
    vg = _model_value_and_grad(model, params, X, y, l2)
    value, zeta, trace, f0 = sharpness_ascent(vg, x0, rho, n_steps=n_steps,
                                              step_size=step_size, scale=scale,
                                              random_start=random_start, rng=rng)
    return SharpnessResult(value, f0, f0 + value, unflatten(zeta, params), trace,
                           100.0 * value / (1.0 + f0))


def hessian_trace(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                  method: str = "auto", n_samples: int = 100, rng: Any = None,
                  l2: float = 0.0, max_exact: int = 2000) -> float:
    """``tr ∇²_θ L(θ)``, exactly or by Hutchinson's estimator.

    Parameters
    ----------
    model, params, X, y, l2
        As in :func:`~minadv.analysis.hessian.hessian_operator`.
    method : {"auto", "exact", "hutchinson"}
        ``"exact"``: ``Σ_j e_jᵀ H e_j`` from ``P`` HVPs; ``"hutchinson"``: mean of
        ``n_samples`` Rademacher probes ``zᵀ H z`` (standard error ``sqrt(2(‖H‖_F² − Σ H_jj²)
        / n_samples)``; use :func:`~minadv.analysis.hessian.hutchinson_trace` to get it);
        ``"auto"``: exact when ``P <= max_exact``.
    n_samples : int, default 100
    rng : None, int or Generator
        Probes for ``"hutchinson"``.
    max_exact : int, default 2000

    Returns
    -------
    float
    """
    if method not in ("auto", "exact", "hutchinson"):
        raise ValueError(f"method: expected 'auto', 'exact' or 'hutchinson', got {method!r}.")
    if method == "auto":
        max_exact = check_int(max_exact, "max_exact", low=0)
        method = "exact" if model.n_params <= max_exact else "hutchinson"
    if method == "hutchinson":
        return hutchinson_trace(model, params, X, y, n_samples=n_samples, rng=rng,
                                l2=l2).estimate
    op = hessian_operator(model, params, X, y, l2=l2)
    e, total = np.zeros(op.shape[0]), 0.0
    for j in range(op.shape[0]):                          # Σ_j (H e_j)_j, O(P) memory
        e[j] = 1.0
        total += op.matvec(e)[j]
        e[j] = 0.0
    return float(total)
