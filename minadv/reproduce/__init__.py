"""Reproductions of published results on built-in data (the ``minadv reproduce`` job).

Each experiment is a function ``(seed, quick) -> Experiment`` that runs a protocol, measures a
table, and states pass/fail *checks* (a claim of the paper turned into an inequality, or a
reference table matched to a tolerance).  A check that fails is reported as "not reproduced",
with the numbers: that is a result, not something to tune away.

Modules: :mod:`.base` (the record, seed streams, text), :mod:`.synthetic` (seeded synthetic
problems), :mod:`.digits` (the papers on the offline UCI handwritten digits), :mod:`.figures`
(one PNG per experiment) and :mod:`.report` (``REPORT.md`` and ``index.html``).

Experiments (``minadv list``)
-----------------------------
See :data:`EXPERIMENTS`: name -> :class:`Spec` (function, paper, data, seeded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .base import Experiment, format_experiment, sub_seeds, summary_line
from .digits import (
    goodfellow_digits,
    kanai_digits,
    madry_digits,
    shaham_digits,
    vat_digits,
    yamada_digits,
)
from .synthetic import (
    goodfellow_experiment,
    gradcheck_experiment,
    madry_experiment,
    shaham_experiment,
    sharpness_experiment,
    sharpness_mlp_experiment,
    smoothness_experiment,
    vat_experiment,
)

__all__ = ["Experiment", "Spec", "EXPERIMENTS", "run_experiment", "format_experiment",
           "sub_seeds", "summary_line", "check_names"]


class Spec(NamedTuple):
    """One registered experiment: its function, paper, data, and whether ``seed`` matters."""

    run: Callable[[int, bool], Experiment]
    paper: str
    data: str
    seeded: bool = True


DIGITS = "UCI digits 8x8 (offline)"
EXPERIMENTS: dict[str, Spec] = {
    "gradcheck": Spec(gradcheck_experiment, "Pearlmutter 1994", "random small problems"),
    "sharpness": Spec(sharpness_experiment, "Yamada et al. 2021 (2102.02950)",
                      "docs/theory.md §2.5 problem (fixed)", seeded=False),
    "sharpness-mlp": Spec(sharpness_mlp_experiment, "Yamada et al. 2021 (2102.02950)",
                          "2-D moons"),
    "smoothness": Spec(smoothness_experiment, "Kanai et al. 2021 (2103.01400)",
                       "docs/theory.md §2.5 problem"),
    "goodfellow": Spec(goodfellow_experiment, "Goodfellow et al. 2015 (1412.6572)",
                       "Gaussian classes, d = 10..1000"),
    "shaham": Spec(shaham_experiment, "Shaham et al. 2015 (1511.05432)",
                   "3 Gaussian classes in R^20"),
    "madry": Spec(madry_experiment, "Madry et al. 2018 (1706.06083)", "2-D moons"),
    "vat": Spec(vat_experiment, "Miyato et al. 2016 (1507.00677)",
                "100-D moons / circles, 16 labels"),
    "goodfellow-digits": Spec(goodfellow_digits, "Goodfellow et al. 2015 (1412.6572)",
                              DIGITS + ", 3 vs 7"),
    "shaham-digits": Spec(shaham_digits, "Shaham et al. 2015 (1511.05432)", DIGITS),
    "madry-digits": Spec(madry_digits, "Madry et al. 2018 (1706.06083)", DIGITS),
    "vat-digits": Spec(vat_digits, "Miyato et al. 2016 (1507.00677)",
                       DIGITS + ", 10 labels per class"),
    "yamada-digits": Spec(yamada_digits, "Yamada et al. 2021 (2102.02950)",
                          DIGITS + ", digit pairs"),
    "kanai-digits": Spec(kanai_digits, "Kanai et al. 2021 (2103.01400)", DIGITS),
}


def check_names(names) -> list[str]:
    """The experiment names to run (all when ``names`` is empty), validated.

    Raises
    ------
    ValueError
        Naming the first unknown name and the known ones.
    """
    names = list(names) or list(EXPERIMENTS)
    for name in names:
        if name not in EXPERIMENTS:
            raise ValueError(f"name: expected one of {', '.join(EXPERIMENTS)}, got {name!r}.")
    return names


def run_experiment(name: str, seed: int = 0, *, quick: bool = False) -> Experiment:
    """Run the experiment called ``name`` (a key of :data:`EXPERIMENTS`) with ``seed``.

    ``quick=True`` runs fewer repeats / epochs (the ``--quick`` report); the same
    ``(name, seed, quick)`` gives bitwise-identical numbers.
    """
    from .._validation import check_int

    check_names([name])
    seed = check_int(seed, "seed", low=0)
    return EXPERIMENTS[name].run(seed, bool(quick))
