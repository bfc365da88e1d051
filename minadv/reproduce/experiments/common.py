"""Helpers shared by the papers' modules: the digits split, the data box, error rates.

Data: :func:`minadv.datasets.load_digits` — 1 797 images, 64 pixels in ``[0, 1]`` (grey level
/ 16).  The papers used MNIST (28×28); these are smaller images with coarser grey levels, so
the papers' numbers are the *reference*, and each experiment states the check it makes.
"""

from __future__ import annotations

import numpy as np

from ...datasets import load_digits, train_test_split

__all__ = ["BOX", "DIGITS", "digits_split", "error_rate", "labeled_subset"]

#: the digits' pixel box: every attack on digits clips to it
BOX = {"clip_min": 0.0, "clip_max": 1.0}
DIGITS = "UCI digits 8×8 (offline)"


def digits_split(seed: int, classes: tuple | None = None, test_size: float = 0.3):
    """``(X_tr, X_te, y_tr, y_te)`` of the digits (optionally two ``classes``, relabelled 0/1),
    split by a seeded shuffle."""
    X, y = load_digits()
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], (y[keep] == classes[1]).astype(np.int64)
    return train_test_split(X, y, test_size=test_size, rng=seed)


def error_rate(model, params, X, y) -> float:
    """Share of rows of ``X`` that ``model`` misclassifies."""
    return float(np.mean(model.predict(params, X) != y))


def labeled_subset(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` rows of every class, drawn without replacement."""
    gen = np.random.default_rng(seed)
    return np.concatenate([gen.choice(np.flatnonzero(y == c), per_class, replace=False)
                           for c in np.unique(y)])
