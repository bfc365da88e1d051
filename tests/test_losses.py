"""Losses on logits: known answers, gradients and logit HVPs against finite differences."""

import numpy as np
import pytest

from minadv import losses
from minadv.gradcheck import numerical_gradient, rel_error

FAMILIES = [losses.LOGISTIC, losses.SOFTMAX, losses.SIGSOFTMAX]


def _logits(family, rng, n=5, C=4):
    return rng.normal(size=n) if family.binary else rng.normal(size=(n, C))


def test_known_answers():
    # logistic loss at f = 0 is log 2 for either label
    loss, grad = losses.binary_logistic_loss(np.zeros(2), np.array([0, 1]))
    np.testing.assert_allclose(loss, np.log(2), rtol=1e-15)
    np.testing.assert_allclose(grad, [0.5, -0.5], rtol=1e-15)
    # cross-entropy with equal logits is log K, gradient 1/K - onehot
    loss, grad = losses.softmax_cross_entropy(np.zeros((1, 5)), np.array([2]))
    np.testing.assert_allclose(loss, np.log(5), rtol=1e-15)
    np.testing.assert_allclose(grad, [[0.2, 0.2, -0.8, 0.2, 0.2]], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_exact(dtype):
    f = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    y = np.array([1, 0, 0, 1])
    loss, grad = losses.binary_logistic_loss(f, y)
    assert loss.dtype == dtype and grad.dtype == dtype
    np.testing.assert_array_equal(loss, np.array([0, 0, 1e4, 1e4], dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([0, 0, 1, -1], dtype=dtype))
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    loss, grad = losses.softmax_cross_entropy(z, np.array([0, 0]))
    np.testing.assert_array_equal(loss, np.array([0, 2e4], dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([[0, 0, 0], [-1, 1, 0]], dtype=dtype))
    loss, grad = losses.sigsoftmax_nll(z, np.array([0, 0]))
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    assert loss[0] == 0


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_nll_gradient_and_hvp(family):
    rng = np.random.default_rng(0)
    z = _logits(family, rng)
    y = rng.integers(0, 2 if family.binary else 4, z.shape[0])
    _, grad = family.nll(z, y)
    numeric = numerical_gradient(lambda t: family.nll(t, y)[0].sum(), z)
    assert rel_error(grad, numeric) < 1e-8
    rz = rng.normal(size=z.shape)
    h = 1e-5
    fd = (family.nll(z + h * rz, y)[1] - family.nll(z - h * rz, y)[1]) / (2 * h)
    assert rel_error(family.nll_hvp(z, y, rz), fd) < 1e-8


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_kl_value_gradient_and_fisher(family):
    rng = np.random.default_rng(1)
    z_ref = _logits(family, rng)
    z = z_ref + 0.3 * rng.normal(size=z_ref.shape)
    log_p = family.log_proba(z_ref)                        # the constant reference
    kl0, g0 = family.kl(log_p, z_ref)
    np.testing.assert_allclose(kl0, 0, atol=1e-15)
    np.testing.assert_allclose(g0, 0, atol=1e-15)
    kl, grad = family.kl(log_p, z)
    assert np.all(kl > 0)
    numeric = numerical_gradient(lambda t: family.kl(log_p, t)[0].sum(), z)
    assert rel_error(grad, numeric) < 1e-8
    rz = rng.normal(size=z.shape)
    h = 1e-5
    fd = (family.kl(log_p, z_ref + h * rz)[1] - family.kl(log_p, z_ref - h * rz)[1]) / (2 * h)
    assert rel_error(family.kl_hvp(z_ref, rz), fd) < 1e-8
    # the Fisher is PSD
    assert np.all(np.sum(rz * family.kl_hvp(z_ref, rz), axis=-1) >= -1e-15)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_entropy_gradient(family):
    rng = np.random.default_rng(2)
    z = _logits(family, rng)
    ent, grad = family.entropy(z)
    probs = np.exp(family.log_proba(z))
    np.testing.assert_allclose(ent, -np.sum(probs * np.log(probs), axis=-1), rtol=1e-13)
    numeric = numerical_gradient(lambda t: family.entropy(t)[0].sum(), z)
    assert rel_error(grad, numeric) < 1e-8


def test_log_proba_rows_normalised():
    rng = np.random.default_rng(3)
    for family in FAMILIES:
        p = np.exp(family.log_proba(_logits(family, rng)))
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)


def test_l2_penalty_biases_unpenalised():
    params = {"W1": np.ones((2, 3)), "b1": np.ones(3)}
    value, grads = losses.l2_penalty(params, ("W1",), 0.5)
    assert value == 0.5 * 0.5 * 6
    np.testing.assert_array_equal(grads["W1"], 0.5 * np.ones((2, 3)))
    np.testing.assert_array_equal(grads["b1"], np.zeros(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigsoftmax_nll_exact_at_extreme_logits(dtype):
    """Extreme logits give *exact* losses and gradients (the suite only checked that
    sigsoftmax is finite).  Scores s = z + log sigma(z):  row 1 s = [1e4, -2e4, -log 2] ->
    NLL_0 = 0, row 2 s = [-2e4, 1e4, -log 2] -> NLL_0 = 1e4 - (-2e4) = 3e4.  Gradient
    (q - e_y) * ds/dz with ds/dz = 2 - sigma(z): row 1 zero, row 2 [-1*2, 1*1, 0] = [-2, 1, 0]."""
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    loss, grad = losses.sigsoftmax_nll(z, np.array([0, 0]))
    assert loss.dtype == dtype and grad.dtype == dtype
    np.testing.assert_array_equal(loss, np.array([0.0, 3e4], dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([[0, 0, 0], [-2, 1, 0]], dtype=dtype))
