"""Training objectives: each maps ``(model, params, batch, rng)`` to ``(loss, grads)``.

An *objective* is a small frozen dataclass holding its hyper-parameters and a ``__call__``
that evaluates the loss of one minibatch and its gradient with respect to every parameter,
using only the model protocol (:mod:`minadv.models.base`).  The training loop
(:func:`minadv.training.fit`) knows nothing else about them, so adversarial training and VAT
are objectives passed to one loop, not new trainers.

Conventions (``losses`` module docstring): every loss is a **mean** over the rows of the batch
plus ``½·λ·Σ‖W‖²`` over the weight matrices (biases unpenalized, ``l2 = λ``).  Adversarial and
virtual-adversarial perturbations are recomputed from the current parameters at every call and
then treated as constants (no gradient flows through the attack), which is Danskin's theorem
when the inner maximiser is exact.

Forward passes are never repeated: an objective that needs the clean input gradient gets it from
the same forward/backward pass that gives the clean loss.  VAT+EntMin appends the clean
unlabeled rows to its single backward pass with :func:`~minadv.models.stack_caches` (the
protocol's cache contract makes every cache array batch-first).

References
----------
Goodfellow, Shlens, Szegedy (2015), "Explaining and Harnessing Adversarial Examples", ICLR, §6.
Shaham, Yamada, Negahban (2015/2018), "Understanding Adversarial Training", arXiv:1511.05432.
Madry, Makelov, Schmidt, Tsipras, Vladu (2018), "Towards Deep Learning Models Resistant to
Adversarial Attacks", ICLR, eq. (2.1).
Miyato, Maeda, Koyama, Nakae, Ishii (2016), "Distributional Smoothing with Virtual Adversarial
Training", ICLR; Miyato, Maeda, Koyama, Ishii (2018), TPAMI 41(8).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._validation import check_int, check_norm, check_scalar
from ..attacks.box import check_box_bounds
from ..attacks.pgd import PGDConfig, default_step_size, pgd_kernel
from ..attacks.steepest import steepest_ascent_kernel
from ..attacks.vat import VATConfig, vat_direction_kernel
from ..layers import dropout_mask
from ..losses import add_l2_penalty
from ..models.base import Model, stack_caches
from ..params import Params
from ..robust_logistic import RobustLogisticProblem, robust_logistic_loss_grad_kernel

__all__ = [
    "Batch",
    "Objective",
    "ERM",
    "FGSMObjective",
    "ShahamObjective",
    "PGDObjective",
    "ExactRobustObjective",
    "VATObjective",
    "RandomPerturbationObjective",
    "DropoutObjective",
    "GaussianNoiseObjective",
    "OBJECTIVES",
    "make_objective",
    "IBPObjective",
    "TRADESObjective",
    "ibp_schedule",
    "ibp_loss_and_grads",
    "trades_attack_kernel",
    "trades_loss_and_grads",
]


class Batch(NamedTuple):
    """One minibatch: labeled ``X`` ``(B, d)``, labels ``y`` ``(B,)`` and optional unlabeled rows
    ``X_unlabeled`` ``(B_u, d)`` (used by the VAT family only)."""

    X: np.ndarray
    y: np.ndarray
    X_unlabeled: np.ndarray | None = None


# -------------------------------------------------------------------------------- helpers
def _stack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, b], axis=0)


def _clip(X: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    return X if lo is None and hi is None else np.clip(X, lo, hi, out=X)


class Objective:
    """Base class: ``objective(model, params, batch, rng) -> (loss, grads)``.

    Subclasses are frozen dataclasses; :meth:`validate` checks the hyper-parameters (and their
    compatibility with ``model``) once, at ``fit``; ``__call__`` is an unchecked kernel.
    """

    name: ClassVar[str] = "objective"
    uses_unlabeled: ClassVar[bool] = False

    def validate(self, model: Model) -> None:
        """Raise ``ValueError``/``TypeError`` for bad hyper-parameters."""
        check_scalar(self.l2, "l2", low=0.0)

    def __call__(self, model: Model, params: Params, batch: Batch,
                 rng: np.random.Generator) -> tuple[float, Params]:  # pragma: no cover
        raise NotImplementedError


# -------------------------------------------------------------------------------- ERM
@dataclasses.dataclass(frozen=True)
class ERM(Objective):
    """Empirical risk ``(1/B) Σ ℓ(f(x_i), y_i) + ½·l2·Σ‖W‖²`` (one forward/backward pass)."""

    l2: float = 0.0
    name: ClassVar[str] = "erm"

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        out = model.loss_and_grads_kernel(params, batch.X, batch.y, input_grad=False, l2=self.l2)
        return out.loss, out.grads


# -------------------------------------------------------------------------------- one step
def _one_step_example(X, gx, eps, norm, lo, hi):
    """``clip(x + eps · steepest-ascent direction of gx)`` (the attack-kernel call)."""
    x_adv = steepest_ascent_kernel(gx, eps, norm)          # delta, (B, d), a new array
    x_adv += X                                             # delta + x in delta's memory
    return _clip(x_adv, lo, hi)


def _one_step(model: Model, params: Params, X, y, *, eps, norm, clean_weight, lo, hi):
    """Mixed clean/one-step-adversarial loss; ``clean_weight`` weighs the clean half.

    Passes: clean forward, one clean backward giving the input gradient (for the attack) and
    the clean weight gradients together, adversarial forward and backward, then
    ``clean_weight · clean + (1 - clean_weight) · adversarial``.  Speed place (W1, FGSM training): one
    clean backward instead of one to the input and a second for the weights saves two
    products and two masks per step (7 % of the objective at 1 thread, measured); the
    weighting moves from ``dlogits`` to the gradients (equal up to rounding; bitwise for
    ``clean_weight = 0.5``).  One product over the stacked ``2B`` rows instead of two backward
    passes was measured too: 1.6 %, so the plain form stays.
    """
    n = X.shape[0]
    z, cache = model.forward(params, X)
    losses, dz = model.output.nll(z, y)
    dz /= n
    clean, gx = model.backward(params, cache, dz, param_grads=clean_weight != 0.0, input_grad=True)
    z_adv, cache_adv = model.forward(params, _one_step_example(X, gx, eps, norm, lo, hi))
    losses_adv, dz_adv = model.output.nll(z_adv, y)
    loss = (1.0 - clean_weight) * float(losses_adv.mean())
    dz_adv *= (1.0 - clean_weight) / n                     # (B, C)
    grads, _ = model.backward(params, cache_adv, dz_adv, param_grads=True, input_grad=False)
    if clean_weight == 0.0:
        return loss, grads
    loss += clean_weight * float(losses.mean())
    for k in clean:                                        # clean_weight·clean + adversarial, in place
        clean[k] *= clean_weight
        clean[k] += grads[k]
    return loss, clean


@dataclasses.dataclass(frozen=True)
class FGSMObjective(Objective):
    r"""Goodfellow et al.'s adversarial objective (2015, §6, the equation for :math:`\tilde J`).

    .. math::
        \tilde J(\theta, x, y) = \alpha J(\theta, x, y)
            + (1-\alpha) J\big(\theta, x + \epsilon\,\mathrm{sign}(\nabla_x J(\theta, x, y)), y\big)

    plus ``½·l2·Σ‖W‖²``.  The adversarial example is recomputed from the current ``θ`` and
    treated as a constant.  ``norm`` other than L∞ replaces ``sign`` by the steepest-ascent
    direction of that norm (the fast gradient method).

    Parameters
    ----------
    eps : float >= 0
        Attack radius, in the input's units.
    clean_weight : float in [0, 1], default 0.5
        Weight of the clean loss, Goodfellow et al.'s :math:`\alpha` (0.5 in all of their
        experiments).
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}, default np.inf
    l2 : float >= 0
    clip_min, clip_max : float or None
        Optional data box applied to the adversarial example.
    """

    eps: float = 0.1
    clean_weight: float = 0.5
    norm: Any = np.inf
    l2: float = 0.0
    clip_min: float | None = None
    clip_max: float | None = None
    name: ClassVar[str] = "fgsm"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.clean_weight, "clean_weight", low=0.0, high=1.0)
        check_norm(self.norm)
        check_box_bounds(self.clip_min, self.clip_max)

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        loss, grads = _one_step(model, params, batch.X, batch.y, eps=float(self.eps),
                                norm=check_norm(self.norm), clean_weight=float(self.clean_weight),
                                lo=self.clip_min, hi=self.clip_max)
        return add_l2_penalty(loss, grads, params, model.weight_names, self.l2)


@dataclasses.dataclass(frozen=True)
class ShahamObjective(FGSMObjective):
    r"""Shaham et al.'s robust optimisation, one ascent + one descent step (2015, Alg. 1).

    Approximates :math:`\min_\theta \sum_i \max_{\|\Delta_i\|_p\le\epsilon}
    J(\theta, x_i+\Delta_i, y_i)` by ``Δ_i = eps ×`` the steepest-ascent direction of
    :math:`\nabla_x J` for the chosen norm (L∞: sign; L2: normalised gradient; L1: one
    coordinate), then a gradient step on the perturbed batch **only** (the clean loss is not in
    the update).  Same as :class:`FGSMObjective` with ``clean_weight = 0``; default norm L2.
    """

    clean_weight: float = 0.0
    norm: Any = 2
    name: ClassVar[str] = "shaham"

    def validate(self, model: Model) -> None:
        super().validate(model)
        if self.clean_weight != 0.0:
            raise ValueError("clean_weight: Shaham et al. update on the perturbed batch only; "
                             "use FGSMObjective for a clean/adversarial mixture.")


# -------------------------------------------------------------------------------- PGD
@dataclasses.dataclass(frozen=True)
class PGDObjective(Objective):
    r"""Madry et al.'s saddle-point objective (2018, eq. (2.1)), inner max by PGD.

    .. math::
        \min_\theta\ \mathbb E_{(x,y)} \Big[\max_{\|\delta\|_p \le \epsilon}
        L(\theta, x+\delta, y)\Big]

    The inner maximum is approximated by ``n_steps`` projected steepest-ascent steps of size
    ``step_size`` from a fresh uniform random start in the ball at every visit; the outer
    gradient is taken at the attack's output (Danskin), plus ``½·l2·Σ‖W‖²``.

    Parameters
    ----------
    eps : float >= 0
    norm : default np.inf
    n_steps : int >= 1, default 10
    step_size : float or None
        ``None`` uses :func:`~minadv.attacks.pgd.default_step_size`, ``2.5·eps/n_steps``
        (Madry et al. §5).
    random_start : bool, default True
    l2, clip_min, clip_max : as in :class:`FGSMObjective`
    """

    eps: float = 0.1
    norm: Any = np.inf
    n_steps: int = 10
    step_size: float | None = None
    random_start: bool = True
    l2: float = 0.0
    clip_min: float | None = None
    clip_max: float | None = None
    name: ClassVar[str] = "pgd"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_norm(self.norm)
        check_int(self.n_steps, "n_steps", low=1)
        if self.step_size is not None:
            check_scalar(self.step_size, "step_size", low=0.0, low_inclusive=False)
        check_box_bounds(self.clip_min, self.clip_max)

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X = batch.X
        step = (default_step_size(self.eps, self.n_steps) if self.step_size is None
                else self.step_size)
        lo, hi = (None if v is None else X.dtype.type(v) for v in (self.clip_min, self.clip_max))
        config = PGDConfig(eps=float(self.eps), norm=check_norm(self.norm), step_size=float(step),
                           n_steps=int(self.n_steps), clip_min=lo, clip_max=hi)
        X_adv, _ = pgd_kernel(model, params, X, batch.y, config,
                              streams=[rng] if self.random_start else None)
        out = model.loss_and_grads_kernel(params, X_adv, batch.y, input_grad=False, l2=self.l2)
        return out.loss, out.grads


# -------------------------------------------------------------------------------- exact
@dataclasses.dataclass(frozen=True)
class ExactRobustObjective(Objective):
    r"""Exact adversarial logistic loss (``docs/theory.md`` eq. (1.1)) for binary logistic regression.

    .. math::
        L(w, b) = \frac1B \sum_i \mathrm{softplus}\big(\epsilon\|w\|_q - y_i(w^\top x_i+b)\big)
            + \tfrac{l_2}{2}\|w\|^2

    The inner maximum is solved in closed form, so the gradient (eq. (1.2)) is the gradient at
    the optimal ``δ`` (Danskin).  Only :class:`~minadv.models.LogisticRegressionModel`.
    """

    eps: float = 0.1
    norm: Any = np.inf
    l2: float = 0.0
    name: ClassVar[str] = "exact_robust"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_norm(self.norm)
        if getattr(model, "weight_names", None) != ("w",) or not model.output.binary:
            raise TypeError("exact_robust: the closed-form robust loss exists only for binary "
                            f"logistic regression, got {model!r}; use 'pgd' for other models.")

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X = batch.X
        theta = np.concatenate([params["w"], np.reshape(params["b"], (1,))])
        y_pm = (2 * batch.y - 1).astype(X.dtype)
        problem = RobustLogisticProblem(X, y_pm, float(self.eps), check_norm(self.norm),
                                        float(self.l2), fit_intercept=True)
        loss, g = robust_logistic_loss_grad_kernel(theta, problem)
        d = X.shape[1]
        return loss, {"w": g[:d], "b": np.asarray(g[d], dtype=X.dtype)}


# -------------------------------------------------------------------------------- VAT
@dataclasses.dataclass(frozen=True)
class VATObjective(Objective):
    r"""Virtual adversarial training (Miyato et al. 2016 eq. (5); 2018 eq. (11)).

    .. math::
        \frac1{B}\sum_{i\le B} \ell(x_i, y_i) + \lambda \frac1{B_u}\sum_{j\le B_u}
        \mathrm{KL}\big(\hat p(\cdot|x_j) \,\|\, p(\cdot|x_j + r_{\mathrm{vadv},j})\big)
        \;[+\; \frac1{B+B_u}\sum_{k} H(p(\cdot|x_k))] + \tfrac{l_2}{2}\sum\|W\|^2

    ``λ`` is ``vat_weight``; ``p̂`` is the clean distribution held constant; ``r_vadv`` =
    ``eps`` × the normalised result of ``n_power_iterations`` power iterations (finite
    difference with probe ``xi``, or the exact input-Fisher product when ``exact=True``).  The
    KL term runs on ``batch.X_unlabeled`` when given (semi-supervised), else on ``batch.X``.
    ``entmin=True`` adds the conditional entropy over labeled and unlabeled rows (VAT+EntMin,
    Miyato 2018 §4.1.3).  ``n_power_iterations = 0`` is random perturbation training (the VAT
    papers' RPT baseline).
    """

    eps: float = 2.0
    xi: float = 1e-6
    n_power_iterations: int = 1
    vat_weight: float = 1.0
    entmin: bool = False
    exact: bool = False
    l2: float = 0.0
    name: ClassVar[str] = "vat"
    uses_unlabeled: ClassVar[bool] = True

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.xi, "xi", low=0.0, low_inclusive=False)
        check_int(self.n_power_iterations, "n_power_iterations", low=0)
        check_scalar(self.vat_weight, "vat_weight", low=0.0)
        if not isinstance(self.entmin, (bool, np.bool_)):
            raise TypeError(f"entmin: expected a bool, got {type(self.entmin).__name__}.")

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X, y = batch.X, batch.y
        Xu = X if batch.X_unlabeled is None else batch.X_unlabeled
        n, nu = X.shape[0], Xu.shape[0]
        z_ref, cache_u = model.forward(params, Xu)          # clean p̂, a constant
        log_p_ref = model.output.log_proba(z_ref)            # computed once per step
        config = VATConfig(eps=float(self.eps), xi=float(self.xi),
                           n_power_iterations=int(self.n_power_iterations), exact=self.exact)
        r = vat_direction_kernel(model, params, Xu, config, rng=rng, log_p_ref=log_p_ref,
                                 logits=z_ref, cache=cache_u)
        Xs = np.empty((n + nu,) + X.shape[1:], dtype=np.result_type(X, Xu, r))
        Xs[:n] = X
        np.add(Xu, r, out=Xs[n:])
        z, cache = model.forward(params, Xs)                # [labeled; unlabeled + r]
        ce, dce = model.output.nll(z[:n], y)
        kl, dkl = model.output.kl(log_p_ref, z[n:])
        loss = float(ce.mean()) + self.vat_weight * float(kl.mean())
        dz = np.empty(z.shape, dtype=np.result_type(dce, dkl))
        np.divide(dce, n, out=dz[:n])
        np.multiply(dkl, self.vat_weight / nu, out=dz[n:])
        if self.entmin:
            ent, dz, cache = self._add_entropy(model, z, z_ref, n, dz, cache, cache_u)
            loss += ent
        if dz.dtype != X.dtype:
            dz = dz.astype(X.dtype)
        grads, _ = model.backward(params, cache, dz, param_grads=True, input_grad=False)
        return add_l2_penalty(loss, grads, params, model.weight_names, self.l2)

    @staticmethod
    def _add_entropy(model: Model, z, z_ref, n, dz, cache, cache_u):
        """Entropy of the clean labeled rows (``z[:n]``) and clean unlabeled rows (``z_ref``),
        appended as extra rows (the clean unlabeled cache) of the single backward pass."""
        ent_l, dent_l = model.output.entropy(z[:n])
        ent_u, dent_u = model.output.entropy(z_ref)
        m = n + z_ref.shape[0]
        dz[:n] += dent_l / m
        loss = (float(np.sum(ent_l)) + float(np.sum(ent_u))) / m
        return loss, _stack(dz, dent_u / m), stack_caches(cache, cache_u)


@dataclasses.dataclass(frozen=True)
class RandomPerturbationObjective(VATObjective):
    """Random perturbation training (Miyato et al. 2016, §4 baseline "RPT"): VAT's loss with
    ``r`` a uniformly random direction of L2 norm ``eps`` (``n_power_iterations = 0``)."""

    n_power_iterations: int = 0
    name: ClassVar[str] = "random"

    def validate(self, model: Model) -> None:
        super().validate(model)
        if self.n_power_iterations != 0:
            raise ValueError("n_power_iterations: random perturbation training uses "
                             "n_power_iterations = 0.")


# -------------------------------------------------------------------------------- dropout
@dataclasses.dataclass(frozen=True)
class DropoutObjective(Objective):
    r"""Dropout training (Srivastava et al. 2014): the mean NLL of the network with fresh
    inverted-dropout masks on every hidden layer's output at each step, plus ``½·l2·Σ‖W‖²``.

    .. math::
        \frac1B \sum_i \ell\big(f_\theta(x_i; m^{(i)}), y_i\big),\qquad
        m^{(i)}_{lj} = b_{lj}/(1-\text{rate}),\ b_{lj}\sim\mathrm{Bernoulli}(1-\text{rate})

    One forward/backward pass of the model with ``masks`` (``h_l ⊙ m_l``; the dropout pair of
    :mod:`minadv.layers`).  Evaluation uses the plain network, which is the mean network thanks
    to the inverted scaling.  One of the six methods of the VAT paper's comparison (Miyato et
    al. 2016, Table 2; ``docs/theory.md`` §6.3).

    Parameters
    ----------
    rate : float in [0, 1), default 0.5
        Drop probability of each hidden unit.
    l2 : float >= 0
    """

    rate: float = 0.5
    l2: float = 0.0
    name: ClassVar[str] = "dropout"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.rate, "rate", low=0.0, high=1.0, high_inclusive=False)
        if not model.hidden_sizes:
            raise TypeError(f"dropout: needs a model with hidden layers to drop (an MLP), got "
                            f"{model!r}.")

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X = batch.X
        masks = None if self.rate == 0 else [
            dropout_mask((X.shape[0], k), self.rate, rng, X.dtype) for k in model.hidden_sizes]
        z, cache = model.forward(params, X, masks=masks)          # (B, C)
        losses, dz = model.output.nll(z, batch.y)
        dz /= X.shape[0]
        grads, _ = model.backward(params, cache, dz, param_grads=True, input_grad=False)
        return add_l2_penalty(float(np.mean(losses)), grads, params, model.weight_names, self.l2)


# -------------------------------------------------------------------------------- certified
# Interval bound propagation (IBP) training and TRADES (``docs/theory.md`` §17.8).

def ibp_schedule(step: int, *, eps: float, kappa: float, warmup_steps: int,
                 ramp_steps: int) -> tuple[float, float]:
    """Gowal et al.'s schedule at training step ``step`` (0-based): ``(eps_t, kappa_t)``.

    ``eps_t = t·eps`` and ``kappa_t = 1 - t·(1 - kappa)`` with
    ``t = clip((step - warmup_steps) / ramp_steps, 0, 1)`` (``t = 1`` after the warm-up when
    ``ramp_steps = 0``): clean training first, then the radius and the weight of the robust
    term grow linearly together.
    """
    if ramp_steps == 0:
        t = 1.0 if step >= warmup_steps else 0.0
    else:
        t = min(max((step - warmup_steps) / ramp_steps, 0.0), 1.0)
    return t * eps, 1.0 - t * (1.0 - kappa)


def ibp_loss_and_grads(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                       eps: float, kappa: float, clip_min=None, clip_max=None,
                       l2: float = 0.0) -> tuple[float, Params]:
    r"""Gowal et al.'s IBP loss and its exact gradient (no validation; an MLP).

    .. math::
        \kappa\,\frac1B\sum_i \ell(z(x_i), y_i) + (1-\kappa)\,\frac1B\sum_i
        \mathrm{CE}(\hat z_i, y_i) + \tfrac{l_2}{2}\sum\|W\|^2

    with the worst-case logits ``ẑ_y = 0``, ``ẑ_j = -m̲_j``, ``m̲_j`` the interval lower bound
    of ``z_y - z_j`` over the L∞ ball ∩ box (:func:`minadv.certify.interval.
    interval_margins_forward`), so ``CE(ẑ, y) = log(1 + Σ_{j≠y} exp(-m̲_j))`` and
    ``∂/∂m̲_j = -softmax(ẑ)_j``.  The gradient runs through the interval pairs' backward.
    (Imports are local: this section is appended to the module, away from its header.)
    """
    from ..certify.certificate import margin_specs
    from ..certify.interval import interval_margins_backward, interval_margins_forward
    from ..certify.network import as_network_kernel
    from ..numerics import log_softmax

    n = X.shape[0]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss = 0.0
    if kappa > 0:
        clean = model.loss_and_grads_kernel(params, X, y, input_grad=False)
        loss += kappa * clean.loss
        grads = {k: kappa * g for k, g in clean.grads.items()}
    if kappa < 1:
        net = as_network_kernel(model, params)
        lower0 = X - eps if clip_min is None else np.maximum(X - eps, clip_min)     # (n, d)
        upper0 = X + eps if clip_max is None else np.minimum(X + eps, clip_max)
        spec, _ = margin_specs(y, model.n_classes, X.dtype)      # (n, C-1, C)
        margins, cache = interval_margins_forward(net, lower0, upper0, spec)   # m̲: (n, C-1)
        z_hat = np.concatenate([np.zeros((n, 1), X.dtype), -margins], axis=1)   # true class 0
        log_p = log_softmax(z_hat)                               # (n, C)
        loss += (1 - kappa) * float(-log_p[:, 0].mean())
        dmargins = -np.exp(log_p[:, 1:]) * ((1 - kappa) / n)     # ∂/∂m̲_j = -softmax(ẑ)_j / n
        dWs, dbs = interval_margins_backward(dmargins.astype(X.dtype), cache, net)
        for (wk, bk), dW, db in zip(model.layer_keys, dWs, dbs):
            grads[wk] = grads[wk] + dW
            grads[bk] = grads[bk] + db
    return add_l2_penalty(loss, {k: grads[k] for k in params}, params, model.weight_names, l2)


@dataclasses.dataclass(frozen=True)
class IBPObjective(Objective):
    r"""Certified training by interval bound propagation (Gowal et al. 2018).

    .. math::
        \kappa\,\ell(z(x), y) + (1-\kappa)\,\mathrm{CE}(\hat z(x), y)

    (:func:`ibp_loss_and_grads`), with ``eps`` ramped from 0 and ``kappa`` from 1 to their
    final values by :func:`ibp_schedule`: ``warmup_steps`` clean steps, then ``ramp_steps``
    linear steps.  The schedule counts this objective's calls (one per minibatch of
    :func:`~minadv.training.fit`); that counter is its only state, so build a new objective for
    a new run.  Only :class:`~minadv.models.MLP`; the L∞ ball ∩ the optional box.

    Parameters
    ----------
    eps : float >= 0
        Final L∞ radius.
    kappa : float in [0, 1], default 0.5
        Final weight of the clean loss (Gowal et al. use 0.5).
    warmup_steps, ramp_steps : int >= 0
    l2, clip_min, clip_max : as in :class:`FGSMObjective`
    """

    eps: float = 0.1
    kappa: float = 0.5
    warmup_steps: int = 0
    ramp_steps: int = 0
    l2: float = 0.0
    clip_min: float | None = None
    clip_max: float | None = None
    calls: list = dataclasses.field(default_factory=lambda: [0], repr=False, compare=False)
    name: ClassVar[str] = "ibp"

    def validate(self, model: Model) -> None:
        from ..models.mlp import MLP

        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.kappa, "kappa", low=0.0, high=1.0)
        check_int(self.warmup_steps, "warmup_steps", low=0)
        check_int(self.ramp_steps, "ramp_steps", low=0)
        check_box_bounds(self.clip_min, self.clip_max)
        if not isinstance(model, MLP):
            raise TypeError(f"model: IBP training needs an MLP (its interval bounds), got "
                            f"{model!r}.")

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        eps, kappa = ibp_schedule(self.calls[0], eps=float(self.eps), kappa=float(self.kappa),
                                  warmup_steps=self.warmup_steps, ramp_steps=self.ramp_steps)
        self.calls[0] += 1
        return ibp_loss_and_grads(model, params, batch.X, batch.y, eps=eps, kappa=kappa,
                                  clip_min=self.clip_min, clip_max=self.clip_max, l2=self.l2)


def trades_attack_kernel(model: Model, params: Params, X: np.ndarray, *, eps: float,
                         step_size: float, n_steps: int, clip_min=None, clip_max=None,
                         rng: np.random.Generator) -> np.ndarray:
    """TRADES's inner maximiser: L∞ PGD on ``KL(p(x) ‖ p(x'))`` (``p(x)`` held constant),
    from ``x + 0.001·N(0, I)`` as in Zhang et al.'s code; returns ``x'`` in the ball ∩ box."""
    lower = X - eps if clip_min is None else np.maximum(X - eps, clip_min)   # (n, d)
    upper = X + eps if clip_max is None else np.minimum(X + eps, clip_max)
    log_p_ref = model.output.log_proba(model.forward(params, X)[0])      # constant
    X_adv = np.clip(X + X.dtype.type(0.001) * rng.standard_normal(X.shape, dtype=X.dtype),
                    lower, upper)
    for _ in range(n_steps):
        z, cache = model.forward(params, X_adv)
        _, dz = model.output.kl(log_p_ref, z)                   # ∂KL/∂z' = q - p
        _, g = model.backward(params, cache, dz, param_grads=False, input_grad=True)
        X_adv += steepest_ascent_kernel(g, step_size, np.inf)
        np.clip(X_adv, lower, upper, out=X_adv)
    return X_adv


def trades_loss_and_grads(model: Model, params: Params, X: np.ndarray, X_adv: np.ndarray,
                          y: np.ndarray, *, beta: float, l2: float = 0.0):
    r"""TRADES loss at a fixed ``x'`` and its gradient (no validation; softmax outputs).

    .. math::
        \frac1B\sum_i \ell(z(x_i), y_i) + \beta\,\frac1B\sum_i
        \mathrm{KL}\big(p(x_i)\,\|\,p(x'_i)\big) + \tfrac{l_2}{2}\sum\|W\|^2

    Both distributions depend on θ: ``∂KL/∂z' = q - p`` (the VAT term, ``losses``) and
    ``∂KL/∂z = p ⊙ (log p - log q - KL)`` (the first argument, ``docs/theory.md`` §17.8).
    One forward and one backward pass over ``[x; x']``.
    """
    n = X.shape[0]
    z, cache = model.forward(params, _stack(X, X_adv))         # (2B, C)
    ce, dce = model.output.nll(z[:n], y)
    log_p = model.output.log_proba(z[:n])
    kl, dz_adv = model.output.kl(log_p, z[n:])                  # KL(p ‖ q), q - p
    log_q = model.output.log_proba(z[n:])
    dz_clean = np.exp(log_p) * (log_p - log_q - kl[:, None])   # ∂KL/∂z (first argument)
    dz = np.concatenate([dce + beta * dz_clean, beta * dz_adv]).astype(X.dtype) / n
    grads, _ = model.backward(params, cache, dz, param_grads=True, input_grad=False)
    loss = float(ce.mean()) + beta * float(kl.mean())
    return add_l2_penalty(loss, grads, params, model.weight_names, l2)


@dataclasses.dataclass(frozen=True)
class TRADESObjective(Objective):
    r"""TRADES (Zhang et al. 2019): accuracy plus a KL boundary term.

    .. math::
        \min_\theta \frac1B\sum_i \Big[\ell(z(x_i), y_i) + \beta
        \max_{\|x'_i - x_i\|_\infty\le\epsilon} \mathrm{KL}\big(p(x_i)\,\|\,p(x'_i)\big)\Big]

    The inner maximum by ``n_steps`` L∞ PGD steps on the KL (:func:`trades_attack_kernel`),
    then :func:`trades_loss_and_grads` at that ``x'`` (Danskin: ``x'`` a constant).

    Parameters
    ----------
    eps : float >= 0
    beta : float >= 0, default 6.0
        Weight of the KL term (``1/λ`` in the paper; 6 in their experiments).
    n_steps : int >= 1, default 10
    step_size : float or None
        ``None``: ``2.5·eps/n_steps``.
    l2, clip_min, clip_max : as in :class:`FGSMObjective`
    """

    eps: float = 0.1
    beta: float = 6.0
    n_steps: int = 10
    step_size: float | None = None
    l2: float = 0.0
    clip_min: float | None = None
    clip_max: float | None = None
    name: ClassVar[str] = "trades"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.beta, "beta", low=0.0)
        check_int(self.n_steps, "n_steps", low=1)
        if self.step_size is not None:
            check_scalar(self.step_size, "step_size", low=0.0, low_inclusive=False)
        check_box_bounds(self.clip_min, self.clip_max)
        if getattr(model.output, "name", None) != "softmax":
            raise TypeError(f"model: TRADES needs a softmax output, got {model!r}.")

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        step = 2.5 * self.eps / self.n_steps if self.step_size is None else self.step_size
        X_adv = trades_attack_kernel(model, params, batch.X, eps=float(self.eps),
                                     step_size=float(step), n_steps=int(self.n_steps),
                                     clip_min=self.clip_min, clip_max=self.clip_max, rng=rng)
        return trades_loss_and_grads(model, params, batch.X, X_adv, batch.y,
                                     beta=float(self.beta), l2=self.l2)


# ------------------------------------------------------------------------ Gaussian noise
@dataclasses.dataclass(frozen=True)
class GaussianNoiseObjective(Objective):
    r"""Gaussian-noise training (Cohen et al. 2019, §4: the base classifier of randomized
    smoothing is trained on noised inputs): the loss at Gaussian-noised inputs.

    .. math::
        \frac1B \sum_i \ell\big(f(x_i + \sigma\,\delta_i), y_i\big) + \tfrac12\,l2\,\sum\|W\|^2,
        \qquad \delta_i \sim \mathcal N(0, I),

    a fresh draw of ``δ`` from the training stream ``rng`` at every step; no clipping to a box
    (the smoothed classifier adds unclipped noise too).

    Parameters
    ----------
    sigma : float > 0
        Noise level σ (the σ used to certify).
    l2 : float >= 0
        L2 penalty ``½·l2·Σ‖W‖²`` (biases unpenalized).
    """

    sigma: float = 0.25
    l2: float = 0.0
    name: ClassVar[str] = "gaussian_noise"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.sigma, "sigma", low=0.0, low_inclusive=False)

    def __call__(self, model: Model, params: Params, batch: Batch, rng: Any):
        noise = rng.standard_normal(batch.X.shape).astype(batch.X.dtype, copy=False)  # (B, d)
        out = model.loss_and_grads_kernel(params, batch.X + self.sigma * noise, batch.y,
                                          input_grad=False, l2=self.l2)
        return out.loss, out.grads


OBJECTIVES = {
    "erm": ERM,
    "fgsm": FGSMObjective,
    "shaham": ShahamObjective,
    "pgd": PGDObjective,
    "exact_robust": ExactRobustObjective,
    "vat": VATObjective,
    "random": RandomPerturbationObjective,
    "dropout": DropoutObjective,
    "ibp": IBPObjective,
    "trades": TRADESObjective,
    "gaussian_noise": GaussianNoiseObjective,
}


def make_objective(name: str, **hyper: Any) -> Objective:
    """Build an objective by name (``OBJECTIVES`` keys) from keyword hyper-parameters.

    Raises
    ------
    ValueError
        Unknown name, or a keyword the objective does not take.
    """
    if name not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {sorted(OBJECTIVES)}, got {name!r}.")
    cls = OBJECTIVES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(hyper) - fields)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown hyper-parameters {unknown}; "
                         f"it takes {sorted(fields)}.")
    return cls(**hyper)
