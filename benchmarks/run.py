"""Run the benchmark workloads of ``docs/benchmarks.md``: one row per workload × threads.

Each (workload, thread count) runs in a fresh interpreter with ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set before NumPy loads (``_harness``).
minadv is taken from ``PYTHONPATH`` (or the installed package); ``--pkg PATH`` puts one source
tree first.  Columns: median seconds, median GEMM-floor seconds, ratio, target and pass/fail;
W5 is judged on microseconds per step (its floor is negligible by design), the others on the
ratio.

``--compare PATH_A PATH_B`` times two source trees with this same benchmark code: for every
workload and thread count it alternates fresh runs A, B, B, A, ... (``--rounds`` pairs, ABBA
order so that a slow drift of the machine's load hits both trees alike) and prints the medians
of A and B, the time change B/A and the floor-normalised change (ratio_B / ratio_A: each run
measures its own floor, so this one survives a change of load between runs).  The budget
(``docs/benchmarks.md``): no workload more than 10 % slower.

``--reference`` times each workload through the public API against the hand-tuned NumPy
reference of ``reference.py`` (same mathematics, same data), interleaved in one process, at
``--threads`` (default 1): the 1-thread targets of ``docs/benchmarks.md`` (W1-W4, W6 within
1.10x the reference, W5 <= 150 us per step).

``--contention`` runs each workload (full sizes; ``--quick``: the quick ones) and ``minadv
reproduce --quick`` with NumPy's default threading, once on the machine as it is and once while
one busy process (a Python spin loop started and stopped here, never running longer than
``BUSY_SECONDS``) occupies a core, and reports contended/quiet ratios: for minadv with its
default thread policy (``auto``), for minadv with the policy off (``MINADV_NUM_THREADS`` = all
cores, i.e. NumPy's default), for minadv pinned to one thread, and for the NumPy reference
(each run in its own process).  The last column, one thread contended over the policy's quiet
time, is what any thread count can reach while the busy process holds a core (one core left,
against all of them when quiet; two threads collapse).  Target (``docs/benchmarks.md``): W1,
W2 and ``reproduce --quick`` <= 1.5x their quiet time.

Usage::

    python benchmarks/run.py                          # W1-W6 at 1 and 2 threads
    python benchmarks/run.py --only W1,W3 --quick --json out.json --markdown
    python benchmarks/run.py --compare ../before ../after --markdown --json cmp.json
    python benchmarks/run.py --reference              # 1 thread, minadv / NumPy reference
    python benchmarks/run.py --contention             # contended / quiet, one busy process
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

import _harness as H

# id -> (bench module, target at 1 thread, target at 2 threads, judged quantity)
WORKLOADS = {
    "W1": ("bench_training", 1.35, 1.7, "ratio"),
    "W2": ("bench_pgd", 1.3, 1.7, "ratio"),
    "W3": ("bench_training", 1.5, 1.9, "ratio"),
    "W4": ("bench_closed_form_hessian", 1.5, 1.6, "ratio"),
    "W5": ("bench_training", 150.0, 150.0, "us_per_step"),
    "W6": ("bench_hvp", 1.15, 1.3, "ratio"),
}
BUDGET = 1.10                                    # a change may cost at most 10 % per workload


def judge(row: dict) -> dict:
    _, t1, t2, key = WORKLOADS[row["workload"]]
    row["target"] = t1 if row["threads"] == 1 else t2
    row["judged"] = key
    row["pass"] = bool(row[key] <= row["target"])
    return row


def _value(row: dict) -> str:
    if row["judged"] == "us_per_step":
        return f"{row['us_per_step']:.0f} µs/step"
    return f"{row['ratio']:.2f}"


def _target(row: dict) -> str:
    return (f"≤ {row['target']:.0f} µs" if row["judged"] == "us_per_step"
            else f"≤ {row['target']:.2f}")


def _loop(row: dict) -> str:
    """The bare internal loop beside the public call, for information (W1, W3, W5)."""
    if "loop_seconds" not in row:
        return "-"
    return f"{row['loop_seconds']:.4f} s ({row['loop_seconds'] / row['floor_seconds']:.2f}×)"


def context_line(rows: list[dict], quick: bool) -> str:
    loads = [r["loadavg_1min"] for r in rows if r.get("loadavg_1min") is not None]
    trees = sorted({r["minadv"] for r in rows})
    blas = " | ".join(dict.fromkeys(r["blas"] for r in rows)) or "?"
    text = (f"BLAS: {blas}; "
            f"OPENBLAS_CORETYPE={rows[0]['openblas_coretype'] if rows else None}; "
            f"minadv from {', '.join(trees)}")
    if loads:
        text += (f"; 1-min load average {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} "
                 "cores (a load near or above the core count makes rows noisy: rerun them)")
    return text + ("; --quick: rough numbers" if quick else "")


def print_table(rows: list[dict], quick: bool, markdown: bool) -> None:
    if markdown:
        print("| id | threads | API timed | seconds | floor s | ratio | judged | target | ok "
              "| internal loop | load |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['workload']} | {r['threads']} | `{r.get('api', '?')}` | "
                  f"{r['seconds']:.4f} | {r['floor_seconds']:.4f} | {r['ratio']:.2f} | "
                  f"{_value(r)} | {_target(r)} | {'pass' if r['pass'] else 'FAIL'} | "
                  f"{_loop(r)} | {r.get('loadavg_1min', float('nan')):.2f} |")
    else:
        print(f"{'id':4} {'thr':>3} {'seconds':>9} {'floor':>9} {'ratio':>6} {'judged':>12} "
              f"{'target':>9} {'ok':>4}  internal loop")
        for r in rows:
            print(f"{r['workload']:4} {r['threads']:>3} {r['seconds']:9.4f} "
                  f"{r['floor_seconds']:9.4f} {r['ratio']:6.2f} {_value(r):>12} {_target(r):>9} "
                  f"{'pass' if r['pass'] else 'FAIL':>4}  {_loop(r)}")
    print()
    print(context_line(rows, quick))


def measure(wids, threads, quick, pkg_path=None, echo=True) -> list[dict]:
    rows = []
    for wid in wids:
        for t in threads:
            row = judge(H.run_isolated(WORKLOADS[wid][0], wid, t, quick, pkg_path))
            rows.append(row)
            if echo:
                print(f"  {wid} {t}t: {_value(row)} ({row['seconds']:.4f} s)", file=sys.stderr,
                      flush=True)
    return rows


def compare(wids, threads, quick, paths, rounds) -> list[dict]:
    """Alternate fresh runs of the two trees (ABBA...) per workload and thread count."""
    out = []
    for wid in wids:
        for t in threads:
            runs: dict[int, list[dict]] = {0: [], 1: []}
            for r in range(rounds):
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                    row = judge(H.run_isolated(WORKLOADS[wid][0], wid, t, quick, paths[which]))
                    runs[which].append(row)
            out.append(_summary(wid, t, runs, paths))
            print(f"  {wid} {t}t: after/before {out[-1]['time_change']:.3f}", file=sys.stderr,
                  flush=True)
    return out


def _summary(wid: str, t: int, runs: dict[int, list[dict]], paths) -> dict:
    def med(rows: list[dict], k: str) -> float:
        return statistics.median(r[k] for r in rows)
    key = WORKLOADS[wid][3]
    a, b = runs[0], runs[1]
    return {"workload": wid, "threads": t, "judged": key, "before": paths[0], "after": paths[1],
            "before_seconds": med(a, "seconds"), "after_seconds": med(b, "seconds"),
            "before_ratio": med(a, "ratio"), "after_ratio": med(b, "ratio"),
            "before_value": med(a, key), "after_value": med(b, key),
            "time_change": med(b, "seconds") / med(a, "seconds"),
            "loop_change": (med(b, "loop_seconds") / med(a, "loop_seconds")
                            if "loop_seconds" in a[0] and "loop_seconds" in b[0] else None),
            "floor_normalised_change": med(b, "ratio") / med(a, "ratio"),
            "target": b[0]["target"], "after_pass": bool(med(b, key) <= b[0]["target"]),
            "runs": {"before": a, "after": b}}


def verdict(r: dict) -> str:
    """``ok`` within the budget on both measures, ``SLOWER`` beyond it on both, else ``noisy``
    (one measure over: rerun that row, the load probably changed between runs)."""
    over = [r["time_change"] > BUDGET, r["floor_normalised_change"] > BUDGET]
    return "SLOWER" if all(over) else ("noisy" if any(over) else "ok")


def print_compare(rows: list[dict], markdown: bool) -> None:
    def fmt(r, side):
        v = r[f"{side}_value"]
        return f"{v:.0f} µs/step" if r["judged"] == "us_per_step" else f"{v:.2f}"
    head = ("id", "thr", "before s", "after s", "after/before", "ratio before", "ratio after",
            "floor-normalised", "internal loop after/before", "target", "budget")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + " --- |" * len(head))
    for r in rows:
        ok = verdict(r)
        target = (f"≤ {r['target']:.0f} µs" if r["judged"] == "us_per_step"
                  else f"≤ {r['target']:.2f}") + (" pass" if r["after_pass"] else " FAIL")
        cells = (r["workload"], str(r["threads"]), f"{r['before_seconds']:.4f}",
                 f"{r['after_seconds']:.4f}", f"{r['time_change']:.3f}", fmt(r, "before"),
                 fmt(r, "after"), f"{r['floor_normalised_change']:.3f}",
                 "-" if r["loop_change"] is None else f"{r['loop_change']:.3f}", target, ok)
        print(("| " + " | ".join(cells) + " |") if markdown else "  ".join(f"{c:>12}" for c in cells))
    every = [x for r in rows for side in ("before", "after") for x in r["runs"][side]]
    print()
    print(context_line(every, False))
    print(f"before = {rows[0]['before'] if rows else '?'}; after = {rows[0]['after'] if rows else '?'}; "
          f"budget: no workload more than {BUDGET - 1:.0%} slower; ok = time and floor-normalised "
          "change both within it, SLOWER = both over, noisy = one over (rerun that row)")


# --------------------------------------------------------------------- reference and contention
PAIRS = ("W1", "W2", "W3", "W4", "W5", "W6")     # workloads with a NumPy reference
REFERENCE_TARGETS = {"W1": 1.10, "W2": 1.10, "W3": 1.10, "W4": 1.10, "W6": 1.10, "W5": 150.0}
CONTENTION_TARGETS = {"W1": 1.5, "W2": 1.5, "reproduce": 1.5}
BUSY_SECONDS = 900                                 # the busy process's hard time limit
BUSY = ("import sys, time\nend = time.monotonic() + float(sys.argv[1])\n"
        "while time.monotonic() < end:\n    pass\n")


def reference_rows(wids, threads, quick, pkg_path=None) -> list[dict]:
    rows = []
    for wid in wids:
        for t in threads:
            row = H.run_isolated(WORKLOADS[wid][0], wid, t, quick, pkg_path, mode="--pair")
            key = "us_per_step" if wid == "W5" else "ratio_to_reference"
            row["judged"], row["target"] = key, REFERENCE_TARGETS[wid]
            row["pass"] = bool(row[key] <= row["target"])
            rows.append(row)
            print(f"  {wid} {t}t: minadv/reference {row['ratio_to_reference']:.3f}",
                  file=sys.stderr, flush=True)
    return rows


def print_reference(rows: list[dict]) -> None:
    print("| id | threads | minadv s | reference s | minadv / reference (wall) | minadv / "
          "reference (CPU) | judged | target | ok | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        judged = (f"{r['us_per_step']:.0f} µs/step (ref {r['reference_us_per_step']:.0f}, "
                  f"CPU {r['cpu_us_per_step']:.0f})"
                  if r["judged"] == "us_per_step" else f"{r['ratio_to_reference']:.3f}")
        target = (f"≤ {r['target']:.0f} µs" if r["judged"] == "us_per_step"
                  else f"≤ {r['target']:.2f}")
        print(f"| {r['workload']} | {r['threads']} | {r['seconds']:.4f} | "
              f"{r['reference_seconds']:.4f} | {r['ratio_to_reference']:.3f} | "
              f"{r['cpu_ratio_to_reference']:.3f} | {judged} | {target} | "
              f"{'pass' if r['pass'] else 'FAIL'} | {r['loadavg_1min']:.2f} |")
    if rows:
        print(f"\nBLAS: {rows[0]['blas']}; minadv from {rows[0]['minadv']}; "
              f"{os.cpu_count()} cores")


@contextlib.contextmanager
def busy_core():
    """One busy process (a spin loop) for the duration of the block, at most BUSY_SECONDS."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY, str(BUSY_SECONDS)])
    try:
        time.sleep(0.3)                               # let it reach the spin loop
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _reproduce_seconds(env: dict) -> float:
    """Wall time of ``minadv reproduce --quick`` (a fresh process, output discarded)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "minadv.cli", "reproduce", "--quick"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _contention_once(wid, policy_env, busy, quick, pkg_path, what="work") -> dict:
    """One fresh process timing minadv's workload (``what="work"``) or the NumPy reference
    (``"reference"``) alone: in one process the reference's spinning OpenBLAS workers would
    take CPU from the minadv run after it (``_harness.pair``)."""
    ctx = busy_core() if busy else contextlib.nullcontext()
    with ctx:
        if wid == "reproduce":
            env = H.thread_env(None, pkg_path, policy_env)
            return {"seconds": _reproduce_seconds(env), "loadavg_1min": H.loadavg()}
        return H.run_isolated(WORKLOADS[wid][0], wid, None, quick, pkg_path, mode=f"--{what}",
                              extra_env=policy_env)


def contention_rows(wids, rounds, quick, pkg_path=None) -> list[dict]:
    """Quiet and contended runs (alternating, ``rounds`` of each) per workload and policy,
    and of the NumPy reference (NumPy's default threading), each in its own process."""
    policies = {"auto": {"MINADV_NUM_THREADS": "auto"},
                "off": {"MINADV_NUM_THREADS": str(os.cpu_count())},
                "one": {"MINADV_NUM_THREADS": "1"}}
    rows = []
    for wid in wids:
        runs = {(p, b): [] for p in policies for b in (False, True)}
        refs = {b: [] for b in (False, True)}
        for _ in range(rounds):
            for p, env in policies.items():
                for b in (False, True):
                    runs[p, b].append(_contention_once(wid, env, b, quick, pkg_path))
            if wid != "reproduce":
                for b in (False, True):
                    refs[b].append(_contention_once(wid, {}, b, quick, pkg_path, "reference"))
        med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
        row = {"workload": wid, "rounds": rounds,
               "quiet_s": med["auto", False], "contended_s": med["auto", True],
               "ratio": med["auto", True] / med["auto", False],
               "off_quiet_s": med["off", False], "off_contended_s": med["off", True],
               "off_ratio": med["off", True] / med["off", False],
               # what any thread count can reach while the busy process holds a core: one
               # thread (two collapse: "off"), contended, over the policy's quiet time
               "one_quiet_s": med["one", False], "one_contended_s": med["one", True],
               "floor": med["one", True] / med["auto", False],
               "loads": [r.get("loadavg_1min") for v in runs.values() for r in v]}
        if wid != "reproduce":
            ref = {b: statistics.median(r["reference_seconds"] for r in v)
                   for b, v in refs.items()}
            row.update(ref_quiet_s=ref[False], ref_contended_s=ref[True],
                       ref_ratio=ref[True] / ref[False])
            row["loads"] += [r.get("loadavg_1min") for v in refs.values() for r in v]
        row["target"] = CONTENTION_TARGETS.get(wid)
        row["pass"] = None if row["target"] is None else bool(row["ratio"] <= row["target"])
        rows.append(row)
        print(f"  {wid}: contended/quiet {row['ratio']:.2f} (policy off {row['off_ratio']:.2f})",
              file=sys.stderr, flush=True)
    return rows


def print_contention(rows: list[dict]) -> None:
    print("| workload | minadv quiet s | minadv contended s | **contended / quiet** | target "
          "| policy off: quiet s | policy off: contended / quiet | NumPy reference: quiet s "
          "| NumPy reference: contended / quiet | one thread: quiet s | one thread: contended s "
          "| floor: one thread contended / policy quiet |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        target = "-" if r["target"] is None else (
            f"≤ {r['target']:.1f} {'pass' if r['pass'] else 'FAIL'}")
        ref = ((f"{r['ref_quiet_s']:.3f}", f"{r['ref_ratio']:.2f}") if "ref_ratio" in r
               else ("-", "-"))
        print(f"| {r['workload']} | {r['quiet_s']:.3f} | {r['contended_s']:.3f} | "
              f"**{r['ratio']:.2f}** | {target} | {r['off_quiet_s']:.3f} | {r['off_ratio']:.2f} "
              f"| {ref[0]} | {ref[1]} | {r['one_quiet_s']:.3f} | {r['one_contended_s']:.3f} "
              f"| {r['floor']:.2f} |")
    control = next((r for r in rows if r["workload"] == "W5"), None)
    if control is not None:
        # W5's products are below OpenBLAS's threading size: its ratio is the loss of CPU share
        # to the busy process alone, whatever the threading; the excess over it is threading.
        print("\nOver the single-threaded control W5 (contended/quiet ÷ W5's "
              f"{control['ratio']:.2f}; policy off ÷ {control['off_ratio']:.2f}): " + ", ".join(
                  f"{r['workload']} {r['ratio'] / control['ratio']:.2f} (policy off "
                  f"{r['off_ratio'] / control['off_ratio']:.2f})"
                  for r in rows if r is not control))
    loads = [x for r in rows for x in r["loads"] if x is not None]
    if loads:
        print(f"\n1-min load average during the runs {min(loads):.2f}-{max(loads):.2f} on "
              f"{os.cpu_count()} cores; policy off = MINADV_NUM_THREADS={os.cpu_count()} "
              "(NumPy's default threading inside minadv's calls)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workload ids, e.g. W1,W3")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: fewer steps and repetitions (numbers are rough)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--pkg", metavar="PATH", help="source tree to take minadv from "
                        "(default: PYTHONPATH / the installed package)")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="two source trees, timed alternately with this benchmark code")
    parser.add_argument("--rounds", type=int, default=2,
                        help="--compare: runs of each tree per workload (ABBA order); "
                             "--contention: quiet/contended runs of each")
    parser.add_argument("--reference", action="store_true",
                        help="minadv / hand-tuned NumPy reference, per workload (W1-W6)")
    parser.add_argument("--contention", action="store_true",
                        help="contended / quiet ratios with one busy process (W1-W6 "
                             "and reproduce --quick; --only W1,W2,reproduce for a subset)")
    args = parser.parse_args(argv)
    if args.reference or args.contention:
        return _pairs_main(args, parser)
    wids = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wids if w not in WORKLOADS]
    if unknown:
        parser.error(f"--only: unknown workloads {unknown}; expected some of {list(WORKLOADS)}")
    threads = [int(t) for t in args.threads.split(",")]
    if args.compare:
        for p in args.compare:
            if not os.path.isfile(os.path.join(p, "minadv", "__init__.py")):
                parser.error(f"--compare: {p!r} holds no minadv/__init__.py")
        rows = compare(wids, threads, args.quick, args.compare, args.rounds)
        print_compare(rows, args.markdown)
    else:
        rows = measure(wids, threads, args.quick, args.pkg)
        print_table(rows, args.quick, args.markdown)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


def _pairs_main(args, parser) -> int:
    choices = PAIRS + (("reproduce",) if args.contention else ())
    wids = ([w.strip().upper() if w.strip() != "reproduce" else w.strip()
             for w in args.only.split(",") if w.strip()]
            if args.only != ",".join(WORKLOADS) else list(choices))
    unknown = [w for w in wids if w not in choices]
    if unknown:
        parser.error(f"--only: {unknown} have no NumPy reference here; expected some of "
                     f"{list(choices)}")
    if args.contention:
        rows = contention_rows(wids, args.rounds, quick=args.quick, pkg_path=args.pkg)
        print_contention(rows)
    else:
        threads = [int(t) for t in (args.threads if args.threads != "1,2" else "1").split(",")]
        rows = reference_rows(wids, threads, args.quick, args.pkg)
        print_reference(rows)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
