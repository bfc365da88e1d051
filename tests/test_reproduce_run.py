"""``minadv reproduce --quick --out D`` end to end: the written report holds every experiment
with its figure and measured numbers; the same seed reproduces it byte for byte (timing lines
aside); another seed changes every seeded experiment; the README's table agrees with it.

Three quick runs (seeds 0, 0, 1): about 20 s of CPU each on an idle machine, hence ``slow``.
"""

import html.parser
import os
import re

import pytest

from minadv import cli
from minadv.reproduce import EXPERIMENTS

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# experiments whose quick run is their default run (the others run fewer repeats)
QUICK_IS_DEFAULT = {"gradcheck", "sharpness", "smoothness", "goodfellow", "shaham",
                    "goodfellow-digits", "shaham-digits", "madry-digits"}


def _quick_run(folder, seed):
    assert cli.main(["reproduce", "--quick", "--seed", str(seed), "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports")
    return {key: _quick_run(base / key, seed) for key, seed in (("a", 0), ("b", 0), ("c", 1))}


def _without_timings(path):
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if "run time" not in line]


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.ids = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
        if tag == "h2":
            self.ids.append(attrs["id"])


def test_html_holds_every_experiment_and_its_existing_figure(runs):
    folder = runs["a"]
    parser = _Images()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    assert parser.ids == list(EXPERIMENTS)
    assert parser.sources == [f"{name}.png" for name in EXPERIMENTS]
    for src in parser.sources:                       # relative, beside index.html
        assert not os.path.isabs(src) and (folder / src).stat().st_size > 1000


def test_markdown_holds_every_experiment_with_figure_and_verdict(runs):
    text = (runs["a"] / "REPORT.md").read_text(encoding="utf-8")
    for name in EXPERIMENTS:
        assert f"## `{name}`:" in text and f"![{name}]({name}.png)" in text
    assert text.count("**Verdict: ") == len(EXPERIMENTS)
    for key in ("python", "numpy", "scipy", "matplotlib", "minadv"):
        assert f"{key} " in text.splitlines()[2]
    assert "Seed 0, quick run" in text


def _summary_rows(text):
    """Rows of the first Markdown table: {name: [paper, data, verdict, measured]}."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `([\w-]+)` \| (.*) \|$", line)
        if m:
            rows.setdefault(m.group(1), [c.strip() for c in m.group(2).split(" | ")])
    return rows


def test_claims_table_is_filled_with_measured_numbers(runs):
    rows = _summary_rows((runs["a"] / "REPORT.md").read_text(encoding="utf-8"))
    assert list(rows) == list(EXPERIMENTS)
    for name, (paper, data, verdict, measured) in rows.items():
        assert paper == EXPERIMENTS[name].paper and data
        assert verdict == "reproduced" or verdict.startswith("not reproduced (")
        assert re.search(r"\d\.\d", measured), (name, measured)
        assert not re.search(r"nan|TODO|\?\?|xxx", measured, re.I), (name, measured)


def test_same_seed_gives_a_byte_identical_report(runs):
    a, b = runs["a"], runs["b"]
    for name in ("REPORT.md", "index.html"):
        assert _without_timings(a / name) == _without_timings(b / name)
    for name in EXPERIMENTS:
        assert (a / f"{name}.png").read_bytes() == (b / f"{name}.png").read_bytes(), name


def _sections(path):
    """Experiment name -> its section of REPORT.md without timing lines."""
    text = "\n".join(_without_timings(path))
    parts = re.split(r"^## `([\w-]+)`:", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_another_seed_changes_every_seeded_experiment(runs):
    first, other = _sections(runs["a"] / "REPORT.md"), _sections(runs["c"] / "REPORT.md")
    for name, spec in EXPERIMENTS.items():
        table = [line for line in first[name].splitlines() if line.startswith("| ")]
        table_other = [line for line in other[name].splitlines() if line.startswith("| ")]
        if spec.seeded:
            assert table != table_other, f"{name}: --seed 1 gave the numbers of --seed 0"
        else:
            assert table == table_other, f"{name} is documented as not seeded"


def test_readme_table_is_the_default_run(runs):
    """README's table is `minadv reproduce --markdown-table` (seed 0, default run): rows of the
    experiments whose quick run IS the default run must equal the quick report's rows."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    section = readme.split("## What `minadv reproduce` shows", 1)[1].split("\n## ", 1)[0]
    readme_rows = _summary_rows(section)
    quick_rows = _summary_rows((runs["a"] / "REPORT.md").read_text(encoding="utf-8"))
    assert list(readme_rows) == list(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert readme_rows[name][:2] == quick_rows[name][:2]
        if name in QUICK_IS_DEFAULT:
            assert readme_rows[name] == quick_rows[name], name
