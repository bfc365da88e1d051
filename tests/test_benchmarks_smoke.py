"""Smoke test of ``benchmarks/``: every bench module imports and its workload and GEMM floor
run once at tiny sizes, in-process.  No timing is measured or asserted here (timings belong in
``benchmarks/run.py``); this only keeps the benchmarks from rotting as the API moves."""

import importlib
import os
import sys

import pytest

BENCH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
if BENCH_DIR not in sys.path:          # the bench files import each other by file name
    sys.path.insert(0, BENCH_DIR)

CASES = [("bench_training", "W1"), ("bench_pgd", "W2"), ("bench_training", "W3"),
         ("bench_closed_form_hessian", "W4"), ("bench_training", "W5"), ("bench_hvp", "W6")]


@pytest.mark.parametrize("module, wid", CASES, ids=[w for _, w in CASES])
def test_workload_runs_at_tiny_size(module, wid):
    mod = importlib.import_module(module)
    assert wid in mod.WORKLOADS
    work, floor = mod.build(wid, tiny=True)
    work()
    floor()


def test_training_workloads_go_through_the_public_fit():
    mod = importlib.import_module("bench_training")
    work, _, loop = mod.build("W5", tiny=True, with_loop=True)
    result = work()
    assert result.epochs_run == 2                  # tiny W5: two one-step epochs through fit
    assert set(mod.fit_options()) <= set(mod.FIT_OPTIONS)
    loop()


def test_runner_knows_every_workload_and_its_target():
    run = importlib.import_module("run")
    assert sorted(run.WORKLOADS) == [f"W{i}" for i in range(1, 7)]
    row = run.judge({"workload": "W5", "threads": 2, "us_per_step": 150.0})
    assert row["pass"] and row["target"] == 150.0
    row = run.judge({"workload": "W1", "threads": 1, "ratio": 1.36})
    assert not row["pass"] and row["target"] == 1.35


@pytest.mark.parametrize("time_change, normalised, expected",
                         [(1.05, 1.02, "ok"), (1.15, 1.02, "noisy"), (1.12, 1.11, "SLOWER")])
def test_compare_verdict_uses_the_ten_percent_budget(time_change, normalised, expected):
    run = importlib.import_module("run")
    assert run.verdict({"time_change": time_change,
                        "floor_normalised_change": normalised}) == expected


def test_harness_puts_the_requested_tree_first_on_pythonpath(tmp_path):
    harness = importlib.import_module("_harness")
    env = harness.thread_env(2, str(tmp_path))
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path)
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "2"
    assert env["MINADV_NUM_THREADS"] == "2"          # minadv's policy pinned to the row's count


@pytest.mark.parametrize("wid", ["W1", "W2", "W3", "W4", "W5", "W6"])
def test_numpy_reference_runs_at_tiny_size(wid):
    reference = importlib.import_module("reference")
    reference.reference(wid, tiny=True)()


@pytest.mark.parametrize("only, present, absent", [("work", "seconds", "reference_seconds"),
                                                   ("reference", "reference_seconds", "seconds")])
def test_pair_times_one_side_alone(only, present, absent):
    """``--contention`` times minadv and the reference in separate processes (``only``), so the
    reference's spinning BLAS workers cannot slow the minadv run that follows it."""
    harness = importlib.import_module("_harness")
    row = harness.pair("bench_training", "W5", quick=True, only=only)
    assert row[present] > 0 and absent not in row and "ratio_to_reference" not in row


def test_numpy_reference_w4_is_minadvs_hessian():
    """The W4 reference (two passes and ``dger`` for the rows, term 2 in place) computes the same
    Hessian as ``robust_logistic_hessian``: its largest eigenvalue agrees to rounding."""
    import numpy as np

    from minadv.robust_logistic import robust_logistic_hessian
    b4 = importlib.import_module("bench_closed_form_hessian")
    reference = importlib.import_module("reference")
    for n, d in [(200, 10), (500, 40)]:
        X, y, w = b4._problem(n, d)
        ref = reference.robust_logistic_lmax(X, y, w, b4.EPS)()
        H = robust_logistic_hessian(w, None, X, y, eps=b4.EPS, norm=2)
        # the same n-term Gram sum in another order: relative error <= n u = 500 x 1.1e-16
        assert ref == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-13, abs=0)


def test_numpy_reference_hvp_is_minadvs_power_iteration():
    """The W6 reference (hand-written R-operator) follows the same iterates as minadv's
    power_iteration: same parameters, data and start vector, so equal to rounding."""
    import numpy as np

    from minadv.analysis import power_iteration
    from minadv.models import MLP
    bench_hvp = importlib.import_module("bench_hvp")
    reference = importlib.import_module("reference")
    X, y = bench_hvp.problem(50, 12, 3)
    v = reference.tanh_hvp_power(X, y, (12, 6, 3), n_iter=5)()
    model = MLP([12, 6, 3], activation="tanh")
    res = power_iteration(model, model.init_params(rng=1), X, y, n_iter=5, tol=0.0, rng=3)
    np.testing.assert_allclose(v, res.eigenvector, rtol=0, atol=1e-12)


def test_harness_default_threading_removes_the_thread_variables(monkeypatch):
    harness = importlib.import_module("_harness")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    env = harness.thread_env(None, extra={"MINADV_NUM_THREADS": "auto"})
    assert not any(v in env for v in harness.THREAD_VARS)
    assert env["MINADV_NUM_THREADS"] == "auto"
