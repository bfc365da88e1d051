"""Sharpness-Aware Minimization (Foret, Kleiner, Mobahi, Neyshabur 2021).

SAM minimises :math:`\\max_{\\|\\epsilon\\|_2 \\le \\rho} L(w + \\epsilon)`.  A first-order
Taylor expansion gives the worst perturbation
:math:`\\hat\\epsilon(w) = \\rho\\, \\nabla L(w) / \\|\\nabla L(w)\\|_2` (eq. 2 with p = q = 2),
and SAM descends along :math:`\\nabla L(w)|_{w + \\hat\\epsilon(w)}` (eq. 3, dropping the
second-order term), computed on the same minibatch as :math:`\\nabla L(w)`.  The two gradient
evaluations make one SAM step cost two SGD steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_scalar
from ..params import Params, tree_norm
from .base import Optimizer, call_grad_fn, check_grads, like_dtype

__all__ = ["SAMState", "sam", "sam_perturbation"]


class SAMState(NamedTuple):
    """State of :func:`sam`: step ``count`` and the base optimizer's state."""

    count: int
    base: Any


def sam_perturbation(grads: Mapping[str, np.ndarray], rho: float) -> Params:
    r"""The SAM ascent step :math:`\hat\epsilon = \rho\, g / \|g\|_2`.

    The norm is the global Euclidean norm over all parameter arrays together (as in the
    reference implementation); a zero gradient gives a zero perturbation.  The result keeps
    each array's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> eps = sam_perturbation({"w": np.array([3.0]), "b": np.array(4.0)}, rho=10.0)
    >>> float(eps["w"][0]), float(eps["b"])  # ||g|| = 5
    (6.0, 8.0)
    """
    norm = tree_norm(grads)
    scale = float(rho) / norm if norm > 0.0 else 0.0
    return {k: like_dtype(scale * g, g) for k, g in grads.items()}


def sam(base: Optimizer, rho: float = 0.05) -> Optimizer:
    r"""Wrap ``base`` with SAM's ascent step.

    Parameters
    ----------
    base : Optimizer
        Applied to the SAM gradient, e.g. ``sgd(0.1, momentum=0.9)`` (the paper's choice).
    rho : float >= 0, default 0.05
        Neighbourhood radius :math:`\rho` (the paper's default for CIFAR; ``rho = 0`` gives
        ``base`` on the gradient re-evaluated at ``params``).

    Returns
    -------
    Optimizer
        ``update(grads, state, params, *, grad_fn)``: ``grads`` is the minibatch gradient at
        ``params``; ``grad_fn(params) -> grads`` must evaluate the gradient on the SAME
        minibatch (a closure over the current batch). It is called once, at
        ``params + eps_hat``.

    Notes
    -----
    .. math::
        \hat\epsilon = \rho\,\frac{g}{\|g\|_2},\qquad
        g_{\text{SAM}} = \nabla L_B(w)\big|_{w+\hat\epsilon},\qquad
        (\Delta w, s') = \text{base.update}(g_{\text{SAM}}, s, w).

    References
    ----------
    Foret, Kleiner, Mobahi, Neyshabur (2021), "Sharpness-Aware Minimization for Efficiently
    Improving Generalization", ICLR, eq. (2)-(3) and Algorithm 1.
    """
    if not (isinstance(base, tuple) and callable(getattr(base, "init", None))
            and callable(getattr(base, "update", None))):
        raise TypeError(f"base: expected an Optimizer (init, update), got {type(base).__name__}.")
    rho = check_scalar(rho, "rho", low=0.0)

    def init(params: Mapping[str, np.ndarray]) -> SAMState:
        return SAMState(count=0, base=base.init(params))

    def update(grads, state: SAMState, params, *, grad_fn=None):
        check_grads(grads, params)
        eps_hat = sam_perturbation({k: grads[k] for k in params}, rho)
        perturbed = {k: like_dtype(p + eps_hat[k], p) for k, p in params.items()}  # w + eps_hat
        g_sam = call_grad_fn(grad_fn, perturbed, "sam", "the gradient on the SAME minibatch")
        updates, base_state = base.update({k: g_sam[k] for k in params}, state.base, params)
        return updates, SAMState(count=state.count + 1, base=base_state)

    return Optimizer(init, update, "same")
