"""Closed-form adversarial logistic loss, gradient (1.2), Hessian (1.3), critical radius (1.4)."""

import numpy as np
import pytest

from minadv.attacks.linear import linear_worst_case
from minadv.numerics import sigmoid, softplus
from minadv.robust_logistic import (
    critical_radius,
    flat_hessian,
    hessian_terms,
    robust_logistic_grad,
    robust_logistic_hessian,
    robust_logistic_kkt_residual,
    robust_logistic_loss,
    robust_logistic_loss_grad,
)


def _data(n=50, d=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, size=n)
    w = rng.normal(size=d)                      # no zero coordinate, unique max |w_i| (a.s.)
    return X, y, w, 0.3


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


# ----------------------------------------------------------------------------- exact answers
def test_hand_worked_loss():
    # w = (3, 4), x = 0, y = 1, eps = .1, L2: softplus(.1 * 5 - 0) = log(1 + e^.5).
    loss = robust_logistic_loss(np.array([3.0, 4.0]), None, np.zeros((1, 2)), np.array([1]), 0.1)
    assert loss == pytest.approx(np.log1p(np.exp(0.5)), rel=1e-15)


def test_eps0_is_plain_logistic_loss_and_hessian(fit_intercept):
    X, y, w, b = _data()
    b = b if fit_intercept else None
    Xt = np.c_[X, np.ones(len(X))] if fit_intercept else X
    theta = np.r_[w, b] if fit_intercept else w
    f = (2 * y - 1) * (Xt @ theta)
    c = sigmoid(f) * sigmoid(-f)
    for norm in (2, np.inf, 1):
        assert robust_logistic_loss(w, b, X, y, 0.0, norm=norm) == pytest.approx(
            np.mean(softplus(-f)), rel=1e-14)
        H = robust_logistic_hessian(w, b, X, y, 0.0, norm=norm)
        np.testing.assert_allclose(H, Xt.T @ (c[:, None] * Xt) / len(X), rtol=1e-12, atol=1e-15)


def test_loss_equals_logistic_loss_at_linear_worst_case(norm, fit_intercept):
    X, y, w, b = _data(seed=1)
    delta = linear_worst_case(w, b if fit_intercept else 0.0, X, y, 0.4, norm=norm)
    f = (X + delta) @ w + (b if fit_intercept else 0.0)
    expected = np.mean(softplus(-(2 * y - 1) * f)) + 0.5 * 0.1 * w @ w
    got = robust_logistic_loss(w, b if fit_intercept else None, X, y, 0.4, norm=norm, l2=0.1)
    assert got == pytest.approx(expected, rel=1e-14)


# ----------------------------------------------------------------------------- derivatives
def _central_fd(fn, theta, h=1e-6):
    E = np.eye(theta.shape[0])
    return np.array([(fn(theta + h * e) - fn(theta - h * e)) / (2 * h) for e in E])


def test_gradient_and_hessian_match_central_differences(norm, fit_intercept):
    X, y, w, b = _data(seed=2)
    theta = np.r_[w, b] if fit_intercept else w
    kw = dict(norm=norm, l2=0.05, fit_intercept=fit_intercept)
    loss, grad = robust_logistic_loss_grad(theta, X, y, 0.4, **kw)
    H = flat_hessian(theta, X, y, 0.4, **kw)
    g_fd = _central_fd(lambda t: robust_logistic_loss_grad(t, X, y, 0.4, **kw)[0], theta)
    H_fd = _central_fd(lambda t: robust_logistic_loss_grad(t, X, y, 0.4, **kw)[1], theta)
    assert _rel(grad, g_fd) < 1e-6
    assert _rel(H, H_fd) < 1e-6
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15 * np.abs(H).max())


def test_dict_wrappers_agree_with_flat():
    X, y, w, b = _data(seed=3)
    g = robust_logistic_grad(w, b, X, y, 0.2, norm=2, l2=0.1)
    _, flat = robust_logistic_loss_grad(np.r_[w, b], X, y, 0.2, norm=2, l2=0.1, fit_intercept=True)
    np.testing.assert_array_equal(np.r_[g["w"], g["b"]], flat)
    assert g["b"].shape == () and set(robust_logistic_grad(w, None, X, y, 0.2)) == {"w"}
    np.testing.assert_array_equal(robust_logistic_hessian(w, b, X, y, 0.2, norm=2, l2=0.1),
                                  flat_hessian(np.r_[w, b], X, y, 0.2, norm=2, l2=0.1, fit_intercept=True))


def test_term2_annihilates_w_is_psd_and_zero_in_bias(fit_intercept):
    X, y, w, b = _data(seed=4)
    eps = 0.5
    term1, term2 = hessian_terms(w, b if fit_intercept else None, X, y, eps, norm=2)
    d = len(w)
    np.testing.assert_allclose(term2[:d, :d] @ w, 0.0, atol=1e-15)
    z = (2 * y - 1) * (X @ w + (b if fit_intercept else 0.0)) - eps * np.linalg.norm(w)
    scale = eps * np.mean(sigmoid(-z)) / np.linalg.norm(w)
    # eigenvalues: 0 (along w) and scale (d - 1 times) [+ 0 for the bias]
    ev = np.sort(np.linalg.eigvalsh(term2))
    expected = np.sort(np.r_[0.0, np.full(d - 1, scale), [0.0] * fit_intercept])
    np.testing.assert_allclose(ev, expected, atol=1e-15)
    if fit_intercept:
        assert not np.any(term2[d]) and not np.any(term2[:, d])


@pytest.mark.parametrize("norm", [np.inf, 1], ids=["linf", "l1"])
def test_no_term2_for_linf_and_l1(norm):
    X, y, w, b = _data(seed=5)
    term1, term2 = hessian_terms(w, b, X, y, 0.5, norm=norm)
    assert not np.any(term2)
    np.testing.assert_array_equal(robust_logistic_hessian(w, b, X, y, 0.5, norm=norm), term1)


def test_term2_equals_implicit_function_formula_3_2():
    # Per sample at x' = x + delta*: grad_x l = -y s w, H_xx = c w w^T,
    # H_x,theta = -y s I + c w x'^T, P = I - delta delta^T / eps^2, lambda = ||grad_x l|| / eps.
    # Second term of (3.2): H_theta,x P (lambda I - P H_xx P)^{-1} P H_x,theta, averaged.
    X, y, w, _ = _data(n=20, d=5, seed=6)
    eps = 0.3
    delta = linear_worst_case(w, 0.0, X, y, eps, norm=2)
    total = np.zeros((5, 5))
    for x_adv, yi, di in zip(X + delta, 2 * y - 1, delta):
        m = yi * (w @ x_adv)
        s, c = sigmoid(-m), sigmoid(m) * sigmoid(-m)
        H_xx, H_xt = c * np.outer(w, w), -yi * s * np.eye(5) + c * np.outer(w, x_adv)
        P = np.eye(5) - np.outer(di, di) / eps**2
        lam = np.linalg.norm(-yi * s * w) / eps
        total += H_xt.T @ P @ np.linalg.solve(lam * np.eye(5) - P @ H_xx @ P, P @ H_xt)
    _, term2 = hessian_terms(w, None, X, y, eps, norm=2)
    np.testing.assert_allclose(term2, total / len(X), rtol=1e-12, atol=1e-15)


def test_l2_weight_decay_adds_identity_on_w_block_only():
    X, y, w, b = _data(seed=7)
    H0 = robust_logistic_hessian(w, b, X, y, 0.2, norm=2)
    H1 = robust_logistic_hessian(w, b, X, y, 0.2, norm=2, l2=0.3)
    np.testing.assert_allclose(H1 - H0, np.diag(np.r_[np.full(7, 0.3), 0.0]), atol=1e-15)


# ----------------------------------------------------------------------------- dtype, stability
def test_float32_in_float32_out(norm):
    X, y, w, b = _data(seed=8)
    X32, w32, b32 = X.astype(np.float32), w.astype(np.float32), np.float32(b)
    g = robust_logistic_grad(w32, b32, X32, y, 0.3, norm=norm)
    H = robust_logistic_hessian(w32, b32, X32, y, 0.3, norm=norm)
    assert g["w"].dtype == np.float32 and g["b"].dtype == np.float32 and H.dtype == np.float32
    np.testing.assert_allclose(H, robust_logistic_hessian(w, b, X, y, 0.3, norm=norm), atol=1e-5)
    assert robust_logistic_loss(w32, b32, X32, y, 0.3, norm=norm) == pytest.approx(
        robust_logistic_loss(w, b, X, y, 0.3, norm=norm), rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_margins_no_overflow(dtype):
    X, y, w, b = _data(seed=9)
    X = (X * 1e4).astype(dtype)
    loss = robust_logistic_loss(w.astype(dtype), None, X, y, 1e3, norm=2)
    H = robust_logistic_hessian(w.astype(dtype), None, X, y, 1e3, norm=2)
    assert np.isfinite(loss) and np.all(np.isfinite(H))


def test_inputs_not_mutated():
    X, y, w, b = _data(seed=10)
    copies = [a.copy() for a in (X, y, w)]
    flat_hessian(np.r_[w, b], X, y, 0.2, norm=2, l2=0.0, fit_intercept=True)
    robust_logistic_grad(w, b, X, y, 0.2, norm=np.inf)
    for a, c in zip((X, y, w), copies):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------- critical radius
def test_critical_radius_is_dual_norm_of_g0(norm):
    X, y, _, _ = _data(seed=11)
    g0 = ((2 * y - 1) @ X) / len(X)
    assert critical_radius(X, y, norm) == pytest.approx(np.linalg.norm(g0, ord=norm), rel=1e-14)


def test_w_zero_is_optimal_exactly_above_critical_radius(norm):
    X, y, _, _ = _data(n=80, d=6, seed=12)
    X = X + 0.4 * (2 * y - 1)[:, None]                 # some signal, so eps_c is not tiny
    eps_c = critical_radius(X, y, norm)
    g0 = ((2 * y - 1) @ X) / len(X)
    j = np.argmax(np.abs(g0))
    # the direction u attaining u^T g0 = ||g0||_p ||u||_q for each attack norm p
    u = {2: g0 / np.linalg.norm(g0), np.inf: np.sign(g0[j]) * np.eye(6)[j], 1: np.sign(g0)}[norm]
    t = 1e-4
    below = robust_logistic_loss(t * u, None, X, y, 0.99 * eps_c, norm=norm)
    above = robust_logistic_loss(t * u, None, X, y, 1.01 * eps_c, norm=norm)
    assert below < np.log(2) < above


# ----------------------------------------------------------------------------- bad inputs
def test_error_w_shape():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="w"):
        robust_logistic_loss(w[:3], b, X, y, 0.1)


def test_error_X_nan():
    X, y, w, b = _data()
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="X"):
        robust_logistic_grad(w, b, X, y, 0.1)


def test_error_negative_eps():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="eps"):
        robust_logistic_hessian(w, b, X, y, -1.0)


def test_error_bad_labels():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="y"):
        robust_logistic_loss(w, b, X, y + 1, 0.1)


def test_error_unknown_norm():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="norm"):
        robust_logistic_loss(w, b, X, y, 0.1, norm="l3")


def test_error_negative_l2():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="l2"):
        robust_logistic_loss(w, b, X, y, 0.1, l2=-1.0)


def test_error_l2_hessian_at_zero_weights():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="w"):
        robust_logistic_hessian(np.zeros_like(w), b, X, y, 0.1, norm=2)


def test_error_theta_length():
    X, y, w, b = _data()
    with pytest.raises(ValueError, match="theta"):
        robust_logistic_loss_grad(w, X, y, 0.1, fit_intercept=True)


def test_error_integer_X():
    X, y, w, b = _data()
    with pytest.raises(TypeError, match="X"):
        critical_radius(X.astype(int), y)


# ----------------------------------------------------------------------------- speed place
def test_term1_equals_the_sum_of_eq_1_3(norm, fit_intercept):
    # The kernel forms term 1 as A^T A / n with rows A_i = sqrt(c_i) a_i (benchmark W4); eq.
    # (1.3) reads (1/n) sum_i c_i a_i a_i^T with a_i = [y_i x_i - v, y_i].
    X, y, w, b = _data(n=60, d=9, seed=21)
    eps, y_pm = 0.4, 2.0 * y - 1
    j = np.argmax(np.abs(w))
    v = {2: eps * w / np.linalg.norm(w), np.inf: eps * np.sign(w),
         1: eps * np.sign(w[j]) * np.eye(9)[j]}[norm]
    qnorm = np.linalg.norm(w, ord={2: 2, np.inf: 1, 1: np.inf}[norm])
    z = y_pm * (X @ w + (b if fit_intercept else 0.0)) - eps * qnorm
    c = sigmoid(z) * sigmoid(-z)
    A = y_pm[:, None] * X - v
    A = np.c_[A, y_pm] if fit_intercept else A
    textbook = A.T @ np.diag(c) @ A / len(X)
    term1, _ = hessian_terms(w, b if fit_intercept else None, X, y, eps, norm=norm)
    assert np.max(np.abs(term1 - textbook)) <= 1e-12 * np.max(np.abs(textbook))


# ----------------------------------------------------------------------------- KKT residual
def test_kkt_residual_hand_worked_linf_at_zero():
    # w = 0: s_i = 1/2, g = -(1/2) mean(y x) = -(1/2) (1.5, 0.05) = (-0.75, -0.025);
    # m = eps mean(s) = 0.05; least-norm subgradient = soft-threshold(g, m) = (-0.70, 0).
    X, y = np.array([[2.0, 0.2], [-1.0, 0.1]]), np.array([1, 0])
    r = robust_logistic_kkt_residual(np.zeros(2), None, X, y, 0.1, norm=np.inf)
    assert r == pytest.approx(0.70, rel=1e-14)


def test_kkt_residual_is_gradient_norm_where_differentiable(norm):
    X, y, w, b = _data(seed=22)                  # no zeros, no ties: the loss is smooth here
    g = robust_logistic_grad(w, b, X, y, 0.3, norm=norm, l2=0.1)
    expected = np.linalg.norm(np.r_[g["w"], g["b"]])
    assert robust_logistic_kkt_residual(w, b, X, y, 0.3, norm=norm, l2=0.1) == pytest.approx(
        expected, rel=1e-13)


def _saturated(kind, dtype):
    """Data whose robust margins saturate the sigmoid (c_i = σ(z)σ(-z) underflows or is tiny)."""
    X, y, w, _ = _data(n=80, d=6, seed=31)
    if kind == "scaled":                     # |z| ~ 1e4: every c_i is 0 or subnormal
        return (X * 1e4).astype(dtype), y, w.astype(dtype), 1e3
    if kind == "mixed":                      # half the rows saturated, half ordinary
        X[:40] *= 1e3
        return X.astype(dtype), y, w.astype(dtype), 0.3
    X[:, 0] += 30.0 * (2 * y - 1)            # separable along x_0: confident, tiny c_i
    return X.astype(dtype), y, (w + np.eye(6)[0] * 5).astype(dtype), 0.1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["scaled", "mixed", "separable"])
def test_closed_form_hessian_is_psd_on_saturated_cases(norm, fit_intercept, kind, dtype):
    """Term 1 is a Gram matrix A^T A / n, so PSD up to rounding; the tolerance is derived, not
    tuned: fl(A^T A) = A^T A + E with |E| <= γ_n |A|^T |A| (Higham, Accuracy and Stability of
    Numerical Algorithms, §3.5), so λ_min >= -γ_n ‖|A|^T|A|‖₂ / n; eigvalsh adds a backward
    error of order p·u·‖H‖₂ (LAPACK's bound).  The check uses ‖|M|‖₂ <= ‖|A|^T|A|‖₂ / n, i.e.
    a stricter bound than the derived one.  The same for H = term 1 + term 2 + l2 I, whose
    term 2 is PSD (L2) or zero."""
    X, y, w, eps = _saturated(kind, dtype)
    b = dtype(0.5) if fit_intercept else None
    term1, _ = hessian_terms(w, b, X, y, eps, norm=norm)
    H = robust_logistic_hessian(w, b, X, y, eps, norm=norm, l2=0.0)
    n, p = X.shape[0], term1.shape[0]
    u = np.finfo(dtype).eps / 2
    gamma_n = n * u / (1 - n * u)
    for M in (term1, H):
        M64 = M.astype(np.float64)
        bound = (gamma_n * np.linalg.norm(np.abs(M64), 2) + 10 * p * u * np.linalg.norm(M64, 2))
        assert np.linalg.eigvalsh(M64).min() >= -bound
        np.testing.assert_array_equal(term1, term1.T)        # one symmetric product
