"""An arbitrary-precision reference MLP (mpmath, test-only), written independently of minadv.

Everything is computed in ``mpmath`` at ``DPS`` decimal digits on NumPy object arrays of
``mpf``: the forward pass, the textbook backward pass (derivatives written with exact
closed forms such as ``sech²``, evaluated in high precision, so no cancellation matters), and
the second-order products as central differences of that exact backward pass with a step of
``1e-30`` (truncation ``O(t²) = 1e-60``, rounding ``10^-DPS / t = 1e-50``: both far below the
float64 rounding we test against).  Nothing here imports minadv's kernels.

Used by ``tests/test_exact_regimes.py``.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

DPS = 80
mp.mp.dps = DPS
STEP = mp.mpf("1e-30")

to_mp = np.vectorize(lambda v: mp.mpf(float(v)), otypes=[object])
to_float = np.vectorize(float, otypes=[np.float64])


def _sigmoid(a):
    return 1 / (1 + mp.exp(-a))


# activation -> (phi, phi') as exact mp expressions
ACT = {
    "relu": (lambda a: a if a > 0 else mp.mpf(0), lambda a: mp.mpf(1 if a > 0 else 0)),
    "tanh": (mp.tanh, lambda a: mp.sech(a) ** 2),
    "sigmoid": (_sigmoid, lambda a: mp.exp(-a) / (1 + mp.exp(-a)) ** 2),
    "softplus": (lambda a: mp.log(1 + mp.exp(a)), _sigmoid),
    "identity": (lambda a: a, lambda a: mp.mpf(1)),
}


def _map(f, A):
    return np.vectorize(f, otypes=[object])(A)


def forward(params, X, activation):
    """Logits and the cache ``(hs, pres)`` (``hs[0] = X``) of the mp MLP."""
    n_layers = len(params) // 2
    phi = ACT[activation][0]
    hs, pres = [X], []
    for l in range(1, n_layers + 1):
        a = hs[-1] @ params[f"W{l}"] + params[f"b{l}"]
        pres.append(a)
        if l < n_layers:
            hs.append(_map(phi, a))
    return pres[-1], (hs, pres)


def log_proba(z, output):
    """Row-wise log softmax or log sigsoftmax."""
    if output == "sigsoftmax":
        z = _map(lambda t: t - mp.log(1 + mp.exp(-t)), z)      # a = z + log sigma(z)
    lse = np.array([mp.log(mp.fsum(mp.exp(t) for t in row)) for row in z], dtype=object)
    return z - lse[:, None]


def dloss_dlogits(z, y, output):
    """``∂ℓ_i/∂z_i`` per row: ``p - e_y`` (softmax), ``(g - e_y)(1 + σ(-z))`` (sigsoftmax)."""
    p = _map(mp.exp, log_proba(z, output))
    p[np.arange(len(y)), y] -= 1
    if output == "sigsoftmax":
        p = p * _map(lambda t: 1 + _sigmoid(-t), z)
    return p


def fisher(z, u, output):
    """``F(z) u`` row-wise, ``F = S (diag g - g gᵀ) S`` (``S = 1`` for softmax)."""
    s = _map(lambda t: 1 + _sigmoid(-t), z) if output == "sigsoftmax" else 1
    g = _map(mp.exp, log_proba(z, output))
    su = s * u
    dot = np.array([mp.fsum(r) for r in g * su], dtype=object)
    return s * (g * su - g * dot[:, None])


def backward(params, cache, dz, activation):
    """Textbook backprop of ``dz = ∂L/∂z``: parameter gradients and ``∂L/∂X``."""
    hs, pres = cache
    dphi = ACT[activation][1]
    n_layers = len(params) // 2
    grads, delta = {}, dz
    for l in range(n_layers, 0, -1):
        grads[f"W{l}"] = hs[l - 1].T @ delta
        grads[f"b{l}"] = delta.sum(axis=0)
        g = delta @ params[f"W{l}"].T
        delta = g * _map(dphi, pres[l - 2]) if l > 1 else g
    return {k: grads[k] for k in params}, delta


def loss(params, X, y, activation, output):
    z, _ = forward(params, X, activation)
    lp = log_proba(z, output)
    return -mp.fsum(lp[np.arange(len(y)), y]) / len(y)


def grads(params, X, y, activation, output):
    """Gradient of the mean NLL w.r.t. the parameters and the input."""
    z, cache = forward(params, X, activation)
    return backward(params, cache, dloss_dlogits(z, y, output) / len(y), activation)


def _shift(params, v, t):
    return {k: params[k] + t * v[k] for k in params}


def hvp(params, X, y, v, activation, output):
    """``H v``: central difference of the exact mp gradient along ``v``."""
    gp = grads(_shift(params, v, STEP), X, y, activation, output)[0]
    gm = grads(_shift(params, v, -STEP), X, y, activation, output)[0]
    return {k: (gp[k] - gm[k]) / (2 * STEP) for k in params}


def fisher_product(params, X, v, activation, output):
    """``Jᵀ F J v / n`` with ``J v`` a central difference of the mp logits."""
    z, cache = forward(params, X, activation)
    zp = forward(_shift(params, v, STEP), X, activation)[0]
    zm = forward(_shift(params, v, -STEP), X, activation)[0]
    u = fisher(z, (zp - zm) / (2 * STEP), output) / X.shape[0]
    return backward(params, cache, u, activation)[0]


def input_fisher_product(params, X, R, activation, output):
    """``Jₓᵀ F Jₓ r / n`` per row."""
    z, cache = forward(params, X, activation)
    zp = forward(params, X + STEP * R, activation)[0]
    zm = forward(params, X - STEP * R, activation)[0]
    u = fisher(z, (zp - zm) / (2 * STEP), output) / X.shape[0]
    return backward(params, cache, u, activation)[1]


def rel_err(approx, exact) -> float:
    """``‖approx - exact‖ / ‖exact‖`` in mp (absolute error when ``exact`` is zero)."""
    a, e = np.ravel(to_mp(approx)), np.ravel(exact)
    num = mp.sqrt(mp.fsum((u - w) ** 2 for u, w in zip(a, e)))
    den = mp.sqrt(mp.fsum(w ** 2 for w in e))
    return float(num / den) if den else float(num)
