"""PGD: optimum of logistic regression, invariants, random starts, batch consistency."""

import numpy as np
import pytest
from scipy import stats

from minadv.attacks import lp_norms, pgd, random_ball_start
from minadv.models import MLP, LogisticRegressionModel
from minadv.numerics import softplus

DUAL = {np.inf: 1, 2: 2, 1: np.inf}


def _logistic(n=50, d=7, seed=0):
    rng = np.random.default_rng(seed)
    model = LogisticRegressionModel(d)
    w = rng.standard_normal(d)
    w[2] = 3.0
    params = {"w": w, "b": np.array(0.3)}
    return model, params, rng.standard_normal((n, d)), rng.integers(0, 2, n)


def _mlp(dtype=np.float64, n=20, seed=0, d=6):
    model = MLP([d, 8, 3], activation="tanh", dtype=dtype)
    params = model.init_params(rng=seed)
    rng = np.random.default_rng(seed + 1)
    return model, params, rng.uniform(0, 1, (n, d)).astype(dtype), rng.integers(0, 3, n)


@pytest.mark.parametrize("norm, step, steps", [(np.inf, 0.05, 20), (2, 0.4, 80), (1, 0.4, 80)],
                         ids=["linf", "l2", "l1"])
@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_reaches_the_closed_form_optimal_loss(norm, step, steps, random_start):
    model, params, X, y = _logistic()
    eps = 0.4 if norm != np.inf else 0.3
    X_adv = pgd(model, params, X, y, eps, norm=norm, n_steps=steps, step_size=step,
                random_start=random_start, rng=0)
    y_pm = 2 * y - 1
    margin = y_pm * (X @ params["w"] + params["b"]) - eps * np.linalg.norm(params["w"],
                                                                           ord=DUAL[norm])
    optimum = np.mean(softplus(-margin))                          # theory eq. (1.1)
    assert abs(model.loss(params, X_adv, y) - optimum) <= 1e-8 * optimum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(3))
def test_output_in_ball_and_box_dtype_inputs_unchanged(norm, dtype, seed):
    rng = np.random.default_rng(seed)
    model, params, X, y = _mlp(dtype, n=int(rng.integers(1, 25)), seed=seed)
    eps = float(rng.uniform(0.05, 1.5))
    X0, y0 = X.copy(), y.copy()
    X_adv = pgd(model, params, X, y, eps, norm=norm, n_steps=5, n_restarts=2, rng=seed,
                clip_min=0.0, clip_max=1.0)
    assert X_adv.dtype == dtype
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    tol = 8 * np.finfo(dtype).eps
    assert np.all(lp_norms((X_adv - X).astype(np.float64), norm) <= eps * (1 + tol) + tol)
    assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_eps_zero_returns_x_exactly(norm):
    model, params, X, y = _mlp(np.float32)
    np.testing.assert_array_equal(pgd(model, params, X, y, 0.0, norm=norm, rng=0), X)


def test_pgd_increases_the_loss_over_fgsm_on_an_mlp():
    model, params, X, y = _mlp()
    X_adv, trace = pgd(model, params, X, y, 0.3, n_steps=20, step_size=0.03, rng=0,
                       return_trace=True, clip_min=0.0, clip_max=1.0)
    assert trace.loss.shape == (1, 21) and trace.box_residual.shape == (1, 20)
    assert trace.loss[0, -1] > trace.loss[0, 0]
    np.testing.assert_allclose(trace.loss[0, -1], model.loss(params, X_adv, y), rtol=1e-12)
    assert trace.box_residual.max() > 0 and np.all(trace.norm <= 0.3 + 1e-12)
    # with the trace the iterates are the same as without it
    np.testing.assert_array_equal(
        X_adv, pgd(model, params, X, y, 0.3, n_steps=20, step_size=0.03, rng=0,
                   clip_min=0.0, clip_max=1.0))


def test_restarts_keep_the_per_sample_worst_case():
    model, params, X, y = _mlp(n=40)
    kw = dict(n_steps=3, step_size=0.05, clip_min=0.0, clip_max=1.0)
    X_best, trace = pgd(model, params, X, y, 0.3, n_restarts=4, rng=5, return_trace=True, **kw)
    runs = [pgd(model, params, X, y, 0.3, rng=child, **kw)
            for child in np.random.default_rng(5).spawn(4)]
    losses = np.array([model.output.nll(model.logits(params, r), y)[0] for r in runs])
    best = model.output.nll(model.logits(params, X_best), y)[0]
    wrong = np.array([model.predict(params, r) != y for r in runs])
    # a fooled sample stays fooled; otherwise the best loss of the restarts is kept
    assert np.all((model.predict(params, X_best) != y) == wrong.any(axis=0))
    never = ~wrong.any(axis=0)
    np.testing.assert_allclose(best[never], losses.max(axis=0)[never], rtol=1e-13)
    np.testing.assert_allclose(trace.loss[:, -1], losses.mean(axis=1), rtol=1e-13)


def test_targeted_pgd_reaches_the_target():
    model, params, X, y = _mlp(n=30)
    target = (y + 1) % 3
    X_adv = pgd(model, params, X, y, 3.0, norm=2, n_steps=30, step_size=0.3, target=target, rng=0)
    assert np.mean(model.predict(params, X_adv) == target) > 0.9


# ------------------------------------------------------------------- random starts
def test_l2_random_start_is_uniform_in_the_ball():
    n, d, eps = 4000, 5, 0.7
    u = random_ball_start((n, d), eps, 2, rng=0)
    r = np.linalg.norm(u, axis=1) / eps
    assert r.max() <= 1
    assert stats.kstest(r, lambda t: np.clip(t, 0, 1) ** d).pvalue > 0.01    # CDF r^d
    direction = u / np.linalg.norm(u, axis=1, keepdims=True)
    assert np.all(np.abs(direction.mean(axis=0)) < 5 / np.sqrt(n * d))
    np.testing.assert_allclose(direction.T @ direction / n, np.eye(d) / d, atol=0.03)


def test_linf_and_l1_random_starts_are_uniform():
    n, d, eps = 4000, 4, 0.5
    u = random_ball_start((n, d), eps, np.inf, rng=1)
    assert stats.kstest(u.ravel(), stats.uniform(-eps, 2 * eps).cdf).pvalue > 0.01
    v = random_ball_start((n, d), eps, 1, rng=2)
    r = np.abs(v).sum(axis=1) / eps
    assert r.max() <= 1 + 1e-12
    assert stats.kstest(r, lambda t: np.clip(t, 0, 1) ** d).pvalue > 0.01
    assert np.all(np.abs((v > 0).mean(axis=0) - 0.5) < 0.05)


def test_float32_random_start_stays_float32():
    assert random_ball_start((3, 4), 1.0, 2, dtype=np.float32, rng=0).dtype == np.float32


# ------------------------------------------------------------------- batch consistency
def test_deterministic_pgd_row_alone_equals_batch_row(norm):
    model, params, X, y = _mlp(n=8)
    batch = pgd(model, params, X, y, 0.2, norm=norm, n_steps=4, random_start=False)
    for i in range(X.shape[0]):
        alone = pgd(model, params, X[i:i + 1], y[i:i + 1], 0.2, norm=norm, n_steps=4,
                    random_start=False)
        np.testing.assert_allclose(alone[0], batch[i], rtol=0, atol=1e-13)


@pytest.mark.parametrize("restarts", [1, 3])
def test_random_start_prefix_consistency(norm, restarts):
    # contract: the random start of row i depends only on the seed and the rows before it
    model, params, X, y = _mlp(n=12)
    full = pgd(model, params, X, y, 0.2, norm=norm, n_steps=3, n_restarts=restarts, rng=7)
    for k in (1, 5):
        part = pgd(model, params, X[:k], y[:k], 0.2, norm=norm, n_steps=3, n_restarts=restarts,
                   rng=7)
        np.testing.assert_allclose(part, full[:k], rtol=0, atol=1e-13)


# ------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("kwargs, err, match", [
    (dict(eps=-1.0), ValueError, "eps"),
    (dict(eps=float("nan")), ValueError, "eps"),
    (dict(clip_min=1.0, clip_max=0.0), ValueError, "clip_min"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(n_steps=2.5), TypeError, "n_steps"),
    (dict(step_size=0.0), ValueError, "step_size"),
    (dict(norm="l7"), ValueError, "norm"),
    (dict(y=np.full(20, 3)), ValueError, "y"),
    (dict(target="same"), ValueError, "target"),
    (dict(n_restarts=0), ValueError, "n_restarts"),
    (dict(n_restarts=2, random_start=False), ValueError, "n_restarts"),
    (dict(rng=np.random.RandomState(0)), TypeError, "rng"),
], ids=["neg-eps", "nan-eps", "box-order", "steps-0", "steps-float", "step-size", "norm",
        "y-range", "target-eq-y", "restarts-0", "restarts-no-start", "legacy-rng"])
def test_bad_inputs(kwargs, err, match):
    model, params, X, y = _mlp()
    call = dict(y=y, eps=0.1) | kwargs
    if isinstance(call.get("target"), str):
        call["target"] = y
    with pytest.raises(err, match=match):
        pgd(model, params, X, **call)
