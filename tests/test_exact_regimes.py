"""Exact in every regime: a tiny MLP against an arbitrary-precision reference (``mp_reference``).

For every activation × output (softmax, sigsoftmax) and five regimes — ordinary, saturated
hidden units (pre-activations 15–40), confident predictions (1 - p_max down to ~1e-17) and
inputs of scale 1e2 — the parameter gradient, input gradient, HVP, Fisher (Gauss-Newton)
product and input-Fisher product of the float64 model agree with the mpmath reference to
``TOL`` relative, per parameter array (so a tiny saturated block cannot hide behind a large
one).  ``confident`` mixes labels; ``confident_correct`` labels every row with its most probable
class, where the cross-entropy gradient is ``-Σ_{k≠y} p_k ≈ -1e-17`` at the label.

Tolerance: ``TOL = 1e-12``, about ``4500 u`` (``u = 2^-53``), set before the measurement.
The measured worst error over all cases is about ``1e-14`` (``≈ 90 u``): a few roundings per
operation along a depth-2 network with ``C = 3`` classes, times the data's own conditioning.
A formula that subtracts nearly equal numbers (``1 - tanh²`` at saturation, ``p - p Σ p r``
at ``p_max → 1``, ``p_y - 1``) loses all digits there and fails by orders of magnitude
(relative errors from 1e-7 up to O(1) before the change), not by a factor.
"""

import mp_reference as ref
import numpy as np
import pytest

from minadv.models import MLP
from minadv.params import flatten, unflatten

TOL = 1e-12
ACTIVATIONS = ["relu", "tanh", "sigmoid", "softplus", "identity"]
OUTPUTS = ["softmax", "sigsoftmax"]
REGIMES = ["ordinary", "saturated", "confident", "confident_correct", "inputs1e2"]
SIZES = (3, 4, 3)
N = 4


def problem(activation, output, regime, seed=0):
    """Float64 ``params, X, y, v, R`` for one regime (deterministic)."""
    rng = np.random.default_rng([seed, ACTIVATIONS.index(activation), OUTPUTS.index(output),
                                 REGIMES.index(regime)])
    d, h, C = SIZES
    X = rng.normal(size=(N, d))
    W1, b1 = rng.normal(size=(d, h)) * 0.7, rng.normal(size=h) * 0.1
    W2, b2 = rng.normal(size=(h, C)) * 0.7, rng.normal(size=C) * 0.1
    if regime == "saturated":              # |a| in ~[15, 40] for every hidden unit
        W1 = rng.normal(size=(d, h)) * 1.5
        b1 = rng.choice([-1.0, 1.0], size=h) * rng.uniform(22.0, 30.0, size=h)
        W2 = W2 / 10 if activation in ("relu", "softplus", "identity") else W2
    elif regime.startswith("confident"):   # one class ahead by ~40 nats: 1 - p_max ~ 1e-17
        top = rng.integers(C)
        b2 = b2.copy()
        b2[top] += 40.0
    elif regime == "inputs1e2":            # pre-activations of a few tens
        X = X * 100.0
        W1 = rng.normal(size=(d, h)) * 0.25
        W2 = W2 / (10 if activation in ("relu", "softplus", "identity") else 1)
    y = np.full(N, top) if regime == "confident_correct" else np.arange(N) % C
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    v = {k: rng.normal(size=p.shape) for k, p in params.items()}
    return params, X, y, v, rng.normal(size=X.shape)


def measure(activation, output, regime, fisher_name="fisher_product"):
    """Worst relative error (max over parameter arrays) of each quantity vs mpmath."""
    params, X, y, v, R = problem(activation, output, regime)
    net = MLP(list(SIZES), activation=activation, output=output)
    P, Xm, Vm, Rm = ({k: ref.to_mp(a) for k, a in params.items()}, ref.to_mp(X),
                     {k: ref.to_mp(a) for k, a in v.items()}, ref.to_mp(R))
    args = (activation, output)
    g_ref, gx_ref = ref.grads(P, Xm, y, *args)
    out = net.loss_and_grads(params, X, y)
    fisher = getattr(net, fisher_name)
    pairs = {
        "grad": (out.grads, g_ref),
        "input_grad": ({"X": out.input_grad}, {"X": gx_ref}),
        "hvp": (net.hvp(params, X, y, v), ref.hvp(P, Xm, y, Vm, *args)),
        "fisher": (fisher(params, X, v), ref.fisher_product(P, Xm, Vm, *args)),
        "input_fisher": ({"X": net.input_fisher_product(params, X, R)},
                         {"X": ref.input_fisher_product(P, Xm, Rm, *args)}),
    }
    return {name: max(ref.rel_err(lib[k], exact[k]) for k in exact)
            for name, (lib, exact) in pairs.items()}


CASES = [(a, o, r) for r in REGIMES for a in ACTIVATIONS for o in OUTPUTS]


@pytest.mark.parametrize("activation,output,regime", CASES,
                         ids=[f"{r}-{a}-{o}" for a, o, r in CASES])
def test_derivatives_match_mpmath(activation, output, regime):
    errors = measure(activation, output, regime)
    assert max(errors.values()) <= TOL, errors


# ------------------------------------------------------------------ Fisher / Gauss-Newton: PSD
PSD_CASES = [(a, o, r, s) for r in REGIMES for a in ACTIVATIONS for o in OUTPUTS for s in (1, 2)]


def slack(a, Ga):
    """``γ_P Σ|a ⊙ Ga| + TOL ‖a‖ ‖Ga‖``: dot-product rounding plus the product's own error."""
    gamma = len(a) * 2.0 ** -53 / (1 - len(a) * 2.0 ** -53)
    return gamma * np.sum(np.abs(a * Ga)) + TOL * np.linalg.norm(a) * np.linalg.norm(Ga)


@pytest.mark.parametrize("activation,output,regime,seed", PSD_CASES,
                         ids=[f"{r}-{a}-{o}-{s}" for a, o, r, s in PSD_CASES])
def test_fisher_products_are_symmetric_psd(activation, output, regime, seed):
    """``vᵀ G v ≥ 0`` and ``uᵀ G v = vᵀ G u`` for the parameter and the input Fisher products.

    Bound: the products are exact to ``TOL`` normwise (above), and a float64 dot product of
    length ``P`` errs by at most ``γ_P Σ|x_i y_i|``; so ``vᵀGv ≥ -(γ_P Σ|v ⊙ Gv| + TOL ‖v‖
    ‖Gv‖)`` and the symmetry defect is at most twice that.
    """
    params, X, _, _, _ = problem(activation, output, regime, seed)
    net = MLP(list(SIZES), activation=activation, output=output)
    rng = np.random.default_rng(seed)
    for kind in ("param", "input"):
        if kind == "param":
            u, v = (rng.normal(size=net.n_params) for _ in range(2))
            G = lambda w: flatten(net.fisher_product(params, X, unflatten(w, params)))  # noqa: E731
        else:
            u, v = (rng.normal(size=X.size) for _ in range(2))
            G = lambda w: net.input_fisher_product(params, X, w.reshape(X.shape)).ravel()  # noqa: E731
        Gu, Gv = G(u), G(v)
        assert v @ Gv >= -slack(v, Gv), kind
        assert abs(u @ Gv - v @ Gu) <= slack(u, Gv) + slack(v, Gu), kind


@pytest.mark.parametrize("output", OUTPUTS)
def test_fisher_product_against_dense_matrices(output):
    """``fisher_product`` = ``Σ_i J_iᵀ F_i J_i / n`` built densely (``J`` column by column from
    the R-forward pass, ``F_i`` from its definition ``S (diag g - g gᵀ) S``).  For softmax it
    is also the generalised Gauss-Newton ``Σ J_iᵀ ∇²_z ℓ_i J_i / n``; for sigsoftmax it is not
    (that matrix is indefinite: the label-dependent term ``diag((g - e_y) ⊙ ∂s/∂z)``)."""
    params, X, y, v, _ = problem("tanh", output, "ordinary")
    net = MLP(list(SIZES), activation="tanh", output=output)
    z, cache = net.forward(params, X)
    P, (n, C) = net.n_params, z.shape
    eye = np.eye(P)
    J = np.stack([net.jvp_logits(params, cache, unflatten(e, params), None) for e in eye], -1)
    g = np.exp(net.output.log_proba(z))
    s = 1 + 1 / (1 + np.exp(z)) if output == "sigsoftmax" else np.ones_like(z)
    F = [np.diag(s[i]) @ (np.diag(g[i]) - np.outer(g[i], g[i])) @ np.diag(s[i]) for i in range(n)]
    dense = sum(J[i].T @ F[i] @ J[i] for i in range(n)) / n                   # (P, P)
    fv = flatten(net.fisher_product(params, X, v))
    np.testing.assert_allclose(fv, dense @ flatten(v), rtol=1e-13, atol=1e-15)
    hess_z = [np.stack([net.output.nll_hvp(z[i:i + 1], y[i:i + 1], e[None])[0]
                        for e in np.eye(C)], -1) for i in range(n)]
    ggn = sum(J[i].T @ hess_z[i] @ J[i] for i in range(n)) / n
    if output == "softmax":
        np.testing.assert_allclose(ggn, dense, rtol=1e-13, atol=1e-15)
    else:
        assert np.abs(ggn - dense).max() > 1e-3
        assert np.linalg.eigvalsh(dense).min() >= -1e-14


def test_l2_adds_to_fisher_product_like_hvp():
    params, X, y, v, _ = problem("tanh", "softmax", "ordinary")
    net = MLP(list(SIZES), activation="tanh")
    base, pen = net.fisher_product(params, X, v), net.fisher_product(params, X, v, l2=0.3)
    for k in params:
        expected = base[k] + 0.3 * v[k] if k in net.weight_names else base[k]
        np.testing.assert_array_equal(pen[k], expected)


# ------------------------------------------------------------------ numerics and losses alone
U = 2.0 ** -53
ZS = np.array([[40.0, 0.0, -3.0], [1e-3, 0.0, 2e-3], [-30.0, 25.0, 24.9], [700.0, -700.0, 0.0],
               [3.0, 44.0, 2.0], [-1e-9, 1e-9, 0.0]])


def _mp_rows(f, Z):
    return [f([ref.mp.mpf(float(t)) for t in row]) for row in Z]


@pytest.mark.parametrize("output", OUTPUTS)
def test_log_proba_and_nll_gradient_vs_mpmath(output):
    """``log p_k``: each of the ~6 operations of ``z - (log Σ exp(z - M) + M)`` errs by at most
    ``u`` times the magnitude it handles (``|z_k|``, ``|M|``, ``log C``), so ``|Δ log p_k| ≤
    8u (|z_k| + |M| + log C + 1)``; ``p_k = exp(log p_k)`` then has that relative error (+u),
    and so does ``-Σ_{k≠y} p_k`` (a sum of positive terms) and the sigsoftmax factor."""
    net_out = MLP([2, 3], output=output).output
    Z, y = ZS, np.array([0, 2, 1, 0, 1, 2])
    lp = net_out.log_proba(Z)
    Zm = ref.to_mp(Z)
    exact_lp = ref.log_proba(Zm, output)
    for i in range(len(Z)):
        M = np.max(np.abs(Z[i]))
        for k in range(Z.shape[1]):
            bound = 8 * U * (abs(Z[i, k]) + M + np.log(3) + 1)
            assert abs(ref.mp.mpf(float(lp[i, k])) - exact_lp[i, k]) <= bound, (i, k)
    _, dz = net_out.nll(Z, y)
    exact = ref.dloss_dlogits(Zm, y, output)
    for i in range(len(Z)):
        rel = 8 * U * (2 * np.max(np.abs(Z[i])) + np.log(3) + 2) + 4 * U
        for k in range(Z.shape[1]):
            e = exact[i, k]
            assert abs(ref.mp.mpf(float(dz[i, k])) - e) <= rel * abs(e) + 1e-300, (i, k)


@pytest.mark.parametrize("output", OUTPUTS)
def test_logit_fisher_and_hessian_products_vs_mpmath(output):
    """``F(z) r`` and ``∇²_z ℓ r`` per row to 1e-12 relative, including rows with
    ``1 - p_max`` ≈ 4e-18 where the unpivoted form loses every digit."""
    fam = MLP([2, 3], output=output).output
    Z, y = ZS[:3], np.array([0, 0, 1])
    r = np.random.default_rng(0).normal(size=Z.shape)
    Zm, rm = ref.to_mp(Z), ref.to_mp(r)
    exact_f = ref.fisher(Zm, rm, output)
    # ∇²_z ℓ r by a central difference of the exact mp gradient
    gp = ref.dloss_dlogits(Zm + ref.STEP * rm, y, output)
    gm = ref.dloss_dlogits(Zm - ref.STEP * rm, y, output)
    exact_h = (gp - gm) / (2 * ref.STEP)
    for got, exact in ((fam.kl_hvp(Z, r), exact_f), (fam.nll_hvp(Z, y, r), exact_h)):
        for i in range(len(Z)):
            assert ref.rel_err(got[i], exact[i]) <= TOL, i


@pytest.mark.parametrize("t", [-745.0, -40.0, -15.0, -1e-8, 0.0, 1e-8, 15.0, 40.0, 700.0])
def test_elementwise_numerics_vs_mpmath(t):
    from minadv import numerics as nm
    a = ref.mp.mpf(t)
    exact = {"sigmoid": 1 / (1 + ref.mp.exp(-a)), "softplus": ref.mp.log1p(ref.mp.exp(a)),
             "log_sigmoid": -ref.mp.log1p(ref.mp.exp(-a))}
    for name, e in exact.items():
        got = ref.mp.mpf(float(getattr(nm, name)(np.array(t))))
        assert abs(got - e) <= 4 * U * abs(e) + 1e-320, name      # a few ulps, or subnormal
