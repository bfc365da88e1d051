"""The reproductions behind `minadv reproduce`: each check holds on the built-in data."""

import pytest

from minadv import cli
from minadv.reproduce import EXPERIMENTS, format_experiment, run_experiment

SLOW = {"vat", "goodfellow", "madry", "sharpness-mlp"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(EXPERIMENTS)])
def test_experiment_checks_hold(name):
    exp = run_experiment(name, rng=0)
    assert exp.checks, "an experiment must state at least one check"
    failed = [text for text, ok in exp.checks if not ok]
    assert not failed, failed
    text = format_experiment(exp)
    assert exp.name in text and "[ok]" in text and "FAIL" not in text


def test_sharpness_table_numbers():
    exp = run_experiment("sharpness")
    lam = [row[2] for row in exp.rows]
    assert lam == pytest.approx([0.15774, 0.22944, 0.34474, 0.55072, 1.02062], abs=1e-4)


def test_unknown_experiment():
    with pytest.raises(ValueError, match="name: expected one of"):
        run_experiment("nope")
    assert cli.main(["reproduce", "nope"]) == 2


def test_cli_reproduce_runs(capsys):
    assert cli.main(["reproduce", "smoothness"]) == 0
    assert "summary: smoothness ok" in capsys.readouterr().out
