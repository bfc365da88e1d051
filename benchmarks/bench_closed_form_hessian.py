"""W4 (``docs/benchmarks.md``): closed-form Hessian of the L2-adversarial logistic loss + λ_max.

d = 784, n = 12 000, float64, eps = 0.5.  Timed: the public ``robust_logistic_hessian``
(``docs/theory.md`` eq. (1.3), validation included) followed by ``np.linalg.eigvalsh`` for
lambda_max, the way a user computes the sharpness of a robust logistic fit.
Floor, measured in the same run and interleaved with the workload: the one unavoidable
product ``A^T A`` with ``A = sqrt(c) X`` precomputed (the X^T diag(c) X of eq. (1.3); NumPy
dispatches ``A.T @ A`` on one buffer to a symmetric rank-k update) plus one ``eigvalsh`` of
the d x d result.  Reported: medians and ratio = time / floor (targets <= 1.5 at 1
thread, <= 1.6 at 2).  minadv is imported from ``PYTHONPATH`` (``_harness``).

Usage: ``python benchmarks/bench_closed_form_hessian.py [--quick]`` (1 and 2 threads, each in
a fresh process), or ``python benchmarks/run.py --only W4``.
"""

from __future__ import annotations

import _harness as H
import numpy as np

EPS = 0.5


def _problem(n, d, seed=0):
    """X uniform in [0, 1), labels from a fixed random linear teacher, w near the teacher."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))                                       # (n, d) float64
    teacher = rng.normal(size=d)
    y = (X @ teacher > np.median(X @ teacher)).astype(np.int64)  # (n,) in {0, 1}
    w = 0.05 * teacher + 0.01 * rng.normal(size=d)               # (d,)
    return X, y, w


def build(wid: str = "W4", tiny: bool = False):
    """``(work, floor)`` callables; ``tiny`` shrinks sizes (smoke test)."""
    from minadv.numerics import sigmoid
    from minadv.robust_logistic import robust_logistic_hessian
    X, y, w = _problem(*((200, 10) if tiny else (12_000, 784)))
    z = (2 * y - 1) * (X @ w) - EPS * np.linalg.norm(w)
    A = X * np.sqrt(sigmoid(z) * sigmoid(-z))[:, None]           # floor's input, not timed

    def work():
        H_ = robust_logistic_hessian(w, None, X, y, eps=EPS, norm=2)  # (d, d)
        return np.linalg.eigvalsh(H_)[-1]

    def floor():
        return np.linalg.eigvalsh(A.T @ A)[-1]                   # (d, d) syrk + eigvalsh
    return work, floor


def bench_w4(quick: bool = False) -> dict:
    reps = 2 if quick else 7
    work, floor = build()
    times = H.interleaved({"seconds": work, "floor_seconds": floor}, reps)
    return H.result("W4", times, "Hessian + lambda_max", reps=reps,
                    api="minadv.robust_logistic.robust_logistic_hessian")


WORKLOADS = {"W4": bench_w4}


if __name__ == "__main__":
    H.module_main("bench_closed_form_hessian")
