"""The Lipschitz-margin certificate: margin minus radius times a Lipschitz constant.

If ``|m_j(x') - m_j(x)| <= K_j ||x' - x||_p`` then ``m_j(x') >= m_j(x) - K_j eps`` on the ball
(``docs/theory.md`` §17.7).  For ``m_j = c_jᵀ z`` and ``L`` layers, with ``Lip(φ)`` the
activation's Lipschitz constant (``sup |φ'|``)::

    K_j <= ||W_L c_j||_2 · Π_{l=2}^{L-1} ||W_l||_2 · Lip(φ)^{L-1} · ||W_1||_{p→2}       (17.7)

(spectral norms ``||W||_2 = σ_max(W)``; ``||W_1||_{2→2} = σ_max(W_1)``,
``||W_1||_{1→2} = max_i ||row_i(W_1)||_2``, ``||W_1||_{∞→2} <= √d σ_max(W_1)``).  With no hidden
layer the margin is linear and ``K_j = ||W c_j||_q`` exactly (Hölder, ``q`` the dual
exponent): for logistic regression the certificate is the exact robust margin without a box.
The product of norms is usually far from tight for deep networks — the lesson of the tutorial.

References
----------
Szegedy et al. (2014), "Intriguing properties of neural networks", ICLR, §4.3; Tsuzuku, Sato,
Sugiyama (2018), "Lipschitz-Margin Training", NeurIPS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .certificate import Certificate, check_certify_inputs, margin_specs, verdicts
from .input_set import InputSet, dual_norm
from .network import LIPSCHITZ, Network

__all__ = ["certify_lipschitz", "certify_lipschitz_kernel", "margin_lipschitz_constants"]


def margin_lipschitz_constants(net: Network, spec: np.ndarray, norm) -> np.ndarray:
    """``K`` of eq. (17.7) for every row of ``spec`` ``(n, m, C)``; returns ``(n, m)``."""
    last = np.einsum("nmc,kc->nmk", spec, net.weights[-1])      # W_L c_j, (n, m, n_{L-1})
    if net.n_layers == 1:
        return np.linalg.norm(last, ord=dual_norm(norm), axis=2)   # exact (Hölder)
    K = np.linalg.norm(last, axis=2) * LIPSCHITZ[net.activation] ** (net.n_layers - 1)
    for W in net.weights[1:-1]:
        K = K * np.linalg.norm(W, ord=2)                         # σ_max(W_l)
    W1 = net.weights[0]                                          # (d, n_1)
    first = {2: np.linalg.norm(W1, ord=2), 1: np.max(np.linalg.norm(W1, axis=1)),
             np.inf: np.sqrt(W1.shape[0]) * np.linalg.norm(W1, ord=2)}[norm]
    return K * first


def certify_lipschitz_kernel(net: Network, region: InputSet, y: np.ndarray) -> Certificate:
    """Kernel of :func:`certify_lipschitz` (everything validated)."""
    spec, classes = margin_specs(y, net.n_classes, region.X.dtype)
    clean = np.einsum("nmc,nc->nm", spec, net.logits(region.X))
    with np.errstate(over="ignore", invalid="ignore"):
        margins = clean - region.eps * margin_lipschitz_constants(net, spec, region.norm)
    status, reason, cex = verdicts(margins, clean, region.X)
    return Certificate("lipschitz", margins, classes, status, reason, cex, tuple(() for _ in y))


def certify_lipschitz(model: Any, params: Any, X: Any, y: Any = None, eps: Any = None,
                      *, norm: Any = np.inf) -> Certificate:
    """Certify each row of ``X`` by the Lipschitz margin (product of layer norms).

    Parameters
    ----------
    model, params, X, y, eps, norm
        As in :func:`minadv.certify.certify_interval` (no box: the certificate holds on the
        whole ball).

    Returns
    -------
    Certificate
        ``margins = m_j(x) - eps K_j`` with ``K_j`` of eq. (17.7); exact for logistic
        regression.

    Notes
    -----
    ``docs/theory.md`` §17.7.
    """
    inputs = check_certify_inputs(model, params, X, y, eps, norm=norm, clip_min=None, clip_max=None,
                                  allowed=tuple(LIPSCHITZ), method="the Lipschitz certificate")
    return certify_lipschitz_kernel(inputs.net, inputs.region, inputs.y)
