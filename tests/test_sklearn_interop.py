"""scikit-learn interop of the estimators (run only when scikit-learn is importable).

minadv does not depend on scikit-learn: the estimators implement its protocols (get_params /
set_params, ``__sklearn_tags__`` imported lazily, a NotFittedError that is both a ValueError
and an AttributeError), and these tests check that scikit-learn's own tools accept them.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from minadv.datasets import make_moons
from minadv.estimators import LogisticRegression, MLPClassifier, NotFittedError

# scikit-learn is a test-only extra: each module through importorskip, so the file skips cleanly
sk_base = pytest.importorskip("sklearn.base")
sk_exceptions = pytest.importorskip("sklearn.exceptions")
sk_model_selection = pytest.importorskip("sklearn.model_selection")
sk_pipeline = pytest.importorskip("sklearn.pipeline")
sk_preprocessing = pytest.importorskip("sklearn.preprocessing")
sk_utils = pytest.importorskip("sklearn.utils")
sk_validation = pytest.importorskip("sklearn.utils.validation")

clone, is_classifier = sk_base.clone, sk_base.is_classifier
SklearnNotFittedError = sk_exceptions.NotFittedError
GridSearchCV, cross_val_score = sk_model_selection.GridSearchCV, sk_model_selection.cross_val_score
make_pipeline = sk_pipeline.make_pipeline
StandardScaler = sk_preprocessing.StandardScaler
get_tags = sk_utils.get_tags
check_is_fitted = sk_validation.check_is_fitted


def _data(n=90):
    return make_moons(n, noise=0.15, rng=0)


def _mlp(**kw):
    return MLPClassifier(**{"hidden_layer_sizes": 8, "epochs": 8, "lr": 0.2,
                            "random_state": 0, **kw})


def test_minadv_never_imports_sklearn_at_import_time():
    code = "import sys, minadv, minadv.estimators; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make", [_mlp, lambda: LogisticRegression(epochs=5, random_state=0)],
                         ids=["mlp", "logistic"])
def test_tags_say_classifier(make):
    est = make()
    tags = get_tags(est)
    assert is_classifier(est) and tags.estimator_type == "classifier"
    assert tags.target_tags.required and not tags.input_tags.allow_nan
    assert tags.classifier_tags.multi_class == isinstance(est, MLPClassifier)


def test_clone_copies_hyperparameters_and_drops_the_fit():
    X, y = _data()
    est = _mlp(l2=1e-3, clip_min=-2.0, clip_max=3.0, objective="fgsm").fit(X, y)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "params_")
    np.testing.assert_array_equal(twin.fit(X, y).predict(X), est.predict(X))   # same seed


def test_cross_val_score_runs_and_scores_each_fold_with_our_score():
    X, y = _data()
    scores = cross_val_score(_mlp(), X, y, cv=3)
    assert scores.shape == (3,) and np.all((scores >= 0.5) & (scores <= 1.0))
    # fold by fold, by hand: StratifiedKFold (the classifier default) + clone + fit + score
    manual = [clone(_mlp()).fit(X[tr], y[tr]).score(X[te], y[te])
              for tr, te in sk_model_selection.StratifiedKFold(3).split(X, y)]
    np.testing.assert_array_equal(scores, manual)


def test_grid_search_over_our_names_including_alpha():
    X, y = _data()
    grid = GridSearchCV(_mlp(), {"l2": [0.0, 1e-2], "lr": [0.05, 0.2]}, cv=2).fit(X, y)
    assert set(grid.best_params_) == {"l2", "lr"}
    assert grid.best_estimator_.l2 in (0.0, 1e-2)
    assert grid.best_estimator_.score(X, y) == grid.score(X, y)


def test_pipeline_with_a_scaler_and_nested_parameter_names():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(epochs=10, random_state=0))
    pipe.fit(X, y)
    Xs = StandardScaler().fit(X).transform(X)
    alone = LogisticRegression(epochs=10, random_state=0).fit(Xs, y)
    np.testing.assert_array_equal(pipe.predict(X), alone.predict(Xs))
    pipe.set_params(logisticregression__l2=0.5)
    assert pipe[-1].l2 == 0.5


def test_check_is_fitted_and_not_fitted_errors():
    X, _ = _data()
    est = _mlp()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError, match="MLPClassifier instance is not fitted") as info:
        est.predict(X)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    check_is_fitted(est.fit(*_data()))                    # no exception once fitted


def test_string_labels_through_cross_validation():
    X, y = _data()
    labels = np.array(["cat", "dog"])[y]
    scores = cross_val_score(LogisticRegression(epochs=5, random_state=0), X, labels, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.5)


# scikit-learn's own estimator checks.  Those below do not apply to a package that does not
# depend on scikit-learn, each for its stated reason; every other check must pass.
NOT_APPLICABLE = {
    # needs scikit-learn's own NotFittedError class; minadv's is a ValueError and an
    # AttributeError, which check_is_fitted accepts (test above)
    "check_estimators_unfitted": "scikit-learn's exception class",
    # these match scikit-learn's exact wording; minadv's messages follow its own rule
    # ("name: expected ..., got ...") and name the same argument
    "check_n_features_in_after_fitting": "wording",
    "check_estimators_empty_data_messages": "wording",
    "check_fit2d_1sample": "wording",
    "check_fit2d_predict1d": "wording",
    "check_requires_y_none": "wording",
    # complex X is a value of the wrong type: minadv raises TypeError, scikit-learn ValueError
    "check_complex_data": "TypeError, not ValueError",
    # a column y is refused with the fix in the message (scikit-learn warns and ravels it)
    "check_supervised_y_2d": "refused, not raveled",
}


@pytest.mark.parametrize("est", [MLPClassifier(hidden_layer_sizes=8, epochs=20, random_state=0),
                                 LogisticRegression(epochs=20, random_state=0)],
                         ids=["MLPClassifier", "LogisticRegression"])
def test_scikit_learn_check_estimator(est):
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "does not inherit BaseEstimator", skips
        results = checks.check_estimator(est, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert failed <= set(NOT_APPLICABLE), failed - set(NOT_APPLICABLE)
    assert len(passed) >= 40 and {"check_classifiers_train", "check_classifiers_classes",
                                  "check_fit_idempotent", "check_parameters_default_constructible",
                                  "check_no_attributes_set_in_init",
                                  "check_dont_overwrite_parameters"} <= passed
