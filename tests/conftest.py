"""Shared fixtures of the test suite: the attack norms, the intercept switch, small seeded
problems and the check that an error message starts with the argument's name.

A test asks for them by name (``def test_x(norm, small_mlp): ...``); the parametrized ones
(``norm``, ``fit_intercept``) run the test once per value, with readable ids.
"""

import os
import re

# One BLAS thread per pytest-xdist worker.  ``-n auto`` already puts a worker on every core; a
# worker whose BLAS also split each product over every core would spin on the cores the other
# workers hold (docs/benchmarks.md, "Quiet re-measurement": the suite took 10 % longer and 11 %
# more CPU with NumPy's default threads).  Set before NumPy and SciPy load their BLAS libraries
# (they read these variables once) and inherited by the workers' children (tutorial kernels,
# reproduction workers, grading children).  Results do not depend on the thread count beyond
# rounding (tests/test_threads.py); a serial run (``-n 0``) keeps the user's setting.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the BLAS setting above)
import pytest  # noqa: E402

from minadv.models import MLP, LogisticRegressionModel  # noqa: E402

#: The three attack norms, canonical values, with readable ids.
NORMS = [pytest.param(np.inf, id="linf"), pytest.param(2, id="l2"), pytest.param(1, id="l1")]


@pytest.fixture(params=NORMS)
def norm(request):
    """Each attack norm in turn: ``np.inf``, ``2``, ``1``."""
    return request.param


@pytest.fixture(params=[pytest.param(False, id="nobias"), pytest.param(True, id="bias")])
def fit_intercept(request):
    """Without and with an intercept."""
    return request.param


def _mlp_problem(classes=3, dtype=np.float64, n=8, d=5, seed=0):
    """A tanh MLP ``d -> 6 -> classes``, its parameters and ``(X, y)`` with X in [0.2, 0.8]."""
    model = MLP([d, 6, classes], activation="tanh", dtype=dtype)
    params = model.init_params(rng=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.uniform(0.2, 0.8, size=(n, d)).astype(dtype)
    y = rng.integers(0, classes, n)
    return model, params, X, y


def _logistic_problem(n=50, d=7, seed=0, dtype=np.float64):
    """Binary logistic regression: the model, ``{"w", "b"}`` drawn N(0, 1), ``(X, y)``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, 2, size=n)
    model = LogisticRegressionModel(d, dtype=dtype)
    params = {"w": rng.normal(size=d).astype(dtype), "b": np.asarray(0.3, dtype=dtype)}
    return model, params, X, y


@pytest.fixture
def small_mlp():
    """Factory ``small_mlp(classes=3, dtype=float64, n=8, d=5, seed=0)`` of seeded MLP
    problems ``(model, params, X, y)``."""
    return _mlp_problem


@pytest.fixture
def small_logistic():
    """Factory ``small_logistic(n=50, d=7, seed=0, dtype=float64)`` of seeded logistic
    regression problems ``(model, params, X, y)``."""
    return _logistic_problem


def _raises_naming(exc, name, fn):
    with pytest.raises(exc) as info:
        fn()
    assert re.match(rf"{re.escape(name)}(?!\w)", str(info.value)), str(info.value)
    return info.value


@pytest.fixture
def raises_naming():
    """``raises_naming(exc, name, fn)``: ``fn()`` raises ``exc`` whose message starts with the
    argument's ``name`` (the library's voice ``"<name>: expected ..., got ..."``)."""
    return _raises_naming


def pytest_collection_modifyitems(config, items):
    """Longest first: the files holding ``slow`` tests (one reproduction run, one run of every
    tutorial) are collected first, the rest in their usual order.  A parallel run
    (pytest-xdist, ``--dist loadfile --no-loadscope-reorder``: one file per worker at a time,
    in this order; xdist's default reorder would queue the files by their number of tests)
    then starts the long files at once instead of finding one of them last in the queue."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)      # stable: order kept within
