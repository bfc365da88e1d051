"""Every tutorial runs top to bottom (its own asserts check the paper's claim it reproduces)."""

import os
import pathlib
import subprocess
import sys

import pytest

TUTORIALS = sorted((pathlib.Path(__file__).parent.parent / "tutorials").glob("[0-9]*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", MINADV_TUTORIAL_OUT=str(tmp_path))
    result = subprocess.run([sys.executable, "-W", "error", str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
