"""Shared pieces of the attacks: boundary validation, attack labels and the loss gradient.

Every public attack validates once here (``model.check_inputs`` plus the attack arguments) and
then only calls the model's unchecked kernels (``forward``, ``backward``).

Attack loss convention: the per-sample negative log-likelihood ``ℓ_i = -log p(y_i | x_i)`` of
the model's output family.  Untargeted attacks *ascend* ``ℓ_i`` at the true (or predicted)
labels; targeted attacks *descend* ``ℓ_i`` at the target labels.  The gradient used is the
per-sample ``∇_{x_i} ℓ_i`` (not divided by ``n``), so its scale does not depend on the batch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import check_array, check_labels, check_scalar

__all__ = ["AttackInputs", "check_attack_inputs", "check_box", "attack_loss_grad", "attack_success"]


class AttackInputs(NamedTuple):
    """Validated attack arguments (see :func:`check_attack_inputs`)."""

    params: dict
    X: np.ndarray
    labels: np.ndarray          # (n,) labels whose NLL is ascended (untargeted) or descended
    targeted: bool
    eps: float
    clip_min: Any               # None or scalar/array of X's dtype
    clip_max: Any


def _check_bound(bound: Any, name: str, X: np.ndarray):
    if bound is None:
        return None
    arr = check_array(bound, name, ndim=None, finite=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN values.")
    try:
        np.broadcast_shapes(arr.shape, X.shape)
    except ValueError as exc:
        raise ValueError(
            f"{name}: shape {arr.shape} does not broadcast to X's shape {X.shape}.") from exc
    arr = arr.astype(X.dtype, copy=False)
    return X.dtype.type(arr) if arr.ndim == 0 else arr


def check_box(X: np.ndarray, clip_min: Any, clip_max: Any):
    """Validate the data box and that the clean ``X`` lies inside it; return ``(lo, hi)``.

    Raises
    ------
    ValueError
        NaN bounds, bounds that do not broadcast to ``X``, ``clip_min > clip_max`` anywhere, or
        ``X`` outside the box (the attack output could then not lie in both the ball and the box).
    """
    lo = _check_bound(clip_min, "clip_min", X)
    hi = _check_bound(clip_max, "clip_max", X)
    if lo is not None and hi is not None and np.any(lo > hi):
        raise ValueError("clip_min: must be <= clip_max everywhere, got clip_min > clip_max.")
    if (lo is not None and np.any(X < lo)) or (hi is not None and np.any(X > hi)):
        raise ValueError("X: lies outside the box [clip_min, clip_max]; clip X first.")
    return lo, hi


def check_attack_inputs(model, params: Any, X: Any, y: Any, eps: Any, clip_min: Any,
                        clip_max: Any, target: Any = None) -> AttackInputs:
    """Validate the public arguments of an attack once and choose the attack labels.

    ``y=None`` uses the model's predictions as labels (one extra forward pass).  With
    ``target`` given the attack is targeted; ``target == y`` for any sample raises, since
    descending the loss of the true label is not an attack.
    """
    params, X, y = model.check_inputs(params, X, y)
    eps = check_scalar(eps, "eps", low=0.0)
    lo, hi = check_box(X, clip_min, clip_max)
    if target is not None:
        target = check_labels(target, "target", model.n_classes, X.shape[0])
        if y is not None and np.any(target == y):
            i = int(np.argmax(target == y))
            raise ValueError(
                f"target: equals the true label y at {int(np.sum(target == y))} samples "
                f"(first at index {i}); a targeted attack needs target != y.")
        return AttackInputs(params, X, target, True, eps, lo, hi)
    if y is None:
        y = model.predict_from_logits(model.forward(params, X)[0])
    return AttackInputs(params, X, y, False, eps, lo, hi)


def attack_loss_grad(model, params: dict, X: np.ndarray, labels: np.ndarray, targeted: bool):
    """Ascent direction of the attack objective: one forward and one backward-to-input pass.

    Returns
    -------
    g : ndarray of shape (n, d)
        ``∇_{x_i} ℓ_i`` (untargeted) or ``-∇_{x_i} ℓ_i`` (targeted), per sample (not ``/n``).
    losses : ndarray of shape (n,)
        ``ℓ_i`` at ``labels``.
    logits : ndarray
        The forward pass's logits.
    """
    logits, cache = model.forward(params, X)
    losses, dlogits = model.output.nll(logits, labels)
    if targeted:
        np.negative(dlogits, out=dlogits)
    _, g = model.backward(params, cache, dlogits, param_grads=False, input_grad=True)
    return g, losses, logits


def attack_success(model, logits: np.ndarray, labels: np.ndarray, targeted: bool) -> np.ndarray:
    """``(n,)`` bool: prediction differs from ``labels`` (untargeted) or equals them (targeted)."""
    pred = model.predict_from_logits(logits)
    return pred == labels if targeted else pred != labels
