"""Figures a student can read, tutorials 00-04: every axes a tutorial draws has an x label, a
y label and a title; every axes with a colour-mapped fill or image has a colour bar; every
legend sits where it was put on purpose (an explicit ``loc``, never matplotlib's "best", which
moves it onto data as the data changes).

Each tutorial runs once in a subprocess (quick mode, ``MPLBACKEND=Agg``) under a small driver
that replaces ``plt.show`` by a recorder of the figures' axes; the driver writes what it saw as
JSON.  The tutorial's own asserts (the numbers its prose quotes) run in the same process.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = [p for p in sorted((ROOT / "tutorials").glob("0[0-4]_*.py"))]

DRIVER = r"""
import json, runpy, sys
import matplotlib.pyplot as plt

seen = []


def describe(fig):
    colorbar_axes = {id(ax) for ax in fig.axes
                     if hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"}
    # a colour bar keys every artist with its colour map and limits (one bar may serve panels)
    keys = set()
    for ax in fig.axes:
        for artist in list(ax.collections) + list(ax.images):
            if getattr(artist, "colorbar", None) is not None:
                keys.add((artist.get_cmap().name, tuple(artist.get_clim())))
    axes = []
    for ax in fig.axes:
        if id(ax) in colorbar_axes:
            continue
        mapped = [a for a in list(ax.collections) + list(ax.images)
                  if a.get_array() is not None and getattr(a, "get_cmap", None) is not None
                  and type(a).__name__ in ("QuadContourSet", "ContourSet", "AxesImage",
                                           "QuadMesh", "PathCollection")
                  and not (type(a).__name__ == "QuadContourSet" and not a.filled)]
        legend = ax.get_legend()
        axes.append({
            "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
            "n_mapped": len(mapped),
            "n_mapped_with_bar": sum((a.get_cmap().name, tuple(a.get_clim())) in keys
                                     for a in mapped),
            "legend_loc": None if legend is None else legend._loc,
            "visible": ax.get_visible() and ax.axison,
        })
    return {"suptitle": fig._suptitle.get_text() if fig._suptitle else "", "axes": axes}


def show(*args, **kwargs):
    for num in plt.get_fignums():
        seen.append(describe(plt.figure(num)))
    plt.close("all")


plt.show = show
runpy.run_path(sys.argv[1], run_name="__main__")
show()
with open(sys.argv[2], "w") as fh:
    json.dump(seen, fh)
"""


def _figures(path, tmp_path):
    pythonpath = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "")
                                                .split(os.pathsep) if p])
    env = dict(os.environ, MPLBACKEND="Agg", MINADV_QUICK="1", PYTHONPATH=pythonpath)
    out = tmp_path / "figures.json"
    result = subprocess.run([sys.executable, "-W", "error", "-c", DRIVER, str(path), str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(out.read_text())


def test_five_tutorials():
    assert [p.name[:2] for p in TUTORIALS] == ["00", "01", "02", "03", "04"]


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_every_axes_is_labelled_and_keyed(path, tmp_path):
    figures = _figures(path, tmp_path)
    assert figures, f"{path.name} draws no figure"
    problems = []
    for i, fig in enumerate(figures):
        for j, ax in enumerate(fig["axes"]):
            if not ax["visible"]:
                continue
            where = f"figure {i + 1}, axes {j + 1} ({ax['title'] or fig['suptitle']!r})"
            if not ax["xlabel"] or not ax["ylabel"]:
                problems.append(f"{where}: axis label missing ({ax['xlabel']!r}, "
                                f"{ax['ylabel']!r})")
            if not (ax["title"] or fig["suptitle"]):
                problems.append(f"{where}: no title")
            if ax["n_mapped"] and ax["n_mapped_with_bar"] == 0:
                problems.append(f"{where}: colour-mapped data without a colour bar")
            if ax["legend_loc"] == 0:
                problems.append(f"{where}: legend at loc='best' (may cover data)")
    assert not problems, "\n".join(problems)
