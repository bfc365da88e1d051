"""Run the benchmark workloads of ``BENCHMARKS.md`` and print one row per workload × threads.

Each (workload, thread count) runs in a fresh interpreter with ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set before NumPy loads (``_harness``).
Columns: median seconds, median GEMM-floor seconds, ratio, target and pass/fail; W5 is judged
on microseconds per step (its floor is negligible by design), the others on the ratio.

Usage::

    python benchmarks/run.py                     # W1-W6 at 1 and 2 threads
    python benchmarks/run.py --only W1,W3 --quick --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import _harness as H  # noqa: E402

# id -> (bench module, target at 1 thread, target at 2 threads, judged quantity)
WORKLOADS = {
    "W1": ("bench_training", 1.25, 1.6, "ratio"),
    "W2": ("bench_pgd", 1.25, 1.6, "ratio"),
    "W3": ("bench_training", 1.45, 1.7, "ratio"),
    "W4": ("bench_closed_form_hessian", 1.5, 1.5, "ratio"),
    "W5": ("bench_training", 200.0, 200.0, "us_per_step"),
    "W6": ("bench_hvp", 1.1, 1.25, "ratio"),
}
THREADS = (1, 2)


def judge(row: dict) -> dict:
    _, t1, t2, key = WORKLOADS[row["workload"]]
    row["target"] = t1 if row["threads"] == 1 else t2
    row["judged"] = key
    row["pass"] = bool(row[key] <= row["target"])
    return row


def _fmt(row: dict) -> str:
    if row["judged"] == "us_per_step":
        value, target = f"{row['us_per_step']:.0f}us/st", f"<={row['target']:.0f}us"
    else:
        value, target = f"{row['ratio']:.2f}", f"<={row['target']:.2f}"
    return (f"{row['workload']:4} {row['threads']:>3} {row['seconds']:9.4f} "
            f"{row['floor_seconds']:9.4f} {row['ratio']:6.2f} {value:>9} {target:>8} "
            f"{'pass' if row['pass'] else 'FAIL':>4}  {row['blas']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workload ids, e.g. W1,W3")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: fewer steps and repetitions (numbers are rough)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    wids = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wids if w not in WORKLOADS]
    if unknown:
        parser.error(f"--only: unknown workloads {unknown}; expected some of {list(WORKLOADS)}")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{'id':4} {'thr':>3} {'seconds':>9} {'floor':>9} {'ratio':>6} {'judged':>9} "
          f"{'target':>8} {'ok':>4}  blas")
    rows = []
    for wid in wids:
        for t in threads:
            row = judge(H.run_isolated(WORKLOADS[wid][0], wid, t, args.quick))
            rows.append(row)
            print(_fmt(row), flush=True)
    loads = [r["loadavg_1min"] for r in rows if r.get("loadavg_1min") is not None]
    print(f"OPENBLAS_CORETYPE={rows[0]['openblas_coretype'] if rows else None}"
          + (f"   1-min load average {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} "
             "cores (a load near or above the core count makes rows noisy: rerun them)"
             if loads else "")
          + ("   (--quick: rough numbers)" if args.quick else ""))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
