"""Numerically stable elementary functions.

Every function here takes and returns arrays of the caller's floating dtype (float32 stays
float32), raises no overflow/underflow warnings, and is exact to rounding at ``|logit| = 1e4``.
The identities used are listed in ``docs/theory.md`` §0:

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
    "project_simplex",
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "logsumexp",
    "log_softmax",
    "softmax",
    "log_sigsoftmax",
    "sigsoftmax",
    "kl_terms",
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
    shift = z.max(axis=axis, keepdims=True)
    out = np.log(np.exp(z - shift).sum(axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``z - logsumexp(z)``: log-probabilities of a softmax, finite for any finite logits."""
    z = np.asarray(z)
    shift = z.max(axis=axis, keepdims=True)               # M, so every exp(z - M) <= 1
    return z - (np.log(np.exp(z - shift).sum(axis=axis, keepdims=True)) + shift)


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
    sigsoftmax is not shift-invariant (``docs/theory.md`` §11).

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


def kl_terms(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """Elementwise ``p (log p - log q)`` with ``p = exp(log_p)``, and exactly 0 where ``p = 0``.

    The textbook product gives ``0 · (-inf) = NaN`` for ``log p = -inf``; the convention
    ``0 log 0 = 0`` (the limit) is applied instead.
    """
    log_p, log_q = np.asarray(log_p), np.asarray(log_q)
    p = np.exp(log_p)
    shape = np.broadcast_shapes(log_p.shape, log_q.shape)
    diff = np.zeros(shape, dtype=np.result_type(log_p, log_q, p))
    np.subtract(log_p, log_q, out=diff, where=p > 0)      # never -inf - (-inf) or 0 · inf
    return p * diff


def categorical_kl(log_p: np.ndarray, log_q: np.ndarray, axis: int = -1) -> np.ndarray:
    """``KL(p || q) = sum_k p_k (log p_k - log q_k)`` from two arrays of log-probabilities.

    Pass log-probabilities (``log_softmax(z)``), never ``log(softmax(z))``: the latter is
    ``-inf`` for underflowed probabilities.  Terms with ``p_k = 0`` (``log p_k = -inf``)
    contribute exactly 0 (:func:`kl_terms`).
    """
    return np.sum(kl_terms(log_p, log_q), axis=axis)


def entropy(log_p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = -sum_k p_k log p_k`` from log-probabilities (``0 log 0 = 0``)."""
    return -np.sum(kl_terms(log_p, np.zeros((), dtype=np.asarray(log_p).dtype)), axis=axis)


def project_simplex(A: np.ndarray, r: float) -> np.ndarray:
    """Euclidean projection of each row of ``A`` (m, k) onto ``{λ >= 0, Σλ = r}``, ``r > 0``.

    Duchi, Shalev-Shwartz, Singer, Chandra (2008), Fig. 1: sort ``u = A`` decreasingly,
    ``c = cumsum(u) - r``, ``ρ = max{j : u_j > c_j / j}``, ``θ = c_ρ / ρ``; the projection is
    ``max(A - θ, 0)``.  ``O(k log k)`` per row, vectorised over rows.  The one home of the
    sorted projection (the L1-ball projection of the attacks and the least-norm subgradient of
    the robust logistic loss both call it).

    Examples
    --------
    >>> import numpy as np
    >>> project_simplex(np.array([[3.0, 1.0]]), 2.0)
    array([[2., 0.]])
    """
    u = -np.sort(-A, axis=1)                                     # (m, k) decreasing
    css = np.cumsum(u, axis=1) - r                               # (m, k)
    j = np.arange(1, A.shape[1] + 1, dtype=A.dtype)
    rho = np.count_nonzero(u * j > css, axis=1)                  # the condition holds on a prefix
    rho = np.maximum(rho, 1)                  # j = 1 always holds; rounding loses it if r << u_1
    theta = css[np.arange(A.shape[0]), rho - 1] / rho.astype(A.dtype)    # (m,)
    return np.maximum(A - theta[:, None], 0)
