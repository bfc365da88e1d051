"""Multilayer perceptron with explicit backprop and Pearlmutter's R-operator.

Row-vector batch convention (``docs/theory.md`` §12)::

    h_0 = X                          # (n, d)
    a_l = h_{l-1} W_l + b_l          # (n, n_l),  W_l: (n_{l-1}, n_l)    affine_forward
    h_l = phi(a_l)        (l < L)                                       activation_forward
    h_l = h_l ⊙ m_l       (l < L, only with dropout masks)             dropout_forward
    z   = a_L                        # logits (n, C)

Backward, with ``δ_l = ∂L/∂a_l``::

    δ_L = ∂L/∂z,   ∂L/∂W_l = h_{l-1}ᵀ δ_l,   ∂L/∂b_l = Σ_rows δ_l,     affine_backward
    g_{l-1} = δ_l W_lᵀ,                                                 affine_backward
    g_{l-1} = g_{l-1} ⊙ m_{l-1}          (only with dropout masks)      dropout_backward
    δ_{l-1} = phi'(a_{l-1}) ⊙ g_{l-1},   ∂L/∂X = g_0.                  activation_backward

R-operator (directional derivative along ``V = {(V_l, c_l)}``; ``R{h_0} = r`` for the
input-space product)::

    R{a_l} = h_{l-1} V_l + R{h_{l-1}} W_l + c_l                        affine_rforward
    R{h_l} = phi'(a_l) ⊙ R{a_l}                                         activation_rforward
    R{δ_L} = ∇²_z ℓ · R{z} / n                                          output.nll_hvp
    R{g_{l-1}} = δ_l V_lᵀ + R{δ_l} W_lᵀ                                 affine_rbackward
    (H V)_{W_l} = h_{l-1}ᵀ R{δ_l} + R{h_{l-1}}ᵀ δ_l,  (H V)_{b_l} = Σ_rows R{δ_l}   (same)
    R{δ_{l-1}} = phi''(a_{l-1}) ⊙ R{a_{l-1}} ⊙ g_{l-1} + phi'(a_{l-1}) ⊙ R{g_{l-1}}
                                                                        activation_rbackward

The right column names the :mod:`minadv.layers` function that computes each line;
:meth:`MLP.forward`, :meth:`MLP.backward` and :meth:`MLP.hvp_kernel` are loops over them;
:meth:`MLP.hvp_closure` is the HVP's speed place (the same recursion, ``V``-free terms hoisted).

References
----------
Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation 6(1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_float_dtype, check_int
from ..layers import (
    ACTIVATIONS,
    activation_backward,
    activation_forward,
    activation_rbackward,
    activation_rforward,
    affine_backward,
    affine_forward,
    affine_rbackward,
    affine_rforward,
    dropout_backward,
    dropout_forward_kernel,
)
from ..losses import OUTPUTS
from ..params import Params, init_weight
from .base import BaseModel, copy_into

__all__ = ["MLP", "MLPCache", "ACTIVATIONS"]


class MLPCache(NamedTuple):
    """What :meth:`MLP.forward` keeps for the backward pass (every array batch-first).

    Attributes
    ----------
    X : ndarray (n, d)
        The input ``h_0``.
    pre : list of ndarray (n, n_l)
        Hidden pre-activations ``a_1 … a_{L-1}``.
    post : list of ndarray (n, n_l)
        Hidden activations ``h_l = φ(a_l)``, the inputs of the next affine layer (``h_l ⊙ m_l``
        when dropout masks were given).
    masks : list of ndarray (n, n_l) or None
        The dropout masks ``m_l`` of :meth:`MLP.forward` (None: no dropout).
    """

    X: np.ndarray
    pre: list
    post: list
    masks: list | None = None


class MLP(BaseModel):
    """Fully connected network ``sizes[0] → … → sizes[-1]`` with a softmax-type output.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths including input and output, e.g. ``[784, 256, 256, 10]``.  Two entries
        (``[d, C]``) give softmax regression.
    activation : {"relu", "tanh", "sigmoid", "softplus", "identity"}
        Hidden-layer nonlinearity.
    output : {"softmax", "sigsoftmax"}
        Output distribution; the loss is its negative log-likelihood.
    init : {"he", "glorot"} or None
        Weight initialisation; ``None`` picks He for relu/softplus, Glorot otherwise.  Biases
        start at zero.
    dtype : {float64, float32}

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import MLP
    >>> net = MLP([4, 8, 3], activation="tanh")
    >>> params = net.init_params(rng=0)
    >>> [(k, v.shape) for k, v in params.items()]
    [('W1', (4, 8)), ('b1', (8,)), ('W2', (8, 3)), ('b2', (3,))]
    """

    def __init__(self, sizes: Sequence[int], *, activation: str = "relu",
                 output: str = "softmax", init: str | None = None, dtype: Any = np.float64):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
            raise ValueError(f"sizes: expected at least two layer widths, got {sizes!r}.")
        self.sizes = tuple(check_int(s, f"sizes[{i}]", low=1) for i, s in enumerate(sizes))
        if self.sizes[-1] < 2:
            raise ValueError(f"sizes: the output layer needs >= 2 classes, got {self.sizes[-1]}.")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        if output not in ("softmax", "sigsoftmax"):
            raise ValueError(f"output: expected 'softmax' or 'sigsoftmax', got {output!r}.")
        if init is None:
            init = "he" if activation in ("relu", "softplus") else "glorot"
        if init not in ("he", "glorot"):
            raise ValueError(f"init: expected 'he', 'glorot' or None, got {init!r}.")
        self.activation, self.init, self.output = activation, init, OUTPUTS[output]
        self.act = ACTIVATIONS[activation]
        self.dtype = check_float_dtype(dtype)
        self.n_features, self.n_classes = self.sizes[0], self.sizes[-1]
        self.n_layers = len(self.sizes) - 1
        #: ``(("W1", "b1"), ("W2", "b2"), …)``: the one place parameter names are built
        self.layer_keys = tuple((f"W{l}", f"b{l}") for l in range(1, self.n_layers + 1))
        self.weight_names = tuple(wk for wk, _ in self.layer_keys)
        self.hidden_sizes = self.sizes[1:-1]

    def __repr__(self) -> str:
        return (f"MLP(sizes={list(self.sizes)}, activation={self.activation!r}, "
                f"output={self.output.name!r}, dtype={self.dtype.name})")

    @property
    def param_shapes(self) -> dict[str, tuple]:
        shapes = {}
        for l, (wk, bk) in enumerate(self.layer_keys, 1):
            shapes[wk], shapes[bk] = (self.sizes[l - 1], self.sizes[l]), (self.sizes[l],)
        return shapes

    def config(self) -> dict:
        """JSON-serialisable description (used by save/load)."""
        return {"kind": "mlp", "sizes": list(self.sizes), "activation": self.activation,
                "output": self.output.name, "init": self.init, "dtype": self.dtype.name}

    def init_params(self, rng: Any = None) -> Params:
        """Draw weights with the model's scheme from ``rng``; zero biases.

        The same seed gives bitwise-identical parameters (one Generator, layers drawn in order).
        """
        gen = as_generator(rng)
        params: Params = {}
        for l, (wk, bk) in enumerate(self.layer_keys, 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            params[wk] = init_weight(fan_in, fan_out, self.init, gen, self.dtype)
            params[bk] = np.zeros(fan_out, dtype=self.dtype)
        return params

    # ----------------------------------------------------------------- kernels
    def forward(self, params: Params, X: np.ndarray, *, masks: list | None = None):
        """Logits ``(n, C)`` and the cache ``MLPCache(X, pre=[a_1, …], post=[h_1, …], masks)``.

        ``masks`` (dropout training): one ``(n, n_l)`` mask or None per hidden layer
        (:func:`~minadv.layers.dropout_mask`), applied to ``h_l``; backward uses them too.
        """
        h, pre, post = X, [], []
        for l, (wk, bk) in enumerate(self.layer_keys[:-1]):
            a, _ = affine_forward(h, params[wk], params[bk])      # a_l = h_{l-1} W_l + b_l
            h, _ = activation_forward(a, self.act)                # h_l = φ(a_l)
            if masks is not None:
                h, _ = dropout_forward_kernel(h, masks[l])        # h_l ⊙ m_l
            pre.append(a)
            post.append(h)
        wk, bk = self.layer_keys[-1]
        z, _ = affine_forward(h, params[wk], params[bk])          # logits, (n, C)
        return z, MLPCache(X, pre, post, masks)

    def backward(self, params: Params, cache: MLPCache, dlogits: np.ndarray, *,
                 param_grads: bool = True, input_grad: bool = True):
        """Backpropagate ``dlogits = ∂L/∂z``; returns ``(grads or None, ∂L/∂X or None)``.

        ``grads`` has the names of ``params`` in the caller's order.
        """
        X, pre, post = cache[:3]                                  # an MLPCache (or a plain tuple)
        masks = cache[3] if len(cache) > 3 else None
        hs = [X, *post]                                           # h_0 … h_{L-1}
        grads, delta, dx = {}, dlogits, None                      # delta = δ_L, (n, C)
        for l in range(self.n_layers, 0, -1):
            wk, bk = self.layer_keys[l - 1]
            dx, grads[wk], grads[bk] = affine_backward(           # g_{l-1} = δ_l W_lᵀ
                delta, (hs[l - 1], params[wk]), input_grad=l > 1 or input_grad,
                param_grads=param_grads)
            if l > 1 and masks is not None:
                dx = dropout_backward(dx, masks[l - 2])           # g_{l-1} ⊙ m_{l-1}
            if l > 1:              # δ_{l-1} = φ'(a_{l-1}) ⊙ g, in g's memory (g is not reused)
                delta = activation_backward(dx, pre[l - 2], self.act, out=dx)
        grads = {k: grads[k] for k in params} if param_grads else None
        return grads, (dx if input_grad else None)

    def jvp_logits(self, params: Params, cache: MLPCache, vector: Params | None,
                   R: np.ndarray | None):
        """``R{z}``: derivative of the logits along parameter direction ``vector`` and/or input
        direction ``R`` (forward-mode, one pass)."""
        d1s = [self.act.d1(a) for a in cache[1]]                  # φ'(a_l)
        return self._r_forward(params, cache, d1s, vector, R)[0][-1]

    def _r_forward(self, params, cache, d1s, vector, R):
        """R-forward pass: ``R{a_l}`` for every layer and ``R{h_l}`` for ``l < L``.

        ``d1s = [φ'(a_1), …]``; ``vector`` (a parameter direction) and/or ``R`` (an input
        direction, ``R{h_0}``) may be None.  Returns ``(r_as, r_hs)`` with ``r_hs[0] = R``.
        """
        hs, r_as, r_hs = [cache[0], *cache[2]], [], [R]
        for l, (wk, bk) in enumerate(self.layer_keys, 1):
            rW, rb = (None, None) if vector is None else (vector[wk], vector[bk])
            r_as.append(affine_rforward((hs[l - 1], params[wk]), r_hs[-1], rW, rb))
            if l < self.n_layers:
                r_hs.append(activation_rforward(r_as[-1], d1s[l - 1]))
        return r_as, r_hs

    def hvp_closure(self, params: Params, X: np.ndarray, y: np.ndarray):
        """Return ``hvp(V, out=None) -> H V`` at fixed ``(θ, X, y)``, without validation.

        Speed place (W6, repeated HVPs in power iteration / Lanczos): the forward pass, the
        backward quantities ``δ_l``, ``g_l``, ``φ'(a_l)`` and ``φ''(a_l) ⊙ g_l`` do not depend on
        ``V`` and are computed once here; each call runs only the R-forward and R-backward
        recursions of the module docstring (≈ 2 gradients' worth of matmuls).  ``out`` (a dict
        of arrays, e.g. views of one flat vector) receives the result when given.
        """
        z, cache = self.forward(params, X)
        n, L = X.shape[0], self.n_layers
        _, dz = self.output.nll(z, y)
        deltas, d1s, d2gs = self._backward_terms(params, cache, dz / n)
        hs = [X, *cache.post]                                     # h_0 … h_{L-1}

        def hvp(vector: Params, out: Params | None = None) -> Params:
            r_as, r_hs = self._r_forward(params, cache, d1s, vector, None)
            r_delta = self.output.nll_hvp(z, y, r_as[-1]) / n     # R{δ_L}
            result = {}
            for l in range(L, 0, -1):                             # R-backward
                wk, bk = self.layer_keys[l - 1]
                r_g, result[wk], result[bk] = affine_rbackward(
                    deltas[l - 1], r_delta, (hs[l - 1], params[wk]),
                    r_hs[l - 1] if l > 1 else None, vector[wk], input_grad=l > 1)
                if l > 1:                                         # R{δ_{l-1}}
                    r_delta = activation_rbackward(r_g, r_as[l - 2], d1s[l - 2], d2gs[l - 2])
            return copy_into(result, params, out)

        return hvp

    def _backward_terms(self, params, cache, delta):
        """``[δ_1 … δ_L]``, ``[φ'(a_1) …]`` and ``[φ''(a_1) ⊙ g_1 …]`` for the R-backward."""
        pre = cache[1]
        deltas, d1s, d2gs = [delta], [], []
        for l in range(self.n_layers, 1, -1):                     # hidden layer l-1, top down
            a = pre[l - 2]                                        # a_{l-1}
            g = delta @ params[self.layer_keys[l - 1][0]].T       # g_{l-1} = δ_l W_lᵀ
            d1s.insert(0, self.act.d1(a))
            d2gs.insert(0, self.act.d2(a) * g)
            delta = d1s[0] * g                                    # δ_{l-1}
            deltas.insert(0, delta)
        return deltas, d1s, d2gs

    def hvp_kernel(self, params: Params, X: np.ndarray, y: np.ndarray, vector: Params) -> Params:
        """Exact ``∇²_θ L · v``: the textbook R-operator pass of the module docstring.

        Forward, R-forward, then the backward and R-backward recursions together from the top
        layer down, each line a :mod:`minadv.layers` pair.  :meth:`hvp_closure` is the same
        recursion with the ``v``-independent terms hoisted out (the speed place);
        ``tests/test_speed_places.py`` checks that the two paths agree.
        """
        z, cache = self.forward(params, X)
        _, pre, post = cache[:3]
        hs, n, L = [X, *post], X.shape[0], self.n_layers          # h_0 … h_{L-1}
        r_hs, r_as = [None], []                                   # R{h_0} = 0: v moves θ only
        for l, (wk, bk) in enumerate(self.layer_keys, 1):
            r_as.append(affine_rforward((hs[l - 1], params[wk]), r_hs[-1],
                                        vector[wk], vector[bk]))  # R{a_l}, (n, n_l)
            if l < L:
                r_hs.append(activation_rforward(r_as[-1], self.act.d1(pre[l - 1])))  # R{h_l}
        _, dz = self.output.nll(z, y)
        delta = dz / n                                            # δ_L, (n, C)
        r_delta = self.output.nll_hvp(z, y, r_as[-1]) / n         # R{δ_L}
        result = {}
        for l in range(L, 0, -1):
            wk, bk = self.layer_keys[l - 1]
            cache_l = (hs[l - 1], params[wk])
            r_g, result[wk], result[bk] = affine_rbackward(       # (H v)_{W_l}, (H v)_{b_l}
                delta, r_delta, cache_l, r_hs[l - 1], vector[wk], input_grad=l > 1)
            if l > 1:
                a = pre[l - 2]                                    # a_{l-1}
                g, _, _ = affine_backward(delta, cache_l, param_grads=False)  # g_{l-1}
                r_delta = activation_rbackward(r_g, r_as[l - 2], self.act.d1(a),
                                               self.act.d2(a) * g)          # R{δ_{l-1}}
                delta = activation_backward(g, a, self.act)       # δ_{l-1}
        return {k: result[k] for k in params}
