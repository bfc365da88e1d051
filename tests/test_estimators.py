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
    clf = MLPClassifier(hidden_layer_sizes=(16,), objective=objective, eps=0.1, n_steps=3,
                        optimizer="adam", lr=0.02, epochs=15, batch_size=32, random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.8
    assert clf.predict_proba(X).shape == (120, 2) and clf.decision_function(X).shape == (120,)


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
    (dict(l2=-0.5), ValueError, "l2"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(objective="mart"), ValueError, "objective"),
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
                                        ({"n_steps": 0}, "n_steps"),
                                        ({"xi": 0.0}, "xi"), ({"l2": -1e-3}, "l2"),
                                        ({"n_power_iterations": -1}, "n_power_iterations")])
def test_every_hyperparameter_is_checked_whatever_the_objective(objective, hyper, name):
    X = np.random.default_rng(0).normal(size=(8, 2))
    with pytest.raises(ValueError, match=name):
        LogisticRegression(objective=objective, epochs=1, **hyper).fit(X, np.arange(8) % 2)


# ---------------------------------------------------------------------------- hardening
def test_l2_is_the_penalty_and_clean_weight_the_fgsm_mixture():
    """l2=1e-4 is a weight decay; it must not touch the FGSM mix (one name per idea)."""
    X, y = _moons(40)
    clf = MLPClassifier(hidden_layer_sizes=4, objective="fgsm", l2=1e-4, epochs=1,
                        random_state=0).fit(X, y)
    assert clf.objective_.l2 == 1e-4 and clf.objective_.clean_weight == 0.5
    clf = MLPClassifier(hidden_layer_sizes=4, objective="fgsm", clean_weight=0.0, epochs=1,
                        random_state=0).fit(X, y)
    assert clf.objective_.clean_weight == 0.0 and clf.objective_.l2 == 0.0


def test_l2_trains_exactly_like_the_erm_objective_with_l2():
    from minadv.models import MLP
    from minadv.optim import OPTIMIZERS
    from minadv.training import ERM, fit

    X, y = _moons(40)
    clf = MLPClassifier(hidden_layer_sizes=4, l2=0.3, epochs=3, batch_size=8,
                        random_state=5).fit(X, y)
    init_rng, _, fit_rng = np.random.default_rng(5).spawn(3)
    model = MLP([2, 4, 2])
    ref = fit(model, model.init_params(init_rng), ERM(l2=0.3), X, y,
              optimizer=OPTIMIZERS["momentum"](lr=0.1), epochs=3, batch_size=8, rng=fit_rng,
              verbose=0)
    assert all(np.array_equal(clf.params_[k], ref.params[k]) for k in ref.params)


def test_hidden_layer_sizes_accepts_an_int_like_scikit_learn():
    X, y = _moons(40)
    clf = MLPClassifier(hidden_layer_sizes=16, epochs=1, random_state=0).fit(X, y)
    assert clf.model_.sizes == (2, 16, 2) and clf.hidden_layer_sizes == 16   # stored as given
    assert MLPClassifier(hidden_layer_sizes=np.int64(3), epochs=1).fit(X, y).model_.sizes == \
        (2, 3, 2)


def test_clip_box_reaches_the_training_attack_and_x_must_lie_inside():
    X, y = _moons(40)
    X01 = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    for objective in ("fgsm", "shaham", "pgd"):
        clf = MLPClassifier(hidden_layer_sizes=4, objective=objective, clip_min=0.0,
                            clip_max=1.0, n_steps=2, epochs=1, random_state=0).fit(X01, y)
        assert (clf.objective_.clip_min, clf.objective_.clip_max) == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"^X: the objective's box is \[clip_min, clip_max\]"):
        MLPClassifier(objective="fgsm", clip_min=0.0, clip_max=1.0, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"^clip_min: must be <= clip_max, got clip_min=1.0"):
        MLPClassifier(clip_min=1.0, clip_max=0.0, epochs=1).fit(X01, y)


@pytest.mark.parametrize("cls", [MLPClassifier, LogisticRegression])
def test_a_typo_names_the_public_class_and_the_keyword(cls):
    """Explicit keywords: a misspelt or retired name is Python's own TypeError."""
    for retired in ("epoch", "alpha", "pgd_steps", "vat_lambda"):
        with pytest.raises(TypeError, match=rf"{cls.__name__}.__init__\(\) got an unexpected "
                                            rf"keyword argument '{retired}'"):
            cls(**{retired: 3})


def test_labels_are_checked_like_type_of_target():
    X, y = _moons(40)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^y: expected class labels, got continuous"):
        MLPClassifier(epochs=1).fit(X, rng.normal(size=40))
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match=r"^y: contains 1 NaN and 0 infinite labels"):
        MLPClassifier(epochs=1).fit(X, y_nan)
    with pytest.raises(ValueError, match=r"^y: .*column of shape \(40, 1\); use y.ravel\(\)"):
        MLPClassifier(epochs=1).fit(X, y[:, None])
    with pytest.raises(TypeError, match=r"^y: labels must all have one type, got a mix of "
                                        r"\['int', 'str'\]"):
        MLPClassifier(epochs=1).fit(X, np.array([1, "a"] * 20, dtype=object))
    clf = MLPClassifier(hidden_layer_sizes=4, epochs=1, random_state=0).fit(X, y.astype(float))
    assert clf.classes_.tolist() == [0.0, 1.0]                 # whole floats are classes


def test_complex_sparse_and_text_x_are_refused_not_truncated():
    X, y = _moons(40)
    with pytest.raises(TypeError, match=r"^X: complex values are not supported .*complex128"):
        MLPClassifier(epochs=1).fit(X + 1j, y)
    with pytest.raises(TypeError, match=r"^X: expected numbers, got dtype <U"):
        MLPClassifier(epochs=1).fit(np.full((40, 2), "a"), y)
    with pytest.raises(ValueError, match=r"^X: expected a 2-D array .*got shape \(40,\); for "
                                         r"one feature use X.reshape\(-1, 1\)"):
        MLPClassifier(epochs=1).fit(X[:, 0], y)


def test_predict_and_score_check_their_inputs():
    X, y = _moons(40)
    clf = LogisticRegression(epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"^y: expected 40 labels \(one per row of X\), got "
                                         r"shape \(39,\)"):
        clf.score(X, y[:-1])
    with pytest.raises(ValueError, match=r"^X: has 3 features, but LogisticRegression was "
                                         "fitted with 2 features"):
        clf.predict(np.zeros((2, 3)))
    weights = np.where(np.arange(40) < 20, 1.0, 0.0)
    assert clf.score(X, y, sample_weight=weights) == float(np.mean(clf.predict(X[:20]) == y[:20]))


def test_random_state_errors_name_random_state():
    X, y = _moons(40)
    with pytest.raises(TypeError, match=r"^random_state: .*RandomState .*default_rng"):
        MLPClassifier(epochs=1, random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(ValueError, match=r"^random_state: a seed must be a non-negative"):
        MLPClassifier(epochs=1, random_state=-1).fit(X, y)


def test_not_fitted_error_is_a_value_error_and_an_attribute_error():
    from minadv.estimators import NotFittedError

    clf = MLPClassifier()
    assert not hasattr(clf, "classes_") and not clf.__sklearn_is_fitted__()
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
            method(np.zeros((2, 2)))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_verbose_true_is_accepted_as_in_scikit_learn(capsys):
    X, y = _moons(40)
    MLPClassifier(hidden_layer_sizes=3, epochs=2, verbose=True, random_state=0).fit(X, y)
    assert capsys.readouterr().err.count("epoch ") == 2
