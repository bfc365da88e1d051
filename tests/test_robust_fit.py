"""Certified robust logistic fits (minadv.analysis.robust_fit): exact at kinks, KKT certificate, eps_c."""

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from minadv.analysis.robust_fit import (
    RobustLogisticProblem,
    fit_robust_logistic,
    has_minimiser,
    has_minimiser_kernel,
)
from minadv.analysis.sharpness_curve import sharpness_curve
from minadv.datasets import make_sharpness_data
from minadv.robust_logistic import (
    critical_radius,
    robust_logistic_kkt_residual,
    robust_logistic_loss,
    robust_logistic_loss_grad,
)


def correlated_design(n=200, d=30, seed=0):
    """Standardised AR(0.6)-correlated Gaussian design; 5 relevant features of 30, bias 0.3."""
    rng = np.random.default_rng(seed)
    C = 0.6 ** np.abs(np.subtract.outer(np.arange(d), np.arange(d)))
    X = rng.normal(size=(n, d)) @ np.linalg.cholesky(C).T
    w = np.r_[2.0, -1.5, 1.0, 0.5, -0.8, np.zeros(d - 5)]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(int)
    return (X - X.mean(0)) / X.std(0), y


def digits_like(n=300, seed=0):
    """8x8 'ring' vs 'bar' images in 0..16, shifted, noisy, 10 % label noise, standardised."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8]
    ring = (np.abs(np.hypot(yy - 3.5, xx - 3.5) - 2.5) < 0.9) * 16.0
    bar = (np.abs(xx - 3.5) < 1.2) * (yy > 0) * (yy < 7) * 16.0
    y = rng.integers(0, 2, n)
    imgs = np.where(y[:, None, None] == 0, ring, bar)
    imgs = np.array([np.roll(im, s, axis=1) for im, s in zip(imgs, rng.integers(-1, 2, n))])
    X = np.clip(imgs + rng.normal(scale=5.0, size=imgs.shape), 0, 16).reshape(n, 64)
    y = np.where(rng.random(n) < 0.1, 1 - y, y)
    return (X - X.mean(0)) / X.std(0), y


DATA = {"correlated": correlated_design(), "digits_like": digits_like()}


def _kkt(fit, X, y, eps, norm, fit_intercept, l2=0.0):
    return robust_logistic_kkt_residual(fit.w, fit.b if fit_intercept else None, X, y, eps,
                                        norm=norm, l2=l2)


# ----------------------------------------------------------------------------- certificate
@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize("frac", [0.0, 0.4, 0.8, 1.25], ids=["eps0", "small", "large", "zero_w"])
def test_fit_satisfies_kkt_to_1e_8(name, norm, fit_intercept, frac):
    X, y = DATA[name]
    eps = frac * critical_radius(X, y, norm, fit_intercept=fit_intercept)
    fit = fit_robust_logistic(X, y, eps, norm, fit_intercept=fit_intercept)
    assert fit.certified and fit.kkt_residual <= 1e-8
    assert _kkt(fit, X, y, eps, norm, fit_intercept) <= 1e-8       # recomputed independently
    assert np.any(fit.w) == (frac < 1)


def test_kkt_with_weight_decay(norm):
    X, y = DATA["correlated"]
    fit = fit_robust_logistic(X, y, 0.3, norm, fit_intercept=True, l2=0.05)
    assert _kkt(fit, X, y, 0.3, norm, True, l2=0.05) <= 1e-8


def test_linf_optimum_has_exact_zeros_and_beats_the_a_e_gradient_fit(fit_intercept):
    X, y = DATA["correlated"]
    eps = 0.5 * critical_radius(X, y, np.inf, fit_intercept=fit_intercept)
    fit = fit_robust_logistic(X, y, eps, np.inf, fit_intercept=fit_intercept)
    zeros = fit.w == 0
    assert 10 <= zeros.sum() < X.shape[1]                         # many exact zeros, not all
    # L-BFGS-B on the a.e. gradient (the old method) ends at a kink with a higher loss
    naive = minimize(lambda t: robust_logistic_loss_grad(t, X, y, eps, norm=np.inf,
                                                         fit_intercept=fit_intercept),
                     np.zeros(X.shape[1] + fit_intercept), jac=True, method="L-BFGS-B",
                     options={"maxiter": 300})
    d = X.shape[1]
    naive_kkt = robust_logistic_kkt_residual(naive.x[:d], naive.x[d] if fit_intercept else None,
                                             X, y, eps, norm=np.inf)
    assert fit.loss < naive.fun and naive_kkt > 1e-3


def test_l1_optimum_has_exact_ties():
    X, y = DATA["correlated"]
    eps = 0.5 * critical_radius(X, y, 1)
    fit = fit_robust_logistic(X, y, eps, 1)
    assert np.sum(np.abs(fit.w) == np.max(np.abs(fit.w))) >= 2


def test_one_feature_optimum_equals_scalar_minimisation(norm):
    # d = 1: ||w||_q = |w| for every q, so the optimum is a 1-D convex minimisation.
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    X = (rng.normal(size=80) + 0.8 * (2 * y - 1))[:, None]
    ref = minimize_scalar(lambda w: robust_logistic_loss(np.array([w]), None, X, y, 0.3, norm=norm),
                          bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-12})
    fit = fit_robust_logistic(X, y, 0.3, norm)
    assert fit.w[0] == pytest.approx(ref.x, abs=1e-6) and fit.loss <= ref.fun + 1e-15


def test_warm_start_agrees_with_cold_start():
    X, y = DATA["correlated"]
    cold = fit_robust_logistic(X, y, 0.2, np.inf, fit_intercept=True)
    warm = fit_robust_logistic(X, y, 0.2, np.inf, fit_intercept=True,
                               w0=np.r_[cold.w + 0.1, cold.b])
    np.testing.assert_allclose(warm.w, cold.w, atol=1e-9)
    np.testing.assert_array_equal(warm.w == 0, cold.w == 0)


def test_uncertifiable_tolerance_warns_and_reports():
    X, y = DATA["correlated"]
    with pytest.warns(RuntimeWarning, match="could not certify"):
        fit = fit_robust_logistic(X, y, 0.2, 2, kkt_tol=1e-300)
    assert not fit.certified and fit.kkt_residual > 1e-300


# ----------------------------------------------------------------------------- critical radius
def test_critical_radius_with_intercept_is_half_the_class_mean_gap(norm):
    X, y = DATA["correlated"]
    gap = X[y == 1].mean(0) - X[y == 0].mean(0)
    assert critical_radius(X, y, norm, fit_intercept=True) == pytest.approx(
        0.5 * np.linalg.norm(gap, ord=norm), rel=1e-14)


def test_intercept_zero_weight_optimum_exactly_at_critical_radius(norm):
    X, y = DATA["digits_like"]
    eps_c = critical_radius(X, y, norm, fit_intercept=True)
    prior = np.log(np.mean(y == 1) / np.mean(y == 0))
    above = fit_robust_logistic(X, y, eps_c, norm, fit_intercept=True)
    assert not np.any(above.w) and above.b == pytest.approx(prior, rel=1e-15)
    assert above.method == "critical radius" and above.kkt_residual <= 1e-15
    below = fit_robust_logistic(X, y, 0.99 * eps_c, norm, fit_intercept=True)
    assert np.any(below.w) and below.loss < above.loss
    # at (0, b*) the KKT residual is positive below eps_c and zero at eps_c
    assert robust_logistic_kkt_residual(np.zeros(64), prior, X, y, 0.99 * eps_c, norm=norm) > 0


# ----------------------------------------------------------------------------- no minimiser
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_separable_data_without_minimiser_is_refused_clearly(norm, fit_intercept, eps):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    X = rng.normal(size=(60, 5))
    X[:, 0] += 3 * (2 * y - 1)                                    # separable, margin > 0.1
    with pytest.raises(ValueError, match=r"X, y: the loss has no minimiser.*separable"):
        fit_robust_logistic(X, y, eps, norm, fit_intercept=fit_intercept)
    fit = fit_robust_logistic(X, y, eps, norm, fit_intercept=fit_intercept, l2=1e-2)
    assert fit.certified                                          # weight decay: an optimum


def test_has_minimiser_on_overlapping_classes():
    X, y, _ = make_sharpness_data()
    assert has_minimiser(X, y, 0.0) is True
    P = RobustLogisticProblem(X, 2.0 * y - 1, 0.0, 2, 0.0, False)
    assert has_minimiser_kernel(P) is True
    sep = np.where(y[:, None] == 1, 1.0, -1.0) * (np.abs(X) + 0.1)   # x_i = y_i |x_i|
    assert has_minimiser(sep, y, 0.0, np.inf) is False
    assert has_minimiser(sep, y, 0.0, 2, l2=1e-3) is True


# ----------------------------------------------------------------------------- sharpness curve
def test_sharpness_curve_with_intercept_is_finite_and_certified(norm):
    X, y = DATA["correlated"]
    eps_c = critical_radius(X, y, norm, fit_intercept=True)
    res = sharpness_curve(X, y, np.array([0.0, 0.3, 0.6, 0.9]) * eps_c, norm,
                          fit_intercept=True, k=2)
    assert np.all(np.isfinite(res.lambda_max)) and np.all(res.lambda_max < 10)
    assert np.all(res.kkt_residual <= 1e-8) and np.all(np.isfinite(res.trace))
    if norm == 2:
        assert np.all(np.diff(res.lambda_max) > 0)


@pytest.mark.parametrize("norm", [pytest.param(np.inf, id="linf"), pytest.param(1, id="l1")])
def test_sharpness_curve_past_critical_radius_stays_finite(norm):
    X, y = DATA["correlated"]
    eps_c = critical_radius(X, y, norm, fit_intercept=True)
    res = sharpness_curve(X, y, np.array([0.5, 1.0, 1.5]) * eps_c, norm, fit_intercept=True,
                          k=1)
    assert np.all(np.isfinite(res.lambda_max)) and not np.any(res.w[1:])
    assert np.all(res.kkt_residual <= 1e-8)


def test_no_nearby_point_is_lower(norm, fit_intercept):
    # Optimality seen directly: random small steps, and steps that leave the kinks (move an
    # exact zero of Linf, break an exact tie of L1), never lower the certified loss.
    X, y = DATA["correlated"]
    eps = 0.5 * critical_radius(X, y, norm, fit_intercept=fit_intercept)
    fit = fit_robust_logistic(X, y, eps, norm, fit_intercept=fit_intercept)
    b = fit.b if fit_intercept else None
    rng = np.random.default_rng(7)
    d = X.shape[1]
    steps = np.r_[rng.normal(size=(40, d)), np.eye(d), -np.eye(d)] * 1e-4
    for step in steps:
        assert robust_logistic_loss(fit.w + step, b, X, y, eps, norm=norm) >= fit.loss - 1e-15


def test_warm_start_above_the_zero_weight_loss_is_not_used(norm):
    # Regression: warm-starting at the previous (smaller-eps) optimum, whose loss at the new
    # eps exceeds L(0, b*), drove the L1 scaled box to its degenerate t = 0.
    X, y, _ = make_sharpness_data()
    eps_c = critical_radius(X, y, norm)
    prev = fit_robust_logistic(X, y, 0.5 * eps_c, norm, fit_intercept=True)
    fit = fit_robust_logistic(X, y, 0.75 * eps_c, norm, fit_intercept=True,
                              w0=np.r_[prev.w, prev.b])
    cold = fit_robust_logistic(X, y, 0.75 * eps_c, norm, fit_intercept=True)
    assert fit.certified and fit.loss == pytest.approx(cold.loss, rel=1e-14)


@pytest.mark.parametrize("seed", [1, 10, 28, 101])
def test_random_problems_with_warm_starts_are_certified(seed):
    # Seeded sweep over scales 1e-2..1e3, collinear columns and warm starts along an eps grid
    # (the regimes that broke earlier versions: t -> 0 in the L1 box, singular face Hessians).
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(40, 160)), int(rng.integers(5, 40))
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-2, 3) + rng.normal(size=d)
    X[:, 0] += rng.uniform(0.2, 1.5) * (2 * y - 1)
    X[:, 1] = 0.5 * X[:, 2]                                       # collinear columns
    for norm in (2, np.inf, 1):
        for fit_intercept in (False, True):
            eps_c = critical_radius(X, y, norm, fit_intercept=fit_intercept)
            w0 = None
            for frac in (0.2, 0.6, 0.95):
                fit = fit_robust_logistic(X, y, frac * eps_c, norm, fit_intercept=fit_intercept,
                                          l2=1e-3, w0=w0)
                assert fit.certified and np.any(fit.w)
                w0 = np.r_[fit.w, fit.b] if fit_intercept else fit.w


def test_just_below_critical_radius_the_optimum_is_tiny_but_certified(norm, fit_intercept):
    X, y = DATA["correlated"]
    eps_c = critical_radius(X, y, norm, fit_intercept=fit_intercept)
    fit = fit_robust_logistic(X, y, (1 - 1e-6) * eps_c, norm, fit_intercept=fit_intercept)
    assert fit.certified and 0 < np.max(np.abs(fit.w)) < 1e-2


def test_tutorial_04_exercise_1_answer_exact_zeros_on_the_kinks():
    """Tutorial 04, exercise 1: the L∞-robust fit at eps = 0.3 of the §2.5 data puts 19 of the
    20 weights exactly at 0 (only the signal coordinate w₀ survives), and certifies it."""
    from minadv.analysis import fit_robust_logistic
    from minadv.datasets import make_sharpness_data

    X, y, _ = make_sharpness_data()
    fit = fit_robust_logistic(X, y, 0.3, norm=np.inf)
    assert fit.certified and fit.kkt_residual <= 1e-8
    assert np.count_nonzero(fit.w == 0.0) == 19
    assert fit.w[0] > 0 and np.flatnonzero(fit.w).tolist() == [0]
