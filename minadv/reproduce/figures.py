"""One figure per experiment, drawn from ``Experiment.data`` with matplotlib's object API.

``data["kind"]`` says what to draw:

* ``"curves"``: ``x`` and ``curves`` (label -> y values), ``xlabel``, ``ylabel``, optional
  ``logx``/``logy``: one line per curve;
* ``"bars"``: ``labels`` (the x ticks) and ``groups`` (legend label -> one value per tick),
  ``ylabel``, optional ``logy``: grouped bars.

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


def _draw_curves(ax, data):
    for label, values in data["curves"].items():
        ax.plot(data["x"], values, marker="o", label=label)
    ax.set_xscale("log" if data.get("logx") else "linear")
    ax.set_xlabel(data.get("xlabel", ""))


def _draw_bars(ax, data):
    labels, groups = data["labels"], data["groups"]
    width = 0.8 / max(len(groups), 1)
    pos = np.arange(len(labels))
    for i, (name, values) in enumerate(groups.items()):
        ax.bar(pos + (i - (len(groups) - 1) / 2) * width, values, width, label=name)
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
            "ylabel": "gradient-difference ratio",                 # smoothness
            "curves": {k: v for k, v in data.items() if k != "t"}}


def experiment_figure(exp: Experiment, ax=None):
    """Draw ``exp``'s figure on ``ax`` (a new ``Figure`` when None); return the Figure."""
    from matplotlib.figure import Figure

    if ax is None:
        ax = Figure(figsize=(6.4, 4.0), dpi=100).add_subplot()
    data = layout(exp.data)
    (_draw_bars if data.get("kind") == "bars" else _draw_curves)(ax, data)
    if data.get("logy"):
        ax.set_yscale("log")
    ax.set_ylabel(data.get("ylabel", ""))
    ax.set_title(f"{exp.name}: {exp.verdict}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
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
