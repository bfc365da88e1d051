"""Binary logistic regression ``p(y=1|x) = sigma(wᵀx + b)`` with explicit derivatives.

Parameters are ``{"w": (d,), "b": ()}``; labels are ``{0, 1}``.  With ``c_i = sigma(f_i)
sigma(-f_i)`` the Hessian of the mean loss is ``[X 1]ᵀ diag(c) [X 1] / n`` (``docs/theory.md``
§12, last bullet), which the R-operator below reproduces exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_generator, check_float_dtype, check_int
from ..losses import LOGISTIC
from ..params import Params
from .base import BaseModel

__all__ = ["LogisticRegressionModel"]


class LogisticRegressionModel(BaseModel):
    """Binary logistic regression.

    Parameters
    ----------
    n_features : int
        Input dimension ``d``.
    dtype : {float64, float32}
        Dtype of parameters, inputs and every returned array.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(3)
    >>> params = model.init_params(rng=0)
    >>> round(model.loss(params, np.ones((2, 3)), np.array([0, 1])), 6)  # w = 0: log 2
    0.693147
    """

    output = LOGISTIC
    weight_names = ("w",)
    hidden_sizes: tuple[int, ...] = ()          # no hidden layer (nothing for dropout)

    def __init__(self, n_features: int, *, dtype: Any = np.float64):
        self.n_features = check_int(n_features, "n_features", low=1)
        self.n_classes = 2
        self.dtype = check_float_dtype(dtype)

    def __repr__(self) -> str:
        return f"LogisticRegressionModel(n_features={self.n_features}, dtype={self.dtype.name})"

    @property
    def param_shapes(self) -> dict[str, tuple]:
        return {"w": (self.n_features,), "b": ()}

    def config(self) -> dict:
        """JSON-serialisable description (used by save/load)."""
        return {"kind": "logistic", "n_features": self.n_features, "dtype": self.dtype.name}

    def init_params(self, rng: Any = None, scale: float = 0.0) -> Params:
        """Zero weights (the convex problem needs no symmetry breaking); ``scale > 0`` draws
        ``w ~ N(0, scale²)`` from ``rng`` instead."""
        params = self.param_template()
        if scale:
            params["w"] = (as_generator(rng).standard_normal(self.n_features) * scale).astype(
                self.dtype)
        return params

    # ----------------------------------------------------------------- kernels
    def forward(self, params: Params, X: np.ndarray):
        """Scores ``f = X w + b`` (shape ``(n,)``); the cache is ``X``."""
        return X @ params["w"] + params["b"], X

    def backward(self, params: Params, cache, dlogits, *, param_grads=True, input_grad=True):
        """``∂/∂w = Xᵀ δ``, ``∂/∂b = Σ δ``, ``∂/∂X = δ wᵀ`` for ``δ = ∂L/∂f``."""
        X = cache
        grads = None
        if param_grads:                                   # in the caller's key order
            grads = {"w": dlogits @ X, "b": np.asarray(np.sum(dlogits), dtype=self.dtype)}
            grads = {k: grads[k] for k in params}
        gx = np.multiply.outer(dlogits, params["w"]) if input_grad else None
        return grads, gx

    def jvp_logits(self, params: Params, cache, vector: Params | None, R: np.ndarray | None):
        """Directional derivative of the scores: ``X v_w + v_b + R w``."""
        X = cache
        out = np.zeros(X.shape[0], dtype=self.dtype)
        if vector is not None:
            out = out + X @ vector["w"] + vector["b"]
        if R is not None:
            out = out + R @ params["w"]
        return out

    def hvp_kernel(self, params: Params, X: np.ndarray, y: np.ndarray, vector: Params) -> Params:
        """``[X 1]ᵀ diag(c) [X 1] v / n`` (the loss is linear in its scores: GN = Hessian)."""
        f, _ = self.forward(params, X)
        r_delta = self.output.nll_hvp(f, y, self.jvp_logits(params, X, vector, None)) / X.shape[0]
        grads, _ = self.backward(params, X, r_delta, param_grads=True, input_grad=False)
        return grads
