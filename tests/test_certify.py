"""Soundness of minadv.certify: tests that fail when a bound is wrong.

Networks: seeded random ReLU MLPs (input dims 2–20, 1–2 hidden layers of <= 16 units, 2–4
classes, non-zero biases) and a 64-16-10 network trained briefly on the shipped digits.

Tolerances, derived before the runs:

* floating point (interval/linear bounds vs a forward pass, both float64): each layer's dot
  products of length n <= 64 err by at most ``γ_n Σ|w_i h_i| <= 64 · 1.1e-16 · S`` with
  ``S = Σ|w||h|``; over <= 3 layers and both computations this stays below ``1e-12 · (1 + S)``
  for the magnitudes here, so ``FP_TOL = 1e-12 · (1 + |value|)`` (values are O(10)).
* HiGHS (LP and MILP optima): primal/dual feasibility tolerances 1e-7 on coefficients of size
  O(1–10) give ``SOLVER_TOL = 1e-6`` absolute on a margin (``minadv.certify.program``).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from minadv.attacks import pgd
from minadv.certify import (
    FALSIFIED,
    UNKNOWN,
    VERIFIED,
    as_network,
    certify_interval,
    certify_linear,
    certify_lp,
    input_set,
    interval_bounds,
    linear_bounds,
    verify_exact,
)
from minadv.models import MLP

SOLVER_TOL = 1e-6


def fp_tol(value):
    return 1e-12 * (1.0 + np.abs(value))


def random_case(seed: int):
    """A random ReLU MLP, 4 points in [0, 1]^d, an eps and a box (or none)."""
    gen = np.random.default_rng(seed)
    d = int(gen.integers(2, 21))
    hidden = [int(gen.integers(2, 17)) for _ in range(int(gen.integers(1, 3)))]
    n_classes = int(gen.integers(2, 5))
    model = MLP([d, *hidden, n_classes])
    params = model.init_params(rng=gen)
    for key in params:
        if key.startswith("b"):
            params[key] = 0.3 * gen.standard_normal(params[key].shape)
    X = gen.random((4, d))
    eps = float(gen.choice([0.02, 0.05, 0.1, 0.2]))
    box = {"clip_min": 0.0, "clip_max": 1.0} if seed % 2 == 0 else {}
    return model, params, X, eps, box


SEEDS = list(range(12))
CASES = {seed: random_case(seed) for seed in SEEDS}


def run_all(model, params, X, eps, box, time_limit=30.0):
    """Every method with the same hidden bounds (the linear-relaxation bounds)."""
    bounds = linear_bounds(model, params, X, eps, **box)
    kw = dict(eps=eps, bounds=bounds, **box)
    return bounds, {
        "interval": certify_interval(model, params, X, **kw),
        "linear": certify_linear(model, params, X, **kw),
        "lp": certify_lp(model, params, X, time_limit=time_limit, **kw),
        "exact": verify_exact(model, params, X, time_limit=time_limit, **kw),
    }


def sample_input_set(X_row, eps, box, n, gen):
    """``n`` uniform points of the L∞ ball ∩ box around one point."""
    lo = np.maximum(X_row - eps, box.get("clip_min", -np.inf))
    hi = np.minimum(X_row + eps, box.get("clip_max", np.inf))
    return lo + (hi - lo) * gen.random((n, X_row.size))


def margins_at(net, Z_rows, y, classes):
    """``z_y - z_j`` for the wrong classes ``classes`` (m,), at the rows of ``Z_rows``."""
    z = net.logits(Z_rows)
    return z[:, [y]] - z[:, classes]


def pre_activations(net, X):
    """Every layer's pre-activations ``[a_1, …, a_L]`` of ``X``."""
    out, h = [], X
    for l, (W, b) in enumerate(zip(net.weights, net.biases), 1):
        a = h @ W + b
        out.append(a)
        h = np.maximum(a, 0) if l < net.n_layers else a
    return out


@functools.cache
def results(seed):
    """``run_all`` of a random case, computed once for the three tests that read it."""
    return run_all(*CASES[seed])


# ------------------------------------------------------------------------- (a) hierarchy
@pytest.mark.parametrize("seed", SEEDS)
def test_hierarchy_interval_linear_lp_exact_pgd(seed):
    model, params, X, eps, box = CASES[seed]
    _, res = results(seed)
    m = {k: v.margins for k, v in res.items()}
    assert np.all(m["interval"] <= m["lp"] + SOLVER_TOL)
    assert np.all(m["linear"] <= m["lp"] + SOLVER_TOL)
    assert np.all(m["interval"] <= m["linear"] + fp_tol(m["linear"]))
    assert np.all(m["lp"] <= m["exact"] + SOLVER_TOL)
    assert set(res["exact"].status) <= {VERIFIED, FALSIFIED}       # small nets always solve
    # the exact minimum lies below the margin at any point of the set, e.g. PGD's output
    labels = np.argmax(model.logits(params, X), axis=1)
    X_adv = pgd(model, params, X, labels, eps, n_steps=50, n_restarts=3, rng=seed, **box)
    net = as_network(model, params)
    for i in range(X.shape[0]):
        at_pgd = margins_at(net, X_adv[i:i + 1], labels[i], res["exact"].classes[i])[0]
        assert np.all(res["exact"].margins[i] <= at_pgd + SOLVER_TOL)
        pgd_robust = np.all(at_pgd > 0)
        # IBP-certified ⊆ linear-certified, LP-certified ⊆ exactly robust ⊆ PGD-robust
        if res["interval"].status[i] == VERIFIED:
            assert res["linear"].status[i] == VERIFIED
        for method in ("interval", "linear", "lp"):
            if res[method].status[i] == VERIFIED:
                assert res["exact"].status[i] == VERIFIED, method
            if res[method].status[i] == FALSIFIED:
                assert res["exact"].status[i] == FALSIFIED, method
        if res["exact"].status[i] == VERIFIED:
            assert pgd_robust
        if not pgd_robust:
            assert res["exact"].status[i] == FALSIFIED


def test_the_random_cases_cover_every_verdict():
    """The hierarchy test is only informative if the cases are neither all robust nor all
    broken: over the 12 networks the exact verdicts include both."""
    statuses = set()
    for seed in SEEDS:
        statuses |= set(results(seed)[1]["exact"].status)
    assert {VERIFIED, FALSIFIED} <= statuses


# ------------------------------------------------------------------------- (b) containment
@pytest.mark.parametrize("seed", SEEDS)
def test_every_bound_contains_the_network_at_sampled_points(seed):
    model, params, X, eps, box = CASES[seed]
    bounds, res = results(seed)
    ibp = interval_bounds(model, params, X, eps, **box)
    net = as_network(model, params)
    gen = np.random.default_rng(1000 + seed)
    labels = np.argmax(net.logits(X), axis=1)
    for i in range(X.shape[0]):
        Z = sample_input_set(X[i], eps, box, 10_000, gen)
        cex = [c for c in (r.counterexamples[i] for r in res.values()) if c is not None]
        Z = np.vstack([Z, *cex]) if cex else Z
        for (lo, up), (ilo, iup), a in zip(bounds, ibp, pre_activations(net, Z)):
            assert np.all(lo[i] <= a + fp_tol(a)) and np.all(a <= up[i] + fp_tol(a))
            assert np.all(ilo[i] <= a + fp_tol(a)) and np.all(a <= iup[i] + fp_tol(a))
            assert np.all(ilo[i] <= lo[i] + fp_tol(lo[i]))          # linear ⊆ interval
        values = margins_at(net, Z, labels[i], res["exact"].classes[i])   # (n_Z, m)
        for name, cert in res.items():
            tol = SOLVER_TOL if name in ("lp", "exact") else fp_tol(values)
            assert np.all(cert.margins[i] <= values + tol), name


@pytest.mark.parametrize("seed", SEEDS)
def test_counterexamples_are_in_the_set_and_misclassified(seed):
    model, params, X, eps, box = CASES[seed]
    _, res = results(seed)
    labels = np.argmax(model.logits(params, X), axis=1)
    region = input_set(X, eps, **box)
    for cert in res.values():
        for i, x in enumerate(cert.counterexamples):
            assert (x is None) == (cert.status[i] != FALSIFIED)
            if x is not None:
                assert np.all(region.lower[i] <= x) and np.all(x <= region.upper[i])
                z = model.logits(params, x[None, :])[0]
                assert np.max(np.delete(z, labels[i])) >= z[labels[i]]


# ------------------------------------------------------------------------- (c) brute force
def pattern_minimum(net, lower0, upper0, c):
    """min_x c·z(x) over the box by enumerating every activation pattern (an LP each).

    A pattern fixes each hidden unit on (a >= 0, h = a) or off (a <= 0, h = 0), so every
    pre-activation is an affine function ``x M + v`` of the input: the LP has ``x`` only.
    """
    d = lower0.size
    sizes = [W.shape[1] for W in net.weights[:-1]]
    best = np.inf
    for pattern in itertools.product((0.0, 1.0), repeat=sum(sizes)):
        M, v, A_ub, b_ub, start = np.eye(d), np.zeros(d), [], [], 0
        for W, b, k in zip(net.weights[:-1], net.biases[:-1], sizes):
            M, v = M @ W, v @ W + b                              # a = x M + v
            on = np.array(pattern[start:start + k])
            start += k
            sign = np.where(on == 1, -1.0, 1.0)                  # on: -a <= 0, off: a <= 0
            A_ub.append((M * sign).T)
            b_ub.append(-v * sign)
            M, v = M * on, v * on                                # h = a (on) or 0 (off)
        M, v = M @ net.weights[-1], v @ net.weights[-1] + net.biases[-1]
        res = linprog(M @ c, A_ub=np.vstack(A_ub), b_ub=np.concatenate(b_ub),
                      bounds=np.stack([lower0, upper0], axis=1), method="highs")
        if res.status == 0:
            best = min(best, res.fun + v @ c)
    return best


BRUTE = [(seed, d, hidden) for seed, (d, hidden) in enumerate(
    [(2, [4]), (3, [6]), (5, [3, 3]), (8, [2, 4]), (4, [5]), (6, [3, 2]), (10, [6]),
     (20, [4, 2])])]


@pytest.mark.parametrize("seed, d, hidden", BRUTE)
def test_milp_optimum_equals_brute_force_enumeration(seed, d, hidden):
    gen = np.random.default_rng(50 + seed)
    model = MLP([d, *hidden, 3])
    params = model.init_params(rng=gen)
    params = {k: (0.3 * gen.standard_normal(v.shape) if k.startswith("b") else v)
              for k, v in params.items()}
    X = gen.random((2, d))
    cert = verify_exact(model, params, X, eps=0.3, clip_min=0.0, clip_max=1.0)
    net, region = as_network(model, params), input_set(X, 0.3, clip_min=0.0, clip_max=1.0)
    for i in range(2):
        y = cert.classes[i]
        label = ({0, 1, 2} - set(y.tolist())).pop()
        for k, j in enumerate(y):
            c = np.zeros(3)
            c[label], c[j] = 1.0, -1.0
            brute = pattern_minimum(net, region.lower[i], region.upper[i], c)
            assert abs(cert.margins[i, k] - brute) <= SOLVER_TOL


# ------------------------------------------------------------------------- (d) non-finite
def test_nan_bounds_are_never_verified():
    """A NaN pre-activation bound carries no information: every method answers "unknown"."""
    model, params, X, eps, box = CASES[1]
    bounds = linear_bounds(model, params, X, eps, **box)
    broken = [(lo.copy(), up.copy()) for lo, up in bounds]
    for lo, up in broken:                                        # unit 0 of every layer
        lo[:, 0] = up[:, 0] = np.nan
    assert np.all(certify_interval(model, params, X, eps=0.0).status == VERIFIED)
    for certify in (certify_interval, certify_linear, certify_lp, verify_exact):
        cert = certify(model, params, X, eps=eps, bounds=broken, **box)
        assert set(cert.status) == {UNKNOWN}, certify.__name__
        assert np.all(np.isnan(cert.margins).any(axis=1)), certify.__name__


def test_infinite_bounds_stay_sound():
    """An infinite bound is sound but loose: the relaxations may still verify (a unit whose
    infinite side is never used), LP/MILP refuse (no big-M constant), and whatever is verified
    is verified by the exact answer with the true bounds too; a reported non-finite margin is
    never verified."""
    model, params, X, eps, box = CASES[1]
    bounds = linear_bounds(model, params, X, eps, **box)
    exact = verify_exact(model, params, X, eps=eps, **box)
    broken = [(lo.copy(), up.copy()) for lo, up in bounds]
    for lo, up in broken:
        up[:, 0], lo[:, 1] = np.inf, -np.inf
    for certify in (certify_interval, certify_linear, certify_lp, verify_exact):
        cert = certify(model, params, X, eps=eps, bounds=broken, **box)
        for i, status in enumerate(cert.status):
            if status == VERIFIED:
                assert np.all(np.isfinite(cert.margins[i])) and exact.status[i] == VERIFIED
            if not np.all(np.isfinite(cert.margins[i])):
                assert status != VERIFIED
        if certify in (certify_lp, verify_exact):
            assert set(cert.status) == {UNKNOWN}


def test_overflowing_weights_give_unknown_not_verified():
    model = MLP([3, 4, 2])
    params = model.init_params(rng=0)
    params["W1"] = params["W1"] * 1e200
    params["W2"] = params["W2"] * 1e200
    X = np.full((2, 3), 0.5)
    for certify in (certify_interval, certify_linear, certify_lp, verify_exact):
        cert = certify(model, params, X, eps=0.1)
        assert VERIFIED not in set(cert.status), certify.__name__


# ------------------------------------------------------------------------- digits network
@pytest.fixture(scope="module")
def digits_net():
    from minadv.datasets import load_digits, train_test_split
    from minadv.optim import adam
    from minadv.training import ERM, fit

    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
    model = MLP([64, 16, 10])
    params = fit(model, model.init_params(rng=0), ERM(), X_tr, y_tr, optimizer=adam(1e-2),
                 epochs=5, batch_size=64, rng=0, verbose=0).params
    assert np.mean(model.predict(params, X_te) == y_te) > 0.85
    return model, params, X_te[:6], y_te[:6]


def test_digits_hierarchy_and_containment(digits_net):
    model, params, X, y = digits_net
    box = {"clip_min": 0.0, "clip_max": 1.0}
    eps = 0.03
    bounds, res = run_all(model, params, X, eps, box)
    net = as_network(model, params)
    gen = np.random.default_rng(7)
    m = {k: v.margins for k, v in res.items()}
    assert np.all(m["interval"] <= m["lp"] + SOLVER_TOL)
    assert np.all(m["linear"] <= m["lp"] + SOLVER_TOL)
    assert np.all(m["lp"] <= m["exact"] + SOLVER_TOL)
    labels = np.argmax(net.logits(X), axis=1)
    for i in range(X.shape[0]):
        Z = sample_input_set(X[i], eps, box, 10_000, gen)
        values = margins_at(net, Z, labels[i], res["exact"].classes[i])
        for name, cert in res.items():
            assert np.all(cert.margins[i] <= values + SOLVER_TOL), name
        for (lo, up), a in zip(bounds, pre_activations(net, Z)):
            assert np.all(lo[i] <= a + fp_tol(a)) and np.all(a <= up[i] + fp_tol(a))
