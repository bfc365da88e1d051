"""Stable numerics: exact values at extreme logits, dtype kept, no warnings (filterwarnings=error)."""

import numpy as np
import pytest

from minadv import numerics as nm

BIG = 1e4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_and_log_sigmoid_exact_at_extremes(dtype):
    t = np.array([-BIG, 0.0, BIG], dtype=dtype)
    sp = nm.softplus(t)
    assert sp.dtype == dtype
    np.testing.assert_array_equal(sp, np.array([0.0, np.log(2.0), BIG], dtype=dtype))
    np.testing.assert_array_equal(nm.log_sigmoid(t), np.array([-BIG, -np.log(2.0), 0.0], dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_extremes_and_symmetry(dtype):
    t = np.array([-BIG, -3.0, 0.0, 3.0, BIG], dtype=dtype)
    s = nm.sigmoid(t)
    assert s.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    np.testing.assert_allclose(s + nm.sigmoid(-t), 1.0, rtol=0, atol=np.finfo(dtype).eps)


def test_logsumexp_softmax_extremes():
    z = np.array([[BIG, -BIG, 0.0], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(nm.logsumexp(z), [BIG, 1.0 + np.log(3.0)])
    ls = nm.log_softmax(z)
    assert np.isfinite(ls).all()
    np.testing.assert_array_equal(ls[0], [0.0, -2 * BIG, -BIG])
    np.testing.assert_allclose(nm.softmax(z)[1], [1 / 3] * 3, rtol=1e-15)
    np.testing.assert_array_equal(nm.softmax(z)[0], [1.0, 0.0, 0.0])


def test_log_softmax_matches_naive_where_naive_is_safe():
    z = np.random.default_rng(0).normal(size=(7, 5))
    naive = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nm.log_softmax(z), naive, rtol=1e-13, atol=1e-14)


def test_sigsoftmax_known_values_and_not_shift_invariant():
    # docs/theory.md section 11: g([0,1]) = [0.201, 0.799], g([5,6]) = [0.268, 0.732]
    np.testing.assert_allclose(nm.sigsoftmax(np.array([0.0, 1.0])), [0.201, 0.799], atol=5e-4)
    np.testing.assert_allclose(nm.sigsoftmax(np.array([5.0, 6.0])), [0.268, 0.732], atol=5e-4)
    # all-negative logits: the correct answer, not the max-shifted one
    np.testing.assert_allclose(nm.sigsoftmax(np.array([-800.0, -801.0, -805.0])),
                               [0.8808, 0.1192, 4.0e-5], rtol=2e-3)


def test_sigsoftmax_definition_moderate_logits():
    z = np.random.default_rng(1).normal(size=(4, 6))
    e = np.exp(z) * nm.sigmoid(z)
    np.testing.assert_allclose(nm.sigsoftmax(z), e / e.sum(axis=1, keepdims=True), rtol=1e-13)


def test_sigsoftmax_extreme_logits_finite():
    z = np.array([[BIG, -BIG, 0.0]])
    lg = nm.log_sigsoftmax(z)
    assert np.isfinite(lg).all()
    np.testing.assert_array_equal(lg[0, 0], 0.0)


def test_kl_and_entropy():
    z1 = np.array([[0.0, 0.0]])
    assert nm.categorical_kl(nm.log_softmax(z1), nm.log_softmax(z1))[0] == 0.0
    np.testing.assert_allclose(nm.entropy(nm.log_softmax(np.zeros((1, 4)))), np.log(4), rtol=1e-15)
    # one-hot-ish p: zero-probability terms contribute exactly 0 (no NaN)
    lp = nm.log_softmax(np.array([[BIG, -BIG]]))
    lq = nm.log_softmax(np.array([[0.0, 0.0]]))
    np.testing.assert_allclose(nm.categorical_kl(lp, lq), np.log(2), rtol=1e-15)
    assert nm.entropy(lp)[0] == 0.0


@pytest.mark.parametrize("fn", [nm.log_softmax, nm.softmax, nm.log_sigsoftmax, nm.sigsoftmax])
def test_float32_kept(fn):
    z = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    assert fn(z).dtype == np.float32
