"""Cases and known mistakes of the backprop exercises: logistic regression, affine layer,
two-layer tanh network (all with the mean loss, so every gradient carries ``1/n``)."""

from __future__ import annotations

import numpy as np
from scipy import special

from . import references as ref
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["BACKPROP_EXERCISES"]


# ----------------------------------------------------------------------------- logistic
def _logistic_case(name, gen, n, d, *, margin_scale=1.0, dtype=np.float64):
    X = gen.standard_normal((n, d)).astype(dtype)
    w = (margin_scale * gen.standard_normal(d)).astype(dtype)
    y = gen.integers(0, 2, size=n)
    return CaseSpec(name, (w, 0.25, X, y), n=n)


def _logistic_cases(gen):
    return [
        _logistic_case("random float64 n=6, d=4", gen, 6, 4),
        _logistic_case("saturated margins ~±1e3", gen, 8, 3, margin_scale=1e3),
        _logistic_case("random float32 n=5, d=3", gen, 5, 3, dtype=np.float32),
        _logistic_case("float32 margins ~±100", gen, 6, 3, margin_scale=100.0, dtype=np.float32),
        _logistic_case("one row n=1, d=5", gen, 1, 5),
        _zero_margin_case(gen),
    ]


def _zero_margin_case(gen):
    """w = 0 and b = 0: every margin is 0, σ(0) = 1/2 and the loss is log 2 exactly."""
    X, y = gen.standard_normal((5, 3)), gen.integers(0, 2, size=5)
    return CaseSpec("zero margins (w = 0, b = 0)", (np.zeros(3), 0.0, X, y), n=5)


def _logistic_labels01(w, b, X, y):
    """Mistake: the 0/1 labels used as the sign."""
    f = X @ w + b
    m = y * f
    s = special.expit(-m) * y
    n = X.shape[0]
    return (float(np.mean(np.logaddexp(0, -m))), -(X.T @ s) / n, float(-np.sum(s) / n),
            -np.outer(s, w) / n)


LOGISTIC = Exercise(
    name="logistic_backward",
    summary="mean logistic loss and its gradients in w, b and X",
    reference=ref.logistic_backward,
    make_cases=_logistic_cases,
    outputs=("loss", "dw", "db", "dX"),
    overflow_hint=("overflow at large margins: softplus(t) = max(t, 0) + log1p(exp(-|t|)) "
                   "(or np.logaddexp(0, t)) and a stable sigmoid"),
    mistakes=(Mistake("the labels are 0/1: use the signed labels s = 2y - 1 in the margin "
                      "m = s (x·w + b)", _logistic_labels01),),
    tutorial="00_backprop_from_scratch.py",
    task="mean logistic loss of a linear classifier and its gradients in w, b and X",
)


# ----------------------------------------------------------------------------- affine
def _affine_case(name, gen, n, d, m, dtype=np.float64):
    x, W = gen.standard_normal((n, d)), gen.standard_normal((d, m))
    b, dout = gen.standard_normal(m), gen.standard_normal((n, m))
    x, W, b, dout = (a.astype(dtype) for a in (x, W, b, dout))
    return CaseSpec(name, (dout, (x, W, b)), n=n)


def _affine_cases(gen):
    return [
        _affine_case("random float64 n=4, d=5, m=3", gen, 4, 5, 3),
        _affine_case("square n = d = m = 4", gen, 4, 4, 4),
        _affine_case("random float32 n=3, d=2, m=5", gen, 3, 2, 5, np.float32),
        _affine_case("one row n=1, d=3, m=2", gen, 1, 3, 2),
        _affine_case("one input feature n=7, d=1, m=6", gen, 7, 1, 6),
        _affine_case("float32 square n = d = m = 5", gen, 5, 5, 5, np.float32),
    ]


def _affine_transposed(dout, cache):
    x, W, _ = cache
    return dout @ W, dout.T @ x, np.sum(dout, axis=0)


def _affine_db_mean(dout, cache):
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, np.mean(dout, axis=0)


AFFINE = Exercise(
    name="affine_backward",
    summary="backward pass of out = x W + b: (dx, dW, db)",
    reference=ref.affine_backward,
    make_cases=_affine_cases,
    outputs=("dx", "dW", "db"),
    overflow_hint="inf/nan in the products: compute dx = dout Wᵀ, dW = xᵀ dout, db = Σ_rows dout",
    mistakes=(
        Mistake("dx and dW are transposed products: dx = dout Wᵀ (n, d) and dW = xᵀ dout (d, m)",
                _affine_transposed),
        Mistake("db is the sum of dout over the rows, not the mean (the 1/n is already in dout)",
                _affine_db_mean),
    ),
    tutorial="00_backprop_from_scratch.py",
    task="backward pass of the affine layer out = x W + b: (dx, dW, db)",
)


# ----------------------------------------------------------------------------- two-layer net
def _two_layer_params(gen, d, h, C, dtype, w2_scale=1.0):
    params = {"W1": gen.standard_normal((d, h)) / np.sqrt(d), "b1": 0.1 * gen.standard_normal(h),
              "W2": w2_scale * gen.standard_normal((h, C)) / np.sqrt(h),
              "b2": 0.1 * gen.standard_normal(C)}
    return {k: v.astype(dtype) for k, v in params.items()}


def _two_layer_case(name, gen, n, d, h, C, dtype=np.float64, w2_scale=1.0):
    params = _two_layer_params(gen, d, h, C, dtype, w2_scale)
    X = gen.standard_normal((n, d)).astype(dtype)
    return CaseSpec(name, (params, X, gen.integers(0, C, size=n)), n=n)


def _two_layer_cases(gen):
    return [
        _two_layer_case("random float64 n=5, d=4, h=6, C=3", gen, 5, 4, 6, 3),
        _two_layer_case("random float32 n=4, d=3, h=5, C=4", gen, 4, 3, 5, 4, np.float32),
        _two_layer_case("saturated logits ~±1e3", gen, 6, 3, 4, 3, w2_scale=1e3),
        _two_layer_case("one row n=1, d=2, h=3, C=2", gen, 1, 2, 3, 2),
        _two_layer_case("random float64 n=8, d=5, h=7, C=5", gen, 8, 5, 7, 5),
        _two_layer_case("float32 logits ~±30", gen, 6, 3, 4, 3, np.float32, w2_scale=30.0),
    ]


def _two_layer_manual(params, X, y, dact):
    """Two-layer backward with a chosen hidden derivative ``dact(a, h)`` (for the mistakes)."""
    n = X.shape[0]
    a = X @ params["W1"] + params["b1"]
    h = np.tanh(a)
    z = h @ params["W2"] + params["b2"]
    log_p = z - special.logsumexp(z, axis=1, keepdims=True)
    dz = np.exp(log_p)
    dz[np.arange(n), y] -= 1
    dz /= n
    da = (dz @ params["W2"].T) * dact(a, h)
    grads = {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}
    return float(-np.mean(log_p[np.arange(n), y])), grads, da @ params["W1"].T


TWO_LAYER = Exercise(
    name="two_layer_backward",
    summary="loss, parameter gradients and input gradient of a two-layer tanh net",
    reference=ref.two_layer_backward,
    make_cases=_two_layer_cases,
    outputs=("loss", "grads", "dX"),
    overflow_hint=("overflow at large logits: subtract the row max in the softmax and compute "
                   "the loss from log-softmax (z - logsumexp(z))"),
    mistakes=(
        Mistake("tanh'(a) = 1 - tanh(a)² = 1 - h², with h the layer's output (not 1 - a²)",
                lambda p, X, y: _two_layer_manual(p, X, y, lambda a, h: 1 - a * a)),
        Mistake("backprop through the tanh: da = dh ⊙ (1 - h²) (the derivative is missing)",
                lambda p, X, y: _two_layer_manual(p, X, y, lambda a, h: 1.0)),
    ),
    tutorial="00_backprop_from_scratch.py",
    task="loss, parameter gradients and input gradient of a two-layer tanh network",
)

BACKPROP_EXERCISES = [LOGISTIC, AFFINE, TWO_LAYER]
