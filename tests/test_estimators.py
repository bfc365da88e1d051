"""scikit-learn-style shells: fit/predict contract, label mapping, hyper-parameter errors."""

import numpy as np
import pytest

from minadv.datasets import make_moons
from minadv.estimators import LogisticRegression, MLPClassifier
from minadv.models import LogisticRegressionModel


def _moons(n=120, seed=0):
    return make_moons(n, noise=0.1, rng=seed)


def test_logistic_regression_maps_arbitrary_labels_and_predicts_them():
    X, y = _moons()
    labels = np.where(y == 1, 7, -3)
    clf = LogisticRegression(epochs=30, batch_size=32, random_state=0)
    assert clf.fit(X, labels) is clf
    assert clf.classes_.tolist() == [-3, 7] and clf.n_features_in_ == 2
    assert set(clf.predict(X).tolist()) <= {-3, 7}
    assert clf.score(X, labels) > 0.8
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert clf.decision_function(X).shape == (120,)


def test_fitted_params_are_a_plain_dict_usable_with_the_model_kernels():
    X, y = _moons()
    clf = LogisticRegression(objective="exact_robust", eps=0.1, epochs=10, random_state=0)
    clf.fit(X, y)
    assert type(clf.params_) is dict and isinstance(clf.model_, LogisticRegressionModel)
    np.testing.assert_array_equal(clf.model_.predict(clf.params_, X), clf.predict(X))
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]


@pytest.mark.parametrize("objective", ["erm", "fgsm", "shaham", "pgd", "vat", "random"])
def test_mlp_classifier_trains_with_every_objective(objective):
    X, y = _moons()
    clf = MLPClassifier(hidden_layer_sizes=(16,), objective=objective, eps=0.1, pgd_steps=3,
                        optimizer="adam", lr=0.02, epochs=15, batch_size=32, random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.8
    assert clf.predict_proba(X).shape == (120, 2) and clf.decision_function(X).shape == (120, 2)


def test_mlp_classifier_semi_supervised_vat_float32_and_reproducible():
    X, y = _moons()
    Xu = _moons(200, seed=1)[0]
    kw = dict(hidden_layer_sizes=(8,), objective="vat", eps=0.3, epochs=5, batch_size=16,
              unlabeled_batch_size=32, dtype="float32", random_state=3)
    a = MLPClassifier(**kw).fit(X, y, X_unlabeled=Xu)
    b = MLPClassifier(**kw).fit(X, y, X_unlabeled=Xu)
    assert all(v.dtype == np.float32 for v in a.params_.values())
    assert all(np.array_equal(a.params_[k], b.params_[k]) for k in a.params_)


def test_multiclass_and_entropy_sgd():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 150)
    X = rng.standard_normal((150, 4)) + 2.0 * np.eye(3, 4)[y]
    clf = MLPClassifier(hidden_layer_sizes=(), optimizer="entropy_sgd", lr=1.0,
                        optimizer_kwargs={"L": 3}, epochs=5, batch_size=30, random_state=0)
    assert clf.fit(X, y + 10).score(X, y + 10) > 0.8
    assert clf.classes_.tolist() == [10, 11, 12]


def test_get_and_set_params():
    clf = MLPClassifier(hidden_layer_sizes=(4,), lr=0.5)
    params = clf.get_params()
    assert params["lr"] == 0.5 and params["hidden_layer_sizes"] == (4,)
    assert "epochs" in params and "activation" in params
    assert clf.set_params(eps=0.2).eps == 0.2
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        clf.set_params(learning_rate=0.1)
    assert "MLPClassifier(" in repr(clf)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(lr=0.0), ValueError, "lr"),
    (dict(clean_weight=1.5, objective="fgsm"), ValueError, "clean_weight"),
    (dict(alpha=-0.5), ValueError, "alpha"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(objective="trades"), ValueError, "objective"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer"),
    (dict(eps=-1.0, objective="pgd"), ValueError, "eps"),
    (dict(norm="l7", objective="fgsm"), ValueError, "norm"),
    (dict(dtype="int32"), TypeError, "dtype"),
    (dict(optimizer_kwargs={"bogus": 1}), ValueError, "optimizer_kwargs"),
    (dict(objective="exact_robust"), ValueError, "exact_robust"),
])
def test_bad_hyperparameters_raise_at_fit(kwargs, exc, match):
    X, y = _moons(40)
    clf = MLPClassifier(hidden_layer_sizes=(4,), **{"epochs": 1, **kwargs})
    with pytest.raises(exc, match=match):
        clf.fit(X, y)


def test_bad_data_raise_at_fit_and_predict_before_fit():
    X, y = _moons(40)
    with pytest.raises(ValueError, match="X_unlabeled"):
        MLPClassifier(objective="vat", epochs=1).fit(X, y, X_unlabeled=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="does not use unlabeled"):
        MLPClassifier(epochs=1).fit(X, y, X_unlabeled=X)
    with pytest.raises(ValueError, match="binary"):
        LogisticRegression(epochs=1).fit(X, np.arange(40) % 3)
    with pytest.raises(ValueError, match="two classes"):
        LogisticRegression(epochs=1).fit(X, np.zeros(40))
    with pytest.raises(ValueError, match="match X"):
        LogisticRegression(epochs=1).fit(X, y[:-1])
    with pytest.raises(AttributeError, match="not fitted"):
        LogisticRegression().predict(X)


@pytest.mark.parametrize("objective", ["erm", "fgsm", "vat"])
@pytest.mark.parametrize("hyper,name", [({"eps": -1.0}, "eps"), ({"norm": 3}, "norm"),
                                        ({"pgd_steps": 0}, "pgd_steps"),
                                        ({"vat_xi": 0.0}, "vat_xi"), ({"alpha": -1e-3}, "alpha"),
                                        ({"vat_power_iterations": -1}, "vat_power_iterations")])
def test_every_hyperparameter_is_checked_whatever_the_objective(objective, hyper, name):
    X = np.random.default_rng(0).normal(size=(8, 2))
    with pytest.raises(ValueError, match=name):
        LogisticRegression(objective=objective, epochs=1, **hyper).fit(X, np.arange(8) % 2)
