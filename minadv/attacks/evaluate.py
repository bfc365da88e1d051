"""Robustness evaluation: accuracy under attack along an eps grid, in bounded memory.

Monotone by construction ("cumulative worst case").  An attack with random starts is not
automatically monotone in eps (a run at a larger eps may miss an adversarial example a run at
a smaller eps found).  But any perturbation found at ``eps_j`` is also admissible at every
``eps_k >= eps_j`` (same box, nested balls), so the tightest valid estimate of the robust
accuracy at ``eps_k`` counts a sample as robust only if it is classified correctly on the
clean input **and** under every attack run at ``eps_j <= eps_k`` of the grid.  This is still an
upper bound on the true robust accuracy, never looser than the run at ``eps_k`` alone
(reported as ``pointwise_accuracy``), and it equals the clean accuracy at ``eps = 0`` (no attack
is run there).

Memory: the data are attacked ``batch_size`` rows at a time; only ``(n, n_eps)`` flags and norms
are kept.  Random starts use one child stream per (eps, restart) that persists across batches,
so the result does not depend on ``batch_size`` (up to BLAS rounding).

References
----------
Madry et al. ICLR 2018, Table 1 / Fig. (accuracy vs eps); Shaham et al. 2015 (accuracy of the
fast method vs eps); ``docs/theory.md`` §4.3, §8.4.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_generator, check_eps_grid, check_int, check_norm
from ..threads import thread_policy
from .box import box_rows, check_box
from .common import encode_labels, resolve_model
from .fast_gradient import fast_gradient, fast_gradient_kernel, fgsm
from .norms import lp_norms_kernel
from .pgd import PGDConfig, check_pgd_options, pgd, pgd_kernel

__all__ = ["RobustnessCurve", "robustness_curve"]


@dataclass
class RobustnessCurve:
    """Accuracy under attack along an eps grid (see :func:`robustness_curve`).

    Attributes
    ----------
    eps : ndarray of shape (k,)
        The grid (non-decreasing).
    accuracy : ndarray of shape (k,)
        Cumulative worst-case robust accuracy (module docstring); non-increasing, equal to
        ``clean_accuracy`` at ``eps = 0``.
    pointwise_accuracy : ndarray of shape (k,)
        Accuracy on the attack's output at each eps alone.
    success_rate : ndarray of shape (k,)
        Fraction of the clean-correct samples that some attack at ``eps_j <= eps_k`` fooled.
    mean_norm, max_norm : ndarray of shape (k,)
        Mean and max of ``||x_adv - x||_p`` over all samples of the run at each eps.
    clean_accuracy : float
    norm : float or int
        The attack norm (``np.inf``, 2 or 1) in which the norms are measured.
    n_samples : int
    """

    eps: np.ndarray
    accuracy: np.ndarray
    pointwise_accuracy: np.ndarray
    success_rate: np.ndarray
    mean_norm: np.ndarray
    max_norm: np.ndarray
    clean_accuracy: float
    norm: float
    n_samples: int


def _attack_name(attack: Any) -> str:
    return attack if isinstance(attack, str) else getattr(attack, "__name__", repr(attack))


# the library's own attack functions, passed as attack=: their built-in names
_LIBRARY_ATTACKS = {fgsm: "fgsm", fast_gradient: "fgm", pgd: "pgd"}


def _check_callable(attack: Callable) -> Callable:
    """A user attack must accept ``(X_batch, y_batch, eps)`` positionally."""
    try:
        signature = inspect.signature(attack)
    except (TypeError, ValueError):                              # no signature (builtins)
        return attack
    if list(signature.parameters)[:2] == ["model", "params"]:
        raise TypeError(f"attack: {_attack_name(attack)} takes (model, params, X, ...); pass "
                        "attack='fgsm', 'fgm' or 'pgd' (options by keyword), or a callable "
                        "(X_batch, y_batch, eps) -> X_adv such as a functools.partial.")
    try:
        signature.bind(None, None, None)
    except TypeError as exc:
        raise TypeError(f"attack: a callable attack must accept (X_batch, y_batch, eps), got "
                        f"{_attack_name(attack)}{signature} ({exc}).") from None
    return attack


def _builtin_attack(attack: str, norm, options: dict, grid, gen) -> Callable:
    """``run(model, params, X, y, k, lo, hi)`` for "fgsm", "fgm" or "pgd" at grid point k."""
    if attack in ("fgsm", "fgm", "fast_gradient"):
        if options:
            raise TypeError(f"{attack}: unexpected options {sorted(options)}.")
        return lambda model, params, X, y, k, lo, hi: fast_gradient_kernel(
            model, params, X, y, eps=grid[k], norm=norm, clip_min=lo, clip_max=hi)
    allowed = {"n_steps", "step_size", "random_start", "n_restarts"}
    if set(options) - allowed:
        raise TypeError(f"pgd: unexpected options {sorted(set(options) - allowed)}.")
    opts = {"n_steps": 10, "step_size": None, "random_start": True, "n_restarts": 1, **options}
    checked = [check_pgd_options(e, opts["n_steps"], opts["step_size"], opts["random_start"],
                                 opts["n_restarts"]) for e in grid]
    streams = [gen.spawn(c[2]) if opts["random_start"] else None for c in checked]
    return lambda model, params, X, y, k, lo, hi: pgd_kernel(
        model, params, X, y, PGDConfig(eps=grid[k], norm=norm, step_size=checked[k][1],
                                       n_steps=checked[k][0], clip_min=lo, clip_max=hi),
        streams=streams[k])[0]


def _make_attack(attack, norm, options, grid, gen) -> Callable:
    """Return ``run(model, params, X, y, k, lo, hi) -> X_adv`` for grid point ``k``."""
    grid = [float(e) for e in grid]         # Python floats: never upcast float32 buffers
    attack = next((name for fn, name in _LIBRARY_ATTACKS.items() if attack is fn), attack)
    if callable(attack):
        attack = _check_callable(attack)
        return lambda model, params, X, y, k, lo, hi: attack(X, y, grid[k])
    if not isinstance(attack, str) or attack not in ("fgsm", "fgm", "fast_gradient", "pgd"):
        raise ValueError(
            f"attack: expected 'fgsm', 'fgm', 'pgd' or a callable, got {attack!r}.")
    if attack == "fgsm" and norm != np.inf:
        raise ValueError(f"norm: attack='fgsm' is the L_inf attack but norm={norm}; use "
                         "attack='fgm' for the fast gradient method in that norm.")
    return _builtin_attack(attack, norm, options, grid, gen)


def _check_adversarial(X_adv: Any, Xb: np.ndarray, attack: Any, eps: float) -> np.ndarray:
    """The output of a user attack: an array of the batch's shape, finite, in X's dtype."""
    name = _attack_name(attack)
    if not isinstance(X_adv, np.ndarray) or X_adv.shape != Xb.shape:
        raise ValueError(f"attack: {name} must return an array of shape {Xb.shape}, got "
                         f"{getattr(X_adv, 'shape', type(X_adv).__name__)}.")
    finite = np.isfinite(X_adv).all(axis=1)                      # (n,)
    if not finite.all():
        raise ValueError(f"attack: {name} returned non-finite values (NaN or inf) in "
                         f"{int(np.sum(~finite))} rows at eps={eps}; its accuracy cannot be "
                         "evaluated.")
    return X_adv.astype(Xb.dtype, copy=False)


@thread_policy
def robustness_curve(model, params: dict | None, X: np.ndarray, y: Any, eps_grid: Any, *,
                     attack: Any = "pgd", norm: Any = np.inf, batch_size: int = 1000,
                     clip_min: Any = None, clip_max: Any = None, rng: Any = None,
                     **attack_options) -> RobustnessCurve:
    """Accuracy of ``model`` under an untargeted attack at every radius of ``eps_grid``.

    Parameters
    ----------
    model, params
        The model and its parameters, or a fitted estimator and ``params=None`` (labels in its
        ``classes_``).
    X : ndarray of shape (n, d), the model's dtype
    y : ndarray of shape (n,)
        True labels (required, unlike the attacks' ``y=None``: an accuracy needs them; the
        attacks themselves default to the model's predictions).
    eps_grid : sequence of float
        Non-decreasing radii ``>= 0`` (include 0 to see the clean accuracy).
    attack : {"pgd", "fgsm", "fgm"} or callable
        ``"fgm"`` is :func:`~minadv.attacks.fast_gradient` in ``norm``; ``"fgsm"`` is the
        L_inf attack and needs ``norm=np.inf`` (any other norm raises rather than run L_inf
        while reporting sizes in another norm).  A callable
        ``attack(X_batch, y_batch, eps) -> X_adv`` is used as is; its output must be finite
        and of the batch's shape.  The library's own :func:`~minadv.attacks.fgsm`,
        :func:`~minadv.attacks.fast_gradient` and :func:`~minadv.attacks.pgd` are understood
        as ``"fgsm"``, ``"fgm"`` and ``"pgd"``; another ``(model, params, X, ...)`` function
        raises a ``TypeError`` that says so.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
        Attack norm (also the norm of the reported perturbation sizes).
    batch_size : int
        Rows attacked at once; peak memory is that of one batch's attack.
    clip_min, clip_max : None, float or array broadcastable to (n, d)
    rng : None, int or numpy.random.Generator
        Random starts (one child stream per grid point and restart).
    **attack_options
        For ``"pgd"``: ``n_steps``, ``step_size`` (``None``: ``2.5 eps / n_steps`` at each eps),
        ``random_start``, ``n_restarts``.

    Returns
    -------
    RobustnessCurve

    Raises
    ------
    ValueError, TypeError
        Invalid model inputs or labels, a bad grid (e.g. a string), ``batch_size < 1``, unknown
        attack or options, a callable attack without the ``(X, y, eps)`` signature or whose
        output is non-finite or of the wrong shape (the message names the attack), ``"fgsm"``
        with a norm other than L_inf, invalid box.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(2)
    >>> params = {"w": np.array([1.0, 0.0]), "b": np.array(0.0)}
    >>> X = np.array([[0.5, 0.0], [2.0, 0.0]]); y = np.array([1, 1])
    >>> robustness_curve(model, params, X, y, [0.0, 1.0, 3.0], attack="fgsm").accuracy
    array([1. , 0.5, 0. ])
    """
    model, params, classes = resolve_model(model, params)
    params, X, y = model.check_inputs(params, X, encode_labels(classes, y))
    if y is None:
        raise ValueError("y: robustness evaluation needs the true labels, got None.")
    grid = check_eps_grid(eps_grid)
    norm = check_norm(norm)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lo, hi = check_box(X, clip_min, clip_max)
    run = _make_attack(attack, norm, attack_options, grid, as_generator(rng))
    n, k = X.shape[0], grid.size
    correct = np.empty((n, k + 1), dtype=bool)                   # column 0: clean
    norms = np.zeros((n, k), dtype=np.float64)
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        Xb, blo, bhi = X[rows], box_rows(lo, rows), box_rows(hi, rows)
        yb = y[rows]
        correct[rows, 0] = model.predict_from_logits(model.forward(params, Xb)[0]) == yb
        for j in range(k):
            if grid[j] == 0:
                correct[rows, j + 1] = correct[rows, 0]
                continue
            X_adv = run(model, params, Xb, yb, j, blo, bhi)
            if callable(attack):
                X_adv = _check_adversarial(X_adv, Xb, attack, float(grid[j]))
            correct[rows, j + 1] = model.predict_from_logits(model.forward(params, X_adv)[0]) == yb
            norms[rows, j] = lp_norms_kernel(X_adv - Xb, norm)
    return _summarise(grid, correct, norms, norm)


def _summarise(grid, correct, norms, norm) -> RobustnessCurve:
    robust = np.logical_and.accumulate(correct, axis=1)[:, 1:]   # (n, k) cumulative
    clean = correct[:, 0]
    n_clean = int(clean.sum())
    fooled = clean[:, None] & ~robust
    success = fooled.sum(axis=0) / n_clean if n_clean else np.zeros(grid.size)
    return RobustnessCurve(
        eps=grid, accuracy=robust.mean(axis=0), pointwise_accuracy=correct[:, 1:].mean(axis=0),
        success_rate=np.asarray(success, dtype=np.float64), mean_norm=norms.mean(axis=0),
        max_norm=norms.max(axis=0), clean_accuracy=float(clean.mean()), norm=norm,
        n_samples=correct.shape[0])
