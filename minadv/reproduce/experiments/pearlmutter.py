"""Pearlmutter 1994: exact gradients and Hessian-vector products (the R-operator) agree with
central finite differences (``gradcheck``)."""

from __future__ import annotations

import numpy as np

from ...gradcheck import THRESHOLDS, run_suite
from ..base import Experiment, Protocol, make_check, spec_text

__all__ = ["PROTOCOLS"]


def gradcheck_repeat(streams) -> dict:
    """Every model × activation × output of :func:`minadv.gradcheck.run_suite` on random
    problems drawn from the repeat's data stream."""
    results = run_suite(rng=streams.data)
    return {"names": [n for n, _ in results],
            "errors": np.array([[r.param_grad, r.input_grad, r.hvp, r.hvp_symmetry]
                                for _, r in results]),
            "limits": np.array([THRESHOLDS[k] for k in THRESHOLDS])}


def gradcheck_judge(runs) -> Experiment:
    names = runs[0]["names"]
    errors = np.max([r["errors"] for r in runs], axis=0)          # worst over repeats (m, 4)
    limits = runs[0]["limits"]
    worst = errors.max(axis=0)
    # the statistic: the largest error / its threshold over every combination (<= 1 passes)
    checks = [make_check(GRADCHECK, "within_thresholds",
                         "every model's gradients and HVPs agree with finite differences",
                         "max over combinations of relative error / its threshold",
                         [float(np.max(r["errors"] / limits)) for r in runs], exact=True,
                         fmt="{:.2e}")]
    return Experiment(
        "gradcheck", GRADCHECK.title, "Pearlmutter 1994 (R-operator); docs/theory.md §12",
        ["model", "param grad", "input grad", "HVP", "HVP symmetry"],
        [(n, *(f"{v:.1e}" for v in e)) for n, e in zip(names, errors)], checks,
        ["Relative error ‖a − b‖ / (‖a‖ + ‖b‖) against central finite differences in float64, "
         f"every model × activation × output; the worst over {len(runs)} random problems; "
         "thresholds " + ", ".join(f"{v:.0e}" for v in limits) + "."],
        {"kind": "bars", "groups": {"worst relative error": list(worst)}, "logy": True,
         "labels": ["param grad", "input grad", "HVP", "HVP symmetry"],
         "ylabel": "relative error", "threshold": (float(limits.max()), "largest threshold")},
        paper=GRADCHECK.statement,
        summary=f"{len(names)} model combinations, worst relative error over {len(runs)} "
                f"problems: gradients {max(worst[:2]):.1e}, HVPs {max(worst[2:]):.1e}",
        repeats=len(runs))


GRADCHECK = Protocol(
    "gradcheck", "Exact derivatives agree with finite differences", "Pearlmutter 1994",
    "Pearlmutter's R-operator gives exact Hessian-vector products (Neural Computation 6(1), "
    "§3); exact gradients agree with central finite differences to ~1e−7 in float64 (cs231n's "
    "rule of thumb).", "random small problems", gradcheck_repeat, gradcheck_judge,
    {"within_thresholds": ("<=", 1.0,
                           "Each error is divided by its threshold in minadv.gradcheck "
                           "(float64 central differences: truncation O(h²) + rounding "
                           "O(ε_mach/h) ≈ 1e−8 at h ≈ 1e−5, docs/theory.md §12); the claim is "
                           "that no ratio exceeds 1. No sampling error: exact, judged on the "
                           "worst repeat.")},
    k=3, k_quick=1,
    k_derivation="Exact check (no interval): repeats only widen the set of random problems; "
                 "3 problems per combination (quick: 1).")

PROTOCOLS = (GRADCHECK,)
__doc__ += spec_text(PROTOCOLS)
