"""Bad inputs to minadv.robust_logistic and the analysis functions built on it.

Every case must raise ValueError or TypeError whose message names the argument.
"""

import numpy as np
import pytest

from minadv import robust_logistic as rl
from minadv.analysis import (
    epsilon_sharpness,
    fit_robust_logistic,
    gradient_lipschitz_ratios,
    hessian_trace,
    pgd_adversarial_grad_fn,
    random_direction,
    random_noise_control,
    robust_logistic_grad_fn,
    sharpness_ascent,
    sharpness_curve,
    weight_names_of,
)
from minadv.models import LogisticRegressionModel

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 4))
Y = RNG.integers(0, 2, 30)
W = RNG.normal(size=4)
MODEL = LogisticRegressionModel(4)
PARAMS = {"w": RNG.normal(size=4), "b": np.array(0.1)}


def quadratic(x):
    return float(x @ x), 2 * x


def nan3():
    return np.array([1.0, np.nan, 1.0])


CASES = {
    # sharpness_ascent: the catalogue's NaN / negative scale, and the rest of its inputs
    "ascent_scale_negative": (ValueError, "scale",
                              lambda: sharpness_ascent(quadratic, np.ones(3), 0.1,
                                                       scale=-np.ones(3))),
    "ascent_scale_nan": (ValueError, "scale",
                         lambda: sharpness_ascent(quadratic, np.ones(3), 0.1, scale=nan3())),
    "ascent_scale_zero": (ValueError, "scale",
                          lambda: sharpness_ascent(quadratic, np.ones(3), 0.1,
                                                   scale=np.zeros(3))),
    "ascent_scale_shape": (ValueError, "scale",
                           lambda: sharpness_ascent(quadratic, np.ones(3), 0.1,
                                                    scale=np.ones(2))),
    "ascent_rho_nan": (ValueError, "rho", lambda: sharpness_ascent(quadratic, np.ones(3), np.nan)),
    "ascent_rho_negative": (ValueError, "rho",
                            lambda: sharpness_ascent(quadratic, np.ones(3), -1.0)),
    "ascent_x0_nan": (ValueError, "x0", lambda: sharpness_ascent(quadratic, nan3(), 0.1)),
    "ascent_x0_2d": (ValueError, "x0", lambda: sharpness_ascent(quadratic, np.ones((3, 1)), 0.1)),
    "ascent_x0_string": (TypeError, "x0", lambda: sharpness_ascent(quadratic, "abc", 0.1)),
    "ascent_not_callable": (TypeError, "value_and_grad",
                            lambda: sharpness_ascent(3, np.ones(3), 0.1)),
    "ascent_returns_float": (TypeError, "value_and_grad",
                             lambda: sharpness_ascent(lambda x: 1.0, np.ones(3), 0.1)),
    "ascent_grad_shape": (ValueError, "value_and_grad",
                          lambda: sharpness_ascent(lambda x: (1.0, np.ones(2)), np.ones(3), 0.1)),
    "ascent_value_nan": (ValueError, "value_and_grad",
                         lambda: sharpness_ascent(lambda x: (np.nan, x), np.ones(3), 0.1)),
    "ascent_random_start_str": (TypeError, "random_start",
                                lambda: sharpness_ascent(quadratic, np.ones(3), 0.1,
                                                         random_start="yes")),
    "epsilon_sharpness_relative_str": (TypeError, "relative",
                                       lambda: epsilon_sharpness(MODEL, PARAMS, X, Y, 0.1,
                                                                 relative="yes")),
    "hessian_trace_max_exact_str": (TypeError, "max_exact",
                                    lambda: hessian_trace(MODEL, PARAMS, X, Y, max_exact="a")),
    # smoothness
    "ratios_grad_fn_not_callable": (TypeError, "grad_fn",
                                    lambda: gradient_lipschitz_ratios(3, W, np.eye(4), [0.1])),
    "ratios_symmetric_str": (TypeError, "symmetric",
                             lambda: gradient_lipschitz_ratios(lambda t: t, W, np.eye(4), [0.1],
                                                               symmetric="y")),
    "ratios_grad_wrong_shape": (ValueError, "grad_fn",
                                lambda: gradient_lipschitz_ratios(lambda t: t[:2], W, np.eye(4),
                                                                  [0.1])),
    "ratios_grad_nan": (ValueError, "grad_fn",
                        lambda: gradient_lipschitz_ratios(lambda t: t * np.nan, W, np.eye(4),
                                                          [0.1])),
    "pgd_grad_fn_float_seed": (TypeError, "rng",
                               lambda: pgd_adversarial_grad_fn(MODEL, X, Y, 0.1, rng=1.5)),
    "pgd_grad_fn_negative_seed": (ValueError, "rng",
                                  lambda: pgd_adversarial_grad_fn(MODEL, X, Y, 0.1, rng=-1)),
    "robust_grad_fn_intercept_str": (TypeError, "fit_intercept",
                                     lambda: robust_logistic_grad_fn(X, Y, 0.1,
                                                                     fit_intercept="yes")),
    # landscape
    "weight_names_of_list": (TypeError, "params", lambda: weight_names_of([1, 2])),
    "random_direction_zero_params": (ValueError, "params",
                                     lambda: random_direction({"w": np.zeros(4),
                                                               "b": np.array(0.0)}, rng=0)),
    "random_direction_weight_names_str": (TypeError, "weight_names",
                                          lambda: random_direction(PARAMS, rng=0,
                                                                   weight_names="w")),
    "random_direction_ignore_bias_str": (TypeError, "ignore_bias",
                                         lambda: random_direction(PARAMS, rng=0,
                                                                  ignore_bias="no")),
    # robust logistic closed forms and fits
    "fit_eps_nan": (ValueError, "eps", lambda: fit_robust_logistic(X, Y, np.nan)),
    "fit_norm_3": (ValueError, "norm", lambda: fit_robust_logistic(X, Y, 0.1, 3)),
    "fit_intercept_str": (TypeError, "fit_intercept",
                          lambda: fit_robust_logistic(X, Y, 0.1, fit_intercept="yes")),
    "fit_w0_nan": (ValueError, "w0",
                   lambda: fit_robust_logistic(X, Y, 0.1, w0=np.r_[np.nan, 0.0, 0.0, 0.0])),
    "fit_kkt_tol_zero": (ValueError, "kkt_tol", lambda: fit_robust_logistic(X, Y, 0.1,
                                                                            kkt_tol=0.0)),
    "fit_one_class_intercept": (ValueError, "y",
                                lambda: fit_robust_logistic(X, np.ones(30, int), 0.1,
                                                            fit_intercept=True)),
    "fit_pm1_labels": (ValueError, "y", lambda: fit_robust_logistic(X, 2 * Y - 1, 0.1)),
    "fit_integer_X": (TypeError, "X", lambda: fit_robust_logistic(X.astype(int), Y, 0.1)),
    "curve_k_bool": (TypeError, "k", lambda: sharpness_curve(X, Y, [0.1], k=True)),
    "curve_grid_nan": (ValueError, "eps_grid", lambda: sharpness_curve(X, Y, [0.1, np.nan])),
    "curve_grid_string": (TypeError, "eps_grid", lambda: sharpness_curve(X, Y, "0.1")),
    "curve_l2_above_critical_radius": (ValueError, "eps_grid",
                                       lambda: sharpness_curve(X, Y, [0.1, 50.0])),
    "noise_directions_float": (TypeError, "n_directions",
                               lambda: random_noise_control(X, Y, [0.1], n_directions=2.0)),
    "critical_radius_intercept_str": (TypeError, "fit_intercept",
                                      lambda: rl.critical_radius(X, Y, 2, fit_intercept="yes")),
    "critical_radius_one_class": (ValueError, "y",
                                  lambda: rl.critical_radius(X, np.zeros(30, int), 2, fit_intercept=True)),
    "kkt_residual_w_nan": (ValueError, "w",
                           lambda: rl.robust_logistic_kkt_residual(np.r_[np.nan, 0, 0, 0.0],
                                                                   None, X, Y, 0.1)),
    "loss_grad_intercept_str": (TypeError, "fit_intercept",
                                lambda: rl.robust_logistic_loss_grad(W, X, Y, 0.1,
                                                                     fit_intercept="no")),
    "loss_grad_theta_length": (ValueError, "theta",
                               lambda: rl.robust_logistic_loss_grad(W, X, Y, 0.1,
                                                                    fit_intercept=True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_answered_naming_the_argument(case):
    error, name, call = CASES[case]
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(name + ":") or f"{name}:" in str(info.value)


def test_pgd_grad_fn_accepts_a_generator_and_fixes_its_seed():
    # README rng convention: a Generator is accepted; the seed is drawn once (common random
    # numbers), so two calls at the same theta agree exactly.
    grad_fn = pgd_adversarial_grad_fn(MODEL, X, Y, 0.1, random_start=True, n_steps=3,
                                      rng=np.random.default_rng(5))
    theta = np.r_[PARAMS["w"], PARAMS["b"]]
    np.testing.assert_array_equal(grad_fn(theta), grad_fn(theta))


@pytest.mark.parametrize("fn", [rl.robust_logistic_loss, rl.robust_logistic_grad,
                                rl.robust_logistic_hessian])
def test_closed_form_rejects_bad_inputs_naming_the_argument(fn, raises_naming):
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(6, 4)), rng.integers(0, 2, 6), rng.normal(size=4)
    Xi = X.copy()
    Xi[2, 3] = -np.inf
    raises_naming(ValueError, "X", lambda: fn(w, 0.1, Xi, y, 0.1))
    raises_naming(ValueError, "X", lambda: fn(w, 0.1, X[:0], y[:0], 0.1))
    raises_naming(ValueError, "eps", lambda: fn(w, 0.1, X, y, -0.1))
    raises_naming(ValueError, "eps", lambda: fn(w, 0.1, X, y, np.nan))
    raises_naming(ValueError, "y", lambda: fn(w, 0.1, X, 2 * y - 1, 0.1))   # -1/+1 labels
    raises_naming(ValueError, "w", lambda: fn(w[:3], 0.1, X, y, 0.1))
    raises_naming(ValueError, "b", lambda: fn(w, np.nan, X, y, 0.1))
    raises_naming(ValueError, "l2", lambda: fn(w, 0.1, X, y, 0.1, l2=np.nan))
    raises_naming(ValueError, "norm", lambda: fn(w, 0.1, X, y, 0.1, norm=3))
    raises_naming(TypeError, "X", lambda: fn(w, 0.1, X.astype(np.int64), y, 0.1))
