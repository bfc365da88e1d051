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

References: ``theory.md`` section 0 (items 5, 7, 8, 9), section 11 (sigsoftmax), section 12.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .numerics import log_sigmoid, log_sigsoftmax, log_softmax, sigmoid

__all__ = [
    "binary_logistic_loss",
    "softmax_cross_entropy",
    "sigsoftmax_nll",
    "kl_divergence",
    "l2_penalty",
    "OutputFamily",
    "LOGISTIC",
    "SOFTMAX",
    "SIGSOFTMAX",
    "OUTPUTS",
]


# --------------------------------------------------------------------------------------------
# Binary logistic family: logits f of shape (n,), labels t in {0, 1}, p(y=1|x) = sigma(f).
# --------------------------------------------------------------------------------------------

def binary_logistic_loss(f: np.ndarray, y: np.ndarray):
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
        ``∂ℓ/∂f = -y± sigma(-y± f) = sigma(f) - y`` (theory.md section 0, item 5).
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
    log_q = _logistic_log_proba(f)
    p = np.exp(log_p)                                     # (n, 2)
    kl = np.sum(p * (log_p - log_q), axis=-1)
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

def softmax_cross_entropy(z: np.ndarray, y: np.ndarray):
    """Per-sample cross-entropy ``-log softmax(z)_y`` and its gradient ``p - e_y``.

    Parameters
    ----------
    z : ndarray of shape (n, C)
    y : ndarray of shape (n,), integer labels

    Returns
    -------
    losses : ndarray of shape (n,)
    dlogits : ndarray of shape (n, C)
        ``softmax(z) - onehot(y)`` (theory.md section 0, item 7).
    """
    log_p = log_softmax(z)
    rows = np.arange(z.shape[0])
    dz = np.exp(log_p)
    dz[rows, y] -= 1
    return -log_p[rows, y], dz


def _fisher_product(p, rz):
    """``(diag p - p pᵀ) rz`` row by row."""
    prz = p * rz
    return prz - p * np.sum(prz, axis=-1, keepdims=True)


def _softmax_nll_hvp(z, y, rz):
    return _fisher_product(np.exp(log_softmax(z)), rz)


def _softmax_kl(log_p, z):
    log_q = log_softmax(z)
    p = np.exp(log_p)
    t = log_p - log_q
    t *= p                                                # p (log p - log q)
    q = np.exp(log_q)
    q -= p                                                # ∂KL/∂z = q - p
    return np.add.reduce(t, axis=-1), q


def _softmax_kl_hvp(z, rz):
    return _fisher_product(np.exp(log_softmax(z)), rz)


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
    """Per-sample negative log-likelihood ``-log sigsoftmax(z)_y`` and its gradient.

    Returns
    -------
    losses : ndarray of shape (n,)
    dlogits : ndarray of shape (n, C)
        ``(g_j - δ_jy)(1 + sigma(-z_j))`` (theory.md section 11; ``1 + sigma(-z) = 2 - sigma(z)``).
    """
    log_g = log_sigsoftmax(z)
    rows = np.arange(z.shape[0])
    dg = np.exp(log_g)
    dg[rows, y] -= 1
    return -log_g[rows, y], dg * (1 + sigmoid(-z))


def _sigsoftmax_nll_hvp(z, y, rz):
    # H = S (diag g - g gᵀ) S + diag((g - e_y) * ds/dz),  S = diag(1 + sigma(-z))
    g = np.exp(log_sigsoftmax(z))
    s = 1 + sigmoid(-z)
    resid = g.copy()
    resid[np.arange(z.shape[0]), y] -= 1
    return s * _fisher_product(g, s * rz) - resid * (sigmoid(z) * sigmoid(-z)) * rz


def _sigsoftmax_kl(log_p, z):
    log_q = log_sigsoftmax(z)
    kl = np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
    return kl, (np.exp(log_q) - np.exp(log_p)) * (1 + sigmoid(-z))


def _sigsoftmax_kl_hvp(z, rz):
    s = 1 + sigmoid(-z)
    return s * _fisher_product(np.exp(log_sigsoftmax(z)), s * rz)


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


LOGISTIC = OutputFamily("logistic", True, _logistic_log_proba, binary_logistic_loss,
                        _logistic_nll_hvp, _logistic_kl, _logistic_kl_hvp, _logistic_entropy)
SOFTMAX = OutputFamily("softmax", False, log_softmax, softmax_cross_entropy,
                       _softmax_nll_hvp, _softmax_kl, _softmax_kl_hvp, _softmax_entropy)
SIGSOFTMAX = OutputFamily("sigsoftmax", False, log_sigsoftmax, sigsoftmax_nll,
                          _sigsoftmax_nll_hvp, _sigsoftmax_kl, _sigsoftmax_kl_hvp,
                          _sigsoftmax_entropy)
OUTPUTS = {f.name: f for f in (LOGISTIC, SOFTMAX, SIGSOFTMAX)}


def kl_divergence(z_ref: np.ndarray, z: np.ndarray, output: str = "softmax"):
    """Per-sample ``KL(p(z_ref) ‖ p(z))`` with ``p(z_ref)`` held constant, and ``∂KL/∂z``.

    This is VAT's ``Δ_KL`` (Miyato et al. 2016, eq. (3)) on logits; for the softmax family the
    gradient is ``softmax(z) - softmax(z_ref)``.
    """
    family = OUTPUTS[output]
    return family.kl(family.log_proba(z_ref), z)


def l2_penalty(params: dict, weight_names, l2: float):
    """``(λ/2) Σ ‖W‖²`` over ``weight_names`` and its gradient (zeros for the biases)."""
    value = 0.5 * l2 * sum(float(np.sum(params[k] * params[k])) for k in weight_names)
    grads = {k: (l2 * v if k in weight_names else np.zeros_like(v)) for k, v in params.items()}
    return value, grads
