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
~1e-16 in float64), for any number of restarts.  ``pgd(..., batch_size=b)`` and
:func:`minadv.attacks.robustness_curve` keep each stream across the row blocks (block ``k``
continues the draws where block ``k - 1`` stopped), so the random starts of a batched call are
bitwise those of the unbatched call and the result does not depend on ``batch_size``.

Restarts keep, per sample, the worst case found: a successful restart (misclassified, or
classified as the target) beats an unsuccessful one; among equals the higher attack loss wins.

References
----------
Madry, Makelov, Schmidt, Tsipras, Vladu. Towards Deep Learning Models Resistant to Adversarial
Attacks. ICLR 2018 (arXiv:1706.06083), section 2 and Appendix; ``docs/theory.md`` §8.
Voelker, Gosmann, Stewart. Efficiently sampling vectors and coordinates from the n-sphere and
n-ball. Tech. report, 2017 (uniform sampling in balls).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .._validation import as_generator, check_float_dtype, check_int, check_norm, check_scalar
from ..threads import thread_policy
from .common import (
    attack_labels,
    attack_loss_grad,
    attack_success,
    check_attack_inputs,
    check_batch_size,
    map_row_blocks,
)
from .norms import lp_norms_kernel, project_ball_kernel, unit_rows_kernel
from .steepest import steepest_ascent_kernel

__all__ = ["pgd", "pgd_kernel", "PGDConfig", "PGDTrace", "check_pgd_options", "default_step_size",
           "random_ball_start", "random_ball_start_kernel"]


@dataclass(frozen=True, kw_only=True)
class PGDConfig:
    """Validated options of one PGD attack (the unchecked :func:`pgd_kernel` takes one).

    Keyword-only, e.g. ``PGDConfig(eps=0.3, norm=np.inf, step_size=0.01, n_steps=40,
    clip_min=0.0, clip_max=1.0)`` (Madry et al.'s MNIST setting).

    Attributes
    ----------
    eps : float
        Radius ``>= 0``.
    norm : {np.inf, 2, 1}
        Canonical norm (:func:`minadv._validation.check_norm`).
    step_size : float
        Step length ``alpha > 0`` in the attack norm.
    n_steps : int
        Iterations ``>= 1``.
    clip_min, clip_max : None, scalar or array of X's dtype
        The box from :func:`~minadv.attacks.box.check_box` (None = unbounded side).
    targeted : bool
        Descend the NLL of the labels (targets) instead of ascending it.
    """

    eps: float
    norm: Any
    step_size: float
    n_steps: int
    clip_min: Any = None
    clip_max: Any = None
    targeted: bool = False


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
def random_ball_start_kernel(shape: tuple[int, int], dtype, eps: float, norm,
                             gen: np.random.Generator) -> np.ndarray:
    """Kernel of :func:`random_ball_start`: one uniform draw per row, rows drawn in order."""
    n, d = shape
    if norm == np.inf:
        u = gen.random(shape, dtype=dtype)                       # (n, d) in [0, 1)
        u *= 2 * eps
        u -= eps
        return u
    if norm == 2:
        z = gen.standard_normal((n, d + 1), dtype=dtype)         # (n, d + 1)
        radius = eps * special.ndtr(z[:, d]) ** (1.0 / d)        # (n,)  eps U^{1/d}
        return unit_rows_kernel(z[:, :d], length=radius.astype(dtype))   # (n, d)
    lap = gen.laplace(size=(n, d + 1))                           # float64 (n, d + 1)
    total = np.sum(np.abs(lap), axis=1, keepdims=True)
    return (eps * lap[:, :d] / total).astype(dtype)


def _check_shape(shape: Any) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        got = f"{type(shape).__name__} {shape!r}"
        raise (ValueError if isinstance(shape, (tuple, list)) else TypeError)(
            f"shape: expected a tuple (n, d) of two ints, got {got}.")
    return check_int(shape[0], "shape[0]", low=1), check_int(shape[1], "shape[1]", low=1)


def random_ball_start(shape: tuple, eps: float, norm: Any, *, dtype: Any = np.float64,
                      rng: Any = None) -> np.ndarray:
    """Draw ``shape[0]`` points uniformly from the ``d``-dimensional eps-ball of ``norm``.

    Parameters
    ----------
    shape : tuple (n, d)
        Two positive ints (an int or a 1-tuple raises: say ``(1, d)`` for one point).
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

    Raises
    ------
    TypeError, ValueError
        ``shape`` not a pair of positive ints, ``eps`` negative, unknown ``norm`` or ``dtype``.
    """
    n, d = _check_shape(shape)
    eps = check_scalar(eps, "eps", low=0.0)
    return random_ball_start_kernel((n, d), check_float_dtype(dtype), eps, check_norm(norm),
                                    as_generator(rng))


# ----------------------------------------------------------------------------- one run
class _Projector:
    """Projection of an iterate onto ball ∩ box, in place (built once per attack).

    For L_inf, ball ∩ box is the box ``[max(x - eps, lo), min(x + eps, hi)]``: its bounds are
    computed once and each projection is one ``minimum``/``maximum`` pair (the speed place of
    the PGD workload: ``np.clip`` with array bounds is ~5x slower).
    """

    def __init__(self, X, eps, norm, lo, hi):
        self.X, self.eps, self.norm, self.lo, self.hi = X, eps, norm, lo, hi
        self.bounds = None
        if norm == np.inf:
            low, high = X - eps, X + eps                         # (n, d) each
            self.bounds = (low if lo is None else np.maximum(low, lo, out=low),
                           high if hi is None else np.minimum(high, hi, out=high))

    def __call__(self, X_adv: np.ndarray, residual: bool = False) -> float:
        """Project; with ``residual`` return the largest move made by the box clip."""
        if self.norm == np.inf and not residual:
            np.minimum(X_adv, self.bounds[1], out=X_adv)
            np.maximum(X_adv, self.bounds[0], out=X_adv)
            return 0.0
        if self.norm == np.inf:                                  # same rounding as above
            np.minimum(X_adv, self.X + self.eps, out=X_adv)
            np.maximum(X_adv, self.X - self.eps, out=X_adv)
        else:
            delta = project_ball_kernel(np.subtract(X_adv, self.X), self.eps, self.norm)
            np.add(self.X, delta, out=X_adv)                     # back in the ball
        if self.lo is None and self.hi is None:
            return 0.0
        before = X_adv.copy() if residual else None
        np.clip(X_adv, self.lo, self.hi, out=X_adv)
        return float(np.max(np.abs(before - X_adv))) if residual else 0.0


def _pgd_run(model, params, X, labels, config, project, start, trace):
    """One PGD run from ``X + start``; returns the last iterate (and fills ``trace`` rows)."""
    X_adv = X.copy() if start is None else np.add(X, start)
    project(X_adv)
    for _t in range(config.n_steps):
        g, losses, _ = attack_loss_grad(model, params, X_adv, labels, config.targeted)
        if trace is not None:
            trace["loss"].append(float(np.mean(losses)))
            trace["norm"].append(float(np.mean(lp_norms_kernel(X_adv - X, config.norm))))
        X_adv += steepest_ascent_kernel(g, config.step_size, config.norm)
        residual = project(X_adv, residual=trace is not None)
        if trace is not None:
            trace["box_residual"].append(residual)
    return X_adv


def _finish_run(model, params, X, X_adv, labels, config, trace):
    """Score a finished run: per-sample attack score (higher is better) and success."""
    logits, _ = model.forward(params, X_adv)
    losses, _ = model.output.nll(logits, labels)
    if trace is not None:
        trace["loss"].append(float(np.mean(losses)))
        trace["norm"].append(float(np.mean(lp_norms_kernel(X_adv - X, config.norm))))
    score = -losses if config.targeted else losses
    return score, attack_success(model, logits, labels, config.targeted)


def _keep_worst(best, X_adv, score, success):
    """Per sample, keep the successful run, and among equals the higher score (in place)."""
    if best is None:
        return [X_adv, score, success]
    X_best, best_score, best_success = best
    better = (success & ~best_success) | ((success == best_success) & (score > best_score))
    X_best[better] = X_adv[better]
    return [X_best, np.where(better, score, best_score), best_success | success]


def pgd_kernel(model, params: dict, X: np.ndarray, labels: np.ndarray | None,
               config: PGDConfig, *, streams: Sequence[np.random.Generator] | None = None,
               return_trace: bool = False):
    """PGD without validation, for library code that validated once (training objectives).

    ``labels`` (n,) int64 (true or target labels), or None for the model's predictions on
    ``X``; ``config`` a :class:`PGDConfig` of checked values; ``streams`` one Generator per
    restart (each run starts uniformly in the ball, drawn from its stream), or None for one
    run from ``X`` itself.  Returns ``(X_adv, trace or None)``.
    """
    labels = attack_labels(model, params, X, labels)
    project = _Projector(X, config.eps, config.norm, config.clip_min, config.clip_max)
    runs = [None] if streams is None else list(streams)
    best, traces = None, []
    for gen in runs:
        start = None if gen is None else random_ball_start_kernel(
            X.shape, X.dtype, config.eps, config.norm, gen)
        trace = {"loss": [], "norm": [], "box_residual": []} if return_trace else None
        X_adv = _pgd_run(model, params, X, labels, config, project, start, trace)
        if len(runs) == 1 and not return_trace:
            return X_adv, None
        score, success = _finish_run(model, params, X, X_adv, labels, config, trace)
        best = _keep_worst(best, X_adv, score, success)
        traces.append(trace)
    if not return_trace:
        return best[0], None
    stack = lambda key: np.array([tr[key] for tr in traces], dtype=np.float64)  # noqa: E731
    return best[0], PGDTrace(config.step_size, stack("loss"), stack("norm"),
                             stack("box_residual"))


def default_step_size(eps: float, n_steps: int) -> float:
    """PGD's default step length ``2.5 · eps / n_steps`` (Madry et al. 2018, §5 and App. A).

    With this step a straight walk of ``n_steps`` steps covers 2.5 diameters of the radius, so
    the iterate can reach the sphere from any random start and still move along it.  The one
    home of the rule: :func:`pgd`, :class:`~minadv.training.PGDObjective`, the robustness curve
    and the estimators all call it.
    """
    return 2.5 * eps / n_steps


def check_pgd_options(eps, n_steps, step_size, random_start, n_restarts):
    """Validate PGD's iteration options; return ``(n_steps, step_size, n_restarts)``."""
    n_steps = check_int(n_steps, "n_steps", low=1)
    n_restarts = check_int(n_restarts, "n_restarts", low=1)
    if step_size is None:
        step_size = default_step_size(eps, n_steps)
    else:
        step_size = check_scalar(step_size, "step_size", low=0.0, low_inclusive=False)
    if not isinstance(random_start, (bool, np.bool_)):
        raise TypeError(f"random_start: expected a bool, got {type(random_start).__name__}.")
    if n_restarts > 1 and not random_start:
        raise ValueError("n_restarts: restarts without random_start=True would all be "
                         "identical; set random_start=True or n_restarts=1.")
    return n_steps, step_size, n_restarts


# ----------------------------------------------------------------------------- public API
@thread_policy
def pgd(model, params: dict | None, X: np.ndarray, y: Any = None, eps: float | None = None,
        *, norm: Any = np.inf, n_steps: int = 10, step_size: float | None = None,
        random_start: bool = True, n_restarts: int = 1, clip_min: Any = None,
        clip_max: Any = None, target: Any = None, rng: Any = None,
        return_trace: bool = False, batch_size: int | None = None):
    """Projected gradient attack (Madry et al. 2018) in the L_inf, L2 or L1 ball.

    Parameters
    ----------
    model : minadv.models.Model or fitted estimator
        A model, or a fitted estimator with ``params=None`` (labels then in its ``classes_``).
    params : dict or None
    X : ndarray of shape (n, d), the model's dtype
        Clean inputs (inside the box if one is given).  Never modified.
    y : ndarray of shape (n,) or None
        True labels; ``None`` (the default) attacks the model's predictions.
    eps : float
        Radius, ``>= 0`` (``eps = 0`` returns ``X`` exactly).  Required (pass it by keyword
        when ``y`` is omitted).
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
        per step).  Needs ``batch_size=None``.
    batch_size : int or None
        Attack ``batch_size`` rows at a time (``None``: all at once).  Each random stream is
        consumed row after row across the blocks, so the result equals the unbatched call (the
        random starts bitwise; the iterates up to BLAS rounding between row counts, bitwise
        for row-independent models).  Peak memory is the output plus one block's working set.

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
        ``n_restarts > 1`` without a random start, ``return_trace`` with a ``batch_size``.

    Notes
    -----
    Each iteration costs one forward pass and one backward pass to the input (no parameter
    gradients).  The L_inf step is exactly ``alpha sign(g)`` for every nonzero gradient entry,
    subnormals included (``sign(0) = 0``: such a coordinate does not move), and the projection
    onto ball ∩ box is one ``minimum``/``maximum`` pair against bounds precomputed once per
    attack.

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
    a = check_attack_inputs(model, params, X, y, eps, clip_min=clip_min, clip_max=clip_max, target=target)
    n_steps, step_size, n_restarts = check_pgd_options(a.eps, n_steps, step_size,
                                                       random_start, n_restarts)
    batch_size = check_batch_size(batch_size)
    if return_trace and batch_size is not None:
        raise ValueError("return_trace: a trace covers one run on all rows; use "
                         f"batch_size=None with return_trace=True, got batch_size={batch_size}.")
    gen = as_generator(rng)
    streams = None if not random_start else [gen] if n_restarts == 1 else gen.spawn(n_restarts)
    config = PGDConfig(eps=a.eps, norm=norm, step_size=step_size, n_steps=n_steps,
                       clip_min=a.clip_min, clip_max=a.clip_max, targeted=a.targeted)
    if return_trace:
        return pgd_kernel(a.model, a.params, a.X, a.labels, config, streams=streams,
                          return_trace=True)

    def attack(Xb, labels, lo, hi):
        block = dataclasses.replace(config, clip_min=lo, clip_max=hi)
        return pgd_kernel(a.model, a.params, Xb, labels, block, streams=streams)[0]

    return map_row_blocks(attack, a.X, a.labels, lo=a.clip_min, hi=a.clip_max, batch_size=batch_size)
