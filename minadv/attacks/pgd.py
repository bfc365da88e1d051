"""Projected gradient descent (ascent) attacks in the L_inf, L2 and L1 balls.

Iteration (Madry et al. 2018, eq. (2.1) and their ``pgd_attack.py``)::

    x_0     = clip_box(x + u),   u uniform in the eps-ball (random start) or u = 0
    x_{t+1} = clip_box( proj_ball( x_t + step_size * steepest_ascent(∇_x ℓ(x_t)) ) )

with ``proj_ball`` the Euclidean projection onto ``{x' : ||x' - x||_p <= eps}``.  Because the
clean ``x`` lies in the box, clipping after the ball projection never leaves the ball (it only
moves coordinates of ``x' - x`` towards zero): for L_inf the two clips are one clip to
``[max(x - eps, lo), min(x + eps, hi)]``, the exact projection onto ``ball ∩ box``; for L2 and
L1 the composition is the standard feasible (not Euclidean) projection.  The last iterate is
returned.

Random starts (uniform in the ball):

* L_inf: ``u ~ U(-eps, eps)^d``.
* L2: ``u = eps * R^{1/d} * z / ||z||`` with ``z ~ N(0, I_d)`` (direction uniform on the sphere)
  and ``R = Phi(z_{d+1}) ~ U(0, 1)`` from one extra normal (``Phi`` the normal CDF), so that
  every row draws one contiguous block of ``d + 1`` numbers.
* L1: ``u = eps * L / (||L||_1 + E)`` with ``L`` i.i.d. Laplace(1) and ``E = |L_{d+1}|``:
  ``(|L|, E) / sum`` is Dirichlet(1, ..., 1), i.e. uniform on the simplex, and the signs are
  independent fair coins, which is the uniform law on the L1 ball.

Reproducibility contract (batch consistency).  With one restart the start is drawn from
``rng`` itself; with ``n_restarts > 1`` restart ``r`` draws from its own child stream
``rng.spawn(n_restarts)[r]``.  Rows are drawn one after another (row-major), so with the same
seed the random start of row ``i`` does not depend on the rows after it: attacking ``X[:k]``
gives the first ``k`` rows of attacking ``X`` (equal up to BLAS rounding between batch sizes,
~1e-16 in float64), for any number of restarts.  :func:`minadv.attacks.robustness_curve` keeps
the streams across batches, so its result does not depend on ``batch_size``.

Restarts keep, per sample, the worst case found: a successful restart (misclassified, or
classified as the target) beats an unsuccessful one; among equals the higher attack loss wins.

References
----------
Madry, Makelov, Schmidt, Tsipras, Vladu. Towards Deep Learning Models Resistant to Adversarial
Attacks. ICLR 2018 (arXiv:1706.06083), section 2 and Appendix; ``theory.md`` section 8.
Voelker, Gosmann, Stewart. Efficiently sampling vectors and coordinates from the n-sphere and
n-ball. Tech. report, 2017 (uniform sampling in balls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .._validation import as_generator, check_float_dtype, check_int, check_norm, check_scalar
from ._common import attack_loss_grad, attack_success, check_attack_inputs
from .steepest import _l2_norms, _lp_norms, _project_ball_, _scaled_sign, steepest_ascent_kernel

__all__ = [
    "pgd", "pgd_kernel", "PGDTrace", "random_ball_start"]


@dataclass
class PGDTrace:
    """Per-step record of a PGD run, for step-through teaching.

    Attributes
    ----------
    step_size : float
    loss : ndarray of shape (n_restarts, n_steps + 1)
        Mean attack loss ``(1/n) Σ ℓ_i(x_t)`` at iterate ``t`` (``t = 0`` is the start).  The
        attack ascends it (untargeted) or descends it (targeted; ``ℓ`` at the target).
    norm : ndarray of shape (n_restarts, n_steps + 1)
        Mean perturbation norm ``(1/n) Σ ||x_t - x||_p``.
    box_residual : ndarray of shape (n_restarts, n_steps)
        Largest coordinate move made by the box clip at step ``t`` (0 without a box).
    """

    step_size: float
    loss: np.ndarray
    norm: np.ndarray
    box_residual: np.ndarray


# ----------------------------------------------------------------------------- random starts
def _random_start(shape, dtype, eps: float, norm, gen: np.random.Generator) -> np.ndarray:
    """One uniform draw in the eps-ball per row, rows drawn in order (module docstring)."""
    n, d = shape
    if norm == np.inf:
        u = gen.random(shape, dtype=dtype)                       # (n, d) in [0, 1)
        u *= 2 * eps
        u -= eps
        return u
    if norm == 2:
        z = gen.standard_normal((n, d + 1), dtype=dtype)         # (n, d + 1)
        radius = eps * special.ndtr(z[:, d]) ** (1.0 / d)        # (n,)  eps U^{1/d}
        direction = z[:, :d]
        norms = _l2_norms(direction)
        scale = np.zeros_like(norms)
        np.divide(radius.astype(dtype), norms, out=scale, where=norms > 0)
        return np.ascontiguousarray(direction * scale[:, None])
    lap = gen.laplace(size=(n, d + 1))                           # float64 (n, d + 1)
    total = np.sum(np.abs(lap), axis=1, keepdims=True)
    return (eps * lap[:, :d] / total).astype(dtype)


def random_ball_start(shape: tuple, eps: float, norm: Any, *, dtype: Any = np.float64,
                      rng: Any = None) -> np.ndarray:
    """Draw ``shape[0]`` points uniformly from the ``d``-dimensional eps-ball of ``norm``.

    Parameters
    ----------
    shape : tuple (n, d)
    eps : float, ``>= 0``
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
    dtype : float32 or float64
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n, d)
        Rows are i.i.d. uniform in the ball (see the module docstring for the samplers: L2
        radius ``eps U^{1/d}`` with a direction uniform on the sphere).  Rows are drawn in
        order from ``rng``, so the first ``k`` rows do not depend on ``n``.
    """
    n = check_int(shape[0], "shape[0]", low=1)
    d = check_int(shape[1], "shape[1]", low=1)
    eps = check_scalar(eps, "eps", low=0.0)
    return _random_start((n, d), check_float_dtype(dtype), eps, check_norm(norm),
                         as_generator(rng))


# ----------------------------------------------------------------------------- one run
def _linf_bounds(X, eps, lo, hi):
    """``[max(x - eps, lo), min(x + eps, hi)]``: ball ∩ box is a box for L_inf."""
    low = X - eps
    high = X + eps
    if lo is not None:
        np.maximum(low, lo, out=low)
    if hi is not None:
        np.minimum(high, hi, out=high)
    return low, high


class _Projector:
    """Projection of an iterate onto ball ∩ box, in place (built once per attack)."""

    def __init__(self, X, eps, norm, lo, hi):
        self.X, self.eps, self.norm, self.lo, self.hi = X, eps, norm, lo, hi
        self.bounds = _linf_bounds(X, eps, lo, hi) if norm == np.inf else None

    def _ball(self, X_adv):
        if self.norm == np.inf:
            np.minimum(X_adv, self.X + self.eps, out=X_adv)
            np.maximum(X_adv, self.X - self.eps, out=X_adv)
            return
        delta = np.subtract(X_adv, self.X)                       # (n, d)
        _project_ball_(delta, self.eps, self.norm)
        np.add(self.X, delta, out=X_adv)

    def __call__(self, X_adv: np.ndarray, residual: bool = False) -> float:
        """Project; with ``residual`` return the largest move made by the box clip."""
        if self.norm == np.inf and not residual:
            low, high = self.bounds                              # ball ∩ box is a box
            np.minimum(X_adv, high, out=X_adv)                   # (2 passes; np.clip with
            np.maximum(X_adv, low, out=X_adv)                    #  array bounds is ~5x slower)
            return 0.0
        self._ball(X_adv)
        if self.lo is None and self.hi is None:
            return 0.0
        before = X_adv.copy() if residual else None
        np.clip(X_adv, self.lo, self.hi, out=X_adv)
        return float(np.max(np.abs(before - X_adv))) if residual else 0.0


def _ascent_step_(g: np.ndarray, step_size: float, norm) -> np.ndarray:
    """Steepest-ascent step of length ``step_size``; reuses ``g``'s buffer for L_inf."""
    if norm == np.inf:
        return _scaled_sign(g, step_size, out=g)                 # sign(0) = 0
    return steepest_ascent_kernel(g, step_size, norm)


def _pgd_run(model, params, X, labels, targeted, norm, step_size, n_steps, project, start,
             trace):
    """One PGD run from ``X + start``; returns the last iterate (and fills ``trace`` rows)."""
    X_adv = X.copy() if start is None else np.add(X, start)
    project(X_adv)
    for _t in range(n_steps):
        g, losses, _ = attack_loss_grad(model, params, X_adv, labels, targeted)
        if trace is not None:
            trace["loss"].append(float(np.mean(losses)))
            trace["norm"].append(float(np.mean(_lp_norms(X_adv - X, norm))))
        X_adv += _ascent_step_(g, step_size, norm)
        residual = project(X_adv, residual=trace is not None)
        if trace is not None:
            trace["box_residual"].append(residual)
    return X_adv


def pgd_kernel(model, params, X, labels, targeted, eps, norm, step_size, n_steps, lo, hi,
               streams, want_trace=False):
    """PGD without validation, for library code that validated once (training objectives).

    Arguments as in :func:`pgd`, already checked: ``labels`` (n,) int64 (true or target),
    ``targeted`` bool, ``norm`` canonical (``np.inf``, 2 or 1), ``lo``/``hi`` the box from
    ``check_box`` (None = unbounded), ``streams`` one Generator per restart or None for no
    random start.  Returns ``(X_adv, trace or None)``.
    """
    project = _Projector(X, eps, norm, lo, hi)
    runs = [None] if streams is None else streams
    best = best_loss = best_success = None
    traces = []
    for gen in runs:
        start = None if gen is None else _random_start(X.shape, X.dtype, eps, norm, gen)
        trace = {"loss": [], "norm": [], "box_residual": []} if want_trace else None
        X_adv = _pgd_run(model, params, X, labels, targeted, norm, step_size, n_steps,
                         project, start, trace)
        if len(runs) == 1 and not want_trace:
            return X_adv, None
        logits, _ = model.forward(params, X_adv)
        losses, _ = model.output.nll(logits, labels)
        success = attack_success(model, logits, labels, targeted)
        if want_trace:
            trace["loss"].append(float(np.mean(losses)))
            trace["norm"].append(float(np.mean(_lp_norms(X_adv - X, norm))))
            traces.append(trace)
        score = -losses if targeted else losses
        if best is None:
            best, best_loss, best_success = X_adv, score, success
            continue
        better = (success & ~best_success) | ((success == best_success) & (score > best_loss))
        best[better] = X_adv[better]
        best_loss = np.where(better, score, best_loss)
        best_success = best_success | success
    if not want_trace:
        return best, None
    stack = lambda key: np.array([tr[key] for tr in traces], dtype=np.float64)  # noqa: E731
    return best, PGDTrace(step_size, stack("loss"), stack("norm"), stack("box_residual"))


def check_pgd_options(eps, n_steps, step_size, random_start, n_restarts):
    """Validate PGD's iteration options; return ``(n_steps, step_size, n_restarts)``."""
    n_steps = check_int(n_steps, "n_steps", low=1)
    n_restarts = check_int(n_restarts, "n_restarts", low=1)
    if step_size is None:
        step_size = 2.5 * eps / n_steps
    else:
        step_size = check_scalar(step_size, "step_size", low=0.0, low_inclusive=False)
    if not isinstance(random_start, (bool, np.bool_)):
        raise TypeError(f"random_start: expected a bool, got {type(random_start).__name__}.")
    if n_restarts > 1 and not random_start:
        raise ValueError("n_restarts: restarts without random_start=True would all be "
                         "identical; set random_start=True or n_restarts=1.")
    return n_steps, step_size, n_restarts


# ----------------------------------------------------------------------------- public API
def pgd(model, params: dict, X: np.ndarray, y: Any, eps: float, norm: Any = np.inf, *,
        n_steps: int = 10, step_size: float | None = None, random_start: bool = True,
        n_restarts: int = 1, clip_min: Any = None, clip_max: Any = None, target: Any = None,
        rng: Any = None, return_trace: bool = False):
    """Projected gradient attack (Madry et al. 2018) in the L_inf, L2 or L1 ball.

    Parameters
    ----------
    model : minadv.models.Model
    params : dict
    X : ndarray of shape (n, d), the model's dtype
        Clean inputs (inside the box if one is given).  Never modified.
    y : ndarray of shape (n,) or None
        True labels; ``None`` attacks the model's predictions.
    eps : float
        Radius, ``>= 0`` (``eps = 0`` returns ``X`` exactly).
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
        L1 uses the one-coordinate steepest step and the exact L1 projection; it is weak as an
        attack (a sparse step per iteration) but exact for linear models.
    n_steps : int, ``>= 1``
    step_size : float or None
        Step length ``alpha`` in the attack norm; ``None`` gives ``2.5 eps / n_steps`` (Madry
        et al.'s L2 choice).  Their MNIST L_inf setting is 40 steps of 0.01 at eps = 0.3.
    random_start : bool
        Start from a uniform point of the ball (module docstring) instead of ``x``.
    n_restarts : int, ``>= 1``
        Independent random starts; the per-sample worst case is kept (module docstring).
    clip_min, clip_max : None, float or array broadcastable to (n, d)
    target : ndarray of shape (n,) or None
        Targeted mode: descend the NLL of these labels.
    rng : None, int or numpy.random.Generator
        Source of the random starts: ``rng`` itself for one restart, else restart ``r`` uses
        ``rng.spawn(n_restarts)[r]``.
    return_trace : bool
        Also return a :class:`PGDTrace` (costs one extra forward per restart and a few passes
        per step).

    Returns
    -------
    X_adv : ndarray of shape (n, d), dtype of ``X``
        In the eps-ball around ``X`` and in the box.
    trace : PGDTrace
        Only if ``return_trace``.

    Raises
    ------
    ValueError, TypeError
        Invalid model inputs, negative/NaN ``eps``, ``n_steps < 1``, ``step_size <= 0``,
        unknown ``norm``, ``clip_min > clip_max``, labels out of range, ``target == y``,
        ``n_restarts > 1`` without a random start.

    Notes
    -----
    Each iteration costs one forward pass and one backward pass to the input (no parameter
    gradients).  For L_inf the step ``alpha sign(g)`` is computed in place on the gradient's
    buffer as ``clip(g * (alpha / tiny), -alpha, alpha)`` (see ``steepest._scaled_sign`` for the
    subnormal corner) and the projection onto ball ∩ box is one ``minimum``/``maximum`` pair
    against bounds precomputed once per attack.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(2)
    >>> params = {"w": np.array([1.0, -2.0]), "b": np.array(0.0)}
    >>> pgd(model, params, np.zeros((1, 2)), np.array([1]), 0.1, n_steps=5, step_size=0.05,
    ...     rng=0)
    array([[-0.1,  0.1]])
    """
    norm = check_norm(norm)
    a = check_attack_inputs(model, params, X, y, eps, clip_min, clip_max, target)
    n_steps, step_size, n_restarts = check_pgd_options(a.eps, n_steps, step_size,
                                                       random_start, n_restarts)
    gen = as_generator(rng)
    streams = None if not random_start else [gen] if n_restarts == 1 else gen.spawn(n_restarts)
    X_adv, trace = pgd_kernel(model, a.params, a.X, a.labels, a.targeted, a.eps, norm, step_size,
                        n_steps, a.clip_min, a.clip_max, streams, return_trace)
    return (X_adv, trace) if return_trace else X_adv
