"""Tests for minadv.datasets: toy 2-D sets, the VAT synthetic benchmark and helpers."""

import hashlib

import numpy as np
import pytest

from minadv.datasets import (
    make_circles,
    make_moons,
    make_sharpness_data,
    make_vat_synthetic,
    minmax,
    random_orthonormal_rows,
    standardize,
    train_test_split,
)

# Centres of the VAT moons arcs (docs/theory.md 6.4); circles are centred at the origin.
MOON_CENTRES = np.array([[-0.5, 0.25], [0.5, -0.25]])


def test_make_sharpness_data_unchanged():
    # Fingerprint of the seeded section 2.5 data set (must never change: the 2.5 table
    # depends on it bit for bit).
    X, y, gen = make_sharpness_data()
    digest = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()
    assert digest == "3edff5556c67400e9dd8885dd4dcb2a07899c3e24fc39ebe7444711cc89410ba"
    assert gen.random() == 0.9461024521709669


# ----------------------------------------------------------------------------- moons / circles


@pytest.mark.parametrize("make", [make_moons, make_circles], ids=["moons", "circles"])
@pytest.mark.parametrize("n", [10, 11])
def test_toy_shapes_balance_determinism(make, n):
    X, y = make(n, noise=0.1, rng=0)
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.bincount(y).tolist() == [n - n // 2, n // 2]
    X2, y2 = make(n, noise=0.1, rng=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make(n, noise=0.1, rng=1)[0])


def test_circles_radii_without_noise():
    X, y = make_circles(40, factor=0.3, rng=0)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-14)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-14)


def test_moons_geometry_without_noise():
    X, y = make_moons(40, rng=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, rtol=1e-14)
    assert (X[y == 0, 1] >= -1e-15).all() and (X[y == 1, 1] <= 0.5 + 1e-15).all()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: make_moons(1), ValueError, "n_samples"),
    (lambda: make_moons(10, noise=-0.1), ValueError, "noise"),
    (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
    (lambda: make_circles(10.0), TypeError, "n_samples"),
], ids=["moons-n", "moons-noise", "circles-factor", "circles-n-float"])
def test_toy_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- VAT synthetic


@pytest.mark.parametrize("kind", ["moons", "circles"])
def test_vat_synthetic_shapes_balance_embedding(kind):
    X_tr, y_tr, X_te, y_te, B = make_vat_synthetic(kind, rng=0)
    assert X_tr.shape == (16, 100) and X_te.shape == (1000, 100) and B.shape == (2, 100)
    assert np.bincount(y_tr).tolist() == [8, 8]
    assert np.bincount(y_te).tolist() == [500, 500]
    np.testing.assert_allclose(B @ B.T, np.eye(2), atol=1e-14)      # orthonormal rows
    for X in (X_tr, X_te):                                          # zero off the plane
        np.testing.assert_allclose(X @ B.T @ B, X, atol=1e-14)


@pytest.mark.parametrize("kind", ["moons", "circles"])
def test_vat_synthetic_seeded(kind):
    a = make_vat_synthetic(kind, n_train=6, n_test=10, dim=5, rng=3)
    b = make_vat_synthetic(kind, n_train=6, n_test=10, dim=5, rng=np.random.default_rng(3))
    c = make_vat_synthetic(kind, n_train=6, n_test=10, dim=5, rng=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("kind, centres, radii, stds", [
    ("moons", MOON_CENTRES, [1.0, 1.0], [0.10, 0.10]),
    ("circles", np.zeros((2, 2)), [0.25, 1.0], [0.048, 0.051]),
])
def test_vat_synthetic_statistics(kind, centres, radii, stds):
    # 20000 test points (10000 per class): standard errors ~0.001 for the radius mean and
    # ~0.0007 for its std, so 0.01 / 0.005 are generous margins.
    _, _, X, y, B = make_vat_synthetic(kind, n_train=2, n_test=20000, rng=5)
    z = X @ B.T                                                     # back to the plane
    for label in (0, 1):
        r = np.linalg.norm(z[y == label] - centres[label], axis=1)
        assert abs(r.mean() - radii[label]) < 0.01
        assert abs(r.std() - stds[label]) < 0.005


def test_vat_moons_angle_ranges():
    _, _, X, y, B = make_vat_synthetic("moons", n_train=2, n_test=4000, rng=6)
    z = X @ B.T
    d0 = z[y == 0] - MOON_CENTRES[0]
    d1 = z[y == 1] - MOON_CENTRES[1]
    # class 0: angles in [90, 360] deg, i.e. no point in the first quadrant of its centre;
    # class 1 (point reflection): angles in [270, 540] deg, no point in the third quadrant.
    assert not ((d0[:, 0] > 0) & (d0[:, 1] > 0)).any()
    assert not ((d1[:, 0] < 0) & (d1[:, 1] < 0)).any()
    # all three remaining quadrants are populated
    for d, sx, sy in [(d0, -1, 1), (d0, -1, -1), (d0, 1, -1), (d1, 1, -1), (d1, 1, 1), (d1, -1, 1)]:
        assert ((sx * d[:, 0] > 0) & (sy * d[:, 1] > 0)).any()


def test_random_orthonormal_rows():
    B = random_orthonormal_rows(3, 7, rng=0)
    np.testing.assert_allclose(B @ B.T, np.eye(3), atol=1e-14)
    with pytest.raises(ValueError, match="dim"):
        random_orthonormal_rows(3, 2)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"kind": "spirals"}, ValueError, "kind"),
    ({"n_train": 1}, ValueError, "n_train"),
    ({"n_test": 0}, ValueError, "n_test"),
    ({"dim": 1}, ValueError, "dim"),
    ({"dim": 10.0}, TypeError, "dim"),
], ids=["kind", "n_train", "n_test", "dim", "dim-float"])
def test_vat_synthetic_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_vat_synthetic(**kwargs)


# ----------------------------------------------------------------------------- helpers


def test_train_test_split_partition():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, rng=0)
    assert len(y_te) == 3 and len(y_tr) == 7                        # ceil(0.25 * 10) = 3
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)              # rows stay paired
    again = train_test_split(X, y, test_size=3, rng=0)
    np.testing.assert_array_equal(again[3], y_te)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=1.0)
    with pytest.raises(ValueError, match="y"):
        train_test_split(X, y[:5])


def test_standardize_and_minmax():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]], dtype=np.float32)
    Z, mean, scale = standardize(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], rtol=1e-6)
    np.testing.assert_array_equal(Z[:, 1], 0.0)                      # constant column
    Z2, _, _ = standardize(X[:1], mean, scale)                       # train statistics reused
    np.testing.assert_allclose(Z2, Z[:1])
    M, lo, hi = minmax(X)
    assert M.dtype == np.float32
    np.testing.assert_allclose(M, [[0, 0], [0.5, 0], [1, 0]])
    np.testing.assert_array_equal(X[:, 0], [1.0, 3.0, 5.0])           # input untouched
