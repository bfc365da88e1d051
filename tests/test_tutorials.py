"""Every tutorial runs top to bottom in quick mode (its own asserts check the claims it
reproduces), with every warning an error (an overflow is a bug), and writes no file.

The run is shared with the notebook and figure tests (``tests/tutorial_run.py``: each tutorial
executes once per session, as a notebook where jupytext/nbclient/ipykernel exist, else as a
script with ``MPLBACKEND=Agg``); the tutorials themselves never call ``matplotlib.use``, so in
Jupyter their figures show inline.
"""

import pytest
import tutorial_run

TUTORIALS = tutorial_run.TUTORIALS


def test_tutorials_never_choose_a_backend():
    for path in TUTORIALS:
        assert "matplotlib.use(" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path):
    run = tutorial_run.run(path)
    assert run.error is None, run.error
    assert run.wrote == [], "a tutorial wrote files without being asked"
