"""The ``minadv`` command: list, reproduce (progress lines, gradcheck once), usage errors as ONE
line on stderr with exit status 2, and the ``grade`` hand-off."""

import os
import subprocess
import sys

import pytest

from minadv import cli
from minadv.reproduce import EXPERIMENTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minadv.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_list_one_line_per_experiment(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXPERIMENTS)
    for line, (name, spec) in zip(lines, EXPERIMENTS.items()):
        assert line.split()[0] == name and spec.paper in line and line.endswith(spec.data)


def test_reproduce_prints_one_progress_line_per_experiment(capsys):
    assert cli.main(["reproduce", "smoothness", "gradcheck", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] smoothness: reproduced" in out and "[2/2] gradcheck: reproduced" in out
    assert sum(line.startswith("[") for line in out.splitlines()) == 2
    # gradcheck's table belongs to `minadv gradcheck`: reproduce prints a summary line only
    assert "param grad" not in out and "model combinations, worst relative error" in out
    assert "seed 3, default run, 2 of 2 reproduced\nrun time: " in out


def test_strict_exit_status_and_markdown_table(capsys):
    assert cli.main(["reproduce", "smoothness", "--strict", "--markdown-table"]) == 0
    out = capsys.readouterr().out
    assert "| `smoothness` | Kanai et al. 2021 (2103.01400) |" in out


@pytest.mark.parametrize("args, expected", [
    (["reproduce", "nope"], "minadv reproduce: error: argument NAME: unknown experiment 'nope'"),
    (["reproduce", "--seed", "-1"],
     "minadv reproduce: error: argument --seed: expected a non-negative integer, got -1"),
    (["reproduce", "--seed=-5"],
     "minadv reproduce: error: argument --seed: expected a non-negative integer, got -5"),
    (["reproduce", "--seed", "1.5"],
     "minadv reproduce: error: argument --seed: expected a non-negative integer, got '1.5'"),
    (["reproduce", "--seed", "abc"],
     "minadv reproduce: error: argument --seed: expected a non-negative integer, got 'abc'"),
    (["gradcheck", "--seed", "-2"],
     "minadv gradcheck: error: argument --seed: expected a non-negative integer, got -2"),
    (["reproduce", "--bogus"], "minadv: error: unrecognized arguments: --bogus"),
    (["frobnicate"], "minadv: error: argument COMMAND: invalid choice: 'frobnicate'"),
], ids=["name", "neg-seed", "neg-seed-eq", "float-seed", "text-seed", "gradcheck-seed",
        "unknown-option", "unknown-command"])
def test_usage_errors_are_one_line_with_status_2(capsys, args, expected):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(expected), captured.err


def test_unwritable_out_is_a_usage_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out, expected in ((blocker, f"expected a folder, got the file '{blocker}'"),
                          (blocker / "sub", f"cannot create the folder '{blocker / 'sub'}'")):
        with pytest.raises(SystemExit) as info:
            cli.main(["reproduce", "smoothness", "--out", str(out)])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.count("\n") == 1
        assert err.startswith(f"minadv reproduce: error: argument --out: {expected}"), err


def test_module_entry_point_and_subprocess_errors():
    ok = _run("list")
    assert ok.returncode == 0 and ok.stdout.splitlines()[0].startswith("gradcheck ")
    bad = _run("reproduce", "--seed", "-1")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == ("minadv reproduce: error: argument --seed: expected a non-negative "
                          "integer, got -1\n")


def test_grade_is_handed_to_the_course_cli(monkeypatch):
    course_cli = pytest.importorskip("minadv.course.cli")
    seen = []
    monkeypatch.setattr(course_cli, "main", lambda argv: seen.append(argv) or 7)
    assert cli.main(["grade", "--list", "x"]) == 7
    assert seen == [["--list", "x"]]


def test_grade_without_the_course_package_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "minadv.course", None)     # as if it were not installed
    monkeypatch.delitem(sys.modules, "minadv.course.cli", raising=False)
    assert cli.main(["grade", "--list"]) == 2
    err = capsys.readouterr().err
    assert err == ("minadv grade: error: the course package minadv.course is not part of this "
                   "installation\n")
