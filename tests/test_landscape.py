"""Loss landscapes (Li et al. 2018): exact answers, then invariants, then thresholds."""

import numpy as np
import pytest

from minadv.analysis.hessian import hessian_operator
from minadv.analysis.landscape import (
    adversarial_loss_fn,
    clean_loss_fn,
    interpolate,
    random_direction,
    slice_1d,
    slice_2d,
    weight_names_of,
)
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import flatten, tree_add, tree_scale


@pytest.fixture
def mlp_setup():
    model = MLP([4, 6, 5, 3], activation="relu")
    rng = np.random.default_rng(0)
    params = model.init_params(rng=1)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X, y = rng.standard_normal((25, 4)), rng.integers(0, 3, 25)
    return model, params, X, y


@pytest.fixture
def logistic_setup():
    model = LogisticRegressionModel(3)
    rng = np.random.default_rng(2)
    params = {"w": rng.standard_normal(3), "b": np.array(-0.4)}
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    return model, params, X, y


def _worst_case_l2(eps):
    """Closed-form L2 worst case of a linear score: x − ε y± w/‖w‖ (docs/theory.md 1.1)."""
    return lambda p, X, y: X - eps * (2.0 * y - 1)[:, None] * (p["w"] / np.linalg.norm(p["w"]))


# ----------------------------------------------------------------------------- exact answers

def test_interpolation_endpoints_are_exact(mlp_setup):
    model, params, X, y = mlp_setup
    other = model.init_params(rng=9)
    loss = clean_loss_fn(model, X, y)
    res = interpolate(loss, params, other, [-0.5, 0.0, 0.5, 1.0, 1.5])
    assert res.values[1] == loss(params) and res.values[3] == loss(other)
    mid = {k: 0.5 * params[k] + 0.5 * other[k] for k in params}
    np.testing.assert_allclose(res.values[2], loss(mid), rtol=1e-15)


def test_slices_at_zero_are_exact(mlp_setup):
    model, params, X, y = mlp_setup
    loss = clean_loss_fn(model, X, y)
    d1, d2 = random_direction(params, rng=0), random_direction(params, rng=1)
    s1 = slice_1d(loss, params, d1, [-1.0, 0.0, 0.5])
    assert s1.values[1] == loss(params)
    s2 = slice_2d(loss, params, d1, d2, alphas=[-1.0, 0.0, 0.5], betas=[0.0, 2.0])
    assert s2.values.shape == (3, 2) and s2.values[1, 0] == loss(params)
    np.testing.assert_array_equal(s2.values[:, 0], s1.values)   # β = 0 column is the 1-D slice
    np.testing.assert_allclose(s2.values[2, 1], loss(tree_add(tree_add(params, d1, 0.5), d2, 2.0)),
                               rtol=1e-14)


def test_adversarial_loss_fn_equals_closed_form_robust_loss(logistic_setup):
    model, params, X, y = logistic_setup
    eps, ypm = 0.3, 2.0 * y - 1
    margin = ypm * (X @ params["w"] + params["b"]) - eps * np.linalg.norm(params["w"])
    expected = np.mean(np.logaddexp(0, -margin))         # mean softplus(−robust margin)
    np.testing.assert_allclose(adversarial_loss_fn(model, X, y, _worst_case_l2(eps))(params),
                               expected, rtol=1e-14)
    def library_style(m, p, X_, y_, eps):
        return _worst_case_l2(eps)(p, X_, y_)
    np.testing.assert_allclose(adversarial_loss_fn(model, X, y, library_style, eps=eps)(params),
                               expected, rtol=1e-14)


def test_none_normalization_is_the_raw_gaussian_draw(mlp_setup):
    _, params, _, _ = mlp_setup
    d = random_direction(params, rng=3, normalization="none")
    gen = np.random.default_rng(3)
    for k, v in params.items():
        raw = gen.standard_normal(v.shape)
        np.testing.assert_array_equal(d[k], raw if v.ndim == 2 else 0 * raw)


# ----------------------------------------------------------------------------- invariants

def test_filter_normalized_norms_match_weights_per_column(mlp_setup):
    _, params, _, _ = mlp_setup
    d = random_direction(params, rng=4)
    for k, v in params.items():
        if v.ndim == 2:                                  # filter j = column W[:, j]
            np.testing.assert_allclose(np.linalg.norm(d[k], axis=0),
                                       np.linalg.norm(v, axis=0), rtol=1e-9)
        else:
            np.testing.assert_array_equal(d[k], np.zeros_like(v))


def test_logistic_single_filter_and_ignored_bias(logistic_setup):
    _, params, _, _ = logistic_setup
    assert weight_names_of(params) == ("w",)
    d = random_direction(params, rng=5)
    np.testing.assert_allclose(np.linalg.norm(d["w"]), np.linalg.norm(params["w"]), rtol=1e-9)
    assert d["b"] == 0 and d["b"].shape == ()
    kept = random_direction(params, rng=5, ignore_bias=False)
    np.testing.assert_array_equal(kept["b"], params["b"])
    np.testing.assert_array_equal(kept["w"], d["w"])


def test_layer_normalization_and_bias_copy(mlp_setup):
    _, params, _, _ = mlp_setup
    d = random_direction(params, rng=6, normalization="layer", ignore_bias=False)
    for k, v in params.items():
        if v.ndim == 2:
            np.testing.assert_allclose(np.linalg.norm(d[k]), np.linalg.norm(v), rtol=1e-9)
        else:
            np.testing.assert_array_equal(d[k], v)


def test_direction_reproducible_and_keeps_dtype(mlp_setup):
    _, params, _, _ = mlp_setup
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    a, b = random_direction(p32, rng=7), random_direction(p32, rng=np.random.default_rng(7))
    assert all(a[k].dtype == np.float32 and np.array_equal(a[k], b[k]) for k in a)


def test_filter_normalized_slices_are_rescaling_invariant(mlp_setup):
    """ReLU is positively homogeneous: (c W1, c b1, W2/c) is the same network, and the
    filter-normalised direction rescales with it, so the 1-D slices coincide (Li et al. sec. 4)."""
    model, params, X, y = mlp_setup
    c = 7.0
    scaled = dict(params, W1=c * params["W1"], b1=c * params["b1"], W2=params["W2"] / c)
    loss, alphas = clean_loss_fn(model, X, y), np.linspace(-1, 1, 5)
    a = slice_1d(loss, params, random_direction(params, rng=8), alphas).values
    b = slice_1d(loss, scaled, random_direction(scaled, rng=8), alphas).values
    np.testing.assert_allclose(a, b, rtol=1e-12)
    raw = slice_1d(loss, scaled, random_direction(scaled, rng=8, normalization="none"), alphas)
    assert np.abs(raw.values - a).max() > 1e-3           # unnormalised slices are not invariant


# ----------------------------------------------------------------------------- thresholds

def test_slice_curvature_equals_directional_hessian(logistic_setup):
    model, params, X, y = logistic_setup
    d = random_direction(params, rng=9)
    h = 1e-3
    vals = slice_1d(clean_loss_fn(model, X, y), params, d, [-h, 0.0, h]).values
    second = (vals[0] - 2 * vals[1] + vals[2]) / h**2
    v = flatten(d)
    np.testing.assert_allclose(second, v @ (hessian_operator(model, params, X, y) @ v), rtol=1e-5)


# ----------------------------------------------------------------------------- errors

def test_bad_inputs(mlp_setup):
    model, params, X, y = mlp_setup
    loss = clean_loss_fn(model, X, y)
    d = random_direction(params, rng=0)
    bad = dict(d, W1=d["W1"][:, :2])
    with pytest.raises(ValueError, match="direction"):
        slice_1d(loss, params, bad, [0.0])
    with pytest.raises(ValueError, match="d2"):
        slice_2d(loss, params, d, {"W1": d["W1"]}, alphas=[0.0], betas=[0.0])
    with pytest.raises(ValueError, match="normalization"):
        random_direction(params, rng=0, normalization="weights")
    with pytest.raises(ValueError, match="weight_names"):
        random_direction(params, rng=0, weight_names=["W9"])
    with pytest.raises(TypeError, match="loss_fn"):
        slice_1d("loss", params, d, [0.0])
    with pytest.raises(ValueError, match="alphas"):
        slice_1d(loss, params, d, [[0.0]])
    with pytest.raises(ValueError, match="params_b"):
        interpolate(loss, params, tree_scale(bad, 1.0), [0.0])
    with pytest.raises(ValueError, match="y"):
        clean_loss_fn(model, X, None)
    with pytest.raises(TypeError, match="attack"):
        adversarial_loss_fn(model, X, y, attack="pgd")
