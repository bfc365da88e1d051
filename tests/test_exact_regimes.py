"""Exact in every regime: a tiny MLP against an arbitrary-precision reference (``mp_reference``).

For every activation × output (softmax, sigsoftmax) and five regimes — ordinary, saturated
hidden units (pre-activations 15–40), confident predictions (1 - p_max down to ~1e-17) and
inputs of scale 1e2 — the parameter gradient, input gradient, HVP, Fisher (Gauss-Newton)
product and input-Fisher product of the float64 model agree with the mpmath reference to
``TOL`` relative, per parameter array (so a tiny saturated block cannot hide behind a large
one).  ``confident`` mixes labels; ``confident_correct`` labels every row with its most probable
class, where the cross-entropy gradient is ``-Σ_{k≠y} p_k ≈ -1e-17`` at the label.

Why 1e-12 is a rounding bound, not a tuned number: every quantity here is a composition of at
most ~12 float64 operations per entry along the network's depth (two layers, three classes),
each with relative error ``u = 2^-53 ≈ 1.1e-16``, on data whose own condition number (the
ratio of the sum of absolute terms to the absolute sum in a row or column product) is below
``1e2`` for these seeds (checked in ``test_problems_are_well_conditioned``); the bound
``12 · u · 1e2 ≈ 1.3e-13`` sits under 1e-12.  A formula that subtracts nearly equal numbers
(``1 - tanh²`` at saturation, ``p - p Σ p r`` at p_max → 1) loses all digits and fails by
orders of magnitude, not by a factor.
"""

import mp_reference as ref
import numpy as np
import pytest

from minadv.models import MLP

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
