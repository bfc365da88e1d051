"""Cases and known mistakes of the second-order exercises: the closed-form Hessian of the L2
adversarial logistic loss (``docs/theory.md §1.2``) and the R-operator HVP of a one-hidden-layer
tanh net (``docs/theory.md §12``)."""

from __future__ import annotations

import numpy as np
from scipy import special

from . import references as ref
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["CURVATURE_EXERCISES", "robust_hessian_parts", "hvp_parts"]


# ----------------------------------------------------------------------------- robust Hessian
def _robust_case(name, gen, n, d, eps, *, w_scale=1.0, dtype=np.float64):
    X = gen.standard_normal((n, d))
    w = w_scale * gen.standard_normal(d)
    return CaseSpec(name, (w.astype(dtype), X.astype(dtype), gen.integers(0, 2, size=n), eps),
                    n=n)


def _confident_case(gen, sign=1.0):
    """All robust margins in ±[36, 45] (eps = 0).  At z ~ +40, σ(z)(1 - σ(z)) cancels to 0;
    at z ~ -40, σ(-z)(1 - σ(-z)) does: only c = σ(z) σ(-z) is right on both sides."""
    n, d = 12, 3
    y = gen.integers(0, 2, size=n)
    X = gen.standard_normal((n, d))
    X[:, 0] = sign * (2 * y - 1) * (0.72 + 0.18 * gen.random(n))     # s_i x_i1 in ±[0.72, 0.9]
    w = np.array([50.0, 0.0, 0.0])
    label = "z ~ +40" if sign > 0 else "z ~ -40"
    return CaseSpec(f"confident margins {label} (eps = 0)", (w, X, y, 0.0), n=n)


def _robust_cases(gen):
    return [
        _robust_case("random float64 n=20, d=4, eps=0.3", gen, 20, 4, 0.3),
        _robust_case("eps = 0: the plain logistic Hessian", gen, 15, 3, 0.0),
        _robust_case("float32 n=10, d=3, eps=0.5", gen, 10, 3, 0.5, dtype=np.float32),
        _robust_case("saturated margins ~±1e3", gen, 10, 3, 0.2, w_scale=1e3),
        _robust_case("small ||w|| ~ 1e-4 (term 2 large)", gen, 10, 3, 0.4, w_scale=1e-4),
        _confident_case(gen),
        _confident_case(gen, -1.0),
    ]


def robust_hessian_parts(w, X, y, eps, *, term2=True, sign=-1.0, labels01=False,
                         mean_c=False, naive_c=False, naive_p=False):
    """Eq. (1.3) written out, with switches that plant the usual mistakes."""
    s = y.astype(X.dtype) if labels01 else (2.0 * y - 1.0).astype(X.dtype)
    nw = np.linalg.norm(w)
    u = w / nw
    z = s * (X @ w) - eps * nw                                     # robust margins (n,)
    sig = special.expit(z)
    p = special.expit(-z)
    c = sig * (1 - sig) if naive_c else (p * (1 - p) if naive_p else sig * p)
    A = s[:, None] * X + sign * eps * u                            # (n, d) a_i
    H = (A.T * c) @ A / X.shape[0]
    if term2:
        weight = np.mean(c) if mean_c else np.mean(special.expit(-z))
        H = H + (eps / nw) * weight * (np.eye(X.shape[1], dtype=X.dtype) - np.outer(u, u))
    return H


ROBUST = Exercise(
    name="robust_logistic_hessian",
    summary="closed-form Hessian of the L2 adversarial logistic loss, eq. (1.3)",
    reference=ref.robust_logistic_hessian,
    make_cases=_robust_cases,
    outputs=("H",),
    overflow_hint=("overflow at large margins: use a stable sigmoid (scipy.special.expit or "
                   "your sigmoid exercise) and c = σ(z) σ(-z)"),
    mistakes=(
        Mistake("term 2 is missing: add (eps/||w||) mean(σ(-z)) (I - u uᵀ), the curvature from "
                "the attack direction depending on w",
                lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps, term2=False)),
        Mistake("a_i = s_i x_i - eps u (the adversarial example moves against the label): "
                "you used + eps u", lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps,
                                                                              sign=1.0)),
        Mistake("the labels are 0/1: use s = 2y - 1",
                lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps, labels01=True)),
        Mistake("term 2 is weighted by mean σ(-z_i), not by mean c_i",
                lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps, mean_c=True)),
        Mistake("c = σ(z)(1 - σ(z)) cancels to 0 for z > 37: use c = σ(z) σ(-z)",
                lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps, naive_c=True)),
        Mistake("c = p (1 - p) with p = σ(-z) cancels to 0 for z < -37: use c = σ(z) σ(-z)",
                lambda w, X, y, eps: robust_hessian_parts(w, X, y, eps, naive_p=True)),
    ),
    tutorial="03_sharpness_logistic.py",
    task="closed-form Hessian of the L2 adversarial logistic loss (two terms)",
)


# ----------------------------------------------------------------------------- HVP
def _hvp_case(name, gen, n, d, h, C, *, dtype=np.float64, w1_scale=1.0, w2_scale=1.0):
    params = {"W1": w1_scale * gen.standard_normal((d, h)) / np.sqrt(d),
              "b1": 0.1 * gen.standard_normal(h),
              "W2": w2_scale * gen.standard_normal((h, C)) / np.sqrt(h),
              "b2": 0.1 * gen.standard_normal(C)}
    v = {k: gen.standard_normal(p.shape) for k, p in params.items()}
    params = {k: p.astype(dtype) for k, p in params.items()}
    v = {k: p.astype(dtype) for k, p in v.items()}
    X = gen.standard_normal((n, d)).astype(dtype)
    return CaseSpec(name, (params, X, gen.integers(0, C, size=n), v), n=n)


def _hvp_cases(gen):
    return [
        _hvp_case("random float64 n=5, d=3, h=4, C=3", gen, 5, 3, 4, 3),
        _hvp_case("float32 n=4, d=3, h=5, C=2", gen, 4, 3, 5, 2, dtype=np.float32),
        _hvp_case("nearly saturated tanh (|a| ~ 3)", gen, 6, 3, 4, 3, w1_scale=3.0),
        _hvp_case("saturated logits ~±1e3", gen, 5, 2, 3, 3, w2_scale=1e3),
        _hvp_case("one row n=1", gen, 1, 4, 3, 3),
        _hvp_case("random float64 n=8, d=5, h=6, C=4", gen, 8, 5, 6, 4),
        _hvp_case("float32, nearly saturated tanh", gen, 6, 3, 4, 3, dtype=np.float32,
                  w1_scale=3.0),
    ]


def hvp_parts(params, X, y, v, *, d2=True, dv=True, rh=True, mean=True):
    """The R-operator recursions of the stub, with switches that drop one term each."""
    n = X.shape[0]
    a = X @ params["W1"] + params["b1"]                            # (n, h)
    h = np.tanh(a)
    d1 = 1 - h * h                                                 # tanh'
    z = h @ params["W2"] + params["b2"]                            # (n, C)
    p = special.softmax(z, axis=1)
    delta2 = p.copy()
    delta2[np.arange(n), y] -= 1
    r_a = X @ v["W1"] + v["b1"]
    r_h = d1 * r_a
    r_z = r_h @ params["W2"] + h @ v["W2"] + v["b2"]
    pr = p * r_z
    r_delta2 = pr - p * pr.sum(axis=1, keepdims=True)
    if mean:
        delta2, r_delta2 = delta2 / n, r_delta2 / n
    g = delta2 @ params["W2"].T
    r_g = r_delta2 @ params["W2"].T + (delta2 @ v["W2"].T if dv else 0)
    r_delta1 = d1 * r_g + (-2 * h * d1 * r_a * g if d2 else 0)
    return {"W1": X.T @ r_delta1, "b1": r_delta1.sum(0),
            "W2": h.T @ r_delta2 + (r_h.T @ delta2 if rh else 0), "b2": r_delta2.sum(0)}


HVP = Exercise(
    name="hvp_one_hidden",
    summary="exact Hessian-vector product of a one-hidden-layer tanh net (R-operator)",
    reference=ref.hvp_one_hidden,
    make_cases=_hvp_cases,
    outputs=("Hv",),
    overflow_hint="overflow at large logits: subtract the row max in the softmax",
    mistakes=(
        Mistake("R{δ1} misses the tanh'' term -2 h (1 - h²) ⊙ R{a} ⊙ g",
                lambda p, X, y, v: hvp_parts(p, X, y, v, d2=False)),
        Mistake("R{g} = δ2 V2ᵀ + R{δ2} W2ᵀ: the δ2 V2ᵀ term is missing",
                lambda p, X, y, v: hvp_parts(p, X, y, v, dv=False)),
        Mistake("(Hv)_W2 = hᵀ R{δ2} + R{h}ᵀ δ2: the R{h}ᵀ δ2 term is missing",
                lambda p, X, y, v: hvp_parts(p, X, y, v, rh=False)),
        Mistake("the loss is the mean over the n rows: divide δ2 and R{δ2} by n",
                lambda p, X, y, v: hvp_parts(p, X, y, v, mean=False)),
    ),
    tutorial="01_exact_gradients.py",
    task="exact Hessian-vector product of a one-hidden-layer tanh net (R-operator)",
)

CURVATURE_EXERCISES = [ROBUST, HVP]
