"""Training: objectives (ERM, FGSM, Shaham, PGD, exact robust, VAT, RPT, dropout, IBP, TRADES,
Gaussian noise), one loop.

Adversarial training and VAT are *objectives* ``(model, params, batch, rng) -> (loss, grads)``
passed to :func:`fit` together with a pure optimizer from :mod:`minadv.optim`.
"""

from .loop import EarlyStopping, FitResult, evaluate, evaluate_kernel, fit
from .objectives import (
    ERM,
    OBJECTIVES,
    Batch,
    DropoutObjective,
    ExactRobustObjective,
    FGSMObjective,
    GaussianNoiseObjective,
    IBPObjective,
    Objective,
    PGDObjective,
    RandomPerturbationObjective,
    ShahamObjective,
    TRADESObjective,
    VATObjective,
    make_objective,
)

__all__ = [
    "fit", "evaluate", "evaluate_kernel", "EarlyStopping", "FitResult", "Batch", "Objective", "ERM",
    "FGSMObjective", "ShahamObjective", "PGDObjective", "ExactRobustObjective",
    "VATObjective", "RandomPerturbationObjective", "DropoutObjective", "IBPObjective",
    "TRADESObjective", "GaussianNoiseObjective", "OBJECTIVES",
    "make_objective",
]
