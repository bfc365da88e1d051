"""W6: 20 power iterations of the exact Hessian-vector product (``docs/benchmarks.md``).

MLP 784-100-10 tanh, softmax cross-entropy w.r.t. all 79 510 parameters, 1 000 samples, float64.
Timed: ``minadv.analysis.power_iteration(..., n_iter=20, tol=0)`` (operator construction, i.e.
the one forward pass and cached backward quantities, included) and, separately, 20 bare
products of the operator (``products_seconds``).  Floor: the R-forward and R-backward matrix
products alone at the same shapes (8 per HVP: X·V1, h1·V2, R{h1}·W2, h1ᵀ·R{δ2}, R{h1}ᵀ·δ2,
δ2·V2ᵀ, R{δ2}·W2ᵀ, Xᵀ·R{δ1}), measured interleaved with the workload; medians of ``reps``.

Usage: ``python benchmarks/bench_hvp.py [--quick]`` (1 and 2 threads, each in a fresh process),
or ``python benchmarks/run.py --only W6``.  minadv is imported from ``PYTHONPATH`` (``_harness``).
"""

from __future__ import annotations

import _harness as H
import numpy as np

N_ITER = 20


def problem(N: int, D: int, C: int):
    """X uniform in [0, 1), float64; labels from a fixed random linear teacher."""
    rng = np.random.default_rng(0)
    X = rng.random((N, D))                                # (N, D)
    return X, np.argmax((X - 0.5) @ rng.standard_normal((D, C)), axis=1)


def build(wid: str = "W6", tiny: bool = False, with_products: bool = False):
    """``(work, floor)`` callables (plus the bare-products one when ``with_products``)."""
    from minadv.analysis import hessian_operator, power_iteration
    from minadv.models import MLP
    N, D, Hd, C = (50, 12, 6, 3) if tiny else (1000, 784, 100, 10)
    X, y = problem(N, D, C)
    model = MLP([D, Hd, C], activation="tanh")
    params = model.init_params(rng=1)
    r = np.random.default_rng(1)
    o = {k: r.standard_normal(s) for k, s in {
        "X": (N, D), "V1": (D, Hd), "h1": (N, Hd), "V2": (Hd, C), "rh1": (N, Hd),
        "W2": (Hd, C), "rd2": (N, C), "d2": (N, C), "rd1": (N, Hd)}.items()}

    def work():
        power_iteration(model, params, X, y, n_iter=N_ITER, tol=0.0, rng=3)

    def floor():
        for _ in range(N_ITER):                           # the products of one HVP, 20 times
            o["X"] @ o["V1"]; o["h1"] @ o["V2"]; o["rh1"] @ o["W2"]               # noqa: E702
            o["h1"].T @ o["rd2"]; o["rh1"].T @ o["d2"]                             # noqa: E702
            o["d2"] @ o["V2"].T; o["rd2"] @ o["W2"].T; o["X"].T @ o["rd1"]         # noqa: E702
    if not with_products:
        return work, floor
    op = hessian_operator(model, params, X, y)
    v = np.random.default_rng(2).standard_normal(model.n_params)

    def products():
        for _ in range(N_ITER):
            op.matvec(v)
    return work, floor, products


def bench_w6(quick: bool = False) -> dict:
    reps = 3 if quick else 7
    work, floor, products = build(with_products=True)
    times = H.interleaved({"seconds": work, "floor_seconds": floor,
                           "products_seconds": products}, reps)
    return H.result("W6", times, "20 HVP power iterations", reps=reps,
                    api="minadv.analysis.power_iteration",
                    products_ratio=times["products_seconds"] / times["floor_seconds"])


WORKLOADS = {"W6": bench_w6}


if __name__ == "__main__":
    H.module_main("bench_hvp")
