"""Instructor solutions: plain NumPy answers to every exercise of ``minadv.course.stubs``.

Written the way a student would (no minadv imports).  This file is NOT part of the installed
package (the wheel ships no solution; ``tests/test_course_wheel.py`` checks it): the tests load
it by path (``tests/course_helpers.py``).  Keep it away from the students' copy of the course.
Helpers that append solutions for new exercises: plain functions named after the exercise.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid", "logsumexp", "logistic_backward", "affine_backward",
    "softmax_cross_entropy_backward", "two_layer_backward", "steepest_ascent",
    "project_l2_ball", "pgd_step", "vat_power_iteration", "robust_logistic_hessian",
    "hvp_one_hidden",
    # tutorials 00-04
    "affine_forward", "relu_forward", "relu_backward", "linear_worst_case", "project_l1_ball",
    "robust_logistic_loss", "local_entropy_gradient",
    # tutorial 10
    "interval_affine_relu", "big_m_relu",
]


# ----------------------------------------------------------------------------- numerics
def sigmoid(t):
    t = np.asarray(t)
    e = np.exp(-np.abs(t))                               # in (0, 1]: never overflows
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))


def logsumexp(z):
    m = np.max(z, axis=1, keepdims=True)                 # (n, 1) row max
    return (m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)))[:, 0]


def _log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def softmax_cross_entropy_backward(z, y):
    n = z.shape[0]
    dz = np.exp(_log_softmax(z))                         # (n, C) probabilities
    dz[np.arange(n), y] -= 1
    return dz / n


def _softplus(t):
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


# ----------------------------------------------------------------------------- backprop
def logistic_backward(w, b, X, y):
    n = X.shape[0]
    s = (2 * y - 1).astype(X.dtype)                      # signed labels ±1
    m = s * (X @ w + b)                                  # (n,) margins
    loss = float(np.mean(_softplus(-m)))
    coef = -sigmoid(-m) * s / n                          # (n,) dL/df_i
    return loss, X.T @ coef, float(np.sum(coef)), np.outer(coef, w)


def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, np.sum(dout, axis=0)


def two_layer_backward(params, X, y):
    n = X.shape[0]
    h = np.tanh(X @ params["W1"] + params["b1"])         # (n, h)
    z = h @ params["W2"] + params["b2"]                  # (n, C)
    log_p = _log_softmax(z)
    loss = float(-np.mean(log_p[np.arange(n), y]))
    dz = softmax_cross_entropy_backward(z, y)            # (n, C), carries 1/n
    da = (dz @ params["W2"].T) * (1 - h * h)             # (n, h)
    grads = {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}
    return loss, grads, da @ params["W1"].T


# ----------------------------------------------------------------------------- attacks
def _row_norms(a):
    """L2 norm of each row, safe for huge and tiny rows."""
    scale = np.max(np.abs(a), axis=1)
    safe = np.where(scale > 0, scale, 1)
    return scale * np.sqrt(np.sum((a / safe[:, None]) ** 2, axis=1))


def _unit_rows(d):
    norms = _row_norms(d)
    return d / np.where(norms > 0, norms, 1)[:, None]    # zero rows stay zero


def steepest_ascent(g, eps, norm):
    if norm == np.inf:
        return (eps * np.sign(g)).astype(g.dtype)
    if norm == 2:
        return (eps * _unit_rows(g)).astype(g.dtype)
    rows = np.arange(g.shape[0])
    j = np.argmax(np.abs(g), axis=1)                     # first index on ties
    delta = np.zeros_like(g)
    delta[rows, j] = eps * np.sign(g[rows, j])
    return delta


def project_l2_ball(delta, eps):
    norms = _row_norms(delta)
    factor = np.where(norms > eps, eps / np.where(norms > 0, norms, 1), 1)
    return (delta * factor[:, None]).astype(delta.dtype)


def _project_l1_ball(r, eps):
    """Duchi et al. (2008) sort-based projection of each row onto the L1 ball."""
    out = r.copy()
    for i, row in enumerate(r):
        if np.sum(np.abs(row)) <= eps:
            continue
        u = np.sort(np.abs(row))[::-1]
        css = np.cumsum(u) - eps
        rho = np.nonzero(u * np.arange(1, row.size + 1) > css)[0][-1]
        theta = css[rho] / (rho + 1)
        out[i] = np.sign(row) * np.maximum(np.abs(row) - theta, 0)
    return out


def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    x_new = x + steepest_ascent(g, step_size, norm)
    r = x_new - x0
    if norm == np.inf:
        r = np.clip(r, -eps, eps)
    elif norm == 2:
        r = project_l2_ball(r, eps)
    else:
        r = _project_l1_ball(r, eps)
    x_new = x0 + r
    if clip_min is not None or clip_max is not None:
        x_new = np.clip(x_new, clip_min, clip_max)
    return x_new.astype(x.dtype)


def vat_power_iteration(fisher_product, d, n_iter):
    d = _unit_rows(d)
    for _ in range(n_iter):
        d = _unit_rows(fisher_product(d))
    return d


# ----------------------------------------------------------------------------- curvature
def robust_logistic_hessian(w, X, y, eps):
    n, dim = X.shape
    s = (2 * y - 1).astype(X.dtype)
    nw = np.linalg.norm(w)
    u = w / nw
    z = s * (X @ w) - eps * nw                           # robust margins
    c = sigmoid(z) * sigmoid(-z)                         # not sigma (1 - sigma): cancellation
    A = s[:, None] * X - eps * u                         # (n, d) label-signed adversarial x
    term1 = (A.T * c) @ A / n
    term2 = (eps / nw) * np.mean(sigmoid(-z)) * (np.eye(dim, dtype=X.dtype) - np.outer(u, u))
    return term1 + term2


def hvp_one_hidden(params, X, y, v):
    n = X.shape[0]
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    V1, c1, V2, c2 = v["W1"], v["b1"], v["W2"], v["b2"]
    a = X @ W1 + b1
    h = np.tanh(a)                                       # (n, h)
    e = np.exp(-2 * np.abs(a))
    d1 = 4 * e / (1 + e) ** 2                            # tanh'(a) = 1 - h², without cancelling
    z = h @ W2 + b2
    p = np.exp(_log_softmax(z))                          # (n, C)
    delta2 = p.copy()
    rows = np.arange(n)
    delta2[rows, y] = 0
    delta2[rows, y] = -delta2.sum(axis=1)                # p_y - 1 = -sum_{k != y} p_k
    delta2 /= n
    r_a = X @ V1 + c1                                    # R-forward
    r_h = d1 * r_a
    r_z = r_h @ W2 + h @ V2 + c2
    m = p.argmax(axis=1)[:, None]                        # pivot on the most probable class:
    dz = r_z - np.take_along_axis(r_z, m, axis=1)        # (diag p - p pᵀ) 1 = 0
    r_delta2 = p * (dz - (p * dz).sum(axis=1, keepdims=True)) / n   # R-backward
    g = delta2 @ W2.T
    r_g = delta2 @ V2.T + r_delta2 @ W2.T
    r_delta1 = -2 * h * d1 * r_a * g + d1 * r_g
    return {"W1": X.T @ r_delta1, "b1": r_delta1.sum(axis=0),
            "W2": h.T @ r_delta2 + r_h.T @ delta2, "b2": r_delta2.sum(axis=0)}


# ============================================================================ tutorials 00-04
# (section of the exercises new in tutorials 00-04)
def affine_forward(x, W, b):
    out = x @ W + b                                      # (n, m)
    return out, (x, W, b)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)                            # ReLU'(0) = 0 by convention


def linear_worst_case(w, b, X, y, eps, norm):
    s = 2 * y - 1                                        # (n,) signed labels
    if norm == np.inf:
        v = np.sign(w)                                   # sign(0) = 0: w_j = 0 does not move
    elif norm == 2:
        v = _unit_rows(w[None, :])[0]
    else:
        j = np.argmax(np.abs(w))                         # first index on ties
        v = np.zeros_like(w)
        v[j] = np.sign(w[j])
    return (-eps * s[:, None] * v[None, :]).astype(X.dtype)


def project_l1_ball(delta, eps):
    out = delta.copy()
    for i, row in enumerate(delta):
        if np.sum(np.abs(row)) <= eps:
            continue
        if eps == 0:
            out[i] = 0
            continue
        u = np.sort(np.abs(row))[::-1]
        c = np.cumsum(u) - eps
        k = np.nonzero(u * np.arange(1, row.size + 1) > c)[0][-1]
        theta = c[k] / (k + 1)
        out[i] = np.sign(row) * np.maximum(np.abs(row) - theta, 0)
    return out


def robust_logistic_loss(w, b, X, y, eps, norm):
    q = {np.inf: 1, 2: 2, 1: np.inf}[norm]               # the dual exponent
    s = 2 * y - 1
    scale = np.max(np.abs(w))
    w_norm = scale * np.linalg.norm(w / scale, ord=q) if scale > 0 else 0.0
    z = s * (X @ w + b) - eps * w_norm                   # (n,) robust margins
    return float(np.mean(np.logaddexp(0, -z)))


def local_entropy_gradient(x, grid, f_grid, gamma):
    logw = -f_grid[None, :] - 0.5 * gamma * (x[:, None] - grid[None, :]) ** 2   # (m, k)
    logw = logw - logw.max(axis=1, keepdims=True)        # the largest weight is exp(0) = 1
    weights = np.exp(logw)
    mean = (weights @ grid) / weights.sum(axis=1)        # (m,) Gibbs means
    return gamma * (x - mean)

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


# ----------------------------------------------------------------------------- certification
def interval_affine_relu(lower, upper, W, b):
    W_pos, W_neg = np.maximum(W, 0), np.minimum(W, 0)    # the two halves of W
    low = lower @ W_pos + upper @ W_neg + b              # (n, d_out): smallest value
    high = upper @ W_pos + lower @ W_neg + b             # largest value
    return np.maximum(low, 0), np.maximum(high, 0)


def big_m_relu(lower, upper):
    n = lower.shape[0]
    zero, one = np.zeros(n, lower.dtype), np.ones(n, lower.dtype)
    rows = [
        (zero, -one, zero, zero),                        # -h <= 0
        (one, -one, zero, zero),                         # a - h <= 0
        (zero, one, -upper, zero),                       # h - u z <= 0
        (-one, one, -lower, -lower),                     # h - a - l z <= -l
    ]
    A = np.stack([np.stack(r[:3], axis=1) for r in rows], axis=1)   # (n, 4, 3)
    c = np.stack([r[3] for r in rows], axis=1)                       # (n, 4)
    return A, c
