"""Small, seeded synthetic datasets (no download, no network).

Every generator takes ``rng`` (seed or ``numpy.random.Generator``) and returns float64 arrays
``X`` of shape ``(n_samples, n_features)`` and integer labels ``y``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import as_generator, check_int

__all__ = ["make_sharpness_data"]


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
