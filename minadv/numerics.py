"""Numerically stable elementary functions.

Every function here takes and returns arrays of the caller's floating dtype (float32 stays
float32), raises no overflow/underflow warnings, and is exact to rounding at ``|logit| = 1e4``.
The identities used are listed in ``theory.md`` section 0:

* ``softplus(t) = log(1 + e^t) = max(t, 0) + log1p(e^{-|t|})``
* ``log sigmoid(t) = -softplus(-t)``
* ``logsumexp(z) = M + log sum_k exp(z_k - M)``, ``M = max_k z_k``
* ``log sigsoftmax(z) = a - logsumexp(a)`` with ``a = z + log sigmoid(z)`` (Kanai et al. 2018).
  Sigsoftmax is **not** shift-invariant in ``z``: the shift is applied to ``a``, never to ``z``.

Examples
--------
>>> import numpy as np
>>> from minadv.numerics import softplus, log_softmax
>>> float(softplus(np.array(1e4)))
10000.0
>>> np.round(np.exp(log_softmax(np.array([[0.0, 0.0]]))), 3)
array([[0.5, 0.5]])
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "logsumexp",
    "log_softmax",
    "softmax",
    "log_sigsoftmax",
    "sigsoftmax",
    "categorical_kl",
    "entropy",
]


def sigmoid(t: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + e^{-t})`` without overflow (``scipy.special.expit``)."""
    return special.expit(t)


def softplus(t: np.ndarray) -> np.ndarray:
    """``log(1 + e^t)``, computed as ``logaddexp(0, t)`` (never overflows)."""
    t = np.asarray(t)
    return np.logaddexp(t.dtype.type(0) if t.dtype.kind == "f" else 0.0, t)


def log_sigmoid(t: np.ndarray) -> np.ndarray:
    """``log sigmoid(t) = -softplus(-t)``; exact for large negative ``t`` (equals ``t``)."""
    return -softplus(-np.asarray(t))


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log sum_k exp(z_k)`` along ``axis`` with the max-shift trick."""
    z = np.asarray(z)
    shift = np.maximum.reduce(z, axis=axis, keepdims=True)   # = z.max(...), less dispatch
    if z.dtype.kind != "f":                               # integer input: float64 result
        out = np.log(np.sum(np.exp(z - shift), axis=axis, keepdims=True)) + shift
    else:                                                 # same values, in place
        t = z - shift
        np.exp(t, out=t)
        out = np.add.reduce(t, axis=axis, keepdims=True)
        np.log(out, out=out)
        out += shift
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``z - logsumexp(z)``: log-probabilities of a softmax, finite for any finite logits."""
    if type(z) is not np.ndarray or z.dtype.kind != "f":
        z = np.asarray(z)
        return z - logsumexp(z, axis=axis, keepdims=True)
    # logsumexp(z, keepdims=True) inlined (same operations, same values); the exp buffer is
    # reused for the result, so a call costs one temporary instead of two.
    if z.ndim == 2 and z.shape[1] == 2 and axis in (-1, 1):
        # two classes: the same max and sum as the reductions (a reduction over two entries
        # is one max / one add; every exp is >= 0, so no signed-zero corner), at a fraction of
        # a reduction's dispatch cost on small arrays
        shift = np.maximum(z[:, :1], z[:, 1:])
        t = z - shift
        np.exp(t, out=t)
        lse = t[:, :1] + t[:, 1:]
    else:
        shift = np.maximum.reduce(z, axis=axis, keepdims=True)
        t = z - shift
        np.exp(t, out=t)
        lse = np.add.reduce(t, axis=axis, keepdims=True)
    np.log(lse, out=lse)
    lse += shift
    return np.subtract(z, lse, out=t)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax probabilities ``exp(z_k - M) / sum_j exp(z_j - M)``."""
    z = np.asarray(z)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_sigsoftmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log of sigsoftmax ``g_i = exp(z_i) sigma(z_i) / sum_j exp(z_j) sigma(z_j)``.

    Notes
    -----
    With ``a = z + log sigma(z) = z - softplus(-z)``, ``log g = a - logsumexp(a)``.  The
    max-shift is applied to ``a``: shifting ``z`` itself changes the answer, because
    sigsoftmax is not shift-invariant (``theory.md`` section 11).

    References
    ----------
    Kanai, Fujiwara, Yamanaka, Adachi. Sigsoftmax: Reanalysis of the Softmax Bottleneck.
    NeurIPS 2018 (arXiv:1805.10829), eq. (9).
    """
    z = np.asarray(z)
    return log_softmax(z + log_sigmoid(z), axis=axis)


def sigsoftmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sigsoftmax probabilities, ``exp(log_sigsoftmax(z))``."""
    return np.exp(log_sigsoftmax(z, axis=axis))


def categorical_kl(log_p: np.ndarray, log_q: np.ndarray, axis: int = -1) -> np.ndarray:
    """``KL(p || q) = sum_k p_k (log p_k - log q_k)`` from two arrays of log-probabilities.

    Pass log-probabilities (``log_softmax(z)``), never ``log(softmax(z))``: the latter is
    ``-inf`` for underflowed probabilities.  Terms with ``p_k = 0`` contribute exactly 0.
    """
    log_p = np.asarray(log_p)
    return np.sum(np.exp(log_p) * (log_p - np.asarray(log_q)), axis=axis)


def entropy(log_p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = -sum_k p_k log p_k`` from log-probabilities."""
    log_p = np.asarray(log_p)
    return -np.sum(np.exp(log_p) * log_p, axis=axis)
