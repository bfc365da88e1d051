"""minadv.threads: the BLAS thread control, its scope and its effect on results.

The BLAS thread counts are read with threadpoolctl (these tests skip without it).  The results
must not depend on the thread count beyond rounding: OpenBLAS splits a product over rows and
columns, not over the summed dimension, so the same dot products are formed in the same order
and float64 results agree to a few ulps (bound used: 1e-12 relative).
"""

import subprocess
import sys
import time

import numpy as np
import pytest

import minadv
from minadv import threads
from minadv.analysis import hessian_operator, power_iteration, top_eigenvalues
from minadv.attacks import pgd, robustness_curve
from minadv.models import MLP
from minadv.optim import sgd
from minadv.training import ERM, FGSMObjective, fit

threadpoolctl = pytest.importorskip("threadpoolctl")

REL = 1e-12


def blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info()
            if i["user_api"] == "blas"]


@pytest.fixture(autouse=True)
def clean_setting(monkeypatch):
    """Every test starts from the default setting, no MINADV_NUM_THREADS, 2 BLAS threads
    set by "the user" (threadpoolctl), and gets all of it back."""
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    old = minadv.set_num_threads(None)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        yield
    minadv.set_num_threads(old)


@pytest.fixture(scope="module")
def problem():
    """A float64 MLP whose products (400 x 300 x 128) are big enough for OpenBLAS to split."""
    rng = np.random.default_rng(0)
    X = rng.random((400, 300))
    y = np.argmax((X - 0.5) @ rng.standard_normal((300, 10)), axis=1)
    model = MLP([300, 128, 10], activation="tanh")
    return model, model.init_params(rng=1), X, y


def recorder():
    """A minadv-decorated probe that records the BLAS threads inside a minadv call."""
    seen = []
    return seen, threads.thread_policy(lambda: seen.append(blas_threads()))


# ------------------------------------------------------------------ the control itself
@pytest.mark.parametrize("n", [1, 3])
def test_set_num_threads_sets_inside_calls_and_restores(n):
    seen, probe = recorder()
    old = minadv.set_num_threads(n)
    assert old is None and minadv.get_num_threads() == n
    probe()
    assert seen == [[n] * len(seen[0])]
    assert set(blas_threads()) == {2}                     # the user's setting, untouched


def test_limit_is_scoped_and_nests():
    seen, probe = recorder()
    with threads.limit(1):
        probe()
        with threads.limit(3):
            probe()
        probe()
    assert [set(s) for s in seen] == [{1}, {3}, {1}]
    assert minadv.get_num_threads() == "auto" and set(blas_threads()) == {2}


def test_environment_variable_is_the_default(monkeypatch):
    seen, probe = recorder()
    monkeypatch.setenv(threads.ENV_VAR, "1")
    assert minadv.get_num_threads() == 1
    probe()
    minadv.set_num_threads(3)                             # an explicit setting wins
    probe()
    assert [set(s) for s in seen] == [{1}, {3}]


def test_fit_runs_under_the_setting_and_restores(problem):
    model, params, X, y = problem
    seen = []
    with threads.limit(1):
        fit(model, params, ERM(), X, y, optimizer=sgd(0.1), epochs=2, batch_size=200, rng=0,
            verbose=0, callbacks=[lambda epoch, logs, p: seen.append(blas_threads())])
    assert [set(s) for s in seen] == [{1}, {1}]
    assert set(blas_threads()) == {2}


def test_nested_calls_do_not_reenter_the_controller():
    seen = []
    inner = threads.thread_policy(lambda: seen.append(blas_threads()))

    @threads.thread_policy
    def outer():
        inner()                              # nested: must neither set nor restore
        seen.append(blas_threads())

    with threads.limit(1):
        outer()
    assert [set(s) for s in seen] == [{1}, {1}]
    assert set(blas_threads()) == {2}


def test_restored_after_an_exception(problem):
    model, params, X, y = problem
    with threads.limit(1), pytest.raises(ValueError, match="epochs"):
        fit(model, params, ERM(), X, y, optimizer=sgd(0.1), epochs=-1, verbose=0)
    assert set(blas_threads()) == {2}


# ------------------------------------------------------------------ the auto policy
@pytest.mark.parametrize("current, others, cores, expected", [
    (2, 0, 2, 2),          # quiet machine: NumPy's default kept
    (2, 1, 2, 1),          # one busy process on a 2-core machine: one thread
    (2, 5, 2, 1),          # overloaded: never below one
    (1, 0, 8, 1),          # never above the current setting
    (8, 3, 8, 5),          # only the free cores
    (4, None, 8, 4),       # load unknown (no /proc): leave it
])
def test_auto_policy(current, others, cores, expected):
    assert threads.auto_threads(current, others=others, cores=cores) == expected


@pytest.mark.parametrize("readings, expected, n_read", [
    ([0], 0, 1),                 # nothing else runnable: one reading, no wait
    ([1, 0], 0, 2),              # runnable for an instant: not a busy process
    ([1, 1, 1], 1, 3),           # runnable at every reading: a busy process
    ([2, 1, 1], 1, 3),           # the smallest count is kept
    ([1, 1, 0], 0, 3),           # gone at the last reading
    ([None], None, 1),           # no /proc: unknown
    ([1, None], 1, 2),           # /proc gone meanwhile: the count read so far
])
def test_a_count_of_others_is_confirmed_before_it_takes_a_core(monkeypatch, readings, expected,
                                                              n_read):
    calls = iter(readings)
    read = []
    monkeypatch.setattr(threads, "_other_runnable", lambda: read.append(1) or next(calls))
    monkeypatch.setattr(threads, "_CONFIRM_SECONDS", 0.0)
    assert threads._sample_others() == expected
    assert len(read) == n_read


def test_a_busy_process_is_seen_at_every_confirmed_reading():
    """On the real machine: a spinning child process is runnable at every reading, so the
    confirmation never drops it (other processes may add to the count: at least one)."""
    if threads._other_runnable() is None:
        pytest.skip("no /proc/loadavg on this platform")
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)                                  # let it reach the loop
        assert all(threads._sample_others() >= 1 for _ in range(5))
    finally:
        child.kill()
        child.wait()


def test_auto_never_raises_the_users_setting():
    seen, probe = recorder()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        probe()
        assert set(blas_threads()) == {1}
    assert set(seen[0]) == {1}


# ------------------------------------------------------------------ users' settings
def test_nothing_in_minadv_changes_the_users_settings(problem):
    model, params, X, y = problem
    for user in (1, 2):
        with threadpoolctl.threadpool_limits(limits=user, user_api="blas"):
            for setting in ("auto", 1, 3):
                with threads.limit(setting):
                    fit(model, params, ERM(), X, y, optimizer=sgd(0.1), epochs=1,
                        batch_size=400, rng=0, verbose=0)
                    pgd(model, params, X[:50], y[:50], eps=0.1, n_steps=2, rng=0)
                    robustness_curve(model, params, X[:50], y[:50], [0.0, 0.1], attack="fgsm")
                    op = hessian_operator(model, params, X, y)
                    op.matvec(np.ones(model.n_params))
                    power_iteration(model, params, X, y, n_iter=2, rng=0)
                assert set(blas_threads()) == {user}, (user, setting)


def test_without_threadpoolctl_calls_leave_blas_alone(monkeypatch, problem):
    import sys
    model, params, X, y = problem
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)   # import fails
    with threads.limit(1):
        out = pgd(model, params, X[:20], y[:20], eps=0.1, n_steps=2, rng=0)
    assert out.shape == (20, 300)
    monkeypatch.undo()
    assert set(blas_threads()) == {2}


# ------------------------------------------------------------------ same results
def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-300))


def _under(n, fn):
    with threads.limit(n):
        return fn()


def test_results_agree_across_thread_counts(problem):
    model, params, X, y = problem
    runs = {
        "fit": lambda: minadv.params.flatten(fit(
            model, params, FGSMObjective(eps=0.05), X, y, optimizer=sgd(0.1, momentum=0.9),
            epochs=2, batch_size=100, rng=0, verbose=0).params),
        "pgd": lambda: pgd(model, params, X, y, eps=0.1, n_steps=5, rng=0),
        "hvp": lambda: hessian_operator(model, params, X, y).matvec(
            np.random.default_rng(3).standard_normal(model.n_params)),
        "top_eigenvalues": lambda: top_eigenvalues(model, params, X, y, k=2, rng=0),
    }
    for name, run in runs.items():
        one, two = _under(1, run), _under(2, run)
        assert _rel(one, two) <= REL, name


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("two", TypeError)])
def test_bad_thread_counts_name_the_argument(bad, exc):
    with pytest.raises(exc, match=r"^n: expected a positive integer or 'auto'"):
        minadv.set_num_threads(bad)
    with pytest.raises(exc, match=r"^n: expected a positive integer or 'auto'"):
        with threads.limit(bad):
            pass
    assert minadv.get_num_threads() == "auto"


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "many"])
def test_bad_environment_variable_names_it(monkeypatch, problem, bad):
    model, params, X, y = problem
    monkeypatch.setenv(threads.ENV_VAR, bad)
    with pytest.raises(ValueError, match=rf"^{threads.ENV_VAR}: expected a positive integer"):
        pgd(model, params, X[:5], y[:5], eps=0.1, n_steps=1, rng=0)
    assert set(blas_threads()) == {2}
    monkeypatch.setenv(threads.ENV_VAR, "auto")
    assert minadv.get_num_threads() == "auto"


# ------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("argv", [["--threads", "0", "list"], ["--threads=x", "list"],
                                  ["--threads"]])
def test_cli_bad_threads_is_a_usage_error(argv, capsys):
    from minadv import cli
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("minadv: error: argument --threads: expected") and err.count("\n") == 1


def test_cli_threads_sets_the_control_and_child_environment(monkeypatch, capsys):
    from minadv import cli
    for var in (threads.ENV_VAR, *cli.BLAS_ENV_VARS):
        monkeypatch.setenv(var, "7")                      # restored after the test
    assert cli.main(["--threads", "1", "list"]) == 0
    assert minadv.get_num_threads() == 1
    assert all(cli.os.environ[v] == "1" for v in (threads.ENV_VAR, *cli.BLAS_ENV_VARS))
    assert set(blas_threads()) == {2}
    assert "gradcheck" in capsys.readouterr().out
