"""Attacks in batches and on estimators: ``y=None``, ``batch_size`` (bitwise equal to the
unbatched call, bounded memory) and fitted estimators in place of ``(model, params)``."""

import tracemalloc

import numpy as np
import pytest

from minadv.attacks import (
    fast_gradient,
    fgsm,
    pgd,
    random_ball_start,
    resolve_model,
    robustness_curve,
    vat_perturbation,
)
from minadv.estimators import LogisticRegression, MLPClassifier
from minadv.models import MLP


class RowwiseLinear(MLP):
    """Softmax regression whose products are ``np.einsum`` loops: each row's logits and input
    gradient are computed the same way whatever the number of rows (BLAS products of
    different row counts may differ in the last bit), so batching must be bitwise exact."""

    def __init__(self, d, C, dtype=np.float64):
        super().__init__([d, C], dtype=dtype)

    def forward(self, params, X):
        z = np.einsum("ij,jk->ik", X, params["W1"])              # (n, C)
        z += params["b1"]
        return z, (X, [], [])

    def backward(self, params, cache, dlogits, *, param_grads=True, input_grad=True):
        X = cache[0]
        grads = None
        if param_grads:
            grads = {"W1": np.einsum("ij,ik->jk", X, dlogits), "b1": dlogits.sum(axis=0)}
        gx = np.einsum("ik,jk->ij", dlogits, params["W1"]) if input_grad else None
        return grads, gx


def _rowwise(dtype=np.float64, n=23, d=9, C=4, seed=0):
    model = RowwiseLinear(d, C, dtype)
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((d, C)).astype(dtype), "b1": np.zeros(C, dtype)}
    X = rng.uniform(0, 0.9, (n, d)).astype(dtype)               # inside the test boxes
    return model, params, X, rng.integers(0, C, n)


# ----------------------------------------------------------------------------- batch_size
@pytest.mark.parametrize("batch_size", [1, 5, 22, 23, 100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_fast_gradient_is_bitwise_the_unbatched_one(norm, dtype, batch_size):
    model, params, X, y = _rowwise(dtype)
    box = dict(clip_min=0.0, clip_max=np.linspace(0.9, 1.0, X.shape[1]))
    full = fast_gradient(model, params, X, y, 0.2, norm=norm, **box)
    np.testing.assert_array_equal(
        fast_gradient(model, params, X, y, 0.2, norm=norm, batch_size=batch_size, **box), full)
    np.testing.assert_array_equal(fgsm(model, params, X, None, 0.2, batch_size=batch_size),
                                  fgsm(model, params, X, None, 0.2))


@pytest.mark.parametrize("restarts", [1, 3])
@pytest.mark.parametrize("batch_size", [1, 4, 23])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_pgd_with_random_starts_is_bitwise_the_unbatched_one(norm, dtype, batch_size,
                                                                      restarts):
    model, params, X, y = _rowwise(dtype)
    per_row_box = np.tile(np.linspace(0.95, 1.0, X.shape[0])[:, None], (1, X.shape[1]))
    kw = dict(n_steps=4, n_restarts=restarts, clip_min=0.0, clip_max=per_row_box)
    full = pgd(model, params, X, y, 0.15, norm=norm, rng=7, **kw)
    batched = pgd(model, params, X, y, 0.15, norm=norm, rng=7, batch_size=batch_size, **kw)
    np.testing.assert_array_equal(batched, full)
    gen = np.random.default_rng(7)                               # a Generator is consumed once
    np.testing.assert_array_equal(pgd(model, params, X, y, 0.15, norm=norm, rng=gen,
                                      batch_size=batch_size, **kw), full)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_ball_start_draws_rows_in_order(norm, dtype):
    # the rng contract behind batching: blocks drawn one after another = one draw of all rows
    full = random_ball_start((11, 7), 0.5, norm, dtype=dtype, rng=3)
    gen = np.random.default_rng(3)
    blocks = [random_ball_start((k, 7), 0.5, norm, dtype=dtype, rng=gen) for k in (3, 1, 5, 2)]
    np.testing.assert_array_equal(np.concatenate(blocks), full)


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("batch_size", [1, 6, 50])
def test_batched_vat_perturbation_is_bitwise_the_unbatched_one(batch_size, exact):
    model, params, X, _ = _rowwise()
    full = vat_perturbation(model, params, X, 0.7, rng=2, exact=exact)
    part = vat_perturbation(model, params, X, 0.7, rng=2, exact=exact, batch_size=batch_size)
    if exact:                                  # the R-operator of the base MLP uses BLAS
        np.testing.assert_allclose(part.r_adv, full.r_adv, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_array_equal(part.r_adv, full.r_adv)
    np.testing.assert_array_equal(part.logits, full.logits)
    with_logits = vat_perturbation(model, params, X, 0.7, rng=2, logits=full.logits,
                                   batch_size=batch_size)
    if not exact:
        np.testing.assert_array_equal(with_logits.r_adv, full.r_adv)


def test_batched_attacks_on_a_blas_mlp_agree_to_rounding():
    model = MLP([6, 16, 3], activation="tanh")
    params = model.init_params(rng=0)
    X = np.random.default_rng(1).uniform(0, 1, (40, 6))
    for norm in (2, 1):                    # no sign of a near-zero gradient entry to flip
        np.testing.assert_allclose(fast_gradient(model, params, X, None, 0.1, norm=norm, batch_size=7),
                                   fast_gradient(model, params, X, None, 0.1, norm=norm),
                                   rtol=0, atol=1e-14)
    np.testing.assert_allclose(vat_perturbation(model, params, X, 0.5, rng=0, batch_size=7).r_adv,
                               vat_perturbation(model, params, X, 0.5, rng=0).r_adv,
                               rtol=0, atol=1e-9)


def test_pgd_peak_memory_is_the_output_plus_one_batch():
    model = MLP([784, 32, 10], dtype=np.float32)
    params = model.init_params(rng=0)
    X = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
    block = 250 * 784 * 4                                        # one batch of X

    def peak(batch_size):
        tracemalloc.start()
        try:
            X_adv = pgd(model, params, X, eps=0.3, n_steps=2, step_size=0.01, clip_min=0.0,
                        clip_max=1.0, rng=0, batch_size=batch_size)
            return tracemalloc.get_traced_memory()[1], X_adv.nbytes
        finally:
            tracemalloc.stop()

    batched, out = peak(250)
    assert batched <= out + 8 * block                           # measured: out + ~5 blocks
    unbatched, _ = peak(None)
    assert unbatched > 3 * out                                   # what batching avoids


def test_batch_size_is_validated_and_trace_needs_one_batch():
    model, params, X, y = _rowwise()
    with pytest.raises(ValueError, match="batch_size"):
        fgsm(model, params, X, y, 0.1, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        pgd(model, params, X, y, 0.1, batch_size=2.5)
    with pytest.raises(ValueError, match="return_trace"):
        pgd(model, params, X, y, 0.1, batch_size=4, return_trace=True)


# ----------------------------------------------------------------------------- y = None
def test_y_none_attacks_the_models_predictions(norm):
    model, params, X, _ = _rowwise()
    pred = model.predict(params, X)
    np.testing.assert_array_equal(fast_gradient(model, params, X, eps=0.2, norm=norm),
                                  fast_gradient(model, params, X, pred, 0.2, norm=norm))
    np.testing.assert_array_equal(pgd(model, params, X, eps=0.2, norm=norm, rng=1),
                                  pgd(model, params, X, pred, 0.2, norm=norm, rng=1))
    np.testing.assert_array_equal(fgsm(model, params, X, eps=0.2), fgsm(model, params, X, pred, 0.2))
    target = (pred + 1) % model.n_classes
    np.testing.assert_array_equal(pgd(model, params, X, eps=0.2, norm=norm, target=target, rng=1),
                                  pgd(model, params, X, pred, 0.2, norm=norm, target=target, rng=1))


def test_eps_is_still_required():
    model, params, X, _ = _rowwise()
    with pytest.raises(TypeError, match="eps"):
        fgsm(model, params, X)


# ----------------------------------------------------------------------------- estimators
def _fitted(cls, **kw):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, 7, 3)             # labels 3 and 7: encoded 0/1
    if cls is MLPClassifier:
        y = np.where(X[:, 2] > 0.8, 11, y)
    return cls(epochs=3, random_state=0, **kw).fit(X, y), X, y


@pytest.mark.parametrize("cls", [LogisticRegression, MLPClassifier])
def test_a_fitted_estimator_stands_for_model_and_params(cls):
    est, X, y = _fitted(cls)
    model, params, classes = resolve_model(est)
    assert model is est.model_ and params is est.params_
    np.testing.assert_array_equal(classes, est.classes_)
    y_enc = np.searchsorted(est.classes_, y)
    np.testing.assert_array_equal(fgsm(est, None, X, y, 0.3), fgsm(model, params, X, y_enc, 0.3))
    np.testing.assert_array_equal(pgd(est, None, X, y, 0.3, norm=2, rng=0),
                                  pgd(model, params, X, y_enc, 0.3, norm=2, rng=0))
    np.testing.assert_array_equal(pgd(est, None, X, eps=0.3, rng=0),
                                  pgd(model, params, X, eps=0.3, rng=0))
    np.testing.assert_array_equal(vat_perturbation(est, None, X, 0.5, rng=0).r_adv,
                                  vat_perturbation(model, params, X, 0.5, rng=0).r_adv)
    curve = robustness_curve(est, None, X, y, [0.0, 0.3], attack="fgsm")
    assert curve.clean_accuracy == pytest.approx(est.score(X, y))
    np.testing.assert_array_equal(
        curve.accuracy, robustness_curve(model, params, X, y_enc, [0.0, 0.3], attack="fgsm").accuracy)


def test_estimator_errors_name_the_argument():
    est, X, y = _fitted(LogisticRegression)
    with pytest.raises(ValueError, match=r"y: expected labels from the estimator's classes_"):
        fgsm(est, None, X, np.where(y == 7, 5, y), 0.1)
    with pytest.raises(TypeError, match="params: a fitted estimator"):
        fgsm(est, est.params_, X, y, 0.1)
    with pytest.raises(ValueError, match="model: the LogisticRegression estimator is not fitted"):
        fgsm(LogisticRegression(), None, X, y, 0.1)
    with pytest.raises(TypeError, match="params: expected the parameter dict"):
        fgsm(est.model_, None, X, None, 0.1)
