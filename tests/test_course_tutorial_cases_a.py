"""The exercises new in tutorials 00-04: the reference, the instructor solution and an
independent implementation written straight from the stub's docstring (loops, masks, a
bisection: not the reference's code) pass every case at seeds 0-4; planted mistakes, written
independently the way students write them, fail with the hint that names the mistake; the
untouched stub reports "not implemented"."""

import pathlib

import course_independent as independent
import numpy as np
import pytest
from course_helpers import assert_fails_with_hint, load_solutions, planted_params

import minadv.course as course
from minadv.course import references, stubs

ROOT = pathlib.Path(__file__).resolve().parent.parent
NEW = ["affine_forward", "relu_forward", "relu_backward", "linear_worst_case",
       "project_l1_ball", "robust_logistic_loss", "local_entropy_gradient"]


S = load_solutions()


def test_new_exercises_registered_once():
    names = course.exercises()
    assert all(names.count(n) == 1 for n in NEW)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("who", ["reference", "solution"])
def test_reference_and_solution_pass_at_seeds_0_to_4(name, who):
    fn = getattr(references if who == "reference" else S, name)
    for seed in range(5):
        res = course.check(name, fn, verbose=False, rng=seed)
        assert res.passed, (seed, [c for c in res.cases if not c.passed])
        assert len(res.cases) >= 6


@pytest.mark.parametrize("name", NEW)
def test_stub_reports_not_implemented(name):
    res = course.check(name, getattr(stubs, name), verbose=False)
    assert not res.passed and "not implemented yet" in res.cases[0].hint
    assert course.stub(name).startswith(f"def {name}(")
    assert course.stub(name).count("Allowed") == 1      # the generated section, said once
    assert "    Allowed\n    -------\n" in course.stub(name)


# ----------------------------------------------------------------------------- from the docstrings
def _ind_affine_forward(x, W, b):
    out = np.einsum("nd,dm->nm", x, W) + b[None, :]
    return out, (x, W, b)


def _ind_relu_forward(x):
    out = x.copy()
    out[~(x > 0)] = 0
    return out, x


def _ind_relu_backward(dout, cache):
    dx = np.zeros_like(dout)
    mask = cache > 0
    dx[mask] = dout[mask]
    return dx


def _ind_linear_worst_case(w, b, X, y, eps, norm):
    delta = np.zeros_like(X)
    big = np.max(np.abs(w))
    for i in range(X.shape[0]):
        s = 1.0 if y[i] == 1 else -1.0
        if big == 0:
            continue
        if norm == np.inf:
            v = np.sign(w)
        elif norm == 2:
            v = (w / big) / np.sqrt(np.sum((w / big) ** 2))
        else:
            j = int(np.flatnonzero(np.abs(w) == big)[0])
            v = np.zeros_like(w)
            v[j] = np.sign(w[j])
        delta[i] = -eps * s * v
    return delta


def _ind_project_l1_ball(delta, eps):
    out = delta.copy()
    for i, row in enumerate(delta):
        if np.abs(row).sum() <= eps:
            continue
        # the docstring: eps = 0 gives 0; otherwise the bisection of course_independent
        out[i] = 0 if eps == 0 else independent.project_l1_row(row, eps)
    return out


def _ind_robust_logistic_loss(w, b, X, y, eps, norm):
    w = w.astype(np.float64)
    if norm == np.inf:
        wq = np.sum(np.abs(w))
    elif norm == 2:
        wq = np.hypot.reduce(w) if w.size else 0.0
    else:
        wq = np.max(np.abs(w))
    total = 0.0
    for i in range(X.shape[0]):
        s = 2.0 * y[i] - 1.0
        z = s * (X[i].astype(np.float64) @ w + b) - eps * wq
        total += np.logaddexp(0.0, -z)
    return float(total / X.shape[0])


def _ind_local_entropy_gradient(x, grid, f_grid, gamma):
    out = np.empty_like(x)
    for i, xi in enumerate(x):
        logw = -f_grid - gamma / 2 * (xi - grid) ** 2
        weights = np.exp(logw - np.max(logw))
        out[i] = gamma * (xi - np.sum(weights * grid) / np.sum(weights))
    return out


INDEPENDENT = {
    "affine_forward": _ind_affine_forward, "relu_forward": _ind_relu_forward,
    "relu_backward": _ind_relu_backward, "linear_worst_case": _ind_linear_worst_case,
    "project_l1_ball": _ind_project_l1_ball, "robust_logistic_loss": _ind_robust_logistic_loss,
    "local_entropy_gradient": _ind_local_entropy_gradient,
}


@pytest.mark.parametrize("name", NEW)
def test_independent_docstring_implementation_passes(name):
    for seed in range(5):
        res = course.check(name, INDEPENDENT[name], verbose=False, rng=seed)
        assert res.passed, (seed, [c for c in res.cases if not c.passed])


# ----------------------------------------------------------------------------- planted mistakes
def _lwc_where(w, b, X, y, eps, norm):
    s = 2 * y - 1
    if norm == np.inf:
        v = np.where(w >= 0, 1.0, -1.0)                   # moves zero-weight coordinates
    else:
        return S.linear_worst_case(w, b, X, y, eps, norm)
    return (-eps * s[:, None] * v).astype(X.dtype)


def _lwc_unsigned(w, b, X, y, eps, norm):
    return S.linear_worst_case(w, b, X, np.ones_like(y), eps, norm) * y[:, None]


def _lwc_towards_label(w, b, X, y, eps, norm):
    return -S.linear_worst_case(w, b, X, y, eps, norm)


def _lwc_naive_l2(w, b, X, y, eps, norm):
    if norm != 2:
        return S.linear_worst_case(w, b, X, y, eps, norm)
    return (-eps * (2 * y - 1)[:, None] * (w / np.linalg.norm(w))).astype(X.dtype)


def _l1_rescale(delta, eps):
    out = delta.copy()
    for i, row in enumerate(delta):
        n1 = np.abs(row).sum()
        if n1 > eps:
            out[i] = eps * row / n1
    return out


def _l1_threshold_eps(delta, eps):
    return np.sign(delta) * np.maximum(np.abs(delta) - eps, 0)


def _rl(q_of_norm, sign=1.0, signed=True):
    def fn(w, b, X, y, eps, norm):
        s = 2 * y - 1 if signed else y
        z = s * (X @ w + b) - sign * eps * np.linalg.norm(w, ord=q_of_norm(norm))
        return float(np.mean(np.logaddexp(0, -z)))
    return fn


def _rl_naive(w, b, X, y, eps, norm):
    q = {np.inf: 1, 2: 2, 1: np.inf}[norm]
    z = (2 * y - 1) * (X @ w + b) - eps * np.linalg.norm(w, ord=q)
    return float(np.mean(np.log(1 + np.exp(-z))))


def _le_naive(x, grid, f_grid, gamma):
    weights = np.exp(-f_grid[None, :] - 0.5 * gamma * (x[:, None] - grid[None, :]) ** 2)
    return gamma * (x - weights @ grid / weights.sum(axis=1))


def _le_flipped(x, grid, f_grid, gamma):
    return -S.local_entropy_gradient(x, grid, f_grid, gamma)


def _le_no_f(x, grid, f_grid, gamma):
    return S.local_entropy_gradient(x, grid, np.zeros_like(f_grid), gamma)


DUAL = {np.inf: 1, 2: 2, 1: np.inf}
PLANTED = {
    "affine_forward": [
        ("no bias", lambda x, W, b: (x @ W, (x, W, b)), "add the bias"),
        ("x W^T", lambda x, W, b: (x @ W.T + b, (x, W, b)), "not x Wᵀ"),
        ("W^T x^T", lambda x, W, b: ((W.T @ x.T).T + b, (x, W, b)) if x.shape[0] > 0 else None,
         None),
        ("cache of out", lambda x, W, b: (x @ W + b, (x @ W + b, W, b)), "cache"),
    ],
    "relu_forward": [
        ("mask", lambda x: (1.0 * (x > 0), x), "not the 0/1 mask"),
        ("abs", lambda x: (np.abs(x), x), "values differ"),
        ("cache out", lambda x: (np.maximum(x, 0), np.maximum(x, 0)), "cache"),
    ],
    "relu_backward": [
        (">= 0", lambda dout, x: dout * (x >= 0), "use x > 0, not x >= 0"),
        ("times x", lambda dout, x: dout * np.maximum(x, 0), "not by x"),
        ("mask on dout", lambda dout, x: np.where(dout > 0, dout, 0), "not on dout"),
    ],
    "linear_worst_case": [
        ("np.where sign", _lwc_where, "sign(0) = 0"),
        ("0/1 labels", _lwc_unsigned, "signed labels"),
        ("towards the label", _lwc_towards_label, "the attack lowers the margin"),
        ("naive L2 norm", _lwc_naive_l2, "huge weights"),
    ],
    "project_l1_ball": [
        ("rescale", _l1_rescale, "not the closest point"),
        ("threshold eps", _l1_threshold_eps, "the threshold θ is not eps"),
        ("clip", lambda d, eps: np.clip(d, -eps, eps), "L∞ projection"),
    ],
    "robust_logistic_loss": [
        ("primal norm", _rl(lambda p: p), "DUAL exponent"),
        ("plus eps", _rl(DUAL.get, sign=-1.0), "LOWERS the margin"),
        ("0/1 labels", _rl(DUAL.get, signed=False), "signed labels"),
        ("naive softplus", _rl_naive, "np.logaddexp"),
    ],
    "local_entropy_gradient": [
        ("naive exp", _le_naive, "subtract each row's largest log-weight"),
        ("flipped", _le_flipped, "γ (x - ⟨x'⟩)"),
        ("no loss in the weights", _le_no_f, "include the loss"),
    ],
}


def test_at_least_three_planted_mistakes_each():
    assert set(PLANTED) == set(NEW)
    assert all(sum(h is not None for _, _, h in v) >= 3 for v in PLANTED.values())


@pytest.mark.parametrize("name,label,fn,hint", planted_params(PLANTED))
def test_planted_mistake_fails_with_hint(name, label, fn, hint):
    if hint is None:                      # a correct rewrite (W^T x^T transposed back) passes
        res = course.check(name, fn, verbose=False)
        assert res.passed, [c for c in res.cases if not c.passed]
        return
    assert_fails_with_hint(name, fn, hint)


def test_linear_worst_case_attains_the_dual_norm_bound():
    gen = np.random.default_rng(0)
    w, X, y = gen.standard_normal(7), gen.standard_normal((5, 7)), gen.integers(0, 2, 5)
    for norm, q in DUAL.items():
        delta = S.linear_worst_case(w, 0.0, X, y, 0.3, norm)
        assert np.allclose(np.linalg.norm(delta, ord=norm, axis=1), 0.3)
        drop = (2 * y - 1) * (delta @ w)                                 # margin change
        assert np.allclose(drop, -0.3 * np.linalg.norm(w, ord=q))


def test_local_entropy_gradient_on_a_quadratic_is_the_closed_form():
    # f = a x²/2: the Gibbs measure is Gaussian with mean γx/(a+γ), so ∇F = aγ/(a+γ) x
    a, gamma = 3.0, 2.0
    grid = np.linspace(-20, 20, 40001)
    x = np.array([-1.0, 0.5, 2.0])
    got = S.local_entropy_gradient(x, grid, a * grid ** 2 / 2, gamma)
    np.testing.assert_allclose(got, a * gamma / (a + gamma) * x, rtol=1e-9)
