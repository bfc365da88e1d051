"""One-step (fast gradient) attacks: FGSM and its L2 / L1 versions.

``x_adv = clip(x + eps * steepest_ascent(∇_x ℓ(x, y)), clip_min, clip_max)`` with the
steepest-ascent direction of the chosen norm (:mod:`minadv.attacks.steepest`).  For a linear
model the L_inf step is exactly the closed-form worst case (``docs/theory.md`` §1.1, §5.2).

Labels: ``y=None`` attacks the model's own predictions.  Kurakin et al. (2017) observed
*label leaking* when FGSM examples built from the true labels are used for adversarial
training (the one-step perturbation carries information about the label, and the trained
model learns to read it, so its accuracy on such examples exceeds its clean accuracy); using
the predictions avoids it.  For evaluation, pass the true labels.

References
----------
Goodfellow, Shlens, Szegedy. Explaining and Harnessing Adversarial Examples. ICLR 2015
(arXiv:1412.6572), section 4 (FGSM, ``eta = eps sign(∇_x J)``).
Shaham, Yamada, Negahban. Understanding Adversarial Training. arXiv:1511.05432, the L2 and L1
steepest-ascent steps (``docs/theory.md`` eq. (4.2)).
Kurakin, Goodfellow, Bengio. Adversarial Machine Learning at Scale. ICLR 2017 (label leaking).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_norm
from ..threads import thread_policy
from .common import (
    attack_labels,
    attack_loss_grad,
    check_attack_inputs,
    check_batch_size,
    map_row_blocks,
)
from .steepest import steepest_ascent_kernel

__all__ = ["fgsm", "fast_gradient", "fast_gradient_kernel"]


def fast_gradient_kernel(model, params: dict, X: np.ndarray, labels: np.ndarray | None, *,
                         eps: float, norm, clip_min: Any = None, clip_max: Any = None,
                         targeted: bool = False) -> np.ndarray:
    """Kernel of :func:`fast_gradient` (no validation): one gradient, one step, one clip.

    ``labels`` (n,) int64 or None (the model's predictions), ``norm`` canonical, ``clip_min``/
    ``clip_max`` validated by :func:`~minadv.attacks.box.check_box` (None = unbounded).
    """
    if eps == 0:
        return X.copy()
    labels = attack_labels(model, params, X, labels)
    g, _, _ = attack_loss_grad(model, params, X, labels, targeted)      # (n, d)
    X_adv = steepest_ascent_kernel(g, eps, norm, out=g)                 # (n, d) delta
    X_adv += X
    if clip_min is not None or clip_max is not None:
        np.clip(X_adv, clip_min, clip_max, out=X_adv)
    return X_adv


@thread_policy
def fast_gradient(model, params: dict | None, X: np.ndarray, y: Any = None, eps: float | None = None,
                  *, norm: Any = np.inf, clip_min: Any = None, clip_max: Any = None,
                  target: Any = None, batch_size: int | None = None) -> np.ndarray:
    """Fast gradient method in the L_inf (FGSM), L2 or L1 ball.

    Parameters
    ----------
    model : minadv.models.Model or fitted estimator
        A model, or a fitted estimator with ``params=None`` (its labels are then its
        ``classes_``; :func:`~minadv.attacks.common.resolve_model`).
    params : dict or None
        The model's parameters.
    X : ndarray of shape (n, d), the model's dtype
        Clean inputs (inside the box if one is given).  Never modified.
    y : ndarray of shape (n,) or None
        True labels; ``None`` (the default) attacks the model's predictions (see the module
        note on label leaking).
    eps : float
        Attack radius, ``>= 0``, in the input's units.  ``eps = 0`` returns a copy of ``X``.
        Required (it defaults to None only so that ``y`` can be omitted: ``eps=`` by keyword).
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
    clip_min, clip_max : None, float or array broadcastable to (n, d)
        Data box; ``None`` means unbounded on that side.
    target : ndarray of shape (n,) or None
        Targeted mode: descend the NLL of these labels instead of ascending the NLL of ``y``.
    batch_size : int or None
        Attack ``batch_size`` rows at a time (``None``: all at once).  The result equals the
        unbatched one (rows are independent; module docstring of
        :mod:`~minadv.attacks.common`), and peak memory is the output plus one batch.

    Returns
    -------
    X_adv : ndarray of shape (n, d), dtype of ``X``
        ``clip(x + delta)`` with ``delta = eps * steepest_ascent(s ∇_x ℓ)``, ``s = +1``
        (untargeted, labels ``y``) or ``-1`` (targeted, labels ``target``).  Lies in the
        eps-ball around ``x`` and in the box.

    Raises
    ------
    ValueError, TypeError
        Invalid model inputs, negative/NaN ``eps``, unknown ``norm``, ``clip_min > clip_max``,
        ``X`` outside the box, labels out of range, ``target == y``.

    Notes
    -----
    The first-order model ``ℓ(x + delta) ≈ ℓ(x) + <∇ℓ, delta>`` is maximised over the ball at
    the steepest-ascent direction (Goodfellow et al. 2015, sec. 4; Shaham et al. 2015, eq. for
    the Lp steepest ascent).  Zero-gradient rows are not moved.
    """
    norm = check_norm(norm)
    a = check_attack_inputs(model, params, X, y, eps, clip_min=clip_min, clip_max=clip_max, target=target)
    batch_size = check_batch_size(batch_size)

    def attack(Xb, labels, lo, hi):
        return fast_gradient_kernel(a.model, a.params, Xb, labels, eps=a.eps, norm=norm,
                                    clip_min=lo, clip_max=hi, targeted=a.targeted)

    return map_row_blocks(attack, a.X, a.labels, lo=a.clip_min, hi=a.clip_max, batch_size=batch_size)


@thread_policy
def fgsm(model, params: dict | None, X: np.ndarray, y: Any = None, eps: float | None = None, *,
         clip_min: Any = None, clip_max: Any = None, target: Any = None,
         batch_size: int | None = None) -> np.ndarray:
    """Fast gradient sign method: ``x_adv = clip(x + eps sign(∇_x ℓ(x, y)))``.

    Same arguments and guarantees as :func:`fast_gradient` with ``norm=np.inf``.

    References
    ----------
    Goodfellow, Shlens, Szegedy, ICLR 2015, section 4 (``docs/theory.md`` §5.2).

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(2)
    >>> params = {"w": np.array([1.0, -2.0]), "b": np.array(0.0)}
    >>> fgsm(model, params, np.zeros((1, 2)), np.array([1]), 0.1)
    array([[-0.1,  0.1]])
    """
    return fast_gradient(model, params, X, y, eps, norm=np.inf, clip_min=clip_min,
                         clip_max=clip_max, target=target, batch_size=batch_size)
