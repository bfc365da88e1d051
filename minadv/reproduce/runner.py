"""Running the repeats of the reproductions, serially or in worker processes.

Every repeat is a pure function of its :class:`~minadv.reproduce.stats.Streams`, so the
results do not depend on which process runs it or in which order: the parallel path gives the
serial path's numbers bit for bit, for the same BLAS thread count (workers run with one BLAS
thread; run the serial path with ``OPENBLAS_NUM_THREADS=1`` to compare).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .stats import repeat_streams

__all__ = ["repeats_of", "run_repeat", "run_many"]

_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def repeats_of(protocol, *, quick: bool = False, repeats: int | None = None) -> int:
    """The number of repeats of ``protocol``: ``repeats`` if given (seeded experiments only),
    else ``k_quick`` or ``k``."""
    if not protocol.seeded:
        return 1
    if repeats is not None:
        return repeats
    return protocol.k_quick if quick else protocol.k


def run_repeat(name: str, streams) -> tuple[dict, float]:
    """One repeat of the experiment ``name``: its measurements and CPU seconds."""
    from . import EXPERIMENTS

    t0 = time.process_time()
    out = EXPERIMENTS[name].repeat(streams)
    return out, time.process_time() - t0


@contextmanager
def _one_blas_thread():
    """Worker processes start with one BLAS thread (the environment is restored after)."""
    saved = {k: os.environ.get(k) for k in _BLAS_VARS}
    os.environ.update({k: "1" for k in _BLAS_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_many(names, seed: int, *, quick: bool = False, repeats: int | None = None,
             workers: int = 1) -> Iterator[tuple]:
    """Yield ``(Experiment, cpu_seconds)`` for every name, in order.

    ``workers > 1`` runs all repeats of all experiments in that many spawned processes
    and judges each experiment as soon as its repeats are in.
    """
    from . import EXPERIMENTS

    tasks = {name: repeat_streams(seed, repeats_of(EXPERIMENTS[name], quick=quick,
                                                    repeats=repeats)) for name in names}
    if workers <= 1:
        for name in names:
            outs = [run_repeat(name, s) for s in tasks[name]]
            yield EXPERIMENTS[name].judge([o for o, _ in outs]), sum(t for _, t in outs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))
    with pool:
        with _one_blas_thread():                   # workers are spawned by the submits
            futures = {name: [pool.submit(run_repeat, name, s) for s in tasks[name]]
                       for name in names}
        for name in names:
            outs = [f.result() for f in futures[name]]
            yield EXPERIMENTS[name].judge([o for o, _ in outs]), sum(t for _, t in outs)
