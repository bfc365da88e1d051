"""Analysis: Hessian spectra, loss landscapes, sharpness and smoothness.

* :mod:`~minadv.analysis.hessian` — exact-HVP operators, Lanczos/power-iteration spectra, dense
  Hessians for small models, Hutchinson traces, the Hessian at fixed adversarial examples.
* :mod:`~minadv.analysis.landscape` — Li et al. (2018) interpolation, filter-normalised
  directions, 1-D/2-D slices (grids and values; no plotting).
* :mod:`~minadv.analysis.sharpness` — ε-sharpness (Keskar et al. 2017) and the Hessian trace.
* :mod:`~minadv.analysis.robust_fit` — certified minimisers of the closed-form adversarial
  logistic loss (exact at the kinks of the L∞ and L1 cases; KKT residual as certificate).
* :mod:`~minadv.analysis.sharpness_curve` — λ_max of L2-adversarial logistic regression along an
  ε grid (``docs/theory.md`` §2.5) and the random-noise control.
* :mod:`~minadv.analysis.smoothness` — gradient-Lipschitz ratios (Kanai et al.).

Nothing here imports matplotlib.
"""

from .hessian import (
                      HutchinsonResult,
                      PowerIterationResult,
                      dense_hessian,
                      gauss_newton_operator,
                      hessian_at_adversarial,
                      hessian_operator,
                      hutchinson_trace,
                      power_iteration,
                      top_eigenvalues,
)
from .landscape import (
                      Slice1D,
                      Slice2D,
                      adversarial_loss_fn,
                      clean_loss_fn,
                      interpolate,
                      random_direction,
                      slice_1d,
                      slice_2d,
                      weight_names_of,
)
from .robust_fit import (
                      RobustLogisticFit,
                      RobustLogisticProblem,
                      fit_robust_logistic,
                      has_minimiser,
                      has_minimiser_kernel,
)
from .sharpness import SharpnessResult, epsilon_sharpness, hessian_trace, sharpness_ascent
from .sharpness_curve import (
                      NoiseControl,
                      SharpnessCurve,
                      random_noise_control,
                      sharpness_curve,
)
from .smoothness import (
                      gradient_lipschitz_ratios,
                      pgd_adversarial_grad_fn,
                      random_unit_directions,
                      robust_logistic_grad_fn,
)

__all__ = [
    # hessian
    "hessian_operator", "gauss_newton_operator", "hessian_at_adversarial", "top_eigenvalues",
    "power_iteration", "PowerIterationResult", "dense_hessian", "hutchinson_trace",
    "HutchinsonResult",
    # landscape
    "interpolate", "random_direction", "slice_1d", "slice_2d", "Slice1D", "Slice2D",
    "clean_loss_fn", "adversarial_loss_fn", "weight_names_of",
    # sharpness
    "epsilon_sharpness", "sharpness_ascent", "SharpnessResult", "hessian_trace",
    # robust_fit
    "RobustLogisticFit", "RobustLogisticProblem", "fit_robust_logistic", "has_minimiser",
    "has_minimiser_kernel",
    # sharpness_curve
    "SharpnessCurve", "NoiseControl", "sharpness_curve", "random_noise_control",
    # smoothness
    "random_unit_directions", "gradient_lipschitz_ratios", "robust_logistic_grad_fn",
    "pgd_adversarial_grad_fn",
]
