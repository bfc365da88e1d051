"""Hessian spectra through the exact HVP: exact answers, then invariants, then thresholds."""

import numpy as np
import pytest
from scipy.special import expit

from minadv.analysis.hessian import (
    dense_hessian,
    gauss_newton_operator,
    hessian_at_adversarial,
    hessian_operator,
    hutchinson_trace,
    power_iteration,
    top_eigenvalues,
)
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import flatten, unflatten


def _perturbed(model, seed, scale=0.3):
    rng = np.random.default_rng(seed)
    params = model.init_params(rng=seed)
    return {k: v + scale * rng.standard_normal(v.shape) for k, v in params.items()}


@pytest.fixture
def mlp_problem():
    model = MLP([5, 7, 3], activation="tanh")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 5))
    y = rng.integers(0, 3, 20)
    return model, _perturbed(model, 1), X, y


@pytest.fixture
def logistic_problem():
    model = LogisticRegressionModel(4)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 4))
    y = rng.integers(0, 2, 30)
    params = {"w": rng.standard_normal(4), "b": np.array(0.3)}
    return model, params, X, y


@pytest.fixture(params=["mlp", "logistic"])
def problem(request, mlp_problem, logistic_problem):
    return mlp_problem if request.param == "mlp" else logistic_problem


def _fd_grad_hessian(model, params, X, y, h=1e-5):
    """Central differences of the gradient, column by column (independent oracle)."""
    x0 = flatten(params)
    cols = []
    for j in range(x0.size):
        e = np.zeros_like(x0)
        e[j] = h
        gp = flatten(model.loss_and_grads(unflatten(x0 + e, params), X, y).grads)
        gm = flatten(model.loss_and_grads(unflatten(x0 - e, params), X, y).grads)
        cols.append((gp - gm) / (2 * h))
    return np.stack(cols, axis=1)


# ----------------------------------------------------------------------------- exact answers

def test_logistic_hessian_is_closed_form(logistic_problem):
    model, params, X, y = logistic_problem
    f = X @ params["w"] + params["b"]
    c = expit(f) * expit(-f)                             # σ(f)σ(−f)
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    expected = X1.T @ (c[:, None] * X1) / X.shape[0]     # [X 1]ᵀ diag(c) [X 1] / n
    np.testing.assert_allclose(dense_hessian(model, params, X, y), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "softplus", "identity"])
@pytest.mark.parametrize("output", ["softmax", "sigsoftmax"])
@pytest.mark.parametrize("sizes", [(5, 3), (5, 7, 3), (5, 7, 6, 3)], ids=str)
def test_cached_mlp_operator_equals_model_hvp(activation, output, sizes):
    model = MLP(list(sizes), activation=activation, output=output)
    rng = np.random.default_rng(3)
    params = _perturbed(model, 4)
    X, y = rng.standard_normal((11, 5)), rng.integers(0, 3, 11)
    v = rng.standard_normal(model.n_params)
    op = hessian_operator(model, params, X, y, l2=0.25)
    expected = flatten(model.hvp(params, X, y, unflatten(v, params), l2=0.25))
    for _ in range(2):                                   # the cache is reused, not consumed
        np.testing.assert_allclose(op @ v, expected, rtol=0, atol=1e-14)


def test_hvp_equals_finite_differences(mlp_problem):
    model, params, X, y = mlp_problem
    H = dense_hessian(model, params, X, y)
    np.testing.assert_allclose(H, _fd_grad_hessian(model, params, X, y), rtol=0, atol=1e-8)


def test_lanczos_equals_dense_eigh(problem):
    model, params, X, y = problem
    exact = np.linalg.eigvalsh(dense_hessian(model, params, X, y))
    k = 3
    top = top_eigenvalues(model, params, X, y, k=k, rng=0)
    bottom = top_eigenvalues(model, params, X, y, k=k, rng=0, which="SA")
    np.testing.assert_allclose(top, exact[::-1][:k], rtol=0, atol=1e-8)
    np.testing.assert_allclose(bottom, exact[:k], rtol=0, atol=1e-8)


def test_lanczos_eigenvectors(mlp_problem):
    model, params, X, y = mlp_problem
    vals, vecs = top_eigenvalues(model, params, X, y, k=2, rng=1, return_eigenvectors=True)
    H = hessian_operator(model, params, X, y)
    for lam, v in zip(vals, vecs.T):
        np.testing.assert_allclose(H @ v, lam * v, atol=1e-8)


def test_gauss_newton_equals_hessian_for_logistic(logistic_problem):
    model, params, X, y = logistic_problem
    G = dense_hessian(model, params, X, y, curvature="gauss_newton")
    np.testing.assert_allclose(G, dense_hessian(model, params, X, y), rtol=0, atol=1e-15)
    np.testing.assert_allclose(gauss_newton_operator(model, params, X) @ np.eye(5)[:, 0],
                               G[:, 0], rtol=0, atol=1e-15)


def test_l2_adds_identity_on_weights_only(mlp_problem):
    model, params, X, y = mlp_problem
    mask = flatten({k: np.full(v.shape, float(k in model.weight_names))
                    for k, v in params.items()})
    H0 = dense_hessian(model, params, X, y)
    np.testing.assert_allclose(dense_hessian(model, params, X, y, l2=0.5),
                               H0 + 0.5 * np.diag(mask), rtol=0, atol=1e-14)


def test_fixed_adversarial_hessian_misses_exactly_term_2(logistic_problem):
    """docs/theory.md (3.2)/(1.3): FD Hessian of the closed-form L2-robust loss = fixed-X_adv
    Hessian + (ε mean(s)/‖w‖)(I − uuᵀ) on the weight block."""
    model, params, X, y = logistic_problem
    eps, ypm = 0.4, 2.0 * y - 1
    w, b = params["w"], float(params["b"])
    u = w / np.linalg.norm(w)
    def attack(p, X_, y_):                               # closed-form L2 worst case (1.1)
        return X_ - eps * (2.0 * y_ - 1)[:, None] * (p["w"] / np.linalg.norm(p["w"]))

    def robust_grad(theta):                              # closed form of (1.2), with bias
        wt, bt = theta[:-1], theta[-1]
        m = ypm * (X @ wt + bt) - eps * np.linalg.norm(wt)
        s = expit(-m)
        gw = -(s[:, None] * (ypm[:, None] * X - eps * wt / np.linalg.norm(wt))).mean(0)
        return np.append(gw, -(s * ypm).mean())

    theta, h = flatten(params), 1e-5
    fd = np.stack([(robust_grad(theta + h * e) - robust_grad(theta - h * e)) / (2 * h)
                   for e in np.eye(theta.size)], axis=1)
    H_fixed = hessian_at_adversarial(model, params, X, y, attack=attack) @ np.eye(theta.size)
    m = ypm * (X @ w + b) - eps * np.linalg.norm(w)
    term2 = np.zeros_like(fd)
    term2[:-1, :-1] = eps * expit(-m).mean() / np.linalg.norm(w) * (np.eye(4) - np.outer(u, u))
    np.testing.assert_allclose(H_fixed + term2, fd, rtol=0, atol=1e-9)
    assert np.abs(term2).max() > 1e-2                    # the missing term is not negligible


def test_adversarial_attack_and_precomputed_agree(mlp_problem):
    model, params, X, y = mlp_problem
    X_adv = X + 0.1
    v = np.random.default_rng(5).standard_normal(model.n_params)
    a = hessian_at_adversarial(model, params, X, y, attack=lambda p, X_, y_: X_ + 0.1) @ v
    b = hessian_at_adversarial(model, params, X, y, X_adv=X_adv) @ v
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, hessian_operator(model, params, X_adv, y) @ v)


# ----------------------------------------------------------------------------- invariants

def test_dense_hessian_is_symmetric(problem):
    model, params, X, y = problem
    H = dense_hessian(model, params, X, y)
    assert np.abs(H - H.T).max() <= 1e-14 * max(1.0, np.abs(H).max())


def test_gauss_newton_is_psd_and_differs_from_hessian_for_mlp(mlp_problem):
    model, params, X, y = mlp_problem
    G = dense_hessian(model, params, X, y, curvature="gauss_newton")
    assert np.linalg.eigvalsh((G + G.T) / 2).min() >= -1e-14
    assert np.abs(G - dense_hessian(model, params, X, y)).max() > 1e-3


def test_lanczos_is_reproducible_from_the_seed(mlp_problem):
    model, params, X, y = mlp_problem
    a = top_eigenvalues(model, params, X, y, k=2, rng=7)
    b = top_eigenvalues(model, params, X, y, k=2, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_float32_model_gives_float64_operator():
    m64, m32 = MLP([5, 7, 3], activation="tanh"), MLP([5, 7, 3], activation="tanh",
                                                      dtype=np.float32)
    p64 = _perturbed(m64, 1)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    v = rng.standard_normal(m64.n_params)
    out32 = hessian_operator(m32, p32, X.astype(np.float32), y) @ v
    assert out32.dtype == np.float64
    np.testing.assert_allclose(out32, hessian_operator(m64, p64, X, y) @ v, atol=1e-5)


# ----------------------------------------------------------------------------- thresholds

def test_power_iteration_converges_to_dominant_eigenvalue(problem):
    model, params, X, y = problem
    exact = np.linalg.eigvalsh(dense_hessian(model, params, X, y))
    dominant = exact[np.argmax(np.abs(exact))]
    res = power_iteration(model, params, X, y, n_iter=2000, tol=1e-13, rng=0)
    assert res.converged and res.trace.shape == (res.n_iter,)
    assert res.eigenvalue == res.trace[-1]
    np.testing.assert_allclose(res.eigenvalue, dominant, rtol=1e-8)
    np.testing.assert_allclose(res.eigenvalue, top_eigenvalues(model, params, X, y, rng=0)[0],
                               rtol=1e-8)


def test_hutchinson_within_three_standard_errors(problem):
    model, params, X, y = problem
    H = dense_hessian(model, params, X, y)
    m = 400
    var = 2 * (np.sum(H * H) - np.sum(np.diag(H) ** 2))  # Var[zᵀHz], Rademacher z
    se = np.sqrt(var / m)
    res = hutchinson_trace(model, params, X, y, n_samples=m, rng=11)
    assert abs(res.estimate - np.trace(H)) <= 3 * se
    assert 0.5 * se <= res.std_error <= 2 * se


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, match", [
    ({"k": "P"}, "k"), ({"k": 0}, "k"), ({"which": "XX"}, "which"),
    ({"curvature": "fisher"}, "curvature"), ({"l2": -1.0}, "l2"), ({"tol": -1.0}, "tol"),
], ids=["k_too_large", "k_zero", "which", "curvature", "l2", "tol"])
def test_top_eigenvalues_bad_inputs(mlp_problem, kwargs, match):
    model, params, X, y = mlp_problem
    if kwargs.get("k") == "P":
        kwargs = {"k": model.n_params}                   # ARPACK needs k <= P - 1
    with pytest.raises(ValueError, match=match):
        top_eigenvalues(model, params, X, y, **kwargs)


def test_other_bad_inputs(mlp_problem):
    model, params, X, y = mlp_problem
    with pytest.raises(ValueError, match="attack, X_adv"):
        hessian_at_adversarial(model, params, X, y)
    with pytest.raises(ValueError, match="attack, X_adv"):
        hessian_at_adversarial(model, params, X, y, attack=lambda *a: X, X_adv=X)
    with pytest.raises(ValueError, match="X_adv"):
        hessian_at_adversarial(model, params, X, y, X_adv=X[:3])
    with pytest.raises(ValueError, match="max_params"):
        dense_hessian(model, params, X, y, max_params=10)
    with pytest.raises(ValueError, match="n_samples"):
        hutchinson_trace(model, params, X, y, n_samples=0)
    with pytest.raises(ValueError, match="y"):
        hessian_operator(model, params, X, None)
    with pytest.raises(TypeError, match="model"):
        hessian_operator("mlp", params, X, y)
