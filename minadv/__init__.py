"""minadv: adversarial training, explained with exact gradients.

A NumPy-only reference implementation: logistic regression and MLPs with explicit backprop and
exact Hessian-vector products, attacks (FGSM, L2/L1 fast gradient, PGD, closed-form worst
cases, the VAT direction), adversarial training objectives, and the analysis that checks the
theory (closed-form sharpness, Hessian spectra, smoothness, loss landscapes).
"""

from . import attacks, datasets, losses, numerics, optim, params, threads, training
from ._version import __version__
from .estimators import LogisticRegression, MLPClassifier
from .io import load_model, save_model
from .models import MLP, LogisticRegressionModel
from .threads import get_num_threads, set_num_threads

__all__ = ["__version__", "numerics", "losses", "params", "datasets", "attacks", "optim",
           "training", "analysis", "MLP", "LogisticRegressionModel", "LogisticRegression",
           "MLPClassifier", "save_model", "load_model", "threads", "set_num_threads",
           "get_num_threads"]


def __getattr__(name):
    # ``minadv.analysis`` pulls in scipy.sparse.linalg (~0.5 s): import it on first use only.
    if name == "analysis":
        import importlib

        return importlib.import_module(".analysis", __name__)
    raise AttributeError(f"module 'minadv' has no attribute {name!r}")
