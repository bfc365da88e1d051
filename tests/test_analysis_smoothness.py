"""minadv.analysis.smoothness: gradient-Lipschitz ratios (Kanai et al.; ``docs/theory.md``
§1.3, §3.7) on closed-form models, and the PGD-based adversarial gradients (Danskin) for any
model fed to the same estimator."""

import numpy as np
import pytest

from minadv.analysis.smoothness import (
    gradient_lipschitz_ratios,
    pgd_adversarial_grad_fn,
    random_unit_directions,
    robust_logistic_grad_fn,
)
from minadv.datasets import make_sharpness_data
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import flatten
from minadv.robust_logistic import flat_hessian


# ----------------------------------------------------------------------------- exact answers
@pytest.mark.parametrize("symmetric", [False, True], ids=["onesided", "symmetric"])
def test_quadratic_ratio_is_norm_of_Av(symmetric):
    # L = theta^T A theta / 2 -> grad = A theta; both ratios equal ||A v|| for every t.
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    V = np.array([[1.0, 0.0], [0.6, 0.8]])
    ratios = gradient_lipschitz_ratios(lambda t: A @ t, np.array([0.3, -1.0]), V,
                                       [1e-1, 1e-3], symmetric=symmetric)
    expected = np.linalg.norm(V @ A, axis=1)[:, None] * np.ones((1, 2))
    np.testing.assert_allclose(ratios, expected, rtol=1e-12)


def test_random_unit_directions_unit_norm_and_seeded():
    V = random_unit_directions(7, 5, rng=3)
    assert V.shape == (5, 7) and V.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(V, random_unit_directions(7, 5, rng=3))


# ----------------------------------------------------------------------------- invariants
def test_l2_ratio_tends_to_hessian_vector_norm():
    X, y, _ = make_sharpness_data()
    w = np.random.default_rng(0).normal(size=20)
    V = random_unit_directions(20, 3, rng=1)
    ratios = gradient_lipschitz_ratios(robust_logistic_grad_fn(X, y, 0.5, norm=2), w, V, [1e-6],
                                       symmetric=True)
    H = flat_hessian(w, X, y, 0.5, norm=2)
    np.testing.assert_allclose(ratios[:, 0], np.linalg.norm(V @ H, axis=1), rtol=1e-6)


# ----------------------------------------------------------------------------- section 1.3
def test_linf_ratio_diverges_at_kink_while_l2_stays_bounded():
    # Section 2.5 data, random w with w[3] = 1e-9 (a point next to the Linf kink w_3 = 0),
    # probe along e_3 with the symmetric ratio: Linf jumps by 2 eps mean(s) -> grows like 1/t.
    X, y, _ = make_sharpness_data()
    w = np.random.default_rng(0).normal(size=20)
    w[3] = 1e-9
    e3 = np.eye(20)[3:4]
    ts = np.array([1e-2, 1e-4, 1e-6])
    r_inf = gradient_lipschitz_ratios(robust_logistic_grad_fn(X, y, 0.5, norm=np.inf), w, e3, ts,
                                      symmetric=True)[0]
    r_l2 = gradient_lipschitz_ratios(robust_logistic_grad_fn(X, y, 0.5, norm=2), w, e3, ts,
                                     symmetric=True)[0]
    assert r_inf[-1] / r_inf[0] >= 100
    assert np.all(np.diff(r_inf) > 0)
    assert r_l2.max() / r_l2.min() <= 2


def test_grad_fn_keeps_float32():
    X, y, _ = make_sharpness_data()
    g = robust_logistic_grad_fn(X.astype(np.float32), y, 0.1, norm=np.inf, fit_intercept=True)
    assert g(np.zeros(21, dtype=np.float32)).dtype == np.float32


# ----------------------------------------------------------------------------- bad inputs
def test_error_nonpositive_ts():
    with pytest.raises(ValueError, match="ts"):
        gradient_lipschitz_ratios(lambda t: t, np.zeros(2), np.eye(2), [1e-2, 0.0])


def test_error_zero_direction():
    with pytest.raises(ValueError, match="directions"):
        gradient_lipschitz_ratios(lambda t: t, np.zeros(2), np.zeros((1, 2)), [1e-2])


def test_error_direction_shape():
    with pytest.raises(ValueError, match="directions"):
        gradient_lipschitz_ratios(lambda t: t, np.zeros(2), np.ones((1, 3)), [1e-2])


def test_error_theta_nan():
    with pytest.raises(ValueError, match="theta"):
        gradient_lipschitz_ratios(lambda t: t, np.array([np.nan, 0.0]), np.eye(2), [1e-2])


def test_error_dim():
    with pytest.raises(ValueError, match="dim"):
        random_unit_directions(0, 3, rng=0)


def test_error_grad_fn_eps():
    X, y, _ = make_sharpness_data()
    with pytest.raises(ValueError, match="eps"):
        robust_logistic_grad_fn(X, y, -0.5)


# ----------------------------------------------------------------------------- PGD (any model)
@pytest.mark.parametrize("norm", [np.inf, 2], ids=["linf", "l2"])
def test_equals_closed_form_for_logistic_regression(norm):
    X, y, _ = make_sharpness_data()
    theta = np.append(np.random.default_rng(0).normal(size=20), 0.3)
    pgd_grad = pgd_adversarial_grad_fn(LogisticRegressionModel(20), X, y, 0.5, norm,
                                       n_steps=3, step_size=0.5)(theta)
    exact = robust_logistic_grad_fn(X, y, 0.5, norm=norm, fit_intercept=True)(theta)
    np.testing.assert_allclose(pgd_grad, exact, rtol=0, atol=1e-14)


def test_mlp_l2_smooth_linf_not():
    """Kanai et al. on a small tanh MLP: the L2 ratio is flat in t, the Linf one is not."""
    X, y, _ = make_sharpness_data()
    net = MLP([20, 16, 2], activation="tanh")
    theta = flatten(net.init_params(rng=0))
    V = random_unit_directions(theta.size, 4, rng=1)
    ts = np.array([1e-2, 1e-3, 1e-4])
    r_l2 = gradient_lipschitz_ratios(pgd_adversarial_grad_fn(net, X, y, 0.1 * np.sqrt(20), 2),
                                     theta, V, ts, symmetric=True)
    r_inf = gradient_lipschitz_ratios(pgd_adversarial_grad_fn(net, X, y, 0.1, np.inf),
                                      theta, V, ts, symmetric=True)
    assert np.all(r_l2.max(axis=1) / r_l2.min(axis=1) < 1.01)
    assert np.max(r_inf.max(axis=1) / r_inf.min(axis=1)) > 1.5


def test_validates_data_once():
    with pytest.raises(ValueError, match="y: labels must lie"):
        pgd_adversarial_grad_fn(LogisticRegressionModel(2), np.zeros((2, 2)), [0, 3], 0.1)
