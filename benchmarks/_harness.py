"""Shared benchmark machinery (``docs/benchmarks.md``, "The yardstick: time over the GEMM floor").

* :func:`run_isolated` runs one workload in a fresh interpreter with ``OMP_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set before NumPy loads (the only reliable
  way to pin the BLAS thread count) and returns its result row.  The interpreter runs this
  file as a script, so ``sys.path[0]`` is ``benchmarks/`` and **minadv comes from
  ``PYTHONPATH``** (or the installed package), never from the tree the benchmarks live in:
  ``pkg_path`` prepends one source tree to ``PYTHONPATH``, which is how ``run.py --compare``
  times two trees with the same benchmark code.
* :func:`interleaved` times several callables in alternation, ``reps`` rounds after one
  warm-up round, and returns the median of each: a load spike on a shared machine hits the
  workload and its floor alike instead of biasing one of them.
* :func:`blas_info` describes the BLAS (threadpoolctl's report when importable, else
  ``numpy.show_config``) and :func:`result` stamps every row with it, the thread count,
  ``OPENBLAS_CORETYPE`` (which, when set, can make OpenBLAS pick slower kernels), the 1-minute
  load average and the minadv that was measured.

A bench module exposes ``WORKLOADS = {"W1": measure_fn, ...}`` where ``measure_fn(quick=False)``
returns the dict of :func:`result`, and ``build(wid, tiny=True)`` returning ``(work, floor)``
callables at tiny sizes for the smoke test.  Nothing here imports NumPy at module level, so
``run_isolated`` can be called before the thread count is decided.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
if BENCH_DIR not in sys.path:                  # bench modules import each other by file name
    sys.path.insert(0, BENCH_DIR)

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_env(threads: int | None, pkg_path: str | None = None,
               extra: dict | None = None) -> dict:
    """``os.environ`` with every BLAS/OpenMP thread variable and ``MINADV_NUM_THREADS`` set to
    ``threads`` (so that minadv's thread policy does not lower the count of a row on a loaded
    machine; the BLAS variables are removed when ``threads`` is None: NumPy's default
    threading and minadv's policy), ``extra`` variables added and, when
    ``pkg_path`` is given, that source tree first on ``PYTHONPATH``."""
    env = dict(os.environ)
    if pkg_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.path.abspath(pkg_path), os.environ.get("PYTHONPATH")) if p)
    if threads is None:
        for v in THREAD_VARS:
            env.pop(v, None)
    else:                   # MINADV_NUM_THREADS too: a row at 2 threads runs at 2 threads
        env.update({v: str(threads) for v in (*THREAD_VARS, "MINADV_NUM_THREADS")})
    env.update(extra or {})
    return env


def run_isolated(module: str, wid: str, threads: int | None, quick: bool = False,
                 pkg_path: str | None = None, mode: str = "--worker",
                 extra_env: dict | None = None) -> dict:
    """Measure workload ``wid`` of ``benchmarks/<module>.py`` in a fresh subprocess.

    ``mode``: ``"--worker"`` (the workload and its floor), ``"--pair"`` (the workload and the
    hand-tuned NumPy reference of ``reference.py``, interleaved), ``"--work"`` or
    ``"--reference"`` (one of the two alone: see :func:`pair`)."""
    cmd = [sys.executable, os.path.join(BENCH_DIR, "_harness.py"), mode, module, wid]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=thread_env(threads, pkg_path, extra_env), cwd=BENCH_DIR,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{module} {wid} ({threads} threads, minadv from "
                           f"{pkg_path or 'PYTHONPATH'}) failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Median seconds of each callable over ``reps`` alternating rounds (after a warm-up)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(t) for k, t in times.items()}


def interleaved_wall_and_cpu(fns: dict[str, Callable[[], object]], reps: int) -> dict:
    """:func:`interleaved` that also records the process's CPU time of each call (``k`` ->
    ``cpu_k`` with ``_seconds`` kept last, e.g. ``cpu_seconds``).  At one BLAS thread on a
    loaded machine, CPU time leaves out the waits for a core that inflate wall time."""
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[k].append(time.process_time() - c0)
            wall[k].append(time.perf_counter() - t0)
    out = {k: statistics.median(t) for k, t in wall.items()}
    out.update({("reference_cpu_seconds" if k.startswith("reference") else "cpu_seconds"):
                statistics.median(t) for k, t in cpu.items()})
    return out


def blas_info() -> str:
    """One line: threadpoolctl's BLAS report (api, version, architecture, threads)."""
    import numpy as np
    try:
        from threadpoolctl import threadpool_info
        rows = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if rows:
            return "; ".join(sorted(f"{i.get('internal_api')} {i.get('version')} "
                                    f"{i.get('architecture')} {i.get('num_threads')}t"
                                    for i in rows))
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (numpy.show_config)"
    except Exception:                                       # older NumPy: no dict mode
        return "unknown"


def threads_in_use() -> int | None:
    value = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    return int(value) if value else None


def loadavg() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def result(wid: str, times: dict[str, float], unit: str, scale: float = 1.0, **extra) -> dict:
    """A result row: ``seconds``/``floor_seconds`` (medians × ``scale``), ``ratio``, context."""
    import minadv
    sec, floor = times["seconds"] * scale, times["floor_seconds"] * scale
    row = {"workload": wid, "threads": threads_in_use(), "seconds": sec,
           "floor_seconds": floor, "ratio": sec / floor, "unit": unit}
    row.update({k: v * scale for k, v in times.items() if k not in ("seconds", "floor_seconds")})
    row.update(extra)
    row.update(blas=blas_info(), openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"),
               loadavg_1min=loadavg(), minadv=os.path.dirname(os.path.abspath(minadv.__file__)))
    return row


def load(module: str):
    return importlib.import_module(module)


def print_rows(rows: list[dict]) -> None:
    print(f"{'id':4} {'thr':>3} {'seconds':>9} {'floor':>9} {'ratio':>6}  unit")
    for r in rows:
        print(f"{r['workload']:4} {str(r['threads']):>3} {r['seconds']:9.4f} "
              f"{r['floor_seconds']:9.4f} {r['ratio']:6.2f}  {r['unit']}")
    if rows:
        print(f"BLAS: {rows[0]['blas']}; OPENBLAS_CORETYPE={rows[0]['openblas_coretype']}; "
              f"minadv: {rows[0]['minadv']}")


def module_main(module: str, argv: list[str] | None = None) -> None:
    """``python benchmarks/<module>.py [--quick] [--threads 1 2]``: its workloads, isolated."""
    import argparse
    parser = argparse.ArgumentParser(description=f"benchmarks/{module}.py")
    parser.add_argument("--quick", action="store_true", help="fewer steps and repetitions")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    wids = list(load(module).WORKLOADS)
    print_rows([run_isolated(module, w, t, args.quick) for w in wids for t in args.threads])


def _worker(argv: list[str]) -> None:
    module, wid = argv[0], argv[1]
    row = load(module).WORKLOADS[wid](quick="--quick" in argv)
    print(json.dumps(row))


# sizes of the minadv/reference pairs: (full, quick) keyword arguments of build/reference
PAIR_SIZES = {"W1": ({"n_steps": 100}, {"n_steps": 30}), "W2": ({"n": 10_000}, {"n": 3_000}),
              "W3": ({"n_steps": 100}, {"n_steps": 30}), "W5": ({"n_steps": 2000}, {"n_steps": 500}),
              "W4": ({}, {}), "W6": ({}, {})}


def pair(module: str, wid: str, quick: bool = False, only: str | None = None) -> dict:
    """Time the public-API workload and the hand-tuned NumPy reference, interleaved.

    ``only="work"`` or ``"reference"`` times one of them alone (its keys only).  The contention
    benchmark needs that: at NumPy's default threading the reference's OpenBLAS workers keep
    spinning for a while after each of its calls, and in the same process they would take CPU
    from the minadv run that follows (with one core held by the busy process, that made even
    one-thread minadv runs 1.3x slower)."""
    import reference
    kw = PAIR_SIZES[wid][quick]
    fns = {}
    if only in (None, "work"):
        fns["seconds"] = load(module).build(wid, **kw)[0]
    if only in (None, "reference"):
        fns["reference_seconds"] = reference.reference(wid, **kw)
    reps = 3 if quick else 5
    times = interleaved_wall_and_cpu(fns, reps)
    row = {"workload": wid, "threads": threads_in_use(), "reps": reps, **kw, **times,
           "minadv_threads_setting": os.environ.get("MINADV_NUM_THREADS", "auto")}
    import minadv
    row.update(blas=blas_info(), loadavg_1min=loadavg(),
               minadv=os.path.dirname(os.path.abspath(minadv.__file__)))
    if only is not None:
        return row
    row.update(ratio_to_reference=times["seconds"] / times["reference_seconds"],
               cpu_ratio_to_reference=times["cpu_seconds"] / times["reference_cpu_seconds"])
    if wid == "W5":
        row["us_per_step"] = 1e6 * times["seconds"] / kw["n_steps"]
        row["reference_us_per_step"] = 1e6 * times["reference_seconds"] / kw["n_steps"]
        row["cpu_us_per_step"] = 1e6 * times["cpu_seconds"] / kw["n_steps"]
    return row


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        _worker(sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] in ("--pair", "--work", "--reference"):
        only = None if sys.argv[1] == "--pair" else sys.argv[1][2:]
        print(json.dumps(pair(sys.argv[2], sys.argv[3], quick="--quick" in sys.argv, only=only)))
    else:
        sys.exit("usage: python benchmarks/run.py (this module is the shared runner)")
