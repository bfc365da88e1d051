"""Layers: forward/backward pairs against finite differences (cs231n style), their R-operator
counterparts against directional differences, and every activation derivative against mpmath
(saturated and tiny pre-activations included)."""

import mp_reference  # noqa: F401  (sets mp.dps)
import mpmath as mp
import numpy as np
import pytest

from minadv import layers
from minadv.gradcheck import numerical_directional_derivative, numerical_gradient, rel_error
from minadv.layers import dropout_backward, dropout_forward
from minadv.models import MLP, LogisticRegressionModel, Model
from minadv.params import flatten

RNG = np.random.default_rng(0)
x, W, b = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=5)
dout = RNG.normal(size=(4, 5))


def test_affine_forward_backward():
    out, cache = layers.affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b, rtol=1e-15)
    dx, dW, db = layers.affine_backward(dout, cache)
    loss = lambda x_, W_, b_: np.sum(dout * layers.affine_forward(x_, W_, b_)[0])  # noqa: E731
    assert rel_error(dx, numerical_gradient(lambda t: loss(t, W, b), x)) < 1e-9
    assert rel_error(dW, numerical_gradient(lambda t: loss(x, t, b), W)) < 1e-9
    assert rel_error(db, numerical_gradient(lambda t: loss(x, W, t), b)) < 1e-9
    assert layers.affine_backward(dout, cache, input_grad=False, param_grads=False) == (
        None, None, None)


def test_affine_r_operator_is_the_directional_derivative():
    rx, rW, rb = RNG.normal(size=x.shape), RNG.normal(size=W.shape), RNG.normal(size=b.shape)
    r_dout = RNG.normal(size=dout.shape)
    _, cache = layers.affine_forward(x, W, b)
    r_out = layers.affine_rforward(cache, rx, rW, rb)
    np.testing.assert_allclose(r_out, rx @ W + x @ rW + rb, rtol=1e-14)
    # backward of a *moving* dout: d/dt affine_backward(dout + t r_dout, (x + t rx, W + t rW))
    def back(t):
        return np.concatenate([a.ravel() for a in layers.affine_backward(
            dout + t * r_dout, (x + t * rx, W + t * rW))])
    fd = numerical_directional_derivative(back, 0.0, 1.0, h=1e-6)
    r = layers.affine_rbackward(dout, r_dout, cache, rx, rW)
    assert rel_error(np.concatenate([a.ravel() for a in r]), fd) < 1e-9


POINTS = np.array([-40.0, -25.0, -15.0, -3.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 15.0, 25.0, 40.0])
MP_DERIVS = {   # exact derivatives, evaluated at 80 digits
    "tanh": (lambda a: mp.sech(a) ** 2, lambda a: -2 * mp.tanh(a) * mp.sech(a) ** 2),
    "sigmoid": (lambda a: mp.exp(-a) / (1 + mp.exp(-a)) ** 2,
                lambda a: -mp.exp(-a) * (1 - mp.exp(-a)) / (1 + mp.exp(-a)) ** 3),
    "softplus": (lambda a: 1 / (1 + mp.exp(-a)), lambda a: mp.exp(-a) / (1 + mp.exp(-a)) ** 2),
}


@pytest.mark.parametrize("name", list(MP_DERIVS))
@pytest.mark.parametrize("order", [1, 2])
def test_activation_derivatives_keep_every_digit(name, order):
    """Each derivative is a product of at most four correctly rounded-ish factors (``expit``,
    ``tanh``: ≤ 3 roundings each) and ≤ 3 products, so it is within ``16 u`` relative of the
    exact value at every point, saturated (``|a|`` = 15–40) or tiny."""
    act = layers.ACTIVATIONS[name]
    got = (act.d1 if order == 1 else act.d2)(POINTS)
    exact = [MP_DERIVS[name][order - 1](mp.mpf(float(a))) for a in POINTS]
    for a, g, e in zip(POINTS, got, exact):
        err = abs(mp.mpf(float(g)) - e) / abs(e) if e != 0 else abs(g)
        assert err <= 16 * 2.0 ** -53, (a, g, e)


@pytest.mark.parametrize("name", list(layers.ACTIVATIONS))
def test_activation_pairs_and_r_operator(name):
    act = layers.ACTIVATIONS[name]
    a = RNG.normal(size=(3, 4)) + 0.1        # away from relu's kink
    dh, r_a, r_dh = (RNG.normal(size=a.shape) for _ in range(3))
    h, cache = layers.activation_forward(a, act)
    assert cache is a
    np.testing.assert_array_equal(h, act.phi(a))
    da = layers.activation_backward(dh, cache, act)
    assert rel_error(da, numerical_gradient(lambda t: np.sum(dh * act.phi(t)), a)) < 1e-8
    d1 = act.d1(a)
    r_h = layers.activation_rforward(r_a, d1)
    assert rel_error(r_h, numerical_directional_derivative(act.phi, a, r_a, 1e-6)) < 1e-8
    r_da = layers.activation_rbackward(r_dh, r_a, d1, act.d2(a) * dh)
    fd = numerical_directional_derivative(
        lambda t: layers.activation_backward(dh + t * r_dh, a + t * r_a, act), 0.0, 1.0, 1e-6)
    assert rel_error(r_da, fd) < 1e-8 or np.abs(r_da - fd).max() < 1e-12


def test_mlp_cache_holds_true_pre_activations():
    net = MLP([3, 5, 4, 2], activation="relu")
    params = net.init_params(rng=0)
    _, cache = net.forward(params, x)
    a1 = x @ params["W1"] + params["b1"]
    np.testing.assert_array_equal(cache.pre[0], a1)              # negative entries kept
    assert (cache.pre[0] < 0).any()
    np.testing.assert_array_equal(cache.post[0], np.maximum(a1, 0))
    assert not np.shares_memory(cache.pre[0], cache.post[0])


@pytest.mark.parametrize("model", [MLP([3, 4, 2], activation="tanh", output="sigsoftmax"),
                                   LogisticRegressionModel(3)], ids=["mlp", "logistic"])
def test_results_follow_the_callers_key_order(model):
    params = {k: v + 0.1 for k, v in model.init_params(rng=1).items()}
    rev = dict(reversed(list(params.items())))
    X, y = x, np.array([0, 1, 1, 0])
    v = {k: np.ones_like(p) for k, p in rev.items()}
    outs = {"grads": model.loss_and_grads(rev, X, y, l2=0.1).grads,
            "hvp": model.hvp(rev, X, y, v, l2=0.1),
            "fisher": model.fisher_product(rev, X, v, l2=0.1),
            "closure": model.hvp_closure(rev, X, y)(v)}
    ref = {"grads": model.loss_and_grads(params, X, y, l2=0.1).grads,
           "hvp": model.hvp(params, X, y, v, l2=0.1)}
    for name, out in outs.items():
        assert list(out) == list(rev), name
    for name, out in ref.items():
        np.testing.assert_array_equal(flatten(outs[name]), flatten({k: out[k] for k in rev}))


def test_models_satisfy_the_protocol():
    assert isinstance(MLP([3, 2]), Model)
    assert isinstance(LogisticRegressionModel(3), Model)
    assert not isinstance(object(), Model)


# ------------------------------------------------------------------- dropout (inverted)
def test_forward_backward_exact_values():
    x = np.array([[1.0, -2.0, 3.0, 4.0]])
    out, cache = dropout_forward(x, 0.5, rng=0)
    keep = cache != 0
    # kept units are doubled (1 / (1 - 0.5)), dropped ones are 0
    np.testing.assert_array_equal(out, np.where(keep, 2 * x, 0.0))
    dout = np.array([[10.0, 20.0, 30.0, 40.0]])
    np.testing.assert_array_equal(dropout_backward(dout, cache), np.where(keep, 2 * dout, 0.0))


def test_inverted_scaling_keeps_the_mean():
    x = np.full((200_000,), 3.0)
    out, cache = dropout_forward(x, 0.3, rng=1)
    # E[out] = x: the mean of 200 000 draws is within 5 standard errors of 3.0
    se = 3.0 * np.sqrt(0.3 / 0.7) / np.sqrt(x.size)
    assert abs(out.mean() - 3.0) < 5 * se
    assert set(np.unique(out).tolist()) == {0.0, 3.0 / 0.7}
    assert abs((cache == 0).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / x.size)


@pytest.mark.parametrize("kwargs", [{"rate": 0.0}, {"rate": 0.5, "train": False}],
                         ids=["rate0", "eval"])
def test_evaluation_mode_is_the_identity(kwargs):
    x = np.arange(6.0).reshape(2, 3)
    out, cache = dropout_forward(x, rng=0, **kwargs)
    assert out is x and cache is None
    dout = np.ones_like(x)
    assert dropout_backward(dout, cache) is dout


def test_dtype_kept_and_seeded():
    x = np.ones((3, 5), dtype=np.float32)
    a, _ = dropout_forward(x, 0.25, rng=7)
    b, _ = dropout_forward(x, 0.25, rng=7)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rate, exc", [(1.0, ValueError), (-0.1, ValueError),
                                       ("0.5", TypeError), (np.nan, ValueError)])
def test_bad_rate(rate, exc):
    with pytest.raises(exc, match="rate"):
        dropout_forward(np.ones(3), rate, rng=0)


def test_bad_train_flag():
    with pytest.raises(TypeError, match="train"):
        dropout_forward(np.ones(3), 0.5, rng=0, train=1)
