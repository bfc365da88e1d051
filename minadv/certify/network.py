"""The piecewise-linear view of a model that every certifier reads: a stack of affine layers.

An :class:`~minadv.models.MLP` with ``L`` layers is, in the row-vector convention of
``minadv/models/mlp.py``::

    a_1 = x W_1 + b_1,   h_l = φ(a_l),   a_{l+1} = h_l W_{l+1} + b_{l+1},   z = a_L

A binary :class:`~minadv.models.LogisticRegressionModel` with score ``f = wᵀx + b`` is written
as the one-layer network with two logits ``z = (0, f)``, i.e. ``W = [0 | w]`` (``d × 2``) and
``b = (0, b)``: then ``z_1 - z_0 = f`` and ``argmax z`` is the model's prediction
(``f > 0`` ↔ class 1; a tie ``f = 0`` is class 0 in both).  Every certifier therefore treats
softmax regression, logistic regression and MLPs alike, and a network without hidden layers
gets the closed forms (a linear function over the input set, :mod:`minadv.certify.input_set`).

Which activations a method accepts: interval propagation needs φ monotone (all of minadv's
activations are); the linear relaxation, the LP and the MILP need φ piecewise linear
(``relu``, ``identity``); the Lipschitz certificate needs a Lipschitz constant of φ.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..layers import ACTIVATIONS, affine_forward
from ..models import MLP, LogisticRegressionModel

__all__ = ["Network", "as_network", "as_network_kernel", "check_activation",
           "PIECEWISE_LINEAR", "MONOTONE", "LIPSCHITZ"]

#: activations whose graph is a union of linear pieces (LP, MILP, linear relaxation)
PIECEWISE_LINEAR = ("relu", "identity")
#: non-decreasing activations (interval propagation: φ([l, u]) = [φ(l), φ(u)])
MONOTONE = ("relu", "identity", "tanh", "sigmoid", "softplus")
#: Lipschitz constant of each activation (sup |φ'|)
LIPSCHITZ = {"relu": 1.0, "identity": 1.0, "tanh": 1.0, "sigmoid": 0.25, "softplus": 1.0}


class Network(NamedTuple):
    """A model as affine layers ``a_l = h_{l-1} W_l + b_l`` with one hidden activation.

    Attributes
    ----------
    weights : tuple of ndarray ``(n_{l-1}, n_l)``
    biases : tuple of ndarray ``(n_l,)``
    activation : str
        Name in :data:`minadv.layers.ACTIVATIONS` (unused when there is one layer).
    """

    weights: tuple
    biases: tuple
    activation: str

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def n_classes(self) -> int:
        return self.weights[-1].shape[1]

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Forward pass ``z`` of ``X`` ``(n, d)`` -> ``(n, C)`` (the re-check of counterexamples).

        An overflow gives inf/NaN logits silently: the verdict rules turn the NaN margins they
        produce into "unknown" (``minadv.certify.certificate``).
        """
        phi = ACTIVATIONS[self.activation].phi
        h = X
        with np.errstate(over="ignore", invalid="ignore"):
            for l, (W, b) in enumerate(zip(self.weights, self.biases), 1):
                a, _ = affine_forward(h, W, b)                   # (n, n_l), layers.py's pair
                h = phi(a) if l < self.n_layers else a
        return h


def as_network_kernel(model, params: dict) -> Network:
    """Kernel of :func:`as_network` (``model`` an MLP or logistic regression, params valid)."""
    if isinstance(model, LogisticRegressionModel):
        w, b = params["w"], params["b"]
        W = np.stack([np.zeros_like(w), w], axis=1)              # (d, 2): z = (0, wᵀx + b)
        return Network((W,), (np.stack([np.zeros_like(b), b]),), "identity")
    weights = tuple(params[wk] for wk, _ in model.layer_keys)
    biases = tuple(params[bk] for _, bk in model.layer_keys)
    return Network(weights, biases, model.activation)


def as_network(model: Any, params: Any) -> Network:
    """The affine-layer view of ``model`` at ``params`` (module docstring).

    Parameters
    ----------
    model : MLP or LogisticRegressionModel
    params : dict
        The model's parameters (validated: names, shapes, dtype, finite).

    Returns
    -------
    Network

    Raises
    ------
    TypeError
        ``model`` is neither an :class:`~minadv.models.MLP` nor a
        :class:`~minadv.models.LogisticRegressionModel`; bad ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> net = as_network(LogisticRegressionModel(2), {"w": np.array([1.0, -1.0]),
    ...                                               "b": np.array(0.5)})
    >>> net.logits(np.array([[1.0, 0.0]]))
    array([[0. , 1.5]])
    """
    if not isinstance(model, (MLP, LogisticRegressionModel)):
        raise TypeError("model: expected a minadv MLP or LogisticRegressionModel (the "
                        f"certifiers read their affine layers), got {type(model).__name__}.")
    return as_network_kernel(model, model.check_params(params))


def check_activation(net: Network, allowed: tuple, method: str) -> None:
    """Raise ``ValueError`` naming ``activation`` unless ``method`` supports the network's φ."""
    if net.n_layers > 1 and net.activation not in allowed:
        raise ValueError(f"activation: {method} supports hidden activations {list(allowed)}, "
                         f"got {net.activation!r}.")
