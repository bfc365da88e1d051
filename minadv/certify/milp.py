"""Exact verification: the minimum margin per wrong class as a MILP (big-M), solved by HiGHS
through :func:`scipy.optimize.milp`.

For a ReLU network, point ``x``, label ``y`` and each wrong class ``j`` (``docs/theory.md``
§17.5)::

    m_j* = min { c_jᵀ z(x') : x' ∈ S(x) },      c_j = e_y - e_j

is the MILP of table (17.4) (one binary per unstable unit, big-M constants from the tightest
pre-activation bounds available: the linear-relaxation bounds, themselves inside the interval
bounds).  ``min_j m_j* > 0`` iff the point is robust: the answer is exact, not a bound.

Verdict per point (``minadv.certify.certificate``):

* "falsified" when some ``m_j* <= 0`` and the solver's minimiser, clipped into ``S(x)`` and run
  through a forward pass, has a non-positive margin (the counterexample is reported only then);
* "verified" when every class's *proven* lower bound (HiGHS's dual bound) exceeds ``1e-6``;
* "unknown" otherwise, with the reason: the time limit stopped the search, a margin lies
  within the solver's tolerance of 0, a forward pass disagreed with the solver, or a
  pre-activation bound is not finite (no big-M constant exists).

Networks without hidden layers (logistic and softmax regression) get the exact closed form
for every norm; networks with hidden layers need the L∞ ball (∩ box).

References
----------
Tjeng, Xiao, Tedrake (2019), "Evaluating Robustness of Neural Networks with Mixed Integer
Programming", ICLR (the big-M formulation with tight bounds); Cheng, Nührenberg, Ruess (2017),
"Maximum Resilience of Artificial Neural Networks", ATVA.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from .._validation import check_scalar
from .certificate import (
    FALSIFIED,
    UNKNOWN,
    VERIFIED,
    Certificate,
    check_bounds,
    check_certify_inputs,
)
from .input_set import InputSet
from .lp import certify_points, check_polyhedral, recheck
from .network import PIECEWISE_LINEAR, Network
from .program import SOLVER_TOL, network_program

__all__ = ["verify_exact", "verify_exact_kernel", "MILP_GAP"]

#: relative optimality gap asked of HiGHS (the exact margins are exact to this tolerance)
MILP_GAP = 1e-6


def milp_class(prog, w_last, const, time_left):
    """One wrong class: returns ``(primal, dual, x or None, status, message)``."""
    res = milp(prog.objective(w_last), integrality=prog.integrality,
               bounds=Bounds(prog.var_lo, prog.var_hi),
               constraints=LinearConstraint(prog.A, prog.row_lo, prog.row_hi),
               options={"time_limit": max(time_left, 1e-3), "mip_rel_gap": MILP_GAP})
    dual = getattr(res, "mip_dual_bound", None)
    dual = np.nan if dual is None or not np.isfinite(dual) else float(dual) + const
    primal = np.nan if res.x is None else float(res.fun) + const
    if res.status == 0 and np.isnan(dual):
        dual = primal
    return primal, dual, res.x, int(res.status), str(res.message)


def milp_point(net: Network, region: InputSet, i: int, y: int, bounds_i: list, *,
               spec_i: np.ndarray, time_limit: float):
    """All wrong classes of point ``i``: (margins, status, reason, cex, solver)."""
    prog = network_program(net, region.lower[i], region.upper[i], bounds_i, integer=True)
    W, b = net.weights[-1], net.biases[-1]
    deadline = time.monotonic() + time_limit
    margins, duals, solver, cex, disagree = [], [], [], None, False
    for c in spec_i:
        primal, dual, x, status, message = milp_class(prog, W @ c, float(c @ b),
                                                      deadline - time.monotonic())
        solver.append((status, message))
        margins.append(primal if status == 0 else dual)          # exact, or a proven bound
        duals.append(dual)
        if x is not None and primal <= 0:
            x_chk, m = recheck(net, region, i, x[:region.X.shape[1]], y)
            if np.min(m) <= 0:
                cex = x_chk if cex is None else cex
            else:
                disagree = True
    margins, duals = np.array(margins), np.array(duals)
    if cex is not None:
        return margins, FALSIFIED, "MILP counterexample, re-checked by a forward pass", cex, \
            solver
    if np.all(np.isfinite(duals)) and np.all(duals > SOLVER_TOL):
        return margins, VERIFIED, "every exact minimum margin is positive", None, solver
    stopped = [(s, m) for s, m in solver if s != 0]
    if stopped:
        why = ("the time limit stopped HiGHS: " if stopped[0][0] == 1 else
               "HiGHS did not solve: ") + stopped[0][1]
    elif disagree:
        why = "the solver's minimiser does not re-check (forward-pass margin > 0)"
    else:
        why = f"a minimum margin lies within the solver tolerance {SOLVER_TOL:g} of 0"
    return margins, UNKNOWN, why, None, solver


def verify_exact_kernel(net: Network, region: InputSet, y: np.ndarray, bounds: list | None,
                        time_limit: float) -> Certificate:
    """Kernel of :func:`verify_exact` (everything validated)."""
    return certify_points(net, region, y, bounds,
                          method="closed_form" if net.n_layers == 1 else "milp",
                          solve_point=functools.partial(milp_point, time_limit=time_limit),
                          unbounded_reason="big-M needs finite bounds")


def verify_exact(model: Any, params: Any, X: Any, y: Any = None, eps: Any = None,
                 *, norm: Any = np.inf, clip_min: Any = None, clip_max: Any = None,
                 bounds: Any = None, time_limit: float = 60.0) -> Certificate:
    """Exact robustness verification of each row of ``X`` (MILP, or the closed form).

    Parameters
    ----------
    model, params, X, y, eps, clip_min, clip_max
        As in :func:`minadv.certify.certify_interval`.
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}
        L∞ for networks with hidden layers (the MILP); any norm without hidden layers.
    bounds : list of (lower, upper) or None
        Pre-activation bounds for the big-M constants (``None``:
        :func:`minadv.certify.linear_bounds`).  Looser bounds give the same answer, slower.
    time_limit : float > 0
        Seconds per point, shared by its wrong classes.

    Returns
    -------
    Certificate
        ``margins[i, k]``: the exact minimum of ``z_y - z_j`` over the ball ∩ box (to HiGHS's
        relative gap ``1e-6``), or HiGHS's proven lower bound when the time limit stopped it;
        ``counterexamples[i]`` a re-checked adversarial input when one exists; ``solver[i]``
        HiGHS's ``(status, message)`` per class (0 = optimal, 1 = time limit).

    Raises
    ------
    TypeError, ValueError
        As :func:`~minadv.certify.certify_interval`; a non-L∞ ``norm`` with hidden layers; an
        activation other than relu/identity; ``time_limit <= 0``.

    Notes
    -----
    ``docs/theory.md`` §17.5.

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import MLP
    >>> net = MLP([1, 2, 2])
    >>> p = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2),
    ...      "W2": np.array([[1.0, 0.0], [0.0, 1.0]]), "b2": np.array([0.0, 0.5])}
    >>> cert = verify_exact(net, p, np.array([[2.0]]), np.array([0]), eps=1.0)
    >>> str(cert.status[0]), round(float(cert.margins[0, 0]), 6)   # min relu(x) - 0.5 on [1, 3]
    ('verified', 0.5)
    """
    inputs = check_certify_inputs(model, params, X, y, eps, norm=norm, clip_min=clip_min, clip_max=clip_max,
                                  allowed=PIECEWISE_LINEAR, method="exact verification")
    check_polyhedral(inputs.net, inputs.region, "exact verification")
    time_limit = check_scalar(time_limit, "time_limit", low=0.0, low_inclusive=False)
    if bounds is not None:
        bounds = check_bounds(bounds, inputs.net, inputs.region.X.shape[0])
    return verify_exact_kernel(inputs.net, inputs.region, inputs.y, bounds, time_limit)
