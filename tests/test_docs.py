"""Every citation of the project's own documents resolves, and nothing cites a file users never get.

A docstring, comment, printed line or tutorial may cite ``docs/<page>.md`` (or, until the
citations are rewritten, the bare ``theory.md``, which means ``docs/theory.md``) followed by
section numbers (``§2.5``, ``section 2.5``, ``sections 3.2-3.4 and 3.7``, ``2.5, 12``) or
equation labels (``eq. (1.3)``, ``(4.2)``).  Each cited page must exist, each section number
must be a heading of that page and each equation label must end a displayed formula there.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCANNED = ["minadv", "tutorials", "benchmarks", "tests", "README.md"]
SUFFIXES = {".py", ".md", ".txt", ".cfg", ".toml"}
THIS_FILE = Path(__file__).resolve()

# a cited page: docs/<name>.md, or the bare theory.md (old form, mapped to docs/theory.md)
PAGE = re.compile(r"(?<![\w/.])(docs/[\w-]+\.md|theory\.md)")
NUMBER = r"\d+(?:\.\d+)?"
# one reference: "§ 2.5", "section 2.5", "sections 1", "sec. 3", "eq. (1.3)", "(4.2)", "2.5"
REF = re.compile(rf"(?:(?P<eq>eqs?\.\s*|equations?\s+)?\((?P<eqnum>{NUMBER})\)"
                 rf"|(?:§\s*|sections?\s+|sec\.\s*)?(?P<sec>{NUMBER})(?![\w.]*\w))", re.I)
CONNECTOR = re.compile(r"\s*(?:,|;?\s*and\b|\bor\b|-|–|/|to\b)?\s*", re.I)
SKIP = re.compile(r"\s*(?:\((?:items?|[a-z])[^)]*\)|,?\s*(?:checklist\s+)?items?\s+\d+"
                  r"(?:\s*,\s*\d+)*)", re.I)
FORBIDDEN = re.compile(r"BENCHMARKS\.md|STYLE\.md|shared/theory\.md|/work/shared")


def scanned_files():
    for entry in SCANNED:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if f.suffix in SUFFIXES and f.resolve() != THIS_FILE and "__pycache__" not in f.parts:
                yield f


def flattened(text: str) -> str:
    """Join wrapped lines (and comment continuations) so a citation reads as one line."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", text)


def parse_refs(tail: str) -> list[tuple[str, str]]:
    """``[("sec", "2.5"), ("eq", "1.3"), ...]`` at the start of ``tail`` (text after the page)."""
    tail = re.sub(r"^[`'\"*]*\s*", "", tail)
    refs, pos = [], 0
    while m := REF.match(tail, pos):
        refs.append(("eq", m.group("eqnum")) if m.group("eqnum") else ("sec", m.group("sec")))
        pos = m.end()
        skip = SKIP.match(tail, pos)                      # "(items 5, 7)", ", item 4"
        pos = CONNECTOR.match(tail, skip.end() if skip else pos).end()
    return refs


def citations():
    """``(file, page, kind, number)`` for every numbered citation in the scanned files."""
    found = []
    for f in scanned_files():
        text = flattened(f.read_text(encoding="utf-8", errors="replace"))
        for m in PAGE.finditer(text):
            page = m.group(1) if m.group(1).startswith("docs/") else "docs/theory.md"
            refs = parse_refs(text[m.end():m.end() + 160])
            found.append((f.relative_to(ROOT).as_posix(), page, None, None))
            found.extend((f.relative_to(ROOT).as_posix(), page, k, n) for k, n in refs)
    return found


def headings(page: Path) -> set[str]:
    return set(re.findall(r"(?m)^#{1,4}\s+(\d+(?:\.\d+)*)[.\s]", page.read_text(encoding="utf-8")))


def equation_labels(page: Path) -> set[str]:
    return set(re.findall(r"(?m)\((\d+\.\d+)\)\s*$", page.read_text(encoding="utf-8")))


CITATIONS = citations()


# ------------------------------------------------------------------------- the parser itself
@pytest.mark.parametrize("tail, expected", [
    (" §2.5 table", [("sec", "2.5")]),
    ("`` section 0 (items 5, 7, 8, 9), section 11 (sigsoftmax), section 12.",
     [("sec", "0"), ("sec", "11"), ("sec", "12")]),
    (" sections 3.2-3.4 and 3.7) compare", [("sec", "3.2"), ("sec", "3.4"), ("sec", "3.7")]),
    (" eq. (1.1), library convention", [("eq", "1.1")]),
    ("`` (4.2)).", [("eq", "4.2")]),
    (" 2.5: n = 400, d = 20, seed 1", [("sec", "2.5")]),
    (" 2.5, 12\",", [("sec", "2.5"), ("sec", "12")]),
    (" section 13, item 4).", [("sec", "13")]),
    (" sections 3.5, 9.2 and checklist item 13.9).", [("sec", "3.5"), ("sec", "9.2")]),
    (" (3.2)/(1.3): FD Hessian", [("eq", "3.2"), ("eq", "1.3")]),
    (" (shared notes). Every number", []),
    (", the project's own rewrite", []),
])
def test_citation_parser(tail, expected):
    assert parse_refs(tail) == expected


def test_the_scan_finds_citations():
    assert any(k == "sec" for _, _, k, _ in CITATIONS)


# ------------------------------------------------------------------------- the documents
def test_docs_pages_exist_and_theory_has_every_top_level_section():
    assert (DOCS / "index.md").is_file() and (DOCS / "benchmarks.md").is_file()
    secs = headings(DOCS / "theory.md")
    assert {str(i) for i in range(17)} <= secs          # §0-§14 as cited, §15-§16 added


@pytest.mark.parametrize("where, page, kind, number",
                         [c for c in CITATIONS if c[2] is not None] or [("-", "-", "sec", "-")],
                         ids=lambda v: str(v))
def test_numbered_citation_resolves(where, page, kind, number):
    path = ROOT / page
    assert path.is_file(), f"{where} cites {page}, which is not in the repository"
    known = headings(path) if kind == "sec" else equation_labels(path)
    what = "§" if kind == "sec" else "eq. "
    assert number in known, f"{where} cites {page} {what}{number}, which {page} does not have"


def test_every_cited_docs_page_exists():
    missing = sorted({(w, p) for w, p, _, _ in CITATIONS if not (ROOT / p).is_file()})
    assert not missing, f"cited pages that do not exist: {missing}"


def test_relative_links_in_the_documentation_resolve():
    broken = []
    for md in [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", md.read_text(encoding="utf-8")):
            if "://" not in target and not (md.parent / target).exists():
                broken.append(f"{md.relative_to(ROOT)} -> {target}")
    assert not broken, broken


# ------------------------------------------------------------------------- forbidden citations
def _offenders(pattern: re.Pattern) -> list[str]:
    out = []
    for f in scanned_files():
        for i, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                out.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    return out


def test_nothing_cites_the_team_notes():
    offenders = _offenders(FORBIDDEN)
    assert not offenders, "cite docs/benchmarks.md or docs/theory.md instead:\n" + "\n".join(offenders)


def test_theory_is_cited_by_its_path_in_the_repository():
    offenders = _offenders(re.compile(r"(?<![\w/.])theory\.md"))
    assert not offenders, "write docs/theory.md:\n" + "\n".join(offenders)


def test_readme_opens_with_install_test_and_gradcheck_commands_and_ci_runs_them():
    """README opens with the install + test commands and `minadv gradcheck`;
    `.ci/run` installs the way the README says and runs the README's test command."""
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert first_block and readme.index(first_block.group(0)) < 200   # the README opens with it
    commands = first_block.group(1)
    assert "minadv gradcheck" in commands
    test_cmd = re.search(r'pip install -e "\.\[test\]" && python -m pytest', commands)
    assert test_cmd, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv" in ci and test_cmd.group(0) in ci


def test_readme_quick_start_runs_and_its_check_passes():
    """The ~10-line quick start builds a model, computes loss / gradients / input
    gradient / HVP and checks them -- run it verbatim."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Quick start\s*```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "FAIL" not in out.stdout and out.stdout.count("ok") == 4, out.stdout
