"""Bad inputs to minadv.attacks: each raises ValueError/TypeError (or the
documented FloatingPointError) whose message names the argument."""

import numpy as np
import pytest

from minadv import attacks
from minadv.analysis.smoothness import pgd_adversarial_grad_fn
from minadv.attacks import (
    fast_gradient,
    fgsm,
    lp_norms,
    pgd,
    project_box,
    random_ball_start,
    robustness_curve,
    steepest_ascent,
    vat_perturbation,
)
from minadv.estimators import LogisticRegression
from minadv.models import MLP


def _problem():
    model = MLP([4, 6, 3], activation="tanh")
    params = model.init_params(rng=0)
    rng = np.random.default_rng(1)
    return model, params, rng.uniform(0, 1, (8, 4)), rng.integers(0, 3, 8)


M, P, X, Y = _problem()


def _curve(**kw):
    args = dict(eps_grid=[0.0, 0.1]) | kw
    grid = args.pop("eps_grid")
    return lambda: robustness_curve(M, P, X, args.pop("y", Y), grid, **args)


def _wrong_shape(Xb, yb, eps):
    return Xb[:, :2]


def _nan_out(Xb, yb, eps):
    return Xb * np.nan


def _two_args(Xb, yb):
    return Xb


def _fitted():
    Xe = np.random.default_rng(0).standard_normal((30, 4))
    return LogisticRegression(epochs=2, random_state=0).fit(Xe, np.where(Xe[:, 0] > 0, 7, 3))


EST = _fitted()

CASES = [
    # robustness_curve (eps as a string, bare callables, fgsm with norm=2)
    ("curve-eps-string", _curve(eps_grid="0.1"), TypeError, "eps_grid: expected a sequence"),
    ("curve-eps-strings", _curve(eps_grid=["0", "0.1"]), TypeError, "eps_grid"),
    ("curve-eps-none", _curve(eps_grid=None), TypeError, "eps_grid"),
    ("curve-eps-bool", _curve(eps_grid=[False, True]), TypeError, "eps_grid"),
    ("curve-eps-unsorted", _curve(eps_grid=[0.2, 0.1]), ValueError, "eps_grid"),
    ("curve-eps-2d", _curve(eps_grid=[[0.1]]), ValueError, "eps_grid"),
    ("curve-attack-1-arg", _curve(attack=lambda Xb: Xb), TypeError,
     r"attack: a callable attack must accept \(X_batch, y_batch, eps\)"),
    ("curve-attack-2-args", _curve(attack=_two_args), TypeError, "attack: .*_two_args"),
    ("curve-attack-4-args", _curve(attack=lambda a, b, c, d: a), TypeError, "attack"),
    ("curve-attack-int", _curve(attack=42), ValueError, "attack: expected 'fgsm'"),
    ("curve-attack-unknown", _curve(attack="cw"), ValueError, "attack"),
    ("curve-attack-shape", _curve(attack=_wrong_shape), ValueError,
     r"attack: _wrong_shape must return an array of shape \(8, 4\)"),
    ("curve-attack-nan", _curve(attack=_nan_out), ValueError, "attack: _nan_out returned non-finite"),
    ("curve-fgsm-l2", _curve(attack="fgsm", norm=2), ValueError, "norm: attack='fgsm' is the L_inf"),
    ("curve-fgsm-l1", _curve(attack="fgsm", norm="l1"), ValueError, "norm: attack='fgsm'"),
    ("curve-batch-0", _curve(batch_size=0), ValueError, "batch_size"),
    ("curve-batch-float", _curve(batch_size=1.5), TypeError, "batch_size"),
    ("curve-y-none", _curve(y=None), ValueError, "y: robustness evaluation needs the true labels"),
    ("curve-pgd-option", _curve(n_stepz=3), TypeError, "n_stepz"),
    ("curve-fgsm-option", _curve(attack="fgsm", n_steps=3), TypeError, "n_steps"),
    # pgd_adversarial_grad_fn: seed or Generator (a float seed used to become 0 silently)
    ("gradfn-float-seed", lambda: pgd_adversarial_grad_fn(M, X, Y, 0.1, rng=0.5), TypeError,
     "rng: expected None, an int seed"),
    ("gradfn-str-seed", lambda: pgd_adversarial_grad_fn(M, X, Y, 0.1, rng="0"), TypeError, "rng"),
    ("gradfn-negative-seed", lambda: pgd_adversarial_grad_fn(M, X, Y, 0.1, rng=-1), ValueError,
     "rng: a seed must be a non-negative integer"),
    # random_ball_start: the shape is a pair
    ("start-int-shape", lambda: random_ball_start(5, 0.1, 2), TypeError,
     r"shape: expected a tuple \(n, d\) of two ints, got int 5"),
    ("start-1-tuple", lambda: random_ball_start((5,), 0.1, 2), ValueError,
     r"shape: expected a tuple \(n, d\) of two ints, got tuple \(5,\)"),
    ("start-3-tuple", lambda: random_ball_start((5, 3, 2), 0.1, 2), ValueError, "shape"),
    ("start-zero-rows", lambda: random_ball_start((0, 3), 0.1, 2), ValueError, r"shape\[0\]"),
    ("start-float-dim", lambda: random_ball_start((2, 3.5), 0.1, 2), TypeError, r"shape\[1\]"),
    ("start-negative-eps", lambda: random_ball_start((2, 3), -0.1, 2), ValueError, "eps"),
    ("start-norm", lambda: random_ball_start((2, 3), 0.1, 3), ValueError, "norm"),
    ("start-dtype", lambda: random_ball_start((2, 3), 0.1, 2, dtype=int), TypeError, "dtype"),
    ("start-rng", lambda: random_ball_start((2, 3), 0.1, 2, rng=0.5), TypeError, "rng"),
    # the attacks
    ("fgsm-no-eps", lambda: fgsm(M, P, X), TypeError, "eps: expected a real number"),
    ("fgsm-eps-string", lambda: fgsm(M, P, X, Y, "0.1"), TypeError, "eps"),
    ("fgsm-eps-negative", lambda: fgsm(M, P, X, Y, -0.1), ValueError, "eps"),
    ("fgsm-eps-nan", lambda: fgsm(M, P, X, Y, np.nan), ValueError, "eps"),
    ("fgm-norm", lambda: fast_gradient(M, P, X, Y, 0.1, norm="l3"), ValueError, "norm"),
    ("fgsm-box-swapped", lambda: fgsm(M, P, X, Y, 0.1, clip_min=1.0, clip_max=0.0), ValueError,
     "clip_min: must be <= clip_max"),
    ("fgsm-box-nan", lambda: fgsm(M, P, X, Y, 0.1, clip_min=np.nan), ValueError, "clip_min"),
    ("fgsm-box-shape", lambda: fgsm(M, P, X, Y, 0.1, clip_max=np.ones(3)), ValueError,
     "clip_max: shape"),
    ("fgsm-outside-box", lambda: fgsm(M, P, X, Y, 0.1, clip_max=0.5), ValueError,
     "X: lies outside the box"),
    ("fgsm-labels", lambda: fgsm(M, P, X, Y + 3, 0.1), ValueError, "y"),
    ("fgsm-batch-0", lambda: fgsm(M, P, X, Y, 0.1, batch_size=0), ValueError, "batch_size"),
    ("fgsm-params-none", lambda: fgsm(M, None, X, Y, 0.1), TypeError,
     "params: expected the parameter dict of MLP"),
    ("fgsm-unfitted", lambda: fgsm(LogisticRegression(), None, X, Y, 0.1), ValueError,
     "model: the LogisticRegression estimator is not fitted"),
    ("fgsm-estimator-params", lambda: fgsm(EST, EST.params_, X, None, 0.1), TypeError,
     "params: a fitted estimator"),
    ("fgsm-estimator-labels", lambda: fgsm(EST, None, X, np.zeros(8), 0.1), ValueError,
     r"y: expected labels from the estimator's classes_ \[3, 7\]"),
    ("pgd-steps", lambda: pgd(M, P, X, Y, 0.1, n_steps=0), ValueError, "n_steps"),
    ("pgd-step-size", lambda: pgd(M, P, X, Y, 0.1, step_size=0.0), ValueError, "step_size"),
    ("pgd-random-start", lambda: pgd(M, P, X, Y, 0.1, random_start="yes"), TypeError,
     "random_start"),
    ("pgd-restarts", lambda: pgd(M, P, X, Y, 0.1, n_restarts=2, random_start=False),
     ValueError, "n_restarts"),
    ("pgd-target-is-y", lambda: pgd(M, P, X, Y, 0.1, target=Y), ValueError,
     "target: equals the true label"),
    ("pgd-trace-batched", lambda: pgd(M, P, X, Y, 0.1, return_trace=True, batch_size=2),
     ValueError, "return_trace"),
    ("pgd-rng", lambda: pgd(M, P, X, Y, 0.1, rng=1.5), TypeError, "rng"),
    ("vat-xi", lambda: vat_perturbation(M, P, X, 0.5, xi=0.0), ValueError, "xi"),
    ("vat-power", lambda: vat_perturbation(M, P, X, 0.5, n_power_iterations=0), ValueError,
     "n_power_iterations"),
    ("vat-batch", lambda: vat_perturbation(M, P, X, 0.5, batch_size=-1), ValueError,
     "batch_size"),
    ("vat-logits", lambda: vat_perturbation(M, P, X, 0.5, logits=np.zeros((8, 2))), ValueError,
     "logits"),
    ("steepest-int-g", lambda: steepest_ascent(np.ones((2, 3), int), 0.1, 2), TypeError, "g"),
    ("lp-norms-norm", lambda: lp_norms(X, "l0"), ValueError, "norm"),
    ("box-swapped", lambda: project_box(X, 1.0, 0.0), ValueError, "clip_min"),
]


@pytest.mark.parametrize("call, err, fragment", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_answered_by_name(call, err, fragment):
    with pytest.raises(err, match=fragment):
        call()


def test_catalogue_size():
    assert len(CASES) >= 30


def test_grad_fn_accepts_a_generator_and_keeps_common_random_numbers():
    theta = np.concatenate([P[k].ravel() for k in P])
    by_seed = pgd_adversarial_grad_fn(M, X, Y, 0.1, random_start=True, rng=3)
    gen = np.random.default_rng(3)
    by_gen = pgd_adversarial_grad_fn(M, X, Y, 0.1, random_start=True, rng=gen)
    first = by_gen(theta)
    np.testing.assert_array_equal(first, by_seed(theta))         # same stream as the seed
    np.testing.assert_array_equal(by_gen(theta), first)         # same starts at every call
    np.testing.assert_array_equal(gen.random(3), np.random.default_rng(3).random(3))  # untouched


def test_project_box_rejects_inverted_and_nan_bounds_and_keeps_dtype(raises_naming):
    """BUG (fixed): project_box(X, 1, 0) silently returned clip_max everywhere."""
    X = np.random.default_rng(0).uniform(-1, 2, size=(4, 3)).astype(np.float32)
    raises_naming(ValueError, "clip_min", lambda: attacks.project_box(X, 1.0, 0.0))
    raises_naming(ValueError, "clip_min",
                   lambda: attacks.project_box(X, np.array([0.0, 2.0, 0.0]), 1.0))
    raises_naming(ValueError, "clip_max", lambda: attacks.project_box(X, None, np.nan))
    raises_naming(ValueError, "clip_min", lambda: attacks.project_box(X, np.zeros(2), 1.0))
    out = attacks.project_box(X, 0.0, 1.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.clip(X, np.float32(0), np.float32(1)))
    np.testing.assert_array_equal(attacks.project_box(X, None, 0.5), np.minimum(X, 0.5))


def test_random_ball_start_rejects_a_non_float_dtype(raises_naming):
    """BUG (fixed): dtype=int gave NumPy's 'Unsupported dtype ... for standard_normal'."""
    raises_naming(TypeError, "dtype",
                   lambda: attacks.random_ball_start((3, 4), 0.5, 2, dtype=int, rng=0))
    assert attacks.random_ball_start((3, 4), 0.5, 2, dtype=np.float32, rng=0).dtype == np.float32


# ------------------------------------------------------------ bad-input sweep (every attack)
def _attack_calls():
    def fgsm(m, p, X, y, **k):
        return attacks.fgsm(m, p, X, y, k.pop("eps", 0.1), **k)

    def fgm_l1(m, p, X, y, **k):
        return attacks.fast_gradient(m, p, X, y, k.pop("eps", 0.1), norm=1, **k)

    def pgd_l2(m, p, X, y, **k):
        return attacks.pgd(m, p, X, y, k.pop("eps", 0.1), norm=2, n_steps=2, rng=0, **k)

    def pgd_linf(m, p, X, y, **k):
        return attacks.pgd(m, p, X, y, k.pop("eps", 0.1), norm=np.inf, n_steps=2, rng=0, **k)

    def vat(m, p, X, y, **k):
        return attacks.vat_perturbation(m, p, X, k.pop("eps", 0.1), rng=0, **k)

    def curve(m, p, X, y, **k):
        eps = k.pop("eps", 0.1)
        return attacks.robustness_curve(m, p, X, y, [0.0, eps], **k)

    return {"fgsm": fgsm, "fgm_l1": fgm_l1, "pgd_l2": pgd_l2, "pgd_linf": pgd_linf,
            "vat": vat, "curve": curve}


ATTACKS = _attack_calls()


def _bad_cases(X, y):
    Xn, Xi = X.copy(), X.copy()
    Xn[0, 0], Xi[1, 1] = np.nan, np.inf
    return {
        "X_nan": (ValueError, "X", dict(X=Xn)),
        "X_inf": (ValueError, "X", dict(X=Xi)),
        "X_1d": (ValueError, "X", dict(X=X[0], y=y[:1])),
        "X_3d": (ValueError, "X", dict(X=X[None])),
        "X_empty": (ValueError, "X", dict(X=X[:0], y=y[:0])),
        "X_width": (ValueError, "X", dict(X=X[:, :-1])),
        "X_int": (TypeError, "X", dict(X=np.ones(X.shape, dtype=np.int64))),
        "X_float32_model_float64": (TypeError, "X", dict(X=X.astype(np.float32))),
        "y_out_of_range": (ValueError, "y", dict(y=np.full_like(y, 3))),
        "y_negative": (ValueError, "y", dict(y=np.full_like(y, -1))),
        "y_non_integer": (ValueError, "y", dict(y=y + 0.5)),
        "y_length": (ValueError, "y", dict(y=y[:-1])),
        "eps_negative": (ValueError, "eps", dict(eps=-0.1)),
        "eps_nan": (ValueError, "eps", dict(eps=np.nan)),
        "eps_inf": (ValueError, "eps", dict(eps=np.inf)),
    }


_CASES = list(_bad_cases(np.zeros((2, 2)), np.zeros(2, int)))


@pytest.mark.parametrize("attack,case", [(a, c) for a in ATTACKS for c in _CASES
                                         if not (a == "vat" and c.startswith("y_"))])
def test_every_attack_rejects_bad_inputs_naming_the_argument(attack, case, small_mlp,
                                                             raises_naming):
    model, params, X, y = small_mlp()
    if attack == "curve" and case.startswith("eps"):
        exc, name, kw = {"eps_negative": (ValueError, "eps_grid", dict(eps=-0.1)),
                         "eps_nan": (ValueError, "eps_grid", dict(eps=np.nan)),
                         "eps_inf": (ValueError, "eps_grid", dict(eps=np.inf))}[case]
    else:
        exc, name, kw = _bad_cases(X, y)[case]
    X0, y0 = X.copy(), y.copy()
    args = {"X": X, "y": y, **kw}
    Xa, ya = args.pop("X"), args.pop("y")
    raises_naming(exc, name, lambda: ATTACKS[attack](model, params, Xa, ya, **args))
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("attack", ["fgsm", "fgm_l1", "pgd_l2", "pgd_linf", "curve"])
def test_attacks_reject_params_of_the_wrong_dtype_and_inverted_box(attack, small_mlp,
                                                                   raises_naming):
    model, params, X, y = small_mlp()
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    raises_naming(TypeError, "params['W1']", lambda: ATTACKS[attack](model, p32, X, y))
    if attack != "curve":
        raises_naming(ValueError, "clip_min", lambda: ATTACKS[attack](
            model, params, X, y, clip_min=1.0, clip_max=0.0))
