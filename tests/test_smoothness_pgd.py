"""PGD-based adversarial gradients (Danskin) for any model, fed to the Lipschitz estimator."""

import numpy as np
import pytest

from minadv.analysis.smoothness import (
    gradient_lipschitz_ratios,
    pgd_adversarial_grad_fn,
    random_unit_directions,
    robust_logistic_grad_fn,
)
from minadv.datasets import make_sharpness_data
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import flatten


@pytest.mark.parametrize("norm", [np.inf, 2], ids=["linf", "l2"])
def test_equals_closed_form_for_logistic_regression(norm):
    X, y, _ = make_sharpness_data()
    theta = np.append(np.random.default_rng(0).normal(size=20), 0.3)
    pgd_grad = pgd_adversarial_grad_fn(LogisticRegressionModel(20), X, y, 0.5, norm,
                                       n_steps=3, step_size=0.5)(theta)
    exact = robust_logistic_grad_fn(X, y, 0.5, norm=norm, fit_intercept=True)(theta)
    np.testing.assert_allclose(pgd_grad, exact, rtol=0, atol=1e-14)


def test_mlp_l2_smooth_linf_not():
    """Kanai et al. on a small tanh MLP: the L2 ratio is flat in t, the Linf one is not."""
    X, y, _ = make_sharpness_data()
    net = MLP([20, 16, 2], activation="tanh")
    theta = flatten(net.init_params(rng=0))
    V = random_unit_directions(theta.size, 4, rng=1)
    ts = np.array([1e-2, 1e-3, 1e-4])
    r_l2 = gradient_lipschitz_ratios(pgd_adversarial_grad_fn(net, X, y, 0.1 * np.sqrt(20), 2),
                                     theta, V, ts, symmetric=True)
    r_inf = gradient_lipschitz_ratios(pgd_adversarial_grad_fn(net, X, y, 0.1, np.inf),
                                      theta, V, ts, symmetric=True)
    assert np.all(r_l2.max(axis=1) / r_l2.min(axis=1) < 1.01)
    assert np.max(r_inf.max(axis=1) / r_inf.min(axis=1)) > 1.5


def test_validates_data_once():
    with pytest.raises(ValueError, match="y: labels must lie"):
        pgd_adversarial_grad_fn(LogisticRegressionModel(2), np.zeros((2, 2)), [0, 3], 0.1)
