"""FGSM / fast gradient methods: exact on logistic regression, invariants, bad inputs."""

import numpy as np
import pytest

from minadv.attacks import fast_gradient, fgsm, linear_worst_case, lp_norms
from minadv.models import MLP, LogisticRegressionModel


def _logistic(dtype=np.float64, n=50, d=7, seed=0):
    rng = np.random.default_rng(seed)
    model = LogisticRegressionModel(d, dtype=dtype)
    w = rng.standard_normal(d)
    w[2] = 3.0                                   # unique max |w| for the L1 case
    params = {"w": w.astype(dtype), "b": np.array(0.3, dtype=dtype)}
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.integers(0, 2, n)
    return model, params, X, y


def _mlp(dtype=np.float64, n=20, seed=0):
    model = MLP([6, 8, 3], activation="tanh", dtype=dtype)
    params = model.init_params(rng=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.uniform(0, 1, (n, 6)).astype(dtype)
    return model, params, X, rng.integers(0, 3, n)


def test_fgsm_equals_the_linear_closed_form_exactly():
    model, params, X, y = _logistic()
    X_adv = fgsm(model, params, X, y, 0.25)
    delta = linear_worst_case(params["w"], params["b"], X, y, 0.25, norm=np.inf)
    np.testing.assert_array_equal(X_adv, X + delta)
    y_pm = 2 * y - 1
    np.testing.assert_array_equal(X_adv, X - 0.25 * y_pm[:, None] * np.sign(params["w"]))


@pytest.mark.parametrize("norm", [2, 1], ids=["l2", "l1"])
def test_fast_gradient_l2_l1_equal_the_linear_closed_form(norm):
    model, params, X, y = _logistic()
    X_adv = fast_gradient(model, params, X, y, 0.4, norm=norm)
    delta = linear_worst_case(params["w"], params["b"], X, y, 0.4, norm=norm)
    np.testing.assert_allclose(X_adv, X + delta, rtol=0, atol=1e-15)


def test_boxed_fgsm_equals_boxed_linear_worst_case():
    model, params, X, y = _logistic()
    X = np.clip(X, -1, 1)
    X_adv = fgsm(model, params, X, y, 0.3, clip_min=-1.0, clip_max=1.0)
    delta = linear_worst_case(params["w"], params["b"], X, y, 0.3, norm=np.inf, clip_min=-1.0, clip_max=1.0)
    np.testing.assert_allclose(X_adv, X + delta, rtol=0, atol=1e-15)


def test_targeted_descends_the_target_loss():
    model, params, X, y = _mlp()
    target = (y + 1) % 3
    X_adv = fast_gradient(model, params, X, y, 0.05, norm=2, target=target)
    before = model.output.nll(model.logits(params, X), target)[0]
    after = model.output.nll(model.logits(params, X_adv), target)[0]
    assert np.mean(after < before) > 0.9
    # binary targeted = untargeted at the other label
    lm, lp, LX, ly = _logistic()
    np.testing.assert_array_equal(fgsm(lm, lp, LX, None, 0.1, target=1 - ly),
                                  fgsm(lm, lp, LX, ly, 0.1))


def test_y_none_uses_the_predictions():
    model, params, X, _ = _mlp()
    pred = model.predict(params, X)
    np.testing.assert_array_equal(fgsm(model, params, X, None, 0.1),
                                  fgsm(model, params, X, pred, 0.1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(3))
def test_ball_box_dtype_and_inputs_unchanged(norm, dtype, seed):
    rng = np.random.default_rng(seed)
    model, params, X, y = _mlp(dtype, n=int(rng.integers(1, 30)), seed=seed)
    eps = float(rng.uniform(0.01, 1.0))
    X0, y0 = X.copy(), y.copy()
    X_adv = fast_gradient(model, params, X, y, eps, norm=norm, clip_min=0.0, clip_max=1.0)
    assert X_adv.dtype == dtype and X_adv.shape == X.shape
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    tol = 4 * np.finfo(dtype).eps
    assert np.all(lp_norms((X_adv - X).astype(np.float64), norm) <= eps * (1 + tol) + tol)
    assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_eps_zero_returns_x_exactly(norm):
    model, params, X, y = _mlp(np.float32)
    X_adv = fast_gradient(model, params, X, y, 0.0, norm=norm, clip_min=0.0, clip_max=1.0)
    np.testing.assert_array_equal(X_adv, X)
    assert X_adv is not X


def test_row_alone_equals_its_row_in_the_batch(norm):
    model, params, X, y = _mlp()
    batch = fast_gradient(model, params, X, y, 0.1, norm=norm)
    for i in range(X.shape[0]):
        alone = fast_gradient(model, params, X[i:i + 1], y[i:i + 1], 0.1, norm=norm)
        np.testing.assert_allclose(alone[0], batch[i], rtol=0, atol=1e-14)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(eps=-0.1), ValueError, "eps"),
    (dict(eps=float("nan")), ValueError, "eps"),
    (dict(clip_min=1.0, clip_max=0.0), ValueError, "clip_min"),
    (dict(clip_min=0.5, clip_max=1.0), ValueError, "outside the box"),
    (dict(norm="l3"), ValueError, "norm"),
    (dict(y=np.full(20, 3)), ValueError, "y"),
    (dict(y=np.full(20, -1)), ValueError, "y"),
    (dict(target="same"), ValueError, "target"),
    (dict(target=np.full(20, 5)), ValueError, "target"),
    (dict(X="float32"), TypeError, "X"),
    (dict(X="nan"), ValueError, "X"),
], ids=["neg-eps", "nan-eps", "box-order", "x-outside-box", "norm", "y-high", "y-neg",
        "target-eq-y", "target-range", "dtype", "nan-x"])
def test_bad_inputs(kwargs, err, match):
    model, params, X, y = _mlp()
    call = dict(y=y, eps=0.1, norm=2) | kwargs
    if call.get("X") == "float32":
        X = X.astype(np.float32)
    elif call.get("X") == "nan":
        X = X.copy()
        X[0, 0] = np.nan
    call.pop("X", None)
    if isinstance(call.get("target"), str):
        call["target"] = y
    with pytest.raises(err, match=match):
        fast_gradient(model, params, X, **call)
