"""Figures are drawn from the checked numbers and written where asked."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minadv import plotting  # noqa: E402
from minadv.reproduce import run_experiment  # noqa: E402


@pytest.mark.parametrize("name", ["sharpness", "smoothness"])
def test_save_experiment_figure(tmp_path, name):
    path = plotting.save_experiment_figure(run_experiment(name), str(tmp_path / "figs"))
    assert path == os.path.join(str(tmp_path / "figs"), f"{name}.png")
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_no_figure_for_tables_only(tmp_path):
    assert plotting.save_experiment_figure(run_experiment("gradcheck"), str(tmp_path)) is None


def test_plot_helpers_return_figures():
    fig = plotting.plot_curve(np.arange(3), {"a": [1, 2, 3], "b": [3, 2, 1]}, "x", "y", "t")
    assert len(fig.axes[0].lines) == 2
    fig2 = plotting.plot_slice_2d(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4),
                                  np.add.outer(np.linspace(-1, 1, 5) ** 2, np.linspace(-1, 1, 4) ** 2))
    assert fig2.axes
    fig3 = plotting.plot_decision_boundary(
        lambda Z: np.column_stack([1 - 1 / (1 + np.exp(-Z[:, 0])), 1 / (1 + np.exp(-Z[:, 0]))]),
        np.array([[0.5, 0.0], [-0.5, 0.0]]), np.array([1, 0]))
    assert fig3.axes
    plotting._pyplot().close("all")
