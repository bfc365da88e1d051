"""Adversarial attacks on any model of the :mod:`minadv.models` protocol.

* :mod:`~minadv.attacks.norms` – row Lp norms, scale-safe unit vectors, the sign step and the
  Lp-ball projections;
* :mod:`~minadv.attacks.box` – the data box (validation, clip);
* :mod:`~minadv.attacks.common` – the model/estimator resolver, labels, the loss gradient,
  row-block batching;
* :mod:`~minadv.attacks.steepest` – the steepest-ascent primitive;
* :mod:`~minadv.attacks.fast_gradient` – FGSM and the L2/L1 fast gradient methods;
* :mod:`~minadv.attacks.pgd` – projected gradient attacks with random starts and restarts;
* :mod:`~minadv.attacks.linear` – exact worst cases of linear models (closed form);
* :mod:`~minadv.attacks.vat` – virtual adversarial perturbations (power iteration);
* :mod:`~minadv.attacks.evaluate` – accuracy under attack along an eps grid.

Naming: each checked public function ``name`` validates its arguments once and calls its
unchecked kernel ``name_kernel`` from the same module (for library code that validated once).
"""

from .box import project_box
from .common import resolve_model
from .evaluate import RobustnessCurve, robustness_curve
from .fast_gradient import fast_gradient, fast_gradient_kernel, fgsm
from .linear import linear_worst_case, robust_margin
from .norms import lp_norms, project_ball
from .pgd import PGDConfig, PGDTrace, pgd, pgd_kernel, random_ball_start
from .steepest import steepest_ascent
from .vat import (
    VATConfig,
    VATPerturbation,
    local_distributional_smoothness,
    vat_kl,
    vat_loss,
    vat_perturbation,
    vat_perturbation_kernel,
)

__all__ = [
    "steepest_ascent", "project_ball", "project_box", "lp_norms", "resolve_model",
    "fgsm", "fast_gradient", "fast_gradient_kernel",
    "pgd", "pgd_kernel", "PGDConfig", "PGDTrace", "random_ball_start",
    "linear_worst_case", "robust_margin",
    "VATConfig", "VATPerturbation", "vat_perturbation", "vat_perturbation_kernel", "vat_kl",
    "vat_loss", "local_distributional_smoothness",
    "RobustnessCurve", "robustness_curve",
]
