"""Optimizers as pure ``(init, update)`` pairs, and learning-rate schedules.

The design follows optax (``optax/_src/base.py``, ``alias.py``): an optimizer is a pair of pure
functions

* ``init(params) -> state``
* ``update(grads, state, params, *, grad_fn=None) -> (updates, new_state)``

and the new parameters are ``apply_updates(params, updates) = params + updates``.  States are
NamedTuples of arrays plus an integer step ``count`` (the number of updates already applied);
``update`` never modifies ``grads``, ``state`` or ``params``.  Every ``update`` accepts the
keyword ``grad_fn`` so that a training loop can call all optimizers the same way; the plain
optimizers here ignore it, :func:`minadv.optim.entropy_sgd` and :func:`minadv.optim.sam` need it.

Dtypes: updates and state buffers keep the dtype of ``params`` (float32 stays float32).
Hyper-parameters are Python floats and the learning rate of step ``count`` is converted with
``float(...)`` before use, so a NumPy float64 scalar returned by a schedule never upcasts
float32 arrays.

A learning rate ``lr`` is either a number or a schedule, a callable ``count -> lr`` where
``count = 0`` for the first update (optax convention).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_int, check_scalar
from ..params import Params, weight_names_of

__all__ = [
    "Optimizer",
    "Schedule",
    "SGDState",
    "AdamState",
    "apply_updates",
    "sgd",
    "adam",
    "constant_schedule",
    "piecewise_constant_schedule",
    "exponential_decay",
    "cosine_decay_schedule",
    "check_lr",
    "check_bool",
    "check_grads",
    "call_grad_fn",
    "lr_at",
    "like_dtype",
    "sgd_direction",
]

Schedule = Callable[[int], float]


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state`` and
    ``update(grads, state, params, *, grad_fn=None) -> (updates, new_state)``.

    ``grad_fn_batch`` says what ``grad_fn`` must evaluate: ``None`` (not used), ``"fresh"`` (a
    new minibatch at every call: EntropySGD's Langevin steps) or ``"same"`` (the minibatch
    that produced ``grads``: SAM's ascent point).  The training loop reads it.
    """

    init: Callable[..., Any]
    update: Callable[..., Any]
    grad_fn_batch: str | None = None


class SGDState(NamedTuple):
    """State of :func:`sgd`: step ``count`` and the momentum ``trace`` (``{}`` without momentum)."""

    count: int
    trace: Params


class AdamState(NamedTuple):
    """State of :func:`adam`: step ``count``, first moment ``mu``, second moment ``nu``."""

    count: int
    mu: Params
    nu: Params


# --------------------------------------------------------------------------- helpers


def apply_updates(params: Mapping[str, np.ndarray], updates: Mapping[str, np.ndarray]) -> Params:
    """Return ``params + updates`` key by key, in ``params``' dtype (inputs are not modified).

    Raises
    ------
    ValueError
        If the two mappings do not have the same names.
    """
    if list(params) != list(updates):
        raise ValueError(
            f"updates: expected the names {list(params)} of params, got {list(updates)}."
        )
    return {k: like_dtype(np.asarray(p) + updates[k], p) for k, p in params.items()}


def check_lr(lr: Any, name: str = "lr") -> Schedule:
    """Validate a learning rate (number ``>= 0`` or schedule) and return it as a schedule."""
    if callable(lr):
        return lr
    value = check_scalar(lr, name, low=0.0)
    return constant_schedule(value)


def lr_at(schedule: Schedule, count: int) -> float:
    """The learning rate of step ``count`` as a Python float (never upcasts float32)."""
    return float(schedule(count))


def like_dtype(value: Any, ref: np.ndarray) -> np.ndarray:
    """``value`` as an array of ``ref``'s dtype (0-d arithmetic returns NumPy scalars)."""
    return np.asarray(value, dtype=ref.dtype if isinstance(ref, np.ndarray) else np.asarray(ref).dtype)


# --------------------------------------------------------------------------- SGD


def check_grads(grads: Any, params: Mapping[str, np.ndarray], name: str = "grads") -> None:
    """Raise ``ValueError`` unless ``grads`` is a mapping with every name of ``params``."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"{name}: expected a mapping of named arrays, got {type(grads).__name__}.")
    missing = [k for k in params if k not in grads]
    if missing:
        raise ValueError(f"{name}: expected the names {list(params)} of params, "
                         f"missing {missing}.")


def sgd_direction(g, p, buf, *, momentum: float, nesterov: bool, l2: float):
    """One coordinate block of SGD: returns ``(direction, new_buffer)`` (PyTorch convention).

    ``l2`` is the coefficient of the penalty ``(l2/2)||p||²`` for this block (the caller passes
    0 for a bias: biases are unpenalized).
    """
    if l2:
        g = g + l2 * p                                # gradient of (l2/2)||p||^2
    if not momentum:
        return g, None
    buf = momentum * buf + g                          # heavy-ball trace, no dampening
    return (g + momentum * buf if nesterov else buf), buf


def sgd(lr: float | Schedule, *, momentum: float = 0.0, nesterov: bool = False,
        l2: float = 0.0) -> Optimizer:
    r"""Stochastic gradient descent with optional (Nesterov) momentum and an L2 penalty.

    Parameters
    ----------
    lr : float >= 0 or callable ``count -> float``
        Learning rate or schedule.
    momentum : float in [0, 1), default 0
        Heavy-ball coefficient :math:`m`.
    nesterov : bool, default False
        Use Nesterov's look-ahead form (requires ``momentum > 0``).
    l2 : float >= 0, default 0
        Coefficient :math:`\lambda` of the coupled L2 penalty ``½·l2·Σ‖W‖²`` on the weights
        (:func:`minadv.params.weight_names_of`; biases unpenalized, the convention of
        :mod:`minadv.losses`): :math:`\lambda W` is added to the gradient of every weight.

    Returns
    -------
    Optimizer

    Notes
    -----
    PyTorch's ``torch.optim.SGD`` with zero dampening (also the Torch7 ``optim.sgd`` used by
    the Entropy-SGD and VAT reference code), except that the penalty skips the biases (PyTorch
    decays every tensor it is given).  With :math:`g \leftarrow g + \lambda W` on the weights,

    .. math::
        b_t = m\, b_{t-1} + g_t \ (b_0 = 0), \qquad
        d_t = \begin{cases} g_t + m\, b_t & \text{Nesterov} \\ b_t & \text{otherwise}\end{cases},
        \qquad \Delta\theta_t = -\eta_t\, d_t .

    Without momentum the state holds no buffer and :math:`d_t = g_t`.

    References
    ----------
    Sutskever, Martens, Dahl, Hinton (2013), "On the importance of initialization and momentum
    in deep learning", ICML, eq. (1)-(4).
    """
    schedule = check_lr(lr)
    momentum = check_scalar(momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    l2 = check_scalar(l2, "l2", low=0.0)
    nesterov = check_bool(nesterov, "nesterov")
    if nesterov and momentum == 0.0:
        raise ValueError("nesterov: Nesterov momentum requires momentum > 0, got momentum=0.")

    def init(params: Mapping[str, np.ndarray]) -> SGDState:
        trace = {k: np.zeros_like(v) for k, v in params.items()} if momentum else {}
        return SGDState(count=0, trace=trace)

    def update(grads, state: SGDState, params, *, grad_fn=None):
        del grad_fn  # plain SGD uses the given gradient only
        check_grads(grads, params)
        step = -lr_at(schedule, state.count)
        updates, trace = {}, {}
        weights = weight_names_of(params) if l2 else ()
        for k, p in params.items():
            d, buf = sgd_direction(grads[k], p, state.trace.get(k), momentum=momentum,
                                   nesterov=nesterov, l2=l2 if k in weights else 0.0)
            updates[k] = like_dtype(step * d, p)
            if buf is not None:
                trace[k] = like_dtype(buf, p)
        return updates, SGDState(count=state.count + 1, trace=trace)

    return Optimizer(init, update)


# --------------------------------------------------------------------------- Adam


def adam(lr: float | Schedule, *, b1: float = 0.9, b2: float = 0.999,
         damping: float = 1e-8) -> Optimizer:
    r"""Adam (Kingma & Ba 2015) with bias correction.

    Parameters
    ----------
    lr : float >= 0 or callable ``count -> float``
        Step size :math:`\alpha` or schedule.
    b1, b2 : float in [0, 1), defaults 0.9 and 0.999
        Decay rates of the first and second moment estimates.
    damping : float >= 0, default 1e-8
        The paper's :math:`\epsilon`, added to :math:`\sqrt{\hat v}` in the denominator (named
        ``damping`` because ``eps`` is only ever the attack radius in minadv).

    Notes
    -----
    Algorithm 1 of the paper, with :math:`t = \text{count} + 1`:

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        \Delta\theta_t = -\alpha_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}.

    Because of the bias correction the first step is :math:`-\alpha\, g/(|g|+\epsilon)
    \approx -\alpha\,\mathrm{sign}(g)`.  The VAT reference code uses Adam with
    :math:`\alpha = 0.002` decayed by 0.9 per epoch (``exponential_decay``).

    References
    ----------
    Kingma, Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR, Algorithm 1.
    """
    schedule = check_lr(lr)
    b1 = check_scalar(b1, "b1", low=0.0, high=1.0, high_inclusive=False)
    b2 = check_scalar(b2, "b2", low=0.0, high=1.0, high_inclusive=False)
    damping = check_scalar(damping, "damping", low=0.0)

    def init(params: Mapping[str, np.ndarray]) -> AdamState:
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return AdamState(count=0, mu=zeros, nu={k: np.zeros_like(v) for k, v in params.items()})

    def update(grads, state: AdamState, params, *, grad_fn=None):
        del grad_fn
        check_grads(grads, params)
        t = state.count + 1
        lr_t = lr_at(schedule, state.count)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t              # bias corrections
        updates, mu, nu = {}, {}, {}
        for k, p in params.items():
            g = grads[k]
            mu[k] = like_dtype(b1 * state.mu[k] + (1.0 - b1) * g, p)
            nu[k] = like_dtype(b2 * state.nu[k] + (1.0 - b2) * (g * g), p)
            updates[k] = like_dtype(-lr_t * (mu[k] / c1) / (np.sqrt(nu[k] / c2) + damping), p)
        return updates, AdamState(count=t, mu=mu, nu=nu)

    return Optimizer(init, update)


# --------------------------------------------------------------------------- schedules


def constant_schedule(value: float) -> Schedule:
    """``count -> value`` for every step."""
    value = check_scalar(value, "value", low=0.0)
    return lambda count: value


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: Mapping[int, float] | None = None
                                ) -> Schedule:
    r"""Step decay: multiply by ``scale`` once ``count >= boundary``, for each boundary.

    Parameters
    ----------
    init_value : float >= 0
        Learning rate before the first boundary.
    boundaries_and_scales : mapping int -> float, optional
        ``{30: 0.2, 60: 0.2}`` gives ``lr`` for counts ``0..29``, ``0.2 lr`` for ``30..59`` and
        ``0.04 lr`` from 60 on (the Entropy-SGD paper's SGD baselines, ×0.2 at given epochs;
        multiply epochs by steps per epoch).

    Notes
    -----
    :math:`\eta(t) = \eta_0 \prod_{b \le t} s_b` (optax ``piecewise_constant_schedule``).
    """
    init_value = check_scalar(init_value, "init_value", low=0.0)
    items = []
    for b, s in (boundaries_and_scales or {}).items():
        items.append((check_int(b, "boundaries_and_scales (boundary)", low=0),
                      check_scalar(s, "boundaries_and_scales (scale)", low=0.0)))
    items.sort()

    def schedule(count: int) -> float:
        value = init_value
        for boundary, scale in items:
            if count >= boundary:
                value *= scale
        return value

    return schedule


def exponential_decay(init_value: float, decay_rate: float, transition_steps: int = 1,
                      staircase: bool = True) -> Schedule:
    r"""Exponential decay :math:`\eta(t) = \eta_0\, r^{t / T}` (``floor(t/T)`` if staircase).

    Parameters
    ----------
    init_value : float >= 0
    decay_rate : float > 0
        ``r``; e.g. 0.995 per epoch (VAT synthetic runs, momentum SGD) or 0.9 per epoch (VAT
        MNIST runs, Adam).
    transition_steps : int >= 1, default 1
        ``T``: the number of updates per decay, e.g. the number of minibatches per epoch.
    staircase : bool, default True
        Decay in discrete jumps every ``T`` updates (the reference codes decay once per epoch).
    """
    init_value = check_scalar(init_value, "init_value", low=0.0)
    decay_rate = check_scalar(decay_rate, "decay_rate", low=0.0, low_inclusive=False)
    transition_steps = check_int(transition_steps, "transition_steps", low=1)
    staircase = check_bool(staircase, "staircase")

    def schedule(count: int) -> float:
        p = count // transition_steps if staircase else count / transition_steps
        return init_value * decay_rate ** p

    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, final_fraction: float = 0.0) -> Schedule:
    r"""Cosine decay (Loshchilov & Hutter 2017, SGDR without restarts).

    .. math::
        \eta(t) = \eta_0\left[(1-f)\,\tfrac12\left(1 + \cos\frac{\pi \min(t, T)}{T}\right)
        + f\right]

    Parameters
    ----------
    init_value : float >= 0
    decay_steps : int >= 1
        ``T``; the rate stays at ``final_fraction * init_value`` after ``T`` updates.
    final_fraction : float in [0, 1], default 0
        ``f``, the final fraction of ``init_value`` (optax's ``alpha``; minadv keeps ``alpha``
        for no hyper-parameter, ``docs/vocabulary.md``).
    """
    init_value = check_scalar(init_value, "init_value", low=0.0)
    decay_steps = check_int(decay_steps, "decay_steps", low=1)
    final_fraction = check_scalar(final_fraction, "final_fraction", low=0.0, high=1.0)

    def schedule(count: int) -> float:
        frac = min(count, decay_steps) / decay_steps
        f = final_fraction
        return init_value * ((1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * frac)) + f)

    return schedule


def check_bool(value: Any, name: str) -> bool:
    """Validate a bool flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}.")
    return bool(value)



def call_grad_fn(grad_fn: Any, params: Params, who: str, purpose: str) -> Params:
    """Call ``grad_fn(params)`` and check that it returns a gradient for every name.

    ``who`` names the optimizer and ``purpose`` says which gradient it needs, for the message
    raised when ``grad_fn`` is missing.
    """
    if grad_fn is None:
        raise TypeError(
            f"grad_fn: {who} needs grad_fn(params) -> grads ({purpose}); call "
            f"update(grads, state, params, grad_fn=...)."
        )
    grads = grad_fn(params)
    if not isinstance(grads, Mapping) or any(k not in grads for k in params):
        got = list(grads) if isinstance(grads, Mapping) else type(grads).__name__
        raise ValueError(f"grad_fn: expected a mapping with the names {list(params)}, got {got}.")
    return grads
