"""Figures a student can read, tutorials 00-04 and 10: every axes a tutorial draws has an x label, a
y label and a title; every axes with a colour-mapped fill or image has a colour bar; every
legend sits where it was put on purpose (an explicit ``loc``, never matplotlib's "best", which
moves it onto data as the data changes).

Each tutorial runs once per session (``tests/tutorial_run.py``, shared with the notebook and
run tests) with a recorder of every figure's axes injected before its first cell; the
tutorial's own asserts (the numbers its prose quotes) run in the same execution.
"""

import pytest
import tutorial_run

TUTORIALS = [p for p in tutorial_run.TUTORIALS
             if p.name[:2] in ("00", "01", "02", "03", "04", "10")]


def _figures(path):
    run = tutorial_run.run(path)
    assert run.error is None, run.error
    return run.figures


def test_six_tutorials():
    assert [p.name[:2] for p in TUTORIALS] == ["00", "01", "02", "03", "04", "10"]


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
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
