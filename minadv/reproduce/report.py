"""The written report of a ``minadv reproduce --out DIR`` run: ``REPORT.md``, a self-contained
``index.html`` (inline style, figures beside it referenced by relative name) and one PNG per
experiment.

The HTML report is made to be handed out: a summary table whose coloured verdict badges link to
each experiment's section, a table of contents, wide tables in horizontal scroll wrappers (they
scroll on narrow screens instead of being clipped), a print stylesheet (tables wrap, sections
start on a new page, links print as text), and each check worded as "measured 0.872 (95 % CI
0.850–0.890, n = 5); the claim needs ≥ 0.900" with the derivation of its threshold.
``REPORT.md`` mirrors it.

Determinism: everything but the timings is a function of the measured numbers, the seed and
the versions, so the same seed gives byte-identical files.  Every timing sits on its own line
containing ``run time`` (a test drops those lines and compares the rest).
"""

from __future__ import annotations

import html
import os
import platform

from .base import Experiment, format_cell
from .stats import VERDICTS

__all__ = ["versions", "summary_table", "markdown_report", "html_report", "write_report",
           "STYLE"]

_STATS_NOTE = ("Each seeded experiment runs k independent repeats (data, initialisation, "
               "training order and attacks from independent child streams of the seed); a "
               "check is decided by the two-sided 95 % Student-t confidence interval of its "
               "statistic over the repeats: reproduced (the interval is on the claim's side "
               "of the threshold), not reproduced (the interval excludes the claim), "
               "inconclusive (it straddles the threshold), not applicable here (the data "
               "cannot show the claim; the reason is given). An experiment is not reproduced "
               "if any check is, else inconclusive if any check is, else reproduced. "
               "Quick mode runs the same protocols with fewer repeats. See docs/reproduce.md.")


def versions() -> dict[str, str]:
    """Versions of python, numpy, scipy, matplotlib and minadv."""
    import matplotlib
    import numpy
    import scipy

    from .. import __version__

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "matplotlib": matplotlib.__version__,
            "minadv": __version__}


def _md(text) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _counts(results) -> str:
    counts = {v: sum(e.verdict == v for e in results) for v in VERDICTS}
    return ", ".join(f"{n} {v}" for v, n in counts.items() if n)


def summary_table(results: list[Experiment], specs: dict, *, links: bool = False) -> str:
    """The Markdown table of all experiments: name, paper, data, repeats, verdict, headline
    numbers (``links=True``: the verdict links to the experiment's section)."""
    lines = ["| experiment | paper | data | repeats | verdict | measured |",
             "| --- | --- | --- | --- | --- | --- |"]
    for exp in results:
        spec = specs[exp.name]
        verdict = f"[{exp.verdict}](#{exp.name})" if links else exp.verdict
        lines.append(f"| `{exp.name}` | {_md(spec.paper)} | {_md(spec.data)} | {exp.repeats} | "
                     f"{_md(verdict)} | {_md(exp.summary)} |")
    return "\n".join(lines)


def _md_experiment(exp: Experiment, figure: str, seconds: float) -> list[str]:
    rows = [f"| {' | '.join(_md(h) for h in exp.header)} |",
            "|" + " --- |" * len(exp.header)]
    rows += [f"| {' | '.join(_md(format_cell(v)) for v in row)} |" for row in exp.rows]
    return [f'<a id="{exp.name}"></a>', "", f"## `{exp.name}`: {exp.title}", "",
            f"*{exp.reference}*", "", f"**Paper:** {exp.paper}", "",
            f"**Measured** ({exp.repeats} repeat{'s' if exp.repeats != 1 else ''}):", "",
            *rows, "", f"**Verdict: {exp.verdict}**", "",
            *(f"- **{c.verdict}**: {_md(c.line())}. *Threshold:* {_md(c.derivation)}"
              for c in exp.checks), "",
            *(f"- Note: {note}" for note in exp.notes), "",
            f"![{exp.name}]({figure})", "", f"run time: {seconds:.1f} s CPU", ""]


def markdown_report(results, specs, figures, seconds, *, seed, quick, timing) -> str:
    """The text of ``REPORT.md``."""
    head = ["# minadv reproduce: report", "",
            f"Seed {seed}, {'quick' if quick else 'default'} run; versions: "
            + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".", "",
            f"run time: {timing}", "",
            f"Verdicts: {_counts(results)}. A claim that does not reproduce is reported with "
            "its numbers.", "", _STATS_NOTE, "",
            summary_table(results, specs, links=True), "", "## Contents", "",
            *(f"{i}. [`{e.name}`](#{e.name}): {e.title}" for i, e in enumerate(results, 1)), ""]
    body = [line for exp in results
            for line in _md_experiment(exp, figures[exp.name], seconds[exp.name])]
    return "\n".join(head + body)


#: the report's stylesheet (screen and print)
STYLE = """
body{font-family:system-ui,sans-serif;max-width:62em;margin:auto;padding:1em;line-height:1.45;
color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
.scroll{overflow-x:auto;max-width:100%;margin:.5em 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border:1px solid #bbb;padding:.25em .55em;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}th{background:#eee}
.badge{display:inline-block;padding:.1em .55em;border-radius:.8em;font-size:.9em;
font-weight:600;text-decoration:none;white-space:nowrap;color:#fff}
.v-reproduced{background:#1a7f37}.v-inconclusive{background:#9a6700}
.v-not-reproduced{background:#b42318}.v-not-applicable-here{background:#6e7781}
ul.checks{padding-left:1.2em}ul.checks li{margin:.35em 0}
.why{color:#555;font-size:.92em}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}
nav ol{columns:2;column-gap:2em}code{background:#f4f4f4;padding:0 .2em}
@media print{body{max-width:none;font-size:10pt}.scroll{overflow:visible}
table{font-size:8.5pt}td,th{white-space:normal}section{break-before:page}
a{color:inherit;text-decoration:none}.badge{border:1px solid #000;color:#000;
background:none!important}nav ol{columns:1}figure{break-inside:avoid}}
""".strip()


def _slug(verdict: str) -> str:
    return "v-" + verdict.replace(" ", "-")


def _badge(verdict: str, target: str | None = None) -> str:
    e = html.escape
    if target is None:
        return f'<span class="badge {_slug(verdict)}">{e(verdict)}</span>'
    return f'<a class="badge {_slug(verdict)}" href="#{e(target)}">{e(verdict)}</a>'


def _cell(value) -> str:
    text = format_cell(value)
    numeric = text[:1].isdigit() or text[:1] in "−-." or text in ("—",)
    return f'<td class="num">{html.escape(text)}</td>' if numeric else \
        f"<td>{html.escape(text)}</td>"


def _html_table(header, rows, raw: set | None = None) -> str:
    """A table in a scroll wrapper; columns in ``raw`` hold trusted HTML."""
    e = html.escape
    raw = raw or set()
    out = ['<div class="scroll">', "<table>",
           "<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{v}</td>" if j in raw else _cell(v)
                                    for j, v in enumerate(row)) + "</tr>")
    return "\n".join(out + ["</table>", "</div>"])


def _html_experiment(exp: Experiment, figure: str, seconds: float) -> list[str]:
    e = html.escape
    return [f'<section id="{e(exp.name)}">',
            f"<h2><code>{e(exp.name)}</code>: {e(exp.title)}</h2>",
            f"<p><em>{e(exp.reference)}</em></p>",
            f"<p><strong>Paper:</strong> {e(exp.paper)}</p>",
            f"<p><strong>Measured</strong> ({exp.repeats} repeat"
            f"{'s' if exp.repeats != 1 else ''}):</p>", _html_table(exp.header, exp.rows),
            f"<p><strong>Verdict:</strong> {_badge(exp.verdict)}</p>", '<ul class="checks">',
            *(f"<li>{_badge(c.verdict)} {e(c.line())}.<br><span class=\"why\">Threshold: "
              f"{e(c.derivation)}</span></li>" for c in exp.checks), "</ul>",
            *(f"<p>Note: {e(note)}</p>" for note in exp.notes),
            f'<figure><img src="{e(figure)}" alt="figure of {e(exp.name)}" width="800">'
            f"<figcaption>{e(exp.name)}: means over the repeats; shaded bands and error bars "
            "are 95 % confidence intervals; a dashed line is the threshold or bound named in the legend."
            "</figcaption></figure>",
            f'<p class="timing">run time: {seconds:.1f} s CPU</p>', "</section>"]


def html_report(results, specs, figures, seconds, *, seed, quick, timing) -> str:
    """The text of ``index.html`` (self-contained apart from the PNGs beside it)."""
    e = html.escape
    rows = [(f'<a href="#{e(x.name)}"><code>{e(x.name)}</code></a>', specs[x.name].paper,
             specs[x.name].data, x.repeats, _badge(x.verdict, x.name), x.summary)
            for x in results]
    head = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>minadv reproduce: report</title>", f"<style>\n{STYLE}\n</style>",
            "</head>", "<body>", "<h1>minadv reproduce: report</h1>",
            f"<p>Seed {seed}, {'quick' if quick else 'default'} run; versions: "
            + e(", ".join(f"{k} {v}" for k, v in versions().items())) + ".</p>",
            f'<p class="timing">run time: {e(timing)}</p>',
            f"<p>Verdicts: {e(_counts(results))}. A claim that does not reproduce is reported "
            "with its numbers.</p>", f"<p>{e(_STATS_NOTE)}</p>",
            _html_table(["experiment", "paper", "data", "repeats", "verdict", "measured"],
                        rows, raw={0, 4}),
            "<nav><h2>Contents</h2><ol>",
            *(f'<li><a href="#{e(x.name)}"><code>{e(x.name)}</code></a>: {e(x.title)}</li>'
              for x in results), "</ol></nav>"]
    body = [line for x in results
            for line in _html_experiment(x, figures[x.name], seconds[x.name])]
    return "\n".join(head + body + ["</body>", "</html>", ""])


def write_report(out_dir: str, results: list[Experiment], specs: dict, seconds: dict, *,
                 seed: int, quick: bool, timing: str) -> list[str]:
    """Write the PNGs, ``REPORT.md`` and ``index.html`` into ``out_dir`` (created if needed);
    return the paths written.  ``seconds``: CPU time per experiment; ``timing``: the whole
    run's, as text."""
    from .figures import save_figure

    os.makedirs(out_dir, exist_ok=True)
    figures = {exp.name: save_figure(exp, out_dir) for exp in results}
    kw = {"seed": seed, "quick": quick, "timing": timing}
    paths = []
    for name, text in (("REPORT.md", markdown_report(results, specs, figures, seconds, **kw)),
                       ("index.html", html_report(results, specs, figures, seconds, **kw))):
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        paths.append(path)
    return [os.path.join(out_dir, f) for f in figures.values()] + paths
