"""The written report of a ``minadv reproduce --out DIR`` run: ``REPORT.md``, a self-contained
``index.html`` (inline style, figures beside it referenced by relative name) and one PNG per
experiment.

Determinism: everything but the timings is a function of the measured numbers, the seed and
the versions, so the same seed gives byte-identical files.  Every timing sits on its own line
containing ``run time`` (a test drops those lines and compares the rest).
"""

from __future__ import annotations

import html
import os
import platform

from .base import Experiment, format_cell

__all__ = ["versions", "summary_table", "markdown_report", "html_report", "write_report"]


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


def summary_table(results: list[Experiment], specs: dict) -> str:
    """The Markdown table of all experiments: name, paper, data, verdict, headline numbers."""
    lines = ["| experiment | paper | data | verdict | measured |", "| --- | --- | --- | --- | --- |"]
    for exp in results:
        spec = specs[exp.name]
        lines.append(f"| `{exp.name}` | {_md(spec.paper)} | {_md(spec.data)} | "
                     f"{_md(exp.verdict)} | {_md(exp.summary)} |")
    return "\n".join(lines)


def _md_experiment(exp: Experiment, figure: str, seconds: float) -> list[str]:
    rows = [f"| {' | '.join(_md(h) for h in exp.header)} |",
            "|" + " --- |" * len(exp.header)]
    rows += [f"| {' | '.join(_md(format_cell(v)) for v in row)} |" for row in exp.rows]
    return [f"## `{exp.name}`: {exp.title}", "", f"*{exp.reference}*", "",
            f"**Paper:** {exp.paper}", "", "**Measured:**", "", *rows, "",
            f"**Verdict: {exp.verdict}**", "",
            *(f"- [{'x' if ok else ' '}] {'ok' if ok else 'FAIL'}: {text}"
              for text, ok in exp.checks), "",
            *(f"- Note: {note}" for note in exp.notes), "",
            f"![{exp.name}]({figure})", "", f"run time: {seconds:.1f} s", ""]


def markdown_report(results, specs, figures, seconds, *, seed, quick, timing) -> str:
    """The text of ``REPORT.md``."""
    head = ["# minadv reproduce: report", "",
            f"Seed {seed}, {'quick' if quick else 'default'} run; versions: "
            + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".", "",
            f"run time: {timing}", "",
            f"{sum(e.passed for e in results)} of {len(results)} experiments reproduced; a "
            "claim that does not reproduce is reported with its numbers.", "",
            summary_table(results, specs), ""]
    body = [line for exp in results
            for line in _md_experiment(exp, figures[exp.name], seconds[exp.name])]
    return "\n".join(head + body)


_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em;line-height:1.4}"
          "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
          "padding:.2em .5em;text-align:right}th{background:#eee}.ok{color:#060}"
          ".fail{color:#a00}img{max-width:100%}code{background:#f4f4f4}")


def _html_table(header, rows) -> str:
    e = html.escape
    out = ["<table>", "<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{e(format_cell(v))}</td>" for v in row) + "</tr>"
            for row in rows]
    return "\n".join(out + ["</table>"])


def _html_experiment(exp: Experiment, figure: str, seconds: float) -> list[str]:
    e = html.escape
    cls = "ok" if exp.passed else "fail"
    return [f'<h2 id="{e(exp.name)}"><code>{e(exp.name)}</code>: {e(exp.title)}</h2>',
            f"<p><em>{e(exp.reference)}</em></p>",
            f"<p><strong>Paper:</strong> {e(exp.paper)}</p>",
            "<p><strong>Measured:</strong></p>", _html_table(exp.header, exp.rows),
            f'<p class="{cls}"><strong>Verdict: {e(exp.verdict)}</strong></p>', "<ul>",
            *(f'<li class="{"ok" if ok else "fail"}">{"ok" if ok else "FAIL"}: {e(text)}</li>'
              for text, ok in exp.checks), "</ul>",
            *(f"<p>Note: {e(note)}</p>" for note in exp.notes),
            f'<p><img src="{e(figure)}" alt="figure of {e(exp.name)}"></p>',
            f'<p class="timing">run time: {seconds:.1f} s</p>']


def html_report(results, specs, figures, seconds, *, seed, quick, timing) -> str:
    """The text of ``index.html`` (self-contained apart from the PNGs beside it)."""
    e = html.escape
    rows = [(f"{x.name}", specs[x.name].paper, specs[x.name].data, x.verdict, x.summary)
            for x in results]
    head = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            "<title>minadv reproduce: report</title>", f"<style>{_STYLE}</style>", "</head>",
            "<body>", "<h1>minadv reproduce: report</h1>",
            f"<p>Seed {seed}, {'quick' if quick else 'default'} run; versions: "
            + e(", ".join(f"{k} {v}" for k, v in versions().items())) + ".</p>",
            f'<p class="timing">run time: {e(timing)}</p>',
            f"<p>{sum(x.passed for x in results)} of {len(results)} experiments reproduced; a "
            "claim that does not reproduce is reported with its numbers.</p>",
            _html_table(["experiment", "paper", "data", "verdict", "measured"], rows)]
    body = [line for x in results
            for line in _html_experiment(x, figures[x.name], seconds[x.name])]
    return "\n".join(head + body + ["</body>", "</html>", ""])


def write_report(out_dir: str, results: list[Experiment], specs: dict, seconds: dict, *,
                 seed: int, quick: bool, timing: str) -> list[str]:
    """Write the PNGs, ``REPORT.md`` and ``index.html`` into ``out_dir`` (created if needed);
    return the paths written.  ``seconds``: wall time per experiment; ``timing``: the whole
    run's, as text (e.g. ``"41.0 s, CPU 20.3 s, load average 1.2"``)."""
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
