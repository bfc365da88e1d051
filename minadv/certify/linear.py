"""Linear relaxation bounds by back-substitution (CROWN / DeepPoly).

Each hidden unit ``h = relu(a)`` with pre-activation bounds ``l <= a <= u`` is sandwiched
between two lines (``docs/theory.md`` §17.3)::

    u <= 0:      h = 0                          (stable, inactive)
    l >= 0:      h = a                          (stable, active)
    l < 0 < u:   α a  <=  h  <=  s (a - l),     s = u / (u - l),   α = 1[u >= -l]     (17.2)

(``identity``: ``h = a``).  A lower bound of ``Λ h + c`` (rows ``λ``) follows by using the lower
line where ``λ_k > 0`` and the upper line where ``λ_k < 0``::

    Λ h + c  >=  (Λ⁺ ⊙ α + Λ⁻ ⊙ s) a + c + Λ⁻ t,       t = -s l                    (17.3)

and the affine layer ``a_l = h_{l-1} W_l + b_l`` substitutes exactly
(``Λ a_l + c = (Λ W_lᵀ) h_{l-1} + c + Λ b_l``).  Going back layer by layer down to the input
leaves a linear function of ``x'`` whose minimum over the input set is exact
(:func:`minadv.certify.input_set.linear_minimum`).  Upper bounds are lower bounds of ``-Λ``.

Pre-activation bounds are computed layer by layer (each layer's bounds need those below it);
at each layer the result is intersected with the interval bounds of that layer (two sound
boxes: their intersection is sound), and the final margin bound is the larger of the
back-substituted and the interval bound (``docs/theory.md`` §17.3: with ``α = 1`` the lower line
``h >= a`` can dip below 0, where the interval bound uses ``h >= 0``, so neither bound dominates
the other unit by unit).  ``α`` is the area-minimising choice of DeepPoly/CROWN; any ``α`` in
``[0, 1]`` is sound.

References
----------
Zhang, Weng, Chen, Hsieh, Daniel (2018), "Efficient Neural Network Robustness Certification with
General Activation Functions" (CROWN), NeurIPS, Theorem 3.2.
Singh, Gehr, Püschel, Vechev (2019), "An Abstract Domain for Certifying Neural Networks"
(DeepPoly), POPL, §4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import ACTIVATIONS
from .certificate import Certificate, check_bounds, check_certify_inputs, margin_specs, verdicts
from .input_set import InputSet, linear_minimum
from .interval import first_layer_bounds, interval_affine, interval_margins_kernel
from .network import PIECEWISE_LINEAR, Network

__all__ = ["relu_relaxation", "backsubstitute", "linear_bounds", "linear_bounds_kernel",
           "certify_linear", "certify_linear_kernel"]


def relu_relaxation(activation: str, lower: np.ndarray, upper: np.ndarray):
    """Eq. (17.2): ``(α, s, t)`` with ``α a <= h <= s a + t`` for every unit (``(n, k)`` each)."""
    if activation == "identity":
        one = np.ones_like(lower)
        return one, one, np.zeros_like(lower)
    active, inactive = lower >= 0, upper <= 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # non-finite -> NaN
        s = np.where(active, 1.0, np.where(inactive, 0.0, upper / (upper - lower)))
        t = np.where(active | inactive, 0.0, -s * lower)
    alpha = np.where(active, 1.0, np.where(inactive, 0.0, (upper >= -lower).astype(lower.dtype)))
    return alpha.astype(lower.dtype), s.astype(lower.dtype), t.astype(lower.dtype)


def backsubstitute(net: Network, region: InputSet, bounds: list, Lam: np.ndarray,
                   const: np.ndarray, *, layer: int) -> np.ndarray:
    """Lower bound ``(n, m)`` of ``Λ a_layer + const`` over the input set (eq. (17.3)).

    ``Lam`` is ``(n, m, n_layer)`` (rows act on the pre-activations of ``layer``, 1-based);
    ``bounds[l - 1]`` are the pre-activation bounds of hidden layer ``l < layer``.
    """
    with np.errstate(invalid="ignore", over="ignore"):           # non-finite -> "unknown"
        for l in range(layer, 1, -1):
            W, b = net.weights[l - 1], net.biases[l - 1]
            const = const + Lam @ b                              # Λ b_l, (n, m)
            Lam = Lam @ W.T                                      # on h_{l-1}, (n, m, n_{l-1})
            alpha, s, t = relu_relaxation(net.activation, *bounds[l - 2])
            pos, neg = np.maximum(Lam, 0), np.minimum(Lam, 0)
            const = const + np.einsum("nmk,nk->nm", neg, t)      # Λ⁻ t
            Lam = pos * alpha[:, None, :] + neg * s[:, None, :]  # on a_{l-1}
        const = const + Lam @ net.biases[0]
        Lam = Lam @ net.weights[0].T                             # on the input, (n, m, d)
        return linear_minimum(region, Lam) + const


def linear_bounds_kernel(net: Network, region: InputSet) -> list:
    """Kernel of :func:`linear_bounds`: ``[(l_1, u_1), …, (l_L, u_L)]``."""
    phi = ACTIVATIONS[net.activation].phi
    with np.errstate(over="ignore", invalid="ignore"):           # inf/NaN -> "unknown"
        bounds = [first_layer_bounds(region, net.weights[0], net.biases[0])]   # exact
    n = region.X.shape[0]
    for layer in range(2, net.n_layers + 1):
        k = net.weights[layer - 1].shape[1]
        eye = np.broadcast_to(np.eye(k, dtype=region.X.dtype), (n, k, k))
        Lam = np.concatenate([eye, -eye], axis=1)                # rows e_k and -e_k, (n, 2k, k)
        low = backsubstitute(net, region, bounds, Lam, np.zeros((n, 2 * k), region.X.dtype),
                             layer=layer)
        with np.errstate(over="ignore", invalid="ignore"):
            ibp_lo, ibp_up = interval_affine(phi(bounds[-1][0]), phi(bounds[-1][1]),
                                             net.weights[layer - 1], net.biases[layer - 1])
        bounds.append((np.fmax(low[:, :k], ibp_lo), np.fmin(-low[:, k:], ibp_up)))
    return bounds


def linear_bounds(model: Any, params: Any, X: Any, eps: Any, norm: Any = np.inf, *,
                  clip_min: Any = None, clip_max: Any = None) -> list:
    """Pre-activation bounds of every layer by back-substitution, intersected with IBP.

    Arguments and return value as in :func:`minadv.certify.interval_bounds`; only
    piecewise-linear activations (``relu``, ``identity``).  Each box is contained in the
    interval box of the same layer.

    Raises
    ------
    TypeError, ValueError
        As :func:`~minadv.certify.interval_bounds`, and ``activation`` not piecewise linear.

    Notes
    -----
    ``docs/theory.md`` §17.3, eqs. (17.2)-(17.3).  Cost: layer ``l`` back-substitutes
    ``2 n_l`` rows through ``l - 1`` layers.
    """
    inputs = check_certify_inputs(model, params, X, None, eps, norm=norm, clip_min=clip_min,
                                  clip_max=clip_max,
                                  allowed=PIECEWISE_LINEAR, method="the linear relaxation")
    return linear_bounds_kernel(inputs.net, inputs.region)


def certify_linear_kernel(net: Network, region: InputSet, y: np.ndarray,
                          bounds: list | None = None) -> Certificate:
    """Kernel of :func:`certify_linear` (everything validated)."""
    if bounds is None:
        bounds = linear_bounds_kernel(net, region)
    spec, classes = margin_specs(y, net.n_classes, region.X.dtype)
    W, b = net.weights[-1], net.biases[-1]
    Lam = spec @ W.T                                             # folded into the last layer
    if net.n_layers == 1:
        margins = linear_minimum(region, Lam) + spec @ b
    else:
        relaxed = backsubstitute(net, region, bounds, spec, np.zeros(spec.shape[:2], spec.dtype),
                                 layer=net.n_layers)
        boxed = interval_margins_kernel(net, region, bounds, spec)
        with np.errstate(invalid="ignore"):
            margins = np.where(np.isnan(relaxed) | np.isnan(boxed), np.nan,
                               np.maximum(relaxed, boxed))       # NaN never hides
    clean = np.einsum("nmc,nc->nm", spec, net.logits(region.X))
    status, reason, cex = verdicts(margins, clean, region.X)
    return Certificate("linear", margins, classes, status, reason, cex, tuple(() for _ in y))


def certify_linear(model: Any, params: Any, X: Any, y: Any = None, eps: Any = None,
                   *, norm: Any = np.inf, clip_min: Any = None, clip_max: Any = None,
                   bounds: Any = None) -> Certificate:
    """Certify each row of ``X`` by the linear relaxation (CROWN/DeepPoly back-substitution).

    Parameters
    ----------
    model, params, X, y, eps, norm, clip_min, clip_max
        As in :func:`minadv.certify.certify_interval`.
    bounds : list of (lower, upper) or None
        Hidden pre-activation bounds (``None``: :func:`linear_bounds`).

    Returns
    -------
    Certificate
        Margin lower bounds: the larger of the back-substituted and the interval bound, both
        computed from the same hidden bounds (module docstring).

    Notes
    -----
    ``docs/theory.md`` §17.3.  Exact on a network without hidden layers.
    """
    inputs = check_certify_inputs(model, params, X, y, eps, norm=norm, clip_min=clip_min, clip_max=clip_max,
                                  allowed=PIECEWISE_LINEAR, method="the linear relaxation")
    if bounds is not None:
        bounds = check_bounds(bounds, inputs.net, inputs.region.X.shape[0])
    return certify_linear_kernel(inputs.net, inputs.region, inputs.y, bounds)
