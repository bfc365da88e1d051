"""Steepest ascent in an Lp ball: the one-step direction of every gradient attack.

For a gradient ``g`` (one row per sample) the linearised attack problem
``max_{||delta||_p <= eps} <g, delta>`` has the closed-form maximisers (Hoelder; the value is
``eps ||g||_q`` with ``q`` the dual exponent, ``1/p + 1/q = 1``)::

    p = inf:  delta = eps sign(g)                        (every coordinate moves; FGSM)
    p = 2:    delta = eps g / ||g||_2
    p = 1:    delta = eps sign(g_j) e_j,  j = argmax_i |g_i|   (ties: the first index)

A zero gradient row gives a zero perturbation (``sign(0) = 0``; the L2 and L1 rules are
guarded), never NaN.  The L_inf step is exactly ``eps sign(g)`` for every nonzero float,
subnormals included, and the L2 direction is computed after scaling each row by its largest
absolute entry, so it is finite and of length ``eps`` (to rounding) for gradients of any scale
(:mod:`minadv.attacks.norms`).  The projections back onto the ball live in
:mod:`~minadv.attacks.norms`, the box in :mod:`~minadv.attacks.box`.

References
----------
Shaham, Yamada, Negahban. Understanding Adversarial Training: Increasing Local Stability of
Neural Nets through Robust Optimization. Neurocomputing 307 (2018), arXiv:1511.05432, eq. (4.2)
of ``docs/theory.md`` §4.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_norm, check_scalar
from .norms import sign_step_kernel, unit_rows_kernel

__all__ = ["steepest_ascent", "steepest_ascent_kernel"]


def steepest_ascent_kernel(g: np.ndarray, eps: float, norm,
                           out: np.ndarray | None = None) -> np.ndarray:
    """Kernel of :func:`steepest_ascent` (no validation).

    Returns a new ``(n, d)`` array, or writes into ``out`` (which may be ``g`` itself, when
    the gradient is not needed afterwards: one buffer less in a training step).
    """
    if norm == np.inf:
        return sign_step_kernel(g, eps, out=out)                 # (n, d), sign(0) = 0
    if norm == 2:
        return unit_rows_kernel(g, out=out, length=eps)          # zero row -> zero delta
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
    ``docs/theory.md`` eq. (4.2)).

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
