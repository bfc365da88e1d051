"""The record of one reproduction (:class:`Experiment`), its protocol (:class:`Protocol`), table
cells with confidence intervals, and the text report.

A protocol is two functions: ``repeat(streams) -> dict`` measures one independent repeat from
the :class:`~minadv.reproduce.stats.Streams` of that repeat, and ``judge(measurements) ->
Experiment`` turns the k repeats' measurements into tables and checks.  The number of repeats
``k`` (and ``k_quick`` for ``--quick``) is part of the protocol; nothing else changes in quick
mode.  Every check's operator, threshold and derivation live in ``Protocol.checks``, written
before the run (docs/reproduce.md §4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .stats import Check, combine, t_interval

__all__ = ["Experiment", "Protocol", "make_check", "mean_ci", "ci_bounds", "format_cell",
           "format_experiment", "summary_line", "spec_text"]


class Protocol(NamedTuple):
    """One registered reproduction.

    Attributes
    ----------
    name, title : str
        Registry key and the claim tested (one sentence).
    paper : str
        Authors, year, arXiv id (the summary table's column).
    statement : str
        What the paper states, with its table / figure / section.
    data : str
        The data of this reproduction.
    repeat : callable ``(Streams) -> dict``
        One repeat's measurements.
    judge : callable ``(list of dict) -> Experiment``
        Tables and checks from all repeats.
    checks : dict
        ``key -> (op, threshold, derivation)`` of every check ``judge`` may make.
    k, k_quick : int
        Repeats of the default and of the ``--quick`` run.
    k_derivation : str
        Why k (measured spread and effect, :func:`~minadv.reproduce.stats.repeats_needed`).
    seeded : bool
        False when the experiment reproduces a fixed table and ignores ``--seed``.
    pilot : tuple
        ``(sd, effect, power)`` of the least decisive check in the pilot run that chose k
        (empty for exact checks): ``repeats_needed(sd, effect, power=power) <= k`` is tested.
    """

    name: str
    title: str
    paper: str
    statement: str
    data: str
    repeat: Callable
    judge: Callable
    checks: dict
    k: int
    k_quick: int
    k_derivation: str
    seeded: bool = True
    pilot: tuple = ()


def make_check(protocol: Protocol, key: str, claim: str, statistic: str, values, *,
               exact: bool = False, na: str = "", fmt: str = "{:.3f}") -> Check:
    """A :class:`Check` whose operator, threshold and derivation are ``protocol.checks[key]``."""
    op, threshold, derivation = protocol.checks[key]
    return Check(claim, statistic, tuple(values), op, threshold, derivation, exact=exact,
                 na=na, fmt=fmt)


def mean_ci(values, fmt: str = "{:.3f}") -> tuple[str, str]:
    """``(mean, "low–high")`` as text: the cells of a "mean" and a "95 % CI" column."""
    mean, low, high = t_interval(values)

    def num(v):
        return fmt.format(v).replace("-", "−")
    if not np.isfinite(low):
        return num(mean), "—"
    return num(mean), f"{num(low)}–{num(high)}"


def ci_bounds(values) -> tuple[float, float]:
    """``(low, high)`` of the 95 % t-interval of ``values`` (the value itself when there is
    one): the band or error bar of a figure."""
    mean, low, high = t_interval(values)
    return (mean, mean) if not np.isfinite(low) else (low, high)


@dataclass
class Experiment:
    """The outcome of one reproduction.

    Attributes
    ----------
    name, title : str
        Registry key, and the claim being tested (one sentence).
    reference : str
        The paper (authors, year, arXiv id, section) and ``docs/theory.md`` section.
    paper : str
        The paper's own number or statement that the experiment compares with.
    header : list of str
        Column names of ``rows``.
    rows : list of tuples
        The measured table (numbers or text; seeded experiments give a mean and a "95 % CI"
        column per measured quantity).
    checks : list of Check
        Claims tested on the measurements (:class:`~minadv.reproduce.stats.Check`).
    notes : list of str
        Protocol, deviations from the paper, and why a claim does not reproduce.
    data : dict
        Arrays for the figure (see :mod:`minadv.reproduce.figures`).
    summary : str
        One line with the headline numbers (the README table and the console).
    repeats : int
        Number of independent repeats measured.
    """

    name: str
    title: str
    reference: str
    header: list[str]
    rows: list[tuple]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    paper: str = ""
    summary: str = ""
    repeats: int = 1

    def __post_init__(self):
        # one minus sign in the report: a hyphen before a digit in a number is U+2212
        self.summary = re.sub(r"(?<=[\se(])-(?=\d)", "−", self.summary)

    @property
    def verdict(self) -> str:
        """The checks combined (:func:`minadv.reproduce.stats.combine`)."""
        return combine(self.checks)

    @property
    def passed(self) -> bool:
        """True when the verdict is "reproduced"."""
        return self.verdict == "reproduced"


def format_cell(value: Any) -> str:
    """A number with 3 decimals (scientific outside [1e-3, 1e4)); text as is."""
    if isinstance(value, (float, np.floating)):
        if value != 0 and np.isfinite(value) and (abs(value) < 1e-3 or abs(value) >= 1e4):
            return f"{value:.2e}".replace("-", "−")
        return f"{value:.3f}".replace("-", "−")
    return str(value)


_MARK = {"reproduced": "ok", "not reproduced": "FAIL", "inconclusive": "open",
         "not applicable here": "n/a"}


def format_experiment(exp: Experiment, *, brief: bool = False) -> str:
    """A plain-text report: title, reference, aligned table, checks, notes, verdict.

    ``brief=True`` replaces the table, checks and notes by the one-line summary.
    """
    lines = [f"== {exp.name}: {exp.title}", f"   {exp.reference}"]
    if brief:
        return "\n".join(lines + [f"   {exp.summary}", f"   verdict: {exp.verdict}"])
    cells = [exp.header] + [[format_cell(v) for v in row] for row in exp.rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(exp.header))]
    lines.append("")
    for i, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines += [f"   [{_MARK[c.verdict]}] {c.line()}" for c in exp.checks]
    lines += [f"   note: {note}" for note in exp.notes]
    lines.append(f"   verdict: {exp.verdict} ({exp.repeats} repeat"
                 f"{'s' if exp.repeats != 1 else ''})")
    return "\n".join(lines)


def summary_line(exp: Experiment) -> str:
    """``"name: verdict — summary"`` (the progress line's tail)."""
    return f"{exp.name}: {exp.verdict} — {exp.summary}"


def spec_text(protocols) -> str:
    """The protocols' specifications as docstring text (appended to each paper's module
    docstring, so the checks' thresholds and derivations are stated where the code is)."""
    out = ["", "Specification (the checks, written before the run)",
           "--------------------------------------------------"]
    for p in protocols:
        out += ["", f"``{p.name}`` — {p.title}", f"    Paper: {p.statement}",
                f"    Data: {p.data}", f"    Repeats: k = {p.k} (quick: {p.k_quick}). "
                f"{p.k_derivation}"]
        for key, (op, thr, why) in p.checks.items():
            out.append(f"    Check ``{key}``: statistic {op} {thr:g}. {why}")
    return "\n".join(out) + "\n"
