"""Virtual adversarial perturbation (VAT) by power iteration on the input-space KL Hessian.

Definitions (Miyato et al. 2016, eqs. (2)-(4); ``theory.md`` section 6)::

    Δ_KL(r, x) = KL( p(·|x) ‖ p(·|x + r) )        p(·|x) held constant (stop-gradient)
    r_vadv     = argmax_{||r||_2 <= eps} Δ_KL(r, x)
    LDS(x)     = -Δ_KL(r_vadv, x)                   (ICLR'16 sign: larger = smoother)
    R_vadv     = (1/n) Σ_i Δ_KL(r_vadv,i, x_i)      (TPAMI'18 regulariser, the VAT loss)

At ``r = 0`` both ``Δ_KL`` and ``∇_r Δ_KL`` vanish, so ``Δ_KL(r) ≈ ½ rᵀ H r`` with
``H = J_xᵀ F J_x`` (``F`` the Fisher matrix of the output distribution) and ``r_vadv ≈ eps u``,
``u`` the top eigenvector of ``H``.  Power iteration, per sample (Miyato et al. 2018, eq. (12)
and their ``vat_tf`` code)::

    d ~ N(0, I);   repeat n_power times:  d <- ∇_r Δ_KL(r, x) at r = xi d / ||d||
    r_vadv = eps d / ||d||

The gradient at ``r = xi d`` equals ``xi H d + O(xi²)``: a finite-difference Hessian-vector
product.  ``exact=True`` replaces it by the exact product ``H d`` from the model's R-operator
(``model.input_fisher_kernel``), which is free of the probe size.  In float32 keep
``xi ~ 1e-3`` or use ``exact=True`` (``theory.md`` section 13, item 4).

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

from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_array, check_int, check_scalar
from .steepest import _l2_norms_regular

__all__ = ["VATPerturbation", "vat_kl", "vat_perturbation", "vat_perturbation_kernel",
           "vat_direction_kernel",
           "vat_loss", "local_distributional_smoothness"]


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


def _unit_rows(d: np.ndarray) -> np.ndarray:
    """``d / ||d||_2`` per row, in place; zero rows stay zero (tiny rows are safe)."""
    norms, regular = _l2_norms_regular(d)
    if regular:                                                  # every norm > 0
        scale = np.divide(1, norms, out=norms)
    else:
        scale = np.zeros_like(norms)
        np.divide(1, norms, out=scale, where=norms > 0)
    d *= scale.reshape(-1, 1)
    return d


def _kl_and_grad(model, params, X, R, log_p_ref):
    """Per-sample ``Δ_KL(R)``, its gradient in ``R`` (not ``/n``) and the perturbed logits."""
    z, cache = model.forward(params, X + R)
    kl, dz = model.output.kl(log_p_ref, z)
    _, g = model.backward(params, cache, dz, param_grads=False, input_grad=True)
    return kl, g, z


def vat_direction_kernel(model, params: dict, X: np.ndarray, eps: float, xi: float,
                         n_power: int, gen: np.random.Generator, log_p_ref, logits,
                         cache=None, exact: bool = False) -> np.ndarray:
    """``r_vadv`` given the clean ``logits`` and ``log_p_ref = model.output.log_proba(logits)``
    (no validation).  VAT training reuses ``log_p_ref`` for its loss term, so the clean
    distribution is computed once per step.
    """
    d = gen.standard_normal(X.shape, dtype=X.dtype)              # (n, d)
    for _ in range(n_power):
        _unit_rows(d)
        if exact:
            d = model.input_fisher_kernel(params, X, d, logits=logits, cache=cache)
        else:
            d *= xi
            _, d, _ = _kl_and_grad(model, params, X, d, log_p_ref)   # ∝ H d
    r_adv = _unit_rows(d)
    r_adv *= eps
    return r_adv


def vat_perturbation_kernel(model, params: dict, X: np.ndarray, eps: float, xi: float,
                            n_power: int, gen: np.random.Generator, logits=None, cache=None,
                            exact: bool = False) -> VATPerturbation:
    """Kernel of :func:`vat_perturbation` (no validation; for training loops).

    ``logits`` (and, for ``exact``, the matching forward ``cache``) of the clean ``X`` may be
    passed to skip the clean forward pass.  Costs ``n_power`` forward + backward-to-input
    passes (finite differences) or R-forward + backward passes (``exact``).
    """
    if logits is None or (exact and cache is None):
        logits, cache = model.forward(params, X)
    r_adv = vat_direction_kernel(model, params, X, eps, xi, n_power, gen,
                                 model.output.log_proba(logits), logits, cache, exact)
    return VATPerturbation(r_adv, logits)


def _check_vat(model, params, X, eps, xi, n_power, rng, logits):
    params, X, _ = model.check_inputs(params, X)
    eps = check_scalar(eps, "eps", low=0.0)
    xi = check_scalar(xi, "xi", low=0.0, low_inclusive=False)
    n_power = check_int(n_power, "n_power", low=1)
    if logits is not None:
        shape = (X.shape[0],) if model.output.binary else (X.shape[0], model.n_classes)
        logits = check_array(logits, "logits", ndim=len(shape), dtype=model.dtype, shape=shape)
    return params, X, eps, xi, n_power, as_generator(rng), logits


def vat_perturbation(model, params: dict, X: np.ndarray, eps: float, *, xi: float = 1e-6,
                     n_power: int = 1, rng: Any = None, logits: Any = None,
                     exact: bool = False) -> VATPerturbation:
    """Virtual adversarial perturbation ``r_vadv`` by power iteration (Miyato et al.).

    Parameters
    ----------
    model : minadv.models.Model
    params : dict
    X : ndarray of shape (n, d), the model's dtype
    eps : float
        L2 radius, ``>= 0``.
    xi : float
        Finite-difference probe length (``> 0``); ignored when ``exact``.  Default 1e-6 as in
        Miyato et al.'s code (use ~1e-3 in float32).
    n_power : int
        Power iterations ``Ip`` (``>= 1``; the papers use 1).
    rng : None, int or numpy.random.Generator
        Source of the random starting direction ``d ~ N(0, I)``.
    logits : ndarray or None
        Precomputed clean logits ``z(x)`` (``(n,)`` binary, ``(n, C)`` otherwise).
    exact : bool
        Use the exact input-space Fisher product ``Jₓᵀ F Jₓ d`` instead of finite differences.

    Returns
    -------
    VATPerturbation
        ``(r_adv, logits)``: the perturbation (``||r_i||_2 = eps``) and the clean logits.

    Raises
    ------
    ValueError, TypeError
        Invalid model inputs, ``eps < 0``, ``xi <= 0``, ``n_power < 1``, bad ``logits``.

    Notes
    -----
    ``d <- ∇_r KL(p(x) ‖ p(x + r))|_{r = xi d/||d||}``, ``r_vadv = eps d/||d||`` (Miyato et al.
    2016, sec. 2.2; 2018, eq. (12)).  See the module docstring.
    """
    params, X, eps, xi, n_power, gen, logits = _check_vat(model, params, X, eps, xi, n_power,
                                                          rng, logits)
    return vat_perturbation_kernel(model, params, X, eps, xi, n_power, gen, logits,
                                   exact=bool(exact))


def vat_kl(model, params: dict, X: np.ndarray, R: np.ndarray, logits: Any = None):
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
    params, X, _ = model.check_inputs(params, X)
    R = check_array(R, "R", ndim=2, dtype=model.dtype, shape=X.shape)
    if logits is None:
        logits = model.forward(params, X)[0]
    else:
        logits = _check_vat(model, params, X, 0.0, 1.0, 1, None, logits)[-1]
    kl, grad, _ = _kl_and_grad(model, params, X, R, model.output.log_proba(logits))
    return kl, grad


def local_distributional_smoothness(model, params: dict, X: np.ndarray, eps: float, *,
                                    xi: float = 1e-6, n_power: int = 1, rng: Any = None,
                                    exact: bool = False) -> np.ndarray:
    """``LDS(x_i) = -KL(p(·|x_i) ‖ p(·|x_i + r_vadv,i))`` per sample (ICLR'16 sign convention).

    Arguments as in :func:`vat_perturbation`.  Returns an ``(n,)`` array, ``<= 0``; larger is
    smoother.  ``-mean(LDS)`` is :func:`vat_loss`.

    References
    ----------
    Miyato et al. ICLR 2016, eq. (4).
    """
    pert = vat_perturbation(model, params, X, eps, xi=xi, n_power=n_power, rng=rng,
                            exact=exact)
    z, _ = model.forward(params, X + pert.r_adv)
    return -model.output.kl(model.output.log_proba(pert.logits), z)[0]


def vat_loss(model, params: dict, X: np.ndarray, eps: float, *, xi: float = 1e-6,
             n_power: int = 1, rng: Any = None, exact: bool = False) -> float:
    """VAT regulariser ``R_vadv = (1/n) Σ_i KL(p(·|x_i) ‖ p(·|x_i + r_vadv,i))``.

    The mean KL at the virtual adversarial perturbation (Miyato et al. TPAMI 2018, eq. (5)
    with eq. (12)); a float ``>= 0``.  Arguments as in :func:`vat_perturbation`.
    """
    return float(-np.mean(local_distributional_smoothness(
        model, params, X, eps, xi=xi, n_power=n_power, rng=rng, exact=exact)))
