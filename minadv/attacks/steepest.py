"""Steepest ascent in an Lp ball and the projections every iterative attack needs.

For a gradient ``g`` (one row per sample) the linearised attack problem
``max_{||delta||_p <= eps} <g, delta>`` has the closed-form maximisers (Hoelder; the value is
``eps ||g||_q`` with ``q`` the dual exponent, ``1/p + 1/q = 1``)::

    p = inf:  delta = eps sign(g)                        (every coordinate moves; FGSM)
    p = 2:    delta = eps g / ||g||_2
    p = 1:    delta = eps sign(g_j) e_j,  j = argmax_i |g_i|   (ties: the first index)

A zero gradient row gives a zero perturbation (``sign(0) = 0``; the L2 and L1 rules are
guarded), never NaN.  The projections map a perturbation back onto the eps-ball (L_inf: clip;
L2: rescale only rows with ``||delta|| > eps``; L1: the sort-based Euclidean projection of
Duchi et al.) and the data box.

References
----------
Shaham, Yamada, Negahban. Understanding Adversarial Training: Increasing Local Stability of
Neural Nets through Robust Optimization. Neurocomputing 307 (2018), arXiv:1511.05432, eq. (4.2)
of ``theory.md`` section 4.1.
Duchi, Shalev-Shwartz, Singer, Chandra. Efficient Projections onto the l1-Ball for Learning in
High Dimensions. ICML 2008, Figure 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_norm, check_scalar
from ._common import _check_bound

__all__ = [
    "steepest_ascent", "steepest_ascent_kernel", "project_ball", "project_box", "lp_norms"]


# ----------------------------------------------------------------------------- row norms
def _l2_norms(A: np.ndarray) -> np.ndarray:
    """Row L2 norms ``(n,)`` without spurious underflow/overflow.

    The fast path is one ``einsum`` pass.  Rows whose norm is so small that squares of their
    entries may have underflowed (or so large that they overflowed) are recomputed after
    dividing by their max-abs entry; in practice that set is empty.
    """
    return _l2_norms_regular(A)[0]


_SMALL_NORM: dict = {}                                          # dtype -> sqrt(tiny) / eps


def _l2_norms_regular(A: np.ndarray) -> tuple[np.ndarray, bool]:
    """:func:`_l2_norms` and whether every norm took the fast path (finite, ``> 0``)."""
    norms = np.einsum("ij,ij->i", A, A)                          # (n,); einsum never warns
    np.sqrt(norms, out=norms)
    small = _SMALL_NORM.get(A.dtype)
    if small is None:
        fi = np.finfo(A.dtype)
        small = _SMALL_NORM[A.dtype] = np.sqrt(fi.tiny) / fi.eps
    # NaN fails both comparisons; min/max over n values beat four (n,) temporaries
    if (np.minimum.reduce(norms, initial=np.inf) >= small
            and np.maximum.reduce(norms, initial=0.0) < np.inf):
        return norms, True
    suspect = ~(norms >= small) | ~np.isfinite(norms)
    every = bool(suspect.all())                                  # e.g. a float32 probe gradient
    if every or suspect.any():
        sub = A if every else A[suspect]                         # (m, d), m usually 0
        scale = np.maximum.reduce(np.abs(sub), axis=1)           # (m,)
        safe = np.where(scale > 0, scale, 1).astype(A.dtype)
        sub = sub / safe[:, None]
        recomputed = scale * np.sqrt(np.einsum("ij,ij->i", sub, sub))
        if every:
            return recomputed, False
        norms[suspect] = recomputed
    return norms, False


def _lp_norms(A: np.ndarray, norm) -> np.ndarray:
    if norm == np.inf:
        return np.max(np.abs(A), axis=1)
    if norm == 2:
        return _l2_norms(A)
    return np.sum(np.abs(A), axis=1)


def lp_norms(A: Any, norm: Any) -> np.ndarray:
    """Row-wise ``||A_i||_p`` for ``p`` in ``{inf, 2, 1}``.

    Parameters
    ----------
    A : ndarray of shape (n, d), float32 or float64
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}

    Returns
    -------
    ndarray of shape (n,), dtype of ``A``
        The L2 norm is computed without underflow for tiny rows (max-abs rescaling).
    """
    A = check_array(A, "A", ndim=2)
    return _lp_norms(A, check_norm(norm))


# ----------------------------------------------------------------------------- steepest ascent
def _scaled_sign(g: np.ndarray, scale: float, out: np.ndarray | None = None) -> np.ndarray:
    """``scale * sign(g)`` in two fast passes: ``clip(g * big, -scale, scale)``.

    ``big = scale / tiny`` (``tiny`` the smallest normal of the dtype) maps every normal
    ``|g_i| >= tiny`` to at least ``scale`` before the clip; zeros stay (signed) zeros, and an
    overflow to ``±inf`` is clipped (harmless, its warning is silenced).  ``np.sign`` followed
    by a multiply is much slower (``np.sign`` is not SIMD-vectorised: ~25x a multiply for
    float32).  Subnormal corner: entries with ``0 < |g_i| < tiny`` get the shorter step
    ``|g_i| * big < scale`` instead of ``scale``.  If ``big`` would overflow (``scale``
    above ~4) the plain ``np.sign`` path is used.  ``out`` may be ``g`` (in place).
    """
    fi = np.finfo(g.dtype)
    big = scale / float(fi.tiny)
    if not big < float(fi.max):
        out = np.sign(g, out=out)
        out *= scale
        return out
    with np.errstate(over="ignore"):
        out = np.multiply(g, g.dtype.type(big), out=out)
    return np.clip(out, -scale, scale, out=out)


def steepest_ascent_kernel(g: np.ndarray, eps: float, norm,
                           out: np.ndarray | None = None) -> np.ndarray:
    """Kernel of :func:`steepest_ascent` (no validation).

    Returns a new ``(n, d)`` array, or writes into ``out`` (which may be ``g`` itself, when
    the gradient is not needed afterwards: one buffer less in a training step).
    """
    if norm == np.inf:
        return _scaled_sign(g, eps, out=out)                     # (n, d), sign(0) = 0
    if norm == 2:
        norms = _l2_norms(g)                                     # (n,)
        scale = np.zeros_like(norms)
        np.divide(eps, norms, out=scale, where=norms > 0)        # zero row -> zero delta
        return np.multiply(g, scale[:, None], out=out)
    rows = np.arange(g.shape[0])
    j = np.argmax(np.abs(g), axis=1)                             # first index of max |g_i|
    step = eps * np.sign(g[rows, j])                             # read before g may be zeroed
    delta = np.zeros_like(g) if out is None else out
    delta.fill(0)
    delta[rows, j] = step
    return delta


def steepest_ascent(g: Any, eps: float, norm: Any) -> np.ndarray:
    """Per-row maximiser of ``<g, delta>`` over ``||delta||_p <= eps``.

    Parameters
    ----------
    g : ndarray of shape (n, d), float32 or float64
        One gradient per row (finite).
    eps : float
        Radius, ``>= 0``.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}

    Returns
    -------
    delta : ndarray of shape (n, d), dtype of ``g``
        ``eps sign(g)`` (L_inf), ``eps g / ||g||_2`` (L2) or ``eps sign(g_j) e_j`` with ``j``
        the **first** index of ``max_i |g_i|`` (L1).  Rows with ``g = 0`` give ``delta = 0``.

    Raises
    ------
    ValueError
        ``eps`` negative or NaN, unknown ``norm``, non-finite ``g``.
    TypeError
        ``g`` not a float array.

    Notes
    -----
    Hoelder's inequality gives ``<g, delta> <= ||g||_q ||delta||_p`` with equality at these
    ``delta``, so ``<g, delta> = eps ||g||_q`` and ``||delta||_p = eps`` for ``g != 0``
    (Shaham et al. 2015, the steepest-ascent directions of their eq. for the Lp balls;
    ``theory.md`` (4.2)).

    Examples
    --------
    >>> import numpy as np
    >>> steepest_ascent(np.array([[3.0, -4.0], [0.0, 0.0]]), 1.0, "l2")
    array([[ 0.6, -0.8],
           [ 0. ,  0. ]])
    >>> steepest_ascent(np.array([[1.0, -2.0, 2.0]]), 0.5, 1)
    array([[ 0. , -0.5,  0. ]])
    """
    g = check_array(g, "g", ndim=2)
    eps = check_scalar(eps, "eps", low=0.0)
    return steepest_ascent_kernel(g, eps, check_norm(norm))


# ----------------------------------------------------------------------------- projections
def _project_l2_(delta: np.ndarray, eps: float) -> np.ndarray:
    """Scale rows with ``||delta|| > eps`` down to the sphere, in place."""
    norms = _l2_norms(delta)                                     # (n,)
    factor = np.ones_like(norms)
    np.divide(eps, norms, out=factor, where=norms > eps)         # only shrink, never grow
    delta *= factor[:, None]
    return delta


def _project_l1_(delta: np.ndarray, eps: float) -> np.ndarray:
    """Euclidean projection of each row onto the L1 ball (Duchi et al. 2008), in place.

    For a row ``v`` with ``||v||_1 > eps``: sort ``u = |v|`` decreasingly, ``c = cumsum(u)``,
    ``rho = max{j : u_j > (c_j - eps) / j}``, ``theta = (c_rho - eps) / rho``; the projection is
    ``sign(v) max(|v| - theta, 0)``.  Rows already inside the ball are untouched.
    """
    if eps == 0:
        delta[...] = 0
        return delta
    absd = np.abs(delta)                                         # (n, d)
    outside = np.sum(absd, axis=1) > eps                         # (n,)
    if not outside.any():
        return delta
    a = absd[outside]                                            # (m, d)
    u = -np.sort(-a, axis=1)                                     # decreasing
    css = np.cumsum(u, axis=1) - eps                             # (m, d)
    j = np.arange(1, a.shape[1] + 1, dtype=a.dtype)
    rho = np.count_nonzero(u * j > css, axis=1)                  # condition holds on a prefix
    theta = css[np.arange(a.shape[0]), rho - 1] / rho.astype(a.dtype)   # (m,)
    np.maximum(a - theta[:, None], 0, out=a)
    delta[outside] = np.copysign(a, delta[outside])
    return delta


def _project_ball_(delta: np.ndarray, eps: float, norm) -> np.ndarray:
    """Project each row of ``delta`` onto the eps-ball of ``norm``, in place."""
    if norm == np.inf:
        return np.clip(delta, -eps, eps, out=delta)
    if norm == 2:
        return _project_l2_(delta, eps)
    return _project_l1_(delta, eps)


def project_ball(delta: Any, eps: float, norm: Any) -> np.ndarray:
    """Euclidean projection of each row of ``delta`` onto ``{||r||_p <= eps}``.

    Parameters
    ----------
    delta : ndarray of shape (n, d), float32 or float64
    eps : float
        Radius, ``>= 0``.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}

    Returns
    -------
    ndarray of shape (n, d), a new array of ``delta``'s dtype
        L_inf: ``clip(delta, -eps, eps)``; L2: ``delta * min(1, eps / ||delta||_2)`` (rows
        inside the ball are returned unchanged); L1: the sort-based projection of Duchi et al.
        (2008, Fig. 1), ``O(d log d)`` per row, vectorised over rows.

    Examples
    --------
    >>> import numpy as np
    >>> project_ball(np.array([[3.0, 1.0]]), 2.0, 1)
    array([[2., 0.]])
    """
    delta = check_array(delta, "delta", ndim=2)
    eps = check_scalar(eps, "eps", low=0.0)
    return _project_ball_(delta.copy(), eps, check_norm(norm))


def project_box(X_adv: Any, clip_min: Any = None, clip_max: Any = None) -> np.ndarray:
    """Clip ``X_adv`` to the data box ``[clip_min, clip_max]`` (``None``: unbounded side).

    When the clean point lies in the box, clipping ``x + delta`` only moves each coordinate of
    ``delta`` towards zero, so a point of the eps-ball stays in it: clip-after-ball-projection
    is a feasible point of ``ball ∩ box`` (exactly its Euclidean projection for L_inf; the
    standard choice of Madry et al. 2018 for L2/L1, not the Euclidean projection there).

    Returns
    -------
    ndarray, a new array of ``X_adv``'s shape and dtype
    """
    X_adv = check_array(X_adv, "X_adv", ndim=2)
    if clip_min is None and clip_max is None:
        return X_adv.copy()
    lo, hi = _check_bound(clip_min, "clip_min", X_adv), _check_bound(clip_max, "clip_max", X_adv)
    if lo is not None and hi is not None and np.any(lo > hi):
        raise ValueError("clip_min: must be <= clip_max everywhere, got clip_min > clip_max.")
    return np.clip(X_adv, lo, hi).astype(X_adv.dtype, copy=False)
