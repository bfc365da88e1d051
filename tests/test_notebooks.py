"""Every tutorial executes as a notebook (jupytext → nbformat → nbclient, quick mode) and shows
at least one figure inline.

The notebook tools come from the ``tutorials`` extra (jupytext, nbclient, ipykernel); the test is
skipped without them and installs nothing.  The kernel inherits this process's environment with
``MINADV_QUICK=1``, this checkout first on ``PYTHONPATH`` and no ``MPLBACKEND``, so that
ipykernel's inline backend draws the figures (``image/png`` outputs), as in Jupyter.
"""

import os
import pathlib

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9]*.py"))


def test_at_least_nine_tutorials():
    assert len(TUTORIALS) >= 9, [p.name for p in TUTORIALS]


def _png_outputs(nb) -> int:
    return sum("image/png" in out.get("data", {})
               for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_executes_as_notebook_with_inline_figures(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MINADV_QUICK", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    nb = jupytext.read(path)
    assert sum(cell.cell_type == "code" for cell in nb.cells) >= 3       # cells, not one blob
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                      # raises CellExecutionError if any cell (or assert) fails
    assert _png_outputs(nb) >= 1, f"{path.name}: no inline figure"
    assert not list(tmp_path.iterdir()), "a tutorial wrote files without being asked"
