"""Virtual adversarial perturbation (VAT) by power iteration on the input-space KL Hessian.

Definitions (Miyato et al. 2016, eqs. (2)-(4); ``docs/theory.md`` §6)::

    Δ_KL(r, x) = KL( p(·|x) ‖ p(·|x + r) )        p(·|x) held constant (stop-gradient)
    r_vadv     = argmax_{||r||_2 <= eps} Δ_KL(r, x)
    LDS(x)     = -Δ_KL(r_vadv, x)                   (ICLR'16 sign: larger = smoother)
    R_vadv     = (1/n) Σ_i Δ_KL(r_vadv,i, x_i)      (TPAMI'18 regulariser, the VAT loss)

At ``r = 0`` both ``Δ_KL`` and ``∇_r Δ_KL`` vanish, so ``Δ_KL(r) ≈ ½ rᵀ H r`` with
``H = J_xᵀ F J_x`` (``F`` the Fisher matrix of the output distribution) and ``r_vadv ≈ eps u``,
``u`` the top eigenvector of ``H``.  Power iteration, per sample (Miyato et al. 2018, eq. (12)
and their ``vat_tf`` code)::

    d ~ N(0, I);   repeat n_power_iterations times:  d <- ∇_r Δ_KL(r, x) at r = xi d / ||d||
    r_vadv = eps d / ||d||

The gradient at ``r = xi d`` equals ``xi H d + O(xi²)``: a finite-difference Hessian-vector
product.  ``exact=True`` replaces it by the exact product ``H d`` from the model's R-operator
(``model.input_fisher_product_kernel``), which is free of the probe size.

Probe size and dtype.  The probe ``r = xi d/||d||`` has coordinates of size about
``xi / sqrt(d)``; ``x + r`` rounds them away unless they exceed ``eps_mach |x|``, and the
logit change they cause must exceed the logits' rounding.  The public functions therefore warn
(``RuntimeWarning``) when ``xi < 10 eps_mach sqrt(d) max|X|`` (:func:`resolvable_xi`).  For
a float32 MLP on inputs in ``[0, 1]`` with ``d = 784`` the bound is 3.3e-5: with Miyato et al.'s
``xi = 1e-6`` the finite-difference direction has median cosine ~0.36 with the exact one
(same start, one iteration), 0.998 at ``xi = 1e-4`` and 1.0000 at ``xi = 1e-3``.  In float32
keep ``xi ~ 1e-3`` times the input scale or use ``exact=True`` (``docs/theory.md`` §13, item 4).

VAT perturbs in the L2 ball only (``r_vadv`` lies on the eps-sphere; rows whose direction
vanishes, e.g. a saturated output, get ``r = 0``).

References
----------
Miyato, Maeda, Koyama, Nakae, Ishii. Distributional Smoothing with Virtual Adversarial
Training. ICLR 2016 (arXiv:1507.00677), eqs. (2)-(4) and section 2.2.
Miyato, Maeda, Koyama, Ishii. Virtual Adversarial Training: a Regularization Method for
Supervised and Semi-supervised Learning. IEEE TPAMI 41(8), 2019 (arXiv:1704.03976), eq. (12).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_array, check_int, check_scalar
from ..threads import thread_policy
from .common import check_batch_size, resolve_model
from .norms import unit_rows_kernel

__all__ = ["VATPerturbation", "VATConfig", "vat_kl", "vat_perturbation",
           "vat_perturbation_kernel", "vat_direction_kernel", "resolvable_xi", "vat_loss",
           "local_distributional_smoothness"]


class VATPerturbation(NamedTuple):
    """Result of :func:`vat_perturbation`.

    Attributes
    ----------
    r_adv : ndarray of shape (n, d)
        Virtual adversarial perturbation, ``||r_adv,i||_2 = eps`` (0 for degenerate rows).
    logits : ndarray
        The clean logits ``z(x)`` (the constant reference of the KL), so VAT training can reuse
        the clean forward pass.
    """

    r_adv: np.ndarray
    logits: np.ndarray


@dataclasses.dataclass(frozen=True, kw_only=True)
class VATConfig:
    """Options of the VAT direction kernels (checked by :func:`vat_perturbation`).

    Keyword-only, e.g. ``VATConfig(eps=2.0, xi=1e-6, n_power_iterations=1)``.

    Attributes
    ----------
    eps : float
        L2 radius ``>= 0``.
    xi : float
        Finite-difference probe length ``> 0`` (unused when ``exact``).
    n_power_iterations : int
        Power iterations ``>= 0`` (0 gives a uniformly random direction: the RPT baseline).
    exact : bool
        Use the exact input-space Fisher product instead of finite differences.
    """

    eps: float
    xi: float = 1e-6
    n_power_iterations: int = 1
    exact: bool = False


def _kl_and_grad(model, params, X, R, log_p_ref):
    """Per-sample ``Δ_KL(R)``, its gradient in ``R`` (not ``/n``) and the perturbed logits."""
    z, cache = model.forward(params, X + R)
    kl, dz = model.output.kl(log_p_ref, z)
    _, g = model.backward(params, cache, dz, param_grads=False, input_grad=True)
    return kl, g, z


def vat_direction_kernel(model, params: dict, X: np.ndarray, config: VATConfig, *,
                         rng: np.random.Generator, log_p_ref: np.ndarray, logits: np.ndarray,
                         cache=None) -> np.ndarray:
    """``r_vadv`` given the clean ``logits`` and ``log_p_ref = model.output.log_proba(logits)``
    (no validation).  VAT training reuses ``log_p_ref`` for its loss term, so the clean
    distribution is computed once per step.  ``cache`` (the clean forward cache) is needed
    only by ``config.exact``.  Unit vectors are scale-safe
    (:func:`~minadv.attacks.norms.unit_rows_kernel`).
    """
    d = rng.standard_normal(X.shape, dtype=X.dtype)              # (n, d)
    for _ in range(config.n_power_iterations):
        unit_rows_kernel(d, out=d)
        if config.exact:
            d = model.input_fisher_product_kernel(params, X, d, logits=logits, cache=cache)
        else:
            d *= X.dtype.type(config.xi)
            _, d, _ = _kl_and_grad(model, params, X, d, log_p_ref)   # ∝ H d
    r_adv = unit_rows_kernel(d, out=d)
    r_adv *= X.dtype.type(config.eps)
    return r_adv


def vat_perturbation_kernel(model, params: dict, X: np.ndarray, config: VATConfig, *,
                            rng: np.random.Generator, logits=None,
                            cache=None) -> VATPerturbation:
    """Kernel of :func:`vat_perturbation` (no validation; for training loops).

    ``logits`` (and, for ``exact``, the matching forward ``cache``) of the clean ``X`` may be
    passed to skip the clean forward pass.  Costs ``n_power_iterations`` forward +
    backward-to-input passes (finite differences) or R-forward + backward passes (``exact``).
    """
    if logits is None or (config.exact and cache is None):
        logits, cache = model.forward(params, X)
    r_adv = vat_direction_kernel(model, params, X, config, rng=rng,
                                 log_p_ref=model.output.log_proba(logits), logits=logits,
                                 cache=cache)
    return VATPerturbation(r_adv, logits)


def resolvable_xi(X: np.ndarray) -> float:
    """Smallest probe length the finite difference resolves at ``X``'s scale and dtype.

    ``xi_min = 10 · eps_mach · sqrt(d) · max_ij |X_ij|``: the probe ``xi d/||d||`` has
    coordinates of size ``xi / sqrt(d)``, which must exceed the rounding ``eps_mach |x|`` of
    ``x + r`` by a margin (module docstring).  0 for ``X = 0``.
    """
    scale = float(np.max(np.abs(X), initial=0.0))
    return 10.0 * float(np.finfo(X.dtype).eps) * np.sqrt(X.shape[1]) * scale


def _check_vat(model, params, X, eps, xi, n_power_iterations, rng, logits):
    model, params, _ = resolve_model(model, params)
    params, X, _ = model.check_inputs(params, X)
    eps = check_scalar(eps, "eps", low=0.0)
    xi = check_scalar(xi, "xi", low=0.0, low_inclusive=False)
    n_power_iterations = check_int(n_power_iterations, "n_power_iterations", low=1)
    if logits is not None:
        shape = (X.shape[0],) if model.output.binary else (X.shape[0], model.n_classes)
        logits = check_array(logits, "logits", ndim=len(shape), dtype=model.dtype, shape=shape)
    config = VATConfig(eps=eps, xi=xi, n_power_iterations=n_power_iterations)
    return model, params, X, config, as_generator(rng), logits


def _warn_small_xi(xi: float, X: np.ndarray) -> None:
    xi_min = resolvable_xi(X)
    if xi < xi_min:
        warnings.warn(
            f"xi: the probe xi={xi:g} is below the smallest length {xi_min:.2g} that "
            f"{X.dtype.name} resolves at this input scale (max |X| = "
            f"{float(np.max(np.abs(X))):.3g}); the finite-difference direction is then "
            f"inaccurate.  Use xi >= {xi_min:.2g} or exact=True.", RuntimeWarning, stacklevel=3)


def _vat_blocks(model, params, X, config, gen, logits, batch_size) -> VATPerturbation:
    """:func:`vat_perturbation_kernel` on row blocks; ``gen`` is consumed row after row."""
    n = X.shape[0]
    if batch_size >= n:
        return vat_perturbation_kernel(model, params, X, config, rng=gen, logits=logits)
    r_adv, z_all = np.empty_like(X), None                        # (n, d), logits allocated late
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        pert = vat_perturbation_kernel(model, params, X[rows], config, rng=gen,
                                       logits=None if logits is None else logits[rows])
        if z_all is None:
            z_all = np.empty((n,) + pert.logits.shape[1:], dtype=pert.logits.dtype)
        r_adv[rows], z_all[rows] = pert.r_adv, pert.logits
    return VATPerturbation(r_adv, z_all)


@thread_policy
def vat_perturbation(model, params: dict | None, X: np.ndarray, eps: float, *,
                     xi: float = 1e-6, n_power_iterations: int = 1, rng: Any = None,
                     logits: Any = None, exact: bool = False,
                     batch_size: int | None = None) -> VATPerturbation:
    """Virtual adversarial perturbation ``r_vadv`` by power iteration (Miyato et al.).

    Parameters
    ----------
    model : minadv.models.Model or fitted estimator
        A model, or a fitted estimator with ``params=None``.
    params : dict or None
    X : ndarray of shape (n, d), the model's dtype
    eps : float
        L2 radius, ``>= 0``.
    xi : float
        Finite-difference probe length (``> 0``); ignored when ``exact``.  Default 1e-6 as in
        Miyato et al.'s code.  A ``RuntimeWarning`` is issued when ``xi`` is below
        :func:`resolvable_xi` (``10 eps_mach sqrt(d) max|X|``): e.g. float32 inputs in
        ``[0, 1]`` with ``d = 784`` need ``xi >= 3.3e-5`` (use ~1e-3 in float32, or
        ``exact=True``).
    n_power_iterations : int
        Power iterations ``Ip`` (``>= 1``; the papers use 1).
    rng : None, int or numpy.random.Generator
        Source of the random starting direction ``d ~ N(0, I)``.
    logits : ndarray or None
        Precomputed clean logits ``z(x)`` (``(n,)`` binary, ``(n, C)`` otherwise).
    exact : bool
        Use the exact input-space Fisher product ``Jₓᵀ F Jₓ d`` instead of finite differences.
    batch_size : int or None
        Perturb ``batch_size`` rows at a time (``None``: all at once).  The start directions
        are drawn from ``rng`` row after row, so the result equals the unbatched call
        (bitwise for row-independent models; up to BLAS rounding otherwise).

    Returns
    -------
    VATPerturbation
        ``(r_adv, logits)``: the perturbation (``||r_i||_2 = eps``) and the clean logits.

    Raises
    ------
    ValueError, TypeError
        Invalid model inputs, ``eps < 0``, ``xi <= 0``, ``n_power_iterations < 1``, bad
        ``logits``, ``batch_size < 1``.
    FloatingPointError
        ``exact=True`` when the input-Fisher product overflows: it scales like the square of
        the input gradient, so it needs gradients below ~1e154 (float64) or ~1e19 (float32).
        The finite-difference direction (``exact=False``) is finite at every scale.

    Warns
    -----
    RuntimeWarning
        ``xi`` too small for the dtype at the input's scale (finite differences only).

    Notes
    -----
    ``d <- ∇_r KL(p(x) ‖ p(x + r))|_{r = xi d/||d||}``, ``r_vadv = eps d/||d||`` (Miyato et al.
    2016, sec. 2.2; 2018, eq. (12)).  See the module docstring.
    """
    model, params, X, config, gen, logits = _check_vat(model, params, X, eps, xi,
                                                       n_power_iterations, rng, logits)
    config = dataclasses.replace(config, exact=bool(exact))
    batch_size = check_batch_size(batch_size)
    if not config.exact:
        _warn_small_xi(config.xi, X)
    if batch_size is None or batch_size >= X.shape[0]:
        batch_size = X.shape[0]
    if not config.exact:
        return _vat_blocks(model, params, X, config, gen, logits, batch_size)
    with np.errstate(over="ignore", invalid="ignore"):          # checked right below
        pert = _vat_blocks(model, params, X, config, gen, logits, batch_size)
    if not np.isfinite(pert.r_adv).all():
        raise FloatingPointError(
            f"exact: the input-Fisher product Jᵀ F J d overflowed in {X.dtype.name} (input "
            "gradients of scale near sqrt(largest float)); use exact=False, whose finite "
            "differences stay finite at every scale.")
    return pert


def vat_kl(model, params: dict | None, X: np.ndarray, R: np.ndarray, logits: Any = None):
    """``Δ_KL(r, x) = KL(p(·|x) ‖ p(·|x + r))`` per sample and its gradient in ``r``.

    Parameters
    ----------
    X, R : ndarray of shape (n, d), the model's dtype
    logits : ndarray or None
        Clean logits (held constant); computed if ``None``.

    Returns
    -------
    kl : ndarray of shape (n,)
        Zero at ``R = 0``.
    grad : ndarray of shape (n, d)
        ``∇_{r_i} Δ_KL(r_i, x_i)`` per sample (not divided by ``n``); zero at ``R = 0``.

    References
    ----------
    Miyato et al. ICLR 2016, eq. (2).
    """
    model, params, _ = resolve_model(model, params)
    params, X, _ = model.check_inputs(params, X)
    R = check_array(R, "R", ndim=2, dtype=model.dtype, shape=X.shape)
    if logits is None:
        logits = model.forward(params, X)[0]
    else:
        logits = _check_vat(model, params, X, 0.0, 1.0, 1, None, logits)[-1]
    kl, grad, _ = _kl_and_grad(model, params, X, R, model.output.log_proba(logits))
    return kl, grad


@thread_policy
def local_distributional_smoothness(model, params: dict | None, X: np.ndarray, eps: float, *,
                                    xi: float = 1e-6, n_power_iterations: int = 1, rng: Any = None,
                                    exact: bool = False) -> np.ndarray:
    """``LDS(x_i) = -KL(p(·|x_i) ‖ p(·|x_i + r_vadv,i))`` per sample (ICLR'16 sign convention).

    Arguments as in :func:`vat_perturbation`.  Returns an ``(n,)`` array, ``<= 0``; larger is
    smoother.  ``-mean(LDS)`` is :func:`vat_loss`.

    References
    ----------
    Miyato et al. ICLR 2016, eq. (4).
    """
    pert = vat_perturbation(model, params, X, eps, xi=xi,
                            n_power_iterations=n_power_iterations, rng=rng, exact=exact)
    model, params, _ = resolve_model(model, params)
    z, _ = model.forward(params, X + pert.r_adv)
    return -model.output.kl(model.output.log_proba(pert.logits), z)[0]


@thread_policy
def vat_loss(model, params: dict | None, X: np.ndarray, eps: float, *, xi: float = 1e-6,
             n_power_iterations: int = 1, rng: Any = None, exact: bool = False) -> float:
    """VAT regulariser ``R_vadv = (1/n) Σ_i KL(p(·|x_i) ‖ p(·|x_i + r_vadv,i))``.

    The mean KL at the virtual adversarial perturbation (Miyato et al. TPAMI 2018, eq. (5)
    with eq. (12)); a float ``>= 0``.  Arguments as in :func:`vat_perturbation`.
    """
    return float(-np.mean(local_distributional_smoothness(
        model, params, X, eps, xi=xi, n_power_iterations=n_power_iterations, rng=rng,
        exact=exact)))
