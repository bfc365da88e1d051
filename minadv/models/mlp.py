"""Multilayer perceptron with explicit backprop and Pearlmutter's R-operator.

Row-vector batch convention (``theory.md`` section 12)::

    h_0 = X                          # (n, d)
    a_l = h_{l-1} W_l + b_l          # (n, n_l),  W_l: (n_{l-1}, n_l)
    h_l = phi(a_l)        (l < L)
    z   = a_L                        # logits (n, C)

Backward, with ``δ_l = ∂L/∂a_l``::

    δ_L = ∂L/∂z,   ∂L/∂W_l = h_{l-1}ᵀ δ_l,   ∂L/∂b_l = Σ_rows δ_l,
    g_{l-1} = δ_l W_lᵀ,   δ_{l-1} = phi'(a_{l-1}) ⊙ g_{l-1},   ∂L/∂X = g_0.

R-operator (directional derivative along ``V = {(V_l, c_l)}``; ``R{h_0} = r`` for the
input-space product)::

    R{a_l} = h_{l-1} V_l + R{h_{l-1}} W_l + c_l,        R{h_l} = phi'(a_l) ⊙ R{a_l}
    R{δ_L} = ∇²_z ℓ · R{z} / n
    R{g_{l-1}} = δ_l V_lᵀ + R{δ_l} W_lᵀ
    R{δ_{l-1}} = phi''(a_{l-1}) ⊙ R{a_{l-1}} ⊙ g_{l-1} + phi'(a_{l-1}) ⊙ R{g_{l-1}}
    (H V)_{W_l} = h_{l-1}ᵀ R{δ_l} + R{h_{l-1}}ᵀ δ_l,     (H V)_{b_l} = Σ_rows R{δ_l}

References
----------
Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation 6(1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import as_generator, check_float_dtype, check_int
from ..losses import OUTPUTS
from ..numerics import sigmoid, softplus
from ..params import Params, init_weight
from .base import Model

__all__ = ["MLP", "ACTIVATIONS"]


# Each activation: (phi(a), phi'(a, h), phi''(a, h)), derivatives written in terms of the
# stored pre-activation a and output h = phi(a), whichever is cheaper and exact.
def _relu(a):
    return np.maximum(a, 0)


def _relu_d1(a, h):
    return (a > 0).astype(a.dtype)


def _tanh_d1(a, h):
    return 1 - h * h


def _tanh_d2(a, h):
    return -2 * h * (1 - h * h)


def _sigmoid_d1(a, h):
    return h * (1 - h)


def _sigmoid_d2(a, h):
    return h * (1 - h) * (1 - 2 * h)


def _softplus_d1(a, h):
    return sigmoid(a)


def _softplus_d2(a, h):
    return sigmoid(a) * sigmoid(-a)


def _zeros_d2(a, h):
    return np.zeros_like(a)


def _ones_d1(a, h):
    return np.ones_like(a)


ACTIVATIONS = {
    "relu": (_relu, _relu_d1, _zeros_d2),
    "tanh": (np.tanh, _tanh_d1, _tanh_d2),
    "sigmoid": (sigmoid, _sigmoid_d1, _sigmoid_d2),
    "softplus": (softplus, _softplus_d1, _softplus_d2),
    "identity": (lambda a: a, _ones_d1, _zeros_d2),
}


class MLP(Model):
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
        self._phi, self._dphi, self._d2phi = ACTIVATIONS[activation]
        self.dtype = check_float_dtype(dtype)
        self.n_features, self.n_classes = self.sizes[0], self.sizes[-1]
        self.n_layers = len(self.sizes) - 1
        self.weight_names = tuple(f"W{l}" for l in range(1, self.n_layers + 1))
        # parameter names per layer, in canonical order (hot loops avoid f-strings per call)
        self._layer_keys = tuple((f"W{l}", f"b{l}") for l in range(1, self.n_layers + 1))
        self._param_names = tuple(k for pair in self._layer_keys for k in pair)
        self._hidden_keys, self._out_keys = self._layer_keys[:-1], self._layer_keys[-1]
        self._relu = activation == "relu"
        # backward, top layer down: (W key, b key, index of the layer's input in post or -1)
        self._backward_plan = tuple((wk, bk, l - 2) for l, (wk, bk)
                                    in reversed(list(enumerate(self._layer_keys, 1))))

    def __repr__(self) -> str:
        return (f"MLP(sizes={list(self.sizes)}, activation={self.activation!r}, "
                f"output={self.output.name!r}, dtype={self.dtype.name})")

    @property
    def param_shapes(self) -> dict[str, tuple]:
        shapes = {}
        for l in range(1, self.n_layers + 1):
            shapes[f"W{l}"] = (self.sizes[l - 1], self.sizes[l])
            shapes[f"b{l}"] = (self.sizes[l],)
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
        for l in range(1, self.n_layers + 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            params[f"W{l}"] = init_weight(fan_in, fan_out, self.init, gen, self.dtype)
            params[f"b{l}"] = np.zeros(fan_out, dtype=self.dtype)
        return params

    # ----------------------------------------------------------------- kernels
    def forward(self, params: Params, X: np.ndarray):
        """Logits ``(n, C)`` and the cache ``(X, [a_1, …], [h_1, …])`` of hidden layers."""
        return self.forward_into(params, X, None)

    def cache_buffers(self, n_rows: int) -> list | None:
        """One ``(n_rows, n_l)`` buffer per hidden layer for a relu net (relu keeps its
        pre-activation and output in one buffer, so the buffers are the whole cache); None for
        the other activations."""
        if not self._relu:
            return None
        return [np.empty((n_rows, m), dtype=self.dtype) for m in self.sizes[1:-1]]

    def cache_from_buffers(self, X: np.ndarray, buffers: list):
        """The forward cache ``(X, pre, post)`` whose hidden arrays are ``buffers`` (relu)."""
        return (X, buffers, buffers)

    def forward_into(self, params: Params, X: np.ndarray, outs):
        """:meth:`forward`, writing hidden layer ``l``'s pre-activation into ``outs[l - 1]`` (a
        C-contiguous ``(n, n_l)`` array, e.g. a row block of a :meth:`cache_buffers` buffer)
        when ``outs`` is given.  Same operations and values as :meth:`forward`."""
        h = X
        pre, post = [], []
        relu = self._relu
        matmul, maximum = np.matmul, np.maximum
        for i, (wl, bl) in enumerate(self._hidden_keys):
            a = h @ params[wl] if outs is None else matmul(h, params[wl], out=outs[i])
            a += params[bl]
            # relu in place: a > 0 exactly where max(a, 0) > 0, so phi' and phi'' (the only
            # uses of the stored pre-activation) are unchanged; it saves a buffer and a pass.
            h = maximum(a, 0, out=a) if relu else self._phi(a)
            pre.append(a)
            post.append(h)
        wk, bk = self._out_keys
        z = h @ params[wk]                              # (n, C)
        z += params[bk]
        return z, (X, pre, post)

    def pre_activations(self, params: Params, X: np.ndarray) -> list[np.ndarray]:
        """Hidden pre-activations ``[a_1, …, a_{L-1}]`` (before relu zeroes them in place).

        Used to keep finite-difference checks of relu nets away from kinks."""
        h, pre = X, []
        for l in range(1, self.n_layers):
            a = h @ params[f"W{l}"] + params[f"b{l}"]
            pre.append(a)
            h = self._phi(a)
        return pre

    def backward(self, params: Params, cache, dlogits, *, param_grads=True, input_grad=True):
        """Backpropagate ``dlogits = ∂L/∂z``; returns ``(grads or None, ∂L/∂X or None)``."""
        X, pre, post = cache
        # keys pre-inserted in canonical order (W1, b1, W2, …); filled top-down below
        grads: Params | None = dict.fromkeys(self._param_names) if param_grads else None
        delta = dlogits                                  # (n, n_l)
        gx = None
        relu = self._relu
        reduce = np.add.reduce
        for wk, bk, i in self._backward_plan:           # i: index of the layer input in post
            if param_grads:
                grads[wk] = (post[i] if i >= 0 else X).T @ delta   # (n_{l-1}, n_l)
                grads[bk] = reduce(delta, axis=0)       # = delta.sum(axis=0)
            if i >= 0:
                delta = delta @ params[wk].T             # g_{l-1}, (n, n_{l-1}), a new buffer
                if relu:                                 # δ_{l-1} = phi' ⊙ g, in place
                    np.multiply(delta, pre[i] > 0, out=delta)
                else:
                    self._times_dphi(delta, pre[i], post[i])
            elif input_grad:
                gx = delta @ params[wk].T                # (n, d)
        return grads, gx

    def _times_dphi(self, g, a, h):
        """``g *= phi'(a)`` in place (relu: a boolean mask, no float temporary)."""
        if self.activation == "relu":
            np.multiply(g, a > 0, out=g)
        elif self.activation != "identity":
            np.multiply(g, self._dphi(a, h), out=g)

    def _r_forward(self, params, hs, d1s, vector, R):
        """R-forward pass: ``R{a_l}`` for every layer and ``R{h_l}`` for ``l < L``.

        ``hs = [h_0, …, h_{L-1}]`` and ``d1s = [phi'(a_1), …]`` come from the forward pass;
        ``vector`` (a parameter direction) and/or ``R`` (an input direction, ``R{h_0}``) may
        be None.  Returns ``(r_pre, r_hs)`` with ``r_hs[0] = R``.
        """
        r_pre, r_hs, r_h = [], [R], R
        for l, (wk, bk) in enumerate(self._layer_keys, 1):
            r_a = None
            if vector is not None:
                r_a = hs[l - 1] @ vector[wk]             # h_{l-1} V_l
                r_a += vector[bk]                        # + c_l
            if r_h is not None:
                term = r_h @ params[wk]                  # + R{h_{l-1}} W_l
                r_a = term if r_a is None else np.add(r_a, term, out=r_a)
            r_pre.append(r_a)
            if l < self.n_layers:
                r_h = d1s[l - 1] * r_a                   # R{h_l} = phi'(a_l) ⊙ R{a_l}
                r_hs.append(r_h)
        return r_pre, r_hs

    def jvp_logits(self, params: Params, cache, vector: Params | None, R: np.ndarray | None):
        """``R{z}``: derivative of the logits along parameter direction ``vector`` and/or input
        direction ``R`` (forward-mode, one pass)."""
        X, pre, post = cache
        d1s = [self._dphi(a, h) for a, h in zip(pre, post)]
        return self._r_forward(params, [X] + post, d1s, vector, R)[0][-1]

    def hvp_closure(self, params: Params, X: np.ndarray, y: np.ndarray):
        """Return ``hvp(V, out=None) -> H V`` at fixed ``(θ, X, y)``, without validation.

        Everything that does not depend on the direction is computed once here: the forward
        pass ``h_l``, the backward quantities ``δ_l``, ``phi'(a_l)`` and ``phi''(a_l) ⊙ g_l``.
        Each call then does only the R-forward and R-backward products of the module docstring
        (≈ 2 gradients' worth of matmuls), writing into ``out`` (a dict of arrays, e.g. views of
        one flat vector) when given.  Repeated products (power iteration, Lanczos) should use
        this instead of :meth:`hvp`.
        """
        z, (_, pre, post) = self.forward(params, X)
        n = X.shape[0]
        _, delta = self.output.nll(z, y)
        delta /= n                                        # δ_L
        hs = [X] + post                                   # h_0 … h_{L-1}
        deltas, d1s, d2gs = [delta], [], []
        for l in range(self.n_layers, 1, -1):             # hidden layer l-1, top down
            a, h = pre[l - 2], post[l - 2]
            g = delta @ params[f"W{l}"].T                 # g_{l-1}
            d1 = self._dphi(a, h)
            d2gs.insert(0, self._d2phi(a, h) * g)         # phi''(a) ⊙ g
            d1s.insert(0, d1)
            delta = d1 * g
            deltas.insert(0, delta)                       # deltas[l-1] = δ_l

        keys, L, dtype = self._layer_keys, self.n_layers, self.dtype
        shapes = self.param_shapes

        def hvp(vector: Params, out: Params | None = None) -> Params:
            if out is None:
                out = {k: np.empty(s, dtype=dtype) for k, s in shapes.items()}
            r_pre, r_hs = self._r_forward(params, hs, d1s, vector, None)
            r_delta = self.output.nll_hvp(z, y, r_pre[-1])
            r_delta /= n                                  # R{δ_L}
            for l in range(L, 0, -1):                     # R-backward
                wk, bk = keys[l - 1]
                np.matmul(hs[l - 1].T, r_delta, out=out[wk])   # h_{l-1}ᵀ R{δ_l}
                np.add.reduce(r_delta, axis=0, out=out[bk])     # Σ_rows R{δ_l}
                if l == 1:
                    break
                out[wk] += r_hs[l - 1].T @ deltas[l - 1]  # + R{h_{l-1}}ᵀ δ_l
                r_g = deltas[l - 1] @ vector[wk].T        # R{g} = δ_l Vᵀ + R{δ_l} Wᵀ
                r_g += r_delta @ params[wk].T
                r_g *= d1s[l - 2]
                # phi'' R{a} g + phi' R{g}, in R{a_{l-1}}'s buffer (not needed any more)
                r_delta = np.multiply(d2gs[l - 2], r_pre[l - 2], out=r_pre[l - 2])
                r_delta += r_g
            return out

        return hvp

    def hvp_kernel(self, params: Params, X: np.ndarray, y: np.ndarray, vector: Params) -> Params:
        """Exact ``∇²_θ L · v`` by the R-forward/R-backward recursions (module docstring)."""
        return self.hvp_closure(params, X, y)(vector)
