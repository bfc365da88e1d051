"""The ``minadv`` command.

``minadv list``
    The reproductions: name, paper and data, one line each.

``minadv reproduce [NAME ...] [--quick] [--seed N] [--repeats K] [--workers N]
    [--out DIR] [--markdown-table] [--strict]``
    Run the reproductions of :mod:`minadv.reproduce` (all by default), print each table with
    its checks and verdict and one progress line per experiment; ``--out DIR`` writes one PNG
    per experiment, ``REPORT.md`` and ``index.html``.  Every experiment derives all its
    randomness from ``--seed`` (default 0).  Exit status 0 once the report is made (a claim
    that does not reproduce is a result); with ``--strict``, 1 if any claim did not reproduce.

``minadv gradcheck [--seed N]``
    Finite-difference check of every model × activation × output × loss combination: the
    relative error of parameter gradients, input gradients and Hessian-vector products (and HVP
    symmetry).  Exits 1 if any error exceeds its threshold.

``minadv grade ...``
    The course's exercise grader (:func:`minadv.course.cli.main`).

``minadv course release OUTDIR [--force]``
    The student notebooks of the tutorials, solutions stripped (:mod:`minadv.course.release`).
``minadv --threads N|auto COMMAND ...``
    BLAS threads of the command (``reproduce``, ``grade`` and the rest): a number is used as
    is, ``auto`` is :mod:`minadv.threads`'s default policy (one thread when another process
    holds a core).  The value is also exported as ``MINADV_NUM_THREADS`` (and a number as
    ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS``) for the processes the
    command starts.  Without threadpoolctl the running process cannot change its BLAS threads,
    so a number restarts the command once with those variables set before NumPy loads.

Usage errors (an unknown experiment, a negative or non-integer seed, an unwritable ``--out``)
are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from . import __version__
from .threads import ENV_VAR, set_num_threads, thread_policy

__all__ = ["main", "build_parser"]


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def seed_type(text: str) -> int:
    """``--seed``: a non-negative integer (argparse names the option in the message)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def threads_type(text: str) -> int | str:
    """``--threads``: a positive integer or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {value}")
    return value


BLAS_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _pop_threads(argv: list[str]) -> tuple[str | None, list[str]]:
    """Split a leading ``--threads N`` / ``--threads=N`` off ``argv`` (before the command)."""
    if argv[:1] == ["--threads"]:
        if len(argv) < 2:
            OneLineParser(prog="minadv").error("argument --threads: expected one argument")
        return argv[1], argv[2:]
    if argv[:1] and argv[0].startswith("--threads="):
        return argv[0].split("=", 1)[1], argv[1:]
    return None, argv


def _apply_threads(text: str, restart: bool) -> None:
    """Set minadv's thread setting and the environment of child processes (see the module
    docstring); ``restart``: re-execute without threadpoolctl so that BLAS reads the variables."""
    try:
        value = threads_type(text)
    except argparse.ArgumentTypeError as exc:
        OneLineParser(prog="minadv").error(f"argument --threads: {exc}")
    set_num_threads(value)
    os.environ[ENV_VAR] = str(value)
    if value == "auto":
        return
    stale = any(os.environ.get(v) != str(value) for v in BLAS_ENV_VARS)
    os.environ.update({v: str(value) for v in BLAS_ENV_VARS})
    if restart and stale:
        import importlib.util
        if importlib.util.find_spec("threadpoolctl") is None:     # BLAS already read its env
            os.execv(sys.executable, [sys.executable, "-m", "minadv.cli", *sys.argv[1:]])


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import THRESHOLDS, run_suite

    header = f"{'model':<24}{'param grad':>12}{'input grad':>12}{'HVP':>12}{'HVP sym':>12}  status"
    print(header)
    print("-" * len(header))
    failed = 0
    for name, report in run_suite(rng=args.seed):
        status = "ok" if report.passed else "FAIL"
        failed += not report.passed
        print(f"{name:<24}{report.param_grad:>12.2e}{report.input_grad:>12.2e}"
              f"{report.hvp:>12.2e}{report.hvp_symmetry:>12.2e}  {status}")
    limits = ", ".join(f"{k} <= {v:.0e}" for k, v in THRESHOLDS.items())
    print(f"\nthresholds (float64, relative error ‖a-b‖/(‖a‖+‖b‖)): {limits}")
    print("all checks passed" if not failed else f"{failed} combination(s) FAILED")
    return 1 if failed else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .reproduce import EXPERIMENTS

    width = max(len(n) for n in EXPERIMENTS)
    paper = max(len(s.paper) for s in EXPERIMENTS.values())
    for name, spec in EXPERIMENTS.items():
        print(f"{name:<{width}}  {spec.paper:<{paper}}  {spec.data}")
    return 0


def _check_out(parser: argparse.ArgumentParser, out: str) -> None:
    """Create ``out`` if needed; a usage error naming ``--out`` when it cannot be written."""
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"argument --out: expected a folder, got the file {out!r}")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        parser.error(f"argument --out: cannot create the folder {out!r} ({exc.strerror})")
    if not os.access(out, os.W_OK | os.X_OK):
        parser.error(f"argument --out: the folder {out!r} is not writable")


def _cmd_reproduce(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .reproduce import EXPERIMENTS, format_experiment
    from .reproduce.runner import run_many

    unknown = [n for n in args.names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"argument NAME: unknown experiment {unknown[0]!r}; expected names from "
                     f"'minadv list': {', '.join(EXPERIMENTS)}")
    if args.out is not None:
        _check_out(parser, args.out)
    names = args.names or list(EXPERIMENTS)
    results, seconds, start = [], {}, time.perf_counter()
    cpu = 0.0
    runs = run_many(names, args.seed, quick=args.quick, repeats=args.repeats,
                    workers=args.workers)
    for i, exp in enumerate(runs, 1):
        exp, cpu_s = exp
        seconds[exp.name] = cpu_s
        cpu += cpu_s
        # gradcheck's table is `minadv gradcheck`'s output: one summary line here
        print(format_experiment(exp, brief=exp.name == "gradcheck") + "\n")
        print(f"[{i}/{len(names)}] {exp.name}: {exp.verdict} ({exp.repeats} repeat"
              f"{'s' if exp.repeats != 1 else ''}, CPU {cpu_s:.1f} s)\n", flush=True)
        results.append(exp)
    return _finish(args, results, seconds, time.perf_counter() - start, cpu)


def _finish(args, results, seconds, total, cpu) -> int:
    from .reproduce import EXPERIMENTS
    from .reproduce.report import summary_table, write_report

    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    counts = {v: sum(e.verdict == v for e in results) for v in
              ("reproduced", "inconclusive", "not reproduced", "not applicable here")}
    others = ", ".join(f"{n} {v}" for v, n in counts.items() if n and v != "reproduced")
    print(f"seed {args.seed}, {'quick' if args.quick else 'default'} run, "
          f"{counts['reproduced']} of {len(results)} reproduced" + (f" ({others})" if others
                                                                  else ""))
    timing = (f"{total:.1f} s wall, CPU {cpu:.1f} s in the repeats, {args.workers} "
              f"worker{'s' if args.workers != 1 else ''}{load}")
    print(f"run time: {timing}")
    if args.markdown_table:
        print("\n" + summary_table(results, EXPERIMENTS))
    if args.out is not None:
        paths = write_report(args.out, results, EXPERIMENTS, seconds, seed=args.seed,
                             quick=args.quick, timing=timing)
        print(f"report: {paths[-1]} ({len(paths)} files)")
    return 1 if args.strict and any(e.verdict == "not reproduced" for e in results) else 0


def _positive_int(text: str) -> int:
    """``--repeats`` / ``--workers``: a positive integer."""
    value = seed_type(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``minadv`` argument parser (subcommands ``list``, ``reproduce``, ``gradcheck``,
    ``grade``)."""
    parser = OneLineParser(prog="minadv",
                           description="minadv: adversarial training with exact gradients.")
    parser.add_argument("--version", action="version", version=f"minadv {__version__}")
    parser.add_argument("--threads", type=threads_type, default=None, metavar="N|auto",
                        help="BLAS threads (default: MINADV_NUM_THREADS, else auto: one thread "
                             "when another process holds a core); goes before the command")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="the reproductions: name, paper, data").set_defaults(
        func=_cmd_list)
    check = sub.add_parser("gradcheck", help="finite-difference check of every model combination")
    check.add_argument("--seed", type=seed_type, default=0, help="seed of the random problems")
    check.set_defaults(func=_cmd_gradcheck)
    rep = sub.add_parser(
        "reproduce", help="reproduce the papers' results on built-in data",
        description="Run each reproduction k times (independent repeats from --seed) and "
                    "decide every check by the 95 % Student-t confidence interval of its "
                    "statistic: reproduced, not reproduced (the interval excludes the claim), "
                    "inconclusive (it straddles the threshold) or not applicable here. "
                    "docs/reproduce.md explains the statistics and each k.")
    rep.add_argument("names", nargs="*", metavar="NAME",
                     help="experiments to run (default: all; see 'minadv list')")
    rep.add_argument("--quick", action="store_true",
                     help="the same protocols (same data, epochs, radii) with fewer repeats: "
                          "wider confidence intervals, so a verdict may be 'inconclusive' "
                          "but never the opposite of the default run's")
    rep.add_argument("--repeats", type=_positive_int, default=None, metavar="K",
                     help="K independent repeats of every seeded experiment (overrides each "
                          "experiment's k)")
    rep.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1),
                     metavar="N", help="run the repeats in N processes, one BLAS thread each "
                                       "(default: min(2, CPUs)); the numbers do not depend on N")
    rep.add_argument("--seed", type=seed_type, default=0,
                     help="non-negative integer; every experiment derives its randomness from it")
    rep.add_argument("--out", default=None, metavar="DIR",
                     help="write REPORT.md, index.html and one PNG per experiment into DIR")
    rep.add_argument("--markdown-table", action="store_true",
                     help="print the summary table in Markdown (the README's table)")
    rep.add_argument("--strict", action="store_true",
                     help="exit 1 if any verdict is 'not reproduced'")
    rep.set_defaults(func=thread_policy(lambda args: _cmd_reproduce(args, rep)))
    sub.add_parser("grade", help="grade course exercises, one file or a class (minadv grade --help)",
                   add_help=False)
    sub.add_parser("course", help="instructor tools: minadv course release OUTDIR",
                   add_help=False)
    return parser


def _grade(argv: list[str]) -> int:
    try:
        from .course.cli import main as grade_main  # imported on demand: the course is big
    except ModuleNotFoundError as exc:
        if exc.name not in ("minadv.course", "minadv.course.cli"):
            raise
        sys.stderr.write("minadv grade: error: the course package minadv.course is not "
                         "part of this installation\n")
        return 2
    return grade_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minadv`` console script; returns the exit status."""
    restart = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    threads, argv = _pop_threads(argv)
    if threads is not None:
        _apply_threads(threads, restart)
    if argv[:1] == ["grade"]:                 # everything after `grade` is the grader's
        return thread_policy(_grade)(argv[1:])
    if argv[:1] == ["course"]:                # the course's instructor tools
        from .course.release import main as course_main

        return course_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
