"""Figures for the reproductions and tutorials (matplotlib, imported only here).

Every function takes the numbers (arrays or an :class:`~minadv.reproduce.Experiment`) and an
optional ``ax``; none computes anything of substance, so what is plotted is what the tests
checked.  ``import minadv`` does not import matplotlib.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = [
    "plot_sharpness",
    "plot_smoothness",
    "plot_curve",
    "plot_slice_2d",
    "plot_decision_boundary",
    "save_experiment_figure",
]


def _pyplot():
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    return fig, ax


def plot_sharpness(eps, lambda_max, control=None, ax=None):
    """lambda_max of the Hessian against eps, with the random-noise control if given."""
    fig, ax = _axes(ax)
    ax.plot(eps, lambda_max, "o-", label="L2 adversarial training")
    if control is not None:
        ax.plot(eps, control, "s--", label="random noise, same norm")
    ax.set_xlabel("eps")
    ax.set_ylabel("largest Hessian eigenvalue")
    ax.set_title("Sharpness of the weight loss landscape")
    ax.legend()
    return fig


def plot_smoothness(t, ratios: dict, ax=None):
    """Gradient-difference ratios against the step ``t`` (log-log), one line per constraint."""
    fig, ax = _axes(ax)
    for name, values in ratios.items():
        ax.loglog(t, values, "o-", label=name)
    ax.invert_xaxis()
    ax.set_xlabel("step t")
    ax.set_ylabel("||g(w+tv) - g(w-tv)|| / 2t")
    ax.set_title("Gradient-Lipschitz estimate at a kink")
    ax.legend()
    return fig


def plot_curve(x, curves: dict, xlabel: str = "", ylabel: str = "", title: str = "", ax=None,
               logy: bool = False):
    """Generic line plot ``{label: values}`` against ``x`` (accuracy vs eps, 1-D slices...)."""
    fig, ax = _axes(ax)
    for label, values in curves.items():
        ax.plot(x, values, "o-" if len(x) < 30 else "-", label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return fig


def plot_slice_2d(alphas, betas, values, ax=None, title: str = "loss"):
    """Contour plot of a 2-D loss slice ``values[i, j] = L(θ + α_i d1 + β_j d2)``."""
    fig, ax = _axes(ax)
    A, B = np.meshgrid(alphas, betas, indexing="ij")
    cs = ax.contour(A, B, values, levels=20)
    ax.clabel(cs, fontsize=7)
    ax.set_xlabel("alpha (d1)")
    ax.set_ylabel("beta (d2)")
    ax.set_title(title)
    return fig


def plot_decision_boundary(predict_proba, X2d, y, lim: float = 2.0, ax=None, title: str = "",
                           embed: Any = None):
    """Class-1 probability contour over the plane, with the labelled points.

    ``embed`` (2, D) maps plane points into the model's input space (``z @ embed``), as for the
    100-D synthetic VAT data (theory.md 6.4).
    """
    fig, ax = _axes(ax)
    grid = np.linspace(-lim, lim, 81)
    G1, G2 = np.meshgrid(grid, grid)
    Z = np.column_stack([G1.ravel(), G2.ravel()])
    inputs = Z @ embed if embed is not None else Z
    proba = predict_proba(inputs)[:, 1].reshape(G1.shape)
    ax.contourf(G1, G2, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(G1, G2, proba, levels=[0.5], colors="k")
    ax.scatter(X2d[:, 0], X2d[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=25)
    ax.set_title(title)
    return fig


def save_experiment_figure(exp, out_dir: str) -> str | None:
    """Draw the standard figure of an experiment (if it has one) into ``out_dir/NAME.png``."""
    data = exp.data
    if exp.name == "sharpness":
        fig = plot_sharpness(data["eps"], data["lambda_max"], data.get("control"))
    elif exp.name == "smoothness":
        fig = plot_smoothness(data["t"], {k: v for k, v in data.items() if k != "t"})
    elif "x" in data and "curves" in data:
        fig = plot_curve(data["x"], data["curves"], data.get("xlabel", ""),
                         data.get("ylabel", ""), exp.title)
    else:
        return None
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{exp.name}.png")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path
