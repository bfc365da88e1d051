"""Loss landscapes: linear interpolation, random directions, 1-D and 2-D slices.

Everything takes a ``loss_fn``: any callable ``params -> float``.  :func:`clean_loss_fn` and
:func:`adversarial_loss_fn` build the two usual ones from a model and data.  The functions here
return grids and values; plotting belongs to the caller (``matplotlib`` is never imported).

Directions follow Li et al. (2018) and their reference code (``tomgoldstein/loss-landscape``,
``net_plotter.py``; ``docs/theory.md`` §10).  A *filter* of a dense weight ``W`` of shape
``(fan_in, fan_out)`` is the **column** ``W[:, j]`` feeding unit ``j`` (the first axis of a
PyTorch ``(out, in)`` tensor).  For logistic regression ``{"w": (d,), "b": ()}`` the single
filter is the whole ``w`` and ``b`` is a bias.

References
----------
Li, H., Xu, Z., Taylor, G., Studer, C., Goldstein, T. (2018). Visualizing the loss landscape of
neural nets. NeurIPS 2018 (arXiv:1712.09913).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_array, check_scalar
from ..models.base import Model
from ..params import Params, weight_names_of

__all__ = [
    "interpolate",
    "random_direction",
    "slice_1d",
    "slice_2d",
    "Slice1D",
    "Slice2D",
    "clean_loss_fn",
    "adversarial_loss_fn",
    "weight_names_of",
]

_NORMALIZATIONS = ("filter", "layer", "none")
_FILTER_EPS = 1e-10        # Li et al.'s guard: d_j * ‖θ_j‖ / (‖d_j‖ + 1e-10)


class Slice1D(NamedTuple):
    """``values[i] = loss_fn(θ(alphas[i]))`` along one line."""

    alphas: np.ndarray
    values: np.ndarray


class Slice2D(NamedTuple):
    """``values[i, j] = loss_fn(θ + alphas[i] d1 + betas[j] d2)`` (``indexing="ij"``)."""

    alphas: np.ndarray
    betas: np.ndarray
    values: np.ndarray


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------

def _check_tree(tree: Any, name: str) -> Params:
    if not isinstance(tree, Mapping) or not tree:
        raise TypeError(f"{name}: expected a non-empty dict of named arrays, got "
                        f"{type(tree).__name__}.")
    out = {}
    for k, v in tree.items():
        v = np.asarray(v)
        if v.dtype.kind != "f" or not np.isfinite(v).all():
            raise ValueError(f"{name}[{k!r}]: expected a finite floating-point array.")
        out[k] = v
    return out


def _check_like(tree: Any, like: Params, name: str) -> Params:
    """``tree`` must have exactly the names and shapes of ``like``."""
    tree = _check_tree(tree, name)
    if list(tree) != list(like):
        raise ValueError(f"{name}: expected the names {list(like)}, got {list(tree)}.")
    for k in like:
        if tree[k].shape != like[k].shape:
            raise ValueError(f"{name}[{k!r}]: expected shape {like[k].shape} (that of params), "
                             f"got {tree[k].shape}.")
    return tree


def _check_grid(values: Any, name: str) -> np.ndarray:
    return check_array(np.asarray(values, dtype=np.float64), name, ndim=1)


def _check_loss_fn(loss_fn: Any) -> Callable:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable params -> float, got "
                        f"{type(loss_fn).__name__}.")
    return loss_fn


def _axpy(params: Params, terms: Sequence[tuple[float, Params]]) -> Params:
    """``θ + Σ a_k d_k`` in each array's dtype (``a = 0`` leaves ``θ`` bitwise unchanged)."""
    out = {}
    for k, v in params.items():
        acc = np.array(v, copy=True)
        for a, d in terms:
            if a != 0:
                acc = acc + (a * d[k]).astype(v.dtype, copy=False)
        out[k] = acc
    return out


# --------------------------------------------------------------------------------------------
# interpolation and slices
# --------------------------------------------------------------------------------------------

def interpolate(loss_fn: Callable[[Params], float], params_a: Params, params_b: Params,
                alphas: Any) -> Slice1D:
    """Loss along the segment ``θ(α) = (1 − α) θ_a + α θ_b`` (Goodfellow et al. 2015 style).

    Parameters
    ----------
    loss_fn : callable
        ``params -> float``.
    params_a, params_b : dict
        Two parameter sets with the same names and shapes.
    alphas : array_like of shape (m,)
        Interpolation coefficients; values outside ``[0, 1]`` extrapolate (Li et al. show
        ``[-0.5, 1.5]``).

    Returns
    -------
    Slice1D
        ``values[i] = loss_fn(θ(alphas[i]))``; exactly ``loss_fn(θ_a)`` at ``α = 0`` and
        ``loss_fn(θ_b)`` at ``α = 1`` (the endpoints are reproduced bitwise).
    """
    loss_fn = _check_loss_fn(loss_fn)
    params_a = _check_tree(params_a, "params_a")
    params_b = _check_like(params_b, params_a, "params_b")
    alphas = _check_grid(alphas, "alphas")
    values = np.empty(alphas.shape[0])
    for i, a in enumerate(alphas):
        if a == 0.0 or a == 1.0:
            theta = params_b if a == 1.0 else params_a
        else:
            theta = {k: ((1 - a) * params_a[k] + a * params_b[k]).astype(params_a[k].dtype,
                                                                         copy=False)
                     for k in params_a}
        values[i] = float(loss_fn(theta))
    return Slice1D(alphas, values)


def slice_1d(loss_fn: Callable[[Params], float], params: Params, direction: Params,
             alphas: Any) -> Slice1D:
    """Loss along the line ``θ + α d`` (Li et al. 2018, section 3).

    Parameters
    ----------
    loss_fn : callable
        ``params -> float``.
    params : dict
        The centre ``θ``.
    direction : dict
        ``d``, same names and shapes as ``params`` (e.g. from :func:`random_direction`).
    alphas : array_like of shape (m,)

    Returns
    -------
    Slice1D
        ``values[i] = loss_fn(θ + alphas[i] d)``; at ``α = 0`` exactly ``loss_fn(θ)``.
    """
    loss_fn = _check_loss_fn(loss_fn)
    params = _check_tree(params, "params")
    direction = _check_like(direction, params, "direction")
    alphas = _check_grid(alphas, "alphas")
    values = np.array([float(loss_fn(_axpy(params, [(a, direction)]))) for a in alphas])
    return Slice1D(alphas, values)


def slice_2d(loss_fn: Callable[[Params], float], params: Params, d1: Params, d2: Params, *,
             alphas: Any, betas: Any) -> Slice2D:
    """Loss on the plane ``θ + α d1 + β d2`` (Li et al. 2018, contour plots).

    Parameters
    ----------
    loss_fn : callable
        ``params -> float``.
    params : dict
    d1, d2 : dict
        Two directions shaped like ``params`` (random Gaussian directions in high dimension
        are nearly orthogonal; Li et al. use two independent filter-normalised draws).
    alphas : array_like of shape (m,)
    betas : array_like of shape (k,)

    Returns
    -------
    Slice2D
        ``values`` of shape ``(m, k)``; for a contour plot use
        ``plt.contour(alphas, betas, values.T)``.
    """
    loss_fn = _check_loss_fn(loss_fn)
    params = _check_tree(params, "params")
    d1 = _check_like(d1, params, "d1")
    d2 = _check_like(d2, params, "d2")
    alphas, betas = _check_grid(alphas, "alphas"), _check_grid(betas, "betas")
    values = np.empty((alphas.shape[0], betas.shape[0]))
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            values[i, j] = float(loss_fn(_axpy(params, [(a, d1), (b, d2)])))
    return Slice2D(alphas, betas, values)


# --------------------------------------------------------------------------------------------
# directions
# --------------------------------------------------------------------------------------------

def _filter_normalize(d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``d_j ← d_j ‖θ_j‖ / (‖d_j‖ + 1e-10)`` per column (all axes but the last reduced)."""
    if d.ndim == 1:                                       # a 1-D weight: one filter
        return d * (np.linalg.norm(theta) / (np.linalg.norm(d) + _FILTER_EPS))
    axes = tuple(range(d.ndim - 1))
    d_norm = np.sqrt(np.sum(d * d, axis=axes))           # (fan_out,)
    t_norm = np.sqrt(np.sum(theta * theta, axis=axes))
    return d * (t_norm / (d_norm + _FILTER_EPS))


def random_direction(params: Params, rng: Any = None, normalization: str = "filter",
                     ignore_bias: bool = True,
                     weight_names: Sequence[str] | None = None) -> Params:
    """A Gaussian direction shaped like ``params``, normalised as in Li et al. (2018).

    Parameters
    ----------
    params : dict
        The parameters ``θ`` whose scale the direction copies.
    rng : None, int or Generator
        The only source of randomness (draws in ``params`` order, float64, then cast).
    normalization : {"filter", "layer", "none"}
        ``"filter"``: every filter ``d_j`` (column ``W[:, j]`` of a ``(fan_in, fan_out)``
        weight; the whole vector for a 1-D weight) is rescaled to ``‖θ_j‖``;
        ``"layer"``: every weight tensor to ``‖θ_W‖_F``; ``"none"``: raw ``N(0, 1)``.
    ignore_bias : bool, default True
        Biases get direction 0 (Li et al.'s ``ignore='biasbn'``); if False they get a copy of
        ``θ_b`` (their code's choice for 1-D tensors when not ignored).
    weight_names : sequence of str, optional
        Which arrays are weights; default :func:`weight_names_of` (``ndim >= 2``, or the 1-D
        arrays when there is none) — pass ``model.weight_names`` to be explicit.

    Returns
    -------
    dict
        Same names, shapes and dtypes as ``params``.

    Notes
    -----
    ``d_j ← d_j · ‖θ_j‖ / (‖d_j‖ + 1e-10)``: removes the scale invariance of ReLU networks so that
    slices of different networks are comparable (Li et al. 2018, section 4).
    """
    params = _check_tree(params, "params")
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {_NORMALIZATIONS}, got "
                         f"{normalization!r}.")
    if not isinstance(ignore_bias, (bool, np.bool_)):
        raise TypeError(f"ignore_bias: expected a bool, got {type(ignore_bias).__name__}.")
    if isinstance(weight_names, str):
        raise TypeError(f"weight_names: expected a sequence of names, got the string "
                        f"{weight_names!r}; write ({weight_names!r},).")
    weights = weight_names_of(params) if weight_names is None else tuple(weight_names)
    unknown = [k for k in weights if k not in params]
    if unknown:
        raise ValueError(f"weight_names: {unknown} are not names of params {list(params)}.")
    gen = as_generator(rng)
    out = {}
    for k, theta in params.items():
        d = gen.standard_normal(theta.shape)
        if k not in weights:
            d = np.zeros_like(d) if ignore_bias else np.array(theta, dtype=np.float64)
        elif normalization == "filter":
            d = _filter_normalize(d, theta.astype(np.float64))
        elif normalization == "layer":
            d = d * (np.linalg.norm(theta) / (np.linalg.norm(d) + _FILTER_EPS))
        out[k] = d.astype(theta.dtype, copy=False)
    if normalization != "none" and not any(np.any(out[k]) for k in weights):
        raise ValueError(f"params: every weight in {list(weights)} is 0, so the "
                         f"{normalization}-normalised direction is 0 (each filter is rescaled "
                         "to the norm of its weights); use normalization='none' or non-zero "
                         "params.")
    return out


# --------------------------------------------------------------------------------------------
# loss callables
# --------------------------------------------------------------------------------------------

def _check_data(model: Model, X: Any, y: Any):
    if not isinstance(model, Model):
        raise TypeError(f"model: expected a minadv Model, got {type(model).__name__}.")
    if y is None:
        raise ValueError("y: the loss needs the labels; got None.")
    _, X, y = model.check_inputs(model.param_template(), X, y)
    return X, y


def _mean_loss(model: Model, params: Params, X: np.ndarray, y: np.ndarray, l2: float) -> float:
    return model.loss_and_grads_kernel(params, X, y, param_grads=False, input_grad=False,
                                       l2=l2).loss


def clean_loss_fn(model: Model, X: np.ndarray, y: np.ndarray, *,
                  l2: float = 0.0) -> Callable[[Params], float]:
    """``params -> (1/n) Σ ℓ(x_i, y_i; θ) + (l2/2) Σ‖W‖²`` with ``X``, ``y`` validated once.

    Each call validates ``params`` (names, shapes, dtype, finiteness) and runs one forward pass.
    """
    X, y = _check_data(model, X, y)
    l2 = check_scalar(l2, "l2", low=0.0)

    def loss_fn(params: Params) -> float:
        return _mean_loss(model, model.check_params(params), X, y, l2)

    return loss_fn


def adversarial_loss_fn(model: Model, X: np.ndarray, y: np.ndarray,
                        attack: Callable[..., np.ndarray], *, l2: float = 0.0,
                        **attack_kwargs: Any) -> Callable[[Params], float]:
    """``params -> (1/n) Σ ℓ(x_i + δ_i(θ), y_i; θ)``: the attack is re-run at every ``θ``.

    Parameters
    ----------
    model : Model
    X, y : arrays
        Clean data (validated once).
    attack : callable
        Either ``attack(params, X, y) -> X_adv`` or, when ``attack_kwargs`` are given, a library
        attack called as ``attack(model, params, X, y, **attack_kwargs)`` (e.g.
        ``adversarial_loss_fn(model, X, y, pgd, eps=0.1, rng=0)``).  Pass a seed, not a
        shared Generator, for attacks with random starts if the landscape must be
        deterministic.
    l2 : float, default 0

    Returns
    -------
    callable
        ``params -> float``.  Plotting this along a direction shows the adversarial loss
        ``L_adv(θ)`` of ``docs/theory.md`` eq. (3.2), attack included.
    """
    X, y = _check_data(model, X, y)
    l2 = check_scalar(l2, "l2", low=0.0)
    if not callable(attack):
        raise TypeError(f"attack: expected a callable, got {type(attack).__name__}.")

    def loss_fn(params: Params) -> float:
        params = model.check_params(params)
        if attack_kwargs:
            X_adv = attack(model, params, X, y, **attack_kwargs)
        else:
            X_adv = attack(params, X, y)
        X_adv = model.check_X(X_adv, "X_adv")
        return _mean_loss(model, params, X_adv, y, l2)

    return loss_fn
