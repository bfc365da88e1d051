"""Certified robustness: is this point robust?  Bounds, exact answers and smoothing.

For an MLP (ReLU or identity; interval bounds also for tanh/sigmoid/softplus) or a logistic
regression, a point ``x`` with label ``y`` and the input set ``S(x)`` = L∞ (L2, L1) ball ∩ box:

* :mod:`~minadv.certify.interval` – interval bound propagation (IBP) of every layer;
* :mod:`~minadv.certify.linear` – linear relaxation by back-substitution (CROWN/DeepPoly);
* :mod:`~minadv.certify.lp` – the LP triangle relaxation (HiGHS via ``scipy.optimize.linprog``);
* :mod:`~minadv.certify.milp` – exact verification as a big-M MILP (``scipy.optimize.milp``);
* :mod:`~minadv.certify.smoothing` – randomized smoothing (Cohen et al. 2019);
* :mod:`~minadv.certify.lipschitz` – the Lipschitz-margin certificate;

on top of :mod:`~minadv.certify.network` (a model as affine layers),
:mod:`~minadv.certify.input_set` (the ball ∩ box and exact linear minima),
:mod:`~minadv.certify.certificate` (the result and its verdict rules) and
:mod:`~minadv.certify.program` (the LP/MILP constraints).  With the same pre-activation bounds
the margins obey ``interval, linear <= lp <= exact <=`` the margin at any attack's output
(``docs/theory.md`` §17).  Each checked function ``name`` has its unchecked ``name_kernel``.
"""

from .certificate import FALSIFIED, UNKNOWN, VERIFIED, Certificate
from .input_set import InputSet, input_set
from .interval import certify_interval, certify_interval_kernel, interval_bounds, interval_bounds_kernel
from .linear import certify_linear, certify_linear_kernel, linear_bounds, linear_bounds_kernel
from .lipschitz import certify_lipschitz, certify_lipschitz_kernel
from .lp import certify_lp, certify_lp_kernel
from .milp import verify_exact, verify_exact_kernel
from .network import Network, as_network, as_network_kernel
from .smoothing import (
    ABSTAIN,
    SmoothedCertificate,
    linear_smoothing_radius,
    smoothed_certify,
    smoothed_certify_kernel,
    smoothed_predict,
)

__all__ = [
    "Certificate", "VERIFIED", "FALSIFIED", "UNKNOWN", "InputSet", "input_set",
    "Network", "as_network", "as_network_kernel",
    "interval_bounds", "interval_bounds_kernel", "certify_interval", "certify_interval_kernel",
    "linear_bounds", "linear_bounds_kernel", "certify_linear", "certify_linear_kernel",
    "certify_lp", "certify_lp_kernel", "verify_exact", "verify_exact_kernel",
    "certify_lipschitz", "certify_lipschitz_kernel",
    "smoothed_predict", "smoothed_certify", "smoothed_certify_kernel", "SmoothedCertificate",
    "linear_smoothing_radius", "ABSTAIN",
]
