"""Dropout: a layer with its explicit backward, and the training objective that uses it.

Inverted dropout (Srivastava et al. 2014, eq. (1)-(4), with the train-time rescaling that
makes evaluation the identity)::

    forward (train):   m_ij = b_ij / (1 - rate),   b_ij ~ Bernoulli(1 - rate)   # keep-mask
                       out  = x ⊙ m                                              # (n, k)
    backward:          dx   = dout ⊙ m
    evaluation:        out  = x          (rate = 0 or train = False: nothing is drawn)

``E[m_ij] = 1``, so ``E[out] = x``: the network seen at evaluation is the mean network, with no
rescaling at test time.  The cache holds exactly the scaled mask ``m``.

:class:`DropoutObjective` trains an :class:`~minadv.models.MLP` with dropout on the output of
every hidden layer (``h̃_l = h_l ⊙ m_l``), written as a short loop over the layers::

    a_l = h̃_{l-1} W_l + b_l,    h_l = phi(a_l),    h̃_l = h_l ⊙ m_l     (h̃_0 = X)
    δ_L = ∂L/∂z,   ∂L/∂W_l = h̃_{l-1}ᵀ δ_l,   ∂L/∂b_l = Σ_rows δ_l,
    δ_{l-1} = phi'(a_{l-1}) ⊙ (m_{l-1} ⊙ δ_l W_lᵀ)

It is one of the six methods of the VAT paper's comparison (Miyato et al. 2016, Table 2, and
``docs/theory.md`` §6.3 for the synthetic-set rates).

References
----------
Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov (2014), "Dropout: A Simple Way to
Prevent Neural Networks from Overfitting", JMLR 15.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from ._validation import as_generator, check_array, check_scalar
from .layers import ACTIVATIONS, activation_backward, activation_forward, affine_backward, affine_forward
from .losses import add_l2_penalty
from .training.objectives import OBJECTIVES, Batch, Objective

__all__ = ["dropout_mask", "dropout_forward", "dropout_forward_kernel", "dropout_backward",
           "dropout_loss_and_grads_kernel", "DropoutObjective"]


def dropout_mask(shape: tuple, rate: float, rng: Any, dtype: Any = np.float64) -> np.ndarray:
    """Scaled keep-mask ``m = b / (1 - rate)``, ``b ~ Bernoulli(1 - rate)``, of ``shape``.

    ``rate`` in ``[0, 1)``; ``rng`` is a seed or Generator (turned into a Generator once).
    """
    keep = as_generator(rng).random(shape) >= rate            # P(keep) = 1 - rate
    return keep.astype(dtype) / np.asarray(1.0 - rate, dtype=dtype)


def dropout_forward_kernel(x: np.ndarray, mask: np.ndarray | None):
    """``(x ⊙ mask, mask)``; ``mask=None`` is evaluation mode and returns ``(x, None)``."""
    if mask is None:
        return x, None
    return x * mask, mask


def dropout_forward(x: Any, rate: float, rng: Any = None, *, train: bool = True):
    """Inverted dropout of ``x`` (any shape): ``(out, cache)``.

    Parameters
    ----------
    x : ndarray
    rate : float in [0, 1)
        Probability of dropping a unit.
    rng : None, int or Generator
        Source of the Bernoulli keep-mask.
    train : bool, default True
        ``False`` (evaluation) returns ``x`` unchanged, as does ``rate = 0``.

    Returns
    -------
    out : ndarray, same shape and dtype as ``x``
        ``x ⊙ b / (1 - rate)`` with ``b ~ Bernoulli(1 - rate)`` elementwise (module docstring).
    cache : ndarray or None
        The scaled mask ``b / (1 - rate)`` (None when nothing was dropped).

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = dropout_forward(np.ones((2, 4)), 0.5, rng=0)
    >>> sorted(set(out.ravel().tolist()))          # dropped units are 0, kept ones doubled
    [0.0, 2.0]
    >>> dropout_forward(np.ones(3), 0.5, rng=0, train=False)[1] is None
    True
    """
    x = check_array(x, "x", ndim=None)
    rate = check_scalar(rate, "rate", low=0.0, high=1.0, high_inclusive=False)
    if not isinstance(train, bool):
        raise TypeError(f"train: expected a bool, got {type(train).__name__}.")
    if not train or rate == 0.0:
        return dropout_forward_kernel(x, None)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return dropout_forward_kernel(x, dropout_mask(x.shape, rate, rng, dtype))


def dropout_backward(dout: np.ndarray, cache: np.ndarray | None) -> np.ndarray:
    """``dx = dout ⊙ m`` with ``m`` the scaled mask in ``cache`` (``dout`` itself if None)."""
    return dout if cache is None else dout * cache


# ---------------------------------------------------------------------------- MLP with dropout
def dropout_loss_and_grads_kernel(model, params, X, y, masks: list, l2: float = 0.0):
    """Mean NLL of an MLP whose hidden outputs are multiplied by fixed ``masks`` and its
    gradient (module docstring); ``masks[l-1]`` is ``(n, sizes[l])`` or None (no dropout).

    A loop over the layer pairs of :mod:`minadv.layers` with a dropout pair after each hidden
    activation.  Returns ``(loss, grads)`` with ``loss = (1/n) Σ ℓ_i + ½·l2·Σ‖W‖²``.
    """
    act = ACTIVATIONS[model.activation]
    n, L = X.shape[0], len(model.sizes) - 1
    h, caches = X, []                                   # per layer: (affine, act, dropout)
    for l in range(1, L):
        a, affine_cache = affine_forward(h, params[f"W{l}"], params[f"b{l}"])    # (n, n_l)
        h, act_cache = activation_forward(a, act)
        h, drop_cache = dropout_forward_kernel(h, masks[l - 1])                  # h̃_l
        caches.append((affine_cache, act_cache, drop_cache))
    z, out_cache = affine_forward(h, params[f"W{L}"], params[f"b{L}"])            # (n, C)
    losses, delta = model.output.nll(z, y)
    delta = delta / n                                   # δ_L of the mean loss
    grads = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(delta, out_cache, input_grad=L > 1)
    for l in range(L - 1, 0, -1):
        affine_cache, act_cache, drop_cache = caches[l - 1]
        da = activation_backward(dropout_backward(dh, drop_cache), act_cache, act)   # δ_l
        dh, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(da, affine_cache, input_grad=l > 1)
    return add_l2_penalty(float(np.mean(losses)), {k: grads[k] for k in params}, params,
                          model.weight_names, l2)


@dataclasses.dataclass(frozen=True)
class DropoutObjective(Objective):
    r"""Dropout training of an MLP: the mean NLL of the network with fresh inverted-dropout
    masks on every hidden layer's output at each step, plus ``½·l2·Σ‖W‖²``.

    .. math::
        \frac1B \sum_i \ell\big(f_\theta(x_i; m^{(i)}), y_i\big),\qquad
        m^{(i)}_{lj} = b_{lj}/(1-\text{rate}),\ b_{lj}\sim\mathrm{Bernoulli}(1-\text{rate})

    Evaluation (``model.predict``/``evaluate``) uses the plain network, which is the mean
    network thanks to the inverted scaling.

    Parameters
    ----------
    rate : float in [0, 1), default 0.5
        Drop probability of each hidden unit.
    l2 : float >= 0
    """

    rate: float = 0.5
    l2: float = 0.0
    name: ClassVar[str] = "dropout"

    def validate(self, model) -> None:
        super().validate(model)
        check_scalar(self.rate, "rate", low=0.0, high=1.0, high_inclusive=False)
        if not hasattr(model, "sizes") or not hasattr(model, "activation"):
            raise TypeError(f"dropout: needs an MLP (hidden layers to drop), got {model!r}.")

    def __call__(self, model, params, batch: Batch, rng: np.random.Generator):
        X = batch.X
        masks = [None if self.rate == 0 else dropout_mask((X.shape[0], k), self.rate, rng,
                                                           X.dtype)
                 for k in model.sizes[1:-1]]
        return dropout_loss_and_grads_kernel(model, params, X, batch.y, masks, self.l2)


# make_objective("dropout", rate=...) (the registry lives in minadv.training.objectives, which
# imports this module lazily inside make_objective: dropout sits above the objectives layer)
OBJECTIVES.setdefault(DropoutObjective.name, DropoutObjective)
