"""VAT: exact zeros at r = 0, power iteration vs the dense input-space KL Hessian."""

import numpy as np
import pytest

from minadv.attacks import local_distributional_smoothness, vat_kl, vat_loss, vat_perturbation
from minadv.models import MLP, LogisticRegressionModel


def _mlp(classes=3, dtype=np.float64, n=12, seed=0):
    model = MLP([10, 16, classes], activation="tanh", dtype=dtype)
    params = model.init_params(rng=seed)
    X = np.random.default_rng(seed + 1).standard_normal((n, 10)).astype(dtype)
    return model, params, X


def _dense_input_hessians(model, params, X):
    """(n, d, d) per-sample Hessians of KL(p(x) || p(x + r)) at r = 0, from Fisher columns."""
    n, d = X.shape
    cols = [model.input_fisher_product(params, X, np.tile(e, (n, 1))) * n for e in np.eye(d)]
    H = np.stack(cols, axis=2)                                    # (n, d, d)
    np.testing.assert_allclose(H, H.transpose(0, 2, 1), atol=1e-12)
    return H


def _abs_cos(a, b):
    return np.abs(np.sum(a * b, axis=1)) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_kl_and_its_gradient_vanish_at_r_zero():
    model, params, X = _mlp()
    kl, grad = vat_kl(model, params, X, np.zeros_like(X))
    assert np.all(kl == 0) and np.all(grad == 0)
    kl, _ = vat_kl(model, params, X, 1e-3 * np.ones_like(X))
    assert np.all(kl > 0)


def test_one_finite_difference_iteration_matches_the_exact_product():
    model, params, X = _mlp()
    fd = vat_perturbation(model, params, X, 1.0, xi=1e-6, n_power_iterations=1, rng=3).r_adv
    ex = vat_perturbation(model, params, X, 1.0, n_power_iterations=1, rng=3, exact=True).r_adv
    np.testing.assert_allclose(np.linalg.norm(fd, axis=1), 1.0, rtol=1e-12)
    assert np.all(np.sum(fd * ex, axis=1) >= 1 - 1e-6)           # same start, same sign


def test_power_iteration_finds_the_top_eigenvector():
    model, params, X = _mlp()
    H = _dense_input_hessians(model, params, X)
    evals, evecs = np.linalg.eigh(H)                              # ascending
    top = evecs[:, :, -1]
    gap = evals[:, -2] / evals[:, -1]
    assert np.all(gap < 0.9)                                      # well separated here
    exact = vat_perturbation(model, params, X, 1.0, n_power_iterations=200, rng=0, exact=True).r_adv
    assert np.all(_abs_cos(exact, top) >= 1 - 1e-8)
    fd = vat_perturbation(model, params, X, 1.0, xi=1e-6, n_power_iterations=200, rng=0).r_adv
    assert np.all(_abs_cos(fd, top) >= 0.99)


def test_one_iteration_is_the_top_eigenvector_for_a_rank_one_fisher():
    # two classes: J^T F J has rank one, so a single power iteration is exact (theory 13.4)
    model, params, X = _mlp(classes=2)
    top = np.linalg.eigh(_dense_input_hessians(model, params, X))[1][:, :, -1]
    fd = vat_perturbation(model, params, X, 1.0, xi=1e-6, n_power_iterations=1, rng=1).r_adv
    assert np.all(_abs_cos(fd, top) >= 0.99)
    ex = vat_perturbation(model, params, X, 1.0, n_power_iterations=1, rng=1, exact=True).r_adv
    assert np.all(_abs_cos(ex, top) >= 1 - 1e-8)


def test_logistic_vat_direction_is_the_weight_vector():
    model = LogisticRegressionModel(4)
    params = {"w": np.array([1.0, -2.0, 0.5, 2.0]), "b": np.array(0.1)}
    X = np.random.default_rng(0).standard_normal((6, 4))
    r = vat_perturbation(model, params, X, 0.5, rng=0, exact=True).r_adv
    np.testing.assert_allclose(_abs_cos(r, np.tile(params["w"], (6, 1))), 1.0, rtol=1e-12)


def test_vat_beats_random_directions_and_lds_sign():
    model, params, X = _mlp()
    eps = 1e-2
    lds = local_distributional_smoothness(model, params, X, eps, n_power_iterations=30, rng=0)
    assert np.all(lds <= 0)
    rng = np.random.default_rng(1)
    for _ in range(20):
        r = rng.standard_normal(X.shape)
        r *= eps / np.linalg.norm(r, axis=1, keepdims=True)
        assert np.all(vat_kl(model, params, X, r)[0] <= -lds * (1 + 1e-6))
    assert vat_loss(model, params, X, eps, n_power_iterations=30, rng=0) == pytest.approx(-lds.mean())


def test_reuse_of_clean_logits_float32_and_inputs_unchanged():
    model, params, X = _mlp(dtype=np.float32)
    X0 = X.copy()
    a = vat_perturbation(model, params, X, 2.0, xi=1e-3, rng=4)
    b = vat_perturbation(model, params, X, 2.0, xi=1e-3, rng=4, logits=a.logits)
    np.testing.assert_array_equal(a.r_adv, b.r_adv)
    assert a.r_adv.dtype == np.float32 and a.logits.dtype == np.float32
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_allclose(np.linalg.norm(a.r_adv, axis=1), 2.0, rtol=1e-5)


def test_batch_rows_equal_the_prefix_batch():
    # d ~ N(0, I) is drawn row by row, so a prefix batch sees the same directions.  The finite
    # difference divides BLAS rounding (~1e-16) by xi = 1e-6, hence the looser tolerance there.
    model, params, X = _mlp()
    for exact, tol in ((True, 1e-12), (False, 1e-8)):
        full = vat_perturbation(model, params, X, 1.0, rng=9, exact=exact).r_adv
        part = vat_perturbation(model, params, X[:3], 1.0, rng=9, exact=exact).r_adv
        np.testing.assert_allclose(part, full[:3], rtol=0, atol=tol)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(eps=-1.0), ValueError, "eps"),
    (dict(eps=float("nan")), ValueError, "eps"),
    (dict(xi=0.0), ValueError, "xi"),
    (dict(n_power_iterations=0), ValueError, "n_power_iterations"),
    (dict(logits=np.zeros((12, 2))), ValueError, "logits"),
], ids=["neg-eps", "nan-eps", "xi", "n_power_iterations", "logits-shape"])
def test_bad_inputs(kwargs, err, match):
    model, params, X = _mlp()
    call = dict(eps=1.0) | kwargs
    with pytest.raises(err, match=match):
        vat_perturbation(model, params, X, **call)


@pytest.mark.parametrize("classes", [3, 5])
def test_vat_exact_variant_matches_one_finite_difference_iteration_to_1e_8(classes):
    """The exact variant matches one finite-difference iteration to 1e-8 (cosine): with
    xi = 1e-6 in float64 the two directions agree far better than cos >= 1 - 1e-6."""
    model = MLP([10, 16, classes], activation="tanh")
    params = model.init_params(rng=0)
    X = np.random.default_rng(1).standard_normal((12, 10))
    fd = vat_perturbation(model, params, X, 1.0, xi=1e-6, n_power_iterations=1, rng=3).r_adv
    ex = vat_perturbation(model, params, X, 1.0, n_power_iterations=1, rng=3,
                          exact=True).r_adv
    cos = np.sum(fd * ex, axis=1) / (np.linalg.norm(fd, axis=1) * np.linalg.norm(ex, axis=1))
    assert np.all(cos >= 1 - 1e-8)
    assert np.abs(fd - ex).max() <= 1e-5             # measured 4e-7: O(xi) truncation error
