"""Sharpness of L2-adversarially trained logistic regression (theory sections 1.4, 2.5)."""

import numpy as np
import pytest

from minadv.analysis.sharpness_curve import (
    fit_robust_logistic,
    random_noise_control,
    sharpness_curve,
)
from minadv.datasets import make_sharpness_data
from minadv.robust_logistic import critical_radius, robust_logistic_loss_grad

# docs/theory.md section 2.5 (our own float64 NumPy run): eps, ||w*||, lambda_max, lambda_2, L_adv.
TABLE = np.array([
    [0.0, 2.3049, 0.15774, 0.14234, 0.32025],
    [0.2, 1.7732, 0.22944, 0.21463, 0.41560],
    [0.4, 1.3276, 0.34474, 0.32860, 0.50966],
    [0.6, 0.9234, 0.55072, 0.53201, 0.59366],
    [0.8, 0.5351, 1.02062, 1.00229, 0.65726],
])
# Accuracies are multiples of 1/400; the table prints them to 3 decimals (0.7975 -> "0.797",
# 0.8475 -> "0.848"), so they are checked as exact counts of correctly classified samples.
CLEAN_CORRECT = [338, 338, 339, 338, 340]          # table: .845 .845 .848 .845 .850
ROBUST_CORRECT = [338, 319, 294, 264, 240]         # table: .845 .797 .735 .660 .600
LAMBDA_ODD = {0.1: 0.18942, 0.3: 0.27989, 0.5: 0.43093, 0.7: 0.72817}
NOISE_LAMBDA = [0.15774, 0.15769, 0.15839, 0.15987, 0.16216]
GRID = np.round(np.arange(0.0, 0.81, 0.1), 10)     # 0, .1, ..., .8


@pytest.fixture(scope="module")
def data():
    return make_sharpness_data()


@pytest.fixture(scope="module")
def curve(data):
    X, y, _ = data
    return sharpness_curve(X, y, GRID, norm=2, k=5)


# ----------------------------------------------------------------------------- section 2.5 table
def test_critical_radius_reproduces(data):
    X, y, _ = data
    assert critical_radius(X, y, 2) == pytest.approx(1.0783, abs=5e-5)


@pytest.mark.parametrize("column, attr", [(1, "w_norm"), (2, "lambda_max"), (4, "robust_loss")],
                         ids=["w_norm", "lambda_max", "robust_loss"])
def test_table_columns_reproduce(curve, column, attr):
    rows = [int(i) for i in np.round(TABLE[:, 0] * 10)]           # grid indices 0, 2, .., 8
    np.testing.assert_allclose(getattr(curve, attr)[rows], TABLE[:, column], rtol=0, atol=1e-4)


def test_table_lambda_2_reproduces(curve):
    np.testing.assert_allclose(curve.top_eigenvalues[[0, 2, 4, 6, 8], 1], TABLE[:, 3],
                               rtol=0, atol=1e-4)


def test_table_lambda_max_odd_grid_points(curve):
    for eps, lam in LAMBDA_ODD.items():
        assert curve.lambda_max[int(round(eps * 10))] == pytest.approx(lam, abs=1e-4)


def test_table_accuracies_exact_counts(curve):
    rows = [0, 2, 4, 6, 8]
    np.testing.assert_array_equal(np.round(curve.clean_accuracy[rows] * 400), CLEAN_CORRECT)
    np.testing.assert_array_equal(np.round(curve.robust_accuracy[rows] * 400), ROBUST_CORRECT)


def test_optimum_reached(curve):
    assert np.all(curve.grad_norm < 1e-8)


# ----------------------------------------------------------------------------- invariants
def test_lambda_max_strictly_increasing_and_top_k_sorted(curve):
    assert np.all(np.diff(curve.lambda_max) > 0)
    assert np.all(np.diff(curve.w_norm) < 0)
    assert np.all(np.diff(curve.top_eigenvalues, axis=1) <= 0)
    assert np.all(curve.trace >= curve.top_eigenvalues.sum(axis=1) - 1e-12)


def test_eps0_robust_accuracy_equals_clean(curve):
    assert curve.robust_accuracy[0] == curve.clean_accuracy[0]


def test_random_noise_control_is_flat_and_reproduces(data):
    X, y, _ = data
    gen = make_sharpness_data()[2]                  # fresh copy of the continued stream
    res = random_noise_control(X, y, [0.0, 0.2, 0.4, 0.6, 0.8], n_directions=20, rng=gen)
    np.testing.assert_allclose(res.lambda_max, NOISE_LAMBDA, rtol=0, atol=1e-4)
    assert res.lambda_max.max() / res.lambda_max.min() < 1.05
    assert res.lambda_max_clean.max() / res.lambda_max_clean.min() < 1.05


def test_second_dataset_d50_with_intercept_monotone():
    rng = np.random.default_rng(2024)
    n, d = 600, 50                                  # not separable (a separable set has no w*)
    y = rng.integers(0, 2, size=n)
    mu = rng.normal(size=d) * 0.12                  # ||mu|| = 0.84
    X = (2 * y - 1)[:, None] * mu + 0.3 + rng.normal(size=(n, d))
    eps_c = critical_radius(X, y, 2)
    grid = np.linspace(0.0, 0.8, 5) * eps_c
    res = sharpness_curve(X, y, grid, norm=2, fit_intercept=True, k=3)
    assert np.all(np.diff(res.lambda_max) > 0)
    assert np.all(res.grad_norm < 1e-8)
    assert abs(res.b[-1]) > 0                       # the intercept is actually fitted


# ----------------------------------------------------------------------------- fit details
def test_fit_is_stationary_and_warm_start_agrees(data):
    X, y, _ = data
    fit = fit_robust_logistic(X, y, 0.5, norm=2, fit_intercept=True)
    _, g = robust_logistic_loss_grad(np.r_[fit.w, fit.b], X, y, 0.5, norm=2, l2=0.0, fit_intercept=True)
    assert np.max(np.abs(g)) < 1e-8
    warm = fit_robust_logistic(X, y, 0.5, norm=2, fit_intercept=True, w0=np.r_[fit.w, fit.b])
    np.testing.assert_allclose(warm.w, fit.w, atol=1e-7)
    assert set(fit.params) == {"w", "b"} and fit.params["b"].shape == ()


def test_above_critical_radius_the_optimum_is_zero(data):
    X, y, _ = data
    fit = fit_robust_logistic(X, y, 1.1, norm=2)
    assert not np.any(fit.w) and fit.loss == pytest.approx(np.log(2), rel=1e-15)
    assert fit.method == "critical radius"
    assert fit.certified and fit.kkt_residual == 0.0
    # the L2 Hessian does not exist at w* = 0: the curve refuses such radii (no inf entries)
    with pytest.raises(ValueError, match="eps_grid.*critical radius"):
        sharpness_curve(X, y, [0.5, 1.1], norm=2, k=2)


def test_linf_curve_runs_and_accepts_float32(data):
    X, y, _ = data
    res = sharpness_curve(X.astype(np.float32), y, [0.0, 0.05], norm=np.inf, k=2)
    assert res.w.dtype == np.float64 and np.all(np.isfinite(res.lambda_max))


# ----------------------------------------------------------------------------- bad inputs
def test_error_negative_eps_grid(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="eps_grid"):
        sharpness_curve(X, y, [0.1, -0.2])


def test_error_k_too_large(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="k"):
        sharpness_curve(X, y, [0.1], k=21)


def test_error_w0_shape(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="w0"):
        fit_robust_logistic(X, y, 0.1, w0=np.zeros(3))


def test_error_gtol(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="gtol"):
        fit_robust_logistic(X, y, 0.1, gtol=0.0)


def test_error_negative_eps_fit(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="eps"):
        fit_robust_logistic(X, y, -0.1)


def test_error_n_directions(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="n_directions"):
        random_noise_control(X, y, [0.1], n_directions=0, rng=0)


def test_error_rng_type(data):
    X, y, _ = data
    with pytest.raises(TypeError, match="rng"):
        random_noise_control(X, y, [0.1], rng=np.random.RandomState(0))
