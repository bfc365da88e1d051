"""W4 (BENCHMARKS.md): closed-form Hessian of the L2-adversarial logistic loss + lambda_max.

d = 784, n = 12 000, float64, eps = 0.5.  Timed: ``robust_logistic_hessian`` (eq. (1.3) of
theory.md, validation included) followed by ``np.linalg.eigvalsh`` for lambda_max.
Floor, measured in the same run and interleaved with the workload: the one unavoidable
product ``A^T A`` with ``A = sqrt(c) X`` precomputed (the X^T diag(c) X of eq. (1.3); NumPy
dispatches ``A.T @ A`` on one buffer to a symmetric rank-k update) plus one ``eigvalsh`` of
the d x d result.  Reported: medians and ratio = time / floor (target <= 1.5).

Usage::

    python benchmarks/bench_closed_form_hessian.py            # 1 and 2 threads
    python -c "from benchmarks.bench_closed_form_hessian import run; print(run(threads=1))"

``run(threads=k)`` measures in a fresh subprocess with OMP/OPENBLAS/MKL_NUM_THREADS=k (the
thread count must be fixed before NumPy loads); ``run(threads=None)`` measures in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

N, D, EPS = 12_000, 784, 0.5


def _problem(seed=0):
    """X uniform in [0, 1), labels from a fixed random linear teacher, w near the teacher."""
    rng = np.random.default_rng(seed)
    X = rng.random((N, D))                                       # (n, d) float64
    teacher = rng.normal(size=D)
    y = (X @ teacher > np.median(X @ teacher)).astype(np.int64)  # (n,) in {0, 1}
    w = 0.05 * teacher + 0.01 * rng.normal(size=D)               # (d,)
    return X, y, w


def _workload(X, y, w):
    from minadv.robust_logistic import robust_logistic_hessian
    H = robust_logistic_hessian(w, None, X, y, EPS, 2)           # (d, d)
    return np.linalg.eigvalsh(H)[-1]


def _floor(A):
    H = A.T @ A                                                  # (d, d) syrk
    return np.linalg.eigvalsh(H)[-1]


def _blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        return cfg["Build Dependencies"]["blas"]["name"]
    except Exception:                                            # older NumPy: no dict mode
        return "unknown"


def _measure(reps=7):
    from minadv.numerics import sigmoid
    X, y, w = _problem()
    z = (2 * y - 1) * (X @ w) - EPS * np.linalg.norm(w)
    A = X * np.sqrt(sigmoid(z) * sigmoid(-z))[:, None]           # floor's input, not timed
    _workload(X, y, w), _floor(A)                                # warm-up
    t_work, t_floor = [], []
    for _ in range(reps):                                        # interleaved
        t0 = time.perf_counter()
        _workload(X, y, w)
        t1 = time.perf_counter()
        _floor(A)
        t2 = time.perf_counter()
        t_work.append(t1 - t0)
        t_floor.append(t2 - t1)
    sec, floor = float(np.median(t_work)), float(np.median(t_floor))
    return {"workload": "W4", "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "seconds": sec, "floor_seconds": floor, "ratio": sec / floor, "reps": reps,
            "blas": _blas_name(), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}


def run(threads: int | None = None, reps: int = 7) -> dict:
    """One result row: ``{"workload", "threads", "seconds", "floor_seconds", "ratio", ...}``."""
    if threads is None:
        return _measure(reps)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", str(reps)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        print(json.dumps(_measure(int(sys.argv[2]))))
        return
    print(f"{'id':4} {'thr':>3} {'seconds':>9} {'floor':>9} {'ratio':>6}  blas")
    for k in (1, 2):
        r = run(threads=k)
        print(f"{r['workload']:4} {k:>3} {r['seconds']:9.4f} {r['floor_seconds']:9.4f} "
              f"{r['ratio']:6.2f}  {r['blas']}")


if __name__ == "__main__":
    main()
