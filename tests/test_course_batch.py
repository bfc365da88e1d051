"""``minadv grade --batch``: a fixture class of 15 submissions (correct, buggy, crashing,
looping, cheating, exiting, notebooks, a folder) gives the expected gradebook and Gradescope
results."""

import csv
import json
import textwrap

import pytest

from minadv.course import batch
from minadv.course.cli import main

EXERCISES = "sigmoid,affine_backward,steepest_ascent"
TOTALS = {"sigmoid": 6, "affine_backward": 6, "steepest_ascent": 12}

SIGMOID = """
def sigmoid(t):
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))
"""
AFFINE = """
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""
STEEPEST = """
def steepest_ascent(g, eps, norm):
    if norm == np.inf:
        return eps * np.sign(g)
    if norm == 2:
        big = np.max(np.abs(g), axis=1, keepdims=True)
        safe = np.where(big > 0, big, 1)
        n = big * np.sqrt(np.sum((g / safe) ** 2, axis=1, keepdims=True))
        return eps * g / np.where(n > 0, n, 1)
    rows = np.arange(len(g))
    j = np.argmax(np.abs(g), axis=1)
    out = np.zeros_like(g)
    out[rows, j] = eps * np.sign(g[rows, j])
    return out
"""
HEAD = "import numpy as np\n"
CORRECT = HEAD + SIGMOID + AFFINE + STEEPEST


def _notebook(*cells):
    return json.dumps({"cells": [{"cell_type": "code", "source": c, "metadata": {},
                                  "outputs": [], "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


CLASS = {
    "alice.py": CORRECT,
    "bob.py": HEAD + "def sigmoid(t):\n    return 1 / (1 + np.exp(-t))\n" + AFFINE
    + STEEPEST.replace("return eps * np.sign(g)", "return np.where(g >= 0, eps, -eps).astype(g.dtype)"),
    "carol.ipynb": _notebook("%matplotlib inline\n!pip list\nimport numpy as np",
                             SIGMOID, AFFINE, STEEPEST,
                             "import minadv.course\nminadv.course.check('sigmoid', sigmoid)"),
    "dave/sig.py": HEAD + SIGMOID,
    "dave/rest.py": HEAD + AFFINE + STEEPEST,
    "erin.py": HEAD + "def sigmoid(t):\n    raise ValueError('boom')\n" + AFFINE,
    "frank.py": HEAD + "def sigmoid(t):\n    while True:\n        pass\n" + AFFINE + STEEPEST,
    "grace.py": "from minadv.course.references import sigmoid, affine_backward, steepest_ascent\n",
    # a top-level sys.exit(0) is dropped (only definitions run); a default runs at load
    "heidi.py": "import sys\n\ndef quit(code=sys.exit(0)):\n    pass\n" + CORRECT,
    "ivan.py": CORRECT.replace("    x, W, b = cache", "    import os\n    os._exit(0)"),
    "judy.py": HEAD + "from scipy.special import expit\n\ndef sigmoid(t):\n    return expit(t)\n"
    + AFFINE + STEEPEST,
    "mallory.py": "import atexit, os\natexit.register(os._exit, 0)\n" + HEAD + SIGMOID + AFFINE
    + "def steepest_ascent(g, eps, norm):\n    return np.ones(10 * 2**30, dtype=np.uint8)\n",
    "oscar.py": HEAD + SIGMOID.replace("return np.where(t >= 0, 1 / (1 + e), e / (1 + e))",
                                       "return np.where(t >= 0, 1 / (1 + e), e / (1 + e))"
                                       ".tolist()") + AFFINE + STEEPEST,
    "peggy.py": "# nothing yet\n",
    # a classmate's file beside it in the class folder is not a neighbour it may import
    "victor.py": "from alice import sigmoid, affine_backward\nimport numpy as np\n\n"
                 "def steepest_ascent(g, eps, norm):\n    import alice\n"
                 "    return alice.steepest_ascent(g, eps, norm)\n",
    "trent.ipynb": _notebook("import numpy as np", SIGMOID,
                             AFFINE.replace("x.T @ dout", "dout.T @ x"), STEEPEST),
}

# (student, exercise) -> cases passed; every other pair passes all its cases
EXPECTED = {
    ("bob", "sigmoid"): None,                    # some but not all: the saturated cases fail
    ("bob", "steepest_ascent"): 10,              # the two zero-gradient L∞ cases fail
    ("erin", "sigmoid"): 0, ("erin", "steepest_ascent"): 0,
    ("frank", "sigmoid"): 0,
    ("grace", "sigmoid"): 0, ("grace", "affine_backward"): 0, ("grace", "steepest_ascent"): 0,
    ("heidi", "sigmoid"): 0, ("heidi", "affine_backward"): 0, ("heidi", "steepest_ascent"): 0,
    ("ivan", "affine_backward"): 0,
    ("judy", "sigmoid"): 0,
    ("mallory", "steepest_ascent"): 0,
    ("oscar", "sigmoid"): 0,
    ("peggy", "sigmoid"): 0, ("peggy", "affine_backward"): 0, ("peggy", "steepest_ascent"): 0,
    ("trent", "affine_backward"): 0,
    ("victor", "sigmoid"): 0, ("victor", "affine_backward"): 0, ("victor", "steepest_ascent"): 0,
}
ERRORS = {("erin", "sigmoid"): "raised ValueError: boom",
          ("erin", "steepest_ascent"): "defines no function named 'steepest_ascent'",
          ("frank", "sigmoid"): "timed out after 1 s",
          ("grace", "sigmoid"): "refused: line 1: imports minadv.course.references",
          ("heidi", "sigmoid"): "cannot load the submission: SystemExit",
          ("ivan", "affine_backward"): "ended the grading process (exit status 0)",
          ("judy", "sigmoid"): "sigmoid uses scipy.special.expit",
          ("mallory", "steepest_ascent"): "MemoryError",
          ("oscar", "sigmoid"): "sigma is a Python list, expected a NumPy array",
          ("trent", "affine_backward"): "did you transpose?",
          ("bob", "steepest_ascent"): "a coordinate with zero gradient does not move",
          ("victor", "sigmoid"): "refused: line 1: imports alice.sigmoid as sigmoid",
          ("victor", "steepest_ascent"): "raised ModuleNotFoundError: No module named 'alice'"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    for name, text in CLASS.items():
        path = subs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if name.endswith(".ipynb") else textwrap.dedent(text))
    out, gs = root / "gradebook.csv", root / "gradescope"
    status = main(["--batch", str(subs), "--exercises", EXERCISES, "--out", str(out),
                   "--gradescope", str(gs), "--timeout", "1", "--jobs", "2"])
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return status, rows, gs


def test_class_has_at_least_twelve_submissions():
    assert len(batch.discover_names(CLASS)) >= 12


def test_gradebook_rows_and_columns(graded):
    status, rows, _ = graded
    assert status == 0
    assert list(rows[0]) == ["student", "exercise", "cases_passed", "cases_total", "score",
                             "seconds", "error"]
    students = sorted({r["student"] for r in rows})
    assert students == sorted(batch.discover_names(CLASS))
    assert len(rows) == len(students) * len(TOTALS)


def test_gradebook_grades(graded):
    _, rows, _ = graded
    for r in rows:
        key = (r["student"], r["exercise"])
        total, passed = int(r["cases_total"]), int(r["cases_passed"])
        assert total == TOTALS[r["exercise"]], key
        assert float(r["score"]) == pytest.approx(passed / total, abs=1e-4), key
        want = EXPECTED.get(key, total)
        if want is None:
            assert 0 < passed < total, key
        else:
            assert passed == want, (key, r["error"])
        assert (r["error"] == "") == (passed == total), key
        if key in ERRORS:
            assert ERRORS[key] in r["error"], (key, r["error"])


def test_gradescope_results(graded):
    _, rows, gs = graded
    files = sorted(gs.glob("*/results.json"))
    assert len(files) == len({r["student"] for r in rows})
    bob = json.loads((gs / "bob" / "results.json").read_text(encoding="utf-8"))
    assert set(bob) == {"score", "tests"}
    assert [t["name"] for t in bob["tests"]] == EXERCISES.split(",")
    for t in bob["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output"}
        assert t["max_score"] == 1.0 and 0 <= t["score"] <= 1
        assert t["status"] == ("passed" if t["score"] == 1 else "failed")
    assert bob["score"] == pytest.approx(sum(t["score"] for t in bob["tests"]))
    alice = json.loads((gs / "alice" / "results.json").read_text(encoding="utf-8"))
    assert alice["score"] == 3.0


def test_one_student_gradescope_is_one_file(tmp_path, capsys):
    subs = tmp_path / "one"
    subs.mkdir()
    (subs / "alice.py").write_text(CORRECT)
    target = tmp_path / "results.json"
    assert main(["--batch", str(subs), "--exercises", "affine_backward", "--out",
                 str(tmp_path / "g.csv"), "--gradescope", str(target)]) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["score"] == 1.0 and data["tests"][0]["status"] == "passed"
    capsys.readouterr()


def test_notebook_source_skips_magics():
    text = batch.notebook_source_text(_notebook("%time x = 1\n!ls\ny = 2", "%%bash\necho hi"))
    assert text.strip() == "y = 2"


def test_grader_seed_differs_from_the_students():
    assert batch.GRADER_SEED != 0


def test_grader_cases_depend_on_seed_and_name_only(tmp_path):
    import numpy as np

    from minadv.course.isolation import prepare_cases

    def first(seed, names, sub):
        folder = tmp_path / sub
        folder.mkdir()
        return prepare_cases(names, seed, folder)["sigmoid"][0].spec.args[0]

    a = first(5, ["sigmoid"], "a")
    b = first(5, ["affine_backward", "sigmoid"], "b")
    c = first(6, ["sigmoid"], "c")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_batch_on_one_file_is_one_student(tmp_path, capsys):
    path = tmp_path / "answers.ipynb"
    path.write_text(_notebook("import numpy as np", AFFINE))
    target = tmp_path / "results" / "results.json"
    assert main(["--batch", str(path), "--exercises", "affine_backward,sigmoid", "--out",
                 str(tmp_path / "g.csv"), "--gradescope", str(target)]) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["score"] == 1.0 and [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert "defines no function named 'sigmoid'" in data["tests"][1]["output"]
    capsys.readouterr()
