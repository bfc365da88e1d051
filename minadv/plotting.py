"""Figures for the tutorials and reproductions (matplotlib, imported only inside the functions).

Conventions shared by every function:

* It plots numbers computed elsewhere (arrays, dicts of arrays, a
  :class:`~minadv.attacks.RobustnessCurve`): nothing of substance is computed here, so what is
  drawn is what the tests checked.
* ``ax=None`` draws into a new figure made by ``matplotlib.pyplot.subplots`` (so it shows
  inline in Jupyter); ``ax=`` draws into the caller's Axes.  (:func:`plot_adversarial_grid`
  takes a ``(3, k)`` array of Axes.)
* It returns the :class:`matplotlib.figure.Figure` it drew on and never closes it.
* A file is written only when ``path=`` is given (``fig.savefig(path)``).
* The library never selects a matplotlib backend: the backend is the user's (inline in a
  notebook, a window on a desktop); scripts and tests that need a headless one choose it
  themselves (``MPLBACKEND=Agg``).

``import minadv`` does not import matplotlib; ``import minadv.plotting`` does not either, until
a function is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "plot_decision_boundary",
    "plot_robustness_curves",
    "plot_sharpness",
    "plot_smoothness",
    "plot_power_iteration",
    "plot_eigenvector",
    "plot_slice_1d",
    "plot_slice_2d",
    "plot_adversarial_grid",
    "plot_training_curves",
    "plot_curve",
    "save_experiment_figure",
]


# ----------------------------------------------------------------------------- helpers
def _axes(ax, figsize=(5.5, 4.0)):
    """``(fig, ax)``: the caller's Axes and its figure, or a new pyplot figure."""
    if ax is not None:
        return ax.get_figure(), ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _finish(fig, path: str | os.PathLike | None, dpi: int = 110):
    """Save ``fig`` to ``path`` if one is given; return ``fig`` (never closed)."""
    if path is not None:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def _legend(ax, n_labels: int):
    if n_labels > 1:
        ax.legend()


def _marker(n_points: int) -> str:
    return "o-" if n_points < 30 else "-"


# ----------------------------------------------------------------------------- 2-D data
def plot_decision_boundary(predict_proba: Callable, X2d: Any, y: Any, *, lim: float = 2.0,
                           ax: Any = None, title: str = "", embed: Any = None,
                           X_adv: Any = None, resolution: int = 81,
                           path: str | os.PathLike | None = None):
    """Class-1 probability over the plane, the 0.5 contour, the points and their perturbations.

    Parameters
    ----------
    predict_proba : callable, ``(m, D) -> (m, 2)`` class probabilities
    X2d : ndarray of shape (n, 2), the points in plane coordinates
    y : ndarray of shape (n,), labels in {0, 1} (point colours)
    lim : float
        The plane shown is ``[-lim, lim]²``.
    embed : ndarray of shape (2, D), optional
        Maps plane points into the model's input space (``z @ embed``), as for the 100-D
        synthetic VAT data.
    X_adv : ndarray of shape (n, 2), optional
        Perturbed points (plane coordinates): an arrow goes from each ``X2d[i]`` to ``X_adv[i]``.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
        Its Axes holds one filled contour, the 0.5 contour, one scatter of the points and,
        with ``X_adv``, one quiver of the ``n`` arrows.
    """
    fig, ax = _axes(ax)
    grid = np.linspace(-lim, lim, resolution)
    G1, G2 = np.meshgrid(grid, grid)                                # (r, r)
    Z = np.column_stack([G1.ravel(), G2.ravel()])                   # (r², 2)
    proba = np.asarray(predict_proba(Z @ embed if embed is not None else Z))[:, 1]
    proba = proba.reshape(G1.shape)
    ax.contourf(G1, G2, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(G1, G2, proba, levels=[0.5], colors="k")
    X2d = np.asarray(X2d)
    ax.scatter(X2d[:, 0], X2d[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, edgecolors="k", s=25)
    if X_adv is not None:
        d = np.asarray(X_adv) - X2d                                 # (n, 2)
        ax.quiver(X2d[:, 0], X2d[:, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy",
                  scale=1, color="k", width=0.004, label="perturbation")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_title(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- robustness
def plot_robustness_curves(curves: Mapping[str, Any], eps: Any = None, *, ax: Any = None,
                           title: str = "Accuracy under attack", xlabel: str = "eps",
                           path: str | os.PathLike | None = None):
    """Accuracy against eps, one line per model (or attack).

    Parameters
    ----------
    curves : dict ``{label: accuracies}``
        Each value is an array of accuracies on the grid ``eps``, or a
        :class:`~minadv.attacks.RobustnessCurve` (its ``eps`` and ``accuracy`` are used).
    eps : ndarray of shape (k,), optional
        The common grid; needed when a value is a plain array.

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry of ``curves``, labelled with its key; y-axis from 0 to 1.
    """
    fig, ax = _axes(ax)
    for label, curve in curves.items():
        if hasattr(curve, "accuracy") and hasattr(curve, "eps"):
            x, acc = np.asarray(curve.eps), np.asarray(curve.accuracy)
        else:
            if eps is None:
                raise ValueError(f"eps: needed for the plain array given for {label!r}.")
            x, acc = np.asarray(eps), np.asarray(curve)
        ax.plot(x, acc, _marker(len(x)), label=label)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend()
    return _finish(fig, path)


# ----------------------------------------------------------------------------- sharpness
def plot_sharpness(eps: Any, lambda_max: Any, control: Any = None, *, ax: Any = None,
                   eps_c: float | None = None, title: str = "Sharpness of the weight loss landscape",
                   path: str | os.PathLike | None = None):
    """Largest Hessian eigenvalue against eps, the random-noise control and ``ε_c``.

    Parameters
    ----------
    eps : ndarray of shape (k,)
    lambda_max : ndarray of shape (k,), ``λ_max(H(w*(eps)))`` of L2 adversarial training
    control : ndarray of shape (k,), optional
        The same for training on random noise of the same norm (``docs/theory.md §2.5``).
    eps_c : float, optional
        The critical radius (``docs/theory.md §1.4``): a dashed vertical line at ``x = eps_c``.

    Returns
    -------
    matplotlib.figure.Figure
        Lines: ``λ_max``, the control (if given), the vertical ``ε_c`` line (if given), in this
        order.
    """
    fig, ax = _axes(ax)
    ax.plot(eps, lambda_max, "o-", label="L2 adversarial training")
    if control is not None:
        ax.plot(eps, control, "s--", label="random noise, same norm")
    if eps_c is not None:
        ax.axvline(eps_c, color="k", linestyle=":", label=f"ε_c = {eps_c:.4g}")
    ax.set_xlabel("eps")
    ax.set_ylabel("largest Hessian eigenvalue λ_max")
    ax.set_title(title)
    ax.legend()
    return _finish(fig, path)


def plot_smoothness(t: Any, ratios: Mapping[str, Any], *, ax: Any = None,
                    title: str = "Gradient-Lipschitz estimate at a kink",
                    path: str | os.PathLike | None = None):
    """Gradient-difference ratios ``||g(w+tv) - g(w-tv)|| / 2t`` against ``t``, log-log.

    A ratio that stays flat as ``t -> 0`` is a finite Lipschitz constant (L2 training); one
    growing like ``1/t`` (a line of slope -1) is a kink (L∞ training, ``docs/theory.md §1.3``).

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry of ``ratios``; both axes logarithmic, ``t`` decreasing to the right.
    """
    fig, ax = _axes(ax)
    for name, values in ratios.items():
        ax.loglog(t, values, "o-", label=name)
    ax.invert_xaxis()
    ax.set_xlabel("step t")
    ax.set_ylabel("||g(w+tv) - g(w-tv)|| / 2t")
    ax.set_title(title)
    _legend(ax, len(ratios))
    return _finish(fig, path)


# ----------------------------------------------------------------------------- VAT direction
def plot_power_iteration(cosines: Mapping[str, Any], *, ax: Any = None,
                         title: str = "Power iteration vs the top Fisher eigenvector",
                         path: str | os.PathLike | None = None):
    """``|cos(d_k, v_1)|`` against the iteration ``k``, one line per variant.

    Parameters
    ----------
    cosines : dict ``{label: array of shape (K + 1,)}``
        Entry ``k`` is the cosine after ``k`` iterations (``k = 0``: the random start).

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry; a dotted horizontal line at 1 (the last line).
    """
    fig, ax = _axes(ax)
    for label, values in cosines.items():
        values = np.asarray(values)
        ax.plot(np.arange(len(values)), values, "o-", label=label)
    ax.axhline(1.0, color="k", linestyle=":", linewidth=1)
    ax.set_xlabel("power iterations k")
    ax.set_ylabel("|cos(d_k, top eigenvector)|")
    ax.set_title(title)
    _legend(ax, len(cosines))
    return _finish(fig, path)


def plot_eigenvector(top: Any, estimate: Any, *, ax: Any = None, title: str | None = None,
                     path: str | os.PathLike | None = None):
    """The top eigenvector and an estimate of it, component by component.

    The estimate's sign is flipped to match ``top`` (eigenvectors have no sign); both are
    normalised.  The title gives ``|cos|``.

    Returns
    -------
    matplotlib.figure.Figure
        Two lines: the eigenvector, then the estimate.
    """
    fig, ax = _axes(ax)
    top = np.ravel(np.asarray(top, dtype=np.float64))
    est = np.ravel(np.asarray(estimate, dtype=np.float64))
    top, est = top / np.linalg.norm(top), est / np.linalg.norm(est)
    cos = float(top @ est)
    est = est if cos >= 0 else -est
    idx = np.arange(top.size)
    ax.plot(idx, top, "o-", label="top eigenvector (eigh)")
    ax.plot(idx, est, "x--", label="power iteration")
    ax.set_xlabel("component")
    ax.set_ylabel("value")
    ax.set_title(title if title is not None else f"|cos| = {abs(cos):.6f}")
    ax.legend()
    return _finish(fig, path)


# ----------------------------------------------------------------------------- landscapes
def plot_slice_1d(alphas: Any, losses: Mapping[str, Any], *, ax: Any = None,
                  xlabel: str = "alpha (filter-normalised direction)",
                  title: str = "1-D loss slice", logy: bool = False,
                  path: str | os.PathLike | None = None):
    """1-D loss slices ``L(θ + α d)``, one line per model.

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry of ``losses``.
    """
    return plot_curve(alphas, losses, xlabel=xlabel, ylabel="loss", title=title, ax=ax, logy=logy, path=path)


def plot_slice_2d(alphas: Any, betas: Any, values: Any, *, ax: Any = None, title: str = "loss",
                  levels: int = 20, path: str | os.PathLike | None = None):
    """Contour plot of a 2-D loss slice ``values[i, j] = L(θ + α_i d1 + β_j d2)``.

    Returns
    -------
    matplotlib.figure.Figure
        One contour set with labelled levels.
    """
    fig, ax = _axes(ax)
    A, B = np.meshgrid(alphas, betas, indexing="ij")
    cs = ax.contour(A, B, values, levels=levels)
    ax.clabel(cs, fontsize=7)
    ax.plot([0], [0], "k+", markersize=10)
    ax.set_xlabel("alpha (d1)")
    ax.set_ylabel("beta (d2)")
    ax.set_title(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- images
def _grid_axes(ax, k: int):
    if ax is not None:
        axes = np.asarray(ax, dtype=object)
        if axes.shape != (3, k):
            raise ValueError(f"ax: expected a (3, {k}) array of Axes, got shape {axes.shape}.")
        return axes.flat[0].get_figure(), axes
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, k, figsize=(1.6 * k + 0.6, 5.2), squeeze=False)
    return fig, axes


def _title(proba: np.ndarray) -> str:
    k = int(np.argmax(proba))
    return f"pred {k} ({proba[k]:.2f})"


def plot_adversarial_grid(X: Any, X_adv: Any, proba: Any, proba_adv: Any, *, y: Any = None,
                          image_shape: tuple = (8, 8), vmin: float = 0.0, vmax: float = 1.0,
                          ax: Any = None, title: str | None = None,
                          path: str | os.PathLike | None = None):
    """Rows ``x`` / ``δ = x_adv - x`` / ``x + δ`` for ``k`` examples, with predictions.

    Parameters
    ----------
    X, X_adv : ndarray of shape (k, h*w)
        Clean and adversarial images (flattened), e.g. the 8×8 digits.
    proba, proba_adv : ndarray of shape (k, C)
        Class probabilities of the clean and adversarial images.
    y : ndarray of shape (k,), optional
        True labels, shown in the clean row's titles.
    image_shape : tuple (h, w)
    vmin, vmax : float
        Grey-level range of the images.
    ax : ndarray of Axes of shape (3, k), optional

    Returns
    -------
    matplotlib.figure.Figure
        ``3 k`` Axes each with one image; titles ``pred c (p)`` (clean row prefixed by
        ``y=…``); ``δ`` uses the diverging ``RdBu_r`` colormap centred at 0 (symmetric
        limits ``±max|δ|``) and its title gives ``||δ||_∞``.
    """
    X, X_adv = np.atleast_2d(X), np.atleast_2d(X_adv)
    proba, proba_adv = np.atleast_2d(proba), np.atleast_2d(proba_adv)
    k = X.shape[0]
    fig, axes = _grid_axes(ax, k)
    delta = X_adv - X
    scale = float(np.max(np.abs(delta))) or 1.0
    for i in range(k):
        prefix = f"y={int(y[i])}: " if y is not None else ""
        rows = [(X[i], "gray_r", vmin, vmax, prefix + _title(proba[i])),
                (delta[i], "RdBu_r", -scale, scale, f"|δ|∞={np.max(np.abs(delta[i])):.2g}"),
                (X_adv[i], "gray_r", vmin, vmax, _title(proba_adv[i]))]
        for r, (img, cmap, lo, hi, text) in enumerate(rows):
            a = axes[r, i]
            a.imshow(np.reshape(img, image_shape), cmap=cmap, vmin=lo, vmax=hi)
            a.set_title(text, fontsize=8)
            a.set_xticks([])
            a.set_yticks([])
    for r, name in enumerate(["x", "δ", "x + δ"]):
        axes[r, 0].set_ylabel(name)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- generic
def plot_training_curves(history: Mapping[str, Any], *, ax: Any = None, xlabel: str = "epoch",
                         ylabel: str = "", title: str = "Training", logy: bool = False,
                         path: str | os.PathLike | None = None):
    """One line per recorded quantity (``{"loss": [...], "robust accuracy": [...]}``).

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry, against ``0, 1, …, len - 1``.
    """
    return plot_curve(None, history, xlabel=xlabel, ylabel=ylabel, title=title, ax=ax, logy=logy, path=path)


def plot_curve(x: Any, curves: Mapping[str, Any], *, xlabel: str = "", ylabel: str = "",
               title: str = "", ax: Any = None, logy: bool = False,
               path: str | os.PathLike | None = None):
    """Generic line plot ``{label: values}`` against ``x`` (FGSM accuracy vs d, …); ``x=None``
    plots each series against its own index ``0, 1, …`` (series may differ in length).

    Returns
    -------
    matplotlib.figure.Figure
        One line per entry of ``curves``.
    """
    fig, ax = _axes(ax)
    for label, values in curves.items():
        xs = np.arange(len(values)) if x is None else x
        ax.plot(xs, values, _marker(len(xs)), label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _legend(ax, len(curves))
    return _finish(fig, path)


def save_experiment_figure(exp: Any, out_dir: str) -> str | None:
    """Draw the standard figure of an experiment (if it has one) into ``out_dir/NAME.png``.

    The figure is drawn on a :class:`matplotlib.figure.Figure` that pyplot does not track
    (nothing opens, nothing to close), saved, and only its path is returned.
    """
    from matplotlib.figure import Figure

    data = exp.data
    ax = Figure(figsize=(5.5, 4.0)).subplots()
    if exp.name == "sharpness":
        fig = plot_sharpness(data["eps"], data["lambda_max"], data.get("control"), ax=ax,
                             eps_c=data.get("eps_c"))
    elif exp.name == "smoothness":
        fig = plot_smoothness(data["t"], {k: v for k, v in data.items() if k != "t"}, ax=ax)
    elif "x" in data and "curves" in data:
        fig = plot_curve(data["x"], data["curves"], xlabel=data.get("xlabel", ""),
                         ylabel=data.get("ylabel", ""), title=exp.title, ax=ax)
    else:
        return None
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{exp.name}.png")
    _finish(fig, path)
    return path
