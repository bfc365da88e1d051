"""The ``minadv`` command.

``minadv reproduce [NAME ...] [--out DIR]``
    Run the reproductions of :mod:`minadv.reproduce` (all by default), print each table with
    its reference numbers and checks, optionally save figures.  Exits 1 if a check fails.

``minadv gradcheck``
    Finite-difference check of every model × activation × output × loss combination: the
    relative error of parameter gradients, input gradients and Hessian-vector products (and HVP
    symmetry).  Exits 1 if any error exceeds its threshold.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

__all__ = ["main"]


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


def _cmd_reproduce(args: argparse.Namespace) -> int:
    import time

    from .reproduce import EXPERIMENTS, format_experiment, run_experiment

    names = args.names or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        print(f"unknown experiment(s) {unknown}; choose from {sorted(EXPERIMENTS)}",
              file=sys.stderr)
        return 2
    summary = []
    for name in names:
        start = time.perf_counter()
        exp = run_experiment(name, rng=args.seed)
        print(format_experiment(exp))
        print(f"   ({time.perf_counter() - start:.1f} s)\n", flush=True)
        if args.out:
            from .plotting import save_experiment_figure

            path = save_experiment_figure(exp, args.out)
            if path:
                print(f"   figure: {path}\n")
        summary.append((name, exp.passed, sum(not ok for _, ok in exp.checks)))
    print("summary: " + ", ".join(f"{n} {'ok' if ok else f'{bad} check(s) FAILED'}"
                                  for n, ok, bad in summary))
    return 0 if all(ok for _, ok, _ in summary) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minadv", description="minadv: adversarial training with exact gradients.")
    parser.add_argument("--version", action="version", version=f"minadv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("gradcheck", help="finite-difference check of every model combination")
    check.add_argument("--seed", type=int, default=0, help="seed of the random problems")
    check.set_defaults(func=_cmd_gradcheck)
    rep = sub.add_parser("reproduce", help="reproduce the papers' results on built-in data")
    rep.add_argument("names", nargs="*", help="experiments to run (default: all)")
    rep.add_argument("--seed", type=int, default=None,
                     help="seed for experiments that draw (default: each one's documented seed)")
    rep.add_argument("--out", default=None, help="folder for figures (PNG); none by default")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minadv`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
