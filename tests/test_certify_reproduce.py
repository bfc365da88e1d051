"""The certified-robustness reproduction (not yet registered in ``minadv reproduce``): its
claims hold in quick mode and its record has the shape the other experiments have."""

import pytest

from minadv.reproduce.base import Experiment, format_experiment
from minadv.reproduce.certified import certified_digits


@pytest.mark.slow
def test_certified_digits_quick_reproduces():
    exp = certified_digits(seed=0, quick=True)
    assert isinstance(exp, Experiment) and exp.name == "certified-digits"
    assert len(exp.rows) == 3 and all(len(r) == len(exp.header) for r in exp.rows)
    assert exp.passed, [c for c in exp.checks if not c[1]]
    assert "verdict: reproduced" in format_experiment(exp)
