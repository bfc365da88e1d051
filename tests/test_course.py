"""The course's autograder: references and solutions pass, planted mistakes fail with a hint.

Every exercise of :mod:`minadv.course` is checked four ways: the reference (the library's own
function where minadv has one), the instructor solution (``tutorials/instructor``, loaded by
path) and an independent implementation written from the stub's docstring
(``tests/course_independent.py``) pass every case at seeds 0-4; at least three planted
mistakes — the ones students make (a forgotten 1/n, a transpose, naive exp overflow, L1 ties
to the last index, an L∞ step that moves zero-gradient coordinates, a one-sided box ignored,
0/0 at eps = 0, σ cancellation at z ~ ±40, clipping before projecting, a dropped Hessian
term) — fail with the hint that names the mistake; the untouched stub reports "not
implemented" without a traceback.
"""

import course_independent as independent
import numpy as np
import pytest
from course_helpers import assert_fails_with_hint, load_solutions, planted_params
from scipy import special

import minadv.course as course
from minadv.course import references, stubs

solutions = S = load_solutions()
SEEDS = range(5)

NAMES = course.exercises()
# the first twelve exercises, whose independent implementations and planted bugs live here;
# exercises appended later get every generic test below (cases, reference, solution, stub)
CORE = ["sigmoid", "logsumexp", "softmax_cross_entropy_backward", "logistic_backward",
        "affine_backward", "two_layer_backward", "steepest_ascent", "project_l2_ball",
        "pgd_step", "vat_power_iteration", "robust_logistic_hessian", "hvp_one_hidden"]


# ----------------------------------------------------------------------------- the API
def test_at_least_nine_exercises_in_course_order():
    assert len(NAMES) >= 9
    assert NAMES[:len(CORE)] == CORE


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_reference_passes(name, seed):
    res = course.check(name, getattr(references, name), verbose=False, rng=seed)
    assert res.passed, [c for c in res.cases if not c.passed]
    assert len(res.cases) >= 6
    assert all(c.rel_error <= 1e-4 and c.hint == "" for c in res.cases)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_solution_passes(name, seed):
    res = course.check(name, getattr(solutions, name), verbose=False, rng=seed)
    assert res.passed, [c for c in res.cases if not c.passed]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CORE)
def test_independent_docstring_implementation_passes(name, seed):
    """Every case is well posed: a literal float64 reading of the docstring passes it."""
    res = course.check(name, getattr(independent, name), verbose=False, rng=seed)
    assert res.passed, [c for c in res.cases if not c.passed]


def test_tiny_hvp_block_is_judged_at_the_scale_of_the_whole_product():
    """Saturated logits: the b2 block is ~1e-24 next to W1 ~1e2; its rounding noise must not
    fail the case, while a wrong b2 at the scale of the product still does."""
    from minadv.course.grading import judge
    from minadv.course.registry import get_exercise

    ex = get_exercise("hvp_one_hidden")
    spec = [c for c in ex.make_cases(np.random.default_rng(0)) if "1e3" in c.name][0]
    ref = references.hvp_one_hidden(*spec.args)
    top = max(np.abs(b).max() for b in ref.values())
    assert np.abs(ref["b2"]).max() < 1e-12 * top
    noisy = dict(ref, b2=ref["b2"] + 1e-17 * top)          # rounding-size noise in b2
    assert judge(ex, spec, ref, noisy).passed
    wrong = dict(ref, b2=ref["b2"] + 1e-3 * top)
    assert not judge(ex, spec, ref, wrong).passed


def test_vat_zero_case_is_exactly_zero():
    from minadv.course.registry import get_exercise

    spec = [c for c in get_exercise("vat_power_iteration").make_cases(np.random.default_rng(0))
            if "exactly" in c.name][0]
    fp, d, _ = spec.args
    unit = d[:1] / np.linalg.norm(d[:1])
    assert np.all(fp(np.vstack([unit, d[1:]])) == 0)           # H d = 0 in floating point
    np.testing.assert_array_equal(references.vat_power_iteration(*spec.args), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_stub_reports_not_implemented(name, capsys):
    res = course.check(name, getattr(stubs, name))
    out = capsys.readouterr().out
    assert not res.passed
    assert len(res.cases) == 1 and "not implemented yet" in res.cases[0].hint
    assert "Traceback" not in out and "not implemented yet" in out
    assert out.splitlines()[-1].startswith(f"{name}: 0/1 cases passed")


@pytest.mark.parametrize("name", NAMES)
def test_stub_text(name):
    text = course.stub(name)
    assert text.startswith(f"def {name}(")
    assert "raise NotImplementedError" in text
    assert "Returns" in text


def test_check_prints_one_line_per_case(capsys):
    res = course.check("affine_backward", solutions.affine_backward)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(res.cases) + 1
    assert all(line.startswith("\u2713") and "rel. error" in line for line in lines[:-1])
    assert lines[-1] == f"affine_backward: {len(res.cases)}/{len(res.cases)} cases passed (all cases pass)"


def test_check_rejects_unknown_name_and_non_callable():
    with pytest.raises(ValueError, match="name: expected one of"):
        course.check("affine_sideways", solutions.affine_backward)
    with pytest.raises(ValueError, match="name: expected one of"):
        course.stub("nope")
    with pytest.raises(TypeError, match="fn: expected the function"):
        course.check("sigmoid", 3)


def test_case_records_rel_error_and_hint():
    res = course.check("affine_backward", lambda dout, cache: S.affine_backward(2 * dout, cache),
                       verbose=False)
    assert not res.passed
    case = res.cases[0]
    assert case.name and not case.passed and case.rel_error == pytest.approx(1 / 3)
    assert "off by a constant factor 2" in case.hint


def test_student_exception_is_reported_not_raised():
    def broken(dout, cache):
        raise KeyError("W")
    res = course.check("affine_backward", broken, verbose=False)
    assert not res.passed and all(c.hint == "raised KeyError: 'W'" for c in res.cases)


def test_in_place_modification_fails():
    def in_place(t):
        t *= 1.0
        t[...] = S.sigmoid(t)
        return t
    res = course.check("sigmoid", in_place, verbose=False)
    assert any("modified its input arrays in place" in c.hint for c in res.cases)


# ----------------------------------------------------------------------------- planted mistakes
def _log_softmax_naive(z):
    return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def _softmax_ce_naive(z, y):
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def _ce_no_mean(z, y):
    return S.softmax_cross_entropy_backward(z, y) * z.shape[0]


def _ce_no_onehot(z, y):
    return np.exp(S._log_softmax(z)) / z.shape[0]



def _logistic_labels01(w, b, X, y):
    n = X.shape[0]
    m = y * (X @ w + b)                                  # 0/1 labels used as the sign
    coef = -S.sigmoid(-m) * y / n
    return float(np.mean(S._softplus(-m))), X.T @ coef, float(np.sum(coef)), np.outer(coef, w)


def _logistic_naive_softplus(w, b, X, y):
    _, dw, db, dX = S.logistic_backward(w, b, X, y)
    m = (2 * y - 1) * (X @ w + b)
    return float(np.mean(np.log(1 + np.exp(-m)))), dw, db, dX


def _logistic_dX_sum(w, b, X, y):
    loss, dw, db, dX = S.logistic_backward(w, b, X, y)
    return loss, dw, db, dX * X.shape[0]


def _affine_dW_transposed(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


def _affine_db_mean(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


def _two_layer(params, X, y, *, dact=lambda a, h: 1 - h * h, mean=True, naive=False):
    n = X.shape[0]
    a = X @ params["W1"] + params["b1"]
    h = np.tanh(a)
    z = h @ params["W2"] + params["b2"]
    log_p = _log_softmax_naive(z) if naive else S._log_softmax(z)
    dz = np.exp(log_p)
    dz[np.arange(n), y] -= 1
    dz = dz / n if mean else dz
    da = (dz @ params["W2"].T) * dact(a, h)
    grads = {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}
    return float(-np.mean(log_p[np.arange(n), y])), grads, da @ params["W1"].T


def _l1_ties_last(g, eps, norm):
    if norm != 1:
        return S.steepest_ascent(g, eps, norm)
    j = g.shape[1] - 1 - np.argmax(np.abs(g)[:, ::-1], axis=1)
    delta = np.zeros_like(g)
    rows = np.arange(len(g))
    delta[rows, j] = eps * np.sign(g[rows, j])
    return delta


def _l2_global(g, eps, norm):
    return eps * g / np.linalg.norm(g) if norm == 2 else S.steepest_ascent(g, eps, norm)


def _l2_unguarded(g, eps, norm):
    if norm != 2:
        return S.steepest_ascent(g, eps, norm)
    return eps * g / np.linalg.norm(g, axis=1, keepdims=True)


def _linf_where(g, eps, norm):
    if norm != np.inf:
        return S.steepest_ascent(g, eps, norm)
    return np.where(g >= 0, eps, -eps).astype(g.dtype)


def _project_max_guard(delta, eps):
    norms = S._row_norms(delta)[:, None]
    return delta * np.minimum(1, eps / np.maximum(norms, eps))     # 0/0 at eps = 0, zero row


def _pgd_where(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    x1 = x + _linf_where(g, step_size, norm)
    return S.pgd_step(x1, x0, np.zeros_like(g), 0.0, eps, norm, clip_min, clip_max)


def _pgd_needs_both_bounds(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    out = S.pgd_step(x, x0, g, step_size, eps, norm)
    if clip_min is not None and clip_max is not None:
        out = np.clip(out, clip_min, clip_max)
    return out


def _project_every_row(delta, eps):
    return eps * delta / np.linalg.norm(delta, axis=1, keepdims=True)


def _project_naive_norm(delta, eps):
    norms = np.linalg.norm(delta, axis=1, keepdims=True)
    return np.where(norms > eps, eps * delta / norms, delta)


def _pgd(order):
    def step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
        def ball(z):
            return x0 + S.pgd_step(z, x0, np.zeros_like(g), 0.0, eps, norm)  - x0
        ops = {"up": lambda z: z + S.steepest_ascent(g, step_size, norm),
               "down": lambda z: z - S.steepest_ascent(g, step_size, norm),
               "ball": ball,
               "box": lambda z: np.clip(z, clip_min, clip_max)}
        for op in order.split():
            x = ops[op](x)
        return x
    return step


def _power(*, start=True, every=True, whole=False, extra=0):
    def unit(d):
        return d / np.linalg.norm(d) if whole else S._unit_rows(d)

    def fn(fisher_product, d, n_iter):
        d = unit(d) if start else d
        for _ in range(n_iter + extra):
            d = fisher_product(d)
            d = unit(d) if every else d
        return unit(d) if n_iter + extra > 0 else d
    return fn


def _robust(*, term2=True, plus=False, naive_c=False, naive_p=False):
    def fn(w, X, y, eps):
        n, dim = X.shape
        s = (2 * y - 1).astype(X.dtype)
        nw = np.linalg.norm(w)
        u = w / nw
        z = s * (X @ w) - eps * nw
        c = S.sigmoid(z) * (1 - S.sigmoid(z)) if naive_c else S.sigmoid(z) * S.sigmoid(-z)
        if naive_p:
            c = S.sigmoid(-z) * (1 - S.sigmoid(-z))
        A = s[:, None] * X + (eps if plus else -eps) * u
        H = (A.T * c) @ A / n
        if term2:
            H = H + (eps / nw) * np.mean(S.sigmoid(-z)) * (np.eye(dim) - np.outer(u, u))
        return H
    return fn


def _hvp(*, d2=True, dv=True, mean=True):
    def fn(params, X, y, v):
        n = X.shape[0]
        h = np.tanh(X @ params["W1"] + params["b1"])
        d1 = 1 - h * h
        z = h @ params["W2"] + params["b2"]
        p = special.softmax(z, axis=1)
        delta2 = p.copy()
        delta2[np.arange(n), y] -= 1
        r_a = X @ v["W1"] + v["b1"]
        r_h = d1 * r_a
        r_z = r_h @ params["W2"] + h @ v["W2"] + v["b2"]
        r_delta2 = p * r_z - p * np.sum(p * r_z, axis=1, keepdims=True)
        if mean:
            delta2, r_delta2 = delta2 / n, r_delta2 / n
        g = delta2 @ params["W2"].T
        r_g = r_delta2 @ params["W2"].T + (delta2 @ v["W2"].T if dv else 0)
        r_delta1 = d1 * r_g + (-2 * h * d1 * r_a * g if d2 else 0)
        return {"W1": X.T @ r_delta1, "b1": r_delta1.sum(0),
                "W2": h.T @ r_delta2 + r_h.T @ delta2, "b2": r_delta2.sum(0)}
    return fn


PLANTED = {
    "sigmoid": [
        ("naive exp", lambda t: 1 / (1 + np.exp(-t)), "use exp(-|t|)"),
        ("sigma(-t)", lambda t: S.sigmoid(-t), "you computed σ(-t)"),
        ("float64 out", lambda t: S.sigmoid(np.asarray(t, dtype=np.float64)),
         "keep the input dtype"),
    ],
    "logsumexp": [
        ("naive exp", lambda z: np.log(np.sum(np.exp(z), axis=1)), "subtract the row max"),
        ("max not added back",
         lambda z: S.logsumexp(z) - np.max(z, axis=1), "did not add it back"),
        ("axis 0", lambda z: S.logsumexp(z.T), "reduce over axis=1"),
        ("keepdims", lambda z: S.logsumexp(z)[:, None], "same entries, wrong shape"),
    ],
    "softmax_cross_entropy_backward": [
        ("forgot 1/n", _ce_no_mean, "forgot the 1/n"),
        ("naive exp", _softmax_ce_naive, "subtract the row max"),
        ("no one-hot", _ce_no_onehot, "subtract 1 at the true class"),
    ],
    "logistic_backward": [
        ("0/1 labels", _logistic_labels01, "use the signed labels s = 2y - 1"),
        ("naive softplus", _logistic_naive_softplus, "log1p(exp(-|t|))"),
        ("dX without 1/n", _logistic_dX_sum, "dX is n = 6 times too large"),
    ],
    "affine_backward": [
        ("dW transposed", _affine_dW_transposed, "dW has shape (3, 5), expected (5, 3): did "
                                                 "you transpose?"),
        ("db mean", _affine_db_mean, "db is the sum of dout over the rows, not the mean"),
        ("dx and dW swapped", lambda dout, cache: S.affine_backward(dout, cache)[1::-1]
         + (S.affine_backward(dout, cache)[2],), "dx has shape"),
    ],
    "two_layer_backward": [
        ("1 - a^2", lambda p, X, y: _two_layer(p, X, y, dact=lambda a, h: 1 - a * a),
         "1 - h², with h the layer's output"),
        ("forgot 1/n", lambda p, X, y: _two_layer(p, X, y, mean=False),
         "times too large: the loss is the mean"),
        ("naive softmax", lambda p, X, y: _two_layer(p, X, y, naive=True),
         "subtract the row max"),
    ],
    "steepest_ascent": [
        ("L1 ties to the last index", _l1_ties_last, "take the FIRST index of max |g_i|"),
        ("L2 global norm", _l2_global, "one norm per row"),
        ("L2 unguarded norm", _l2_unguarded, "guard the division by ||g_i||"),
        ("L∞ moves zero-gradient coordinates", _linf_where, "a coordinate with zero gradient "
                                                            "does not move"),
    ],
    "project_l2_ball": [
        ("every row rescaled", _project_every_row, "only rows OUTSIDE the ball move"),
        ("naive norm", _project_naive_norm, "rows with huge entries"),
        ("clip entries", lambda d, eps: np.clip(d, -eps, eps), "is the L∞ projection"),
        ("0/0 at eps = 0 on a zero row", _project_max_guard, "also for eps = 0"),
    ],
    "pgd_step": [
        ("clip before project", _pgd("up box ball"), "project onto the eps-ball around x0 "
                                                     "FIRST, then clip"),
        ("descent", _pgd("down ball box"), "PGD ascends the loss"),
        ("no box", _pgd("up ball"), "clip to the box [clip_min, clip_max] last"),
        ("L∞ moves zero-gradient coordinates", _pgd_where, "a coordinate with zero gradient "
                                                           "does not move"),
        ("one-sided box ignored", _pgd_needs_both_bounds, "a box given on one side only"),
    ],
    "vat_power_iteration": [
        ("normalise only at the end", _power(every=False), "normalise after every product"),
        ("whole-array norm", _power(whole=True), "normalise each row"),
        ("one product too many", _power(extra=1), "you did one more"),
        ("start not normalised", _power(start=False), "normalise the start vector"),
    ],
    "robust_logistic_hessian": [
        ("term 2 missing", _robust(term2=False), "term 2 is missing"),
        ("sigma (1 - sigma)", _robust(naive_c=True), "cancels to 0 for z > 37"),
        ("+ eps u", _robust(plus=True), "you used + eps u"),
        ("p (1 - p) with p = sigma(-z)", _robust(naive_p=True), "cancels to 0 for z < -37"),
    ],
    "hvp_one_hidden": [
        ("no tanh''", _hvp(d2=False), "misses the tanh'' term"),
        ("no delta2 V2^T", _hvp(dv=False), "the δ2 V2ᵀ term is missing"),
        ("no 1/n", _hvp(mean=False), "divide δ2 and R{δ2} by n"),
    ],
}


def test_every_exercise_has_three_planted_mistakes():
    assert set(PLANTED) == set(CORE)
    assert all(len(v) >= 3 for v in PLANTED.values())


@pytest.mark.parametrize("name,label,fn,hint", planted_params(PLANTED))
def test_planted_mistake_fails_with_hint(name, label, fn, hint):
    assert_fails_with_hint(name, fn, hint)


# ----------------------------------------------------------------------------- the references
def test_pgd_step_reference_is_one_iteration_of_the_library_pgd():
    from minadv.attacks import pgd
    from minadv.attacks.common import attack_loss_grad
    from minadv.models import MLP

    net = MLP([5, 7, 3], activation="tanh")
    params = net.init_params(rng=0)
    gen = np.random.default_rng(1)
    X, y = gen.random((6, 5)), gen.integers(0, 3, size=6)
    for norm in (np.inf, 2, 1):
        x1 = pgd(net, params, X, y, 0.3, norm=norm, n_steps=1, step_size=0.2, random_start=False,
                 clip_min=0.0, clip_max=1.0)
        g, _, _ = attack_loss_grad(net, params, X, y, False)
        mine = references.pgd_step(X, X, g, 0.2, 0.3, norm, 0.0, 1.0)
        np.testing.assert_allclose(mine, x1, rtol=0, atol=1e-15)


def test_power_iteration_reference_is_the_exact_vat_direction():
    from minadv.attacks import vat_perturbation
    from minadv.models import MLP

    net = MLP([4, 6, 3], activation="tanh")
    params = net.init_params(rng=0)
    X = np.random.default_rng(2).standard_normal((5, 4))
    r = vat_perturbation(net, params, X, 0.5, n_power_iterations=3, exact=True, rng=7).r_adv
    d0 = np.random.default_rng(7).standard_normal(X.shape)          # the same start draw
    mine = references.vat_power_iteration(lambda R: net.input_fisher_product(params, X, R), d0, 3)
    np.testing.assert_allclose(0.5 * mine, r, rtol=1e-12, atol=1e-15)


def test_planted_mistake_helpers_reduce_to_the_reference():
    from minadv.course.curvature_cases import hvp_parts, robust_hessian_parts
    from minadv.course.registry import get_exercise

    gen = np.random.default_rng(0)
    for spec in get_exercise("robust_logistic_hessian").make_cases(gen)[:2]:
        np.testing.assert_allclose(robust_hessian_parts(*spec.args),
                                   references.robust_logistic_hessian(*spec.args), rtol=1e-12)
    spec = get_exercise("hvp_one_hidden").make_cases(gen)[0]
    mine, ref = hvp_parts(*spec.args), references.hvp_one_hidden(*spec.args)
    for k in ref:
        np.testing.assert_allclose(mine[k], ref[k], rtol=1e-12, atol=1e-15)


def test_float32_cases_keep_dtype_in_the_references():
    from minadv.course.registry import EXERCISES

    for name, ex in EXERCISES.items():
        for spec in ex.make_cases(np.random.default_rng(0)):
            if "float32" not in spec.name:
                continue
            out = ex.reference(*spec.args, **spec.kwargs)
            if isinstance(out, float):                   # a scalar loss has no array dtype
                continue
            leaves = out.values() if isinstance(out, dict) else (
                out if isinstance(out, tuple) else (out,))
            arrays = [a for a in leaves if isinstance(a, np.ndarray) and a.ndim > 0]
            assert arrays and all(a.dtype == np.float32 for a in arrays), (name, spec.name)


@pytest.mark.parametrize("fn,hint", [
    (lambda t: None, "sigma is None: did you forget the `return`?"),
    (lambda t: np.array(["a"]), "expected numbers"),
    (lambda t: (S.sigmoid(t), S.sigmoid(t)), "sigma is a Python tuple, expected a NumPy array"),
    (lambda t: S.sigmoid(t).tolist(), "sigma is a Python list, expected a NumPy array"),
])
def test_malformed_outputs_get_a_hint(fn, hint):
    res = course.check("sigmoid", fn, verbose=False)
    assert not res.passed and hint in res.cases[0].hint


def test_wrong_structure_hint():
    res = course.check("affine_backward", lambda dout, cache: S.affine_backward(dout, cache)[:2],
                       verbose=False)
    assert res.cases[0].hint == "expected a tuple (dx, dW, db), got a tuple of length 2"
    res = course.check("hvp_one_hidden", lambda p, X, y, v: {"W1": v["W1"]}, verbose=False)
    assert "expected a dict with keys ['W1', 'W2', 'b1', 'b2'], got ['W1']" in res.cases[0].hint


@pytest.mark.parametrize("name", NAMES)
def test_stub_raises_not_implemented(name):
    with pytest.raises(NotImplementedError):
        getattr(stubs, name)(*[None] * getattr(stubs, name).__code__.co_argcount)


def test_library_l1_ties_go_to_the_first_index():
    from minadv.attacks import steepest_ascent

    g = np.array([[1.0, -3.0, 3.0, 0.0], [-5.0, 0.0, 5.0, -5.0]])
    np.testing.assert_array_equal(steepest_ascent(g, 0.5, 1),
                                  [[0, -0.5, 0, 0], [-0.5, 0, 0, 0]])
    np.testing.assert_array_equal(solutions.steepest_ascent(g, 0.5, 1),
                                  steepest_ascent(g, 0.5, 1))


def test_square_transpose_is_named():
    def dW_transposed(dout, cache):
        x, W, b = cache
        return dout @ W.T, dout.T @ x, dout.sum(axis=0)
    res = course.check("affine_backward", dW_transposed, verbose=False)
    square = [c for c in res.cases if c.name.startswith("square")][0]
    assert square.hint == "dW equals the transpose of the expected value: did you transpose?"


def test_dtype_hint_only_when_values_are_right():
    res = course.check("sigmoid", lambda t: S.sigmoid(np.asarray(t, dtype=np.float64)),
                       verbose=False)
    f32 = [c for c in res.cases if "float32" in c.name]
    assert f32 and all(not c.passed and c.hint.startswith("sigma is float64 for float32 inputs")
                       for c in f32)
    assert all(c.passed for c in res.cases if "float32" not in c.name)


def test_rel_error_is_scale_free():
    from minadv.course.grading import _rel_error

    a = np.array([3.0, 4.0])
    b = np.array([3.0, 4.5])
    for scale in (1e-300, 1.0, 1e300):
        assert _rel_error(a * scale, b * scale) == pytest.approx(_rel_error(a, b), rel=1e-12)
    assert _rel_error(np.zeros(2), np.zeros(2)) == 0.0
    assert _rel_error(np.array([np.inf]), np.array([1.0])) == np.inf


def test_cases_are_seeded():
    def slightly_off(t):
        return S.sigmoid(t) * (1 + 1e-3)
    a = course.check("sigmoid", slightly_off, verbose=False, rng=3)
    b = course.check("sigmoid", slightly_off, verbose=False, rng=np.random.default_rng(3))
    c = course.check("sigmoid", slightly_off, verbose=False, rng=4)
    assert [x.rel_error for x in a.cases] == [x.rel_error for x in b.cases]
    assert [x.rel_error for x in a.cases] != [x.rel_error for x in c.cases]
    assert all(x.hint.startswith("sigma is off by a constant factor 1.001") for x in a.cases)


# ----------------------------------------------------------------------------- check() manners
def test_system_exit_inside_fn_fails_the_case_not_the_session():
    def exits(dout, cache):
        raise SystemExit(0)
    res = course.check("affine_backward", exits, verbose=False)
    assert not res.passed and len(res.cases) == 6
    assert all("raised SystemExit(0)" in c.hint for c in res.cases)


def test_keyboard_interrupt_fails_the_case_and_stops():
    def interrupted(dout, cache):
        raise KeyboardInterrupt
    res = course.check("affine_backward", interrupted, verbose=False)
    assert not res.passed and len(res.cases) == 1
    assert "interrupted" in res.cases[0].hint


def test_time_budget_fails_a_looping_case():
    import time

    calls = []

    def slow_first(dout, cache):
        calls.append(1)
        if len(calls) == 1:
            while True:
                time.sleep(0.01)
        return S.affine_backward(dout, cache)
    start = time.perf_counter()
    res = course.check("affine_backward", slow_first, verbose=False, timeout=0.3)
    assert time.perf_counter() - start < 5
    assert "took longer than the time budget of 0.3 s" in res.cases[0].hint
    assert all(c.passed for c in res.cases[1:])


# ----------------------------------------------------------------------------- hints
def test_constant_factor_only_when_the_ratio_is_the_same_on_every_case():
    calls = []

    def varying(dout, cache):                        # a different wrong factor per case
        calls.append(1)
        dx, dW, db = S.affine_backward(dout, cache)
        k = 1.0 + len(calls)
        return k * dx, k * dW, k * db
    res = course.check("affine_backward", varying, verbose=False)
    assert not res.passed
    assert not any("constant factor" in c.hint for c in res.cases)
    assert all("values differ" in c.hint for c in res.cases)


def test_wrong_scalar_loss_is_not_called_a_constant_factor():
    def loss_plus_one(w, b, X, y):
        loss, dw, db, dX = S.logistic_backward(w, b, X, y)
        return loss + 1.0, dw, db, dX
    res = course.check("logistic_backward", loss_plus_one, verbose=False)
    assert not any("constant factor" in c.hint for c in res.cases)
    assert any(c.hint.startswith("loss: got ") for c in res.cases)


def test_nan_hint_tells_overflow_from_zero_over_zero():
    def unguarded_l2(g, eps, norm):                  # 0/0 on the zero rows
        if norm != 2:
            return S.steepest_ascent(g, eps, norm)
        with np.errstate(all="ignore"):
            return eps * g / np.sqrt(np.sum(g * g, axis=1, keepdims=True))
    res = course.check("steepest_ascent", unguarded_l2, verbose=False)
    zero = [c for c in res.cases if c.name == "zero gradient row, L2"][0]
    assert "has nan (0/0" in zero.hint and "guard the division" in zero.hint
    huge = [c for c in res.cases if c.name.startswith("huge and tiny")][0]
    assert not huge.passed

    def naive(t):
        with np.errstate(all="ignore"):
            return 1 / (1 + np.exp(-t))
    res = course.check("sigmoid", naive, verbose=False)
    assert all("0/0" not in c.hint for c in res.cases)


def test_warning_hint_picks_overflow_or_invalid():
    from minadv.course.grading import judge
    from minadv.course.registry import get_exercise

    ex = get_exercise("project_l2_ball")
    spec = ex.make_cases(np.random.default_rng(0))[0]
    ref = references.project_l2_ball(*spec.args)
    over = judge(ex, spec, ref, ref, ["overflow encountered in square"])
    assert ex.overflow_hint in over.hint
    invalid = judge(ex, spec, ref, ref, ["invalid value encountered in divide"])
    assert ex.nan_hint in invalid.hint and ex.overflow_hint not in invalid.hint


def test_every_exercise_names_its_tutorial_and_task():
    from pathlib import Path

    from minadv.course.registry import EXERCISES

    tutorials = Path(__file__).resolve().parent.parent / "tutorials"
    for name, ex in EXERCISES.items():
        assert ex.tutorial and (tutorials / ex.tutorial).is_file(), name
        assert ex.one_line and "\n" not in ex.one_line, name


def test_codec_round_trip_without_pickle(tmp_path):
    from minadv.course.runner import MatrixProduct, load_tree, save_tree

    tree = {"args": (np.arange(6.0).reshape(2, 3).astype(np.float32), 0.5, np.inf, None,
                     [1, 2], {"W": np.eye(2)}, MatrixProduct(np.ones((1, 2, 2))),
                     np.float32(2.5), "linf"),
            "kwargs": {"clip_min": None, "norm": 2}}
    save_tree(tmp_path / "t.npz", {"case": "x"}, tree)
    meta, back = load_tree(tmp_path / "t.npz")
    assert meta == {"case": "x"}
    a = back["args"]
    assert a[0].dtype == np.float32 and np.array_equal(a[0], tree["args"][0])
    assert a[1:4] == (0.5, np.inf, None) and a[4] == [1, 2] and isinstance(a[4], list)
    assert np.array_equal(a[5]["W"], np.eye(2))
    assert np.array_equal(a[6](np.ones((1, 2))), [[2.0, 2.0]])
    assert isinstance(a[7], np.float32) and a[8] == "linf"
    assert back["kwargs"] == {"clip_min": None, "norm": 2}
    save_tree(tmp_path / "o.npz", {}, {"out": np.array([object()], dtype=object)})
    _, obj = load_tree(tmp_path / "o.npz")                   # object arrays never travel
    assert "object" in repr(obj["out"]) or type(obj["out"]).__name__ == "Opaque"


@pytest.mark.parametrize("name", NAMES)
def test_stub_says_what_is_allowed(name):
    from minadv.course.registry import get_exercise

    ex = get_exercise(name)
    text = course.stub(name)
    assert "    Allowed\n    -------\n" in text
    assert all(f in text for f in ex.forbidden + ex.allowed)
    # said once, by the generated section (no hand-written "Allowed: NumPy." beside it)
    assert text.count("Allowed") == 1 and "NumPy only" not in text
    compile(text, "stub", "exec")                       # still a valid function


@pytest.mark.parametrize("name", NAMES)
def test_case_inputs_travel_to_the_child(name, tmp_path):
    """``minadv grade`` sends every case's inputs as arrays: nothing may arrive opaque."""
    from minadv.course.registry import get_exercise
    from minadv.course.runner import Opaque, load_tree, save_tree

    def opaque(obj):
        if isinstance(obj, Opaque):
            return True
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(
            obj, (list, tuple)) else ()
        return any(opaque(x) for x in items)

    for j, spec in enumerate(get_exercise(name).make_cases(np.random.default_rng(0))):
        save_tree(tmp_path / f"{j}.npz", {}, {"args": spec.args, "kwargs": spec.kwargs})
        _, back = load_tree(tmp_path / f"{j}.npz")
        assert not opaque(back), (name, spec.name)


# ----------------------------------------------------------------------------- nested outputs
def test_nested_tuple_output_is_compared_element_by_element():
    """``affine_forward`` returns ``(out, (x, W, b))``: every element of the cache is compared
    (zipping the cache with the one name "cache" used to compare ``x`` only)."""
    def zeroed_cache(x, W, b):
        return x @ W + b, (x, 0 * W, 0 * b)

    result = course.check("affine_forward", zeroed_cache, verbose=False)
    assert result.n_passed == 0
    assert all("cache[1]" in c.hint or "cache[2]" in c.hint for c in result.cases), result
    good = course.check("affine_forward", S.affine_forward, verbose=False)
    assert good.passed


def test_nested_tuple_of_the_wrong_length_is_named():
    def short_cache(x, W, b):
        return x @ W + b, (x, W)

    result = course.check("affine_forward", short_cache, verbose=False)
    assert result.n_passed == 0
    assert "expected a tuple (cache), got a tuple of length 2" in result.cases[0].hint


# ----------------------------------------------------------------------------- factor hint
def _identity_exercise():
    from minadv.course.grading import CaseSpec, Exercise

    spec = CaseSpec("tiny reference", (np.array([1e-160, 2e-160, -3e-160, 4e-160]),))
    ex = Exercise(name="identity", summary="y = x", reference=lambda x: x.copy(),
                  make_cases=lambda gen: [spec] * 6, outputs=("y",), overflow_hint="")
    return ex, spec


def test_factor_hint_is_scale_safe_for_huge_outputs():
    """A got ~1e154 against a reference ~1e-160: the ratio (~1e314) is not a float, and the
    hint must say the values differ instead of overflowing (pytest turns the RuntimeWarning
    into an error)."""
    from minadv.course.grading import judge

    ex, spec = _identity_exercise()
    got = np.array([1e154, -2e154, 3e154, 1e150])
    case = judge(ex, spec, spec.args[0].copy(), got)
    assert not case.passed and "values differ" in case.hint and case.factor is None


def test_factor_hint_still_finds_a_factor_at_extreme_scales():
    from minadv.course.grading import judge

    ex, spec = _identity_exercise()
    case = judge(ex, spec, spec.args[0].copy(), 1e150 * spec.args[0])
    assert not case.passed and case.factor == pytest.approx(1e150, rel=1e-12)
    case = judge(ex, spec, spec.args[0].copy(), -spec.args[0])
    assert case.hint == "y has the wrong sign"


# ----------------------------------------------------------------------------- zero references
@pytest.mark.parametrize("name", NAMES)
def test_an_all_zero_reference_value_is_met_exactly_by_the_solution(name):
    """No absolute floor (see ``minadv.course.grading._rel_error``): where a returned value's
    reference is all zero, a faithful implementation must give exact zeros (masks, zero rows,
    eps = 0: 0 times a finite number is exactly 0), so the solution's value is exactly 0."""
    from minadv.course.grading import reference_output
    from minadv.course.registry import get_exercise

    ex = get_exercise(name)
    for seed in SEEDS:
        for spec in ex.make_cases(np.random.default_rng(seed)):
            ref = reference_output(ex, spec)
            got = getattr(S, name)(*spec.args, **spec.kwargs)
            pairs = zip(ref, got) if isinstance(ref, tuple) else [(ref, got)]
            for r, g in pairs:
                leaves_r = list(r.values()) if isinstance(r, dict) else [r]
                if all(np.all(np.asarray(x) == 0) for x in leaves_r if not isinstance(x, tuple)):
                    leaves_g = list(g.values()) if isinstance(g, dict) else [g]
                    assert all(np.all(np.asarray(x) == 0) for x in leaves_g
                               if not isinstance(x, tuple)), (name, spec.name)
