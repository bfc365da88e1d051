"""Layers as forward/backward pairs, and their R-operator (forward-mode) counterparts.

The shape is the cs231n one: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``, where ``cache`` holds exactly the forward quantities
the backward pass needs.  Row-vector batch convention: ``x`` is ``(n, d_in)``, ``W`` is
``(d_in, d_out)``, ``b`` is ``(d_out,)``.

Affine layer (``docs/theory.md`` §12)::

    out = x W + b
    dx = dout Wᵀ,   dW = xᵀ dout,   db = Σ_rows dout

Elementwise activation ``h = φ(a)``::

    da = φ'(a) ⊙ dh

R-operator (Pearlmutter 1994): ``R{·}`` is the directional derivative along a direction ``V``
of the parameters (``R{W} = V_W``, ``R{b} = V_b``) and/or of the input (``R{x}``)::

    R{out} = R{x} W + x R{W} + R{b}                          (affine_rforward)
    R{dx} = R{dout} Wᵀ + dout R{W}ᵀ,
    R{dW} = xᵀ R{dout} + R{x}ᵀ dout,   R{db} = Σ_rows R{dout} (affine_rbackward)
    R{h} = φ'(a) ⊙ R{a}                                       (activation_rforward)
    R{da} = φ''(a) ⊙ R{a} ⊙ dh + φ'(a) ⊙ R{dh}               (activation_rbackward)

Inverted dropout (Srivastava et al. 2014, eq. (1)-(4), with the train-time rescaling that
makes evaluation the identity)::

    m_ij = b_ij / (1 - rate),   b_ij ~ Bernoulli(1 - rate)         (dropout_mask)
    out  = x ⊙ m                                                   (dropout_forward)
    dx   = dout ⊙ m                                                (dropout_backward)

``E[m_ij] = 1``, so ``E[out] = x``: the network seen at evaluation (``rate = 0`` or
``train=False``: nothing drawn, ``out = x``) is the mean network.  The cache is the mask.

Each activation's derivatives are written in terms of the pre-activation ``a`` in a form that
subtracts no nearly equal numbers, so they keep every digit when a unit saturates (``|a|`` of
15 and more), where the textbook ``1 - tanh²(a)`` or ``σ(a)(1 - σ(a))`` rounds to 0 or loses
its leading digits.

References
----------
Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation 6(1).
Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov (2014), "Dropout: A Simple Way to
Prevent Neural Networks from Overfitting", JMLR 15.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._validation import as_generator, check_array, check_scalar
from .numerics import sigmoid, softplus

__all__ = [
    "affine_forward", "affine_backward", "affine_rforward", "affine_rbackward",
    "Activation", "ACTIVATIONS",
    "activation_forward", "activation_backward", "activation_rforward", "activation_rbackward",
    "dropout_mask", "dropout_forward", "dropout_forward_kernel", "dropout_backward",
]


# ------------------------------------------------------------------------------ affine
def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """``out = x W + b``; returns ``(out, cache)`` with ``cache = (x, W)``.

    Shapes: ``x (n, d_in)``, ``W (d_in, d_out)``, ``b (d_out,)``, ``out (n, d_out)``.
    """
    out = x @ W                                           # (n, d_out)
    out += b
    return out, (x, W)


def affine_backward(dout: np.ndarray, cache, *, input_grad: bool = True,
                    param_grads: bool = True):
    """``(dx, dW, db) = (dout Wᵀ, xᵀ dout, Σ_rows dout)``; a part not asked for is None."""
    x, W = cache
    dx = dout @ W.T if input_grad else None               # (n, d_in)
    dW = x.T @ dout if param_grads else None              # (d_in, d_out)
    db = dout.sum(axis=0) if param_grads else None        # (d_out,)
    return dx, dW, db


def affine_rforward(cache, rx: np.ndarray | None, rW: np.ndarray | None,
                    rb: np.ndarray | None) -> np.ndarray:
    """``R{out} = R{x} W + x R{W} + R{b}`` (``rx`` or ``rW, rb`` may be None: no direction)."""
    x, W = cache
    r_out = None
    if rW is not None:
        r_out = x @ rW                                    # x R{W}, (n, d_out)
        r_out += rb
    if rx is not None:
        term = rx @ W                                     # R{x} W
        r_out = term if r_out is None else np.add(r_out, term, out=r_out)
    return r_out


def affine_rbackward(dout: np.ndarray, r_dout: np.ndarray, cache, rx: np.ndarray | None,
                     rW: np.ndarray | None, *, input_grad: bool = True):
    """``(R{dx}, R{dW}, R{db})`` of :func:`affine_backward` (module docstring).

    ``rx`` (``R{x}``) and ``rW`` (``R{W}``) may be None (zero); ``R{dx}`` is None unless
    ``input_grad``.
    """
    x, W = cache
    r_dW = x.T @ r_dout                                   # xᵀ R{dout}
    if rx is not None:
        r_dW += rx.T @ dout                               # + R{x}ᵀ dout
    r_db = r_dout.sum(axis=0)
    r_dx = None
    if input_grad:
        r_dx = r_dout @ W.T                               # R{dout} Wᵀ
        if rW is not None:
            r_dx += dout @ rW.T                           # + dout R{W}ᵀ
    return r_dx, r_dW, r_db


# ------------------------------------------------------------------------------ activations
class Activation(NamedTuple):
    """An elementwise nonlinearity: ``phi(a)``, ``d1(a) = φ'(a)``, ``d2(a) = φ''(a)``."""

    name: str
    phi: Callable[[np.ndarray], np.ndarray]
    d1: Callable[[np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray], np.ndarray]


def relu(a):
    """``max(a, 0)``."""
    return np.maximum(a, 0)


def relu_d1(a):
    """``1[a > 0]`` (a boolean mask; 0 at the kink)."""
    return a > 0


def zero_d2(a):
    """``φ'' = 0`` (relu away from its kink, identity)."""
    return np.zeros_like(a)


def tanh_d1(a):
    """``tanh'(a) = 1 - tanh²(a) = 4 σ(2a) σ(-2a)``.

    Computed as the product: ``1 - tanh²`` rounds to 0 once ``|a| ≳ 19``."""
    return 4 * sigmoid(2 * a) * sigmoid(-2 * a)


def tanh_d2(a):
    """``tanh''(a) = -2 tanh(a) tanh'(a)`` (with the exact :func:`tanh_d1`)."""
    return -2 * np.tanh(a) * tanh_d1(a)


def sigmoid_d1(a):
    """``σ'(a) = σ(a)(1 - σ(a)) = σ(a) σ(-a)``; ``1 - σ(a)`` cancels for large ``a``."""
    return sigmoid(a) * sigmoid(-a)


def sigmoid_d2(a):
    """``σ''(a) = σ'(a)(1 - 2σ(a)) = -σ'(a) tanh(a/2)``; ``1 - 2σ(a)`` cancels near 0 and ∞."""
    return -sigmoid_d1(a) * np.tanh(a / 2)


def softplus_d2(a):
    """``softplus''(a) = σ(a) σ(-a)``."""
    return sigmoid(a) * sigmoid(-a)


def identity(a):
    """``a``."""
    return a


def one_d1(a):
    """``φ' = 1`` (identity)."""
    return np.ones_like(a)


ACTIVATIONS = {
    "relu": Activation("relu", relu, relu_d1, zero_d2),
    "tanh": Activation("tanh", np.tanh, tanh_d1, tanh_d2),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_d1, sigmoid_d2),
    "softplus": Activation("softplus", softplus, sigmoid, softplus_d2),  # softplus' = σ
    "identity": Activation("identity", identity, one_d1, zero_d2),
}


def activation_forward(a: np.ndarray, act: Activation):
    """``h = φ(a)``; returns ``(h, cache)`` with ``cache = a`` (the true pre-activation)."""
    return act.phi(a), a


def activation_backward(dh: np.ndarray, cache, act: Activation, *,
                        out: np.ndarray | None = None) -> np.ndarray:
    """``da = φ'(a) ⊙ dh``, written into ``out`` when given (``out=dh`` reuses ``dh``'s memory
    when the caller does not need ``dh`` any more)."""
    return np.multiply(dh, act.d1(cache), out=out)


def activation_rforward(r_a: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """``R{h} = φ'(a) ⊙ R{a}``, with ``d1 = φ'(a)`` (computed once per forward pass)."""
    return d1 * r_a


def activation_rbackward(r_dh: np.ndarray, r_a: np.ndarray, d1: np.ndarray,
                         d2_dh: np.ndarray) -> np.ndarray:
    """``R{da} = φ''(a) ⊙ R{a} ⊙ dh + φ'(a) ⊙ R{dh}``, with ``d2_dh = φ''(a) ⊙ dh``."""
    return d2_dh * r_a + d1 * r_dh


# ------------------------------------------------------------------------------ dropout
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
