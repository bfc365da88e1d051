"""Attacks at extreme gradient scales and the dtype-aware VAT probe.

The model is a linear softmax layer ``z = x W`` with ``W = s W0``: inputs and radii are scaled
by ``k = min(1, 1/s)`` so the logits stay O(1) while the input gradient ``(p - onehot) Wᵀ`` has
scale ``s``, from subnormal to near the largest float.  Every attack's output must be finite,
in the eps-ball (to the rounding of ``x + delta``) and in the box.
"""

import numpy as np
import pytest

from minadv.attacks import (
    fast_gradient,
    fgsm,
    linear_worst_case,
    lp_norms,
    pgd,
    project_ball,
    robustness_curve,
    steepest_ascent,
    vat_perturbation,
)
from minadv.attacks.common import attack_loss_grad
from minadv.attacks.vat import resolvable_xi
from minadv.models import MLP

SCALES = {np.float64: [1e-320, 1e-310, 1e-300, 1e-150, 1.0, 1e150, 1e300],
          np.float32: [1e-45, 1e-40, 1e-38, 1e-20, 1.0, 1e20, 1e38]}
CASES = [(dt, s) for dt, scales in SCALES.items() for s in scales]
CASE_IDS = [f"{dt.__name__}-{s:g}" for dt, s in CASES]


def _scaled_problem(dtype, s, n=10, d=12, C=3):
    rng = np.random.default_rng(0)
    W0 = rng.uniform(-1, 1, (d, C))
    k = min(1.0, 1.0 / s)
    with np.errstate(under="ignore"):
        params = {"W1": (W0 * s).astype(dtype), "b1": np.zeros(C, dtype)}
        X = (rng.standard_normal((n, d)) * k).astype(dtype)
    model = MLP([d, C], dtype=dtype)
    eps = 0.5 * k
    lo, hi = float(X.min()) - 0.2 * eps, float(X.max()) + 0.2 * eps
    return model, params, X, np.arange(n) % C, eps, (lo, hi)


def _norm64(D, norm):
    """Row norms in float64 with max-abs scaling written out here (independent of the code)."""
    D = D.astype(np.float64)
    if norm == np.inf:
        return np.max(np.abs(D), axis=1)
    if norm == 1:
        return np.sum(np.abs(D), axis=1)
    m = np.max(np.abs(D), axis=1, keepdims=True)
    m[m == 0] = 1
    return m[:, 0] * np.sqrt(np.sum((D / m) ** 2, axis=1))


def _assert_ball_box(X_adv, X, eps, norm, box=(None, None)):
    assert X_adv.dtype == X.dtype and X_adv.shape == X.shape
    assert np.isfinite(X_adv).all()
    u = np.finfo(X.dtype).eps
    slack = 4 * u * (eps + np.max(np.abs(X), axis=1))            # rounding of x + delta
    assert np.all(_norm64(X_adv.astype(np.float64) - X, norm) <= eps + slack)
    lo, hi = box
    if lo is not None:
        assert X_adv.min() >= X.dtype.type(lo) and X_adv.max() <= X.dtype.type(hi)


@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_the_model_has_the_intended_gradient_scale(dtype, s):
    model, params, X, y, _, _ = _scaled_problem(dtype, s)
    g, _, _ = attack_loss_grad(model, params, X, y, False)
    big = float(np.max(np.abs(g)))
    assert np.isfinite(g).all() and 0 < big
    assert s / 100 <= big <= 100 * s or (big <= 1e3 * np.finfo(dtype).smallest_subnormal
                                         and s < np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_fast_gradient_finite_in_ball_and_box_at_every_scale(dtype, s, norm):
    model, params, X, y, eps, box = _scaled_problem(dtype, s)
    _assert_ball_box(fast_gradient(model, params, X, y, eps, norm=norm), X, eps, norm)
    _assert_ball_box(fast_gradient(model, params, X, y, eps, norm=norm, clip_min=box[0],
                                   clip_max=box[1]), X, eps, norm, box)


@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_fgsm_step_is_exactly_eps_sign_g_including_subnormal_g(dtype, s):
    model, params, X, y, eps, _ = _scaled_problem(dtype, s)
    g, _, _ = attack_loss_grad(model, params, X, y, False)
    expected = X + np.sign(g) * dtype(eps)                      # x + eps sign(g), g = 0 -> x
    np.testing.assert_array_equal(fgsm(model, params, X, y, eps), expected)
    moved = np.abs(fgsm(model, params, X, y, eps) - X) > 0
    np.testing.assert_array_equal(moved, g != 0)                # every nonzero g moves x


@pytest.mark.parametrize("random_start", [False, True], ids=["x0", "random"])
@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_pgd_finite_in_ball_and_box_at_every_scale(dtype, s, norm, random_start):
    model, params, X, y, eps, box = _scaled_problem(dtype, s)
    X_adv = pgd(model, params, X, y, eps, norm=norm, n_steps=4, random_start=random_start, rng=1,
                clip_min=box[0], clip_max=box[1])
    _assert_ball_box(X_adv, X, eps, norm, box)


@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_vat_finite_difference_finite_and_in_ball_at_every_scale(dtype, s):
    model, params, X, _, eps, _ = _scaled_problem(dtype, s)
    xi = max(1e-6, 2 * resolvable_xi(X))
    r = vat_perturbation(model, params, X, eps, xi=xi, rng=0).r_adv
    _assert_ball_box(X + r, X, eps, 2)
    assert r.dtype == dtype


@pytest.mark.parametrize("dtype, s", [(np.float64, 1e-150), (np.float64, 1e100),
                                      (np.float32, 1e-15), (np.float32, 1e15)])
def test_vat_exact_finite_and_on_the_sphere_where_the_product_is_representable(dtype, s):
    model, params, X, _, eps, _ = _scaled_problem(dtype, s)
    r = vat_perturbation(model, params, X, eps, exact=True, rng=0).r_adv
    _assert_ball_box(X + r, X, eps, 2)
    np.testing.assert_allclose(_norm64(r, 2), eps, rtol=8 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_steepest_ascent_and_norms_of_raw_gradients_at_every_scale(dtype, norm):
    fi = np.finfo(dtype)
    base = np.random.default_rng(2).standard_normal((6, 40))
    for s in SCALES[dtype] + [float(fi.smallest_subnormal), float(fi.max) / 8]:
        with np.errstate(under="ignore", over="ignore"):
            g = (base * s).astype(dtype)
        g = np.clip(g, -fi.max, fi.max)
        g[0] = 0                                                 # zero row: zero step
        delta = steepest_ascent(g, 0.5, norm)
        assert np.isfinite(delta).all() and not np.any(delta[0])
        nonzero = np.any(g != 0, axis=1)
        np.testing.assert_allclose(_norm64(delta[nonzero], norm), 0.5, rtol=4 * fi.eps)
        if norm == np.inf:
            np.testing.assert_array_equal(delta, np.sign(g) * dtype(0.5))
        if norm == 2 and _norm64(g, 2).max() < fi.max:   # a representable norm; a subnormal
            # norm has only its grid's bits
            np.testing.assert_allclose(lp_norms(g, 2)[nonzero].astype(np.float64),
                                       _norm64(g, 2)[nonzero], rtol=4 * fi.eps,
                                       atol=float(fi.smallest_subnormal))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_step_at_zero_is_plus_zero(dtype):
    # np.sign(±0) = +0, so a zero gradient entry gives delta = +0 and x + delta = x exactly
    g = np.array([[0.0, -0.0, 1.0]], dtype=dtype)
    delta = steepest_ascent(g, 0.25, np.inf)
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 0.25]])
    assert not np.signbit(delta[0, 0]) and not np.signbit(delta[0, 1])
    x = np.array([[-0.0, 3.0, 1.0]], dtype=dtype)
    np.testing.assert_array_equal(x + delta, [[0.0, 3.0, 1.25]])


@pytest.mark.parametrize("dtype, s", CASES, ids=CASE_IDS)
def test_project_ball_and_linear_worst_case_at_every_scale(dtype, s, norm):
    rng = np.random.default_rng(3)
    with np.errstate(under="ignore", over="ignore"):
        big = np.clip(rng.standard_normal((5, 9)) * s, -np.finfo(dtype).max / 16,
                      np.finfo(dtype).max / 16).astype(dtype)
    eps = 0.5 * min(1.0, 1.0 / s) if s < np.finfo(dtype).max else 0.5
    P = project_ball(big, eps, norm)
    assert np.isfinite(P).all()
    assert np.all(_norm64(P, norm) <= eps * (1 + 4 * np.finfo(dtype).eps))
    w = big[0]
    X = np.zeros((4, 9), dtype)
    delta = linear_worst_case(w, 0.0, X, np.array([0, 1, 0, 1]), 0.5, norm=norm)
    assert np.isfinite(delta).all()
    if np.any(w != 0):
        np.testing.assert_allclose(_norm64(delta, norm), 0.5, rtol=4 * np.finfo(dtype).eps)


def test_robustness_curve_rejects_a_non_finite_user_attack_by_name():
    model, params, X, y, _, _ = _scaled_problem(np.float64, 1.0)

    def nan_attack(Xb, yb, eps):
        out = Xb + eps
        out[0, 0] = np.nan
        return out

    with pytest.raises(ValueError, match="attack: nan_attack returned non-finite"):
        robustness_curve(model, params, X, y, [0.0, 0.1], attack=nan_attack)

    def inf_attack(Xb, yb, eps):
        return np.full_like(Xb, np.inf)

    with pytest.raises(ValueError, match="inf_attack.*10 rows at eps=0.1"):
        robustness_curve(model, params, X, y, [0.0, 0.1], attack=inf_attack)


# ----------------------------------------------------------------------------- VAT probe size
def _float32_mnist_like(d=784, n=40):
    model = MLP([d, 32, 10], dtype=np.float32)
    params = model.init_params(rng=0)
    X = np.random.default_rng(1).random((n, d)).astype(np.float32)
    return model, params, X


def _median_cos(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    cos = np.abs(np.sum(a * b, 1)) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(np.median(cos))


def test_resolvable_xi_formula():
    X = np.full((2, 784), 0.5, dtype=np.float32)
    assert resolvable_xi(X) == pytest.approx(10 * np.finfo(np.float32).eps * 28 * 0.5)
    assert resolvable_xi(np.zeros((2, 4))) == 0.0


def test_vat_warns_for_a_float32_probe_too_small_and_is_then_inaccurate():
    model, params, X = _float32_mnist_like()
    exact = vat_perturbation(model, params, X, 1.0, exact=True, rng=1).r_adv
    with pytest.warns(RuntimeWarning, match=r"xi: the probe xi=1e-06 is below .* float32"):
        small = vat_perturbation(model, params, X, 1.0, rng=1).r_adv
    assert _median_cos(small, exact) < 0.9                      # the silent error it flags
    good_xi = 10 * resolvable_xi(X)
    good = vat_perturbation(model, params, X, 1.0, xi=good_xi, rng=1).r_adv   # no warning
    assert _median_cos(good, exact) > 0.999


def test_vat_no_warning_in_float64_default_or_exact_float32():
    model, params, X = _float32_mnist_like(d=50)
    vat_perturbation(model, params, X, 1.0, exact=True, rng=0)  # exact ignores xi: silent
    m64 = MLP([50, 32, 10])
    vat_perturbation(m64, m64.init_params(rng=0), X.astype(np.float64), 1.0, rng=0)


@pytest.mark.parametrize("dtype, s", [(np.float64, 1e300), (np.float32, 1e38)])
def test_vat_exact_names_the_overflow_instead_of_returning_nan(dtype, s):
    model, params, X, _, eps, _ = _scaled_problem(dtype, s)
    with pytest.raises(FloatingPointError, match="exact: the input-Fisher product"):
        vat_perturbation(model, params, X, eps, exact=True, rng=0)
