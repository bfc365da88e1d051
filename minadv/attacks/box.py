"""The data box ``[clip_min, clip_max]``: its one validator, the clip, and per-batch rows.

A bound is ``None`` (unbounded on that side), a scalar or an array broadcastable to ``X``'s
shape.  When the clean ``x`` lies in the box, clipping ``x + delta`` only moves each coordinate
of ``delta`` towards zero, so a point of the eps-ball stays in it: clip-after-ball-projection is
a feasible point of ``ball ∩ box`` (exactly its Euclidean projection for L_inf; the standard
choice of Madry et al. 2018 for L2/L1, not the Euclidean projection there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_scalar

__all__ = ["check_bound", "check_box", "check_box_bounds", "outside_box", "project_box",
           "box_rows"]


def check_bound(bound: Any, name: str, X: np.ndarray):
    """Validate one side of the box; return ``None``, a scalar or an array of ``X``'s dtype."""
    if bound is None:
        return None
    arr = check_array(bound, name, ndim=None, finite=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN values.")
    try:
        np.broadcast_shapes(arr.shape, X.shape)
    except ValueError as exc:
        raise ValueError(
            f"{name}: shape {arr.shape} does not broadcast to X's shape {X.shape}.") from exc
    arr = arr.astype(X.dtype, copy=False)
    return X.dtype.type(arr) if arr.ndim == 0 else arr


def check_box_bounds(clip_min: Any, clip_max: Any) -> tuple:
    """The box as hyper-parameters (objectives, estimators): each side ``None`` or a finite
    number, ``clip_min <= clip_max``; returns ``(clip_min, clip_max)`` as floats or None.

    :func:`check_box` is the same rule for arrays, at the attack's boundary, where ``X`` is known.
    """
    lo, hi = (None if v is None else check_scalar(v, nm)
              for v, nm in ((clip_min, "clip_min"), (clip_max, "clip_max")))
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip_min: must be <= clip_max, got clip_min={lo} > clip_max={hi}.")
    return lo, hi


def outside_box(X: np.ndarray, lo, hi) -> bool:
    """Whether some entry of ``X`` leaves the box (scalar bounds need no ``X``-sized mask)."""
    if lo is not None and (X.min(initial=np.inf) < lo if np.ndim(lo) == 0 else np.any(X < lo)):
        return True
    return hi is not None and (X.max(initial=-np.inf) > hi if np.ndim(hi) == 0
                               else bool(np.any(X > hi)))


def check_box(X: np.ndarray, clip_min: Any, clip_max: Any, *, check_inside: bool = True):
    """Validate the data box and that the clean ``X`` lies inside it; return ``(lo, hi)``.

    Raises
    ------
    ValueError
        NaN bounds, bounds that do not broadcast to ``X``, ``clip_min > clip_max`` anywhere, or
        (``check_inside``) ``X`` outside the box (the attack output could then not lie in both
        the ball and the box).
    """
    lo = check_bound(clip_min, "clip_min", X)
    hi = check_bound(clip_max, "clip_max", X)
    if lo is not None and hi is not None and np.any(lo > hi):
        raise ValueError("clip_min: must be <= clip_max everywhere, got clip_min > clip_max.")
    if check_inside and outside_box(X, lo, hi):
        raise ValueError("X: lies outside the box [clip_min, clip_max]; clip X first.")
    return lo, hi


def project_box(X_adv: Any, clip_min: Any = None, clip_max: Any = None) -> np.ndarray:
    """Clip ``X_adv`` to the data box ``[clip_min, clip_max]`` (``None``: unbounded side).

    See the module docstring for why clipping keeps a point of the eps-ball inside it.

    Returns
    -------
    ndarray, a new array of ``X_adv``'s shape and dtype
    """
    X_adv = check_array(X_adv, "X_adv", ndim=2)
    lo, hi = check_box(X_adv, clip_min, clip_max, check_inside=False)
    if lo is None and hi is None:
        return X_adv.copy()
    return np.clip(X_adv, lo, hi).astype(X_adv.dtype, copy=False)


def box_rows(bound, rows: slice):
    """The rows of a validated bound that belong to the batch ``X[rows]``."""
    if bound is None or np.ndim(bound) < 2 or bound.shape[0] == 1:
        return bound
    return bound[rows]
