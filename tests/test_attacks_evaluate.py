"""Robustness curves: closed form on logistic regression, monotonicity, batching."""

import numpy as np
import pytest

from minadv.attacks import fgsm, robust_margin, robustness_curve
from minadv.models import MLP, LogisticRegressionModel


def _logistic(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    model = LogisticRegressionModel(d)
    params = {"w": rng.standard_normal(d), "b": np.array(0.2)}
    X = rng.standard_normal((n, d))
    y = (X @ params["w"] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return model, params, X, y


def _mlp(n=60, seed=0):
    model = MLP([6, 16, 3], activation="relu")
    params = model.init_params(rng=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.uniform(0, 1, (n, 6))
    y = np.argmax(X @ rng.standard_normal((6, 3)), axis=1)
    params["W2"] = params["W2"] * 3
    return model, params, X, y


def test_fgsm_curve_equals_the_linear_robust_margin():
    model, params, X, y = _logistic()
    grid = [0.0, 0.05, 0.1, 0.3, 1.0]
    curve = robustness_curve(model, params, X, y, grid, attack="fgsm", batch_size=37)
    expected = [np.mean(robust_margin(params["w"], params["b"], X, y, e, norm=np.inf) > 0)
                for e in grid]
    np.testing.assert_array_equal(curve.pointwise_accuracy, expected)
    np.testing.assert_array_equal(curve.accuracy, expected)      # already monotone
    np.testing.assert_allclose(curve.mean_norm, grid, rtol=1e-14)  # (x+d)-x rounding
    assert curve.clean_accuracy == expected[0] and curve.n_samples == 200


def test_pgd_curve_starts_at_clean_accuracy_and_is_non_increasing():
    model, params, X, y = _mlp()
    grid = np.linspace(0, 0.3, 7)
    curve = robustness_curve(model, params, X, y, grid, attack="pgd", norm=np.inf, n_steps=5,
                             step_size=0.02, n_restarts=3, rng=0, clip_min=0.0, clip_max=1.0,
                             batch_size=25)
    clean = np.mean(model.predict(params, X) == y)
    assert curve.accuracy[0] / clean == 1.0 and curve.clean_accuracy == clean
    assert np.all(np.diff(curve.accuracy) <= 0)
    assert np.all(curve.accuracy <= curve.pointwise_accuracy)
    assert curve.accuracy[-1] < clean
    assert np.all(curve.max_norm <= grid + 1e-15)
    np.testing.assert_allclose(curve.success_rate, 1 - curve.accuracy / clean, rtol=1e-12)


def test_result_does_not_depend_on_batch_size():
    model, params, X, y = _mlp()
    kw = dict(n_steps=4, n_restarts=2, rng=3, clip_min=0.0, clip_max=1.0)
    a = robustness_curve(model, params, X, y, [0.05, 0.2], attack="pgd", norm=2, batch_size=7, **kw)
    b = robustness_curve(model, params, X, y, [0.05, 0.2], attack="pgd", norm=2, batch_size=1000, **kw)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    np.testing.assert_allclose(a.mean_norm, b.mean_norm, rtol=1e-12)


def test_callable_attack_and_float32():
    model = MLP([6, 16, 3], dtype=np.float32)
    params = model.init_params(rng=0)
    X = np.random.default_rng(1).uniform(0, 1, (30, 6)).astype(np.float32)
    y = model.predict(params, X)
    curve = robustness_curve(model, params, X, y, [0.0, 0.1],
                             attack=lambda Xb, yb, e: fgsm(model, params, Xb, yb, e))
    ref = robustness_curve(model, params, X, y, [0.0, 0.1], attack="fgsm")
    np.testing.assert_array_equal(curve.accuracy, ref.accuracy)
    assert curve.accuracy[0] == 1.0


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(eps_grid=[0.2, 0.1]), ValueError, "eps_grid"),
    (dict(eps_grid=[-0.1, 0.1]), ValueError, "eps_grid"),
    (dict(eps_grid=[0.0, np.nan]), ValueError, "eps_grid"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(attack="cw"), ValueError, "attack"),
    (dict(n_stepz=3), TypeError, "n_stepz"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(y=None), ValueError, "y"),
    (dict(clip_min=1.0, clip_max=0.0), ValueError, "clip_min"),
], ids=["unsorted", "negative", "nan", "batch", "attack", "option", "steps", "no-y", "box"])
def test_bad_inputs(kwargs, err, match):
    model, params, X, y = _mlp(n=10)
    call = dict(y=y, eps_grid=[0.0, 0.1]) | kwargs
    with pytest.raises(err, match=match):
        robustness_curve(model, params, X, **call)
