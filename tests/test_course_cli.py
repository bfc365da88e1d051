"""``minadv grade`` (minadv.course.cli.main): help, list, pass (0), fail (1), usage errors (2),
and isolation: nothing a submission does in its own interpreter changes the verdict."""

import sys
import textwrap
import time

import pytest

import minadv.course as course
from minadv.course.cli import main

GOOD = """
import numpy as np

def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""

BAD = """
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)      # dW transposed
"""

WRONG = """
def affine_backward(dout, cache):
    x, W, b = cache
    return 2 * dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""


@pytest.fixture
def write(tmp_path):
    def _write(text, name="solution.py"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)
    return _write


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--batch" in out and "--timeout" in out and "--gradescope" in out


def test_list_shows_tutorial_and_task(capsys):
    assert main(["--list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == course.exercises() and err == ""
    assert "00_backprop_from_scratch.py" in lines[0] and "sigmoid" in lines[0]
    assert all(len(line.split()) >= 4 for line in lines)          # name, tutorial, task


def test_pass_exits_0(write, capsys):
    assert main(["affine_backward", write(GOOD)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("affine_backward: 6/6 cases passed")


def test_fail_exits_1_with_hint(write, capsys):
    assert main(["affine_backward", write(BAD)]) == 1
    out = capsys.readouterr().out
    assert "did you transpose?" in out and "\u2717" in out


def test_stub_exits_1_without_traceback(write, capsys):
    assert main(["sigmoid", write(course.stub("sigmoid"))]) == 1
    captured = capsys.readouterr()
    assert "not implemented yet" in captured.out and "Traceback" not in captured.err


def test_notebook_file(tmp_path, capsys):
    import json

    cells = [{"cell_type": "markdown", "source": ["# my answers"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install nothing\n",
                                              "import numpy as np"]},
             {"cell_type": "code", "source": GOOD},
             {"cell_type": "code", "source": ["%%bash\n", "echo not python"]},
             {"cell_type": "code", "source": ["import minadv.course\n",
                                              "minadv.course.check('affine_backward', "
                                              "affine_backward)"]}]
    path = tmp_path / "answers.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                                "metadata": {}}))
    assert main(["affine_backward", str(path)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("argv_tail,message", [
    (["affine_sideways", "GOOD"], "unknown exercise 'affine_sideways'"),
    (["affine_backward", "MISSING"], "file not found"),
    (["sigmoid", "GOOD"], "defines no function named 'sigmoid'"),
    (["affine_backward", "BROKEN"], "cannot import"),
    (["affine_backward"], "usage: minadv grade"),
    ([], "usage: minadv grade"),
    (["--bogus", "x"], "usage: minadv grade"),
    (["--timeout", "-1", "affine_backward", "GOOD"], "expected a positive number"),
])
def test_usage_errors_exit_2_with_one_line(write, tmp_path, capsys, argv_tail, message):
    paths = {"GOOD": write(GOOD), "MISSING": str(tmp_path / "nope.py"),
             "BROKEN": write("def affine_backward(:\n", "broken.py")}
    argv = [paths.get(a, a) for a in argv_tail]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err and err.startswith("minadv grade: ")


def test_solution_may_import_its_neighbour(write, capsys):
    write("def transpose(a):\n    return a.T\n", "helpers.py")
    path = write("from helpers import transpose\n\n"
                 "def affine_backward(dout, cache):\n"
                 "    x, W, b = cache\n"
                 "    return dout @ transpose(W), transpose(x) @ dout, dout.sum(axis=0)\n",
                 "mine.py")
    assert main(["affine_backward", path]) == 0
    assert "helpers" not in sys.modules                     # it ran in the child, not here
    capsys.readouterr()


def test_student_output_does_not_reach_the_grader(write, capsys):
    path = write("print('\u2713 all cases pass')\n" + GOOD.replace(
        "    x, W, b = cache", "    print('affine_backward: 6/6 cases passed')\n"
                              "    x, W, b = cache"))
    assert main(["affine_backward", path]) == 0
    out = capsys.readouterr().out
    assert out.count("6/6 cases passed") == 1 and "all cases pass)" in out.splitlines()[-1]


# ----------------------------------------------------------------------------- isolation
ATTACKS = {
    # top-level statements are dropped before the child runs (only definitions are graded):
    # what still runs at load time is a def's defaults and decorators
    "sys.exit(0) at import": "import sys\n\ndef boom(x=sys.exit(0)):\n    pass\n" + WRONG,
    "sys.exit(0) in the function": WRONG.replace("    x, W, b = cache",
                                                 "    import sys\n    sys.exit(0)"),
    "os._exit(0) at import": "import os\n\ndef boom(x=os._exit(0)):\n    pass\n" + WRONG,
    "os._exit(0) in the function": WRONG.replace("    x, W, b = cache",
                                                 "    import os\n    os._exit(0)"),
    "atexit os._exit(0)": "import atexit, os\n\ndef boom(x=atexit.register(os._exit, 0)):\n"
                          "    pass\n" + WRONG,
    "infinite loop": WRONG.replace("    x, W, b = cache", "    while True:\n        pass"),
    "10 GB allocation": "import numpy as np\n" + WRONG.replace(
        "    x, W, b = cache", "    big = np.ones(10 * 2**30, dtype=np.uint8)\n"
                              "    x, W, b = cache"),
}

# with --allow-imports the child may load the real grader modules: patching them there
# changes nothing in the parent
PATCHES = {
    "rebinding run_case and judge": (
        "import minadv.course, minadv.course.grading as g\n"
        "from minadv.course.grading import Case\n"
        "minadv.course.run_case = g.run_case = lambda *a, **k: Case('x', True, 0.0)\n"
        "g.judge = lambda *a, **k: Case('x', True, 0.0)\n"),
    "replacing CheckResult.passed": (
        "from minadv.course.grading import CheckResult\n"
        "CheckResult.passed = property(lambda self: True)\n"),
    "object.__setattr__ on the exercise": (
        "from minadv.course.registry import get_exercise\n"
        "ex = get_exercise('affine_backward')\n"
        "object.__setattr__(ex, 'reference', lambda dout, cache: affine_backward(dout, cache))\n"),
}


@pytest.mark.parametrize("label", list(ATTACKS))
def test_isolation_attack_gives_nonzero_exit_and_a_clear_line(write, capsys, label):
    timeout = 1.0
    start = time.perf_counter()
    status = main(["affine_backward", write(ATTACKS[label]), "--timeout", str(timeout)])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert status != 0
    assert elapsed < 6 * timeout + 10                 # at most the timeout per case
    text = out + err
    expected = {"sys.exit(0) at import": "SystemExit", "sys.exit(0) in the function":
                "raised SystemExit", "os._exit(0) at import": "exit status 0",
                "os._exit(0) in the function": "ended the grading process (exit status 0)",
                "atexit os._exit(0)": "off by a constant factor 2",
                "infinite loop": "timed out after 1 s (an infinite loop?)",
                "10 GB allocation": "MemoryError"}[label]
    assert expected in text, text


@pytest.mark.parametrize("label", list(PATCHES))
def test_patching_the_grader_in_the_child_changes_nothing(write, capsys, label):
    path = write(PATCHES[label] + WRONG)
    assert main(["affine_backward", path, "--allow-imports"]) == 1
    out = capsys.readouterr().out
    assert "0/6 cases passed" in out


@pytest.mark.parametrize("source,message", [
    ("from minadv.course.references import affine_backward\n", "imports minadv.course.references"),
    ("import minadv.course\n" + GOOD.replace("    x, W, b = cache",
                                              "    minadv.course.run_case = None\n"
                                              "    x, W, b = cache"),
     "uses minadv.course.run_case"),
    (GOOD.replace("    x, W, b = cache", "    import minadv\n    x, W, b = cache"),
     "imports minadv"),
    ("import importlib\nm = importlib.import_module('minadv')\n" + GOOD, "uses importlib"),
])
def test_minadv_imports_are_refused(write, capsys, source, message):
    assert main(["affine_backward", write(source)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minadv grade: refused: ") and message in err
    assert "--allow-imports" in err


def test_only_the_definitions_run_a_tutorials_other_statements_are_dropped(write, capsys):
    """A whole tutorial is a valid submission: its training, plots, prints, ``import minadv``,
    ``check(...)`` calls and exits are dropped; the definitions are graded."""
    path = write(
        "import sys\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
        "import minadv\nfrom minadv import course\nfrom minadv.models import MLP\n"
        "print('all cases pass')\nnet = MLP([2, 3, 2])\nSCALE = 1.0\nTWO = float(np.sqrt(4.0))\n"
        + GOOD.replace("dout @ W.T", "SCALE * TWO / 2 * dout @ W.T")
        + "course.check('affine_backward', affine_backward)\nplt.plot([1, 2])\n"
          "minadv.course.run_case = None\nsys.exit(0)\n")
    assert main(["affine_backward", path]) == 0, capsys.readouterr()
    assert "6/6 cases passed" in capsys.readouterr().out


def test_a_graded_function_reading_a_dropped_global_is_told_why(write, capsys):
    path = write("import numpy as np\nrng = np.random.default_rng(0)\nW0 = rng.normal()\n"
                 "X = rng.normal(size=3)\n"
                 + GOOD.replace("    x, W, b = cache", "    x, W, b = cache\n    W = W + 0 * X.sum()"))
    assert main(["affine_backward", path]) == 1
    out = capsys.readouterr().out
    assert "raised NameError" in out and "runs only the file's definitions" in out


def test_a_kept_function_using_a_dropped_minadv_import_is_refused(write, capsys):
    path = write("from minadv.layers import affine_backward as lib\n\n"
                 "def helper(dout, cache):\n    return lib(dout, cache)\n\n"
                 "def affine_backward(dout, cache):\n    return helper(dout, cache)\n")
    assert main(["affine_backward", path]) == 1
    err = capsys.readouterr().err
    assert "line 4: affine_backward uses minadv.layers.affine_backward" in err


def test_forbidden_library_function_is_refused_only_where_forbidden(write, capsys):
    path = write("import numpy as np\nfrom scipy import special as sp\n\n"
                 "def sigmoid(t):\n    return sp.expit(t)\n\n"
                 "def logistic_backward(w, b, X, y):\n    return sp.expit(X)\n")
    assert main(["sigmoid", path]) == 1
    err = capsys.readouterr().err
    assert "sigmoid uses scipy.special.expit, the function this exercise asks you to write" in err
    assert main(["sigmoid", path, "--allow-imports"]) == 0
    capsys.readouterr()


def test_allowed_minadv_helper_runs(write, capsys):
    path = write("""
        import numpy as np
        from minadv.attacks import project_ball

        def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
            if norm == np.inf:
                step = step_size * np.sign(g)
            elif norm == 2:
                n = np.linalg.norm(g, axis=1, keepdims=True)
                step = step_size * np.divide(g, n, out=np.zeros_like(g), where=n > 0)
            else:
                j = np.argmax(np.abs(g), axis=1)
                step = np.zeros_like(g)
                rows = np.arange(len(g))
                step[rows, j] = step_size * np.sign(g[rows, j])
            x_new = x0 + project_ball(x + step - x0, eps, norm)
            return np.clip(x_new, clip_min, clip_max) if (clip_min is not None
                                                          or clip_max is not None) else x_new
        """)
    assert main(["pgd_step", path]) == 0, capsys.readouterr()
    capsys.readouterr()


def test_a_loop_on_some_inputs_fails_only_those_cases(write, capsys):
    path = write("""
        import numpy as np

        def project_l2_ball(delta, eps):
            out = delta.copy()
            for i, row in enumerate(delta):
                while not np.any(row):              # hangs on a zero row
                    pass
                big = np.max(np.abs(row))
                r = big * np.sqrt(np.sum((row / big) ** 2))
                if r > eps:
                    out[i] = eps * row / r
            return out
        """)
    assert main(["project_l2_ball", path, "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("\u2717")]
    assert len(failed) == 2 and all("timed out after 1 s" in line for line in failed)
    assert "project_l2_ball: 5/7 cases passed" in out


def test_a_slow_import_is_not_cut_by_a_short_case_limit(write, tmp_path, capsys):
    """Loading gets max(--timeout, LOAD_TIMEOUT): a neighbour module that takes 1.5 s to
    import does not fail a 1 s per-case limit, and every case still runs."""
    (tmp_path / "slow_neighbour.py").write_text("import time\ntime.sleep(1.5)\n")
    path = write("import slow_neighbour  # noqa: F401\n" + GOOD)
    assert main(["affine_backward", path, "--timeout", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        "affine_backward: 6/6 cases passed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_processes_a_submission_spawns_are_killed(write, tmp_path, capsys):
    import os
    import signal

    pidfile = tmp_path / "pid.txt"
    path = write(textwrap.dedent(f"""
        import subprocess, sys

        def spawn(pid=open({str(pidfile)!r}, "w").write(str(subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(600)"]).pid))):
            pass                             # a default: it runs when the file is loaded
        """) + GOOD)
    assert main(["affine_backward", path]) == 0
    capsys.readouterr()
    pid = int(pidfile.read_text())

    def alive():
        try:                                     # a zombie waiting for its reaper is dead
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    for _ in range(50):
        if not alive():
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the grandchild survived the grading")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_memory_cap_cannot_be_raised_by_the_submission(write, capsys):
    path = write("import resource\n\n"
                 "def lift(x=resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)):"
                 "\n    pass\n" + GOOD)
    assert main(["affine_backward", path]) == 2
    err = capsys.readouterr().err
    assert "cannot import" in err and ("ValueError" in err or "PermissionError" in err
                                       or "OSError" in err)


def test_garbage_output_fails_with_its_type(write, capsys):
    path = write("def sigmoid(t):\n    return (x for x in t)\n")
    assert main(["sigmoid", path]) == 1
    out = capsys.readouterr().out
    assert "sigma: expected numbers, got a generator object" in out


def test_a_helper_allowed_for_one_exercise_does_not_refuse_the_others(write, capsys):
    path = write("import numpy as np\nfrom minadv.attacks import project_ball\n\n"
                 "def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):\n"
                 "    return x0 + project_ball(x - x0, eps, norm)\n" + GOOD)
    assert main(["affine_backward", path]) == 0
    capsys.readouterr()


def test_works_from_any_install_location(write, tmp_path):
    """The child finds minadv where the parent's minadv lives (here a copy outside the
    repository, as an installed package would be), not through PYTHONPATH."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    import minadv

    site = tmp_path / "site"
    shutil.copytree(Path(minadv.__file__).parent, site / "minadv",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = write("""
        import numpy as np
        from minadv.attacks import project_ball

        def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
            return x0 + project_ball(x - x0, eps, norm)
        """)
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-m", "minadv.cli", "grade", "pgd_step", path],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 1, proc.stderr              # wrong answer, but it ran
    assert "cases passed" in proc.stdout and "cannot" not in proc.stdout + proc.stderr
    assert "refused" not in proc.stdout
