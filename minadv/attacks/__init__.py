"""Adversarial attacks on any model of the :mod:`minadv.models` protocol.

* :mod:`~minadv.attacks.steepest` – the steepest-ascent primitive and Lp-ball projections;
* :mod:`~minadv.attacks.fast_gradient` – FGSM and the L2/L1 fast gradient methods;
* :mod:`~minadv.attacks.pgd` – projected gradient attacks with random starts and restarts;
* :mod:`~minadv.attacks.linear` – exact worst cases of linear models (closed form);
* :mod:`~minadv.attacks.vat` – virtual adversarial perturbations (power iteration);
* :mod:`~minadv.attacks.evaluate` – accuracy under attack along an eps grid.
"""

from .evaluate import RobustnessCurve, robustness_curve
from .fast_gradient import fast_gradient, fgsm
from .linear import linear_worst_case, robust_margin
from .pgd import PGDTrace, pgd, random_ball_start
from .steepest import lp_norms, project_ball, project_box, steepest_ascent
from .vat import (
                  VATPerturbation,
                  local_distributional_smoothness,
                  vat_kl,
                  vat_loss,
                  vat_perturbation,
                  vat_perturbation_kernel,
)

__all__ = [
    "steepest_ascent", "project_ball", "project_box", "lp_norms",
    "fgsm", "fast_gradient",
    "pgd", "PGDTrace", "random_ball_start",
    "linear_worst_case", "robust_margin",
    "VATPerturbation", "vat_perturbation", "vat_perturbation_kernel", "vat_kl", "vat_loss",
    "local_distributional_smoothness",
    "RobustnessCurve", "robustness_curve",
]
