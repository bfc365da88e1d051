"""Tests for Entropy-SGD (docs/theory.md sections 3.5, 9.2 and checklist item 13.9)."""

import copy

import numpy as np
import pytest
from test_optim import run  # the optimizer-driving helper, shared with test_optim

from minadv.optim import (
    entropy_sgd,
    langevin_mean,
    local_entropy_grad,
    piecewise_constant_schedule,
    scoped_gamma,
    sgd,
)


def quadratic(a):
    """f(x) = a x^2 / 2 coordinate-wise; exact gradient a x (every "minibatch" is the same)."""
    return lambda p: {k: a * v for k, v in p.items()}


def exact_gibbs_mean(a):
    """Mean of exp(-a x'^2/2 - gamma/2 (x - x')^2): gamma x / (a + gamma)."""
    return lambda p, gamma: {k: gamma * v / (a + gamma) for k, v in p.items()}




PARAMS = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.25, -1.0])}


# ----------------------------------------------------------------------------- L = 0


@pytest.mark.parametrize("lr", [0.1, piecewise_constant_schedule(0.1, {3: 0.2})],
                         ids=["const-lr", "schedule"])
def test_L0_is_base_sgd_bitwise(lr):
    grad_fn = quadratic(np.array(1.7))
    kw = dict(momentum=0.9, nesterov=True, l2=1e-3)
    ent, _ = run(entropy_sgd(lr, L=0, **kw, rng=0), PARAMS, grad_fn, 8)
    base, _ = run(sgd(lr, **kw), PARAMS, grad_fn, 8)
    for k in PARAMS:
        np.testing.assert_array_equal(ent[k], base[k])


def test_L0_needs_no_grad_fn():
    opt = entropy_sgd(0.1, L=0)
    updates, state = opt.update(quadratic(1.0)(PARAMS), opt.init(PARAMS), PARAMS)
    assert state.count == 1 and state.base.count == 1


# ----------------------------------------------------------------------------- exact Gibbs mean


def test_local_entropy_grad_quadratic_shrink_factor():
    # theory 3.5: a = 100, gamma = 1 -> a gamma / (a + gamma) = 100/101 = 0.990099...
    x = {"w": np.array([1.0, -3.0])}
    g = local_entropy_grad(x, exact_gibbs_mean(100.0)(x, 1.0), 1.0)
    np.testing.assert_allclose(g["w"], 100.0 / 101.0 * x["w"], rtol=1e-14)


@pytest.mark.parametrize("scale_by_gamma", [True, False], ids=["paper", "lua"])
def test_outer_step_with_exact_gibbs_mean(scale_by_gamma):
    a, gamma0, lr = 3.0, 0.5, 0.1
    opt = entropy_sgd(lr, gamma0=gamma0, scoping=0.0, scale_by_gamma=scale_by_gamma,
                      gibbs_mean_fn=exact_gibbs_mean(a))
    updates, _ = opt.update(None, opt.init(PARAMS), PARAMS)
    # outer gradient gamma (x - <x'>) = a gamma / (a + gamma) x; the Lua form drops gamma
    factor = a * gamma0 / (a + gamma0) if scale_by_gamma else a / (a + gamma0)
    for k, x in PARAMS.items():
        np.testing.assert_allclose(updates[k], -lr * factor * x, rtol=1e-14)


def test_scoping_increments_per_update():
    seen = []

    def recorder(p, gamma):
        seen.append(gamma)
        return p

    opt = entropy_sgd(1.0, gamma0=0.03, scoping=1e-3, gibbs_mean_fn=recorder)
    run(opt, PARAMS, quadratic(1.0), 3)
    # gamma_t = gamma0 (1 + g1)^t, t = 1, 2, 3 (the Lua counter is incremented first)
    np.testing.assert_allclose(seen, [0.03 * 1.001, 0.03 * 1.001 ** 2, 0.03 * 1.001 ** 3],
                               rtol=1e-14)
    assert scoped_gamma(0.03, 1e-3, 0) == 0.03


# ----------------------------------------------------------------------------- Langevin loop


def test_langevin_ema_approaches_gibbs_mean_without_momentum():
    # f = x^2/2 (a = 1), gamma = 1, x = 1: <x'> = 1/2.  4000 independent coordinates, 300
    # SGLD steps with large noise; the mean over coordinates is ~0.5 +- 1e-3 (margin 1e-2).
    x = {"w": np.ones(4000)}
    opt = entropy_sgd(1.0, L=300, gamma0=1.0, scoping=0.0, noise=0.05, momentum=0.0,
                      nesterov=False, scale_by_gamma=True, rng=3)
    updates, _ = opt.update(None, opt.init(x), x, grad_fn=quadratic(1.0))
    mu = x["w"] + updates["w"]                        # lr = 1: x - gamma (x - mu) = mu
    assert abs(mu.mean() - 0.5) < 1e-2
    assert 1e-3 < mu.std() < 0.1                      # the noise really is injected


def test_langevin_with_momentum_targets_scope_gamma_times_one_minus_m():
    # Lua momentum acts on the gradient only: stationary b = g / (1 - m), so the loop targets
    # the Gibbs mean of scope gamma (1 - m): 0.1 / (1 + 0.1) = 0.0909 for a = gamma = x = 1.
    x = {"w": np.ones(4000)}
    mu = langevin_mean(x, quadratic(1.0), 1.0, rng=4, L=300, noise=0.01, momentum=0.9,
                       nesterov=True)
    assert abs(mu["w"].mean() - 0.1 / 1.1) < 1e-2


def test_langevin_calls_grad_fn_L_times_and_discards_clean_gradient():
    calls = []

    def grad_fn(p):
        calls.append(1)
        return quadratic(2.0)(p)

    opt = entropy_sgd(0.5, L=7, rng=0)
    u1, _ = opt.update(quadratic(2.0)(PARAMS), opt.init(PARAMS), PARAMS, grad_fn=grad_fn)
    assert len(calls) == 7
    garbage = {k: np.full_like(v, 1e9) for k, v in PARAMS.items()}
    u2, _ = opt.update(garbage, opt.init(PARAMS), PARAMS, grad_fn=grad_fn)
    for k in PARAMS:
        np.testing.assert_array_equal(u1[k], u2[k])


def test_same_seed_same_trajectory_bitwise():
    grad_fn = quadratic(1.5)
    kw = dict(L=5, noise=1e-2)
    p1, s1 = run(entropy_sgd(0.5, **kw, rng=11), PARAMS, grad_fn, 4)
    p2, s2 = run(entropy_sgd(0.5, **kw, rng=np.random.default_rng(11)), PARAMS, grad_fn, 4)
    p3, _ = run(entropy_sgd(0.5, **kw, rng=12), PARAMS, grad_fn, 4)
    for k in PARAMS:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert not np.array_equal(p1["W"], p3["W"])
    assert s1.count == 4 and np.array_equal(s1.key, s2.key)


def test_state_not_mutated_and_replayable():
    opt = entropy_sgd(0.5, L=3, noise=1e-2, rng=0)
    grad_fn = quadratic(1.0)
    _, state = run(opt, PARAMS, grad_fn, 2)
    saved = copy.deepcopy((state, PARAMS))
    u1, s1 = opt.update(None, state, PARAMS, grad_fn=grad_fn)
    u2, _ = opt.update(None, state, PARAMS, grad_fn=grad_fn)
    np.testing.assert_array_equal(saved[0].key, state.key)
    assert saved[0].count == state.count == 2 and s1.count == 3
    for k in PARAMS:
        np.testing.assert_array_equal(saved[1][k], PARAMS[k])
        np.testing.assert_array_equal(u1[k], u2[k])


def test_float32_with_langevin_loop():
    p32 = {k: v.astype(np.float32) for k, v in PARAMS.items()}
    opt = entropy_sgd(0.5, L=3, noise=1e-2, rng=0)
    updates, state = opt.update(None, opt.init(p32), p32, grad_fn=quadratic(np.float32(1.0)))
    assert all(u.dtype == np.float32 for u in updates.values())
    assert all(v.dtype == np.float32 for v in state.base.trace.values())


def test_missing_grad_fn_is_a_clear_error():
    opt = entropy_sgd(0.5, L=2)
    with pytest.raises(TypeError, match="grad_fn.*fresh minibatch"):
        opt.update(None, opt.init(PARAMS), PARAMS)


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -1.0}, "lr"),
    ({"L": -1}, "L"),
    ({"gamma0": -0.1}, "gamma0"),
    ({"scoping": -1e-3}, "scoping"),
    ({"sgld_lr": 0.0}, "sgld_lr"),
    ({"noise": -1.0}, "noise"),
    ({"beta": 1.0}, "beta"),
    ({"beta": -0.1}, "beta"),
    ({"momentum": 1.0}, "momentum"),
    ({"l2": -1.0}, "l2"),
], ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        entropy_sgd(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"L": 2.5}, "L"),
    ({"scale_by_gamma": "yes"}, "scale_by_gamma"),
    ({"gibbs_mean_fn": 3}, "gibbs_mean_fn"),
    ({"rng": "seed"}, "rng"),
], ids=["L-float", "scale-str", "gibbs-int", "rng-str"])
def test_bad_types(kwargs, match):
    with pytest.raises(TypeError, match=match):
        entropy_sgd(**kwargs)
