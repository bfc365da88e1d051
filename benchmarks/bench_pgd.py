"""W2 (``docs/benchmarks.md``): PGD-10 L_inf attack on a 784-256-256-10 ReLU MLP, float32.

10 000 samples, X uniform in [0, 1), labels from a fixed random linear teacher, parameters
from a fixed seed; eps = 0.3, step 0.01, uniform random start, clip to [0, 1], batch 1 000.
Timed: the public ``minadv.attacks.pgd`` (validation included): one call with
``batch_size=1000`` when ``pgd`` takes it, else one call per batch of 1 000.
Floor, measured in the same run and interleaved with the workload: per batch and iteration the
forward products ``X W1, H1 W2, H2 W3`` and the backward-to-input products ``D3 W3ᵀ, D2 W2ᵀ,
D1 W1ᵀ`` alone (same shapes, dtype and threads).  Reported: medians and ratio = time / floor
(targets <= 1.3 at 1 thread, <= 1.7 at 2 threads).
minadv is imported from ``PYTHONPATH`` (``_harness``).

Usage: ``python benchmarks/bench_pgd.py [--quick]`` (1 and 2 threads, each in a fresh process),
or ``python benchmarks/run.py --only W2``.
"""

from __future__ import annotations

import _harness as H
import numpy as np

SIZES, EPS, STEP, N_STEPS = (784, 256, 256, 10), 0.3, 0.01, 10


def uses_batch_size() -> bool:
    """Whether the measured ``pgd`` batches itself (``batch_size=``); older trees loop here."""
    import inspect

    from minadv.attacks import pgd
    return "batch_size" in inspect.signature(pgd).parameters


def _problem(n, sizes, seed=0):
    from minadv.models import MLP
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0]), dtype=np.float32)              # (n, d) in [0, 1)
    teacher = rng.standard_normal((sizes[0], sizes[-1])).astype(np.float32)
    y = np.argmax((X - 0.5) @ teacher, axis=1)                   # (n,) int64
    model = MLP(list(sizes), activation="relu", dtype=np.float32)
    return model, model.init_params(rng=seed), X, y


def build(wid: str = "W2", tiny: bool = False, n: int | None = None):
    """``(work, floor)`` callables; ``tiny`` shrinks sizes (smoke test), ``n`` the data."""
    from minadv.attacks import pgd
    sizes, batch = ((20, 8, 8, 3), 50) if tiny else (SIZES, 1_000)
    n = n or (100 if tiny else 10_000)
    model, params, X, y = _problem(n, sizes)
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    rng = np.random.default_rng(1)
    f32 = lambda *s: rng.standard_normal(s, dtype=np.float32)  # noqa: E731
    H1, H2, D3, D2, D1 = (f32(batch, sizes[1]), f32(batch, sizes[2]), f32(batch, sizes[3]),
                          f32(batch, sizes[2]), f32(batch, sizes[1]))

    kw = dict(eps=EPS, norm=np.inf, n_steps=N_STEPS, step_size=STEP, random_start=True,
              clip_min=0.0, clip_max=1.0)

    def work():
        if uses_batch_size():                      # one call, as a user writes it
            return pgd(model, params, X, y, batch_size=batch, rng=0, **kw)
        return [pgd(model, params, X[s:s + batch], y[s:s + batch], rng=s, **kw)  # older pgd
                for s in range(0, n, batch)]

    def floor():
        for s in range(0, n, batch):
            Xb = X[s:s + batch]
            for _ in range(N_STEPS):
                Xb @ W1, H1 @ W2, H2 @ W3                        # forward (3)
                D3 @ W3.T, D2 @ W2.T, D1 @ W1.T                  # backward to the input (3)
    return work, floor


def bench_w2(quick: bool = False) -> dict:
    n, reps = (2_000, 2) if quick else (10_000, 5)
    work, floor = build(n=n)
    times = H.interleaved({"seconds": work, "floor_seconds": floor}, reps)
    return H.result("W2", times, f"PGD-10 on {n} samples", reps=reps,
                    api="minadv.attacks.pgd", pgd_batch_size_argument=uses_batch_size())


WORKLOADS = {"W2": bench_w2}


if __name__ == "__main__":
    H.module_main("bench_pgd")
