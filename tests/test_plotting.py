"""Figures: object API, ``ax=`` respected, the Figure returned open, files only with ``path=``.

The headless backend is chosen here, in the test (``matplotlib.use("Agg")``): the library
itself never selects a backend, so figures render inline in notebooks.
"""

import os
import pathlib
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")                      # tests choose the backend; the library never does

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from minadv import plotting  # noqa: E402

ROOT = pathlib.Path(plotting.__file__).resolve().parent


@pytest.fixture(autouse=True)
def _close_figures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)            # a stray savefig would land here (checked below)
    yield
    plt.close("all")


def _proba(Z):
    p1 = 1 / (1 + np.exp(-np.clip(Z[:, 0], -30, 30)))
    return np.column_stack([1 - p1, p1])


def _digits(k=3, C=10, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.random((k, 64))
    X_adv = np.clip(X + 0.1 * np.sign(gen.standard_normal((k, 64))), 0, 1)
    proba = gen.dirichlet(np.ones(C), size=k)
    proba_adv = gen.dirichlet(np.ones(C), size=k)
    return X, X_adv, proba, proba_adv


# name -> (call with ax=..., number of lines drawn)
CALLS = {
    "robustness": (lambda ax: plotting.plot_robustness_curves(
        {"ERM": [0.9, 0.5, 0.1], "PGD-AT": [0.85, 0.7, 0.5]}, [0, 0.1, 0.2], ax=ax), 2),
    "sharpness": (lambda ax: plotting.plot_sharpness(
        [0, 0.2, 0.4], [0.15, 0.23, 0.34], [0.15, 0.15, 0.16], ax=ax, eps_c=1.0783), 3),
    "smoothness": (lambda ax: plotting.plot_smoothness(
        [1e-2, 1e-4, 1e-6], {"L2": [0.1, 0.1, 0.1], "Linf": [24.4, 2.4e3, 2.4e5]}, ax=ax), 2),
    "power": (lambda ax: plotting.plot_power_iteration(
        {"exact": [0.3, 0.99, 1.0], "xi=1e-6": [0.3, 0.98, 0.999]}, ax=ax), 3),
    "eigenvector": (lambda ax: plotting.plot_eigenvector([1.0, 2.0, 0.5], [-1.1, -2.0, -0.4],
                                                         ax=ax), 2),
    "slice_1d": (lambda ax: plotting.plot_slice_1d(
        np.linspace(-1, 1, 41), {"ERM": np.linspace(-1, 1, 41) ** 2,
                                 "AT": 3 * np.linspace(-1, 1, 41) ** 2}, ax=ax), 2),
    "training": (lambda ax: plotting.plot_training_curves(
        {"loss": [1.0, 0.5, 0.3], "robust acc": [0.1, 0.4, 0.6]}, ax=ax), 2),
    "curve": (lambda ax: plotting.plot_curve([1, 2, 3], {"a": [1, 2, 3], "b": [3, 2, 1]},
                                             xlabel="x", ylabel="y", title="t", ax=ax), 2),
    "slice_2d": (lambda ax: plotting.plot_slice_2d(
        np.linspace(-1, 1, 5), np.linspace(-1, 1, 4),
        np.add.outer(np.linspace(-1, 1, 5) ** 2, np.linspace(-1, 1, 4) ** 2), ax=ax), 1),
    "decision": (lambda ax: plotting.plot_decision_boundary(
        _proba, np.array([[0.5, 0.0], [-0.5, 0.2]]), np.array([1, 0]), ax=ax,
        X_adv=np.array([[0.1, 0.0], [-0.1, 0.2]]), resolution=21), 0),
}


# ----------------------------------------------------------------------------- conventions
def test_library_never_selects_a_backend():
    assert "matplotlib.use" not in (ROOT / "plotting.py").read_text(encoding="utf-8")
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "matplotlib.use" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_import_does_not_import_matplotlib():
    code = ("import sys, minadv, minadv.plotting, minadv.course; "
            "print('matplotlib' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(ROOT.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_returns_open_figure_of_a_new_axes(name, tmp_path):
    call, _ = CALLS[name]
    fig = call(None)
    assert isinstance(fig, Figure) and len(fig.axes) >= 1
    assert plt.fignum_exists(fig.number)                 # returned open, not closed
    assert os.listdir(tmp_path) == []                     # no file unless path= is given


@pytest.mark.parametrize("name", sorted(CALLS))
def test_draws_into_the_given_axes(name):
    fig, (ax0, ax1) = plt.subplots(1, 2)
    call, n_lines = CALLS[name]
    out = call(ax1)
    assert out is fig
    assert len(fig.axes) == 2                             # no new Axes
    assert len(ax0.lines) == 0 and len(ax0.collections) == 0
    assert len(ax1.lines) == n_lines


def test_path_writes_a_png(tmp_path):
    path = tmp_path / "sharp.png"
    fig = plotting.plot_sharpness([0, 0.5], [0.1, 0.4], path=str(path))
    assert isinstance(fig, Figure) and plt.fignum_exists(fig.number)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["sharp.png"]


# ----------------------------------------------------------------------------- contents
def test_sharpness_marks_eps_c_and_control():
    fig = plotting.plot_sharpness([0, 0.2, 0.4], [0.15, 0.23, 0.34], [0.15, 0.15, 0.16],
                                  eps_c=1.0783)
    ax = fig.axes[0]
    main, control, vline = ax.lines
    assert list(main.get_ydata()) == [0.15, 0.23, 0.34]
    assert list(control.get_ydata()) == [0.15, 0.15, 0.16]
    assert list(vline.get_xdata()) == [1.0783, 1.0783]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "L2 adversarial training", "random noise, same norm", "ε_c = 1.078"]
    assert ax.get_ylabel() == "largest Hessian eigenvalue λ_max"


def test_sharpness_without_control_or_eps_c():
    ax = plotting.plot_sharpness([0, 0.2], [0.15, 0.23]).axes[0]
    assert len(ax.lines) == 1


def test_robustness_curves_accept_curve_objects_and_labels():
    curve = SimpleNamespace(eps=np.array([0.0, 0.1]), accuracy=np.array([0.95, 0.4]))
    ax = plotting.plot_robustness_curves({"FGSM-trained": curve, "ERM": [0.9, 0.1]},
                                         eps=[0.0, 0.1]).axes[0]
    assert [line.get_label() for line in ax.lines] == ["FGSM-trained", "ERM"]
    assert list(ax.lines[0].get_ydata()) == [0.95, 0.4]
    assert ax.get_xlabel() == "eps" and ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="eps: needed"):
        plotting.plot_robustness_curves({"ERM": [0.9, 0.1]})


def test_smoothness_is_log_log():
    ax = CALLS["smoothness"][0](None).axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.xaxis_inverted()


def test_eigenvector_aligns_sign_and_reports_cosine():
    ax = CALLS["eigenvector"][0](None).axes[0]
    top, est = (line.get_ydata() for line in ax.lines)
    assert top @ est > 0                                  # the estimate's sign was flipped
    cos = abs(np.dot([1.0, 2.0, 0.5], [-1.1, -2.0, -0.4])) / (
        np.linalg.norm([1.0, 2.0, 0.5]) * np.linalg.norm([-1.1, -2.0, -0.4]))
    assert ax.get_title() == f"|cos| = {cos:.6f}"


def test_power_iteration_x_axis_is_the_iteration():
    ax = CALLS["power"][0](None).axes[0]
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]


def test_decision_boundary_draws_one_arrow_per_point():
    fig = CALLS["decision"][0](None)
    ax = fig.axes[0]
    quivers = [c for c in ax.collections if type(c).__name__ == "Quiver"]
    assert len(quivers) == 1 and quivers[0].N == 2
    np.testing.assert_allclose(quivers[0].U, [-0.4, 0.4])
    assert ax.get_xlim() == (-2.0, 2.0)


def test_adversarial_grid_rows_titles_and_diverging_delta():
    X, X_adv, proba, proba_adv = _digits(k=3)
    y = np.array([4, 7, 1])
    fig = plotting.plot_adversarial_grid(X, X_adv, proba, proba_adv, y=y, title="FGSM")
    axes = np.array(fig.axes).reshape(3, 3)
    assert all(len(a.images) == 1 for a in fig.axes)
    assert [axes[r, 0].get_ylabel() for r in range(3)] == ["x", "δ", "x + δ"]
    k0 = int(np.argmax(proba[0]))
    assert axes[0, 0].get_title() == f"y=4: pred {k0} ({proba[0, k0]:.2f})"
    ka = int(np.argmax(proba_adv[2]))
    assert axes[2, 2].get_title() == f"pred {ka} ({proba_adv[2, ka]:.2f})"
    delta_img = axes[1, 1].images[0]
    assert delta_img.get_cmap().name == "RdBu_r"
    lo, hi = delta_img.get_clim()
    assert lo == -hi and hi == pytest.approx(np.max(np.abs(X_adv - X)))
    assert delta_img.get_array().shape == (8, 8)
    assert axes[0, 0].images[0].get_clim() == (0.0, 1.0)
    assert fig._suptitle.get_text() == "FGSM"


def test_adversarial_grid_into_given_axes_and_shape_check():
    X, X_adv, proba, proba_adv = _digits(k=2)
    fig, axes = plt.subplots(3, 2)
    assert plotting.plot_adversarial_grid(X, X_adv, proba, proba_adv, ax=axes) is fig
    assert all(len(a.images) == 1 for a in axes.flat)
    with pytest.raises(ValueError, match=r"ax: expected a \(3, 2\) array of Axes"):
        plotting.plot_adversarial_grid(X, X_adv, proba, proba_adv, ax=axes[:2])


def test_training_curves_x_is_the_epoch():
    ax = CALLS["training"][0](None).axes[0]
    assert list(ax.lines[1].get_xdata()) == [0, 1, 2]
    assert [line.get_label() for line in ax.lines] == ["loss", "robust acc"]


# ----------------------------------------------------------------------------- experiments
@pytest.mark.parametrize("name", ["sharpness", "smoothness"])
def test_save_experiment_figure(tmp_path, name):
    from minadv.reproduce import run_experiment

    path = plotting.save_experiment_figure(run_experiment(name), str(tmp_path / "figs"))
    assert path == os.path.join(str(tmp_path / "figs"), f"{name}.png")
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []                        # nothing left open in pyplot


def test_no_figure_for_tables_only(tmp_path):
    from minadv.reproduce import run_experiment

    assert plotting.save_experiment_figure(run_experiment("gradcheck"), str(tmp_path)) is None
