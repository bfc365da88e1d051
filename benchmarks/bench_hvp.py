"""W6: 20 power iterations of the exact Hessian-vector product (BENCHMARKS.md).

MLP 784-100-10 tanh, softmax cross-entropy w.r.t. all 79 510 parameters, 1 000 samples, float64.
Timed: ``minadv.analysis.power_iteration(..., n_iter=20, tol=0)`` (operator construction, i.e.
the one forward pass and cached backward quantities, included) and, separately, 20 bare
products of the operator.  Floor: the R-forward and R-backward matrix products alone at the same
shapes (8 per HVP: X·V1, h1·V2, R{h1}·W2, h1ᵀ·R{δ2}, R{h1}ᵀ·δ2, δ2·V2ᵀ, R{δ2}·W2ᵀ, Xᵀ·R{δ1}),
measured interleaved with the workload; medians of ``reps`` repetitions.

Usage: ``python benchmarks/bench_hvp.py [--reps 7]``; ``run(threads=1) -> dict`` for a runner.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from minadv.analysis.hessian import hessian_operator, power_iteration  # noqa: E402
from minadv.models import MLP  # noqa: E402

N, D, H, C, N_ITER = 1000, 784, 100, 10, 20


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((N, D))                                # uniform [0, 1), float64
    teacher = rng.standard_normal((D, C))
    y = np.argmax((X - 0.5) @ teacher, axis=1)            # fixed random linear teacher
    model = MLP([D, H, C], activation="tanh")
    return model, model.init_params(rng=seed + 1), X, y


def _floor_operands(seed: int = 1):
    rng = np.random.default_rng(seed)
    shapes = {"X": (N, D), "V1": (D, H), "h1": (N, H), "V2": (H, C), "rh1": (N, H),
              "W2": (H, C), "rd2": (N, C), "d2": (N, C), "rd1": (N, H)}
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


def _floor_once(o) -> None:
    """The matrix products of one HVP (R-forward then R-backward), nothing else."""
    o["X"] @ o["V1"]; o["h1"] @ o["V2"]; o["rh1"] @ o["W2"]               # noqa: E702
    o["h1"].T @ o["rd2"]; o["rh1"].T @ o["d2"]                             # noqa: E702
    o["d2"] @ o["V2"].T; o["rd2"] @ o["W2"].T; o["X"].T @ o["rd1"]         # noqa: E702


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _measure(reps: int) -> dict:
    model, params, X, y = _data()
    ops = _floor_operands()
    op = hessian_operator(model, params, X, y)
    v = np.random.default_rng(2).standard_normal(model.n_params)

    def power():
        power_iteration(model, params, X, y, n_iter=N_ITER, tol=0.0, rng=3)

    def products():
        for _ in range(N_ITER):
            op.matvec(v)

    def floor():
        for _ in range(N_ITER):
            _floor_once(ops)

    power(); products(); floor()                          # warm-up  # noqa: E702
    t_pow, t_prod, t_floor = [], [], []
    for _ in range(reps):                                  # interleaved repetitions
        t_pow.append(_time(power))
        t_floor.append(_time(floor))
        t_prod.append(_time(products))
    med = {k: float(np.median(t)) for k, t in
           (("seconds", t_pow), ("products_seconds", t_prod), ("floor_seconds", t_floor))}
    med["ratio"] = med["seconds"] / med["floor_seconds"]
    med["products_ratio"] = med["products_seconds"] / med["floor_seconds"]
    return med


def run(threads: int = 1, reps: int = 7) -> dict:
    """Time W6 at ``threads`` BLAS threads; returns seconds, floor, ratios and the BLAS info."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:                                    # pragma: no cover
        threadpool_limits, threadpool_info = None, lambda: []
    if threadpool_limits is None:
        out = _measure(reps)
    else:
        with threadpool_limits(limits=threads, user_api="blas"):
            out = _measure(reps)
    blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return dict(out, workload="W6", threads=threads, reps=reps, blas="; ".join(blas))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print("W6 (20 exact HVP power iterations, MLP 784-100-10 tanh, n=1000, float64)")
    print(f"{'thr':>3} {'seconds':>9} {'floor':>9} {'ratio':>6} {'HVPs only':>10} "
          f"{'ratio':>6}  blas")
    for t in args.threads:
        r = run(threads=t, reps=args.reps)
        print(f"{t:>3} {r['seconds']:9.4f} {r['floor_seconds']:9.4f} {r['ratio']:6.3f} "
              f"{r['products_seconds']:10.4f} {r['products_ratio']:6.3f}  {r['blas']}")


if __name__ == "__main__":
    main()
