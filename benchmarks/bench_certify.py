"""Exact verification of a 64-32-10 ReLU network on the shipped digits, and the table
PGD-robust / exact / LP / linear / IBP (``docs/benchmarks.md``, "Certified robustness").

Networks: ``MLP([64, 32, 10])`` trained with ``minadv.training.fit`` (Adam 1e-2, batch 64,
seed 0) on 70 % of ``minadv.datasets.load_digits()`` (split seed 0): ERM for 40 epochs and
PGD-trained (Madry et al.; L∞ eps 0.1, 10 steps, box [0, 1]) and IBP-trained (Gowal et al.;
eps 0.1, kappa 0.5, 100 warm-up and 400 ramp steps) for 40 epochs each.
Points: the first ``--n-points`` test points (default 30); the L∞ ball of radius ``--eps``
(default 0.1) ∩ the pixel box [0, 1].  Per point, with the same linear-relaxation
pre-activation bounds for every method:

* PGD-50 with 3 random restarts (robust = no misclassified iterate found);
* exact: :func:`minadv.certify.verify_exact` (MILP, HiGHS, every wrong class, 60 s limit);
* LP: :func:`minadv.certify.certify_lp` (triangle relaxation);
* linear: :func:`minadv.certify.certify_linear` (back-substitution);
* IBP: :func:`minadv.certify.certify_interval`.

Reported: the number of points each method calls robust (the attack) or certifies, and the
median seconds per point (the bound computation is timed once and charged to every method that
uses it).  The machine's 1-minute load average is printed with the table.

Usage: ``python benchmarks/bench_certify.py [--quick] [--eps 0.1] [--n-points 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def train(objective_name: str, epochs: int):
    from minadv.datasets import load_digits, train_test_split
    from minadv.models import MLP
    from minadv.optim import adam
    from minadv.training import ERM, PGDObjective, fit
    from minadv.training.objectives import IBPObjective

    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
    model = MLP([64, 32, 10])
    box = {"clip_min": 0.0, "clip_max": 1.0}
    objective = {"ERM": ERM(), "PGD-trained": PGDObjective(eps=0.1, n_steps=10, **box),
                 "IBP-trained": IBPObjective(eps=0.1, kappa=0.5, warmup_steps=100,
                                             ramp_steps=400, **box)}[objective_name]
    params = fit(model, model.init_params(rng=0), objective, X_tr, y_tr, optimizer=adam(1e-2),
                 epochs=epochs, batch_size=64, rng=0, verbose=0).params
    return model, params, X_te, y_te


def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds)``."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def measure(model, params, X, y, eps):
    """Counts and per-point seconds of every method on the rows of ``X``."""
    from minadv.attacks import pgd
    from minadv.certify import (
        certify_interval,
        certify_linear,
        certify_lp,
        linear_bounds,
        verify_exact,
    )

    box = {"clip_min": 0.0, "clip_max": 1.0}
    rows = {k: {"count": 0, "times": []} for k in ("PGD", "exact", "LP", "linear", "IBP")}
    falsified_missed = 0
    for i in range(X.shape[0]):
        x, yi = X[i:i + 1], y[i:i + 1]
        x_adv, t = timed(pgd, model, params, x, yi, eps, n_steps=50, n_restarts=3, rng=i,
                         **box)
        pgd_robust = bool(model.predict(params, x_adv)[0] == yi[0])
        rows["PGD"]["count"] += pgd_robust
        rows["PGD"]["times"].append(t)
        bounds, t_bounds = timed(linear_bounds, model, params, x, eps, **box)
        for name, fn in (("IBP", certify_interval), ("linear", certify_linear),
                         ("LP", certify_lp), ("exact", verify_exact)):
            cert, t = timed(fn, model, params, x, yi, eps=eps, bounds=bounds, **box)
            rows[name]["count"] += int(cert.status[0] == "verified")
            rows[name]["times"].append(t + (t_bounds if name != "IBP" else 0.0))
            if name == "exact":
                falsified_missed += int(pgd_robust and cert.status[0] == "falsified")
                rows["exact"].setdefault("unknown", 0)
                rows["exact"]["unknown"] += int(cert.status[0] == "unknown")
    return rows, falsified_missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 points, 10 epochs")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--n-points", type=int, default=30)
    args = parser.parse_args(argv)
    n_points, epochs = (5, 10) if args.quick else (args.n_points, 40)
    print("| network | eps | points | clean acc | PGD-50×3 robust | exact robust | "
          "LP cert. | linear cert. | IBP cert. | exact s/point (median) | PGD missed | "
          "exact unknown |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in ("ERM", "PGD-trained", "IBP-trained"):
        model, params, X_te, y_te = train(name, epochs)
        acc = float(np.mean(model.predict(params, X_te) == y_te))
        rows, missed = measure(model, params, X_te[:n_points], y_te[:n_points], args.eps)
        med = {k: statistics.median(v["times"]) for k, v in rows.items()}
        print(f"| 64-32-10 {name} | {args.eps} | {n_points} | {acc:.3f} | "
              f"{rows['PGD']['count']} ({med['PGD']:.2f} s) | "
              f"{rows['exact']['count']} | {rows['LP']['count']} ({med['LP']:.2f} s) | "
              f"{rows['linear']['count']} ({med['linear']:.3f} s) | "
              f"{rows['IBP']['count']} ({med['IBP']:.4f} s) | {med['exact']:.2f} | {missed} | "
              f"{rows['exact']['unknown']} |", flush=True)
    print(f"\nload average (1, 5, 15 min): {os.getloadavg()}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")


if __name__ == "__main__":
    main()
