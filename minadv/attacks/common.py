"""Shared pieces of the attacks: the model resolver, boundary validation, attack labels, the
loss gradient and row-block batching.

Every public attack validates once here (``model.check_inputs`` plus the attack arguments) and
then only calls the model's unchecked kernels (``forward``, ``backward``).

Attack loss convention: the per-sample negative log-likelihood ``ℓ_i = -log p(y_i | x_i)`` of
the model's output family.  Untargeted attacks *ascend* ``ℓ_i`` at the true (or predicted)
labels; targeted attacks *descend* ``ℓ_i`` at the target labels.  The gradient used is the
per-sample ``∇_{x_i} ℓ_i`` (not divided by ``n``), so its scale does not depend on the batch.

Labels: ``y=None`` attacks the model's own predictions ``argmax_k p(k | x_i)`` (the ART,
CleverHans and Foolbox default), computed block by block with the attack itself.

Models: wherever an attack takes ``(model, params)`` it also takes a fitted estimator
(:class:`minadv.estimators.LogisticRegression`, :class:`~minadv.estimators.MLPClassifier`, or
any object with ``model_`` and ``params_`` attributes) with ``params=None``
(:func:`resolve_model`).  Labels are then given in the estimator's own classes (its
``classes_``) and encoded to the indices its model speaks.

Batching (:func:`map_row_blocks`): every attack treats rows independently, so attacking
``X[a:b]`` gives rows ``a:b`` of attacking ``X`` — bitwise whenever the model's forward and
backward passes are row-independent bitwise (BLAS products of different row counts may differ
in the last bits: ~1e-15 relative in float64).  Random streams are consumed row after row, so
the rng contract holds across blocks (see :mod:`minadv.attacks.pgd`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_int, check_labels, check_scalar
from .box import box_rows, check_box

__all__ = ["AttackInputs", "ResolvedModel", "resolve_model", "encode_labels",
           "check_attack_inputs", "check_batch_size", "attack_labels", "attack_loss_grad",
           "attack_success", "map_row_blocks"]


class ResolvedModel(NamedTuple):
    """A model, its parameters and (for an estimator) its ``classes_`` (``None`` otherwise)."""

    model: Any
    params: Any
    classes: np.ndarray | None


def resolve_model(model: Any, params: Any = None) -> ResolvedModel:
    """Accept ``(model, params)`` or a fitted estimator with ``params=None``.

    An estimator is duck-typed: any object with ``model_`` and ``params_`` attributes (and
    optionally ``classes_``, the labels its model's class indices stand for).

    Raises
    ------
    TypeError
        ``params=None`` with a model that is not a fitted estimator, or params passed together
        with an estimator.
    ValueError
        An estimator that has not been fitted (no ``model_``/``params_`` yet).
    """
    if hasattr(model, "model_") and hasattr(model, "params_"):
        if params is not None:
            raise TypeError(f"params: a fitted estimator ({type(model).__name__}) carries its "
                            "own parameters; pass params=None.")
        classes = getattr(model, "classes_", None)
        return ResolvedModel(model.model_, model.params_,
                             None if classes is None else np.asarray(classes))
    if params is None:
        if hasattr(model, "fit") and not hasattr(model, "forward"):
            raise ValueError(f"model: the {type(model).__name__} estimator is not fitted yet "
                             "(no model_/params_); call fit first.")
        raise TypeError(f"params: expected the parameter dict of {type(model).__name__}, got "
                        "None (params=None is only for a fitted estimator).")
    return ResolvedModel(model, params, None)


def encode_labels(classes: np.ndarray | None, y: Any, name: str = "y"):
    """Map labels given in an estimator's ``classes_`` to its model's indices ``0..C-1``."""
    if classes is None or y is None:
        return y
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {y.shape}.")
    idx = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    unknown = classes[idx] != y
    if np.any(unknown):
        raise ValueError(f"{name}: expected labels from the estimator's classes_ "
                         f"{classes.tolist()}, got {y[unknown][:5].tolist()}.")
    return idx.astype(np.int64)


class AttackInputs(NamedTuple):
    """Validated attack arguments (see :func:`check_attack_inputs`)."""

    model: Any
    params: dict
    X: np.ndarray
    labels: np.ndarray | None   # (n,) labels ascended (untargeted) or descended; None: predicted
    targeted: bool
    eps: float
    clip_min: Any               # None or scalar/array of X's dtype
    clip_max: Any


def check_attack_inputs(model, params: Any, X: Any, y: Any, eps: Any, *, clip_min: Any,
                        clip_max: Any, target: Any = None) -> AttackInputs:
    """Validate the public arguments of an attack once and choose the attack labels.

    ``y=None`` leaves ``labels=None`` (the kernels attack the model's predictions).  With
    ``target`` given the attack is targeted; ``target == y`` for any sample raises, since
    descending the loss of the true label is not an attack.
    """
    model, params, classes = resolve_model(model, params)
    y, target = encode_labels(classes, y, "y"), encode_labels(classes, target, "target")
    params, X, y = model.check_inputs(params, X, y)
    eps = check_scalar(eps, "eps", low=0.0)
    lo, hi = check_box(X, clip_min, clip_max)
    if target is None:
        return AttackInputs(model, params, X, y, False, eps, lo, hi)
    target = check_labels(target, "target", model.n_classes, X.shape[0])
    if y is not None and np.any(target == y):
        i = int(np.argmax(target == y))
        raise ValueError(
            f"target: equals the true label y at {int(np.sum(target == y))} samples "
            f"(first at index {i}); a targeted attack needs target != y.")
    return AttackInputs(model, params, X, target, True, eps, lo, hi)


def check_batch_size(batch_size: Any) -> int | None:
    """``None`` (one block) or an int ``>= 1``."""
    return None if batch_size is None else check_int(batch_size, "batch_size", low=1)


def attack_labels(model, params: dict, X: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """``labels``, or the model's predictions on ``X`` when ``labels`` is None."""
    if labels is not None:
        return labels
    return model.predict_from_logits(model.forward(params, X)[0])


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


def map_row_blocks(attack: Callable, X: np.ndarray, labels: np.ndarray | None, *, lo: Any,
                   hi: Any, batch_size: int | None) -> np.ndarray:
    """``attack(X_b, labels_b, lo_b, hi_b)`` on blocks of ``batch_size`` rows, into one output.

    ``batch_size=None`` (or ``>= n``) is one call on all of ``X``.  Peak memory is the output
    plus one block's working set.
    """
    n = X.shape[0]
    if batch_size is None or batch_size >= n:
        return attack(X, labels, lo, hi)
    out = np.empty_like(X)                                       # (n, d)
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        out[rows] = attack(X[rows], None if labels is None else labels[rows],
                           box_rows(lo, rows), box_rows(hi, rows))
    return out
