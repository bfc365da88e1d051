"""Sharpness beyond λ_max: ε-sharpness (Keskar et al. 2017) and the Hessian trace."""

import numpy as np
import pytest

from minadv.analysis.hessian import dense_hessian, hutchinson_trace, top_eigenvalues
from minadv.analysis.sharpness import epsilon_sharpness, hessian_trace, sharpness_ascent
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import flatten, unflatten

L2 = 1e-2


@pytest.fixture(scope="module")
def logistic_optimum():
    """Regularised logistic regression at its minimum (Newton steps to ‖∇L‖ < 1e-13)."""
    model = LogisticRegressionModel(3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3)) * np.array([2.0, 1.0, 0.5])   # a clear spectral gap
    y = rng.integers(0, 2, 60)
    params = model.init_params()
    for _ in range(30):
        g = flatten(model.loss_and_grads(params, X, y, l2=L2).grads)
        if np.linalg.norm(g) < 1e-13:
            break
        H = dense_hessian(model, params, X, y, l2=L2)
        params = unflatten(flatten(params) - np.linalg.solve(H, g), params)
    return model, params, X, y


@pytest.fixture(scope="module")
def mlp_problem():
    model = MLP([4, 6, 3], activation="tanh")
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    return model, model.init_params(rng=2), X, y


# ----------------------------------------------------------------------------- exact answers

def test_quadratic_sharpness_is_half_rho_squared_lambda_max():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    lam = np.array([3.0, 1.0, 0.5, 0.2, 0.1, 0.05])
    A = (Q * lam) @ Q.T
    def vg(x):
        return (0.5 * x @ A @ x, A @ x)              # minimum at 0, gradient 0 there
    rho = 0.7
    value, zeta, trace, f0 = sharpness_ascent(vg, np.zeros(6), rho, n_steps=60, rng=0)
    assert f0 == 0 and trace[0] == 0
    np.testing.assert_allclose(value, 0.5 * rho**2 * lam[0], rtol=1e-12)
    np.testing.assert_allclose(abs(zeta @ Q[:, 0]), rho, rtol=1e-6)   # along the top eigvec


def test_zero_radius_gives_exactly_zero(mlp_problem):
    model, params, X, y = mlp_problem
    res = epsilon_sharpness(model, params, X, y, 0.0, rng=0)
    assert res.sharpness == 0.0 and res.max_loss == res.loss
    assert all(not v.any() for v in res.perturbation.values())


def test_hessian_trace_exact_and_hutchinson(mlp_problem):
    model, params, X, y = mlp_problem
    H = dense_hessian(model, params, X, y)
    np.testing.assert_allclose(hessian_trace(model, params, X, y, method="exact"), np.trace(H),
                               rtol=1e-14)
    assert hessian_trace(model, params, X, y) == hessian_trace(model, params, X, y,
                                                               method="exact")
    est = hessian_trace(model, params, X, y, method="hutchinson", n_samples=50, rng=4)
    assert est == hutchinson_trace(model, params, X, y, n_samples=50, rng=4).estimate


# ----------------------------------------------------------------------------- invariants

def test_nonnegative_monotone_and_inside_the_ball(logistic_optimum, mlp_problem):
    for model, params, X, y in (logistic_optimum, mlp_problem):
        values = []
        for rho in (0.0, 0.05, 0.1, 0.2, 0.4):
            res = epsilon_sharpness(model, params, X, y, rho, n_steps=30, rng=5, l2=L2)
            assert np.linalg.norm(flatten(res.perturbation)) <= rho * (1 + 1e-12)
            assert res.sharpness >= 0 and res.sharpness == res.trace.max()
            np.testing.assert_allclose(res.keskar, 100 * res.sharpness / (1 + res.loss))
            values.append(res.sharpness)
        assert np.all(np.diff(values) > 0)


def test_relative_ball_uses_keskar_scaling(mlp_problem):
    model, params, X, y = mlp_problem
    res = epsilon_sharpness(model, params, X, y, 0.1, relative=True, rng=6)
    u = flatten(res.perturbation) / (np.abs(flatten(params)) + 1)
    assert np.linalg.norm(u) <= 0.1 * (1 + 1e-12)
    plain = epsilon_sharpness(model, params, X, y, 0.1, rng=6)
    assert res.sharpness > plain.sharpness               # |θ| + 1 >= 1: a larger set


# ----------------------------------------------------------------------------- thresholds

def test_small_rho_matches_half_rho_squared_lambda_max(logistic_optimum):
    model, params, X, y = logistic_optimum
    lam = top_eigenvalues(model, params, X, y, k=1, rng=0, l2=L2)[0]
    errors = []
    for rho in (1e-1, 1e-2):
        res = epsilon_sharpness(model, params, X, y, rho, n_steps=40, rng=7, l2=L2)
        errors.append(abs(res.sharpness / (0.5 * rho**2 * lam) - 1))
    assert errors[1] < 1e-2 and errors[1] < errors[0]    # O(ρ) cubic-term error


# ----------------------------------------------------------------------------- errors

def test_bad_inputs(mlp_problem):
    model, params, X, y = mlp_problem
    with pytest.raises(ValueError, match="rho"):
        epsilon_sharpness(model, params, X, y, -0.1)
    with pytest.raises(ValueError, match="n_steps"):
        epsilon_sharpness(model, params, X, y, 0.1, n_steps=-1)
    with pytest.raises(ValueError, match="method"):
        hessian_trace(model, params, X, y, method="lanczos")
    with pytest.raises(ValueError, match="y"):
        epsilon_sharpness(model, params, X, None, 0.1)
