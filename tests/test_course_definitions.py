"""``minadv grade`` grades a submission's definitions: a whole tutorial notebook is a valid
submission.

The student release's notebooks import ``minadv``, train, plot and call ``check(...)``; the
grader keeps the module-level defs and classes, the allowed imports and simple constants
(:mod:`minadv.course.definitions`) and drops the rest before the child runs.  Tested on the
real release: with the instructor's solution blocks injected back into tutorials 00 and 07,
every exercise of those tutorials gets full marks; the unfilled release gets 0 with "not
implemented".
"""

import ast
import csv
import json
import pathlib

import pytest

from minadv.course import release as rel
from minadv.course.cli import main
from minadv.course.definitions import keep_definitions
from minadv.course.registry import EXERCISES

ROOT = pathlib.Path(__file__).resolve().parent.parent
GRADED_TUTORIALS = ["00_backprop_from_scratch", "07_adversarial_examples_digits"]


def _kept_names(source, **kwargs):
    kept = keep_definitions(source, **kwargs)
    names = []
    for node in kept.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name for a in node.names]
    return names


# ----------------------------------------------------------------------------- the cut
def test_defs_allowed_imports_and_constants_are_kept_the_rest_dropped():
    source = (
        "import os\nimport numpy as np\nimport matplotlib.pyplot as plt\nimport minadv\n"
        "from minadv.models import MLP\nfrom scipy import special\n"
        "EPS = 1e-3\nBOX = {'clip_min': 0.0, 'clip_max': 1.0}\nHALF = np.sqrt(0.25)\n"
        "QUICK = os.environ.get('MINADV_QUICK') == '1'\nnet = MLP([2, 3])\n"
        "def f(x):\n    return x\n"
        "class C:\n    pass\n"
        "PAIR = (f, C)\nLATER = net\nprint('hi')\nfor i in range(3):\n    pass\n"
        "if __name__ == '__main__':\n    f(1)\n")
    assert _kept_names(source) == ["os", "np", "special", "EPS", "BOX", "HALF", "f", "C",
                                   "PAIR"]


def test_line_numbers_are_kept_and_dropped_lines_blank():
    source = "import minadv\nprint(1)\n\ndef f(x):\n    return x\nf(2)\n"
    kept = keep_definitions(source)
    assert kept.source.splitlines() == ["", "", "", "def f(x):", "    return x", ""]
    assert kept.dropped == (1, 2, 6)


def test_a_constant_a_dropped_statement_rebinds_or_mutates_is_dropped():
    source = ("import numpy as np\nlosses = []\nmissed = None\nrng = np.random.default_rng(0)\n"
              "KEEP = 2\nfor i in range(3):\n    losses.append(i)\n    missed = i\n"
              "X = rng.normal(size=3)\nfirst = np.argmax(np.array(losses))\nDOUBLE = 2 * KEEP\n")
    assert _kept_names(source) == ["np", "KEEP", "DOUBLE"]


def test_a_def_needing_a_dropped_name_at_load_is_dropped_unless_graded():
    source = ("import os\nQUICK = os.environ.get('Q') == '1'\nEPOCHS = 2 if QUICK else 6\n"
              "def train(epochs=EPOCHS):\n    return epochs\n"
              "def graded(epochs=EPOCHS):\n    return epochs\n")
    assert _kept_names(source, graded=("graded",)) == ["os", "graded"]


def test_allowed_minadv_names_and_neighbours_are_kept():
    source = ("from minadv.attacks import project_ball\nfrom minadv.attacks import pgd\n"
              "from helpers import transpose\nimport sklearn\n")
    kept = _kept_names(source, allowed=("minadv.attacks.project_ball",),
                       local_modules=("helpers",))
    assert kept == ["project_ball", "transpose"]
    assert _kept_names(source, keep_all_imports=True) == ["project_ball", "pgd", "transpose",
                                                          "sklearn"]


# ----------------------------------------------------------------------------- the release
def _inject(student: dict, stem: str) -> dict:
    """The released notebook with the instructor's solution blocks put back."""
    instructor = rel.to_notebook((ROOT / "tutorials" / f"{stem}.py").read_text("utf-8"),
                                 name=stem)
    filled = json.loads(json.dumps(student))
    injected = 0
    for s_cell, i_cell in zip(filled["cells"], instructor["cells"]):
        if s_cell["source"] != i_cell["source"]:
            s_cell["source"] = [line for line in i_cell["source"]
                                if not line.strip().startswith((rel.BEGIN, rel.END))]
            injected += 1
    assert injected >= 2
    return filled


@pytest.fixture(scope="module")
def graded_release(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    paths = {p.stem: p for p in rel.release(root / "student", source=ROOT / "tutorials")}
    subs = root / "submissions"
    for student in ("filled", "empty"):
        (subs / student).mkdir(parents=True)
    for stem in GRADED_TUTORIALS:
        released = json.loads(paths[stem].read_text("utf-8"))
        text = json.dumps(_inject(released, stem))
        (subs / "filled" / f"{stem}.ipynb").write_text(text, encoding="utf-8")
        (subs / "empty" / f"{stem}.ipynb").write_text(paths[stem].read_text("utf-8"),
                                                      encoding="utf-8")
    names = [n for n, ex in EXERCISES.items()
             if ex.tutorial in {f"{stem}.py" for stem in GRADED_TUTORIALS}]
    out = root / "gradebook.csv"
    assert main(["--batch", str(subs), "--exercises", ",".join(names), "--out", str(out),
                 "--jobs", "2"]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return names, rows


def test_release_notebooks_import_minadv_and_call_check():
    for stem in GRADED_TUTORIALS:
        text = (ROOT / "tutorials" / f"{stem}.py").read_text("utf-8")
        assert "import minadv" in text or "from minadv import" in text
        assert "course.check(" in text


@pytest.mark.slow
def test_filled_release_gets_full_marks_on_every_exercise(graded_release):
    names, rows = graded_release
    filled = {r["exercise"]: r for r in rows if r["student"] == "filled"}
    assert sorted(filled) == sorted(names) and len(names) >= 10
    wrong = {n: r["error"] for n, r in filled.items() if r["cases_passed"] != r["cases_total"]}
    assert wrong == {}
    assert all(float(r["score"]) == 1.0 for r in filled.values())


@pytest.mark.slow
def test_unfilled_release_gets_zero_not_implemented(graded_release):
    names, rows = graded_release
    empty = {r["exercise"]: r for r in rows if r["student"] == "empty"}
    assert sorted(empty) == sorted(names)
    for name, r in empty.items():
        assert r["cases_passed"] == "0" and float(r["score"]) == 0.0, name
        assert "not implemented yet" in r["error"], (name, r["error"])


def test_a_helper_nobody_grades_may_import_minadv_inside(tmp_path, capsys):
    path = tmp_path / "whole.py"
    path.write_text("import numpy as np\n\n"
                    "def plot_it(params):\n    from minadv.plotting import plot_curve\n"
                    "    return plot_curve\n\n"
                    "def relu_forward(x):\n    return np.maximum(x, 0), x\n", encoding="utf-8")
    assert main(["relu_forward", str(path)]) == 0, capsys.readouterr()
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    return np.maximum(x, 0), x", "    plot_it(None)\n    return np.maximum(x, 0), x"),
        encoding="utf-8")
    assert main(["relu_forward", str(path)]) == 1                 # now it is called: refused
    assert "line 4: imports minadv.plotting.plot_curve" in capsys.readouterr().err
