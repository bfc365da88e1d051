"""Certified training objectives: the IBP bound's explicit backward and TRADES's gradient
against central finite differences, the schedule, registration, validation, and that IBP
training makes the interval bound certify points it could not certify after ERM."""

from __future__ import annotations

import numpy as np
import pytest

from minadv.certify import as_network, certify_interval, input_set
from minadv.certify.certificate import margin_specs
from minadv.certify.interval import interval_margins_backward, interval_margins_forward
from minadv.models import MLP, LogisticRegressionModel
from minadv.training import ERM, fit, make_objective
from minadv.training.objectives import (
    OBJECTIVES,
    IBPObjective,
    TRADESObjective,
    ibp_loss_and_grads,
    ibp_schedule,
    trades_attack_kernel,
    trades_loss_and_grads,
)

# Central differences with h = 1e-6 in float64: truncation O(h²·f''') ~ 1e-12 and rounding
# O(u·|f|/h) ~ 1e-10 relative to O(1) values, so 1e-6 relative error (cs231n's rule of thumb for
# float64 is < 1e-7 for smooth functions) leaves room for the kinks of relu and |W| that a
# random point avoids by a margin much larger than h.
H, RTOL = 1e-6, 1e-6


def rel_err(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def fd_check(loss_fn, params, grads):
    worst = 0.0
    for key, value in params.items():
        for idx in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            up[key][idx] += H
            down = {k: v.copy() for k, v in params.items()}
            down[key][idx] -= H
            fd = (loss_fn(up) - loss_fn(down)) / (2 * H)
            worst = max(worst, rel_err(np.array(fd), np.array(grads[key][idx])))
    return worst


@pytest.fixture(params=["relu", "tanh", "softplus"])
def problem(request):
    model = MLP([5, 6, 4, 3], activation=request.param)
    gen = np.random.default_rng(0)
    params = {k: v + 0.1 * gen.standard_normal(v.shape)
              for k, v in model.init_params(rng=0).items()}
    X = gen.random((7, 5))
    y = gen.integers(0, 3, 7)
    return model, params, X, y


def test_interval_margin_backward_matches_finite_differences(problem):
    model, params, X, y = problem
    spec, _ = margin_specs(y, 3, X.dtype)
    region = input_set(X, 0.1, clip_min=0.0, clip_max=1.0)
    g = np.random.default_rng(1).standard_normal((7, 2))

    def value(p):
        m, _ = interval_margins_forward(as_network(model, p), region.lower, region.upper, spec)
        return float(np.sum(g * m))

    _, cache = interval_margins_forward(as_network(model, params), region.lower, region.upper,
                                        spec)
    dWs, dbs = interval_margins_backward(g, cache, as_network(model, params))
    grads = {}
    for (wk, bk), dW, db in zip(model.layer_keys, dWs, dbs):
        grads[wk], grads[bk] = dW, db
    assert fd_check(value, params, grads) < RTOL


@pytest.mark.parametrize("kappa", [0.0, 0.5, 1.0])
def test_ibp_loss_gradient_matches_finite_differences(problem, kappa):
    model, params, X, y = problem
    kw = dict(eps=0.1, kappa=kappa, clip_min=0.0, clip_max=1.0, l2=0.01)
    _, grads = ibp_loss_and_grads(model, params, X, y, **kw)
    assert fd_check(lambda p: ibp_loss_and_grads(model, p, X, y, **kw)[0], params, grads) < RTOL


def test_ibp_loss_at_eps_zero_is_the_clean_loss(problem):
    model, params, X, y = problem
    robust, _ = ibp_loss_and_grads(model, params, X, y, eps=0.0, kappa=0.0)
    assert robust == pytest.approx(model.loss(params, X, y), rel=1e-12)


def test_trades_gradient_matches_finite_differences(problem):
    model, params, X, y = problem
    X_adv = trades_attack_kernel(model, params, X, eps=0.1, step_size=0.03, n_steps=5,
                                 clip_min=0.0, clip_max=1.0, rng=np.random.default_rng(0))
    assert np.all(np.abs(X_adv - X) <= 0.1 + 1e-15) and X_adv.min() >= 0 and X_adv.max() <= 1
    _, grads = trades_loss_and_grads(model, params, X, X_adv, y, beta=6.0, l2=0.01)
    value = lambda p: trades_loss_and_grads(model, p, X, X_adv, y, beta=6.0, l2=0.01)[0]  # noqa: E731
    assert fd_check(value, params, grads) < RTOL


def test_trades_attack_increases_the_kl(problem):
    model, params, X, y = problem
    gen = np.random.default_rng(0)
    X_adv = trades_attack_kernel(model, params, X, eps=0.1, step_size=0.03, n_steps=10,
                                 rng=gen)
    loss_adv = trades_loss_and_grads(model, params, X, X_adv, y, beta=1.0)[0]
    loss_clean = trades_loss_and_grads(model, params, X, X.copy(), y, beta=1.0)[0]
    assert loss_adv > loss_clean                                 # KL(p ‖ p) = 0 at x' = x


def test_ibp_schedule_ramps_eps_up_and_kappa_down():
    kw = dict(eps=0.2, kappa=0.5, warmup_steps=10, ramp_steps=20)
    assert ibp_schedule(0, **kw) == (0.0, 1.0)
    assert ibp_schedule(10, **kw) == (0.0, 1.0)
    assert ibp_schedule(20, **kw) == pytest.approx((0.1, 0.75))
    assert ibp_schedule(30, **kw) == pytest.approx((0.2, 0.5))
    assert ibp_schedule(99, **kw) == pytest.approx((0.2, 0.5))
    assert ibp_schedule(3, eps=0.2, kappa=0.5, warmup_steps=3, ramp_steps=0) == (0.2, 0.5)


def test_objectives_are_registered_and_validated():
    assert OBJECTIVES["ibp"] is IBPObjective and OBJECTIVES["trades"] is TRADESObjective
    assert make_objective("trades", eps=0.2, beta=1.0) == TRADESObjective(eps=0.2, beta=1.0)
    model = MLP([3, 4, 2])
    for bad, name in ((IBPObjective(kappa=1.5), "kappa"), (IBPObjective(eps=-1.0), "eps"),
                      (TRADESObjective(n_steps=0), "n_steps"),
                      (TRADESObjective(beta=-1.0), "beta")):
        with pytest.raises(ValueError, match=name):
            bad.validate(model)
    with pytest.raises(TypeError, match="model"):
        IBPObjective().validate(LogisticRegressionModel(3))
    with pytest.raises(TypeError, match="model"):
        TRADESObjective().validate(LogisticRegressionModel(3))


def test_ibp_training_makes_the_interval_bound_certify():
    """On 2-D data with margin, ERM leaves the interval bound loose; IBP training (ramped)
    certifies more training points at the same eps — the point of Gowal et al."""
    gen = np.random.default_rng(0)
    X = gen.random((200, 2))
    y = (X[:, 0] + X[:, 1] > 1.0).astype(int)
    keep = np.abs(X[:, 0] + X[:, 1] - 1.0) > 0.3                 # a clear margin
    X, y = X[keep], y[keep]
    model = MLP([2, 16, 16, 2])
    from minadv.optim import adam

    def train(objective):
        return fit(model, model.init_params(rng=0), objective, X, y, optimizer=adam(1e-2),
                   epochs=40, batch_size=32, rng=0, verbose=0).params

    ibp = train(IBPObjective(eps=0.1, kappa=0.5, warmup_steps=20, ramp_steps=60, clip_min=0.0,
                             clip_max=1.0))
    erm = train(ERM())
    certified = {name: int(certify_interval(model, p, X, y, 0.1, clip_min=0.0,
                                            clip_max=1.0).verified.sum())
                 for name, p in (("erm", erm), ("ibp", ibp))}
    assert certified["ibp"] > certified["erm"]
