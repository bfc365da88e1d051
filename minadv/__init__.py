"""minadv: adversarial training, explained with exact gradients.

A NumPy-only reference implementation: logistic regression and MLPs with explicit backprop and
exact Hessian-vector products, attacks (FGSM, L2/L1 fast gradient, PGD, closed-form worst
cases, the VAT direction), adversarial training objectives, and the analysis that checks the
theory (closed-form sharpness, Hessian spectra, smoothness, loss landscapes).
"""

__version__ = "0.1.0"

from . import losses, numerics, params  # noqa: E402
from .models import MLP, LogisticRegressionModel  # noqa: E402

__all__ = ["__version__", "numerics", "losses", "params", "MLP", "LogisticRegressionModel"]
