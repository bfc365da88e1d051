"""Pure optimizers ``(init, update)``, learning-rate schedules and the optimizer registry.

Every optimizer is called the same way::

    opt = OPTIMIZERS["momentum"](lr=0.1)
    state = opt.init(params)
    updates, state = opt.update(grads, state, params, grad_fn=grad_fn)
    params = apply_updates(params, updates)

``grad_fn(params) -> grads`` is ignored by the plain optimizers.  Entropy-SGD calls it ``L``
times per update and expects a FRESH minibatch at each call; SAM calls it once at the
perturbed point and expects the SAME minibatch as ``grads`` (see :data:`GRAD_FN_BATCH`).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import (
    AdamState,
    Optimizer,
    Schedule,
    SGDState,
    adam,
    apply_updates,
    constant_schedule,
    cosine_decay_schedule,
    exponential_decay,
    piecewise_constant_schedule,
    sgd,
)
from .entropy_sgd import (
    EntropySGDState,
    entropy_sgd,
    langevin_mean,
    local_entropy_grad,
    scoped_gamma,
)
from .sam import SAMState, sam, sam_perturbation

__all__ = [
    "Optimizer", "Schedule", "SGDState", "AdamState", "EntropySGDState", "SAMState",
    "apply_updates", "sgd", "adam", "entropy_sgd", "sam",
    "constant_schedule", "piecewise_constant_schedule", "exponential_decay",
    "cosine_decay_schedule",
    "local_entropy_grad", "langevin_mean", "scoped_gamma", "sam_perturbation",
    "OPTIMIZERS", "GRAD_FN_BATCH", "make_optimizer",
]


def _sgd(lr=0.1, l2=0.0) -> Optimizer:
    """Plain SGD, lr 0.1."""
    return sgd(lr, l2=l2)


def _momentum(lr=0.1, momentum=0.9, l2=0.0) -> Optimizer:
    """Heavy-ball SGD, lr 0.1, momentum 0.9."""
    return sgd(lr, momentum=momentum, l2=l2)


def _nesterov(lr=0.1, momentum=0.9, l2=0.0) -> Optimizer:
    """Nesterov SGD, lr 0.1, momentum 0.9."""
    return sgd(lr, momentum=momentum, nesterov=True, l2=l2)


def _adam(lr=1e-3, b1=0.9, b2=0.999, damping=1e-8) -> Optimizer:
    """Adam with the paper's defaults."""
    return adam(lr, b1=b1, b2=b2, damping=damping)


def _sam(lr=0.1, rho=0.05, momentum=0.9, l2=0.0) -> Optimizer:
    """SAM around heavy-ball SGD (Foret et al.'s setting), rho 0.05."""
    return sam(sgd(lr, momentum=momentum, l2=l2), rho=rho)


#: Factories with sensible defaults; call with keyword overrides,
#: e.g. ``OPTIMIZERS["adam"](lr=0.01)``.
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adam": _adam,
    "entropy_sgd": entropy_sgd,
    "sam": _sam,
}

#: What ``grad_fn`` must evaluate for each registry entry (``Optimizer.grad_fn_batch`` of the
#: default instance): ``None`` (unused), ``"fresh"`` or ``"same"``.
GRAD_FN_BATCH: dict[str, str | None] = {name: factory().grad_fn_batch
                                        for name, factory in OPTIMIZERS.items()}


def make_optimizer(name: str, **kwargs) -> Optimizer:
    """Build ``OPTIMIZERS[name](**kwargs)`` with a clear error for an unknown name."""
    if name not in OPTIMIZERS:
        raise ValueError(f"name: expected one of {sorted(OPTIMIZERS)}, got {name!r}.")
    return OPTIMIZERS[name](**kwargs)
