"""Gradient checking by central finite differences — a public tool for students and instructors.

For a scalar function ``f`` the central difference ``(f(θ + h e) - f(θ - h e)) / (2h)`` has
error ``O(h²)`` from truncation plus ``O(ε_mach |f| / h)`` from rounding; ``h = 1e-6`` balances
them in float64 (error around 1e-10 relative).  Each comparison reports the relative error::

    rel_error(a, b) = ‖a - b‖ / max(tiny, ‖a‖ + ‖b‖)

(the cs231n rule of thumb: below 1e-7 is right in float64; above 1e-4 is a bug).  Using norms
over the whole array, rather than the elementwise maximum, keeps components that are exactly
zero from turning rounding noise into a large ratio.

Examples
--------
>>> import numpy as np
>>> from minadv.models import MLP
>>> from minadv.gradcheck import check_model
>>> net = MLP([3, 4, 2], activation="tanh")
>>> X, y = np.random.default_rng(0).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
>>> report = check_model(net, net.init_params(rng=0), X, y, rng=0)
>>> report.passed
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._validation import as_generator, check_scalar
from .models.base import Model
from .params import Params, flatten, unflatten

__all__ = [
    "rel_error",
    "numerical_gradient",
    "numerical_directional_derivative",
    "check_param_grads",
    "check_input_grads",
    "check_hvp",
    "check_model",
    "GradCheckReport",
    "THRESHOLDS",
]

#: Default pass thresholds in float64.  Gradients: 1e-7, the rule of thumb for central
#: differences (truncation O(h²) plus rounding O(u/h) at the default step); the HVP is a central
#: difference of gradients, one order looser; the symmetry of the exact HVP is a rounding-level
#: quantity (1e-12 ≈ 4500 u, u = 2^-53).
THRESHOLDS = {"param_grad": 1e-7, "input_grad": 1e-7, "hvp": 1e-6, "hvp_symmetry": 1e-12}


def rel_error(a: Any, b: Any, tiny: float = 1e-300) -> float:
    """``‖a - b‖ / max(tiny, ‖a‖ + ‖b‖)`` over all entries (0 when both are zero)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a, b: shapes differ, {a.shape} vs {b.shape}.")
    return float(np.linalg.norm(a - b) / max(tiny, np.linalg.norm(a) + np.linalg.norm(b)))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6
                       ) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at array ``x`` (any shape; ``x`` unchanged).

    Costs ``2 x.size`` evaluations of ``f``.
    """
    h = check_scalar(h, "h", low=0, low_inclusive=False)
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        f_plus = f(x)
        flat[i] = saved - h
        f_minus = f(x)
        flat[i] = saved
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_directional_derivative(f: Callable, x: np.ndarray, v: np.ndarray,
                                     h: float = 1e-5) -> Any:
    """``(f(x + h v) - f(x - h v)) / (2h)`` for array-valued ``f`` (used for HVPs)."""
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


class GradCheckReport(NamedTuple):
    """Relative errors of one model check, with the thresholds used."""

    param_grad: float
    input_grad: float
    hvp: float
    hvp_symmetry: float
    thresholds: dict

    @property
    def passed(self) -> bool:
        """True when every error is at most its threshold."""
        return all(getattr(self, key) <= limit for key, limit in self.thresholds.items())

    def __str__(self) -> str:
        rows = [f"{key:<13} {getattr(self, key):.2e}  (<= {limit:.0e}: "
                f"{'ok' if getattr(self, key) <= limit else 'FAIL'})"
                for key, limit in self.thresholds.items()]
        return "\n".join(rows)


def check_param_grads(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                      h: float = 1e-6, l2: float = 0.0) -> float:
    """Relative error of ``model.loss_and_grads`` parameter gradients vs central differences."""
    analytic = flatten(model.loss_and_grads(params, X, y, input_grad=False, l2=l2).grads)
    theta = flatten(params).astype(np.float64)
    numeric = numerical_gradient(lambda t: model.loss(unflatten(t, params), X, y, l2=l2),
                                 theta, h)
    return rel_error(analytic, numeric)


def check_input_grads(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                      h: float = 1e-6) -> float:
    """Relative error of the input gradient ``∂L/∂X`` vs central differences."""
    analytic = model.loss_and_grads(params, X, y, param_grads=False).input_grad
    numeric = numerical_gradient(lambda x: model.loss(params, x.astype(X.dtype), y), X, h)
    return rel_error(analytic, numeric)


def check_hvp(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *, rng: Any = None,
              h: float = 1e-5) -> tuple[float, float]:
    """Check the R-operator HVP.

    Returns
    -------
    fd_error : float
        Relative error of ``H v`` vs the central difference of exact gradients along ``v``.
    symmetry_error : float
        ``|uᵀHv - vᵀHu| / max(tiny, |uᵀHv| + |vᵀHu|)`` for random ``u, v``.
    """
    gen = as_generator(rng)
    theta = flatten(params)
    u = gen.standard_normal(theta.size).astype(theta.dtype)
    v = gen.standard_normal(theta.size).astype(theta.dtype)
    hv = flatten(model.hvp(params, X, y, unflatten(v, params)))
    hu = flatten(model.hvp(params, X, y, unflatten(u, params)))

    def grad_at(t):
        return flatten(model.loss_and_grads(unflatten(t, params), X, y, input_grad=False).grads)

    numeric = numerical_directional_derivative(grad_at, theta, v, h)
    return rel_error(hv, numeric), rel_error(u @ hv, v @ hu)


def check_model(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *, rng: Any = None,
                thresholds: dict | None = None) -> GradCheckReport:
    """Run all three checks on one model and return a :class:`GradCheckReport`.

    Meant for float64 and small problems (cost: ``2 (n_params + X.size)`` loss evaluations).
    """
    param_err = check_param_grads(model, params, X, y)
    input_err = check_input_grads(model, params, X, y)
    hvp_err, sym_err = check_hvp(model, params, X, y, rng=rng)
    return GradCheckReport(param_err, input_err, hvp_err, sym_err,
                           dict(THRESHOLDS if thresholds is None else thresholds))


def suite_models(dtype: Any = np.float64) -> list[tuple[str, Model]]:
    """Every model × activation × output × loss combination the library offers, small sizes.

    Logistic regression (binary logistic loss), softmax/sigsoftmax regression (no hidden
    layer), and a two-hidden-layer MLP for each activation and output.
    """
    from .models import ACTIVATIONS, MLP, LogisticRegressionModel

    models: list[tuple[str, Model]] = [("logistic", LogisticRegressionModel(4, dtype=dtype))]
    for output in ("softmax", "sigsoftmax"):
        models.append((f"linear/{output}", MLP([4, 3], output=output, dtype=dtype)))
        for activation in ACTIVATIONS:
            models.append((f"mlp-{activation}/{output}",
                           MLP([4, 5, 4, 3], activation=activation, output=output, dtype=dtype)))
    return models


def suite_problem(model: Model, rng: Any = None, *, n_samples: int = 6,
                  kink_margin: float = 1e-3):
    """Random parameters and data for ``model``, redrawn until every hidden pre-activation is at
    least ``kink_margin`` away from 0 (so relu is differentiable within the FD step)."""
    gen = as_generator(rng)
    for _ in range(100):
        params = model.init_params(gen)
        params = {k: (v + 0.3 * gen.standard_normal(np.shape(v))).astype(model.dtype)
                  for k, v in params.items()}
        X = gen.standard_normal((n_samples, model.n_features)).astype(model.dtype)
        y = gen.integers(0, model.n_classes, n_samples)
        cache = model.forward(params, X)[1]
        pre = getattr(cache, "pre", [])                  # an MLP's hidden pre-activations
        if all(np.min(np.abs(a)) > kink_margin for a in pre):
            return params, X, y
    raise RuntimeError("could not draw a kink-free problem")  # pragma: no cover


def run_suite(rng: Any = 0) -> list[tuple[str, GradCheckReport]]:
    """Gradient-check every combination of :func:`suite_models` in float64."""
    gen = as_generator(rng)
    results = []
    for name, model in suite_models():
        params, X, y = suite_problem(model, gen)
        results.append((name, check_model(model, params, X, y, rng=gen)))
    return results
