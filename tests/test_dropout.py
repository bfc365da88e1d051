"""Dropout layer and objective: exact values, inverted scaling, evaluation mode, and the
backward pass against central finite differences with a FIXED mask."""

import numpy as np
import pytest

from minadv.gradcheck import rel_error
from minadv.layers import dropout_backward, dropout_forward, dropout_mask
from minadv.models import MLP, LogisticRegressionModel
from minadv.optim import sgd
from minadv.training import ERM, Batch, DropoutObjective, evaluate, fit, make_objective


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


def _problem(activation, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP([5, 7, 6, 3], activation=activation)
    params = model.init_params(rng=seed)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    masks = [dropout_mask((8, k), 0.4, rng) for k in (7, 6)]
    return model, params, X, y, masks


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "relu"])
def test_gradient_matches_finite_differences_with_a_fixed_mask(activation):
    model, params, X, y, _ = _problem(activation)
    objective = DropoutObjective(rate=0.4, l2=1e-2)
    # the same seed draws the same masks at every call: a fixed-mask loss
    loss_grads = lambda: objective(model, params, Batch(X, y), np.random.default_rng(11))  # noqa: E731
    _, grads = loss_grads()
    h = 1e-6
    for key, p in params.items():
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = loss_grads()[0]
            p[idx] = old - h
            down = loss_grads()[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * h)
        assert rel_error(grads[key], num) <= 1e-7, key


def test_masks_of_ones_give_the_model_loss_and_grads():
    model, params, X, y, _ = _problem("tanh")
    ones = [np.ones((8, k)) for k in model.hidden_sizes]
    z, cache = model.forward(params, X, masks=ones)
    losses, dz = model.output.nll(z, y)
    grads, _ = model.backward(params, cache, dz / X.shape[0], input_grad=False)
    ref = model.loss_and_grads(params, X, y)
    assert float(np.mean(losses)) == pytest.approx(ref.loss, rel=1e-14)
    for k in params:
        np.testing.assert_allclose(grads[k], ref.grads[k], rtol=1e-12, atol=1e-15)


def test_masks_are_what_the_textbook_loop_applies():
    """The masked forward equals the plain loop with ``h_l ⊙ m_l`` written out."""
    model, params, X, y, masks = _problem("softplus")
    z, _ = model.forward(params, X, masks=masks)
    h = X
    for l in (1, 2):
        h = np.logaddexp(0.0, h @ params[f"W{l}"] + params[f"b{l}"]) * masks[l - 1]
    np.testing.assert_allclose(z, h @ params["W3"] + params["b3"], rtol=1e-13)


def test_objective_rate_zero_is_erm_and_registry():
    model, params, X, y, _ = _problem("relu")
    batch = Batch(X, y)
    a = DropoutObjective(rate=0.0)(model, params, batch, np.random.default_rng(0))
    b = ERM()(model, params, batch, np.random.default_rng(0))
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    assert make_objective("dropout", rate=0.25) == DropoutObjective(rate=0.25)


def test_objective_trains_and_refuses_linear_models():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = MLP([4, 32, 2], activation="relu")
    res = fit(model, model.init_params(rng=0), DropoutObjective(rate=0.3), X, y,
              optimizer=sgd(0.1, momentum=0.9), epochs=40, batch_size=32, rng=0, verbose=0)
    assert evaluate(model, res.params, X, y)["accuracy"] > 0.9
    with pytest.raises(TypeError, match="dropout: needs a model with hidden layers"):
        fit(LogisticRegressionModel(4), LogisticRegressionModel(4).init_params(),
            DropoutObjective(), X, y, optimizer=sgd(0.1), epochs=1, rng=0, verbose=0)
