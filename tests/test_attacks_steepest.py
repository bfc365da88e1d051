"""Steepest-ascent primitive and Lp-ball projections (exact identities first)."""

import numpy as np
import pytest

from minadv.attacks import lp_norms, project_ball, project_box, steepest_ascent

DUAL = {np.inf: 1, 2: 2, 1: np.inf}


def _grads(seed, n=40, d=9, dtype=np.float64):
    g = np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)
    g[3] = 0.0                                   # a zero-gradient row
    g[5, :4] = 0.0                               # some zero coordinates
    g[7, 2] = g[7, 6] = 10.0                     # an L1 tie: first index wins
    return g


@pytest.mark.parametrize("eps", [0.0, 0.3, 2.5])
def test_hoelder_identities(norm, eps):
    g = _grads(0)
    delta = steepest_ascent(g, eps, norm)
    nonzero = np.any(g != 0, axis=1)
    inner = np.sum(g * delta, axis=1)
    np.testing.assert_allclose(inner, eps * np.linalg.norm(g, ord=DUAL[norm], axis=1),
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(lp_norms(delta, norm)[nonzero], eps, rtol=1e-14)
    assert np.all(delta[~nonzero] == 0) and not np.isnan(delta).any()


def test_l1_step_changes_exactly_one_coordinate_first_index_on_ties():
    g = _grads(1)
    delta = steepest_ascent(g, 0.7, "l1")
    nonzero = np.any(g != 0, axis=1)
    assert np.all(np.count_nonzero(delta, axis=1) == nonzero.astype(int))
    assert delta[7, 2] == 0.7 and delta[7, 6] == 0.0


def test_linf_sign_and_l2_direction_exact():
    g = np.array([[3.0, -4.0, 0.0]])
    np.testing.assert_array_equal(steepest_ascent(g, 0.5, "linf"), [[0.5, -0.5, 0.0]])
    np.testing.assert_allclose(steepest_ascent(g, 0.5, "l2"), [[0.3, -0.4, 0.0]], rtol=1e-15)


def test_tiny_and_float32_gradients_keep_the_direction():
    g = np.array([[3e-30, -4e-30], [3e-200, 4e-200]])
    np.testing.assert_allclose(steepest_ascent(g, 1.0, 2), [[0.6, -0.8], [0.6, 0.8]],
                               rtol=1e-14)
    g32 = np.array([[3e-25, -4e-25]], dtype=np.float32)
    out = steepest_ascent(g32, 1.0, 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, -0.8]], rtol=1e-6)


def test_projection_is_idempotent_inside_and_does_not_modify_input(norm):
    rng = np.random.default_rng(2)
    v = rng.standard_normal((30, 6)) * rng.uniform(0.1, 3, (30, 1))
    before = v.copy()
    p = project_ball(v, 1.0, norm)
    np.testing.assert_array_equal(v, before)
    assert np.all(lp_norms(p, norm) <= 1.0 + 1e-12)
    inside = lp_norms(v, norm) <= 1.0
    np.testing.assert_array_equal(p[inside], v[inside])
    np.testing.assert_allclose(project_ball(p, 1.0, norm), p, rtol=0, atol=1e-15)


def test_l1_projection_is_the_euclidean_projection():
    # KKT check of Duchi et al.: p = sign(v) max(|v| - theta, 0) with ||p||_1 = eps, and
    # p is closer to v than 2 000 random points of the L1 sphere.
    rng = np.random.default_rng(3)
    v = rng.standard_normal((5, 6)) * 2
    p = project_ball(v, 1.0, 1)
    np.testing.assert_allclose(np.abs(p).sum(axis=1), 1.0, rtol=1e-13)
    for vi, pi in zip(v, p):
        theta = np.abs(vi) - np.abs(pi)
        np.testing.assert_allclose(theta[pi != 0], theta[pi != 0][0], atol=1e-13)
        assert np.all(np.abs(vi[pi == 0]) <= theta[pi != 0][0] + 1e-13)
        e = rng.laplace(size=(2000, 6))
        cand = e / np.abs(e).sum(axis=1, keepdims=True)
        assert np.linalg.norm(vi - pi) <= np.linalg.norm(vi - cand, axis=1).min() + 1e-12


def test_l2_projection_scales_only_outside():
    v = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(project_ball(v, 1.0, 2), [[0.6, 0.8], [0.3, 0.4], [0, 0]])


def test_project_box():
    x = np.array([[-1.0, 0.5, 2.0]])
    np.testing.assert_array_equal(project_box(x, 0.0, 1.0), [[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(project_box(x, None, 1.0), [[-1.0, 0.5, 1.0]])
    np.testing.assert_array_equal(project_box(x), x)


@pytest.mark.parametrize("bad, err, match", [
    (dict(eps=-0.1), ValueError, "eps"),
    (dict(eps=float("nan")), ValueError, "eps"),
    (dict(norm=3), ValueError, "norm"),
    (dict(norm="l0"), ValueError, "norm"),
    (dict(g=np.array([[1, 2]])), TypeError, "g"),
], ids=["negative-eps", "nan-eps", "norm-3", "norm-l0", "int-g"])
def test_bad_arguments(bad, err, match):
    kwargs = dict(g=np.ones((2, 3)), eps=0.1, norm=2) | bad
    with pytest.raises(err, match=match):
        steepest_ascent(**kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [0.0, 0.01, 0.3, 3.0, 10.0])
def test_sign_step_equals_sign_times_scale(dtype, scale):
    # the L_inf step scale * sign(g) for every normal value, subnormals, zeros and huge values
    from minadv.attacks.norms import sign_step_kernel
    fi = np.finfo(dtype)
    sub = fi.smallest_subnormal
    g = np.array([[0.0, -0.0, fi.tiny, -fi.tiny, 1e-20, -3.0, fi.max, -fi.max, 1.0, sub, -sub,
                   fi.tiny / 3]], dtype=dtype)
    expected = np.sign(g) * dtype(scale)
    np.testing.assert_array_equal(sign_step_kernel(g, scale), expected)
    assert np.all(np.abs(sign_step_kernel(g, scale)[0, [4, 5, 9, 10, 11]]) == dtype(scale))
    out = g.copy()
    assert sign_step_kernel(out, scale, out=out) is out
    np.testing.assert_array_equal(out, expected)
