"""``minadv reproduce`` end to end, each run made ONCE per test session (session fixtures):

* one full quick run with ``--out`` (seed 0): the HTML and Markdown reports hold every
  experiment, its verdict linked to its section, its existing figure, CI columns;
* the cheap experiments quick at seeds 0, 1, 2 and default at seed 0, serially: their verdicts
  agree up to "inconclusive" (quick mode is the same protocol with fewer repeats); the quick
  seed-0 cheap run (serial) gives the full run's sections (parallel) byte for byte (timings
  aside); another seed changes every seeded experiment; the README's rows of the cheap
  experiments are the default run's.
"""

import html.parser
import os
import re

import pytest

from minadv import cli
from minadv.reproduce import EXPERIMENTS

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: experiments whose default run takes a few seconds of CPU (run at several seeds here)
CHEAP = ["gradcheck", "sharpness", "smoothness", "goodfellow", "goodfellow-digits",
         "yamada-digits", "kanai-digits"]


def _run(folder, *args):
    assert cli.main(["reproduce", *args, "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="session")
def full(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("full"), "--quick", "--seed", "0")


@pytest.fixture(scope="session")
def cheap(tmp_path_factory):
    base = tmp_path_factory.mktemp("cheap")
    # serial (``--workers 1``): these runs are a few seconds of CPU each, less than spawning
    # worker processes costs; the full run above is parallel, so comparing the two sections
    # also compares the serial and the parallel paths
    runs = {f"quick{s}": _run(base / f"quick{s}", *CHEAP, "--quick", "--seed", str(s),
                              "--workers", "1") for s in (0, 1, 2)}
    runs["default0"] = _run(base / "default0", *CHEAP, "--seed", "0", "--workers", "1")
    return runs


def _without_timings(path):
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if "run time" not in line]


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.sections, self.badge_links, self.tables = [], [], [], 0
        self.scroll_depth, self.unwrapped = 0, 0
        self.stack = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
        if tag == "section":
            self.sections.append(attrs["id"])
        if tag == "a" and "badge" in attrs.get("class", ""):
            self.badge_links.append(attrs["href"])
        if tag == "div":
            self.stack.append("scroll" in attrs.get("class", ""))
        if tag == "table":
            self.tables += 1
            self.unwrapped += not (self.stack and self.stack[-1])

    def handle_endtag(self, tag):
        if tag == "div":
            self.stack.pop()


def test_html_links_every_verdict_to_its_section_and_every_figure_exists(full):
    page = (full / "index.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert parser.sections == list(EXPERIMENTS)
    assert parser.badge_links == [f"#{name}" for name in EXPERIMENTS]
    assert parser.sources == [f"{name}.png" for name in EXPERIMENTS]
    for src in parser.sources:                       # relative, beside index.html
        assert not os.path.isabs(src) and (full / src).stat().st_size > 1000
    for name in EXPERIMENTS:                         # and referenced from its own section
        section = page.split(f'<section id="{name}">', 1)[1].split("</section>", 1)[0]
        assert f'src="{name}.png"' in section
    assert parser.tables > len(EXPERIMENTS) and parser.unwrapped == 0
    assert ".scroll{overflow-x:auto" in page and "@media print" in page
    assert '<nav><h2>Contents</h2><ol>' in page


def test_seeded_experiments_show_confidence_intervals(full):
    page = (full / "index.html").read_text(encoding="utf-8")
    for name, spec in EXPERIMENTS.items():
        section = page.split(f'<section id="{name}">', 1)[1].split("</section>", 1)[0]
        header = section.split("<table>", 1)[1].split("</tr>", 1)[0]
        if spec.seeded and name != "gradcheck":
            assert "95 % CI" in header, name
        assert "measured " in section and "the claim needs " in section, name


def test_markdown_mirrors_the_html(full):
    text = (full / "REPORT.md").read_text(encoding="utf-8")
    for name in EXPERIMENTS:
        assert f"## `{name}`:" in text and f"![{name}]({name}.png)" in text
        assert f'<a id="{name}"></a>' in text and f"](#{name})" in text
    assert text.count("**Verdict: ") == len(EXPERIMENTS)
    for key in ("python", "numpy", "scipy", "matplotlib", "minadv"):
        assert f"{key} " in text.splitlines()[2]
    assert "Seed 0, quick run" in text and "## Contents" in text


def _summary_rows(text):
    """Rows of the first Markdown table: {name: [paper, data, repeats, verdict, measured]}."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `([\w-]+)` \| (.*) \|$", line)
        if m:
            rows.setdefault(m.group(1), [c.strip() for c in m.group(2).split(" | ")])
    return rows


def test_claims_table_is_filled_with_measured_numbers(full):
    rows = _summary_rows((full / "REPORT.md").read_text(encoding="utf-8"))
    assert list(rows) == list(EXPERIMENTS)
    for name, (paper, data, repeats, verdict, measured) in rows.items():
        assert paper == EXPERIMENTS[name].paper and data
        assert int(repeats) == (EXPERIMENTS[name].k_quick if EXPERIMENTS[name].seeded else 1)
        assert re.fullmatch(r"\[(reproduced|not reproduced|inconclusive|not applicable here)\]"
                            rf"\(#{name}\)", verdict), verdict
        assert re.search(r"\d\.\d", measured), (name, measured)
        assert not re.search(r"nan|TODO|\?\?|xxx", measured, re.I), (name, measured)


def _verdicts(folder):
    return {name: row[3].split("]")[0].lstrip("[") for name, row in
            _summary_rows((folder / "REPORT.md").read_text(encoding="utf-8")).items()}


def test_quick_verdicts_never_contradict_each_other_or_the_default(cheap):
    runs = {key: _verdicts(folder) for key, folder in cheap.items()}
    opposite = {("reproduced", "not reproduced"), ("not reproduced", "reproduced")}
    for name in CHEAP:
        seen = {key: v[name] for key, v in runs.items()}
        pairs = {(a, b) for a in seen.values() for b in seen.values()}
        assert not pairs & opposite, (name, seen)
        assert len({v for v in seen.values() if v != "inconclusive"}) <= 1, (name, seen)


def _sections(path):
    """Experiment name -> its section of REPORT.md without timing lines."""
    text = "\n".join(_without_timings(path))
    parts = re.split(r"^## `([\w-]+)`:", text, flags=re.M)
    # a section's text up to the next anchor, without the blank lines that separate it from
    # the next section (the last section of a report has none)
    return {name: body.split('<a id="')[0].rstrip() for name, body in zip(parts[1::2],
                                                                          parts[2::2])}


def test_same_seed_gives_the_same_sections_and_figures(full, cheap):
    a, b = _sections(full / "REPORT.md"), _sections(cheap["quick0"] / "REPORT.md")
    for name in CHEAP:
        assert a[name] == b[name], name
        assert (full / f"{name}.png").read_bytes() == (cheap["quick0"] / f"{name}.png"
                                                       ).read_bytes(), name


def test_another_seed_changes_every_seeded_experiment(cheap):
    first, other = (_sections(cheap[k] / "REPORT.md") for k in ("quick0", "quick1"))
    for name in CHEAP:
        table = [line for line in first[name].splitlines() if line.startswith("| ")]
        table_other = [line for line in other[name].splitlines() if line.startswith("| ")]
        if EXPERIMENTS[name].seeded:
            assert table != table_other, f"{name}: --seed 1 gave the numbers of --seed 0"
        else:
            assert table == table_other, f"{name} is documented as not seeded"


def test_readme_table_is_the_default_run(cheap):
    """README's table is `minadv reproduce --markdown-table` (seed 0, default run)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    section = readme.split("## What `minadv reproduce` shows", 1)[1].split("\n## ", 1)[0]
    readme_rows = _summary_rows(section)
    default = _summary_rows((cheap["default0"] / "REPORT.md").read_text(encoding="utf-8"))
    assert list(readme_rows) == list(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert readme_rows[name][:2] == [EXPERIMENTS[name].paper, EXPERIMENTS[name].data]
        assert int(readme_rows[name][2]) == EXPERIMENTS[name].k
    for name in CHEAP:
        row = default[name]
        assert readme_rows[name] == row[:3] + [row[3].split("]")[0].lstrip("[")] + row[4:], name
