"""The statistics of a reproduction: seed streams per repeat, t-intervals, checks, verdicts.

A claim of a paper becomes a *check*: a statistic measured once per independent repeat, an
inequality ``statistic OP threshold`` and the derivation of the threshold, written down before
the run.  The check's verdict comes from a two-sided 95 % Student-t confidence interval of the
statistic's mean over the k repeats (docs/reproduce.md §2):

* ``"reproduced"``: the whole interval lies on the claim's side of the threshold;
* ``"not reproduced"``: the whole interval lies on the other side (the CI excludes the claim);
* ``"inconclusive"``: the interval contains the threshold (or k = 1: no interval);
* ``"not applicable here"``: the data or model of this reproduction cannot show the claim (the
  check carries the reason, and its numbers are still reported).

An *exact* check measures something without sampling error given the repeat (a table matched
to its printed digits, a gradient check): it is judged on its worst value over the repeats, and
its verdict is reproduced / not reproduced.

An experiment's verdict combines its checks: "not reproduced" if any check is; otherwise
"inconclusive" if any check is; otherwise "reproduced" if at least one check is; otherwise (every
check not applicable) "not applicable here".

Ordering claims ("A beats B") are tested on *paired* differences: within one repeat A and B see
the same data split, the same initial weights and the same minibatch order, so the difference
cancels what the two share (docs/reproduce.md §3).

Seeds: :func:`repeat_streams` spawns k children of ``numpy.random.SeedSequence(seed)``, one per
repeat, and five grandchildren per repeat — data, initialisation, training order, attacks, and
probes (random directions, labeled draws, start vectors) — so that no two uses share a stream
and the first k' repeats of a run with k > k' repeats are the k' repeats of the shorter run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

__all__ = ["Streams", "repeat_streams", "t_interval", "repeats_needed", "Check", "combine",
           "VERDICTS", "LEVEL"]

#: confidence level of every interval
LEVEL = 0.95
#: the four verdicts, in the order of the summary's legend
VERDICTS = ("reproduced", "inconclusive", "not reproduced", "not applicable here")


class Streams(NamedTuple):
    """Integer seeds of the independent streams of one repeat (see :func:`repeat_streams`)."""

    data: int
    init: int
    order: int
    attack: int
    probe: int
    repeat: int = 0


def repeat_streams(seed: int, k: int) -> list[Streams]:
    """The streams of ``k`` independent repeats derived from ``seed``.

    ``SeedSequence(seed).spawn(k)`` gives one child per repeat; each child's ``spawn(5)`` gives
    the data, initialisation, order, attack and probe streams, each turned into a 63-bit integer
    seed (``generate_state(2, uint32)``) so it can be passed to any ``rng=`` argument and reused
    (two methods of one repeat trained from the same ``init`` and ``order`` are paired).
    """
    out = []
    for r, child in enumerate(np.random.SeedSequence(seed).spawn(k)):
        words = [s.generate_state(2) for s in child.spawn(5)]
        ints = [int(w[0]) << 31 | int(w[1]) >> 1 for w in words]
        out.append(Streams(*ints, repeat=r))
    return out


def t_interval(values: Any, level: float = LEVEL) -> tuple[float, float, float]:
    """``(mean, low, high)``: the two-sided Student-t interval of the mean of ``values``.

    Notes
    -----
    ``mean ± t_{(1+level)/2, n-1} · s / √n`` with ``s`` the sample standard deviation (ddof 1).
    With ``n = 1`` there is no interval: ``(x, -inf, inf)``.  Identical values give a
    zero-width interval.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    mean = float(np.mean(x))
    if x.size < 2:
        return mean, -math.inf, math.inf
    half = float(student_t.ppf((1 + level) / 2, x.size - 1) * np.std(x, ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def repeats_needed(sd: float, effect: float, *, level: float = LEVEL, power: float = 0.95,
                   k_max: int = 100) -> int:
    """The smallest k >= 2 for which a true claim is decided with probability >= ``power``.

    Notes
    -----
    A claim ``mean > threshold`` that is true by ``effect = mean - threshold`` is "reproduced"
    when the interval's lower end clears the threshold.  With the mean over k repeats
    ``~ N(mean, sd²/k)`` and ``s ≈ sd`` this holds with probability ``power`` when
    ``effect >= (t_{(1+level)/2, k-1} + z_power) · sd / √k``.  Returns ``k_max + 1`` when no
    k <= k_max suffices.
    """
    if sd <= 0:
        return 2
    z = float(norm.ppf(power))
    for k in range(2, k_max + 1):
        if effect >= (float(student_t.ppf((1 + level) / 2, k - 1)) + z) * sd / math.sqrt(k):
            return k
    return k_max + 1


_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
_SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@dataclass
class Check:
    """One claim turned into an inequality on a statistic measured once per repeat.

    Attributes
    ----------
    claim : str
        The paper's claim in words (one line).
    statistic : str
        What is measured per repeat (e.g. "paired difference VAT − MLE of test error").
    values : tuple of float
        One value per repeat.
    op, threshold : str, float
        The claim is ``statistic op threshold`` (``op`` one of ``>``, ``>=``, ``<``, ``<=``).
    derivation : str
        Why this threshold (written before the run).
    exact : bool
        No sampling error given the repeat: judged on the worst value over the repeats.
    na : str
        Non-empty: the check is "not applicable here", for this reason.
    fmt : str
        Format of the statistic's numbers (``"{:.3f}"``: one format per column of the report).
    """

    claim: str
    statistic: str
    values: tuple
    op: str
    threshold: float
    derivation: str
    exact: bool = False
    na: str = ""
    fmt: str = "{:.3f}"
    mean: float = field(init=False)
    low: float = field(init=False)
    high: float = field(init=False)

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"op: expected one of {', '.join(_OPS)}, got {self.op!r}.")
        if not self.derivation.strip():
            raise ValueError(f"derivation: expected the threshold's derivation, got an empty "
                             f"string for {self.claim!r}.")
        self.values = tuple(float(v) for v in self.values)
        if self.exact:
            worst = (min if self.op in (">", ">=") else max)(self.values)
            self.mean, self.low, self.high = worst, worst, worst
        else:
            self.mean, self.low, self.high = t_interval(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def verdict(self) -> str:
        if self.na:
            return "not applicable here"
        holds = _OPS[self.op]
        if not all(np.isfinite(self.values)):
            return "inconclusive"
        if self.exact:
            return "reproduced" if holds(self.mean, self.threshold) else "not reproduced"
        # the interval on the claim's side: the side of the threshold where the claim holds
        if holds(self.low, self.threshold) and holds(self.high, self.threshold):
            return "reproduced"
        if not holds(self.low, self.threshold) and not holds(self.high, self.threshold):
            return "not reproduced"
        return "inconclusive"

    @property
    def ok(self) -> bool:
        return self.verdict == "reproduced"

    def number(self, value: float) -> str:
        """``value`` in this check's format (``−`` for a minus sign)."""
        if not np.isfinite(value):
            return "∞" if value > 0 else "−∞" if value < 0 else "nan"
        return self.fmt.format(value).replace("-", "−")

    @property
    def measured(self) -> str:
        """``"measured 0.872 (95 % CI 0.850–0.890, n = 5)"`` (exact: the worst repeat)."""
        if self.exact:
            what = "worst of" if self.n > 1 else "exact,"
            return f"measured {self.number(self.mean)} ({what} {self.n} repeat" \
                   f"{'s' if self.n > 1 else ''})"
        if self.n < 2:
            return f"measured {self.number(self.mean)} (one repeat: no interval)"
        return (f"measured {self.number(self.mean)} (95 % CI {self.number(self.low)}–"
                f"{self.number(self.high)}, n = {self.n})")

    @property
    def needs(self) -> str:
        """``"the claim needs ≥ 0.900"``."""
        return f"the claim needs {_SYMBOL[self.op]} {self.number(self.threshold)}"

    def line(self) -> str:
        """One sentence: claim, statistic, measurement, what the claim needs, and the verdict's
        reason (``"measured 0.872 (95 % CI 0.850–0.890, n = 5); the claim needs ≥ 0.900"``)."""
        text = f"{self.claim} [{self.statistic}]: {self.measured}; {self.needs}"
        if self.na:
            text += f" — not applicable here: {self.na}"
        return text


def combine(checks: list[Check]) -> str:
    """An experiment's verdict from its checks (see the module docstring)."""
    verdicts = [c.verdict for c in checks]
    if "not reproduced" in verdicts:
        return "not reproduced"
    if "inconclusive" in verdicts:
        return "inconclusive"
    if "reproduced" in verdicts:
        return "reproduced"
    return "not applicable here"
