"""``minadv course release``: the student notebooks written from the instructor tutorials.

No solution line in the release (every line between the markers is grepped for), outputs
empty, valid nbformat 4, nothing overwritten without ``--force``, nothing written into an
instructor folder.  Executed (slow): the student notebook of tutorial 00 runs up to its first
exercise and stops there with ``NotImplementedError``; with the instructor's solution cells put
back it prints exactly what the instructor notebook prints (every asserted number included).
"""

import json
import os
import pathlib

import pytest

from minadv.cli import main as minadv_main
from minadv.course import release as rel

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9]*.py"))
MARKED = [p for p in TUTORIALS if rel.BEGIN in p.read_text(encoding="utf-8")]


def _sources(nb) -> str:
    return "\n".join("".join(cell["source"]) for cell in nb["cells"])


def _outside_blocks(text: str) -> str:
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if line.strip().startswith(rel.BEGIN):
            inside = True
        elif line.strip().startswith(rel.END):
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    paths = rel.release(out, source=ROOT / "tutorials")
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}


# ----------------------------------------------------------------------------- the transform
SAMPLE = '''# %% [markdown]
# # Title
# Some *text*.

# %%
import numpy as np


def double(x):
    """Twice x, elementwise."""
    # BEGIN SOLUTION
    secret_factor = 2
    return secret_factor * x
    # END SOLUTION


def halve(x):
    """Half of x, elementwise,
    in x's dtype.

    Notes: not part of the task line.
    """
    # BEGIN SOLUTION
    return x / 2
    # END SOLUTION


# %%
total = 0
# BEGIN SOLUTION: add one to total
total = total + 1
# END SOLUTION
'''


def test_blocks_become_the_stub_body_at_their_indentation():
    text = rel.strip_solutions(SAMPLE)
    assert "secret_factor" not in text and "total + 1" not in text and rel.BEGIN not in text
    assert ("    # YOUR CODE HERE\n    raise NotImplementedError('double: Twice x, elementwise.')"
            in text)
    assert "raise NotImplementedError(\"halve: Half of x, elementwise, in x's dtype.\")" in text
    assert "\nraise NotImplementedError('add one to total')" in text
    assert rel.solution_lines(SAMPLE) == ["secret_factor = 2", "return secret_factor * x",
                                          "return x / 2", "total = total + 1"]
    compile(text, "student.py", "exec")                      # still valid Python


def test_percent_cells_and_notebook_layout():
    nb = rel.to_notebook(rel.strip_solutions(SAMPLE), name="sample")
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "code"]
    assert "".join(nb["cells"][0]["source"]) == "# Title\nSome *text*."
    assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["name"] == "python3"
    assert len({c["id"] for c in nb["cells"]}) == 3


@pytest.mark.parametrize("text,message", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block"),
])
def test_unbalanced_markers_are_refused(text, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.strip_solutions(text)


# ----------------------------------------------------------------------------- the release
def test_every_tutorial_is_released_and_some_have_exercises(released):
    assert sorted(released) == [p.stem for p in TUTORIALS]
    assert len(MARKED) >= 5


@pytest.mark.parametrize("path", MARKED, ids=[p.stem for p in MARKED])
def test_no_solution_text_in_the_release(path, released):
    text = path.read_text(encoding="utf-8")
    student = _sources(released[path.stem])
    outside = _outside_blocks(text)
    assert rel.BEGIN not in student and rel.END not in student
    leaked = [line for line in set(rel.solution_lines(text))
              if student.count(line) > outside.count(line)]
    assert not leaked, leaked
    n_blocks = sum(line.strip().startswith(rel.BEGIN) for line in text.splitlines())
    assert student.count("raise NotImplementedError(") >= n_blocks


@pytest.mark.parametrize("path", MARKED, ids=[p.stem for p in MARKED])
def test_every_exercise_is_followed_by_a_check(path):
    cells = rel.parse_percent(path.read_text(encoding="utf-8"))
    for i, (_, source) in enumerate(cells):
        if rel.BEGIN in source:
            after = "\n".join(s for _, s in cells[i:i + 3])
            assert "course.check(" in after, source[:200]


def test_no_instructor_solution_module_text_in_the_release(released):
    """No line of the instructor solutions' function bodies (``tutorials/instructor``) reaches
    the release, unless the instructor tutorials show that very line outside their blocks."""
    import ast

    text = (ROOT / "tutorials" / "instructor" / "solutions.py").read_text(encoding="utf-8")
    lines = text.splitlines()
    body = {lines[i].strip() for node in ast.parse(text).body
            if isinstance(node, ast.FunctionDef)
            for i in range(node.body[0].lineno - 1, node.end_lineno)
            if len(lines[i].strip()) >= 20 and not lines[i].strip().startswith(("#", '"""'))}
    student = "\n".join(_sources(nb) for nb in released.values())
    shown = "\n".join(_outside_blocks(p.read_text(encoding="utf-8")) for p in TUTORIALS)
    assert len(body) >= 50
    leaked = sorted(line for line in body if student.count(line) > shown.count(line))
    assert not leaked, leaked


def test_cli_help_exits_0(capsys):
    with pytest.raises(SystemExit) as info:
        minadv_main(["course", "release", "--help"])
    assert info.value.code == 0 and "--force" in capsys.readouterr().out


def test_outputs_are_empty(released):
    for nb in released.values():
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_release_is_valid_nbformat(released):
    nbformat = pytest.importorskip("nbformat")
    for nb in released.values():
        nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))


def test_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "student"
    assert minadv_main(["course", "release", str(out)]) == 0
    target = out / f"{TUTORIALS[0].stem}.ipynb"
    target.write_text("a student's work", encoding="utf-8")
    others = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert minadv_main(["course", "release", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "--force" in err and "nothing written" in err
    assert target.read_text(encoding="utf-8") == "a student's work"
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == others
    assert minadv_main(["course", "release", str(out), "--force"]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["nbformat"] == 4


def test_refuses_the_instructor_folder_and_an_empty_source(tmp_path):
    source = tmp_path / "tutorials"
    (source / "instructor").mkdir(parents=True)
    (source / "00_x.py").write_text("# %%\nx = 1\n", encoding="utf-8")
    for out in (source / "instructor", source / "instructor" / "sub"):
        with pytest.raises(rel.ReleaseError, match="instructor folder"):
            rel.release(out, source=source)
    assert list((source / "instructor").iterdir()) == []
    with pytest.raises(rel.ReleaseError, match="source"):
        rel.release(tmp_path / "out", source=tmp_path / "empty")
    assert not (tmp_path / "out").exists()
    # a folder merely named "instructor" elsewhere is fine (e.g. a user's home)
    assert rel.release(tmp_path / "instructor" / "student", source=source)


def test_instructor_folder_is_not_a_tutorial():
    assert not [p for p in TUTORIALS if "instructor" in p.parts]
    assert (ROOT / "tutorials" / "instructor" / "solutions.py").is_file()


# ----------------------------------------------------------------------------- executed
def _client(nb, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MINADV_QUICK", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    node = nbformat.reads(json.dumps(nb), as_version=4)
    return node, nbclient.NotebookClient(node, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})


def _stdout(node):
    """Each code cell's printed text (stream chunks joined: their boundaries vary by run)."""
    return ["".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                    if o.get("output_type") == "stream" and o.get("name") == "stdout")
            for cell in node.cells if cell.cell_type == "code"]


STUDENT_RUN = ["00_backprop_from_scratch", "02_attacks_linear_models"]


@pytest.mark.slow
@pytest.mark.parametrize("stem", STUDENT_RUN)
def test_student_release_runs_up_to_the_first_exercise(stem, released, tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    node, client = _client(released[stem], tmp_path, monkeypatch)
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError"
    code = [c for c in node.cells if c.cell_type == "code"]
    first_stub = next(i for i, c in enumerate(code) if "raise NotImplementedError(" in c.source)
    ran = [i for i, c in enumerate(code) if c.get("execution_count") is not None]
    failed = max(ran)
    assert failed > first_stub                   # it got past the first exercise's cell ...
    assert "not implemented yet" in "".join(     # ... whose check said so, without a traceback
        o.get("text", "") for o in code[first_stub + 1].outputs)
    assert ran == list(range(failed + 1))        # and every cell before the stop ran


@pytest.mark.slow
@pytest.mark.parametrize("stem", STUDENT_RUN)
def test_solutions_injected_back_reproduce_the_instructor_run(stem, released, tmp_path,
                                                             monkeypatch):
    """The release with its solution blocks put back is the instructor's program: every code
    cell equals the instructor's cell with the two marker comment lines dropped (and every
    other cell is untouched), so it prints what the instructor's run prints; it is executed
    once here, every assert of the tutorial holding and its numbers printed.  (The
    instructor's own run is made, once per session, by ``tests/test_tutorials.py``.)"""
    text = (ROOT / "tutorials" / f"{stem}.py").read_text(encoding="utf-8")
    instructor = rel.to_notebook(text, name=stem)
    student = json.loads(json.dumps(released[stem]))
    assert len(student["cells"]) == len(instructor["cells"])
    injected = 0
    for s_cell, i_cell in zip(student["cells"], instructor["cells"]):
        assert s_cell["cell_type"] == i_cell["cell_type"]
        if s_cell["source"] != i_cell["source"]:
            assert rel.BEGIN in "".join(i_cell["source"])   # only solution cells differ
            s_cell["source"] = [line for line in i_cell["source"]
                                if not line.strip().startswith((rel.BEGIN, rel.END))]
            injected += 1
        else:                                  # an unchanged cell holds no solution block
            assert rel.BEGIN not in "".join(i_cell["source"])
    assert injected >= 2
    node, client = _client(student, tmp_path, monkeypatch)
    client.execute()                              # every assert of the tutorial holds
    printed = _stdout(node)
    assert sum(bool(text) for text in printed) >= 5    # the numbers were printed
