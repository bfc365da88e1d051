"""The reproductions' building blocks: statistics (intervals, checks, verdicts, k), seed
streams, registry and specifications, text, report writers, figures, and the parallel runner.

The full quick run (every experiment, REPORT.md, index.html, verdict agreement across seeds)
is in ``test_reproduce_run.py``."""

import importlib
import math

import numpy as np
import pytest

from minadv.reproduce import (
    EXPERIMENTS,
    Check,
    Experiment,
    check_names,
    format_experiment,
    repeat_streams,
    run_experiment,
)
from minadv.reproduce.base import Protocol, make_check, mean_ci
from minadv.reproduce.figures import save_figure
from minadv.reproduce.report import STYLE, html_report, markdown_report, summary_table
from minadv.reproduce.runner import run_many
from minadv.reproduce.stats import combine, repeats_needed, t_interval


# ----------------------------------------------------------------------------- statistics
def test_t_interval_by_hand():
    # mean 2, s = 1, n = 3: half-width t_{0.975, 2} / sqrt(3) = 4.302653 / 1.732051
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    half = 4.302652729749464 / math.sqrt(3)
    assert mean == 2.0 and low == pytest.approx(2 - half, rel=1e-12)
    assert high == pytest.approx(2 + half, rel=1e-12)
    assert t_interval([5.0]) == (5.0, -math.inf, math.inf)
    assert t_interval([0.5, 0.5]) == (0.5, 0.5, 0.5)


def test_repeats_needed_follows_its_formula():
    # effect = 2 sd: k = 4 gives (3.182 + 1.645) / 2 = 2.41 > 2, k = 5 gives
    # (2.776 + 1.645) / sqrt(5) = 1.98 <= 2
    assert repeats_needed(1.0, 2.0) == 5
    assert repeats_needed(1.0, 20.0) == 2 and repeats_needed(0.0, 1.0) == 2
    assert repeats_needed(1.0, 0.01, k_max=20) == 21
    assert repeats_needed(1.0, 1.0) > repeats_needed(1.0, 2.0)


def _check(values, op=">", threshold=0.0, **kw):
    return Check("claim", "stat", values, op, threshold, "derived", **kw)


@pytest.mark.parametrize("values, op, verdict", [
    ((0.5, 0.6, 0.55), ">", "reproduced"),
    ((-0.5, -0.6, -0.55), ">", "not reproduced"),
    ((-0.5, 0.6, 0.05), ">", "inconclusive"),
    ((0.5,), ">", "inconclusive"),                        # one repeat: no interval
    ((-0.5, -0.6, -0.55), "<=", "reproduced"),
    ((0.5, 0.6, 0.55), "<", "not reproduced"),
    ((0.5, np.nan, 0.55), ">", "inconclusive"),
])
def test_check_verdict_from_the_interval(values, op, verdict):
    assert _check(values, op).verdict == verdict


def test_exact_check_uses_the_worst_repeat_and_na_keeps_numbers():
    c = _check((0.5, 0.2, 0.9), ">=", 0.3, exact=True)
    assert c.mean == 0.2 and c.verdict == "not reproduced"
    assert _check((0.5, 0.4), ">=", 0.3, exact=True).verdict == "reproduced"
    na = _check((0.5, 0.6), na="the data cannot show it")
    assert na.verdict == "not applicable here" and "0.550" in na.line()
    assert "not applicable here: the data cannot show it" in na.line()


def test_check_line_is_a_measurement_not_a_false_statement():
    c = _check((0.86, 0.87, 0.88), ">=", 0.9)
    assert c.verdict == "not reproduced"
    assert c.line() == ("claim [stat]: measured 0.870 (95 % CI 0.845–0.895, n = 3); "
                        "the claim needs ≥ 0.900")


def test_check_without_derivation_or_with_a_bad_operator_raises():
    with pytest.raises(ValueError, match="derivation: expected the threshold's derivation"):
        Check("claim", "stat", (1.0,), ">", 0.0, "  ")
    with pytest.raises(ValueError, match="op: expected one of"):
        Check("claim", "stat", (1.0,), "=>", 0.0, "why")


def test_combine():
    ok, bad, open_, na = (_check((1.0, 1.1)), _check((-1.0, -1.1)), _check((-1.0, 1.0)),
                          _check((1.0, 1.1), na="reason"))
    assert combine([ok, ok]) == "reproduced" and combine([ok, na]) == "reproduced"
    assert combine([ok, open_]) == "inconclusive" and combine([open_, bad]) == "not reproduced"
    assert combine([na]) == "not applicable here"


def test_mean_ci_cells():
    assert mean_ci([1.0, 2.0, 3.0], "{:.2f}") == ("2.00", "−0.48–4.48")
    assert mean_ci([1.0]) == ("1.000", "—")


# ----------------------------------------------------------------------------- seed streams
def test_repeat_streams_are_independent_deterministic_and_prefixes():
    a, b = repeat_streams(0, 4), repeat_streams(1, 4)
    assert a == repeat_streams(0, 4) and repeat_streams(0, 2) == a[:2]
    seeds = [s for st in a for s in st[:5]]
    assert len(set(seeds)) == len(seeds)                  # no stream shared within a run
    assert not set(seeds) & {s for st in b for s in st[:5]}
    assert all(isinstance(s, int) and 0 <= s < 2 ** 63 for s in seeds)
    assert [st.repeat for st in a] == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- registry
def test_every_experiment_is_registered_with_paper_data_and_spec():
    assert len(EXPERIMENTS) == 15
    assert sum(name.endswith("-digits") for name in EXPERIMENTS) == 7
    for name, p in EXPERIMENTS.items():
        assert isinstance(p, Protocol) and p.name == name
        assert p.paper and p.data and p.statement and callable(p.repeat) and callable(p.judge)
        assert 1 <= p.k_quick <= p.k and p.k_derivation and "PILOT" not in p.k_derivation
        assert p.seeded or p.k == 1
        assert "One repeat" in p.repeat.__doc__ or "Not seeded" in p.repeat.__doc__ \
            or "stream" in p.repeat.__doc__


def test_every_check_has_a_threshold_and_a_derivation_stated_in_its_module():
    for p in EXPERIMENTS.values():
        module = importlib.import_module(p.repeat.__module__)
        assert p.checks, p.name
        for key, (op, threshold, why) in p.checks.items():
            assert op in (">", ">=", "<", "<=") and np.isfinite(threshold), (p.name, key)
            assert len(why) > 40, (p.name, key)
            assert f"Check ``{key}``: statistic {op} {threshold:g}. {why}" in module.__doc__


def test_k_is_enough_for_the_pilot_effect():
    """k decides a true claim at the pilot's effect with >= 95 % probability."""
    for p in EXPERIMENTS.values():
        if p.pilot:
            sd, effect, power = p.pilot
            assert repeats_needed(sd, effect, power=power) <= p.k, p.name
            assert f"{sd:g}" in p.k_derivation and f"{effect:g}" in p.k_derivation, p.name


def test_make_check_takes_operator_and_threshold_from_the_spec():
    p = EXPERIMENTS["goodfellow-digits"]
    c = make_check(p, "fooled", "claim", "stat", [0.95, 0.97])
    assert (c.op, c.threshold, c.derivation) == p.checks["fooled"]


def test_sharpness_table_numbers():
    exp = run_experiment("sharpness")
    lam = [float(row[2]) for row in exp.rows]
    assert lam == pytest.approx([0.15774, 0.22944, 0.34474, 0.55072, 1.02062], abs=1e-4)
    assert exp.verdict == "reproduced" and exp.repeats == 1


@pytest.mark.parametrize("name", ["smoothness", "gradcheck"])
def test_fast_experiments_reproduce_for_two_seeds(name):
    for seed in (0, 1):
        exp = run_experiment(name, seed)
        assert exp.checks and exp.verdict == "reproduced", [c.line() for c in exp.checks]


def test_repeats_override_and_quick():
    assert run_experiment("smoothness", 0, repeats=2).repeats == 2
    assert run_experiment("smoothness", 0, quick=True).repeats == EXPERIMENTS["smoothness"].k_quick
    assert run_experiment("sharpness", 0, repeats=4).repeats == 1        # not seeded


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
    with pytest.raises(ValueError, match="repeats: expected an integer >= 1, got 0"):
        run_experiment("smoothness", 0, repeats=0)


def _numbers(exp):
    return exp.rows, [(c.values, c.verdict) for c in exp.checks], exp.summary


def test_parallel_repeats_give_the_serial_numbers():
    names = ["smoothness", "goodfellow-digits", "kanai-digits"]
    serial = [_numbers(e) for e, _ in run_many(names, 3, repeats=3, workers=1)]
    parallel = [_numbers(e) for e, _ in run_many(names, 3, repeats=3, workers=2)]
    assert serial == parallel


# ----------------------------------------------------------------------------- text and report
def _fake(name="fake<&>", verdict_values=(1.0, 1.2, 1.1), kind="curves"):
    data = ({"kind": "curves", "x": np.array([1e-2, 1e-1]), "curves": {"a|b": [1.0, 2.0]},
             "bands": {"a|b": ([0.5, 1.5], [1.5, 2.5])}, "xlabel": "t", "logx": True,
             "threshold": (1.2, "claim")} if kind == "curves" else
            {"kind": "bars", "labels": ["x", "y"], "groups": {"g1": [1.0, 2.0],
                                                                "g2": [0.5, 3.0]},
             "errors": {"g1": ([0.9, 1.8], [1.1, 2.2])}})
    check = Check("check <ok>", "stat", verdict_values, ">", 0.0, "because <why>")
    return Experiment(name, "claim <b>bold</b> & more", "Ref 2020, §1",
                      ["col|1", "col2", "col2 95 % CI"], [("row<1>", 0.5, "0.4–0.6"),
                                                          ("r2", 1e-5, "—")],
                      [check], ["note with <tag> & | pipe"], data, paper="paper says <x>",
                      summary="s | 1", repeats=2)


def test_format_experiment_full_and_brief():
    exp = _fake(verdict_values=(-1.0, -1.2, -1.1))
    text = format_experiment(exp)
    assert "[FAIL] check <ok> [stat]: measured −1.100" in text and "0.500" in text
    assert "1.00e−05" in text and "verdict: not reproduced (2 repeats)" in text
    brief = format_experiment(exp, brief=True)
    assert "col2" not in brief and "s | 1" in brief and len(brief.splitlines()) == 4


class _Spec:
    paper, data = "P & Q", "D|E"


def test_html_report_escapes_links_and_wraps_tables():
    exp = _fake()
    page = html_report([exp], {exp.name: _Spec}, {exp.name: "fake<&>.png"}, {exp.name: 1.0},
                       seed=3, quick=True, timing="2.0 s")
    assert "<b>bold</b>" not in page and "claim &lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert "<script" not in page and "note with &lt;tag&gt; &amp; | pipe" in page
    assert 'src="fake&lt;&amp;&gt;.png"' in page and "P &amp; Q" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "Seed 3, quick run" in page
    assert '<a class="badge v-reproduced" href="#fake&lt;&amp;&gt;">reproduced</a>' in page
    assert page.count('<div class="scroll">') == page.count("<table>") == 2
    assert ".scroll{overflow-x:auto" in STYLE and "@media print" in STYLE
    assert "Threshold: because &lt;why&gt;" in page


def test_markdown_report_escapes_pipes_and_links_verdicts():
    exp = _fake()
    text = markdown_report([exp], {exp.name: _Spec}, {exp.name: "f.png"}, {exp.name: 1.0},
                           seed=0, quick=False, timing="2.0 s")
    assert "| col\\|1 | col2 | col2 95 % CI |" in text and "| row<1> | 0.500 | 0.4–0.6 |" in text
    assert "![fake<&>](f.png)" in text and '<a id="fake<&>"></a>' in text
    table = summary_table([exp], {exp.name: _Spec})
    assert table.splitlines()[2] == "| `fake<&>` | P & Q | D\\|E | 2 | reproduced | s \\| 1 |"
    assert "[reproduced](#fake<&>)" in summary_table([exp], {exp.name: _Spec}, links=True)


@pytest.mark.parametrize("kind", ["curves", "bars"])
def test_figures_are_png_byte_stable_and_readable(tmp_path, kind):
    exp = _fake("fig", kind=kind)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    name = save_figure(exp, str(tmp_path / "a"))
    save_figure(exp, str(tmp_path / "b"))
    first = (tmp_path / "a" / name).read_bytes()
    assert name == "fig.png" and first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == (tmp_path / "b" / name).read_bytes()
    assert b"Software" not in first


def test_figure_text_is_at_least_10_px():
    from minadv.reproduce.figures import experiment_figure

    fig = experiment_figure(_fake())
    ax = fig.axes[0]
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(),
             *ax.get_legend().get_texts()]
    for t in texts:
        assert t.get_fontsize() * fig.dpi / 72 >= 10, t.get_text()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "claim" in labels                                 # the threshold is drawn


# ----------------------------------------------------------------------------- certified-digits
def _certified_run(gap=0.08, reach=-0.1, violations=0):
    """One repeat's measurements in the layout of ``certified_repeat`` (synthetic numbers)."""
    from minadv.reproduce.experiments import gowal

    share = {"ERM": dict(PGD=0.32, exact=0.28, LP=0.28 - gap, linear=0.28 - gap, IBP=0.0),
             "PGD-trained": dict(PGD=0.72, exact=0.72, LP=0.68, linear=0.68, IBP=0.0),
             "IBP-trained": dict(PGD=0.72, exact=0.72, LP=0.72, linear=0.72, IBP=0.68)}
    curves = {s: np.linspace(0.95 - s / 2, 0.0, gowal.RADII.size) for s in gowal.SIGMAS}
    curves[0.5][gowal.RADII == 0.5] = curves[0.25][gowal.RADII == 0.5] + reach
    return {"share": share, "misses": dict.fromkeys(gowal.NETS, 1),
            "milp": dict.fromkeys(gowal.NETS, (2, 0)), "violations": violations,
            "clean": {**dict.fromkeys(gowal.NETS, 0.95),
                      **{f"σ = {s}": 0.95 for s in gowal.SIGMAS}}, "curves": curves}


def test_certified_digits_judge_on_synthetic_measurements():
    from minadv.reproduce.experiments.gowal import certified_judge

    runs = [_certified_run(gap) for gap in (0.06, 0.08, 0.10)]
    exp = certified_judge(runs)
    verdicts = {c.claim.split(":")[0]: c.verdict for c in exp.checks}
    assert [c.verdict for c in exp.checks] == ["reproduced"] * 5 + ["not reproduced"], verdicts
    assert exp.checks[3].mean == pytest.approx(0.08)          # exact − LP of the ERM net
    assert exp.checks[5].mean == pytest.approx(-0.1)          # σ = 0.5 − σ = 0.25 at r = 0.5
    assert exp.verdict == "not reproduced" and exp.repeats == 3
    assert "95 % CI" in exp.header and exp.data["kind"] == "bars"
    assert len(exp.rows) == 3 * 7 + 3 * 5
    bad = certified_judge(runs[:2] + [_certified_run(violations=1)])
    assert bad.checks[0].verdict == "not reproduced" and bad.checks[0].mean == 1


def test_certified_digits_counts_each_broken_inclusion():
    from minadv.reproduce.experiments.gowal import violations

    ok = {"PGD": np.array([1, 1, 0, 0], bool), "LP": np.array([1, 0, 0, 0], bool),
          "linear": np.array([1, 0, 0, 0], bool), "IBP": np.array([0, 0, 0, 0], bool)}
    assert violations(ok) == 0
    assert violations({**ok, "IBP": np.array([0, 1, 0, 0], bool)}) == 1   # IBP ⊄ LP
    assert violations({**ok, "linear": np.array([1, 1, 1, 0], bool)}) == 2
    assert violations({**ok, "LP": np.array([1, 0, 1, 0], bool),          # LP ⊄ PGD-robust
                       "linear": np.array([1, 0, 1, 0], bool)}) == 1


def test_certified_curve_counts_correct_and_certified_points():
    from minadv.certify import SmoothedCertificate
    from minadv.reproduce.experiments.gowal import RADII, certified_curve

    cert = SmoothedCertificate(prediction=np.array([0, 1, -1, 2]),
                               radius=np.array([0.3, 0.0, 0.0, 1.0]), p_lower=np.zeros(4),
                               counts=np.zeros(4))
    curve = certified_curve(cert, np.array([0, 1, 2, 1]))   # correct: rows 0 and 1
    assert curve[0] == 0.5                                  # radius 0: correct, not abstaining
    assert curve[RADII == 0.25] == 0.25 and curve[RADII == 0.375] == 0.0
