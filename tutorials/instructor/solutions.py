"""Instructor solutions of the graded exercises (plain NumPy, no minadv imports).

Not part of the installed package and not part of the student release: the tests import this
file by path to show that an implementation written from each stub's docstring passes its
checker.  Each function here is also the body between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` in its tutorial.
"""

from __future__ import annotations

import numpy as np


# ============================================================================================
# Tutorials 05-09 (one section, kept together)
# ============================================================================================
def _row_log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)                       # (n, 1) row max
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def vat_kl_backward(z_ref, z):
    log_p, log_q = _row_log_softmax(z_ref), _row_log_softmax(z)        # (n, C), finite
    p, q = np.exp(log_p), np.exp(log_q)
    kl = np.sum(p * (log_p - log_q), axis=1)                   # 0 · finite = 0, never NaN
    return kl, q - p


def pgd_inner_max(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None,
                  clip_max=None):
    def box(Z):
        if clip_min is None and clip_max is None:
            return Z
        return np.clip(Z, clip_min, clip_max)

    X_adv = box(X + np.clip(delta0, -eps, eps))                # the start, projected
    for _ in range(n_steps):
        g = input_grad(X_adv)                                  # (n, d) at the current iterate
        X_adv = X_adv + step_size * np.sign(g)                 # sign(0) = 0: no move
        X_adv = box(X + np.clip(X_adv - X, -eps, eps))         # ball around X, then the box
    return X_adv.astype(X.dtype)


def robust_accuracy_curve(y, pred):
    correct = pred == y[:, None]                               # (n, k + 1), column 0 clean
    robust = np.cumprod(correct, axis=1)[:, 1:].astype(bool)   # survived everything so far
    clean = correct[:, 0]
    accuracy = robust.mean(axis=0)
    n_clean = clean.sum()
    if n_clean == 0:
        return accuracy, np.zeros(robust.shape[1])
    fooled = clean[:, None] & ~robust
    return accuracy, fooled.sum(axis=0) / n_clean


def filter_normalized_direction(params, d):
    weights = [k for k, v in params.items() if np.ndim(v) >= 2]
    if not weights:                                            # logistic regression: 1-D w
        weights = [k for k, v in params.items() if np.ndim(v) == 1]
    out = {}
    for k, theta in params.items():
        if k not in weights:
            out[k] = np.zeros_like(d[k])                       # biases: direction 0
        elif theta.ndim == 1:
            out[k] = d[k] * (np.linalg.norm(theta) / (np.linalg.norm(d[k]) + 1e-10))
        else:                                                  # one filter per column
            t_norm = np.linalg.norm(theta, axis=0)             # (fan_out,)
            d_norm = np.linalg.norm(d[k], axis=0)
            out[k] = d[k] * (t_norm / (d_norm + 1e-10))
    return out


def _relu_forward(p, h):
    """Activations ``[h_0, …, h_L]`` and pre-activations ``[a_1, …, a_L]`` (last layer affine)."""
    L = len(p) // 2
    hs, pre = [h], []
    for l in range(1, L + 1):
        a = hs[-1] @ p[f"W{l}"] + p[f"b{l}"]
        pre.append(a)
        hs.append(np.maximum(a, 0) if l < L else a)
    return hs, pre


def _relu_backward(p, hs, pre, delta, param_grads=True):
    """Backprop ``delta = ∂L/∂a_L``; returns (grads or None, ∂L/∂h_0)."""
    L = len(p) // 2
    grads = {}
    for l in range(L, 0, -1):
        if l < L:
            delta = delta * (pre[l - 1] > 0)                   # relu' = 1[a > 0]
        if param_grads:
            grads[f"W{l}"] = hs[l - 1].T @ delta
            grads[f"b{l}"] = delta.sum(axis=0)
        delta = delta @ p[f"W{l}"].T                           # ∂L/∂h_{l-1}
    return grads, delta


def generator_loss_and_grads(pG, pD, z):
    n = z.shape[0]
    hg, preg = _relu_forward(pG, z)                            # x = hg[-1]: (n, 2) samples
    hd, pred = _relu_forward(pD, hg[-1])                       # s = hd[-1]: (n, 2) D's logits
    log_p = _row_log_softmax(hd[-1])
    loss = float(-np.mean(log_p[:, 1]))                        # label 1 = "real"
    ds = np.exp(log_p)
    ds[:, 1] -= 1
    ds /= n
    _, dx = _relu_backward(pD, hd, pred, ds, param_grads=False)   # D's input gradient
    grads, _ = _relu_backward(pG, hg, preg, dx)                # chain rule into G
    return loss, {k: grads[k] for k in pG}, dx
