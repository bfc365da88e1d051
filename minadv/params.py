"""Parameters as ordered mappings of named arrays, and the few operations on them.

A parameter set is a plain ``dict`` mapping names to arrays, in a fixed order (``{"W1": (784,
256), "b1": (256,), ...}`` for an MLP, ``{"w": (d,), "b": ()}`` for logistic regression).
Weights are shaped ``(fan_in, fan_out)`` (row-vector batch convention, ``h = x W + b``).
The analysis works on flat vectors: :func:`flatten` and :func:`unflatten` convert, in the
dict's order.  The ``tree_*`` helpers are what optimizers and analysis use; none of them
mutates its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._validation import as_generator, check_array, check_int

#: A parameter set: names mapped to arrays, in a fixed order (the one alias used everywhere).
Params = dict[str, np.ndarray]

__all__ = [
    "Params",
    "weight_names_of",
    "flatten",
    "unflatten",
    "n_params",
    "tree_add",
    "tree_scale",
    "tree_dot",
    "tree_norm",
    "tree_zeros_like",
    "tree_copy",
    "tree_equal",
    "check_params",
    "init_weight",
]


def n_params(params: Mapping[str, np.ndarray]) -> int:
    """Total number of scalar parameters."""
    return int(sum(np.size(v) for v in params.values()))


def _check_mapping(params: Any, name: str) -> None:
    if not isinstance(params, Mapping):
        raise TypeError(f"{name}: expected a mapping of named arrays (e.g. model.init_params()), "
                        f"got {type(params).__name__}.")


def flatten(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Concatenate all arrays (in the mapping's order, C order) into one vector.

    Raises
    ------
    TypeError
        If ``params`` is not a mapping (a list of arrays has no names to restore them by).
    """
    _check_mapping(params, "params")
    arrays = [np.ravel(v) for v in params.values()]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def unflatten(vector: Any, like: Mapping[str, np.ndarray]) -> Params:
    """Split ``vector`` into arrays shaped (and typed) like ``like``.

    Raises
    ------
    ValueError
        If ``vector`` is not 1-D or its length differs from the number of parameters.
    """
    _check_mapping(like, "like")
    vector = np.asarray(vector)
    total = n_params(like)
    if vector.ndim != 1 or vector.shape[0] != total:
        raise ValueError(
            f"vector: expected a 1-D array of length {total} (the number of parameters), "
            f"got shape {vector.shape}."
        )
    out: Params = {}
    start = 0
    for name, ref in like.items():
        size = int(np.size(ref))
        out[name] = vector[start:start + size].reshape(np.shape(ref)).astype(
            np.asarray(ref).dtype, copy=True)
        start += size
    return out


def tree_add(a: Mapping, b: Mapping, scale: float = 1.0) -> Params:
    """``a + scale * b``, key by key."""
    return {k: a[k] + scale * b[k] for k in a}


def tree_scale(a: Mapping, scale: float) -> Params:
    """``scale * a``, key by key."""
    return {k: scale * v for k, v in a.items()}


def tree_dot(a: Mapping, b: Mapping) -> float:
    """Inner product ``sum_k <a_k, b_k>`` (accumulated in float64)."""
    return float(sum(np.dot(np.ravel(a[k]).astype(np.float64), np.ravel(b[k]).astype(np.float64))
                     for k in a))


def tree_norm(a: Mapping) -> float:
    """Euclidean norm of all entries together."""
    return float(np.sqrt(tree_dot(a, a)))


def tree_zeros_like(a: Mapping) -> Params:
    """Zeros with the same names, shapes and dtypes."""
    return {k: np.zeros_like(v) for k, v in a.items()}


def tree_copy(a: Mapping) -> Params:
    """Deep copy of every array."""
    return {k: np.array(v, copy=True) for k, v in a.items()}


def tree_equal(a: Mapping, b: Mapping) -> bool:
    """True when both have the same names and bitwise-identical arrays."""
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


def check_params(params: Any, like: Mapping[str, np.ndarray], name: str = "params") -> Params:
    """Validate that ``params`` has exactly the names, shapes and dtype of ``like``.

    ``like`` is a template (usually ``model.param_shapes`` turned into zeros).  Raises
    ``TypeError`` for a non-mapping or a wrong dtype and ``ValueError`` for missing/extra
    names, wrong shapes or non-finite values.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{name}: expected a mapping of named arrays, got {type(params).__name__}.")
    missing = [k for k in like if k not in params]
    extra = [k for k in params if k not in like]
    if missing or extra:
        raise ValueError(
            f"{name}: expected the names {list(like)}, missing {missing}, unexpected {extra}."
        )
    for key, ref in like.items():
        check_array(params[key], f"{name}[{key!r}]", ndim=np.ndim(ref), dtype=np.asarray(ref).dtype,
                    shape=np.shape(ref))
    return dict(params)


def init_weight(
    fan_in: int,
    fan_out: int,
    scheme: str,
    rng: Any = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Draw a ``(fan_in, fan_out)`` weight matrix.

    Parameters
    ----------
    scheme : {"he", "glorot", "zeros"}
        ``"he"``: normal with std ``sqrt(2 / fan_in)`` (He et al. 2015, for ReLU);
        ``"glorot"``: uniform on ``[-a, a]``, ``a = sqrt(6 / (fan_in + fan_out))`` (Glorot &
        Bengio 2010, for tanh/sigmoid); ``"zeros"``.
    rng : None, int or numpy.random.Generator
        The only source of randomness.

    Raises
    ------
    ValueError
        ``fan_in`` or ``fan_out`` below 1 (He's ``sqrt(2 / fan_in)`` needs ``fan_in >= 1``) or an
        unknown scheme.
    """
    fan_in, fan_out = check_int(fan_in, "fan_in", low=1), check_int(fan_out, "fan_out", low=1)
    gen = as_generator(rng)
    if scheme == "he":
        w = gen.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
    elif scheme == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = gen.uniform(-limit, limit, size=(fan_in, fan_out))
    elif scheme == "zeros":
        w = np.zeros((fan_in, fan_out))
    else:
        raise ValueError(f"scheme: expected the initialisation 'he', 'glorot' or 'zeros', got "
                         f"{scheme!r}.")
    return w.astype(dtype, copy=False)


def weight_names_of(params: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """Which arrays are *weights* (penalized, filtered) rather than biases.

    The one rule "biases unpenalized" of ``losses`` applied to a bare params dict (an optimizer
    or a landscape direction does not see the model): it agrees with every model's
    ``weight_names`` (``tests/test_optim.py``).

    Arrays with ``ndim >= 2`` are weights.  If there is none (logistic regression
    ``{"w": (d,), "b": ()}``), the 1-D arrays are weights (each one filter) and the 0-D ones
    biases.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params: expected a dict of arrays, got {type(params).__name__}.")
    names = tuple(k for k, v in params.items() if np.ndim(v) >= 2)
    if names:
        return names
    return tuple(k for k, v in params.items() if np.ndim(v) == 1)
