"""Every tutorial executes as a notebook (jupytext → nbformat → nbclient, quick mode) and shows
at least one figure inline.

The notebook tools come from the ``tutorials`` extra (jupytext, nbclient, ipykernel); the test is
skipped without them and installs nothing.  The kernel gets ``MINADV_QUICK=1``, this checkout
first on ``PYTHONPATH`` and no ``MPLBACKEND``, so that ipykernel's inline backend draws the
figures (``image/png`` outputs), as in Jupyter.  The execution is the one shared with the other
tutorial tests (``tests/tutorial_run.py``: once per session).
"""

import pytest
import tutorial_run

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TUTORIALS = tutorial_run.TUTORIALS


def test_at_least_nine_tutorials():
    assert len(TUTORIALS) >= 9, [p.name for p in TUTORIALS]


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_executes_as_notebook_with_inline_figures(path):
    run = tutorial_run.run(path)
    assert run.mode == "notebook"
    assert run.n_code_cells >= 3                                         # cells, not one blob
    assert run.error is None, run.error          # every cell (and every assert) ran
    assert run.png_outputs >= 1, f"{path.name}: no inline figure"
    assert run.wrote == [], "a tutorial wrote files without being asked"
