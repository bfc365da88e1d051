"""Interval bound propagation (IBP): a box around every layer's pre-activations.

Given ``l_{l-1} <= h_{l-1} <= u_{l-1}`` elementwise, the affine layer ``a = h W + b`` maps the
box with centre ``μ = (u + l)/2`` and radius ``r = (u - l)/2`` to (``docs/theory.md`` §17.2)::

    μ_a = μ W + b,      r_a = r |W|,      a ∈ [μ_a - r_a, μ_a + r_a]          (17.1)

exactly the smallest box containing the image (each output is a linear function of a box,
minimised at a vertex), and a non-decreasing activation maps ``[l, u]`` to ``[φ(l), φ(u)]``.
The first layer is bounded exactly over the input set (:func:`minadv.certify.input_set.
linear_minimum`, which also covers the L2 and L1 balls); for the margin ``c_jᵀ z`` the spec is
folded into the last layer first (``W_L c_j``), which is tighter than two logit intervals.

IBP is sound (every point of the input set has its pre-activations inside the boxes) and cheap
(two matrix products per layer) but loose: the box forgets every correlation between units, so
its width grows roughly like ``Π ||W_l||_∞`` with depth.  On a network without hidden layers it
is exact.

References
----------
Gowal, Dvijotham, Stanforth, et al. (2018), "On the Effectiveness of Interval Bound Propagation
for Training Verifiably Robust Models", arXiv:1810.12715, §3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import ACTIVATIONS
from .certificate import (
    Certificate,
    check_bounds,
    check_certify_inputs,
    margin_specs,
    verdicts,
)
from .input_set import InputSet, input_set, linear_minimum
from .network import MONOTONE, Network, as_network, check_activation

__all__ = ["interval_bounds", "interval_bounds_kernel", "interval_affine",
           "interval_margins_kernel", "certify_interval", "certify_interval_kernel",
           "interval_affine_forward", "interval_affine_backward",
           "interval_activation_forward", "interval_activation_backward",
           "interval_margins_forward", "interval_margins_backward"]


def interval_affine(lower: np.ndarray, upper: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Eq. (17.1): the box of ``h W + b`` for ``h`` in ``[lower, upper]`` (``(n, d_in)`` each)."""
    mid = (upper + lower) / 2                                    # μ, (n, d_in)
    rad = (upper - lower) / 2                                    # r >= 0
    centre = mid @ W + b                                         # μ W + b, (n, d_out)
    radius = rad @ np.abs(W)                                     # r |W|
    return centre - radius, centre + radius


def first_layer_bounds(region: InputSet, W: np.ndarray, b: np.ndarray):
    """Exact bounds of ``a_1 = x' W + b`` over the input set (closed forms of ``input_set``)."""
    if region.norm == np.inf:                                    # S(x) is the box [ℓ, υ]
        return interval_affine(region.lower, region.upper, W, b)
    Lam = np.broadcast_to(W.T, (region.X.shape[0],) + W.T.shape)     # (n, n_1, d)
    low = linear_minimum(region, Lam) + b
    high = -linear_minimum(region, -Lam) + b
    return low, high


def interval_bounds_kernel(net: Network, region: InputSet) -> list:
    """Kernel of :func:`interval_bounds`: ``[(l_1, u_1), …, (l_L, u_L)]``, each ``(n, n_l)``."""
    phi = ACTIVATIONS[net.activation].phi
    with np.errstate(over="ignore", invalid="ignore"):           # inf/NaN -> "unknown"
        bounds = [first_layer_bounds(region, net.weights[0], net.biases[0])]
        for W, b in zip(net.weights[1:], net.biases[1:]):
            lower, upper = bounds[-1]
            bounds.append(interval_affine(phi(lower), phi(upper), W, b))   # φ monotone
    return bounds


def interval_bounds(model: Any, params: Any, X: Any, eps: Any, norm: Any = np.inf, *,
                    clip_min: Any = None, clip_max: Any = None) -> list:
    """Interval bounds on every layer's pre-activations over the ball ∩ box around each row.

    Parameters
    ----------
    model : MLP or LogisticRegressionModel
    params : dict
    X : ndarray (n, d), the model's dtype
        Centres (inside the box when one is given).
    eps : float >= 0
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
        L2 and L1 balls are bounded exactly at the first layer (closed forms, water-filling in
        a box) and by intervals after it.
    clip_min, clip_max : None, float or array broadcastable to (n, d)

    Returns
    -------
    list of (lower, upper)
        One pair of ``(n, n_l)`` arrays per layer ``l = 1 … L``; the last pair bounds the
        logits (for logistic regression: ``z = (0, wᵀx + b)``, ``minadv.certify.network``).

    Raises
    ------
    TypeError, ValueError
        Not an MLP/logistic regression, bad ``params`` or ``X``, ``eps < 0``, unknown ``norm``,
        an empty box (``clip_min > clip_max``), ``X`` outside the box.

    Notes
    -----
    Eq. (17.1) of ``docs/theory.md`` §17.2 per layer.  Every activation of minadv is
    non-decreasing, so all are supported.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import MLP
    >>> net = MLP([1, 2, 2])
    >>> p = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2),
    ...      "W2": np.eye(2), "b2": np.zeros(2)}
    >>> [(lo.tolist(), up.tolist()) for lo, up in interval_bounds(net, p, np.zeros((1, 1)), 1.0)]
    [([[-1.0, -1.0]], [[1.0, 1.0]]), ([[0.0, 0.0]], [[1.0, 1.0]])]
    """
    net = as_network(model, params)
    check_activation(net, MONOTONE, "interval propagation")
    region = input_set(model.check_X(X), eps, norm, clip_min=clip_min, clip_max=clip_max)
    return interval_bounds_kernel(net, region)


def interval_margins_kernel(net: Network, region: InputSet, bounds: list,
                            spec: np.ndarray) -> np.ndarray:
    """Lower bounds ``(n, m)`` of ``spec · z`` (``spec`` ``(n, m, C)``) from the hidden boxes.

    The spec is folded into the last layer: ``spec z = (spec W_Lᵀ) h_{L-1} + spec b_L``, then
    each row is minimised over ``h_{L-1} ∈ [φ(l_{L-1}), φ(u_{L-1})]`` (over the input set,
    exactly, when there is no hidden layer).
    """
    W, b = net.weights[-1], net.biases[-1]
    Lam = spec @ W.T                                             # (n, m, n_{L-1})
    const = spec @ b                                             # (n, m)
    if net.n_layers == 1:
        return linear_minimum(region, Lam) + const
    phi = ACTIVATIONS[net.activation].phi
    lower, upper = (phi(v) for v in bounds[net.n_layers - 2])    # box of h_{L-1}
    pos, neg = np.maximum(Lam, 0), np.minimum(Lam, 0)
    with np.errstate(invalid="ignore", over="ignore"):           # inf bounds -> "unknown"
        return (np.einsum("nmk,nk->nm", pos, lower) + np.einsum("nmk,nk->nm", neg, upper)
                + const)


def certify_interval_kernel(net: Network, region: InputSet, y: np.ndarray,
                            bounds: list | None = None) -> Certificate:
    """Kernel of :func:`certify_interval` (everything validated)."""
    if bounds is None:
        bounds = interval_bounds_kernel(net, region)
    spec, classes = margin_specs(y, net.n_classes, region.X.dtype)
    margins = interval_margins_kernel(net, region, bounds, spec)
    clean = np.einsum("nmc,nc->nm", spec, net.logits(region.X))
    status, reason, cex = verdicts(margins, clean, region.X)
    return Certificate("interval", margins, classes, status, reason, cex,
                       tuple(() for _ in y))


def certify_interval(model: Any, params: Any, X: Any, y: Any = None, eps: Any = None,
                     *, norm: Any = np.inf, clip_min: Any = None, clip_max: Any = None,
                     bounds: Any = None) -> Certificate:
    """Certify each row of ``X`` by interval bound propagation (IBP).

    Parameters
    ----------
    model, params, X, eps, norm, clip_min, clip_max
        As in :func:`interval_bounds`.
    y : ndarray (n,) or None
        Labels to certify; ``None`` certifies the model's own predictions.
    bounds : list of (lower, upper) or None
        Hidden pre-activation bounds to use (e.g. those of
        :func:`minadv.certify.linear_bounds`, so that several methods share them); ``None``
        computes the interval bounds.  Non-finite entries make the verdict "unknown".

    Returns
    -------
    Certificate
        ``margins[i, k]`` is a lower bound on ``min z_{y_i} - z_{classes[i, k]}`` over the ball
        ∩ box; "verified" iff every bound is finite and positive.

    Notes
    -----
    ``docs/theory.md`` §17.2; exact on a network without hidden layers.
    """
    inputs = check_certify_inputs(model, params, X, y, eps, norm=norm, clip_min=clip_min, clip_max=clip_max,
                                  allowed=MONOTONE, method="interval propagation")
    if bounds is not None:
        bounds = check_bounds(bounds, inputs.net, inputs.region.X.shape[0])
    return certify_interval_kernel(inputs.net, inputs.region, inputs.y, bounds)


# ----------------------------------------------------------------------------- gradients
# The pairs below differentiate eq. (17.1) for certified training (``docs/theory.md`` §17.8):
# forward ``-> (out, cache)``, backward ``(d out, cache) -> d inputs``, as in ``minadv.layers``.

def interval_affine_forward(lower: np.ndarray, upper: np.ndarray, W: np.ndarray,
                            b: np.ndarray):
    """Eq. (17.1) with its cache ``(μ, r, W)``: returns ``((lower_a, upper_a), cache)``."""
    mid, rad = (upper + lower) / 2, (upper - lower) / 2         # μ, r: (n, d_in)
    centre, radius = mid @ W + b, rad @ np.abs(W)                # μ W + b, r |W|: (n, d_out)
    return (centre - radius, centre + radius), (mid, rad, W)


def interval_affine_backward(dlower: np.ndarray, dupper: np.ndarray, cache):
    """Backward of :func:`interval_affine_forward`: ``(dlower_in, dupper_in, dW, db)``.

    With ``l_a = μ_a - r_a``, ``u_a = μ_a + r_a``: ``∂μ_a = ∂l_a + ∂u_a``,
    ``∂r_a = ∂u_a - ∂l_a``; then ``∂μ = ∂μ_a Wᵀ``, ``∂r = ∂r_a |W|ᵀ``,
    ``∂W = μᵀ ∂μ_a + sign(W) ⊙ (rᵀ ∂r_a)``, ``∂b = Σ_rows ∂μ_a``, and back to the ends
    ``∂l = (∂μ - ∂r)/2``, ``∂u = (∂μ + ∂r)/2``.
    """
    mid, rad, W = cache
    dmid_a, drad_a = dlower + dupper, dupper - dlower            # (n, d_out)
    dW = mid.T @ dmid_a + np.sign(W) * (rad.T @ drad_a)          # (d_in, d_out)
    db = dmid_a.sum(axis=0)
    dmid, drad = dmid_a @ W.T, drad_a @ np.abs(W).T              # (n, d_in)
    return (dmid - drad) / 2, (dmid + drad) / 2, dW, db


def interval_activation_forward(lower: np.ndarray, upper: np.ndarray, activation: str):
    """``[φ(l), φ(u)]`` for a non-decreasing φ; the cache is ``(l, u)``."""
    phi = ACTIVATIONS[activation].phi
    return (phi(lower), phi(upper)), (lower, upper)


def interval_activation_backward(dlower: np.ndarray, dupper: np.ndarray, cache,
                                 activation: str):
    """``(φ'(l) ⊙ ∂l_h, φ'(u) ⊙ ∂u_h)``: each end moves with its own pre-image."""
    lower, upper = cache
    d1 = ACTIVATIONS[activation].d1
    return d1(lower) * dlower, d1(upper) * dupper


def interval_margins_forward(net: Network, lower0: np.ndarray, upper0: np.ndarray,
                             spec: np.ndarray):
    """IBP lower bounds of ``spec · z`` ``(n, m)`` over the box ``[lower0, upper0]`` (the L∞
    ball ∩ box), with the cache :func:`interval_margins_backward` needs.

    The same numbers as :func:`interval_margins_kernel`, written as a loop of forward pairs;
    the spec is folded into the last layer (``Λ = spec W_Lᵀ``): ``m = Λ μ - |Λ| r + spec b_L``.
    """
    lower, upper, caches = lower0, upper0, []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        (lower, upper), c_aff = interval_affine_forward(lower, upper, W, b)
        (lower, upper), c_act = interval_activation_forward(lower, upper, net.activation)
        caches.append((c_aff, c_act))
    mid, rad = (upper + lower) / 2, (upper - lower) / 2          # box of h_{L-1}: (n, k)
    Lam = spec @ net.weights[-1].T                               # (n, m, k)
    margins = (np.einsum("nmk,nk->nm", Lam, mid) - np.einsum("nmk,nk->nm", np.abs(Lam), rad)
               + spec @ net.biases[-1])
    return margins, (caches, mid, rad, Lam, spec)


def interval_margins_backward(dmargins: np.ndarray, cache, net: Network):
    """Backward of :func:`interval_margins_forward`: ``(dWs, dbs)``, one array per layer.

    Last layer (``g = ∂m``): ``∂μ = Σ_m g Λ``, ``∂r = -Σ_m g |Λ|``,
    ``∂Λ = g ⊗ μ - g ⊗ (sign(Λ) ⊙ r)``, ``∂W_L = Σ_{n,m} ∂Λᵀ spec``, ``∂b_L = Σ_{n,m} g spec``;
    then the pairs above, layer by layer, down to the (parameter-free) input box.
    """
    caches, mid, rad, Lam, spec = cache
    g = dmargins                                                 # (n, m)
    dmid = np.einsum("nm,nmk->nk", g, Lam)
    drad = -np.einsum("nm,nmk->nk", g, np.abs(Lam))
    dLam = g[:, :, None] * (mid[:, None, :] - np.sign(Lam) * rad[:, None, :])   # (n, m, k)
    dWs = [np.einsum("nmk,nmc->kc", dLam, spec)]                 # (k, C)
    dbs = [np.einsum("nm,nmc->c", g, spec)]
    dlower, dupper = (dmid - drad) / 2, (dmid + drad) / 2
    for c_aff, c_act in reversed(caches):
        dlower, dupper = interval_activation_backward(dlower, dupper, c_act, net.activation)
        dlower, dupper, dW, db = interval_affine_backward(dlower, dupper, c_aff)
        dWs.insert(0, dW)
        dbs.insert(0, db)
    return dWs, dbs
