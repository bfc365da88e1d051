"""The ``minadv`` command.

``minadv gradcheck``
    Finite-difference check of every model × activation × output × loss combination: the
    relative error of parameter gradients, input gradients and Hessian-vector products (and HVP
    symmetry).  Exits 1 if any error exceeds its threshold.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minadv", description="minadv: adversarial training with exact gradients.")
    parser.add_argument("--version", action="version", version=f"minadv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("gradcheck", help="finite-difference check of every model combination")
    check.add_argument("--seed", type=int, default=0, help="seed of the random problems")
    check.set_defaults(func=_cmd_gradcheck)
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
