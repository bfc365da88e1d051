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
from ..attacks.pgd import PGDConfig, pgd_kernel
from ..attacks.steepest import steepest_ascent_kernel
from ..attacks.vat import VATConfig, vat_direction_kernel
from ..losses import add_l2_penalty
from ..models.base import Model, stack_caches
from ..params import Params

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
    "OBJECTIVES",
    "make_objective",
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


def _check_box(lo, hi) -> None:
    for v, nm in ((lo, "clip_min"), (hi, "clip_max")):
        if v is not None:
            check_scalar(v, nm)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip_min ({lo}) must not exceed clip_max ({hi}).")


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
    delta = steepest_ascent_kernel(gx, eps, norm, out=gx)  # gx is not needed any more
    return _clip(X + delta, lo, hi)


def _one_step(model: Model, params: Params, X, y, *, eps, norm, alpha, lo, hi):
    """Mixed clean/one-step-adversarial loss; ``alpha`` weighs the clean half.

    Passes: clean forward, one clean backward giving the input gradient (for the attack) and
    the clean weight gradients together, adversarial forward and backward, then
    ``alpha · clean + (1 - alpha) · adversarial``.  Speed place (W1, FGSM training): one
    clean backward instead of one to the input and a second for the weights saves two
    products and two masks per step (7 % of the objective at 1 thread, measured); the
    weighting moves from ``dlogits`` to the gradients (equal up to rounding; bitwise for
    ``alpha = 0.5``).  One product over the stacked ``2B`` rows instead of two backward
    passes was measured too: 1.6 %, so the plain form stays.
    """
    n = X.shape[0]
    z, cache = model.forward(params, X)
    losses, dz = model.output.nll(z, y)
    dz /= n
    clean, gx = model.backward(params, cache, dz, param_grads=alpha != 0.0, input_grad=True)
    z_adv, cache_adv = model.forward(params, _one_step_example(X, gx, eps, norm, lo, hi))
    losses_adv, dz_adv = model.output.nll(z_adv, y)
    loss = (1.0 - alpha) * float(losses_adv.mean())
    dz_adv *= (1.0 - alpha) / n
    grads, _ = model.backward(params, cache_adv, dz_adv, param_grads=True, input_grad=False)
    if alpha == 0.0:
        return loss, grads
    loss += alpha * float(losses.mean())
    for k in clean:                                        # alpha·clean + adversarial, in place
        clean[k] *= alpha
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
    alpha : float in [0, 1], default 0.5
        Weight of the clean loss (0.5 in all of Goodfellow et al.'s experiments).
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}, default np.inf
    l2 : float >= 0
    clip_min, clip_max : float or None
        Optional data box applied to the adversarial example.
    """

    eps: float = 0.1
    alpha: float = 0.5
    norm: Any = np.inf
    l2: float = 0.0
    clip_min: float | None = None
    clip_max: float | None = None
    name: ClassVar[str] = "fgsm"

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.alpha, "alpha", low=0.0, high=1.0)
        check_norm(self.norm)
        _check_box(self.clip_min, self.clip_max)

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        loss, grads = _one_step(model, params, batch.X, batch.y, eps=float(self.eps),
                                norm=check_norm(self.norm), alpha=float(self.alpha),
                                lo=self.clip_min, hi=self.clip_max)
        return add_l2_penalty(loss, grads, params, model.weight_names, self.l2)


@dataclasses.dataclass(frozen=True)
class ShahamObjective(FGSMObjective):
    r"""Shaham et al.'s robust optimisation, one ascent + one descent step (2015, Alg. 1).

    Approximates :math:`\min_\theta \sum_i \max_{\|\Delta_i\|_p\le\epsilon}
    J(\theta, x_i+\Delta_i, y_i)` by ``Δ_i = eps ×`` the steepest-ascent direction of
    :math:`\nabla_x J` for the chosen norm (L∞: sign; L2: normalised gradient; L1: one
    coordinate), then a gradient step on the perturbed batch **only** (the clean loss is not in
    the update).  Same as :class:`FGSMObjective` with ``alpha = 0``; default norm L2.
    """

    alpha: float = 0.0
    norm: Any = 2
    name: ClassVar[str] = "shaham"

    def validate(self, model: Model) -> None:
        super().validate(model)
        if self.alpha != 0.0:
            raise ValueError("alpha: Shaham et al. update on the perturbed batch only; "
                             "use FGSMObjective for a clean/adversarial mixture.")


# -------------------------------------------------------------------------------- PGD
@dataclasses.dataclass(frozen=True)
class PGDObjective(Objective):
    r"""Madry et al.'s saddle-point objective (2018, eq. (2.1)), inner max by PGD.

    .. math::
        \min_\theta\ \mathbb E_{(x,y)} \Big[\max_{\|\delta\|_p \le \epsilon}
        L(\theta, x+\delta, y)\Big]

    The inner maximum is approximated by ``steps`` projected steepest-ascent steps of size
    ``step_size`` from a fresh uniform random start in the ball at every visit; the outer
    gradient is taken at the attack's output (Danskin), plus ``½·l2·Σ‖W‖²``.

    Parameters
    ----------
    eps : float >= 0
    norm : default np.inf
    steps : int >= 1, default 10
    step_size : float or None
        ``None`` uses ``2.5·eps/steps`` (Madry et al. §5).
    random_start : bool, default True
    l2, clip_min, clip_max : as in :class:`FGSMObjective`
    """

    eps: float = 0.1
    norm: Any = np.inf
    steps: int = 10
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
        check_int(self.steps, "steps", low=1)
        if self.step_size is not None:
            check_scalar(self.step_size, "step_size", low=0.0, low_inclusive=False)
        _check_box(self.clip_min, self.clip_max)

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X = batch.X
        step = 2.5 * self.eps / self.steps if self.step_size is None else self.step_size
        lo, hi = (None if v is None else X.dtype.type(v) for v in (self.clip_min, self.clip_max))
        config = PGDConfig(eps=float(self.eps), norm=check_norm(self.norm), step_size=float(step),
                           n_steps=int(self.steps), clip_min=lo, clip_max=hi)
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
        from .. import robust_logistic as rl

        X = batch.X
        theta = np.concatenate([params["w"], np.reshape(params["b"], (1,))])
        y_pm = (2 * batch.y - 1).astype(X.dtype)
        loss, g = rl.robust_logistic_loss_grad_kernel(theta, X, y_pm, float(self.eps), check_norm(self.norm),
                                float(self.l2), True)
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

    ``p̂`` is the clean distribution held constant; ``r_vadv`` = ``eps`` × the normalised
    result of ``n_power`` power iterations (finite difference with probe ``xi``, or the exact
    input-Fisher product when ``exact=True``).  The KL term runs on ``batch.X_unlabeled`` when
    given (semi-supervised), else on ``batch.X``.  ``entmin=True`` adds the conditional
    entropy over labeled and unlabeled rows (VAT+EntMin, Miyato 2018 §4.1.3).  ``n_power = 0``
    is random perturbation training (the VAT papers' RPT baseline).
    """

    eps: float = 2.0
    xi: float = 1e-6
    n_power: int = 1
    lam: float = 1.0
    entmin: bool = False
    exact: bool = False
    l2: float = 0.0
    name: ClassVar[str] = "vat"
    uses_unlabeled: ClassVar[bool] = True

    def validate(self, model: Model) -> None:
        super().validate(model)
        check_scalar(self.eps, "eps", low=0.0)
        check_scalar(self.xi, "xi", low=0.0, low_inclusive=False)
        check_int(self.n_power, "n_power", low=0)
        check_scalar(self.lam, "lam", low=0.0)

    def __call__(self, model: Model, params: Params, batch: Batch, rng):
        X, y = batch.X, batch.y
        Xu = X if batch.X_unlabeled is None else batch.X_unlabeled
        n, nu = X.shape[0], Xu.shape[0]
        z_ref, cache_u = model.forward(params, Xu)          # clean p̂, a constant
        log_p_ref = model.output.log_proba(z_ref)            # computed once per step
        config = VATConfig(eps=float(self.eps), xi=float(self.xi), n_power=int(self.n_power),
                           exact=self.exact)
        r = vat_direction_kernel(model, params, Xu, config, rng=rng, log_p_ref=log_p_ref,
                                 logits=z_ref, cache=cache_u)
        Xs = np.empty((n + nu,) + X.shape[1:], dtype=np.result_type(X, Xu, r))
        Xs[:n] = X
        np.add(Xu, r, out=Xs[n:])
        z, cache = model.forward(params, Xs)                # [labeled; unlabeled + r]
        ce, dce = model.output.nll(z[:n], y)
        kl, dkl = model.output.kl(log_p_ref, z[n:])
        loss = float(ce.mean()) + self.lam * float(kl.mean())
        dz = np.empty(z.shape, dtype=np.result_type(dce, dkl))
        np.divide(dce, n, out=dz[:n])
        np.multiply(dkl, self.lam / nu, out=dz[n:])
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
    ``r`` a uniformly random direction of L2 norm ``eps`` (``n_power = 0``)."""

    n_power: int = 0
    name: ClassVar[str] = "random"

    def validate(self, model: Model) -> None:
        super().validate(model)
        if self.n_power != 0:
            raise ValueError("n_power: random perturbation training uses n_power = 0.")


OBJECTIVES = {cls.name: cls for cls in (ERM, FGSMObjective, ShahamObjective, PGDObjective,
                                        ExactRobustObjective, VATObjective,
                                        RandomPerturbationObjective)}


def make_objective(name: str, **hyper: Any) -> Objective:
    """Build an objective by name (``OBJECTIVES`` keys) from keyword hyper-parameters.

    Raises
    ------
    ValueError
        Unknown name, or a keyword the objective does not take.
    """
    from .. import dropout  # noqa: F401  (registers "dropout" in OBJECTIVES)
    if name not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {sorted(OBJECTIVES)}, got {name!r}.")
    cls = OBJECTIVES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(hyper) - fields)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown hyper-parameters {unknown}; "
                         f"it takes {sorted(fields)}.")
    return cls(**hyper)
