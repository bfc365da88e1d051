"""Training benchmarks W1, W3, W5 of ``BENCHMARKS.md`` against their GEMM floors.

W1: FGSM adversarial training step, MLP 784-256-256-10 ReLU, float32, batch 128, eps 0.1,
    ½CE(x) + ½CE(x_adv), SGD momentum 0.9 (``n_steps`` steps, scaled to one 469-step epoch).
W3: VAT step, same MLP, 128 labeled + 256 unlabeled, L2, one power iteration, xi 1e-6,
    eps 2.0, CE + KL, SGD momentum (``n_steps`` steps).
W5: tiny VAT toy, MLP 100-100-2 ReLU, 16 samples, float64, full batch; time per step.

The floor replays exactly the matmuls of the workload (same shapes, dtype, threads),
interleaved with the real run; the medians of ``repeats`` are reported.

Usage: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_training.py``; :func:`run` returns one
dict per workload for a common runner.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from minadv.models import MLP
from minadv.optim import apply_updates, sgd
from minadv.training import Batch, FGSMObjective, VATObjective


def _data(n, d, classes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32).astype(dtype)
    teacher = rng.standard_normal((d, classes)).astype(dtype)
    return X, np.argmax((X - 0.5) @ teacher, axis=1)


def _train(model, objective, X, y, Xu, batch, ubatch, n_steps, seed=0):
    """``n_steps`` objective + optimizer steps on consecutive minibatches."""
    params = model.init_params(rng=seed)
    opt = sgd(0.01, momentum=0.9)
    state = opt.init(params)
    rng = np.random.default_rng(seed)
    n = X.shape[0]

    def go():
        nonlocal params, state
        for t in range(n_steps):
            i = (t * batch) % (n - batch + 1)
            xu = None if Xu is None else Xu[(t * ubatch) % (Xu.shape[0] - ubatch + 1):][:ubatch]
            _, grads = objective(model, params, Batch(X[i:i + batch], y[i:i + batch], xu), rng)
            updates, state = opt.update(grads, state, params)
            params = apply_updates(params, updates)
    return go


def _gemm_floor(shapes_per_step, dtype, n_steps, seed=0):
    """Replay the matmuls ``(m, k) @ (k, n)`` of one step ``n_steps`` times."""
    rng = np.random.default_rng(seed)
    pairs = [(rng.random((m, k), dtype=np.float32).astype(dtype),
              rng.random((k, n), dtype=np.float32).astype(dtype)) for m, k, n in shapes_per_step]

    def go():
        for _ in range(n_steps):
            for a, b in pairs:
                a @ b
    return go


def _mlp_shapes_fgsm(B, sizes=(784, 256, 256, 10)):
    d, h1, h2, c = sizes
    fwd = [(B, d, h1), (B, h1, h2), (B, h2, c)]
    back_input = [(B, c, h2), (B, h2, h1), (B, h1, d)]
    back_hidden = [(B, c, h2), (B, h2, h1)]
    wgrads = [(d, 2 * B, h1), (h1, 2 * B, h2), (h2, 2 * B, c)]
    return fwd + back_input + fwd + back_hidden + wgrads


def _mlp_shapes_vat(B, U, sizes=(784, 256, 256, 10)):
    d, h1, h2, c = sizes
    fwd = lambda m: [(m, d, h1), (m, h1, h2), (m, h2, c)]  # noqa: E731
    back_input = [(U, c, h2), (U, h2, h1), (U, h1, d)]
    back_hidden = [(B + U, c, h2), (B + U, h2, h1)]
    wgrads = [(d, B + U, h1), (h1, B + U, h2), (h2, B + U, c)]
    return fwd(U) + fwd(U) + back_input + fwd(B + U) + back_hidden + wgrads


def _interleaved(work: Callable, floor: Callable, repeats: int):
    work(), floor()                                           # warm-up
    tw, tf = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        tw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        floor()
        tf.append(time.perf_counter() - t0)
    return float(np.median(tw)), float(np.median(tf))


def bench_w1(n_steps=100, repeats=5):
    X, y = _data(60_000, 784, 10, np.float32)
    model = MLP([784, 256, 256, 10], dtype=np.float32)
    work = _train(model, FGSMObjective(eps=0.1, alpha=0.5), X, y, None, 128, 0, n_steps)
    floor = _gemm_floor(_mlp_shapes_fgsm(128), np.float32, n_steps)
    t, f = _interleaved(work, floor, repeats)
    scale = 469 / n_steps
    return {"id": "W1", "seconds": t * scale, "floor_seconds": f * scale, "ratio": t / f,
            "unit": "one epoch (469 steps, scaled)"}


def bench_w3(n_steps=200, repeats=3):
    X, y = _data(60_000, 784, 10, np.float32)
    model = MLP([784, 256, 256, 10], dtype=np.float32)
    objective = VATObjective(eps=2.0, xi=1e-6, n_power=1, lam=1.0)
    work = _train(model, objective, X, y, X[::-1], 128, 256, n_steps)
    floor = _gemm_floor(_mlp_shapes_vat(128, 256), np.float32, n_steps)
    t, f = _interleaved(work, floor, repeats)
    return {"id": "W3", "seconds": t, "floor_seconds": f, "ratio": t / f,
            "unit": f"{n_steps} steps"}


def bench_w5(n_steps=2000, repeats=5):
    X, y = _data(16, 100, 2, np.float64)
    model = MLP([100, 100, 2], dtype=np.float64)
    objective = VATObjective(eps=0.6, xi=1e-6, n_power=1)
    work = _train(model, objective, X, y, None, 16, 0, n_steps)
    shapes = ([(16, 100, 100), (16, 100, 2)] * 2                       # clean + probe forward
              + [(16, 2, 100), (16, 100, 100)]                          # probe back to input
              + [(32, 100, 100), (32, 100, 2), (32, 2, 100)]            # [x; x + r] fwd/back
              + [(100, 32, 100), (100, 32, 2)])                         # weight gradients
    floor = _gemm_floor(shapes, np.float64, n_steps)
    t, f = _interleaved(work, floor, repeats)
    return {"id": "W5", "seconds": t, "floor_seconds": f, "ratio": t / f,
            "us_per_step": 1e6 * t / n_steps, "unit": f"{n_steps} steps"}


def run(quick: bool = False) -> list[dict]:
    """Run W1, W3, W5; ``quick`` shrinks step counts (smoke test)."""
    if quick:
        return [bench_w1(10, 2), bench_w3(10, 2), bench_w5(100, 2)]
    return [bench_w1(), bench_w3(), bench_w5()]


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return ", ".join(f"{i['internal_api']} {i.get('architecture')} {i['num_threads']}t"
                         for i in info) or "unknown"
    except ImportError:
        return "threadpoolctl not installed"


if __name__ == "__main__":
    print(f"BLAS: {_blas()}")
    for row in run():
        extra = f"  {row['us_per_step']:.0f} us/step" if "us_per_step" in row else ""
        print(f"{row['id']}: {row['seconds']:.3f} s  floor {row['floor_seconds']:.3f} s  "
              f"ratio {row['ratio']:.2f}  ({row['unit']}){extra}")
