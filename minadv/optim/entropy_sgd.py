"""Entropy-SGD (Chaudhari et al. 2017), faithful to the authors' Lua code.

Entropy-SGD minimises the *local entropy* :math:`-F(x;\\gamma)` instead of the loss
:math:`f`,

.. math::
    F(x;\\gamma) = \\log \\int \\exp\\big(-f(x') - \\tfrac{\\gamma}{2}\\|x - x'\\|^2\\big)\\,dx',
    \\qquad -\\nabla F(x;\\gamma) = \\gamma\\,(x - \\langle x' \\rangle),

where :math:`\\langle\\cdot\\rangle` is the mean under the Gibbs density
:math:`\\propto \\exp(-f(x') - \\tfrac{\\gamma}{2}\\|x-x'\\|^2)`.  Since
:math:`\\mathrm{Hess}(-F) = \\gamma I - \\gamma^2\\,\\mathrm{Cov}(x') \\preceq \\gamma I`, the
surrogate's upward curvature is capped by the scope :math:`\\gamma` even where ``f`` has
kinks (``docs/theory.md`` §3.5 and §9.1).  The Gibbs mean is estimated by ``L`` steps of
stochastic-gradient Langevin dynamics (SGLD) on fresh minibatches, averaged by an EMA.

Reference code: ``ucla-vision/entropy-sgd``, ``entropyoptim.lua`` (used for the paper's
experiments) and ``python/optim.py`` (PyTorch port); ``docs/theory.md`` §9.2.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_int, check_scalar
from ..params import Params, weight_names_of
from .base import (
    Optimizer,
    Schedule,
    SGDState,
    call_grad_fn,
    check_bool,
    check_lr,
    like_dtype,
    lr_at,
    sgd,
    sgd_direction,
)

__all__ = [
    "EntropySGDState",
    "entropy_sgd",
    "scoped_gamma",
    "local_entropy_grad",
    "langevin_mean",
]


class EntropySGDState(NamedTuple):
    """State of :func:`entropy_sgd`.

    Attributes
    ----------
    count : int
        Outer updates already applied (``t`` of the scoping schedule before this update).
    key : ndarray of shape (4,), uint64
        Entropy of the noise stream; update ``count`` draws its Langevin noise from
        ``Generator(PCG64(SeedSequence(key, spawn_key=(count,))))``, so the state holds no
        mutable Generator and an old state can be replayed bitwise.
    base : SGDState
        State of the base rule used when ``L = 0`` (untouched when ``L > 0``).
    """

    count: int
    key: np.ndarray
    base: SGDState


def scoped_gamma(gamma0: float, scoping: float, t: int) -> float:
    r"""Scope of outer update ``t`` (1-based): :math:`\gamma_t = \gamma_0 (1 + g_1)^t`.

    The Lua code increments its update counter *before* computing the scope, so the first
    update uses :math:`\gamma_0(1+g_1)`.  (The PyTorch port never increments ``t``, which
    leaves the scope at :math:`\gamma_0`; that bug is not reproduced here.)
    """
    return float(gamma0 * (1.0 + scoping) ** t)


def local_entropy_grad(params: Mapping[str, np.ndarray], gibbs_mean: Mapping[str, np.ndarray],
                       gamma: float) -> Params:
    r"""Gradient of the negative local entropy, :math:`\gamma\,(x - \langle x'\rangle)`.

    Parameters
    ----------
    params : dict of arrays
        The anchor :math:`x`.
    gibbs_mean : dict of arrays
        :math:`\langle x'\rangle`, exact or estimated (e.g. by :func:`langevin_mean`).
    gamma : float
        The scope.

    Examples
    --------
    For :math:`f = a x^2/2` the Gibbs mean is :math:`\gamma x/(a+\gamma)` and the gradient is
    :math:`a\gamma/(a+\gamma)\,x` (0.990099 x for a = 100, gamma = 1):

    >>> import numpy as np
    >>> x = {"w": np.array([1.0])}
    >>> mu = {"w": 1.0 * x["w"] / (100.0 + 1.0)}
    >>> float(local_entropy_grad(x, mu, 1.0)["w"][0])  # doctest: +ELLIPSIS
    0.990099...
    """
    gamma = float(gamma)
    return {k: like_dtype(gamma * (x - gibbs_mean[k]), x) for k, x in params.items()}


def langevin_mean(params: Mapping[str, np.ndarray], grad_fn: Callable, gamma: float,
                  rng: Any = None, *, L: int = 20, sgld_lr: float = 0.1, noise: float = 1e-4,
                  beta: float = 0.75, momentum: float = 0.9, nesterov: bool = True,
                  l2: float = 0.0) -> Params:
    r"""Estimate the Gibbs mean :math:`\langle x'\rangle` by ``L`` SGLD steps (Lua inner loop).

    Kernel: arguments are not validated here (see :func:`entropy_sgd`).

    Notes
    -----
    Starting from :math:`x' = \mu = x` and a zero momentum buffer :math:`b`, repeat ``L``
    times with a fresh minibatch gradient :math:`g = \nabla f(x')` (``grad_fn``):

    .. math::
        b &\leftarrow m\,b + g, \qquad d = g + m\,b \ \text{(Nesterov; } d = b
        \text{ otherwise, } d = g \text{ if } m = 0)\\
        d &\leftarrow d + \gamma\,(x' - x) + \lambda\,x' + \frac{\text{noise}}{\sqrt{\eta'/2}}\,
        \xi,\quad \xi \sim N(0, I)\\
        x' &\leftarrow x' - \eta'\,d \qquad(\text{injected noise std} = \text{noise}\sqrt{2\eta'})\\
        \mu &\leftarrow \beta\,\mu + (1-\beta)\,x'

    As in the Lua code, momentum acts on the minibatch gradient only; the coupling, weight
    decay and noise are added after it.  At stationarity :math:`b = g/(1-m)`, so with momentum
    the inner loop samples around the Gibbs mean of scope :math:`\gamma(1-m)` (for
    :math:`f = a x^2/2`: :math:`\langle x'\rangle = \gamma(1-m)x / (a + \gamma(1-m))`); with
    ``momentum = 0`` it targets scope :math:`\gamma` exactly.  The Lua code with zero momentum
    and no Nesterov would use a zero direction (a bug); here it uses :math:`g`.
    """
    gen = as_generator(rng)
    noise_scale = noise / math.sqrt(0.5 * sgld_lr)
    xp, mu = dict(params), dict(params)
    buf = {k: np.zeros_like(v) for k, v in params.items()}
    weights = weight_names_of(params) if l2 else ()
    for _ in range(L):
        g = call_grad_fn(grad_fn, xp, "entropy_sgd", "a fresh minibatch per Langevin step")
        new_xp = {}
        for k, x in params.items():
            d, b = sgd_direction(g[k], None, buf[k], momentum=momentum, nesterov=nesterov,
                                 l2=0.0)
            eta = gen.standard_normal(np.shape(x), dtype=np.asarray(x).dtype)   # xi ~ N(0, I)
            decay = l2 * xp[k] if k in weights else 0.0             # biases unpenalized
            d = d + gamma * (xp[k] - x) + decay + noise_scale * eta
            new_xp[k] = like_dtype(xp[k] - sgld_lr * d, x)
            mu[k] = like_dtype(beta * mu[k] + (1.0 - beta) * new_xp[k], x)   # beta weights OLD mu
            if b is not None:
                buf[k] = like_dtype(b, x)
        xp = new_xp
    return mu


def _check_hyper(*, L, gamma0, scoping, sgld_lr, noise, beta, momentum, l2) -> dict:
    """Validate Entropy-SGD hyper-parameters; return them converted."""
    return dict(
        L=check_int(L, "L", low=0),
        gamma0=check_scalar(gamma0, "gamma0", low=0.0),
        scoping=check_scalar(scoping, "scoping", low=0.0),
        sgld_lr=check_scalar(sgld_lr, "sgld_lr", low=0.0, low_inclusive=False),
        noise=check_scalar(noise, "noise", low=0.0),
        beta=check_scalar(beta, "beta", low=0.0, high=1.0, high_inclusive=False),
        momentum=check_scalar(momentum, "momentum", low=0.0, high=1.0, high_inclusive=False),
        l2=check_scalar(l2, "l2", low=0.0),
    )


def entropy_sgd(lr: float | Schedule = 1.0, *, L: int = 20, gamma0: float = 0.03,
                scoping: float = 1e-3, sgld_lr: float = 0.1, noise: float = 1e-4,
                beta: float = 0.75, momentum: float = 0.9, nesterov: bool = True,
                l2: float = 0.0, scale_by_gamma: bool = False,
                gibbs_mean_fn: Callable | None = None, rng: Any = None) -> Optimizer:
    r"""Entropy-SGD, as in the authors' Lua code (``entropyoptim.lua``).

    Parameters
    ----------
    lr : float >= 0 or schedule, default 1.0
        Outer learning rate :math:`\eta` (CIFAR-10 code: 1, 0.2, 0.04 at epochs 1/4/7).
    L : int >= 0, default 20
        Langevin steps per outer update (each calls ``grad_fn`` once).  ``L = 0`` turns the
        optimizer into its base rule ``sgd(lr, momentum, nesterov, l2)`` applied to
        the given ``grads`` (the Lua code's behaviour), bitwise.
    gamma0 : float >= 0, default 0.03
        Initial scope :math:`\gamma_0`.  0.03 is the authors' CIFAR-10 value and the start
        recommended for adversarial training (``docs/theory.md`` §3.6); their MNIST runs use 1e-4.
    scoping : float >= 0, default 1e-3
        :math:`g_1` in :math:`\gamma_t = \gamma_0(1+g_1)^t`, ``t`` = 1, 2, ... counting outer
        updates (see :func:`scoped_gamma`).
    sgld_lr : float > 0, default 0.1
        Inner (Langevin) step :math:`\eta'`.
    noise : float >= 0, default 1e-4
        Thermal noise; the injected noise has std ``noise * sqrt(2 * sgld_lr)``.
    beta : float in [0, 1), default 0.75
        EMA weight of the OLD mean: :math:`\mu \leftarrow \beta\mu + (1-\beta)x'`.
    momentum : float in [0, 1), default 0.9
        Momentum of the inner loop (and of the ``L = 0`` base rule).
    nesterov : bool, default True
    l2 : float >= 0, default 0
        :math:`\lambda` of the penalty ``½·l2·Σ‖W‖²`` on the weights (biases unpenalized), added
        to the inner direction (and to the ``L = 0`` gradient).
    scale_by_gamma : bool, default False
        False: Lua outer step :math:`x \leftarrow x - \eta(x - \mu)`.  True: the paper's
        Algorithm 1, :math:`x \leftarrow x - \eta\gamma(x - \mu)`, i.e. a plain gradient step on
        :math:`-F` using :func:`local_entropy_grad`.
    gibbs_mean_fn : callable ``(params, gamma) -> params``, optional
        Replaces the Langevin estimate by a known Gibbs mean (an oracle for tests and for
        studying a perfect inner loop).  When given, ``L`` is ignored and ``grad_fn`` unused.
    rng : None, int or Generator
        Seeds the noise stream once, here; ``init`` is then deterministic.

    Returns
    -------
    Optimizer
        ``update(grads, state, params, *, grad_fn=None)``; ``grad_fn(params) -> grads`` must
        evaluate the loss gradient on a FRESH minibatch at every call (required if ``L > 0``).
        ``grads`` (at ``params``) are only used when ``L = 0``; as in the Lua code the clean
        gradient is discarded otherwise.

    Notes
    -----
    One outer update ``t = count + 1`` (``docs/theory.md`` §9.2): :math:`\gamma = \gamma_0(1+g_1)^t`;
    :math:`\mu` = :func:`langevin_mean` (``L`` SGLD steps from :math:`x`); then
    :math:`x \leftarrow x - \eta_{\text{count}}\, G` with :math:`G = x - \mu` and no momentum
    on :math:`G` (the Lua form; the PyTorch port applies weight decay and Nesterov momentum to
    :math:`G`).

    Paper vs code.  (i) The code drops the factor :math:`\gamma` of the true gradient
    :math:`\gamma(x-\mu)` (``scale_by_gamma=False``); the effective outer step is
    :math:`\eta/\gamma` on :math:`-F`.  (ii) The paper's Algorithm 1 writes
    :math:`\mu \leftarrow (1-\alpha)\mu + \alpha x'` and quotes 0.75; the code's
    ``beta1 = 0.75`` multiplies the old mean, i.e. :math:`\alpha = 0.25`; we follow the code.
    (iii) With inner momentum the loop targets scope :math:`\gamma(1-m)`
    (see :func:`langevin_mean`).  Cost: ``L`` gradient evaluations per update ("effective
    epochs" = epochs x L).

    References
    ----------
    Chaudhari, Choromanska, Soatto, LeCun, Baldassi, Borgs, Chayes, Sagun, Zecchina (2017),
    "Entropy-SGD: Biasing Gradient Descent Into Wide Valleys", ICLR, eq. (7) and Algorithm 1.
    """
    schedule = check_lr(lr)
    hp = _check_hyper(L=L, gamma0=gamma0, scoping=scoping, sgld_lr=sgld_lr, noise=noise,
                      beta=beta, momentum=momentum, l2=l2)
    nesterov = check_bool(nesterov, "nesterov")
    scale_by_gamma = check_bool(scale_by_gamma, "scale_by_gamma")
    if gibbs_mean_fn is not None and not callable(gibbs_mean_fn):
        raise TypeError(f"gibbs_mean_fn: expected a callable, got {type(gibbs_mean_fn).__name__}.")
    base = sgd(schedule, momentum=hp["momentum"], nesterov=nesterov,
               l2=hp["l2"])
    key = as_generator(rng).integers(0, 2**63, size=4, dtype=np.uint64)

    def init(params: Mapping[str, np.ndarray]) -> EntropySGDState:
        return EntropySGDState(count=0, key=key.copy(), base=base.init(params))

    def gibbs_mean(params, grad_fn, gamma, count):
        if gibbs_mean_fn is not None:
            return gibbs_mean_fn(params, gamma)
        seq = np.random.SeedSequence([int(k) for k in key], spawn_key=(count,))
        return langevin_mean(params, grad_fn, gamma, np.random.Generator(np.random.PCG64(seq)),
                             L=hp["L"], sgld_lr=hp["sgld_lr"], noise=hp["noise"],
                             beta=hp["beta"], momentum=hp["momentum"], nesterov=nesterov,
                             l2=hp["l2"])

    def update(grads, state: EntropySGDState, params, *, grad_fn=None):
        if hp["L"] == 0 and gibbs_mean_fn is None:          # base rule on the given grads
            updates, base_state = base.update(grads, state.base, params)
            return updates, state._replace(count=state.count + 1, base=base_state)
        gamma = scoped_gamma(hp["gamma0"], hp["scoping"], state.count + 1)
        mu = gibbs_mean(params, grad_fn, gamma, state.count)
        step = -lr_at(schedule, state.count)
        if scale_by_gamma:
            outer = local_entropy_grad(params, mu, gamma)         # gamma (x - mu)
        else:
            outer = {k: x - mu[k] for k, x in params.items()}     # Lua: x - mu
        updates = {k: like_dtype(step * outer[k], x) for k, x in params.items()}
        return updates, state._replace(count=state.count + 1)

    return Optimizer(init, update, "fresh")
