"""minadv.certify: closed forms of linear models, randomized smoothing, the Lipschitz
certificate, other activations and norms, and every bad input named in its error."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from minadv.attacks.linear import robust_margin
from minadv.certify import (
    ABSTAIN,
    FALSIFIED,
    VERIFIED,
    as_network,
    certify_interval,
    certify_linear,
    certify_lipschitz,
    certify_lp,
    interval_bounds,
    linear_bounds,
    linear_smoothing_radius,
    smoothed_certify,
    smoothed_predict,
    verify_exact,
)
from minadv.models import MLP, LogisticRegressionModel

FP_TOL = 1e-12      # float64 rounding of O(1) margins of d <= 10 terms (test_certify.py)


@pytest.fixture
def logistic():
    model = LogisticRegressionModel(4)
    params = {"w": np.array([1.5, -2.0, 0.5, 1.0]), "b": np.array(-0.25)}
    X = np.random.default_rng(0).random((6, 4))
    return model, params, X


# ------------------------------------------------------------------------- closed forms (LR)
@pytest.mark.parametrize("norm", [np.inf, 2, 1])
@pytest.mark.parametrize("box", [{}, {"clip_min": 0.0, "clip_max": 1.0}], ids=["free", "box"])
def test_logistic_margins_are_exact_for_every_method(logistic, norm, box):
    """No hidden layer: every method returns the exact robust margin of ``attacks.linear``
    (an independent closed form), and the exact verdict's counterexample attains it."""
    model, params, X = logistic
    y = (X @ params["w"] + params["b"] > 0).astype(int)
    exact = robust_margin(params["w"], params["b"], X, y, 0.3, norm=norm, **box)
    methods = [certify_interval, verify_exact] + ([certify_linear, certify_lp]
                                                  if norm == np.inf else [certify_linear])
    for certify in methods:
        cert = certify(model, params, X, y, eps=0.3, norm=norm, **box)
        np.testing.assert_allclose(cert.margins[:, 0], exact, rtol=0, atol=FP_TOL)
    cert = verify_exact(model, params, X, y, eps=0.3, norm=norm, **box)
    assert cert.method == "closed_form"
    for i in range(X.shape[0]):
        assert (cert.status[i] == VERIFIED) == (exact[i] > 0)
        if cert.counterexamples[i] is not None:
            x = cert.counterexamples[i]
            assert (x @ params["w"] + params["b"] > 0) != y[i] or x @ params["w"] + params["b"] == 0


def test_lipschitz_certificate_is_exact_for_logistic_regression(logistic):
    model, params, X = logistic
    y = (X @ params["w"] + params["b"] > 0).astype(int)
    for norm in (np.inf, 2, 1):
        cert = certify_lipschitz(model, params, X, y, eps=0.2, norm=norm)
        np.testing.assert_allclose(cert.margins[:, 0],
                                   robust_margin(params["w"], params["b"], X, y, 0.2, norm=norm),
                                   atol=FP_TOL)


def test_lipschitz_certificate_is_sound_and_below_the_exact_margin():
    model = MLP([6, 8, 8, 3])
    params = model.init_params(rng=3)
    X = np.random.default_rng(3).random((5, 6))
    exact = verify_exact(model, params, X, eps=0.05)
    lip = certify_lipschitz(model, params, X, eps=0.05)
    assert np.all(lip.margins <= exact.margins + 1e-6)
    for norm in (2, 1):                                          # interval bound on the ball
        ibp = certify_interval(model, params, X, eps=0.05, norm=norm)
        samples = np.random.default_rng(1).standard_normal((2000, 6))
        samples *= 0.05 / np.linalg.norm(samples, ord=norm, axis=1, keepdims=True)
        net = as_network(model, params)
        lip = certify_lipschitz(model, params, X, eps=0.05, norm=norm)
        for i in range(X.shape[0]):
            z = net.logits(X[i] + samples)
            y = np.argmax(net.logits(X[i:i + 1])[0])
            m = z[:, [y]] - z[:, ibp.classes[i]]
            assert np.all(ibp.margins[i] <= m + FP_TOL)
            assert np.all(lip.margins[i] <= m + FP_TOL)


# ------------------------------------------------------------------------- norms, activations
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "relu"])
def test_interval_bounds_of_monotone_activations_contain_the_network(activation):
    model = MLP([5, 7, 6, 3], activation=activation)
    params = model.init_params(rng=1)
    X = np.random.default_rng(1).random((3, 5))
    bounds = interval_bounds(model, params, X, 0.1, 2, clip_min=0.0, clip_max=1.0)
    gen = np.random.default_rng(2)
    for i in range(3):
        d = gen.standard_normal((5000, 5))
        d *= 0.1 * gen.random((5000, 1)) ** 0.2 / np.linalg.norm(d, axis=1, keepdims=True)
        Z = np.clip(X[i] + d, 0.0, 1.0)                          # in the L2 ball ∩ box
        logits = model.logits(params, Z)
        lo, up = bounds[-1]
        assert np.all(lo[i] <= logits + FP_TOL) and np.all(logits <= up[i] + FP_TOL)


def test_identity_network_is_linear_and_every_method_agrees():
    model = MLP([4, 5, 3], activation="identity")
    params = model.init_params(rng=2)
    X = np.random.default_rng(2).random((3, 4))
    exact = verify_exact(model, params, X, eps=0.1)
    for certify in (certify_linear, certify_lp):
        np.testing.assert_allclose(certify(model, params, X, eps=0.1).margins, exact.margins,
                                   atol=1e-6)


def test_float32_models_are_certified_in_their_dtype():
    model = MLP([4, 6, 3], dtype=np.float32)
    params = model.init_params(rng=0)
    X = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    cert = certify_interval(model, params, X, eps=0.05)
    assert cert.margins.dtype == np.float32
    assert set(verify_exact(model, params, X, eps=0.05).status) <= {VERIFIED, FALSIFIED}


def test_linear_bounds_lie_inside_interval_bounds():
    model = MLP([6, 10, 10, 4])
    params = model.init_params(rng=5)
    X = np.random.default_rng(5).random((4, 6))
    for (llo, lup), (ilo, iup) in zip(linear_bounds(model, params, X, 0.1),
                                      interval_bounds(model, params, X, 0.1)):
        assert np.all(ilo <= llo) and np.all(lup <= iup)


def test_time_limit_reaching_is_reported_not_verified():
    """A tiny time limit leaves HiGHS's status in ``solver`` and never a wrong verdict."""
    model = MLP([20, 16, 16, 5])
    params = model.init_params(rng=4)
    X = np.random.default_rng(4).random((2, 20))
    full = verify_exact(model, params, X, eps=0.1)
    quick = verify_exact(model, params, X, eps=0.1, time_limit=1e-4)
    assert set(full.status) == {VERIFIED}
    for i in range(2):
        assert all(isinstance(s, int) and isinstance(m, str) for s, m in quick.solver[i])
        if quick.status[i] == "unknown":
            assert "time limit" in quick.reason[i]
        else:
            assert quick.status[i] == full.status[i]


# ------------------------------------------------------------------------- (e) smoothing
def test_smoothing_radius_of_a_linear_model_matches_the_closed_form(logistic):
    """p_A = Φ(R/σ) for a linear classifier.  With probability >= 1 - 2α the Clopper–Pearson
    interval [p_lower, p_upper] of the n counts contains p_A, so
    σ Φ⁻¹(p_lower) <= R <= σ Φ⁻¹(p_upper): the certified radius is the Monte Carlo estimate of
    the exact radius within its confidence bound."""
    model, params, X = logistic
    pred, radius = linear_smoothing_radius(model, params, X)
    w = params["w"]
    np.testing.assert_allclose(radius, np.abs(X @ w + params["b"]) / np.linalg.norm(w))
    sigma, n, failure_probability = 0.5, 2000, 0.001
    cert = smoothed_certify(model, params, X, sigma, n0=100, n_samples=n,
                            failure_probability=failure_probability, rng=0)
    k = cert.counts
    p_upper = np.where(k < n, stats.beta.ppf(1 - failure_probability, k + 1, n - k), 1.0)
    assert np.all(cert.radius <= radius + FP_TOL)
    assert np.all(radius <= sigma * special.ndtri(p_upper) + FP_TOL)
    certified = cert.prediction != ABSTAIN
    assert np.all(cert.prediction[certified] == pred[certified])
    assert np.all(cert.radius[~certified] == 0)
    assert certified.sum() >= 3                                  # the test must bite


def test_smoothed_predict_abstains_on_the_boundary_and_agrees_away_from_it(logistic):
    model, params, X = logistic
    w, b = params["w"], params["b"]
    on_boundary = (X[:2] - ((X[:2] @ w + b) / (w @ w))[:, None] * w)        # wᵀx + b = 0
    far = X[:1] + 3.0 * w / np.linalg.norm(w)
    pred = smoothed_predict(model, params, np.vstack([on_boundary, far]), 0.5, n_samples=500,
                            failure_probability=0.001, rng=1)
    assert list(pred[:2]) == [ABSTAIN, ABSTAIN] and pred[2] == 1


def test_smoothing_is_reproducible_with_a_seed_and_accepts_a_generator(logistic):
    model, params, X = logistic
    a = smoothed_certify(model, params, X, 0.5, n_samples=200, rng=3)
    b = smoothed_certify(model, params, X, 0.5, n_samples=200, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.radius, b.radius)


# ------------------------------------------------------------------------- bad input
@pytest.fixture
def relu_net():
    model = MLP([3, 4, 2])
    return model, model.init_params(rng=0), np.full((2, 3), 0.5)


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"eps": -0.1}, ValueError, "eps"),
    ({"eps": None}, TypeError, "eps"),
    ({"eps": 0.1, "clip_min": 1.0, "clip_max": 0.0}, ValueError, "clip_min"),
    ({"eps": 0.1, "norm": 3}, ValueError, "norm"),
    ({"eps": 0.1, "y": np.array([0, 5])}, ValueError, "y"),
])
@pytest.mark.parametrize("certify", [certify_interval, certify_linear, certify_lp,
                                     verify_exact], ids=lambda f: f.__name__)
def test_bad_arguments_are_named(relu_net, certify, kwargs, exc, name):
    model, params, X = relu_net
    with pytest.raises(exc, match=name):
        certify(model, params, X, **kwargs)


@pytest.mark.parametrize("certify", [certify_lp, verify_exact], ids=lambda f: f.__name__)
def test_time_limit_and_norm_of_the_solvers_are_checked(relu_net, certify):
    model, params, X = relu_net
    with pytest.raises(ValueError, match="time_limit"):
        certify(model, params, X, eps=0.1, time_limit=0)
    with pytest.raises(ValueError, match="norm"):
        certify(model, params, X, eps=0.1, norm=2)


@pytest.mark.parametrize("certify", [certify_linear, certify_lp, verify_exact],
                         ids=lambda f: f.__name__)
def test_non_piecewise_linear_activation_is_refused(certify):
    model = MLP([3, 4, 2], activation="tanh")
    with pytest.raises(ValueError, match="activation"):
        certify(model, model.init_params(rng=0), np.zeros((1, 3)), eps=0.1)


def test_a_model_that_is_not_an_mlp_or_logistic_is_refused():
    class Other:
        pass

    for certify in (certify_interval, verify_exact, certify_lipschitz):
        with pytest.raises(TypeError, match="model"):
            certify(Other(), {}, np.zeros((1, 3)), eps=0.1)
    with pytest.raises(TypeError, match="model"):
        smoothed_certify(Other(), {}, np.zeros((1, 3)), 0.5)


def test_wrong_shapes_and_dtypes_are_named(relu_net):
    model, params, X = relu_net
    with pytest.raises(ValueError, match="X"):
        verify_exact(model, params, np.zeros((2, 5)), eps=0.1)
    with pytest.raises(TypeError, match="X"):
        certify_interval(model, params, X.astype(np.float32), eps=0.1)
    with pytest.raises(ValueError, match="X"):
        certify_interval(model, params, np.zeros(3), eps=0.1)
    with pytest.raises(ValueError, match="bounds"):
        certify_lp(model, params, X, eps=0.1, bounds=[(np.zeros((2, 9)), np.zeros((2, 9)))])
    with pytest.raises(ValueError, match="X"):
        certify_interval(model, params, X + 2, eps=0.1, clip_min=0.0, clip_max=1.0)


def test_bad_smoothing_arguments_are_named(relu_net):
    model, params, X = relu_net
    for kwargs, name in (({"sigma": 0.0}, "sigma"),
                         ({"sigma": 0.5, "failure_probability": 1.5}, "failure_probability"),
                         ({"sigma": 0.5, "n_samples": 0}, "n_samples"),
                         ({"sigma": 0.5, "rng": 1.5}, "rng")):
        with pytest.raises((ValueError, TypeError), match=name):
            smoothed_certify(model, params, X, **kwargs)
    with pytest.raises(TypeError, match="model"):
        linear_smoothing_radius(model, params, X)
