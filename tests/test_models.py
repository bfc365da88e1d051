"""Models: gradient checks for every combination, exact HVPs, known answers, dtype, seeding."""

import numpy as np
import pytest

from minadv.gradcheck import (
    THRESHOLDS,
    check_model,
    numerical_directional_derivative,
    rel_error,
    suite_models,
    suite_problem,
)
from minadv.models import MLP, LogisticRegressionModel, model_from_config
from minadv.params import flatten, unflatten

SUITE = suite_models()


@pytest.mark.parametrize("name,model", SUITE, ids=[name for name, _ in SUITE])
def test_gradcheck_every_combination(name, model):
    params, X, y = suite_problem(model, rng=123)
    report = check_model(model, params, X, y, rng=0)
    assert report.param_grad <= 1e-7, report
    assert report.input_grad <= 1e-7, report
    assert report.hvp <= 1e-6, report
    assert report.hvp_symmetry <= 1e-12, report
    assert report.passed and report.thresholds == THRESHOLDS


@pytest.mark.parametrize("name,model", SUITE, ids=[name for name, _ in SUITE])
def test_input_fisher_product_is_kl_hessian(name, model):
    """J^T (diag p - p p^T) J r / n equals the FD derivative of grad_r mean KL(p(x)||p(x+r))."""
    params, X, _ = suite_problem(model, rng=7)
    R = np.random.default_rng(8).normal(size=X.shape)
    z_ref, _ = model.forward(params, X)

    def kl_input_grad(r):
        z, cache = model.forward(params, X + r)
        _, dz = model.output.kl(model.output.log_proba(z_ref), z)
        return model.backward(params, cache, dz / X.shape[0], param_grads=False)[1]

    assert np.abs(kl_input_grad(np.zeros_like(X))).max() < 1e-15
    fd = numerical_directional_derivative(kl_input_grad, np.zeros_like(X), R, h=1e-5)
    assert rel_error(model.input_fisher_product(params, X, R), fd) < 1e-7


@pytest.mark.parametrize("name,model", SUITE, ids=[name for name, _ in SUITE])
def test_gauss_newton_is_psd(name, model):
    params, X, _ = suite_problem(model, rng=3)
    rng = np.random.default_rng(4)
    for _ in range(3):
        v = unflatten(rng.normal(size=model.n_params), params)
        assert flatten(v) @ flatten(model.fisher_product(params, X, v)) >= -1e-14


def test_logistic_hvp_equals_closed_form_exactly():
    rng = np.random.default_rng(0)
    n, d = 13, 5
    X, y = rng.normal(size=(n, d)), rng.integers(0, 2, n)
    model = LogisticRegressionModel(d)
    params = {"w": rng.normal(size=d), "b": np.array(0.3)}
    v = {"w": rng.normal(size=d), "b": np.array(-0.7)}
    f = X @ params["w"] + 0.3
    c = 1 / (1 + np.exp(-f)) * (1 / (1 + np.exp(f)))
    Xa = np.hstack([X, np.ones((n, 1))])
    expected = Xa.T @ (c[:, None] * Xa) @ np.append(v["w"], -0.7) / n
    hv = flatten(model.hvp(params, X, y, v))
    np.testing.assert_allclose(hv, expected, rtol=1e-13, atol=1e-16)
    # loss is linear in its scores: Gauss-Newton = Hessian
    np.testing.assert_allclose(flatten(model.fisher_product(params, X, v)), hv, rtol=1e-14)


def test_l2_penalty_convention():
    model = MLP([3, 4, 2], activation="tanh")
    params, X, y = suite_problem(model, rng=5)
    base = model.loss_and_grads(params, X, y)
    pen = model.loss_and_grads(params, X, y, l2=0.1)
    weights = params["W1"].ravel() @ params["W1"].ravel() + params["W2"].ravel() @ params["W2"].ravel()
    assert pen.loss == pytest.approx(base.loss + 0.05 * weights, rel=1e-14)
    np.testing.assert_allclose(pen.grads["W1"], base.grads["W1"] + 0.1 * params["W1"], rtol=1e-14)
    np.testing.assert_array_equal(pen.grads["b1"], base.grads["b1"])
    v = unflatten(np.ones(model.n_params), params)
    hv0, hv1 = model.hvp(params, X, y, v), model.hvp(params, X, y, v, l2=0.1)
    np.testing.assert_allclose(hv1["W2"], hv0["W2"] + 0.1, rtol=1e-14)
    np.testing.assert_array_equal(hv1["b2"], hv0["b2"])


def test_known_losses():
    X = np.random.default_rng(0).normal(size=(6, 3))
    logistic = LogisticRegressionModel(3)
    assert logistic.loss(logistic.init_params(), X, np.array([0, 1] * 3)) == pytest.approx(
        np.log(2), rel=1e-15)
    softmax_reg = MLP([3, 5])
    zeros = {k: np.zeros_like(v) for k, v in softmax_reg.init_params(rng=0).items()}
    assert softmax_reg.loss(zeros, X, np.arange(6) % 5) == pytest.approx(np.log(5), rel=1e-15)


def test_hand_worked_sgd_step():
    """A 1-1-2 identity network, one sample, one SGD step, every number by hand."""
    net = MLP([1, 1, 2], activation="identity")
    params = {"W1": np.array([[2.0]]), "b1": np.array([0.0]),
              "W2": np.array([[1.0, -1.0]]), "b2": np.array([0.0, 0.0])}
    X, y = np.array([[1.0]]), np.array([1])
    # h = 1*2 + 0 = 2;  z = [2, -2];  p = [sigma(4), sigma(-4)]
    s4 = 1 / (1 + np.exp(-4.0))                   # 0.98201379...
    # loss = -log p_1 = -log sigma(-4) = softplus(4)
    out = net.loss_and_grads(params, X, y)
    assert out.loss == pytest.approx(np.log1p(np.exp(4.0)), rel=1e-15)
    # dz = p - e_1 = [s4, s4 - 1 - ... ] = [s4, -s4]
    np.testing.assert_allclose(out.grads["b2"], [s4, -s4], rtol=1e-15)
    # dW2 = h * dz = [2 s4, -2 s4]
    np.testing.assert_allclose(out.grads["W2"], [[2 * s4, -2 * s4]], rtol=1e-15)
    # g = dz W2^T = s4*1 + (-s4)*(-1) = 2 s4;  dW1 = x g = 2 s4;  db1 = 2 s4;  dX = g W1^T = 4 s4
    np.testing.assert_allclose(out.grads["W1"], [[2 * s4]], rtol=1e-15)
    np.testing.assert_allclose(out.grads["b1"], [2 * s4], rtol=1e-15)
    np.testing.assert_allclose(out.input_grad, [[4 * s4]], rtol=1e-15)
    # SGD, lr = 0.5:  W1 <- 2 - 0.5 * 2 s4 = 2 - s4 = 1.01798621...
    new = {k: params[k] - 0.5 * out.grads[k] for k in params}
    np.testing.assert_allclose(new["W1"], [[2 - s4]], rtol=1e-15)
    np.testing.assert_allclose(new["W2"], [[1 - s4, -1 + s4]], rtol=1e-14)  # 1 - s4 cancels
    # the loss went down: new z = [h', -h'] * ... evaluate
    assert net.loss(new, X, y) < out.loss


@pytest.mark.parametrize("output", ["softmax", "sigsoftmax"])
def test_extreme_logits_finite(output):
    net = MLP([2, 3], output=output)
    params = {"W1": np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]]), "b1": np.zeros(3)}
    X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, 1])
    out = net.loss_and_grads(params, X, y)
    assert np.isfinite(out.loss) and all(np.isfinite(g).all() for g in out.grads.values())
    if output == "softmax":
        assert out.loss == pytest.approx(1e4, rel=1e-15)   # (2e4 + 0) / 2


@pytest.mark.parametrize("name,model64", SUITE, ids=[name for name, _ in SUITE])
def test_float32_matches_float64(name, model64):
    model32 = model_from_config({**model64.config(), "dtype": "float32"})
    params, X, y = suite_problem(model64, rng=11)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    out64 = model64.loss_and_grads(params, X, y)
    out32 = model32.loss_and_grads(p32, X.astype(np.float32), y)
    assert all(g.dtype == np.float32 for g in out32.grads.values())
    assert out32.input_grad.dtype == np.float32 and out32.logits.dtype == np.float32
    assert out32.loss == pytest.approx(out64.loss, rel=1e-4)
    assert rel_error(flatten(out32.grads), flatten(out64.grads)) < 1e-4
    assert rel_error(out32.input_grad, out64.input_grad) < 1e-4
    v = unflatten(np.random.default_rng(0).normal(size=model64.n_params), params)
    hv32 = model32.hvp(p32, X.astype(np.float32), y, {k: a.astype(np.float32) for k, a in v.items()})
    assert all(a.dtype == np.float32 for a in hv32.values())
    assert rel_error(flatten(hv32), flatten(model64.hvp(params, X, y, v))) < 1e-4


def test_same_seed_bitwise_identical_init():
    net = MLP([6, 5, 4, 3], activation="tanh")
    a, b = net.init_params(rng=42), net.init_params(rng=42)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = net.init_params(rng=43)
    assert not np.array_equal(a["W1"], c["W1"])
    gen1, gen2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(net.init_params(gen1)["W2"], net.init_params(gen2)["W2"])


def test_no_global_random_state_used():
    state = np.random.get_state()[1].copy()
    MLP([4, 3, 2]).init_params(rng=0)
    suite_problem(MLP([4, 3, 2]), rng=0)
    assert np.array_equal(np.random.get_state()[1], state)


def test_init_schemes():
    he = MLP([400, 300, 2], activation="relu").init_params(rng=0)["W1"]
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    glorot = MLP([400, 300, 2], activation="tanh").init_params(rng=0)["W1"]
    limit = np.sqrt(6 / 700)
    assert np.abs(glorot).max() <= limit and glorot.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


def test_flatten_unflatten_roundtrip_and_order():
    net = MLP([3, 4, 2])
    params = net.init_params(rng=1)
    flat = flatten(params)
    assert flat.shape == (net.n_params,) == (3 * 4 + 4 + 4 * 2 + 2,)
    back = unflatten(flat, params)
    assert list(back) == ["W1", "b1", "W2", "b2"]
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_predict_and_proba():
    net = MLP([3, 4, 3], activation="tanh")
    params, X, _ = suite_problem(net, rng=2)
    proba = net.predict_proba(params, X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-14)
    np.testing.assert_array_equal(net.predict(params, X), proba.argmax(axis=1))
    logistic = LogisticRegressionModel(3)
    lp = {"w": np.array([1.0, -1.0, 0.5]), "b": np.array(0.1)}
    np.testing.assert_array_equal(logistic.predict(lp, X),
                                  (logistic.predict_proba(lp, X)[:, 1] > 0.5).astype(int))


def test_inputs_not_modified():
    net = MLP([3, 4, 2], activation="relu")
    params, X, y = suite_problem(net, rng=3)
    X0, p0 = X.copy(), {k: v.copy() for k, v in params.items()}
    net.loss_and_grads(params, X, y)
    net.hvp(params, X, y, params)
    assert np.array_equal(X, X0) and all(np.array_equal(params[k], p0[k]) for k in params)


@pytest.mark.parametrize("l2", [-0.1, np.nan, np.inf])
@pytest.mark.parametrize("method", ["loss", "loss_and_grads", "hvp"])
def test_model_methods_reject_bad_l2(method, l2, small_mlp, raises_naming):
    model, params, X, y = small_mlp()
    args = (params, X, y) + ((params,) if method == "hvp" else ())
    raises_naming(ValueError, "l2", lambda: getattr(model, method)(*args, l2=l2))
