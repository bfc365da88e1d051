"""One-step (fast gradient) attacks: FGSM and its L2 / L1 versions.

``x_adv = clip(x + eps * steepest_ascent(∇_x ℓ(x, y)), clip_min, clip_max)`` with the
steepest-ascent direction of the chosen norm (:mod:`minadv.attacks.steepest`).  For a linear
model the L_inf step is exactly the closed-form worst case (``theory.md`` sections 1.1, 5.2).

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
steepest-ascent steps (``theory.md`` (4.2)).
Kurakin, Goodfellow, Bengio. Adversarial Machine Learning at Scale. ICLR 2017 (label leaking).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_norm
from ._common import attack_loss_grad, check_attack_inputs
from .steepest import steepest_ascent_kernel

__all__ = ["fgsm", "fast_gradient"]


def _fast_gradient(model, params, X, labels, targeted, eps, norm, lo, hi) -> np.ndarray:
    """Kernel (no validation): one gradient, one steepest step, one box clip."""
    if eps == 0:
        return X.copy()
    g, _, _ = attack_loss_grad(model, params, X, labels, targeted)
    X_adv = steepest_ascent_kernel(g, eps, norm)                       # (n, d) delta
    X_adv += X
    if lo is not None or hi is not None:
        np.clip(X_adv, lo, hi, out=X_adv)
    return X_adv


def fast_gradient(model, params: dict, X: np.ndarray, y: Any, eps: float, norm: Any = np.inf,
                  *, clip_min: Any = None, clip_max: Any = None,
                  target: Any = None) -> np.ndarray:
    """Fast gradient method in the L_inf (FGSM), L2 or L1 ball.

    Parameters
    ----------
    model : minadv.models.Model
    params : dict
        The model's parameters.
    X : ndarray of shape (n, d), the model's dtype
        Clean inputs (inside the box if one is given).  Never modified.
    y : ndarray of shape (n,) or None
        True labels; ``None`` uses the model's predictions (see the module note on label
        leaking).
    eps : float
        Attack radius, ``>= 0``, in the input's units.  ``eps = 0`` returns a copy of ``X``.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
    clip_min, clip_max : None, float or array broadcastable to (n, d)
        Data box; ``None`` means unbounded on that side.
    target : ndarray of shape (n,) or None
        Targeted mode: descend the NLL of these labels instead of ascending the NLL of ``y``.

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
    a = check_attack_inputs(model, params, X, y, eps, clip_min, clip_max, target)
    return _fast_gradient(model, a.params, a.X, a.labels, a.targeted, a.eps, norm,
                          a.clip_min, a.clip_max)


def fgsm(model, params: dict, X: np.ndarray, y: Any, eps: float, *, clip_min: Any = None,
         clip_max: Any = None, target: Any = None) -> np.ndarray:
    """Fast gradient sign method: ``x_adv = clip(x + eps sign(∇_x ℓ(x, y)))``.

    Same arguments and guarantees as :func:`fast_gradient` with ``norm=np.inf``.

    References
    ----------
    Goodfellow, Shlens, Szegedy, ICLR 2015, section 4 (``theory.md`` 5.2).

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(2)
    >>> params = {"w": np.array([1.0, -2.0]), "b": np.array(0.0)}
    >>> fgsm(model, params, np.zeros((1, 2)), np.array([1]), 0.1)
    array([[-0.1,  0.1]])
    """
    return fast_gradient(model, params, X, y, eps, np.inf, clip_min=clip_min,
                         clip_max=clip_max, target=target)
