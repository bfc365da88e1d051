"""Training benchmarks W1, W3, W5 (``docs/benchmarks.md``) against their GEMM floors.

W1: FGSM adversarial training, MLP 784-256-256-10 ReLU, float32, batch 128, eps 0.1,
    ½CE(x) + ½CE(x_adv), SGD momentum 0.9 (``n_steps`` steps, scaled to one 469-step epoch).
W3: VAT, same MLP, 128 labeled + 256 unlabeled rows per step, L2, one power iteration,
    xi 1e-6, eps 2.0, CE + KL, SGD momentum (``n_steps`` steps).
W5: tiny VAT toy, MLP 100-100-2 ReLU, 16 samples, float64, full batch; time per step.

Timed (``seconds``): the public ``minadv.training.fit`` the way a user calls it: one epoch
over ``n_steps`` minibatches (W1, W3) or ``n_steps`` one-step epochs (W5), ``verbose=0``.
Shown beside it for information (``loop_seconds``): the bare objective + optimizer loop on
consecutive slices, i.e. what ``fit`` adds (shuffling, history, per-epoch metrics) is the
difference.  The floor replays exactly the matmuls of the workload (same shapes, dtype,
threads), interleaved with both; the medians of ``repeats`` are reported (``_harness``).

minadv is imported from ``PYTHONPATH`` (``_harness``), so one copy of this file times any
source tree.  Usage: ``python benchmarks/bench_training.py [--quick]`` (1 and 2 threads,
each in a fresh process), or ``python benchmarks/run.py --only W1,W3,W5``.
"""

from __future__ import annotations

import dataclasses
import inspect

import _harness as H
import numpy as np

from minadv.models import MLP
from minadv.optim import apply_updates, sgd
from minadv.training import Batch, FGSMObjective, VATObjective, fit

# ADAPTATION POINT (one line): the keyword of `fit` that turns per-epoch metrics off (the
# `epoch_metrics` switch of issue 8's hardening branch).  Keywords the measured `fit` does not
# take are dropped, so an older tree is timed with its default (metrics after every epoch).
FIT_OPTIONS: dict = {"epoch_metrics": False}


def fit_options() -> dict:
    """The subset of :data:`FIT_OPTIONS` that the imported ``fit`` accepts."""
    accepted = inspect.signature(fit).parameters
    return {k: v for k, v in FIT_OPTIONS.items() if k in accepted}


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


def _fit(model, objective, X, y, Xu, batch, ubatch, epochs, seed=0):
    """The user's call: ``fit`` for ``epochs`` epochs, metrics off where ``fit`` allows it."""
    params = model.init_params(rng=seed)
    extra = {} if Xu is None else {"X_unlabeled": Xu, "unlabeled_batch_size": ubatch}

    def go():
        return fit(model, params, objective, X, y, optimizer=sgd(0.01, momentum=0.9),
                   epochs=epochs, batch_size=batch, rng=seed, verbose=0, **extra,
                   **fit_options())
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


def _mlp_shapes_w5(n, sizes):
    d, h, c = sizes
    return ([(n, d, h), (n, h, c)] * 2                           # clean + probe forward
            + [(n, c, h), (n, h, d)]                             # probe back to input
            + [(2 * n, d, h), (2 * n, h, c), (2 * n, c, h)]      # [x; x + r] fwd/back
            + [(d, 2 * n, h), (h, 2 * n, c)])                    # weight gradients


def _objective(cls, **hyper):
    """``cls(**hyper)`` with today's names (``docs/vocabulary.md``), or the names of a tree from
    before them (``alpha``, ``n_power``, ``lam``), so that ``--compare`` times both."""
    fields = {f.name for f in dataclasses.fields(cls)}
    older = {"clean_weight": "alpha", "n_power_iterations": "n_power", "vat_weight": "lam"}
    return cls(**{(k if k in fields else older[k]): v for k, v in hyper.items()})


def build(wid: str, tiny: bool = False, n_steps: int | None = None, with_loop: bool = False):
    """``(work, floor)`` callables of ``wid`` (plus the bare loop when ``with_loop``);
    ``tiny`` shrinks every size (smoke test).  ``work`` is the public ``fit``."""
    if wid == "W1":
        sizes, B = ((20, 8, 8, 3), 16) if tiny else ((784, 256, 256, 10), 128)
        n_steps = n_steps or (2 if tiny else 100)
        X, y = _data(B * n_steps, sizes[0], sizes[-1], np.float32)   # one epoch = n_steps
        model = MLP(list(sizes), dtype=np.float32)
        objective = _objective(FGSMObjective, eps=0.1, clean_weight=0.5)
        work = _fit(model, objective, X, y, None, B, 0, epochs=1)
        loop = _train(model, objective, X, y, None, B, 0, n_steps)
        floor = _gemm_floor(_mlp_shapes_fgsm(B, sizes), np.float32, n_steps)
    elif wid == "W3":
        sizes, B, U = ((20, 8, 8, 3), 16, 32) if tiny else ((784, 256, 256, 10), 128, 256)
        n_steps = n_steps or (2 if tiny else 200)
        X, y = _data((B + U) * n_steps, sizes[0], sizes[-1], np.float32)
        X, y, Xu = X[:B * n_steps], y[:B * n_steps], X[B * n_steps:]  # (B n, d), (U n, d)
        model = MLP(list(sizes), dtype=np.float32)
        objective = _objective(VATObjective, eps=2.0, xi=1e-6, n_power_iterations=1,
                               vat_weight=1.0)
        work = _fit(model, objective, X, y, Xu, B, U, epochs=1)
        loop = _train(model, objective, X, y, Xu, B, U, n_steps)
        floor = _gemm_floor(_mlp_shapes_vat(B, U, sizes), np.float32, n_steps)
    elif wid == "W5":
        sizes, n = ((10, 10, 2), 4) if tiny else ((100, 100, 2), 16)
        n_steps = n_steps or (2 if tiny else 2000)
        X, y = _data(n, sizes[0], sizes[-1], np.float64)
        model = MLP(list(sizes), dtype=np.float64)
        objective = _objective(VATObjective, eps=0.6, xi=1e-6, n_power_iterations=1)
        work = _fit(model, objective, X, y, None, n, 0, epochs=n_steps)  # full batch: 1 step/epoch
        loop = _train(model, objective, X, y, None, n, 0, n_steps)
        floor = _gemm_floor(_mlp_shapes_w5(n, sizes), np.float64, n_steps)
    else:
        raise KeyError(wid)
    return (work, floor, loop) if with_loop else (work, floor)


def _measure(wid: str, n_steps: int, reps: int) -> dict:
    work, floor, loop = build(wid, n_steps=n_steps, with_loop=True)
    return H.interleaved({"seconds": work, "floor_seconds": floor, "loop_seconds": loop}, reps)


def bench_w1(quick: bool = False) -> dict:
    n_steps, reps = (10, 2) if quick else (100, 5)
    times = _measure("W1", n_steps, reps)
    return H.result("W1", times, "one epoch (469 steps, scaled)", scale=469 / n_steps,
                    steps_timed=n_steps, reps=reps, api="minadv.training.fit",
                    fit_options=fit_options())


def bench_w3(quick: bool = False) -> dict:
    n_steps, reps = (10, 2) if quick else (200, 3)
    times = _measure("W3", n_steps, reps)
    return H.result("W3", times, f"{n_steps} steps", reps=reps, api="minadv.training.fit",
                    fit_options=fit_options())


def bench_w5(quick: bool = False) -> dict:
    n_steps, reps = (200, 3) if quick else (2000, 5)
    times = _measure("W5", n_steps, reps)
    return H.result("W5", times, f"{n_steps} steps", reps=reps, api="minadv.training.fit",
                    fit_options=fit_options(), us_per_step=1e6 * times["seconds"] / n_steps,
                    loop_us_per_step=1e6 * times["loop_seconds"] / n_steps)


WORKLOADS = {"W1": bench_w1, "W3": bench_w3, "W5": bench_w5}


if __name__ == "__main__":
    H.module_main("bench_training")
