"""Every figure of tutorials 05-09 can be read: labelled axes, a colour key for every colour
map, legends where several series are drawn, colour-blind-safe colours, and the figure-specific
fixes (one symmetric δ scale with a colour bar in 07, misread clean digits flagged, visible
quiver arrows in 09, misclassified points flagged in 05).

Each tutorial runs once in a subprocess (quick mode, ``MPLBACKEND=Agg``, ``-W error``) with
``plt.show`` replaced by a recorder that writes, for every figure shown, what its axes carry
(labels, titles, legends, colour maps and their colour bars, quiver sizes, line colours) to a
JSON file; the tests read that file.  Nothing is drawn to disk.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = {p.name[:2]: p for p in sorted((ROOT / "tutorials").glob("0[5-9]_*.py"))}

RECORDER = r'''
import json, runpy, sys
import matplotlib.pyplot as plt
from matplotlib.colors import to_hex

path, out = sys.argv[1], sys.argv[2]
figures = []


def mappable(m):
    cmap = m.get_cmap()
    colours = {to_hex(c) for c in cmap([i / max(cmap.N - 1, 1) for i in range(cmap.N)])}
    return {"kind": type(m).__name__, "cmap": cmap.name, "n_colours": len(colours),
            "vmin": None if m.norm.vmin is None else float(m.norm.vmin),
            "vmax": None if m.norm.vmax is None else float(m.norm.vmax),
            "colorbar": m.colorbar is not None,
            "labelled": bool(getattr(m, "labelTexts", None))}


def label(ax, which):
    """The axis label, or that of an axes sharing this axis (a shared axis is labelled once)."""
    get = "get_xlabel" if which == "x" else "get_ylabel"
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return next((getattr(a, get)() for a in [ax, *shared.get_siblings(ax)]
                 if getattr(a, get)()), "")


def axes_record(ax):
    maps = [mappable(im) for im in ax.images]
    quivers = []
    for c in ax.collections:
        if type(c).__name__ == "Quiver":
            quivers.append({"scale": c.scale, "width": c.width, "n": int(len(c.U))})
        elif c.get_array() is not None:
            maps.append(mappable(c))
    labelled = [a.get_label() for a in list(ax.lines) + list(ax.collections)
                if not a.get_label().startswith("_")]
    return {
        "colorbar": hasattr(ax, "_colorbar"),
        "xlabel": label(ax, "x"), "ylabel": label(ax, "y"),
        "title": " ".join(ax.get_title(loc) for loc in ("left", "center", "right")).strip(),
        "ticks": bool(len(ax.get_xticks()) and len(ax.get_yticks()) and ax.axison),
        "has_data": bool(ax.lines or ax.collections or ax.images),
        "legend": ax.get_legend() is not None,
        "labelled_series": labelled,
        "line_colours": [to_hex(line.get_color()) for line in ax.lines],
        "mappables": maps, "quivers": quivers,
    }


def record(*args, **kwargs):
    for num in plt.get_fignums():
        fig = plt.figure(num)
        figures.append({
            "suptitle": fig._suptitle.get_text() if fig._suptitle is not None else "",
            "legend_texts": [t.get_text() for leg in fig.legends for t in leg.get_texts()],
            "axes": [axes_record(ax) for ax in fig.axes]})
    plt.close("all")


plt.show = record
runpy.run_path(path, run_name="__main__")
record()
with open(out, "w", encoding="utf-8") as f:
    json.dump(figures, f)
'''

SAFE_CMAPS = {"gray_r", "gray", "PuOr", "PuOr_r", "viridis", "cividis", "RdBu", "RdBu_r"}
RED_GREEN = {"#d62728", "#2ca02c", "#ff0000", "#00ff00", "#008000"}   # tab10 and pure red/green


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Run each tutorial once (lazily) and cache its recorded figures."""
    cache = {}

    def get(key):
        if key not in cache:
            base = tmp_path_factory.mktemp(f"figures_{key}")
            run_dir, out = base / "run", base / "figures.json"
            run_dir.mkdir()
            pythonpath = os.pathsep.join([str(ROOT)] + [
                p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
            env = dict(os.environ, MPLBACKEND="Agg", MINADV_QUICK="1", PYTHONPATH=pythonpath)
            result = subprocess.run(
                [sys.executable, "-W", "error", "-c", RECORDER, str(TUTORIALS[key]), str(out)],
                cwd=run_dir, env=env, capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
            assert not list(run_dir.iterdir()), "the tutorial wrote files"
            cache[key] = json.loads(out.read_text(encoding="utf-8"))
        return cache[key]
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
@pytest.mark.parametrize("key", sorted(TUTORIALS))
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
