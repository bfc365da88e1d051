"""W2 (BENCHMARKS.md): PGD-10 L_inf attack on a 784-256-256-10 ReLU MLP, float32.

10 000 samples, X uniform in [0, 1), labels from a fixed random linear teacher, parameters
from a fixed seed; eps = 0.3, step 0.01, uniform random start, clip to [0, 1], batch 1 000.
Timed: the public ``minadv.attacks.pgd`` called on each batch (validation included).
Floor, measured in the same run and interleaved with the workload: per batch and iteration the
forward products ``X W1, H1 W2, H2 W3`` and the backward-to-input products ``D3 W3ᵀ, D2 W2ᵀ,
D1 W1ᵀ`` alone (same shapes, dtype and threads).  Reported: medians and ratio = time / floor
(targets <= 1.25 at 1 thread, <= 1.6 at 2 threads).

Usage::

    python benchmarks/bench_pgd.py                  # 1 and 2 threads
    python -c "from benchmarks.bench_pgd import run; print(run(threads=1))"

``run(threads=k)`` measures in a fresh subprocess with OMP/OPENBLAS/MKL_NUM_THREADS=k (fixed
before NumPy loads); ``run(threads=None)`` measures in-process.  threadpoolctl, if installed,
is only used to report the BLAS (name, version, architecture).
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

N, SIZES, BATCH = 10_000, (784, 256, 256, 10), 1_000
EPS, STEP, N_STEPS = 0.3, 0.01, 10


def _problem(seed=0):
    from minadv.models import MLP
    rng = np.random.default_rng(seed)
    X = rng.random((N, SIZES[0]), dtype=np.float32)              # (n, 784) in [0, 1)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1])).astype(np.float32)
    y = np.argmax((X - 0.5) @ teacher, axis=1)                   # (n,) int64
    model = MLP(list(SIZES), activation="relu", dtype=np.float32)
    return model, model.init_params(rng=seed), X, y


def _workload(model, params, X, y):
    from minadv.attacks import pgd
    out = []
    for s in range(0, N, BATCH):
        out.append(pgd(model, params, X[s:s + BATCH], y[s:s + BATCH], EPS, np.inf,
                       n_steps=N_STEPS, step_size=STEP, random_start=True, clip_min=0.0,
                       clip_max=1.0, rng=s))
    return out


def _floor(params, X, H1, H2, D3, D2, D1):
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    for s in range(0, N, BATCH):
        Xb = X[s:s + BATCH]
        for _ in range(N_STEPS):
            Xb @ W1, H1 @ W2, H2 @ W3                            # forward (3)
            D3 @ W3.T, D2 @ W2.T, D1 @ W1.T                      # backward to the input (3)


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "version", "architecture",
                                        "num_threads")} for d in threadpool_info()
                if d.get("user_api") == "blas"]
    except ImportError:
        try:
            return np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
        except Exception:                                        # older NumPy: no dict mode
            return "unknown"


def _measure(reps=5):
    model, params, X, y = _problem()
    rng = np.random.default_rng(1)
    f32 = lambda *s: rng.standard_normal(s, dtype=np.float32)  # noqa: E731
    buffers = (f32(BATCH, 256), f32(BATCH, 256), f32(BATCH, 10), f32(BATCH, 256),
               f32(BATCH, 256))
    _workload(model, params, X, y), _floor(params, X, *buffers)   # warm-up
    t_work, t_floor = [], []
    for _ in range(reps):                                        # interleaved
        t0 = time.perf_counter()
        _workload(model, params, X, y)
        t1 = time.perf_counter()
        _floor(params, X, *buffers)
        t2 = time.perf_counter()
        t_work.append(t1 - t0)
        t_floor.append(t2 - t1)
    sec, floor = float(np.median(t_work)), float(np.median(t_floor))
    return {"workload": "W2", "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "seconds": sec, "floor_seconds": floor, "ratio": sec / floor, "reps": reps,
            "blas": _blas_info(), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}


def run(threads: int | None = None, reps: int = 5) -> dict:
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
