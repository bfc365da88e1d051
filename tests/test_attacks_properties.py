"""Property tests of the attack invariants, for every attack and norm.

* the output lies in the eps-ball (to the rounding of ``x + delta``) and in the box;
* ``eps = 0`` returns ``X`` exactly;
* the inputs (``X``, ``y``, the parameters, the box) are never modified;
* the dtype of ``X`` is kept.

Example counts are modest by default; set ``MINADV_HYPOTHESIS_MAX`` for a longer run.  The
examples are derandomized, so every run is the same.
"""

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from minadv.attacks import fast_gradient, fgsm, pgd, project_ball, steepest_ascent, vat_perturbation
from minadv.models import MLP, LogisticRegressionModel

MAX_EXAMPLES = int(os.environ.get("MINADV_HYPOTHESIS_MAX", "30"))
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True)

NORMS = st.sampled_from([np.inf, 2, 1, "linf", "l2", "l1"])
DTYPES = st.sampled_from([np.float32, np.float64])
CANON = {np.inf: np.inf, 2: 2, 1: 1, "linf": np.inf, "l2": 2, "l1": 1}


@st.composite
def problems(draw):
    """A small model, data inside an optional box, labels and a radius."""
    dtype = draw(DTYPES)
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0]))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        model = MLP([d, 5, 3], activation=draw(st.sampled_from(["tanh", "relu"])), dtype=dtype)
        params = model.init_params(rng=seed)
    else:
        model = LogisticRegressionModel(d, dtype=dtype)
        params = {"w": rng.standard_normal(d).astype(dtype), "b": np.array(0.1, dtype)}
    X = (scale * rng.standard_normal((n, d))).astype(dtype)
    y = rng.integers(0, model.n_classes, n)
    eps = draw(st.sampled_from([0.0, 1e-4, 0.05, 0.5, 3.0])) * scale
    box = (None, None)
    if draw(st.booleans()):
        margin = draw(st.sampled_from([0.0, 0.1, 1.0])) * scale
        box = (float(X.min()) - margin, float(X.max()) + margin)
    return model, params, X, y, eps, box, draw(NORMS), seed


def _norm64(D, norm):
    D = D.astype(np.float64)
    if norm == np.inf:
        return np.max(np.abs(D), axis=1)
    if norm == 1:
        return np.sum(np.abs(D), axis=1)
    return np.sqrt(np.sum(D * D, axis=1))


def _check(X_adv, X, eps, norm, box):
    assert X_adv.dtype == X.dtype and X_adv.shape == X.shape
    assert np.isfinite(X_adv).all()
    slack = 4 * np.finfo(X.dtype).eps * (eps + np.max(np.abs(X), axis=1))
    assert np.all(_norm64(X_adv.astype(np.float64) - X, CANON[norm]) <= eps + slack)
    if box[0] is not None:
        assert X_adv.min() >= X.dtype.type(box[0]) and X_adv.max() <= X.dtype.type(box[1])
    if eps == 0:
        np.testing.assert_array_equal(X_adv, X)


def _run_unmodified(attack, model, params, X, y):
    """Run ``attack`` and assert it left ``X``, ``y`` and ``params`` untouched."""
    X0, y0, p0 = X.copy(), y.copy(), {k: v.copy() for k, v in params.items()}
    out = attack()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    for k in p0:
        np.testing.assert_array_equal(params[k], p0[k])
    return out


@SETTINGS
@given(problems(), st.booleans())
def test_fast_gradient_invariants(problem, use_labels):
    model, params, X, y, eps, box, norm, _ = problem
    labels = y if use_labels else None
    X_adv = _run_unmodified(lambda: fast_gradient(model, params, X, labels, eps, norm=norm,
                                                  clip_min=box[0], clip_max=box[1]),
                            model, params, X, y)
    _check(X_adv, X, eps, norm, box)
    X_adv = fgsm(model, params, X, labels, eps, clip_min=box[0], clip_max=box[1])
    _check(X_adv, X, eps, np.inf, box)


@SETTINGS
@given(problems(), st.booleans(), st.integers(1, 3), st.sampled_from([None, 1, 4]))
def test_pgd_invariants(problem, random_start, restarts, batch_size):
    model, params, X, y, eps, box, norm, seed = problem
    restarts = restarts if random_start else 1
    X_adv = _run_unmodified(lambda: pgd(model, params, X, y, eps, norm=norm, n_steps=3,
                                        random_start=random_start, n_restarts=restarts,
                                        clip_min=box[0], clip_max=box[1], rng=seed,
                                        batch_size=batch_size),
                            model, params, X, y)
    _check(X_adv, X, eps, norm, box)


@SETTINGS
@given(problems(), st.booleans())
def test_vat_invariants(problem, exact):
    model, params, X, y, eps, _, _, seed = problem
    xi = 1e-3 * max(1.0, float(np.max(np.abs(X))))
    pert = _run_unmodified(lambda: vat_perturbation(model, params, X, eps, xi=xi, rng=seed,
                                                    exact=exact), model, params, X, y)
    assert pert.r_adv.dtype == X.dtype
    _check(X + pert.r_adv, X, eps, 2, (None, None))
    assert np.all(_norm64(pert.r_adv, 2) <= eps * (1 + 4 * np.finfo(X.dtype).eps))


@SETTINGS
@given(DTYPES, NORMS, st.integers(0, 2**16), st.sampled_from([0.0, 1e-3, 1.0, 7.0]),
       st.sampled_from([1e-300, 1e-30, 1.0, 1e30]))
def test_steepest_ascent_and_projection_invariants(dtype, norm, seed, eps, scale):
    with np.errstate(under="ignore", over="ignore"):
        g = (scale * np.random.default_rng(seed).standard_normal((4, 6))).astype(dtype)
    g0 = g.copy()
    delta = steepest_ascent(g, eps, norm)
    np.testing.assert_array_equal(g, g0)
    assert delta.dtype == g.dtype and np.isfinite(delta).all()
    tol = 1 + 4 * np.finfo(dtype).eps
    assert np.all(_norm64(delta, CANON[norm]) <= eps * tol)
    P = project_ball(g, eps, norm)
    np.testing.assert_array_equal(g, g0)
    assert P.dtype == g.dtype and np.all(_norm64(P, CANON[norm]) <= eps * tol)
