"""One figure per experiment, drawn from ``Experiment.data`` with matplotlib's object API.

``data["kind"]`` says what to draw:

* ``"curves"``: ``x`` and ``curves`` (label -> y values), ``xlabel``, ``ylabel``, optional
  ``logx``/``logy`` and ``bands`` (label -> (low, high) arrays: the 95 % CI, drawn shaded):
  one line per curve;
* ``"bars"``: ``labels`` (the x ticks) and ``groups`` (legend label -> one value per tick),
  ``ylabel``, optional ``logy`` and ``errors`` (label -> (low, high) arrays: the 95 % CI,
  drawn as error bars): grouped bars.

Both take an optional ``threshold``: ``(value, label)``, the claim's threshold drawn as a
dashed horizontal line.  Text is at least 10 pt (≈ 14 px at 100 % zoom of the 100-dpi PNG).

Two older layouts, also read by :func:`minadv.plotting.save_experiment_figure`, are accepted:
``sharpness`` (``eps``, ``lambda_max``, ``control``) and ``smoothness`` (``t`` and one ratio
array per norm); :func:`layout` turns them into ``"curves"``.

PNGs are written without the "Software" metadata key (and no timestamp is ever written by the
Agg backend), so the same numbers give byte-identical files.
"""

from __future__ import annotations

import os

import numpy as np

from .base import Experiment

__all__ = ["layout", "experiment_figure", "save_figure"]


FONT = 11          # points: 15 px at the PNG's 100 dpi, read at 100 % zoom


def _draw_curves(ax, data):
    bands = data.get("bands", {})
    for label, values in data["curves"].items():
        (line,) = ax.plot(data["x"], values, marker="o", label=label)
        if label in bands:
            low, high = bands[label]
            ax.fill_between(data["x"], low, high, color=line.get_color(), alpha=0.2,
                            linewidth=0)
    ax.set_xscale("log" if data.get("logx") else "linear")
    ax.set_xlabel(data.get("xlabel", ""), fontsize=FONT)


def _draw_bars(ax, data):
    labels, groups = data["labels"], data["groups"]
    errors = data.get("errors", {})
    width = 0.8 / max(len(groups), 1)
    pos = np.arange(len(labels))
    for i, (name, values) in enumerate(groups.items()):
        values = np.asarray(values, dtype=float)
        yerr = None
        if name in errors:
            low, high = (np.asarray(v, dtype=float) for v in errors[name])
            yerr = np.vstack([values - low, high - values])
        ax.bar(pos + (i - (len(groups) - 1) / 2) * width, values, width, label=name,
               yerr=yerr, capsize=3 if yerr is not None else 0)
    ax.set_xticks(pos, labels, rotation=20, ha="right")


def layout(data: dict) -> dict:
    """``data`` in the ``"curves"``/``"bars"`` layout (converting the two older layouts)."""
    if "kind" in data:
        return data
    if "curves" in data:
        return {"kind": "curves", **data}
    if "lambda_max" in data:                                   # sharpness
        return {"kind": "curves", "x": data["eps"], "xlabel": "eps", "logy": True,
                "ylabel": "largest Hessian eigenvalue",
                "curves": {"L2 adversarial": data["lambda_max"],
                           "random noise": data["control"]}}
    return {"kind": "curves", "x": data["t"], "xlabel": "t", "logx": True, "logy": True,
            "ylabel": "gradient-difference ratio",                 # smoothness (mean)
            "curves": {k: v for k, v in data.items() if k != "t"}}


def experiment_figure(exp: Experiment, ax=None):
    """Draw ``exp``'s figure on ``ax`` (a new ``Figure`` when None); return the Figure."""
    from matplotlib.figure import Figure

    if ax is None:
        ax = Figure(figsize=(8.0, 5.0), dpi=100).add_subplot()
    data = layout(exp.data)
    (_draw_bars if data.get("kind") == "bars" else _draw_curves)(ax, data)
    if data.get("logy"):
        ax.set_yscale("log")
    if data.get("threshold") is not None:
        value, label = data["threshold"]
        ax.axhline(value, color="0.2", linestyle="--", linewidth=1.2, label=label)
    ax.set_ylabel(data.get("ylabel", ""), fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.set_title(f"{exp.name}: {exp.verdict} ({exp.repeats} repeat"
                 f"{'s' if exp.repeats != 1 else ''}; shaded / bars: 95 % CI)", fontsize=FONT)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=FONT - 1)
    ax.figure.tight_layout()
    return ax.figure


def save_figure(exp: Experiment, out_dir: str) -> str:
    """Write ``out_dir/<name>.png`` (byte-stable: no Software metadata); return the file name."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = experiment_figure(exp)
    FigureCanvasAgg(fig)
    name = f"{exp.name}.png"
    fig.savefig(os.path.join(out_dir, name), metadata={"Software": None})
    return name
