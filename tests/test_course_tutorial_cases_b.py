"""The graded exercises of tutorials 05-09: references and instructor solutions pass every case,
planted mistakes fail with the hint that names them, and each plain reference equals the
library path it mirrors.

The instructor solutions live outside the package (``tutorials/instructor/solutions.py``) and
are imported here by path.  The planted mistakes are written here, independently of the hint
functions in :mod:`minadv.course.tutorial_cases_b`, the way students write them.
"""

import pathlib

import numpy as np
import pytest
from course_helpers import assert_fails_with_hint, load_solutions, planted_params

import minadv.course as course
from minadv.course import references, stubs
from minadv.course.grading import run_case
from minadv.course.registry import get_exercise

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAMES = ["vat_kl_backward", "pgd_inner_max", "robust_accuracy_curve",
         "filter_normalized_direction", "generator_loss_and_grads"]


S = load_solutions()


# ----------------------------------------------------------------------------- registry, stubs
def test_the_five_exercises_are_registered_and_distinct():
    names = course.exercises()
    assert all(name in names for name in NAMES)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", NAMES)
def test_exercise_names_the_tutorial_that_poses_it(name):
    from minadv.course.tutorial_cases_b import TUTORIAL_OF

    path = ROOT / "tutorials" / TUTORIAL_OF[name]
    assert f"\ndef {name}(" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_each_exercise_is_posed_in_exactly_one_tutorial_with_solution_markers(name):
    hits = [p for p in sorted((ROOT / "tutorials").glob("[0-9]*.py"))
            if f"\ndef {name}(" in p.read_text(encoding="utf-8")]
    assert len(hits) == 1, (name, [p.name for p in hits])
    text = hits[0].read_text(encoding="utf-8")
    body = text[text.index(f"\ndef {name}("):]
    body = body[:body.index("\n\n\n")]
    assert "    # BEGIN SOLUTION\n" in body and "    # END SOLUTION" in body
    assert body.index('"""') < body.index("# BEGIN SOLUTION")     # docstring outside
    assert f'minadv.course.check("{name}", {name})' in text


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(5))
def test_reference_and_solution_pass(name, seed):
    for fn in (getattr(references, name), getattr(S, name)):
        res = course.check(name, fn, verbose=False, rng=seed)
        assert res.passed, [c for c in res.cases if not c.passed]
        assert len(res.cases) >= 6


@pytest.mark.parametrize("name", NAMES)
def test_stub_reports_not_implemented(name, capsys):
    res = course.check(name, getattr(stubs, name))
    out = capsys.readouterr().out
    assert not res.passed and "not implemented yet" in res.cases[0].hint
    assert "Traceback" not in out
    text = course.stub(name)
    assert text.startswith(f"def {name}(") and "Tutorial" in text
    assert "Returns" in text and "raise NotImplementedError" in text


@pytest.mark.parametrize("name", [n for n in NAMES if n != "robust_accuracy_curve"])
def test_float32_cases_keep_float32(name):           # (the curve's inputs are integers)
    ex = get_exercise(name)
    specs = [s for s in ex.make_cases(np.random.default_rng(0)) if "float32" in s.name]
    assert specs
    for spec in specs:
        out = ex.reference(*spec.args, **spec.kwargs)
        leaves = out if isinstance(out, tuple) else (out,)
        arrays = [a for leaf in leaves
                  for a in (leaf.values() if isinstance(leaf, dict) else (leaf,))
                  if isinstance(a, np.ndarray) and a.ndim > 0]
        assert arrays and all(a.dtype == np.float32 for a in arrays), spec.name


# ----------------------------------------------------------------------------- planted mistakes
def _lsm(z):
    return z - np.max(z, 1, keepdims=True) - np.log(
        np.sum(np.exp(z - np.max(z, 1, keepdims=True)), 1, keepdims=True))


def _kl_naive_log(z_ref, z):
    p = np.exp(z_ref) / np.exp(z_ref).sum(1, keepdims=True)
    q = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return np.sum(p * np.log(p / q), axis=1), q - p


def _kl_wrong_sign(z_ref, z):
    kl, dz = S.vat_kl_backward(z_ref, z)
    return kl, -dz


def _kl_reversed(z_ref, z):
    lp, lq = _lsm(z_ref), _lsm(z)
    return np.sum(np.exp(lq) * (lq - lp), axis=1), np.exp(lq) - np.exp(lp)


def _kl_mean(z_ref, z):
    kl, dz = S.vat_kl_backward(z_ref, z)
    return kl / len(z), dz / len(z)


def _pgd_loop(*, where_sign=False, clean_grad=False, descent=False, no_ball=False,
              raw_start=False):
    def fn(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None, clip_max=None):
        lo = -np.inf if clip_min is None else clip_min
        hi = np.inf if clip_max is None else clip_max
        x = np.clip(X + (delta0 if raw_start else np.clip(delta0, -eps, eps)), lo, hi)
        for _ in range(n_steps):
            g = input_grad(X if clean_grad else x)
            step = np.where(g >= 0, 1.0, -1.0) if where_sign else np.sign(g)
            x = x - step_size * step if descent else x + step_size * step
            if not no_ball:
                x = np.minimum(np.maximum(x, X - eps), X + eps)
            x = np.clip(x, lo, hi)
        return x.astype(X.dtype)
    return fn


def _curve(*, pointwise=False, skip_clean=False, over_n=False):
    def fn(y, pred):
        ok = pred == y[:, None]
        if pointwise:
            robust = ok[:, 1:]
        elif skip_clean:
            robust = np.cumprod(ok[:, 1:], axis=1).astype(bool)
        else:
            robust = np.cumprod(ok, axis=1)[:, 1:].astype(bool)
        denom = len(y) if over_n else max(ok[:, 0].sum(), 1)
        return robust.mean(0), (ok[:, :1] & ~robust).sum(0) / denom
    return fn


def _curve_nan(y, pred):
    ok = pred == y[:, None]
    robust = np.cumprod(ok, axis=1)[:, 1:].astype(bool)
    with np.errstate(invalid="ignore"):
        return robust.mean(0), (ok[:, :1] & ~robust).sum(0) / ok[:, 0].sum()


def _filter(*, rows=False, layer=False, keep_bias=False, no_guard=False):
    def fn(params, d):
        weights = [k for k, v in params.items() if v.ndim >= 2] or [
            k for k, v in params.items() if v.ndim == 1]
        out = {}
        for k, t in params.items():
            if k not in weights:
                out[k] = d[k].copy() if keep_bias else np.zeros_like(d[k])
            elif layer or t.ndim == 1:
                out[k] = d[k] * np.linalg.norm(t) / (np.linalg.norm(d[k]) + 1e-10)
            else:
                ax = 1 if rows else 0
                tn = np.linalg.norm(t, axis=ax, keepdims=True)
                dn = np.linalg.norm(d[k], axis=ax, keepdims=True)
                out[k] = d[k] * tn / (dn if no_guard else dn + 1e-10)
        return out
    return fn


def _gan(*, label=1, mean=True, naive=False, kink=False):
    def fn(pG, pD, z):
        def fwd(p, h):
            L, hs, pre = len(p) // 2, [h], []
            for l in range(1, L + 1):
                pre.append(hs[-1] @ p[f"W{l}"] + p[f"b{l}"])
                hs.append(np.maximum(pre[-1], 0) if l < L else pre[-1])
            return hs, pre

        def bwd(p, hs, pre, delta):
            L, grads = len(p) // 2, {}
            for l in range(L, 0, -1):
                if l < L:
                    delta = delta * ((pre[l - 1] >= 0) if kink else (pre[l - 1] > 0))
                grads[f"W{l}"], grads[f"b{l}"] = hs[l - 1].T @ delta, delta.sum(0)
                delta = delta @ p[f"W{l}"].T
            return grads, delta

        hg, pg = fwd(pG, z)
        hd, pd = fwd(pD, hg[-1])
        s = hd[-1]
        if naive:
            prob = np.exp(s) / np.exp(s).sum(1, keepdims=True)
        else:
            prob = np.exp(_lsm(s))
        loss = float(-np.mean(np.log(prob[:, label]))) if naive else float(
            -np.mean(_lsm(s)[:, label]))
        ds = prob.copy()
        ds[:, label] -= 1
        ds = ds / len(z) if mean else ds
        _, dx = bwd(pD, hd, pd, ds)
        grads, _ = bwd(pG, hg, pg, dx)
        return loss, {k: grads[k] for k in pG}, dx
    return fn


PLANTED = {
    "vat_kl_backward": [
        ("log(softmax) and naive exp", _kl_naive_log, "stable log-softmax"),
        ("p - q", _kl_wrong_sign, "you returned p - q"),
        ("KL(q || p)", _kl_reversed, "you computed KL(q ‖ p)"),
        ("divided by n", _kl_mean, "not divided by n"),
    ],
    "pgd_inner_max": [
        ("np.where(g >= 0)", _pgd_loop(where_sign=True), "sign(0) = 0"),
        ("gradient at the clean X", _pgd_loop(clean_grad=True), "at the current iterate"),
        ("descent", _pgd_loop(descent=True), "PGD ascends the loss"),
        ("no ball projection", _pgd_loop(no_ball=True), "project back onto the eps-ball"),
        ("start not projected", _pgd_loop(raw_start=True), "project the start too"),
    ],
    "robust_accuracy_curve": [
        ("pointwise accuracy", _curve(pointwise=True), "survives EVERY attack"),
        ("clean column left out", _curve(skip_clean=True), "include the clean column"),
        ("success over all n", _curve(over_n=True), "divide by their number, not by n"),
        ("0/0 without a clean-correct point", _curve_nan, "success rate is 0 there"),
    ],
    "filter_normalized_direction": [
        ("rows instead of columns", _filter(rows=True), "a filter is a COLUMN"),
        ("whole layer", _filter(layer=True), "that is layer normalisation"),
        ("biases kept", _filter(keep_bias=True), "the biases get the direction 0"),
        ("0/0 on a zero filter", _filter(no_guard=True), "divide by (‖d_j‖ + 1e-10)"),
    ],
    "generator_loss_and_grads": [
        ("label fake", _gan(label=0), "you used the label 'fake'"),
        ("forgot 1/n", _gan(mean=False), "the mean over the n samples"),
        ("naive softmax", _gan(naive=True), "stable log-softmax"),
        ("relu'(0) = 1", _gan(kink=True), "0 at the kink"),
    ],
}


def test_every_new_exercise_has_three_planted_mistakes():
    assert set(PLANTED) == set(NAMES)
    assert all(len(v) >= 3 for v in PLANTED.values())


@pytest.mark.parametrize("name,label,fn,hint", planted_params(PLANTED))
def test_planted_mistake_fails_with_hint(name, label, fn, hint):
    assert_fails_with_hint(name, fn, hint)


def test_mistake_switches_reduce_to_the_reference():
    from minadv.course import tutorial_cases_b as B

    gen = np.random.default_rng(0)
    checks = [("pgd_inner_max", B._pgd_loop_parts), ("robust_accuracy_curve", B.curve_parts),
              ("filter_normalized_direction", B.filter_parts),
              ("generator_loss_and_grads", B.gan_parts)]
    for name, parts in checks:
        for spec in get_exercise(name).make_cases(gen):
            case = run_case(get_exercise(name), parts, spec)    # every switch off
            assert case.passed, (name, spec.name, case.hint)


# ----------------------------------------------------------------------------- library paths
def test_pgd_inner_max_reference_is_the_library_pgd_from_its_random_start():
    from minadv.attacks import pgd, random_ball_start
    from minadv.models import MLP

    net = MLP([6, 8, 3], activation="relu")
    params = net.init_params(rng=0)
    gen = np.random.default_rng(1)
    X, y = gen.random((10, 6)), gen.integers(0, 3, size=10)
    start = random_ball_start(X.shape, 0.2, np.inf, rng=5)
    lib = pgd(net, params, X, y, 0.2, norm=np.inf, n_steps=7, step_size=0.05, rng=5,
              clip_min=0.0, clip_max=1.0)

    def grad(Xa):
        return net.loss_and_grads(params, Xa, y, param_grads=False).input_grad

    mine = references.pgd_inner_max(grad, X, start, 0.2, 0.05, 7, 0.0, 1.0)
    np.testing.assert_allclose(mine, lib, rtol=0, atol=1e-15)


def test_robust_accuracy_curve_reference_is_the_library_summary():
    from minadv.attacks import pgd, robustness_curve
    from minadv.models import MLP

    net = MLP([4, 6, 3], activation="tanh")
    params = net.init_params(rng=0)
    gen = np.random.default_rng(2)
    X, y = gen.random((40, 4)), gen.integers(0, 3, size=40)
    grid = [0.0, 0.1, 0.3, 0.6]

    def attack(Xb, yb, eps):                     # deterministic: no random start
        return pgd(net, params, Xb, yb, eps, norm=np.inf, n_steps=5, random_start=False)

    lib = robustness_curve(net, params, X, y, grid, attack=attack)
    pred = np.column_stack([net.predict(params, X)]
                           + [net.predict(params, attack(X, y, e) if e else X) for e in grid])
    accuracy, success = references.robust_accuracy_curve(y, pred)
    np.testing.assert_array_equal(accuracy, lib.accuracy)
    np.testing.assert_array_equal(success, lib.success_rate)


def test_filter_normalized_direction_reference_is_random_direction():
    from minadv.analysis import random_direction
    from minadv.models import MLP

    params = MLP([5, 7, 3], activation="relu").init_params(rng=0)
    gen = np.random.default_rng(4)
    raw = {k: gen.standard_normal(v.shape) for k, v in params.items()}   # the same draws
    lib = random_direction(params, rng=4, normalization="filter")
    mine = references.filter_normalized_direction(params, raw)
    for k in params:
        np.testing.assert_allclose(mine[k], lib[k], rtol=1e-14, atol=0)
    logistic = {"w": np.array([3.0, 4.0]), "b": np.array(1.0)}
    out = references.filter_normalized_direction(logistic, {"w": np.array([1.0, 0.0]),
                                                            "b": np.array(2.0)})
    np.testing.assert_allclose(out["w"], [5.0, 0.0], rtol=1e-9)
    assert out["b"] == 0.0


def test_vat_kl_gradient_chains_to_the_library_input_gradient():
    from minadv.attacks import vat_kl
    from minadv.models import MLP

    net = MLP([5, 6, 3], activation="tanh")
    params = net.init_params(rng=0)
    gen = np.random.default_rng(3)
    X, R = gen.standard_normal((4, 5)), 0.1 * gen.standard_normal((4, 5))
    z_ref = net.forward(params, X)[0]
    z, cache = net.forward(params, X + R)
    kl, dz = S.vat_kl_backward(z_ref, z)
    _, g = net.backward(params, cache, dz, param_grads=False)
    kl_lib, g_lib = vat_kl(net, params, X, R)
    np.testing.assert_allclose(kl, kl_lib, rtol=1e-12)
    np.testing.assert_allclose(g, g_lib, rtol=1e-12, atol=1e-18)


def test_generator_gradient_matches_finite_differences():
    from minadv.gradcheck import numerical_gradient, rel_error

    spec = get_exercise("generator_loss_and_grads").make_cases(np.random.default_rng(0))[0]
    pG, pD, z = spec.args
    _, grads, _ = S.generator_loss_and_grads(pG, pD, z)
    for key in ("W1", "b3"):
        numeric = numerical_gradient(
            lambda v, key=key: S.generator_loss_and_grads({**pG, key: v}, pD, z)[0], pG[key])
        assert rel_error(grads[key], numeric) < 1e-6
