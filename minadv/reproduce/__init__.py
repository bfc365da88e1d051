"""Reproductions of published results on built-in data (the ``minadv reproduce`` job).

Each reproduction is a :class:`Protocol`: one repeat measured from independent seed streams,
run k times, and judged by checks — a claim of the paper turned into an inequality on a
statistic, decided by its 95 % Student-t confidence interval over the repeats
(:mod:`.stats`; docs/reproduce.md).  Verdicts: reproduced, not reproduced, inconclusive, not
applicable here.  A claim that does not reproduce is a result, reported with its numbers.

Modules: :mod:`.stats` (streams, intervals, checks, verdicts), :mod:`.base` (the record and
protocol), :mod:`.experiments` (one module per paper), :mod:`.runner` (serial or parallel
repeats), :mod:`.figures` (one PNG per experiment) and :mod:`.report` (``REPORT.md`` and
``index.html``).

Experiments (``minadv list``)
-----------------------------
See :data:`EXPERIMENTS`: name -> :class:`Protocol` (paper, data, repeats, checks).
"""

from __future__ import annotations

from .base import Experiment, Protocol, format_experiment, summary_line
from .experiments import MODULES, ORDER
from .stats import Check, repeat_streams

__all__ = ["Experiment", "Protocol", "Check", "EXPERIMENTS", "run_experiment",
           "format_experiment", "repeat_streams", "summary_line", "check_names"]

_ALL = {p.name: p for module in MODULES for p in module.PROTOCOLS}
EXPERIMENTS: dict[str, Protocol] = {name: _ALL[name] for name in ORDER}


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


def run_experiment(name: str, seed: int = 0, *, quick: bool = False, repeats: int | None = None,
                   workers: int = 1) -> Experiment:
    """Run the experiment called ``name`` (a key of :data:`EXPERIMENTS`) with ``seed``.

    ``quick=True`` runs the same protocol with fewer repeats (``k_quick``); ``repeats``
    overrides the number of repeats of a seeded experiment; ``workers > 1`` runs the repeats in
    that many processes (the same numbers).  The same ``(name, seed, k)`` gives
    bitwise-identical numbers.
    """
    from .._validation import check_int
    from .runner import run_many

    check_names([name])
    seed = check_int(seed, "seed", low=0)
    if repeats is not None:
        repeats = check_int(repeats, "repeats", low=1)
    return next(run_many([name], seed, quick=bool(quick), repeats=repeats,
                         workers=workers))[0]
