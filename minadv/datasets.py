"""Small, seeded synthetic datasets (no download, no network), and the shipped UCI digits.

Every generator takes ``rng`` (seed or ``numpy.random.Generator``) and returns float64 arrays
``X`` of shape ``(n_samples, n_features)`` and integer labels ``y``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import as_generator, check_array, check_int, check_scalar
from .digits import load_digits

__all__ = [
    "load_digits",
    "make_sharpness_data",
    "make_moons",
    "make_circles",
    "make_vat_synthetic",
    "random_orthonormal_rows",
    "train_test_split",
    "standardize",
    "minmax",
]


def make_sharpness_data(n_samples: int = 400, n_features: int = 20, rng: Any = 1):
    """The seeded two-Gaussian problem of ``theory.md`` section 2.5.

    ``y = where(u < 0.5, -1, 1)`` with ``u ~ U(0, 1)``, ``X = y mu + N(0, I)`` with
    ``mu = e_1``, drawn in exactly that order from ``rng`` (default seed 1), so that the
    section 2.5 table reproduces.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        Labels in ``{0, 1}`` (``1`` where the theory's label is ``+1``).
    rng : numpy.random.Generator
        The generator after drawing, so callers can continue the stream (the section 2.5
        random-noise control draws its directions from it).
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    n_features = check_int(n_features, "n_features", low=1)
    gen = as_generator(rng)
    y_pm = np.where(gen.random(n_samples) < 0.5, -1.0, 1.0)
    mu = np.zeros(n_features)
    mu[0] = 1.0
    X = y_pm[:, None] * mu + gen.normal(size=(n_samples, n_features))
    return X, (y_pm > 0).astype(np.int64), gen


# --------------------------------------------------------------------------- 2-D toy problems


def _class_sizes(n_samples: int) -> tuple[int, int]:
    """Balanced split: class 0 gets ``ceil(n/2)``, class 1 ``floor(n/2)``."""
    return n_samples - n_samples // 2, n_samples // 2


def _shuffle(X: np.ndarray, y: np.ndarray, gen: np.random.Generator):
    """Apply one random permutation to rows of ``X`` and ``y``."""
    perm = gen.permutation(len(y))
    return X[perm], y[perm]


def make_moons(n_samples: int = 100, noise: float = 0.0, rng: Any = None):
    r"""Two interleaving half circles (the scikit-learn ``make_moons`` layout).

    Class 0: :math:`(\cos t, \sin t)`; class 1: :math:`(1 - \cos t, 1/2 - \sin t)`, with
    ``t`` evenly spaced on :math:`[0, \pi]`; then isotropic Gaussian noise of std ``noise``
    and a random row order.

    Parameters
    ----------
    n_samples : int >= 2
        Total points; class 0 gets ``ceil(n/2)``, class 1 ``floor(n/2)``.
    noise : float >= 0
        Standard deviation of the Gaussian noise added to every coordinate.
    rng : None, int or Generator

    Returns
    -------
    X : ndarray (n_samples, 2), float64
    y : ndarray (n_samples,), int64 in {0, 1}
    """
    n_samples = check_int(n_samples, "n_samples", low=2)
    noise = check_scalar(noise, "noise", low=0.0)
    gen = as_generator(rng)
    n0, n1 = _class_sizes(n_samples)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)],                # (n0, 2)
                        np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]])   # (n1, 2)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n1])
    X = X + noise * gen.standard_normal(X.shape)
    return _shuffle(X, y, gen)


def make_circles(n_samples: int = 100, factor: float = 0.8, noise: float = 0.0, rng: Any = None):
    r"""A large circle (class 0, radius 1) around a small one (class 1, radius ``factor``).

    Angles are evenly spaced on :math:`[0, 2\pi)`; Gaussian noise of std ``noise`` is added
    to every coordinate, then the rows are shuffled (scikit-learn's ``make_circles`` layout).

    Parameters
    ----------
    n_samples : int >= 2
        Class 0 gets ``ceil(n/2)`` points, class 1 ``floor(n/2)``.
    factor : float in (0, 1)
        Radius of the inner circle.
    noise : float >= 0
    rng : None, int or Generator

    Returns
    -------
    X : ndarray (n_samples, 2), float64
    y : ndarray (n_samples,), int64 in {0, 1}
    """
    n_samples = check_int(n_samples, "n_samples", low=2)
    factor = check_scalar(factor, "factor", low=0.0, high=1.0, low_inclusive=False,
                          high_inclusive=False)
    noise = check_scalar(noise, "noise", low=0.0)
    gen = as_generator(rng)
    n0, n1 = _class_sizes(n_samples)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)],
                        factor * np.c_[np.cos(t1), np.sin(t1)]])      # (n, 2)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n1])
    X = X + noise * gen.standard_normal(X.shape)
    return _shuffle(X, y, gen)


# --------------------------------------------------------------------------- VAT synthetic

# (centre, first angle, last angle, mean radius, radial std) per class, theory.md section 6.4.
_VAT_MOONS = ((( -0.5, 0.25), 0.5 * np.pi, 2.0 * np.pi, 1.0, 0.10),
              (( 0.5, -0.25), 1.5 * np.pi, 3.0 * np.pi, 1.0, 0.10))
_VAT_CIRCLES = (((0.0, 0.0), 0.0, 2.0 * np.pi, 0.25, 0.048),
                ((0.0, 0.0), 0.0, 2.0 * np.pi, 1.00, 0.051))


def random_orthonormal_rows(n_rows: int, dim: int, rng: Any = None) -> np.ndarray:
    """A Haar-random ``(n_rows, dim)`` matrix ``B`` with orthonormal rows (``B B^T = I``).

    QR of a Gaussian ``(dim, n_rows)`` matrix, with the signs of ``R``'s diagonal folded
    into ``Q`` so the distribution is uniform (Mezzadri 2007).
    """
    n_rows = check_int(n_rows, "n_rows", low=1)
    dim = check_int(dim, "dim", low=n_rows)
    gen = as_generator(rng)
    q, r = np.linalg.qr(gen.standard_normal((dim, n_rows)))   # q: (dim, n_rows)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return np.ascontiguousarray(q.T)                           # (n_rows, dim)


def _vat_plane_points(spec, n_per_class: tuple[int, int], gen: np.random.Generator):
    """Sample 2-D points ``z`` per class: uniform angle in the arc, Gaussian radius."""
    zs, ys = [], []
    for label, ((cx, cy), a0, a1, radius, std) in enumerate(spec):
        n = n_per_class[label]
        angle = gen.uniform(a0, a1, size=n)
        r = radius + std * gen.standard_normal(n)
        zs.append(np.c_[cx + r * np.cos(angle), cy + r * np.sin(angle)])   # (n, 2)
        ys.append(np.full(n, label, dtype=np.int64))
    return _shuffle(np.concatenate(zs), np.concatenate(ys), gen)


def make_vat_synthetic(kind: str = "moons", n_train: int = 16, n_test: int = 1000,
                       dim: int = 100, rng: Any = None):
    r"""The synthetic 2-D-in-100-D benchmark of the VAT paper (theory.md section 6.4).

    Points ``z`` on two planar curves are embedded linearly, ``x = z B``, with ``B`` a
    ``(2, dim)`` matrix with orthonormal rows, so the data have no component off the plane.

    * ``"moons"`` (``syndata_1``): class 0 on the arc of radius 1 centred at (-0.5, 0.25),
      angles uniform in [90 deg, 360 deg]; class 1 its point reflection, centred at
      (0.5, -0.25), angles in [270 deg, 540 deg] (i.e. round through 0 to 180 deg); radius
      ``N(1, 0.10^2)``.
    * ``"circles"`` (``syndata_2``): class 0 radius ``N(0.25, 0.048^2)``, class 1 radius
      ``N(1.0, 0.051^2)``, angles uniform in [0, 360 deg), centred at the origin.

    Parameters
    ----------
    kind : {"moons", "circles"}
    n_train, n_test : int >= 2, defaults 16 and 1000
        Balanced: class 0 gets ``ceil(n/2)`` points (8 and 500 by default).
    dim : int >= 2, default 100
    rng : None, int or Generator
        Draw order: ``B``, then the training set, then the test set.

    Returns
    -------
    X_train : ndarray (n_train, dim)
    y_train : ndarray (n_train,), int64
    X_test : ndarray (n_test, dim)
    y_test : ndarray (n_test,), int64
    B : ndarray (2, dim)
        The embedding; ``X @ B.T`` recovers the planar points, and a 2-D grid ``G`` (e.g.
        ``[-2, 2]^2`` step 0.05 for the paper's contour plots) maps to ``G @ B``.

    Notes
    -----
    The authors' generator script is not public; this one matches the statistics measured on
    their pickles (radius mean 1.004 / 1.009, std 0.102 / 0.101 for moons) but is not
    bit-identical to them.

    References
    ----------
    Miyato, Maeda, Koyama, Nakae, Ishii (2016), "Distributional Smoothing with Virtual
    Adversarial Training", ICLR, Sec. 3.1 (synthetic datasets); code ``takerum/vat``.
    """
    specs = {"moons": _VAT_MOONS, "circles": _VAT_CIRCLES}
    if kind not in specs:
        raise ValueError(f"kind: expected 'moons' or 'circles', got {kind!r}.")
    n_train = check_int(n_train, "n_train", low=2)
    n_test = check_int(n_test, "n_test", low=2)
    dim = check_int(dim, "dim", low=2)
    gen = as_generator(rng)
    B = random_orthonormal_rows(2, dim, gen)                                  # (2, dim)
    z_tr, y_tr = _vat_plane_points(specs[kind], _class_sizes(n_train), gen)   # (n_train, 2)
    z_te, y_te = _vat_plane_points(specs[kind], _class_sizes(n_test), gen)    # (n_test, 2)
    return z_tr @ B, y_tr, z_te @ B, y_te, B


# --------------------------------------------------------------------------- utilities


def train_test_split(X: Any, y: Any, test_size: float | int = 0.25, rng: Any = None):
    """Randomly split rows into train and test parts (scikit-learn's return order).

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    y : ndarray (n_samples,)
    test_size : float in (0, 1) or int in [1, n_samples - 1]
        Fraction (rounded up, as scikit-learn) or number of test rows.
    rng : None, int or Generator

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarrays (copies; inputs are not modified)
    """
    X = check_array(X, "X", ndim=2)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}.")
    n = X.shape[0]
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = check_int(test_size, "test_size", low=1, high=n - 1)
    else:
        frac = check_scalar(test_size, "test_size", low=0.0, high=1.0, low_inclusive=False,
                            high_inclusive=False)
        n_test = int(np.ceil(frac * n))
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"test_size: {frac} of {n} rows leaves an empty train or test set.")
    perm = as_generator(rng).permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    return X[train], X[test], y[train], y[test]


def _check_column_values(value: Any, name: str, X: np.ndarray) -> np.ndarray:
    """A finite scalar or ``(n_features,)`` array, in ``X``'s dtype."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        value = value.astype(X.dtype)
    arr = check_array(value, name, ndim=None)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != X.shape[1]):
        raise ValueError(f"{name}: expected a scalar or one value per column, shape "
                         f"({X.shape[1]},), got shape {arr.shape}.")
    return arr.astype(X.dtype, copy=False)


def standardize(X: Any, mean: Any = None, scale: Any = None):
    """Return ``((X - mean) / scale, mean, scale)``, column-wise.

    ``mean`` and ``scale`` default to the column means and standard deviations of ``X``
    (constant columns get scale 1); pass the training set's values to transform a test set.
    The result keeps ``X``'s dtype.

    Raises
    ------
    ValueError
        ``mean`` or ``scale`` of the wrong shape or not finite, or a ``scale`` that is not
        positive (a zero would give infinities).
    """
    X = check_array(X, "X", ndim=2)
    mean = X.mean(axis=0) if mean is None else _check_column_values(mean, "mean", X)
    if scale is None:
        std = X.std(axis=0)
        scale = np.where(std > 0, std, 1.0).astype(X.dtype)
    else:
        scale = _check_column_values(scale, "scale", X)
        bad = np.flatnonzero(np.ravel(scale) <= 0)
        if bad.size:
            raise ValueError(f"scale: expected positive values, got {np.ravel(scale)[bad[0]]} "
                             f"at column {bad[0]}; use 1 for constant columns.")
    return ((X - mean) / scale).astype(X.dtype, copy=False), mean, scale


def minmax(X: Any, lo: Any = None, hi: Any = None):
    """Return ``((X - lo) / (hi - lo), lo, hi)``, column-wise, mapping the data to [0, 1].

    ``lo``/``hi`` default to the column minima/maxima of ``X``; constant columns map to 0.
    The result keeps ``X``'s dtype.

    Raises
    ------
    ValueError
        ``lo`` or ``hi`` of the wrong shape or not finite, or ``lo > hi`` in some column
        (swapped bounds would flip the data).
    """
    X = check_array(X, "X", ndim=2)
    lo = X.min(axis=0) if lo is None else _check_column_values(lo, "lo", X)
    hi = X.max(axis=0) if hi is None else _check_column_values(hi, "hi", X)
    swapped = np.flatnonzero(np.ravel(np.broadcast_to(lo > hi, (X.shape[1],))))
    if swapped.size:
        j = swapped[0]
        raise ValueError(f"lo: must be <= hi in every column, got lo = "
                         f"{np.broadcast_to(lo, (X.shape[1],))[j]} > hi = "
                         f"{np.broadcast_to(hi, (X.shape[1],))[j]} at column {j} (swapped?).")
    span = np.where(np.asarray(hi - lo) > 0, hi - lo, 1.0)
    return ((X - lo) / span).astype(X.dtype, copy=False), lo, hi
