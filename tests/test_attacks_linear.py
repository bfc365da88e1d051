"""Exact worst case of a linear score (theory section 1.1), with and without a data box."""

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from minadv.attacks.linear import linear_worst_case, robust_margin

DUAL = {2: 2, np.inf: 1, 1: np.inf}


def _problem(n=8, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n, d))
    y = rng.integers(0, 2, size=n)
    w = rng.normal(size=d)
    return w, 0.3, X, y


def _margin(w, b, X, y, delta):
    return (2 * y - 1) * ((X + delta) @ w + b)


# ----------------------------------------------------------------------------- exact answers
@pytest.mark.parametrize("norm, expected", [
    (2, [[-0.6, -0.8], [0.6, 0.8]]),
    (np.inf, [[-1.0, -1.0], [1.0, 1.0]]),
    (1, [[0.0, -1.0], [0.0, 1.0]]),
])
def test_hand_worked_closed_forms(norm, expected):
    # w = (3, 4): L2 direction (3, 4)/5; sign(w) = (1, 1); argmax |w| = index 1.
    # label 1 (y = +1) moves against w, label 0 (y = -1) along it.
    X = np.zeros((2, 2))
    delta = linear_worst_case(np.array([3.0, 4.0]), 0.0, X, np.array([1, 0]), 1.0, norm=norm)
    np.testing.assert_allclose(delta, expected, rtol=0, atol=1e-15)


def test_l1_tie_goes_to_first_max_index():
    w = np.array([1.0, -2.0, 2.0])
    delta = linear_worst_case(w, 0.0, np.zeros((1, 3)), np.array([1]), 0.5, norm=1)
    np.testing.assert_array_equal(delta, [[0.0, 0.5, 0.0]])   # -eps * y * sign(w_1) = +0.5


def test_unboxed_margin_is_m_minus_eps_dual_norm(norm):
    w, b, X, y = _problem()
    eps = 0.37
    delta = linear_worst_case(w, b, X, y, eps, norm=norm)
    expected = (2 * y - 1) * (X @ w + b) - eps * np.linalg.norm(w, ord=DUAL[norm])
    np.testing.assert_allclose(_margin(w, b, X, y, delta), expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(robust_margin(w, b, X, y, eps, norm=norm), expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(delta, ord=norm, axis=1), eps, rtol=1e-14)


def _sphere_points(rng, k, d, eps, norm):
    """k points with ||delta||_p = eps (not uniform on the sphere; only on it)."""
    if norm == 2:
        V = rng.normal(size=(k, d))
        return eps * V / np.linalg.norm(V, axis=1, keepdims=True)
    if norm == np.inf:
        V = rng.uniform(-eps, eps, size=(k, d))
        V[np.arange(k), rng.integers(0, d, k)] = eps * rng.choice([-1.0, 1.0], k)
        return V
    V = rng.exponential(size=(k, d)) * rng.choice([-1.0, 1.0], size=(k, d))
    return eps * V / np.abs(V).sum(axis=1, keepdims=True)


def test_closed_form_beats_random_sphere_points(norm):
    w, b, X, y = _problem(n=4, d=7, seed=1)
    eps = 0.4
    opt = robust_margin(w, b, X, y, eps, norm=norm)                       # (n,)
    D = _sphere_points(np.random.default_rng(2), 20000, 7, eps, norm)  # (k, d)
    sampled = (2 * y - 1)[:, None] * ((X @ w + b)[:, None] + (D @ w)[None, :])  # (n, k)
    assert np.all(opt <= sampled.min(axis=1) + 1e-12)


# ----------------------------------------------------------------------------- box: brute force
def _brute_force(g, x, lo, hi, eps, norm):
    """min g^T delta over ||delta||_p <= eps and lo <= x + delta <= hi (scipy)."""
    d = g.shape[0]
    if norm == np.inf:
        bounds = list(zip(np.maximum(lo - x, -eps), np.minimum(hi - x, eps)))
        return linprog(g, bounds=bounds, method="highs").fun
    if norm == 1:                                                   # delta = dp - dm, dp, dm >= 0
        bounds = [(0, u) for u in hi - x] + [(0, u) for u in x - lo]
        res = linprog(np.r_[g, -g], A_ub=np.ones((1, 2 * d)), b_ub=[eps], bounds=bounds,
                      method="highs")
        return res.fun
    cons = [{"type": "ineq", "fun": lambda dl: eps**2 - dl @ dl, "jac": lambda dl: -2 * dl}]
    res = minimize(lambda dl: g @ dl, np.zeros(d), jac=lambda dl: g, method="SLSQP",
                   bounds=list(zip(lo - x, hi - x)), constraints=cons,
                   options={"ftol": 1e-15, "maxiter": 500})
    return res.fun


def test_boxed_worst_case_matches_scipy(norm):
    w, b, X, y = _problem(n=6, d=5, seed=3)
    lo = np.array([0.0, -0.1, 0.0, 0.2, 0.0])                       # array bound, per feature
    X = np.clip(X, lo, 1.0)
    eps = 0.6
    delta = linear_worst_case(w, b, X, y, eps, norm=norm, clip_min=lo, clip_max=1.0)
    ours = (2 * y - 1) * (delta @ w)                                # (n,) = g^T delta
    ref = [_brute_force((2 * yi - 1) * w, xi, lo, np.ones(5), eps, norm) for xi, yi in zip(X, y)]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8)
    assert np.all(X + delta >= lo) and np.all(X + delta <= 1.0)
    assert np.all(np.linalg.norm(delta, ord=norm, axis=1) <= eps * (1 + 1e-12))


def test_box_saturated_hand_worked(norm):
    # w = (1, -2, .5), y = +1: the attack wants x0 down, x1 up, x2 down.  Rooms in [0, 1]:
    # 0.1, 0.05, 0.0 -> total L2 length sqrt(.0125) < eps = .5 and L1 length .15 < .5, so for
    # every norm the answer is the box vertex (-0.1, +0.05, 0).
    X = np.array([[0.1, 0.95, 0.0]])
    delta = linear_worst_case(np.array([1.0, -2.0, 0.5]), 0.0, X, np.array([1]), 0.5, norm=norm,
                              clip_min=0.0, clip_max=1.0)
    np.testing.assert_allclose(delta, [[-0.1, 0.05, 0.0]], rtol=0, atol=1e-15)


def test_l2_water_filling_hand_worked():
    # w = (1, 1), x = (.1, .5), y = +1, eps = .5: coordinate 0 saturates at .1, the rest of the
    # budget goes to coordinate 1: .1^2 + tau^2 = .25 -> tau = sqrt(.24).
    delta = linear_worst_case(np.array([1.0, 1.0]), 0.0, np.array([[0.1, 0.5]]), np.array([1]),
                              0.5, norm=2, clip_min=0.0, clip_max=1.0)
    np.testing.assert_allclose(delta, [[-0.1, -np.sqrt(0.24)]], rtol=1e-15, atol=1e-15)


def test_l1_knapsack_hand_worked():
    # |w| order: idx1 (2) room .05, idx0 (1) room .1, idx2 (.5) room .7; eps = .3 ->
    # .05 on idx1, .1 on idx0, the remaining .15 on idx2.
    delta = linear_worst_case(np.array([1.0, -2.0, 0.5]), 0.0, np.array([[0.1, 0.95, 0.7]]),
                              np.array([1]), 0.3, norm=1, clip_min=0.0, clip_max=1.0)
    np.testing.assert_allclose(delta, [[-0.1, 0.05, -0.15]], rtol=0, atol=1e-15)


def test_robust_margin_with_box_is_margin_at_delta(norm):
    w, b, X, y = _problem(seed=4)
    delta = linear_worst_case(w, b, X, y, 0.5, norm=norm, clip_min=0.0, clip_max=1.0)
    np.testing.assert_allclose(robust_margin(w, b, X, y, 0.5, norm=norm, clip_min=0.0, clip_max=1.0),
                               _margin(w, b, X, y, delta), rtol=0, atol=1e-14)


# ----------------------------------------------------------------------------- invariants
def test_loose_box_equals_unboxed(norm):
    w, b, X, y = _problem(seed=5)
    np.testing.assert_allclose(linear_worst_case(w, b, X, y, 0.2, norm=norm, clip_min=-10.0, clip_max=10.0),
                               linear_worst_case(w, b, X, y, 0.2, norm=norm), rtol=0, atol=1e-14)


@pytest.mark.parametrize("box", [(None, None), (0.0, 1.0)], ids=["free", "box"])
def test_zero_weights_and_zero_eps_give_zero_delta(norm, box):
    _, b, X, y = _problem()
    lo, hi = box
    assert not np.any(linear_worst_case(np.zeros(6), b, X, y, 0.5, norm=norm, clip_min=lo,
                                        clip_max=hi))
    assert not np.any(linear_worst_case(np.ones(6), b, X, y, 0.0, norm=norm, clip_min=lo,
                                        clip_max=hi))


@pytest.mark.parametrize("box", [(None, None), (0.0, 1.0)], ids=["free", "box"])
def test_float32_kept_and_inputs_not_mutated(norm, box):
    w, b, X, y = _problem()
    X32, w32 = X.astype(np.float32), w.astype(np.float32)
    X_copy, w_copy, y_copy = X32.copy(), w32.copy(), y.copy()
    delta = linear_worst_case(w32, b, X32, y, 0.25, norm=norm, clip_min=box[0], clip_max=box[1])
    assert delta.dtype == np.float32
    assert robust_margin(w32, b, X32, y, 0.25, norm=norm, clip_min=box[0],
                         clip_max=box[1]).dtype == np.float32
    np.testing.assert_allclose(delta, linear_worst_case(w, b, X, y, 0.25, norm=norm,
                                                        clip_min=box[0], clip_max=box[1]),
                               atol=1e-6)
    np.testing.assert_array_equal(X32, X_copy)
    np.testing.assert_array_equal(w32, w_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_one_sided_box():
    w, b, X, y = _problem(seed=6)
    delta = linear_worst_case(w, b, X, y, 0.8, norm=np.inf, clip_min=0.0)
    assert np.all(X + delta >= 0.0)
    assert np.any(X + delta > 1.0)                                  # no upper bound applied


# ----------------------------------------------------------------------------- bad inputs
def _call(**kw):
    w, b, X, y = _problem()
    args = dict(w=w, b=b, X=X, y=y, eps=0.1, norm=2)
    args.update(kw)
    return linear_worst_case(**args)


def test_error_w_shape():
    with pytest.raises(ValueError, match="w"):
        _call(w=np.ones(3))


def test_error_X_nan():
    w, b, X, y = _problem()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        _call(X=X)


def test_error_X_inf():
    w, b, X, y = _problem()
    X[1, 2] = np.inf
    with pytest.raises(ValueError, match="X"):
        _call(X=X)


def test_error_X_not_2d():
    with pytest.raises(ValueError, match="X"):
        _call(X=np.ones(6))


def test_error_negative_eps():
    with pytest.raises(ValueError, match="eps"):
        _call(eps=-0.1)


def test_error_bad_labels():
    with pytest.raises(ValueError, match="y"):
        _call(y=np.array([-1, 1, 1, 1, 1, 1, 1, 1]))


def test_error_label_length():
    with pytest.raises(ValueError, match="y"):
        _call(y=np.array([0, 1]))


def test_error_unknown_norm():
    with pytest.raises(ValueError, match="norm"):
        _call(norm=3)


def test_error_clip_min_above_clip_max():
    with pytest.raises(ValueError, match="clip_min"):
        _call(clip_min=1.0, clip_max=0.0)


def test_error_clip_shape():
    with pytest.raises(ValueError, match="clip_max"):
        _call(clip_min=0.0, clip_max=np.ones(3))


def test_error_X_outside_box():
    with pytest.raises(ValueError, match="X"):
        _call(clip_min=0.0, clip_max=0.5)


def test_error_b_not_scalar():
    with pytest.raises(ValueError, match="b"):
        robust_margin(np.ones(6), np.ones(2), np.zeros((2, 6)), np.array([0, 1]), 0.1, norm=2)
