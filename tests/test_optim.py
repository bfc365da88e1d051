"""Tests for minadv.optim: the registry, SGD/momentum/Nesterov/Adam, schedules and SAM."""

import copy

import numpy as np
import pytest

from minadv.optim import (
    GRAD_FN_BATCH,
    OPTIMIZERS,
    adam,
    apply_updates,
    constant_schedule,
    cosine_decay_schedule,
    exponential_decay,
    make_optimizer,
    piecewise_constant_schedule,
    sam,
    sam_perturbation,
    sgd,
)

# ----------------------------------------------------------------------------- fixtures


def quadratic_problem(dtype=np.float64):
    """f(p) = 1/2 sum_k curv_k (p_k - target_k)^2: strongly convex, curvature in [0.5, 2]."""
    gen = np.random.default_rng(0)
    target = {"W": gen.normal(size=(3, 2)).astype(dtype), "b": gen.normal(size=2).astype(dtype)}
    curv = {"W": gen.uniform(0.5, 2.0, (3, 2)).astype(dtype),
            "b": gen.uniform(0.5, 2.0, 2).astype(dtype)}

    def grad_fn(p):                                   # exact gradient, same for every "batch"
        return {k: curv[k] * (p[k] - target[k]) for k in p}

    start = {"W": np.zeros((3, 2), dtype), "b": np.zeros(2, dtype)}
    return start, target, grad_fn


def run(opt, params, grad_fn, n_steps):
    state = opt.init(params)
    for _ in range(n_steps):
        updates, state = opt.update(grad_fn(params), state, params, grad_fn=grad_fn)
        params = apply_updates(params, updates)
    return params, state


def dist(a, b):
    return np.sqrt(sum(float(((a[k] - b[k]) ** 2).sum()) for k in a))


# Per-optimizer overrides of the registry defaults for the convergence test.  Adam's constant
# step hovers at distance ~lr, so it gets a cosine decay; SAM with a fixed rho hovers at
# distance O(rho) from the minimiser (its ascent step never vanishes), so rho is small here.
CONVERGENCE_KWARGS = {
    "sgd": {},
    "momentum": {},
    "nesterov": {},
    "adam": {"lr": cosine_decay_schedule(0.1, 300)},
    "entropy_sgd": {"rng": 0},
    "sam": {"rho": 1e-4},
}


def test_registry_is_covered():
    assert set(CONVERGENCE_KWARGS) == set(OPTIMIZERS) == set(GRAD_FN_BATCH)


# ----------------------------------------------------------------------------- registry-wide


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_converges_on_strongly_convex_quadratic(name):
    # 300 updates from 0 reach the minimiser to 1e-3 in Euclidean distance (Entropy-SGD's
    # Langevin noise 1e-4 leaves ~1e-4; the deterministic ones reach < 1e-6).
    start, target, grad_fn = quadratic_problem()
    params, _ = run(OPTIMIZERS[name](**CONVERGENCE_KWARGS[name]), start, grad_fn, 300)
    assert dist(params, target) < 1e-3


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_stays_float32(name):
    start, _, grad_fn = quadratic_problem(np.float32)
    opt = OPTIMIZERS[name](**CONVERGENCE_KWARGS[name])
    state = opt.init(start)
    updates, state = opt.update(grad_fn(start), state, start, grad_fn=grad_fn)
    assert all(u.dtype == np.float32 for u in updates.values())
    params = apply_updates(start, updates)
    assert all(isinstance(p, np.ndarray) and p.dtype == np.float32 for p in params.values())
    leaves = [x for x in _leaves(state) if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    assert all(x.dtype == np.float32 for x in leaves)


def _leaves(tree):
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _leaves(v)
    elif isinstance(tree, tuple):
        for v in tree:
            yield from _leaves(v)
    else:
        yield tree


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_is_pure(name):
    start, _, grad_fn = quadratic_problem()
    opt = OPTIMIZERS[name](**CONVERGENCE_KWARGS[name])
    params, state = run(opt, start, grad_fn, 3)       # non-trivial state (momentum, moments)
    grads = grad_fn(params)
    saved = copy.deepcopy((grads, state, params))
    u1, s1 = opt.update(grads, state, params, grad_fn=grad_fn)
    for a, b in zip(_leaves(saved), _leaves((grads, state, params))):
        np.testing.assert_array_equal(a, b)           # nothing was modified in place
    u2, _ = opt.update(grads, state, params, grad_fn=grad_fn)   # replaying the old state
    for k in u1:
        np.testing.assert_array_equal(u1[k], u2[k])
    assert s1.count == state.count + 1


def test_make_optimizer_unknown_name():
    with pytest.raises(ValueError, match="expected one of"):
        make_optimizer("rmsprop")
    assert make_optimizer("sgd", lr=0.5) is not None


# ----------------------------------------------------------------------------- SGD family


def test_sgd_hand_worked_step():
    params = {"w": np.array([1.0, -2.0])}
    grads = {"w": np.array([0.5, 0.25])}
    opt = sgd(0.1, l2=0.1)
    updates, state = opt.update(grads, opt.init(params), params)
    # g + wd * w = [0.5 + 0.1 * 1, 0.25 + 0.1 * (-2)] = [0.6, 0.05]
    # update = -lr * that = [-0.06, -0.005];  new w = [0.94, -2.005]
    np.testing.assert_allclose(updates["w"], [-0.06, -0.005], rtol=1e-14)
    np.testing.assert_allclose(apply_updates(params, updates)["w"], [0.94, -2.005], rtol=1e-14)
    assert state.count == 1 and state.trace == {}


@pytest.mark.parametrize("nesterov, expected", [
    # heavy ball: b1 = 1, u1 = -0.1 * 1;  b2 = 0.9 * 1 + 2 = 2.9, u2 = -0.1 * 2.9
    (False, [-0.1, -0.29]),
    # Nesterov: d1 = 1 + 0.9 * 1 = 1.9, u1 = -0.19;  d2 = 2 + 0.9 * 2.9 = 4.61, u2 = -0.461
    (True, [-0.19, -0.461]),
], ids=["heavy-ball", "nesterov"])
def test_momentum_two_steps(nesterov, expected):
    params = {"w": np.array([0.0])}
    opt = sgd(0.1, momentum=0.9, nesterov=nesterov)
    state = opt.init(params)
    got = []
    for g in (1.0, 2.0):
        updates, state = opt.update({"w": np.array([g])}, state, params)
        got.append(updates["w"][0])
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(state.trace["w"], [2.9], rtol=1e-14)


def test_sgd_uses_schedule_at_count():
    params = {"w": np.array([0.0])}
    opt = sgd(piecewise_constant_schedule(1.0, {1: 0.5}))
    state = opt.init(params)
    got = []
    for _ in range(3):
        updates, state = opt.update({"w": np.array([1.0])}, state, params)
        got.append(updates["w"][0])
    assert got == [-1.0, -0.5, -0.5]


def test_zero_dim_params_stay_arrays():
    params = {"b": np.array(1.0, dtype=np.float32)}
    opt = sgd(0.5, momentum=0.5)
    updates, _ = opt.update({"b": np.array(2.0, dtype=np.float32)}, opt.init(params), params)
    new = apply_updates(params, updates)
    assert isinstance(new["b"], np.ndarray) and new["b"].shape == ()
    assert new["b"].dtype == np.float32
    assert float(new["b"]) == 0.0                     # 1 - 0.5 * 2


def test_apply_updates_checks_names():
    with pytest.raises(ValueError, match="names"):
        apply_updates({"w": np.zeros(2)}, {"v": np.zeros(2)})


# ----------------------------------------------------------------------------- Adam


def test_adam_first_step_is_lr_sign_g():
    params = {"w": np.zeros(3)}
    grads = {"w": np.array([0.3, -2e-3, 5.0])}
    # bias correction: m_hat = g, v_hat = g^2, so the step is -lr g / (|g| + eps)
    exact = adam(0.01, damping=0.0)
    updates, state = exact.update(grads, exact.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.01, 0.01, -0.01], rtol=1e-12)
    default = adam(0.01)                              # eps / |g| <= 1e-8 / 2e-3 = 5e-6
    updates, _ = default.update(grads, default.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.01, 0.01, -0.01], rtol=1e-5)
    np.testing.assert_allclose(state.mu["w"], 0.1 * grads["w"], rtol=1e-14)
    np.testing.assert_allclose(state.nu["w"], 0.001 * grads["w"] ** 2, rtol=1e-12)


def test_adam_second_step_hand_worked():
    params = {"w": np.zeros(1)}
    opt = adam(1.0, b1=0.5, b2=0.5, damping=0.0)
    state = opt.init(params)
    _, state = opt.update({"w": np.array([1.0])}, state, params)
    updates, state = opt.update({"w": np.array([3.0])}, state, params)
    # m2 = 0.5 * 0.5 + 0.5 * 3 = 1.75, m_hat = 1.75 / (1 - 0.25) = 7/3
    # v2 = 0.5 * 0.5 + 0.5 * 9 = 4.75, v_hat = 4.75 / 0.75 = 19/3
    np.testing.assert_allclose(updates["w"], [-(7 / 3) / np.sqrt(19 / 3)], rtol=1e-14)


# ----------------------------------------------------------------------------- schedules


def test_constant_schedule():
    s = constant_schedule(0.3)
    assert [s(0), s(10 ** 6)] == [0.3, 0.3]


def test_piecewise_constant_schedule_times_point_two():
    s = piecewise_constant_schedule(1.0, {4: 0.2, 2: 0.2})   # order of the mapping irrelevant
    np.testing.assert_allclose([s(t) for t in range(6)], [1, 1, 0.2, 0.2, 0.04, 0.04],
                               rtol=1e-15)


def test_exponential_decay_per_epoch():
    s = exponential_decay(1.0, 0.995, transition_steps=10)  # VAT: x0.995 per epoch of 10 steps
    assert [s(0), s(9)] == [1.0, 1.0]
    assert s(10) == 0.995 and s(25) == 0.995 ** 2
    smooth = exponential_decay(0.002, 0.9, transition_steps=10, staircase=False)  # VAT Adam
    np.testing.assert_allclose(smooth(5), 0.002 * 0.9 ** 0.5, rtol=1e-15)


def test_cosine_decay_schedule():
    s = cosine_decay_schedule(1.0, 4)
    np.testing.assert_allclose([s(0), s(1), s(2), s(4), s(9)],
                               [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.0, 0.0], atol=1e-15)
    assert cosine_decay_schedule(2.0, 4, final_fraction=0.1)(4) == pytest.approx(0.2, rel=1e-15)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("factory, match", [
    (lambda: sgd(-0.1), "lr"),
    (lambda: sgd(0.1, momentum=1.0), "momentum"),
    (lambda: sgd(0.1, momentum=-0.1), "momentum"),
    (lambda: sgd(0.1, nesterov=True), "nesterov"),
    (lambda: sgd(0.1, l2=-1.0), "l2"),
    (lambda: adam(0.1, b1=1.0), "b1"),
    (lambda: adam(0.1, b2=-0.5), "b2"),
    (lambda: adam(0.1, damping=-1.0), "damping"),
    (lambda: sam(sgd(0.1), rho=-0.1), "rho"),
    (lambda: piecewise_constant_schedule(1.0, {-1: 0.5}), "boundaries"),
    (lambda: exponential_decay(1.0, 0.0), "decay_rate"),
    (lambda: exponential_decay(1.0, 0.9, transition_steps=0), "transition_steps"),
    (lambda: cosine_decay_schedule(1.0, 0), "decay_steps"),
    (lambda: cosine_decay_schedule(1.0, 4, final_fraction=2.0), "final_fraction"),
], ids=["neg-lr", "momentum-1", "momentum-neg", "nesterov-no-momentum", "wd", "b1", "b2", "eps",
        "rho", "boundary", "decay-rate", "transition", "decay-steps", "final-fraction"])
def test_bad_hyperparameters_raise_value_error(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


@pytest.mark.parametrize("factory, match", [
    (lambda: sgd("0.1"), "lr"),
    (lambda: sgd(0.1, momentum=0.9, nesterov=1), "nesterov"),
    (lambda: sam("sgd"), "base"),
], ids=["lr-str", "nesterov-int", "sam-base"])
def test_bad_types_raise_type_error(factory, match):
    with pytest.raises(TypeError, match=match):
        factory()


# ----------------------------------------------------------------------------- SAM


def test_sam_perturbation_norm_and_zero_gradient():
    grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
    eps = sam_perturbation(grads, 0.05)
    # global norm ||g|| = 5 over both arrays: eps = 0.05 * g / 5
    np.testing.assert_allclose(eps["W"], [[0.03, 0.0]], rtol=1e-14)
    np.testing.assert_allclose(eps["b"], [0.04], rtol=1e-14)
    zero = sam_perturbation({"w": np.zeros(3, np.float32)}, 0.05)
    assert zero["w"].dtype == np.float32 and not zero["w"].any()


def test_sam_evaluates_grad_fn_at_ascent_point():
    params = {"w": np.array([1.0, 1.0])}
    grads = {"w": np.array([3.0, 4.0])}
    calls = []

    def grad_fn(p):                                   # records where it is evaluated
        calls.append(p["w"].copy())
        return {"w": np.array([10.0, 20.0])}

    opt = sam(sgd(0.1), rho=0.5)
    updates, state = opt.update(grads, opt.init(params), params, grad_fn=grad_fn)
    # eps_hat = 0.5 * [3, 4] / 5 = [0.3, 0.4]; grad_fn sees [1.3, 1.4]; step -0.1 * [10, 20]
    np.testing.assert_allclose(calls, [[1.3, 1.4]], rtol=1e-14)
    np.testing.assert_allclose(updates["w"], [-1.0, -2.0], rtol=1e-14)
    assert state.count == 1 and state.base.count == 1


def test_sam_rho_zero_is_base_on_regradient():
    start, _, grad_fn = quadratic_problem()
    base_params, _ = run(sgd(0.1, momentum=0.9), start, grad_fn, 5)
    sam_params, _ = run(sam(sgd(0.1, momentum=0.9), rho=0.0), start, grad_fn, 5)
    for k in start:
        np.testing.assert_array_equal(sam_params[k], base_params[k])


def test_sam_requires_grad_fn():
    params = {"w": np.ones(2)}
    opt = sam(sgd(0.1))
    with pytest.raises(TypeError, match="grad_fn.*SAME minibatch"):
        opt.update({"w": np.ones(2)}, opt.init(params), params)


@pytest.mark.parametrize("factory", [lambda: sgd(0.1, l2=0.5),
                                     lambda: sgd(0.1, momentum=0.9, l2=0.5)],
                         ids=["sgd", "momentum"])
def test_sgd_l2_penalizes_the_weights_and_never_the_biases(factory):
    """Biases unpenalized (the rule of minadv.losses): with zero gradients a bias stays put and
    a weight shrinks by lr * l2."""
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([3.0, 4.0])}
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    opt = factory()
    updates, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_array_equal(updates["b1"], [0.0, 0.0])
    np.testing.assert_allclose(updates["W1"], -0.1 * 0.5 * params["W1"], rtol=1e-15)


def test_weight_names_of_agrees_with_every_model():
    from minadv.models import MLP, LogisticRegressionModel
    from minadv.params import weight_names_of

    for model in (MLP([3, 4, 2]), MLP([3, 2]), LogisticRegressionModel(3)):
        assert set(weight_names_of(model.init_params(rng=0))) == set(model.weight_names)
