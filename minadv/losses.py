"""Losses on logits, with their logit gradients and logit-space Hessian-vector products.

Objective convention (the one used everywhere in minadv)
--------------------------------------------------------
A training objective is the **mean** over samples of a per-sample loss, plus an optional
``½·λ·Σ‖W‖²`` over the weight matrices (biases unpenalized)::

    L(θ) = (1/n) Σ_i ℓ(z_i(θ), y_i) + (λ/2) Σ_layers ‖W_l‖_F²

The functions below work per sample: they return ``(sample_losses, dlogits)`` where row ``i``
of ``dlogits`` is ``∂ℓ(z_i, y_i)/∂z_i`` (not divided by ``n``).  Models divide by ``n``.

Output families
---------------
A model's output layer is one of three *families*, each a bundle of per-sample functions on the
logits ``z`` (shape ``(n,)`` for the binary logistic family, ``(n, C)`` otherwise):

* ``log_proba(z)`` – log class probabilities, shape ``(n, C)``;
* ``nll(z, y)`` and ``nll_hvp(z, y, rz)`` – negative log-likelihood, its gradient and the
  product of its logit Hessian with ``rz`` (needed by Pearlmutter's R-operator);
* ``kl(log_p_ref, z)`` – ``KL(p_ref ‖ p(z))`` with the reference distribution held constant
  (VAT's clean prediction), and its gradient in ``z``.  The reference is passed as
  log-probabilities, ``log_p_ref = log_proba(z_ref)``, so a caller comparing several logits
  with one reference (a VAT step) computes it once;
* ``kl_hvp(z, rz)`` – the Hessian of that KL at ``z = z_ref`` (the Fisher matrix of the output
  distribution) times ``rz``;
* ``entropy(z)`` – ``H(p(z))`` and its gradient (VAT+EntMin).

References: ``docs/theory.md`` §0 (items 5, 7, 8, 9), §11 (sigsoftmax), §12.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_labels
from .numerics import log_sigmoid, log_sigsoftmax, log_softmax, sigmoid
from .params import Params

__all__ = [
    "binary_logistic_loss",
    "binary_logistic_loss_kernel",
    "softmax_cross_entropy",
    "softmax_cross_entropy_kernel",
    "sigsoftmax_nll",
    "sigsoftmax_nll_kernel",
    "kl_divergence",
    "l2_penalty",
    "add_l2_penalty",
    "add_l2_hvp",
    "minus_onehot",
    "fisher_product_rows",
    "OutputFamily",
    "LOGISTIC",
    "SOFTMAX",
    "SIGSOFTMAX",
    "OUTPUTS",
]


# --------------------------------------------------------------------------------------------
# Binary logistic family: logits f of shape (n,), labels t in {0, 1}, p(y=1|x) = sigma(f).
# --------------------------------------------------------------------------------------------

def _check_logits_labels(z, y, binary: bool):
    """Validate float logits (``(n,)`` binary, ``(n, C)`` otherwise) and labels in range."""
    z = check_array(z, "z", ndim=1 if binary else 2)
    return z, check_labels(y, "y", 2 if binary else z.shape[1], z.shape[0])


def binary_logistic_loss(f: np.ndarray, y: np.ndarray):
    """:func:`binary_logistic_loss_kernel` after checking ``f`` (finite, 1-D) and ``y`` (0/1).

    Raises
    ------
    ValueError
        Labels outside ``{0, 1}`` (e.g. ``-1/+1`` labels) or a length mismatch.
    """
    return binary_logistic_loss_kernel(*_check_logits_labels(f, y, True))


def binary_logistic_loss_kernel(f: np.ndarray, y: np.ndarray):
    """Per-sample logistic loss ``softplus(-y± f)`` and its derivative in ``f``.

    Parameters
    ----------
    f : ndarray of shape (n,)
        Scores ``wᵀx + b``.
    y : ndarray of shape (n,)
        Labels in ``{0, 1}``; ``y± = 2y - 1``.

    Returns
    -------
    losses : ndarray of shape (n,)
        ``ℓ = softplus(-y± f) = -log sigma(y± f)``.
    dlogits : ndarray of shape (n,)
        ``∂ℓ/∂f = -y± sigma(-y± f) = sigma(f) - y`` (``docs/theory.md`` §0, item 5).
    """
    sign = (2 * y - 1).astype(f.dtype)
    margin = sign * f
    return -log_sigmoid(margin), -sign * sigmoid(-margin)


def _logistic_log_proba(f):
    return np.stack([log_sigmoid(-f), log_sigmoid(f)], axis=-1)


def _logistic_curvature(f):
    # sigma'(f) = sigma(f) sigma(-f): never 1 - sigma(f) (cancellation for large f)
    return sigmoid(f) * sigmoid(-f)


def _logistic_nll_hvp(f, y, rf):
    return _logistic_curvature(f) * rf


def _logistic_kl(log_p, f):
    p = np.exp(log_p)                                     # (n, 2), finite log_p (see _softmax_kl)
    kl = (p * (log_p - _logistic_log_proba(f))).sum(axis=-1)
    return kl, sigmoid(f) - p[:, 1]                       # ∂KL/∂f = q_1 - p_1


def _logistic_kl_hvp(f, rf):
    return _logistic_curvature(f) * rf


def _logistic_entropy(f):
    log_p = _logistic_log_proba(f)
    ent = -np.sum(np.exp(log_p) * log_p, axis=-1)
    # dH/df = -sigma'(f) * f  (since log(p1/p0) = f)
    return ent, -_logistic_curvature(f) * f


# --------------------------------------------------------------------------------------------
# Softmax family: logits z (n, C), labels in {0..C-1}.
# --------------------------------------------------------------------------------------------

def minus_onehot(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``p - onehot(y)`` row by row, with the label entry computed as ``-Σ_{k≠y} p_k``.

    Textbook: ``p_y - 1``.  When ``p_y`` rounds to 1 (a confident, correct row) that is 0
    instead of ``-Σ_{k≠y} p_k ≈ -1e-17``; summing the other entries keeps every digit.
    """
    rows = np.arange(p.shape[0])
    out = p.copy()
    out[rows, y] = 0
    out[rows, y] = -out.sum(axis=-1)
    return out


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray):
    """:func:`softmax_cross_entropy_kernel` after checking ``z`` (finite, ``(n, C)``) and ``y``.

    Raises
    ------
    ValueError
        Labels outside ``{0, …, C-1}`` (a negative label would silently index from the end).
    """
    return softmax_cross_entropy_kernel(*_check_logits_labels(z, y, False))


def softmax_cross_entropy_kernel(z: np.ndarray, y: np.ndarray):
    """Per-sample cross-entropy ``-log softmax(z)_y`` and its gradient ``p - e_y``.

    Parameters
    ----------
    z : ndarray of shape (n, C)
    y : ndarray of shape (n,), integer labels

    Returns
    -------
    losses : ndarray of shape (n,)
    dlogits : ndarray of shape (n, C)
        ``softmax(z) - onehot(y)`` (``docs/theory.md`` §0, item 7), the label entry as
        ``-Σ_{k≠y} p_k`` (:func:`minus_onehot`).
    """
    log_p = log_softmax(z)
    return -log_p[np.arange(z.shape[0]), y], minus_onehot(np.exp(log_p), y)


def fisher_product_rows(p: np.ndarray, rz: np.ndarray) -> np.ndarray:
    """``(diag p - p pᵀ) rz`` row by row (the softmax Jacobian/Fisher product).

    Textbook: ``p ⊙ rz - p (pᵀ rz)``.  When ``p_m → 1`` both terms of entry ``m`` are ≈
    ``rz_m`` and their difference loses every digit.  Since ``(diag p - p pᵀ) 1 = 0``, the
    code first subtracts ``rz_m`` (``m`` = the most probable class, the pivot): with ``d = rz -
    rz_m``, ``pᵀ d = Σ_{k≠m} p_k d_k`` is small and nothing nearly equal is subtracted.
    """
    m = p.argmax(axis=-1)[:, None]
    d = rz - np.take_along_axis(rz, m, axis=-1)           # d_m = 0
    return p * (d - (p * d).sum(axis=-1, keepdims=True))


def _softmax_nll_hvp(z, y, rz):
    return fisher_product_rows(np.exp(log_softmax(z)), rz)


def _softmax_kl(log_p, z):
    log_q = log_softmax(z)
    p = np.exp(log_p)          # log_p = log_proba(finite logits) is finite: no 0 · log 0 here
    return (p * (log_p - log_q)).sum(axis=-1), np.exp(log_q) - p   # KL, ∂KL/∂z = q - p


def _softmax_kl_hvp(z, rz):
    return fisher_product_rows(np.exp(log_softmax(z)), rz)


def _softmax_entropy(z):
    log_p = log_softmax(z)
    p = np.exp(log_p)
    ent = -np.sum(p * log_p, axis=-1)
    # dH/dz_k = -p_k (log p_k + H)
    return ent, -p * (log_p + ent[:, None])


# --------------------------------------------------------------------------------------------
# Sigsoftmax family (Kanai et al. 2018): g = softmax(a), a = z + log sigma(z).
# da/dz = 1 + sigma(-z) =: s (elementwise), d s/dz = -sigma(z) sigma(-z).
# --------------------------------------------------------------------------------------------

def sigsoftmax_nll(z: np.ndarray, y: np.ndarray):
    """:func:`sigsoftmax_nll_kernel` after checking ``z`` (finite, ``(n, C)``) and ``y``."""
    return sigsoftmax_nll_kernel(*_check_logits_labels(z, y, False))


def sigsoftmax_nll_kernel(z: np.ndarray, y: np.ndarray):
    """Per-sample negative log-likelihood ``-log sigsoftmax(z)_y`` and its gradient.

    Returns
    -------
    losses : ndarray of shape (n,)
    dlogits : ndarray of shape (n, C)
        ``(g_j - δ_jy)(1 + sigma(-z_j))`` (``docs/theory.md`` §11; ``1 + sigma(-z) = 2 - sigma(z)``).
    """
    log_g = log_sigsoftmax(z)
    dg = minus_onehot(np.exp(log_g), y)                   # g - e_y, label entry -Σ_{k≠y} g_k
    return -log_g[np.arange(z.shape[0]), y], dg * (1 + sigmoid(-z))


def _sigsoftmax_nll_hvp(z, y, rz):
    # H = S (diag g - g gᵀ) S + diag((g - e_y) * ds/dz),  S = diag(1 + sigma(-z))
    g = np.exp(log_sigsoftmax(z))
    s = 1 + sigmoid(-z)
    resid = minus_onehot(g, y)                            # g - e_y without cancellation
    return s * fisher_product_rows(g, s * rz) - resid * (sigmoid(z) * sigmoid(-z)) * rz


def _sigsoftmax_kl(log_p, z):
    log_q = log_sigsoftmax(z)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(axis=-1)   # finite log_p (see _softmax_kl)
    return kl, (np.exp(log_q) - np.exp(log_p)) * (1 + sigmoid(-z))


def _sigsoftmax_kl_hvp(z, rz):
    s = 1 + sigmoid(-z)
    return s * fisher_product_rows(np.exp(log_sigsoftmax(z)), s * rz)


def _sigsoftmax_entropy(z):
    log_g = log_sigsoftmax(z)
    g = np.exp(log_g)
    ent = -np.sum(g * log_g, axis=-1)
    return ent, -g * (log_g + ent[:, None]) * (1 + sigmoid(-z))


# --------------------------------------------------------------------------------------------

class OutputFamily(NamedTuple):
    """Per-sample functions of one output layer (see the module docstring)."""

    name: str
    binary: bool
    log_proba: Callable
    nll: Callable
    nll_hvp: Callable
    kl: Callable
    kl_hvp: Callable
    entropy: Callable


LOGISTIC = OutputFamily(name="logistic", binary=True, log_proba=_logistic_log_proba,
                        nll=binary_logistic_loss_kernel, nll_hvp=_logistic_nll_hvp,
                        kl=_logistic_kl, kl_hvp=_logistic_kl_hvp, entropy=_logistic_entropy)
SOFTMAX = OutputFamily(name="softmax", binary=False, log_proba=log_softmax,
                       nll=softmax_cross_entropy_kernel, nll_hvp=_softmax_nll_hvp,
                       kl=_softmax_kl, kl_hvp=_softmax_kl_hvp, entropy=_softmax_entropy)
SIGSOFTMAX = OutputFamily(name="sigsoftmax", binary=False, log_proba=log_sigsoftmax,
                          nll=sigsoftmax_nll_kernel, nll_hvp=_sigsoftmax_nll_hvp,
                          kl=_sigsoftmax_kl, kl_hvp=_sigsoftmax_kl_hvp,
                          entropy=_sigsoftmax_entropy)
OUTPUTS = {f.name: f for f in (LOGISTIC, SOFTMAX, SIGSOFTMAX)}


def kl_divergence(z_ref: np.ndarray, z: np.ndarray, output: str = "softmax"):
    """Per-sample ``KL(p(z_ref) ‖ p(z))`` with ``p(z_ref)`` held constant, and ``∂KL/∂z``.

    This is VAT's ``Δ_KL`` (Miyato et al. 2016, eq. (3)) on logits; for the softmax family the
    gradient is ``softmax(z) - softmax(z_ref)``.
    """
    if output not in OUTPUTS:
        raise ValueError(f"output: expected one of {sorted(OUTPUTS)}, got {output!r}.")
    family = OUTPUTS[output]
    z = check_array(z, "z", ndim=1 if family.binary else 2)
    z_ref = check_array(z_ref, "z_ref", dtype=z.dtype, shape=z.shape, ndim=z.ndim)
    return family.kl(family.log_proba(z_ref), z)


def l2_penalty(params: Params, weight_names, l2: float):
    """``(λ/2) Σ ‖W‖²`` over ``weight_names`` and its gradient (zeros for the biases)."""
    value = 0.5 * l2 * sum(float(np.vdot(params[k], params[k])) for k in weight_names)
    grads = {k: (l2 * v if k in weight_names else np.zeros_like(v)) for k, v in params.items()}
    return value, grads


def add_l2_penalty(loss: float, grads: Params, params: Params, weight_names, l2: float):
    """``(loss + (λ/2) Σ‖W‖², grads + λ W)`` on the weights only (biases unpenalized).

    The one place the objective convention's penalty is added (module docstring)."""
    if not l2:
        return loss, grads
    value, pen = l2_penalty(params, weight_names, l2)
    return loss + value, {k: grads[k] + pen[k] if k in weight_names else grads[k]
                          for k in grads}


def add_l2_hvp(hv: Params, vector: Params, weight_names, l2: float) -> Params:
    """``H v + λ v`` on the weights: the penalty's Hessian is ``λ I`` on ``weight_names``."""
    if not l2:
        return hv
    return {k: hv[k] + l2 * vector[k] if k in weight_names else hv[k] for k in hv}
