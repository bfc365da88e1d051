"""The LP triangle relaxation, solved by HiGHS through :func:`scipy.optimize.linprog`.

For each point and wrong class ``j`` the LP of table (17.4) (``docs/theory.md`` §17.4) is
minimised with the margin ``c_jᵀ z`` as objective.  Its optimum is a lower bound on the exact
minimum margin (the triangle contains the graph of every ReLU on ``[l, u]``) and, with the same
pre-activation bounds, at least as large as the interval and the back-substituted bounds (both
minimise the same objective over a superset: ``docs/theory.md`` §17.4).  The minimiser's
``x'`` is a point of the input set: when its forward pass already has a non-positive margin
the point is falsified without any search.

Only the L∞ ball (∩ box) is polyhedral in the form used here; networks without hidden layers
get the exact closed form instead.

References
----------
Ehlers (2017), "Formal Verification of Piece-Wise Linear Feed-Forward Neural Networks", ATVA
(the triangle relaxation); Wong & Kolter (2018), "Provable Defenses against Adversarial Examples
via the Convex Outer Adversarial Polytope", ICML (its dual).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
from scipy.optimize import linprog

from .._validation import check_scalar
from .certificate import (
    FALSIFIED,
    UNKNOWN,
    VERIFIED,
    Certificate,
    check_bounds,
    check_certify_inputs,
    margin_specs,
)
from .input_set import InputSet, input_rows, linear_minimiser, linear_minimum
from .linear import linear_bounds_kernel
from .network import PIECEWISE_LINEAR, Network
from .program import SOLVER_TOL, network_program

__all__ = ["certify_lp", "certify_lp_kernel", "check_polyhedral", "recheck", "finite_bounds",
           "closed_form_point", "certify_points"]


def check_polyhedral(net: Network, region: InputSet, method: str) -> None:
    """LP/MILP need the L∞ ball when the network has hidden layers (else a closed form)."""
    if net.n_layers > 1 and region.norm != np.inf:
        raise ValueError(f"norm: {method} encodes the L∞ ball (∩ box) only, got the L"
                         f"{region.norm} ball; use certify_interval/certify_linear for L2/L1.")


def recheck(net: Network, region: InputSet, i: int, x: np.ndarray, y: int):
    """Clip a solver's ``x`` into the input set and return it with its forward-pass margins
    ``z_y - z_j`` over the wrong classes (the only evidence a counterexample is trusted on)."""
    x = np.clip(x, region.lower[i], region.upper[i]).astype(region.X.dtype)
    z = net.logits(x[None, :])[0]
    return x, z[y] - np.delete(z, y)


def finite_bounds(net: Network, bounds: list, i: int) -> list | None:
    """Point ``i``'s hidden bounds, or None when one is not finite (no LP/MILP then)."""
    out = [(lo[i], up[i]) for lo, up in bounds[:net.n_layers - 1]]
    return out if all(np.all(np.isfinite(lo)) and np.all(np.isfinite(up)) for lo, up in out) \
        else None


def lp_point(net, region, i, y, bounds_i, *, spec_i, time_limit):
    """Solve the LPs of point ``i``; returns (margins, status, reason, cex, solver)."""
    prog = network_program(net, region.lower[i], region.upper[i], bounds_i, integer=False)
    margins, solver, cex, deadline = [], [], None, time.monotonic() + time_limit
    W, b = net.weights[-1], net.biases[-1]
    for c in spec_i:                                             # c = e_y - e_j
        left = max(deadline - time.monotonic(), 1e-3)
        res = linprog(prog.objective(W @ c),
                      bounds=np.stack([prog.var_lo, prog.var_hi], axis=1),
                      **_as_linprog(prog), method="highs", options={"time_limit": left})
        solver.append((int(res.status), str(res.message)))
        if res.status != 0:
            margins.append(np.nan)
            continue
        margins.append(float(res.fun) + float(c @ b))
        x, m = recheck(net, region, i, res.x[:region.X.shape[1]], y)
        if cex is None and np.min(m) <= 0:
            cex = x
    margins = np.array(margins)
    if cex is not None:
        return margins, FALSIFIED, "the LP minimiser is misclassified (forward pass)", cex, solver
    if not np.all(np.isfinite(margins)):
        failed = next(m for status, m in solver if status != 0)
        return margins, UNKNOWN, "an LP did not solve: " + failed, None, solver
    if np.all(margins > SOLVER_TOL):
        return margins, VERIFIED, "every LP margin bound is positive", None, solver
    return (margins, UNKNOWN, f"smallest LP margin bound {margins.min():.3g} <= {SOLVER_TOL:g}",
            None, solver)


def _as_linprog(prog) -> dict:
    """Split ``row_lo <= A v <= row_hi`` into linprog's ``A_ub v <= b_ub``, ``A_eq v = b_eq``."""
    eq = prog.row_lo == prog.row_hi
    up = ~eq & np.isfinite(prog.row_hi)
    low = ~eq & np.isfinite(prog.row_lo)
    A_ub = np.concatenate([prog.A[up], -prog.A[low]])
    b_ub = np.concatenate([prog.row_hi[up], -prog.row_lo[low]])
    return {"A_ub": A_ub if A_ub.size else None, "b_ub": b_ub if A_ub.size else None,
            "A_eq": prog.A[eq] if eq.any() else None, "b_eq": prog.row_lo[eq] if eq.any() else None}


def closed_form_point(net, region, i, y, spec_i):
    """No hidden layer: exact margins ``min c_jᵀ z`` and their minimisers (``input_set``)."""
    row = input_rows(region, slice(i, i + 1))
    Lam = spec_i @ net.weights[0].T                              # (m, d)
    margins = linear_minimum(row, Lam[None])[0] + spec_i @ net.biases[0]
    cex = None
    for lam, m in zip(Lam, margins):
        if m <= 0 and cex is None:
            x, mm = recheck(net, region, i, linear_minimiser(row, lam), y)
            cex = x if np.min(mm) <= 0 else None
    return margins, cex


def certify_points(net: Network, region: InputSet, y: np.ndarray, bounds: list | None, *,
                   method: str, solve_point, unbounded_reason: str) -> Certificate:
    """The per-point loop of the LP and the MILP: the closed form without hidden layers,
    "unknown" where a pre-activation bound is not finite, else ``solve_point(net, region, i,
    y_i, bounds_i, spec_i=...)`` -> ``(margins, status, reason, counterexample, solver)``."""
    if bounds is None and net.n_layers > 1:
        bounds = linear_bounds_kernel(net, region)
    spec, classes = margin_specs(y, net.n_classes, region.X.dtype)
    out = {"margins": [], "status": [], "reason": [], "cex": [], "solver": []}
    for i in range(region.X.shape[0]):
        if net.n_layers == 1:
            m, cex = closed_form_point(net, region, i, y[i], spec[i])
            res = (m, FALSIFIED if cex is not None else VERIFIED if np.all(m > 0) else UNKNOWN,
                   "closed form (no hidden layer)", cex, ())
        elif (bounds_i := finite_bounds(net, bounds, i)) is None:
            res = (np.full(classes.shape[1], np.nan), UNKNOWN,
                   f"a pre-activation bound is not finite: {unbounded_reason}", None, ())
        else:
            res = solve_point(net, region, i, y[i], bounds_i, spec_i=spec[i])
        for key, v in zip(out, res):
            out[key].append(v)
    return Certificate(method, np.array(out["margins"]).reshape(classes.shape), classes,
                       np.array(out["status"]), tuple(out["reason"]), tuple(out["cex"]),
                       tuple(tuple(s) for s in out["solver"]))


def certify_lp_kernel(net: Network, region: InputSet, y: np.ndarray, bounds: list | None,
                      time_limit: float) -> Certificate:
    """Kernel of :func:`certify_lp` (everything validated)."""
    return certify_points(net, region, y, bounds, method="lp",
                          solve_point=functools.partial(lp_point, time_limit=time_limit),
                          unbounded_reason="no triangle can be formed")


def certify_lp(model: Any, params: Any, X: Any, y: Any = None, eps: Any = None,
               *, norm: Any = np.inf, clip_min: Any = None, clip_max: Any = None,
               bounds: Any = None, time_limit: float = 60.0) -> Certificate:
    """Certify each row of ``X`` by the LP triangle relaxation (HiGHS).

    Parameters
    ----------
    model, params, X, y, eps, clip_min, clip_max
        As in :func:`minadv.certify.certify_interval`.
    norm : {np.inf, "linf"}
        The L∞ ball (L2/L1 only for networks without hidden layers, where the closed form is
        used).
    bounds : list of (lower, upper) or None
        Hidden pre-activation bounds (``None``: :func:`minadv.certify.linear_bounds`).
    time_limit : float > 0
        Seconds per point for HiGHS.

    Returns
    -------
    Certificate
        ``margins`` are the LP optima (NaN where an LP did not solve); ``solver`` holds HiGHS's
        ``(status, message)`` per class.  "verified" needs every optimum ``> 1e-6`` (HiGHS's
        tolerances); a minimiser whose forward pass is misclassified falsifies the point.

    Raises
    ------
    TypeError, ValueError
        As :func:`~minadv.certify.certify_interval`; a non-L∞ ``norm`` with hidden layers; an
        activation other than relu/identity; ``time_limit <= 0``.

    Notes
    -----
    ``docs/theory.md`` §17.4, table (17.4).
    """
    inputs = check_certify_inputs(model, params, X, y, eps, norm=norm, clip_min=clip_min, clip_max=clip_max,
                                  allowed=PIECEWISE_LINEAR, method="the LP relaxation")
    check_polyhedral(inputs.net, inputs.region, "the LP relaxation")
    time_limit = check_scalar(time_limit, "time_limit", low=0.0, low_inclusive=False)
    if bounds is not None:
        bounds = check_bounds(bounds, inputs.net, inputs.region.X.shape[0])
    return certify_lp_kernel(inputs.net, inputs.region, inputs.y, bounds, time_limit)
