"""The tutorials (``tutorials/``), each executed ONCE per test session and judged from that run.

``tests/tutorial_run.py`` runs every tutorial once per pytest process, as a notebook
(jupytext → nbformat → nbclient, quick mode) where jupytext, nbclient and ipykernel exist, else
as a script with ``MPLBACKEND=Agg``, with a recorder injected before its first cell that notes
what every figure shown carries (labels, titles, legends, colour maps and their colour bars,
quiver sizes, line colours).  The tutorial's own asserts (the numbers its prose quotes) run in
the same execution.  All the tests on those runs live in this one module, so a parallel test
run (pytest-xdist, ``--dist loadfile``) hands them to one worker and the tutorials still run once.

* **Runs**: every tutorial runs top to bottom in quick mode with every warning an error (an
  overflow is a bug) and writes no file; the tutorials never call ``matplotlib.use``, so in
  Jupyter their figures show inline.
* **Notebooks**: every tutorial executes as a notebook and shows at least one figure inline
  (skipped without the ``tutorials`` extra; the kernel gets ``MINADV_QUICK=1``, this checkout
  first on ``PYTHONPATH`` and no ``MPLBACKEND``, so ipykernel's inline backend draws the
  figures as ``image/png`` outputs, as in Jupyter).
* **Figures, 00-04 and 10**: every axes has an x label, a y label and a title; every axes with
  a colour-mapped fill or image has a colour bar; every legend sits where it was put on purpose
  (an explicit ``loc``, never matplotlib's "best", which moves it onto data as the data change).
* **Figures, 05-09**: labelled axes, a colour key for every colour map, legends where several
  series are drawn, colour-blind-safe colours, and the figure-specific fixes (one symmetric δ
  scale with a colour bar in 07, misread clean digits flagged, visible quiver arrows in 09,
  misclassified points flagged in 05).
"""

import importlib.util

import pytest
import tutorial_run

TUTORIALS = tutorial_run.TUTORIALS
NOTEBOOK_TOOLS = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("jupytext", "nbclient", "ipykernel")),
    reason="the notebook tools (the `tutorials` extra: jupytext, nbclient, ipykernel) are absent")


# ------------------------------------------------------------------------------------ runs
def test_tutorials_never_choose_a_backend():
    for path in TUTORIALS:
        assert "matplotlib.use(" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path):
    run = tutorial_run.run(path)
    assert run.error is None, run.error
    assert run.wrote == [], "a tutorial wrote files without being asked"


# ------------------------------------------------------------------------------- notebooks
def test_at_least_nine_tutorials():
    assert len(TUTORIALS) >= 9, [p.name for p in TUTORIALS]


@pytest.mark.slow
@NOTEBOOK_TOOLS
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_executes_as_notebook_with_inline_figures(path):
    run = tutorial_run.run(path)
    assert run.mode == "notebook"
    assert run.n_code_cells >= 3                                         # cells, not one blob
    assert run.error is None, run.error          # every cell (and every assert) ran
    assert run.png_outputs >= 1, f"{path.name}: no inline figure"
    assert run.wrote == [], "a tutorial wrote files without being asked"


# --------------------------------------------------------------------- figures, 00-04 and 10
TUTORIALS_A = [p for p in tutorial_run.TUTORIALS
             if p.name[:2] in ("00", "01", "02", "03", "04", "10")]


def _figures(path):
    run = tutorial_run.run(path)
    assert run.error is None, run.error
    return run.figures


def test_six_tutorials_with_generic_figure_rules():
    assert [p.name[:2] for p in TUTORIALS_A] == ["00", "01", "02", "03", "04", "10"]


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS_A, ids=[p.stem for p in TUTORIALS_A])
def test_every_axes_is_labelled_and_keyed(path):
    figures = _figures(path)
    assert figures, f"{path.name} draws no figure"
    problems = []
    for i, fig in enumerate(figures):
        axes = [ax for ax in fig["axes"] if not ax["is_colorbar"]]
        for j, ax in enumerate(axes):
            if not ax["visible"]:
                continue
            where = f"figure {i + 1}, axes {j + 1} ({ax['center_title'] or fig['suptitle']!r})"
            if not ax["own_xlabel"] or not ax["own_ylabel"]:
                problems.append(f"{where}: axis label missing ({ax['own_xlabel']!r}, "
                                f"{ax['own_ylabel']!r})")
            if not (ax["center_title"] or fig["suptitle"]):
                problems.append(f"{where}: no title")
            if ax["n_mapped"] and ax["n_mapped_with_bar"] == 0:
                problems.append(f"{where}: colour-mapped data without a colour bar")
            if ax["legend_loc"] == 0:
                problems.append(f"{where}: legend at loc='best' (may cover data)")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------- figures, 05-09
TUTORIALS_B = {p.name[:2]: p for p in tutorial_run.TUTORIALS
             if p.name[:2] in ("05", "06", "07", "08", "09")}

SAFE_CMAPS = {"gray_r", "gray", "PuOr", "PuOr_r", "viridis", "cividis", "RdBu", "RdBu_r"}
RED_GREEN = {"#d62728", "#2ca02c", "#ff0000", "#00ff00", "#008000"}   # tab10 and pure red/green


@pytest.fixture(scope="module")
def figures():
    """The recorded figures of a tutorial (its one run of the session)."""
    def get(key):
        run = tutorial_run.run(TUTORIALS_B[key])
        assert run.error is None, run.error
        assert run.wrote == [], "the tutorial wrote files"
        return run.figures
    return get


def _problems(fig):
    """Readability problems of one recorded figure (generic rules)."""
    problems = []
    keyed = {(m["cmap"], m["vmin"], m["vmax"]) for ax in fig["axes"] for m in ax["mappables"]
             if m["colorbar"]}
    fig_legend = bool(fig["legend_texts"])
    for i, ax in enumerate(fig["axes"]):
        where = f"axes {i} ({ax['title'] or ax['ylabel'] or 'untitled'})"
        if ax["colorbar"] or not ax["has_data"]:
            continue
        if ax["ticks"] and not (ax["xlabel"] and ax["ylabel"]):
            problems.append(f"{where}: missing axis label")
        if not ax["ticks"] and not (ax["title"] or ax["ylabel"]):
            problems.append(f"{where}: image panel without a title")
        for m in ax["mappables"]:
            if m["n_colours"] == 1:             # single-colour lines (e.g. the 0.5 contour)
                continue
            if m["cmap"] not in SAFE_CMAPS:
                problems.append(f"{where}: colour map {m['cmap']} is not in {sorted(SAFE_CMAPS)}")
            if not (m["colorbar"] or m["labelled"] or ax["legend"] or fig_legend
                    or (m["cmap"], m["vmin"], m["vmax"]) in keyed):
                problems.append(f"{where}: {m['kind']} with colour map {m['cmap']} has no key")
        if len(ax["labelled_series"]) >= 2 and not (ax["legend"] or fig_legend):
            problems.append(f"{where}: {len(ax['labelled_series'])} labelled series, no legend")
        bad = RED_GREEN & set(ax["line_colours"])
        if bad:
            problems.append(f"{where}: red/green line colours {sorted(bad)}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(TUTORIALS_B))
def test_every_figure_is_labelled_and_keyed(figures, key):
    recorded = figures(key)
    assert recorded, f"tutorial {key} showed no figure"
    problems = [f"figure {j}: {p}" for j, fig in enumerate(recorded) for p in _problems(fig)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_05_boundaries_flag_misclassified_points(figures):
    boundary = [f for f in figures("05") if any("misclassified" in t for t in f["legend_texts"])]
    assert boundary, "no decision-boundary figure with misclassified points in its legend"
    axes = [ax for ax in boundary[0]["axes"] if not ax["colorbar"]]
    assert len(axes) == 2 and all("test error" in ax["title"] for ax in axes)
    assert any(m["colorbar"] for ax in axes for m in ax["mappables"])


def _delta_maps(fig):
    return [m for ax in fig["axes"] for m in ax["mappables"]
            if m["kind"] == "AxesImage" and m["cmap"] == "PuOr_r"]


@pytest.mark.slow
def test_07_delta_panels_share_one_symmetric_scale_with_a_colour_bar(figures):
    grids = [f for f in figures("07") if _delta_maps(f)]
    assert len(grids) >= 4                     # four attacks, targeted, ERM and PGD-trained
    for fig in grids:
        maps = _delta_maps(fig)
        scales = {(m["vmin"], m["vmax"]) for m in maps}
        assert len(scales) == 1, f"{fig['suptitle']}: δ panels on {len(scales)} scales"
        vmin, vmax = scales.pop()
        assert vmax > 0 and vmin == -vmax, (fig["suptitle"], vmin, vmax)
        assert any(m["colorbar"] for m in maps), fig["suptitle"]
        pixels = [m for ax in fig["axes"] for m in ax["mappables"] if m["cmap"] == "gray_r"]
        assert any(m["colorbar"] for m in pixels), fig["suptitle"]


@pytest.mark.slow
def test_07_pgd_trained_panel_flags_misread_clean_digits(figures):
    fig = [f for f in figures("07") if f["suptitle"] == "PGD-trained network"]
    assert len(fig) == 1
    titles = [ax["title"] for ax in fig[0]["axes"]]
    assert sum("(misread)" in t for t in titles) >= 1
    assert all("(misread)" in t or not t.startswith("x:") or t.count(":") == 1
               for t in titles)


@pytest.mark.slow
def test_09_quiver_arrows_are_visible(figures):
    quivers = [q for fig in figures("09") for ax in fig["axes"] for q in ax["quivers"]]
    assert quivers, "no quiver in tutorial 09"
    for q in quivers:
        # unit arrows at least 1/15 of the axes width long, shafts at least 0.4 % of it wide
        assert q["scale"] is not None and q["scale"] <= 15 and q["width"] >= 0.004, q


@pytest.mark.slow
@pytest.mark.parametrize("key", ["06", "08"])
def test_some_figures_have_colour_bars_or_legends(figures, key):
    recorded = figures(key)
    assert any(fig["legend_texts"] or any(ax["legend"] or ax["colorbar"] for ax in fig["axes"])
               for fig in recorded)
