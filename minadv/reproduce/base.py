"""The record of one reproduction (:class:`Experiment`), seed streams, and the text table.

Every experiment is a function ``(seed, quick) -> Experiment``.  Its randomness comes from
``seed`` only, through :func:`sub_seeds` (independent child streams of
``numpy.random.SeedSequence(seed)``), so ``minadv reproduce --seed N`` changes every seeded
experiment and the same ``N`` reproduces it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Experiment", "sub_seeds", "format_cell", "format_experiment", "summary_line"]


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
        The measured table (numbers or strings).
    checks : list of (str, bool)
        Claims tested on the measurements, each with whether it held.
    notes : list of str
        Protocol, deviations from the paper, and why a claim does not reproduce.
    summary : str
        One line with the headline numbers (the README table and the console).
    data : dict
        Arrays for the figure (see :mod:`minadv.reproduce.figures`).
    """

    name: str
    title: str
    reference: str
    header: list[str]
    rows: list[tuple]
    checks: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    paper: str = ""
    summary: str = ""

    @property
    def passed(self) -> bool:
        """True when every check held ("reproduced")."""
        return all(ok for _, ok in self.checks)

    @property
    def verdict(self) -> str:
        """``"reproduced"`` or ``"not reproduced (k of n checks failed)"``."""
        bad = sum(not ok for _, ok in self.checks)
        return "reproduced" if not bad else f"not reproduced ({bad} of {len(self.checks)} " \
                                            "checks failed)"


def sub_seeds(seed: int, k: int) -> list[int]:
    """``k`` independent integer seeds derived from ``seed``.

    ``numpy.random.SeedSequence(seed).generate_state(k)`` (uint32 words of the seed's hashed
    entropy pool): a different ``seed`` changes all of them, the same one gives the same list.
    """
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(k)]


def format_cell(value: Any) -> str:
    """A number with 5 decimals (scientific outside [1e-3, 1e4)); other values as ``str``."""
    if isinstance(value, (float, np.floating)):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
            return f"{value:.3e}"
        return f"{value:.5f}"
    return str(value)


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
    lines += [f"   [{'ok' if ok else 'FAIL'}] {text}" for text, ok in exp.checks]
    lines += [f"   note: {note}" for note in exp.notes]
    lines.append(f"   verdict: {exp.verdict}")
    return "\n".join(lines)


def summary_line(exp: Experiment) -> str:
    """``"name: verdict — summary"`` (the progress line's tail)."""
    return f"{exp.name}: {exp.verdict} — {exp.summary}"
