"""The reproductions' building blocks: registry, seeds, text, report writers and figures.

The full quick run (every experiment, REPORT.md, index.html, seeds) is in
``test_reproduce_run.py``."""

import numpy as np
import pytest

from minadv.reproduce import (
    EXPERIMENTS,
    Experiment,
    check_names,
    format_experiment,
    run_experiment,
    sub_seeds,
)
from minadv.reproduce.figures import save_figure
from minadv.reproduce.report import html_report, markdown_report, summary_table


def test_sharpness_table_numbers():
    exp = run_experiment("sharpness")
    lam = [row[2] for row in exp.rows]
    assert lam == pytest.approx([0.15774, 0.22944, 0.34474, 0.55072, 1.02062], abs=1e-4)
    assert exp.passed and exp.verdict == "reproduced"


@pytest.mark.parametrize("name", ["smoothness", "gradcheck"])
def test_fast_experiments_reproduce_for_two_seeds(name):
    for seed in (0, 1):
        exp = run_experiment(name, seed)
        assert exp.checks and exp.passed, [t for t, ok in exp.checks if not ok]


def test_every_experiment_is_registered_with_paper_and_data():
    assert len(EXPERIMENTS) == 14
    assert sum(name.endswith("-digits") for name in EXPERIMENTS) == 6
    for spec in EXPERIMENTS.values():
        assert spec.paper and spec.data and callable(spec.run)
        assert "Seeds:" in spec.run.__doc__ or "Not seeded" in spec.run.__doc__


def test_unknown_name_and_bad_seed():
    with pytest.raises(ValueError, match="name: expected one of .*got 'nope'"):
        run_experiment("nope")
    with pytest.raises(ValueError, match="got 'x'"):
        check_names(["smoothness", "x"])
    assert check_names([]) == list(EXPERIMENTS)
    with pytest.raises(ValueError, match="seed: expected an integer >= 0, got -1"):
        run_experiment("smoothness", -1)
    with pytest.raises(TypeError, match="seed: expected an integer"):
        run_experiment("smoothness", 1.5)


def test_sub_seeds_are_deterministic_and_distinct():
    a, b = sub_seeds(0, 4), sub_seeds(1, 4)
    assert a == sub_seeds(0, 4) and len(set(a)) == 4
    assert not set(a) & set(b)
    assert sub_seeds(0, 2) == a[:2]          # a prefix: quick runs use the first streams
    assert all(isinstance(s, int) and s >= 0 for s in a)


def _fake(name="fake<&>", passed=True, kind="curves"):
    data = ({"kind": "curves", "x": np.array([1e-2, 1e-1]), "curves": {"a|b": [1.0, 2.0]},
             "xlabel": "t", "logx": True} if kind == "curves" else
            {"kind": "bars", "labels": ["x", "y"], "groups": {"g1": [1.0, 2.0],
                                                                "g2": [0.5, 3.0]}})
    return Experiment(name, "claim <b>bold</b> & more", "Ref 2020, §1", ["col|1", "col2"],
                      [("row<1>", 0.5), ("r2", 1e-5)], [("check <ok>", passed)],
                      ["note with <tag> & | pipe"], data, paper="paper says 99.9% <x>",
                      summary="s | 1")


def test_format_experiment_full_and_brief():
    exp = _fake(passed=False)
    text = format_experiment(exp)
    assert "[FAIL] check <ok>" in text and "0.50000" in text and "1.000e-05" in text
    assert "verdict: not reproduced (1 of 1 checks failed)" in text
    brief = format_experiment(exp, brief=True)
    assert "col2" not in brief and "s | 1" in brief and len(brief.splitlines()) == 4


class _Spec:
    paper, data = "P & Q", "D|E"


def test_html_report_escapes_everything_and_links_the_figure():
    exp = _fake()
    page = html_report([exp], {exp.name: _Spec}, {exp.name: "fake<&>.png"}, {exp.name: 1.0},
                       seed=3, quick=True, timing="2.0 s")
    assert "<b>bold</b>" not in page and "claim &lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert "<script" not in page and "note with &lt;tag&gt; &amp; | pipe" in page
    assert 'src="fake&lt;&amp;&gt;.png"' in page and "P &amp; Q" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "Seed 3, quick run" in page


def test_markdown_report_escapes_pipes_in_tables():
    exp = _fake()
    text = markdown_report([exp], {exp.name: _Spec}, {exp.name: "f.png"}, {exp.name: 1.0},
                           seed=0, quick=False, timing="2.0 s")
    assert "| col\\|1 | col2 |" in text and "| row<1> | 0.50000 |" in text
    assert "![fake<&>](f.png)" in text
    table = summary_table([exp], {exp.name: _Spec})
    assert table.splitlines()[2] == ("| `fake<&>` | P & Q | D\\|E | reproduced | s \\| 1 |")


@pytest.mark.parametrize("kind", ["curves", "bars"])
def test_figures_are_png_and_byte_stable(tmp_path, kind):
    exp = _fake("fig", kind=kind)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    name = save_figure(exp, str(tmp_path / "a"))
    save_figure(exp, str(tmp_path / "b"))
    first = (tmp_path / "a" / name).read_bytes()
    assert name == "fig.png" and first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == (tmp_path / "b" / name).read_bytes()
    assert b"Software" not in first
