"""Every tutorial runs top to bottom as a script in quick mode (its own asserts check the claims
it reproduces).

``MPLBACKEND=Agg`` is set for the subprocess only (a headless run has no display); the
tutorials themselves never call ``matplotlib.use``, so in Jupyter their figures show inline
(``tests/test_notebooks.py``).  ``-W error`` turns any warning, e.g. an overflow, into a failure.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9]*.py"))


def test_tutorials_never_choose_a_backend():
    for path in TUTORIALS:
        assert "matplotlib.use(" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    pythonpath = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "")
                                                .split(os.pathsep) if p])
    env = dict(os.environ, MPLBACKEND="Agg", MINADV_QUICK="1", PYTHONPATH=pythonpath)
    result = subprocess.run([sys.executable, "-W", "error", str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert not list(tmp_path.iterdir()), "a tutorial wrote files without being asked"
