"""Realistic mistakes at the public boundary of training and its shells: the training loop,
the estimators, save/load, the validation helpers, MNIST and the dataset helpers.

Every case asserts the exception type, that the message *starts with the name of the
argument* (the library's voice: ``"<name>: expected ..., got ..."``) and that it shows what
arrived.  Cases are data: ``(call, exception, argument name, fragment of what arrived)``; the
call receives a temporary folder.
"""

import re

import numpy as np
import pytest

from minadv import _validation as V
from minadv import datasets as D
from minadv.attacks import fgsm, robustness_curve, vat_perturbation
from minadv.datasets import make_moons
from minadv.estimators import LogisticRegression, MLPClassifier, NotFittedError
from minadv.io import load_model, save_model
from minadv.mnist import load_mnist, read_idx
from minadv.models import MLP, model_from_config
from minadv.optim import adam, sgd
from minadv.params import init_weight
from minadv.training import (
    ERM,
    EarlyStopping,
    FGSMObjective,
    PGDObjective,
    VATObjective,
    evaluate,
    fit,
)

# ------------------------------------------------------------------------ shared tiny data
X, Y = make_moons(40, noise=0.1, rng=0)                  # (40, 2) float64, labels {0, 1}
NET = MLP([2, 4, 2])
P0 = NET.init_params(rng=0)
X01 = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))


def _with(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


def _fit(**kw):
    """fit() with good defaults; each case overrides one thing."""
    args = {"model": NET, "params": P0, "objective": ERM(), "X": X, "y": Y,
            "optimizer": sgd(0.1), "epochs": 1, "batch_size": 8, "rng": 0, "verbose": 0, **kw}
    return lambda tmp: fit(args.pop("model"), args.pop("params"), args.pop("objective"),
                           args.pop("X"), args.pop("y"), **args)


def _est(cls=MLPClassifier, X_=X, y_=Y, **hyper):
    return lambda tmp: cls(**{"epochs": 1, **hyper}).fit(X_, y_)


FITTED = MLPClassifier(hidden_layer_sizes=3, epochs=1, random_state=0).fit(X, Y)


def _save(model=NET, params=P0, path="m", **kw):
    return lambda tmp: save_model(path if not isinstance(path, str) else tmp / path, model,
                                  params, **kw)


def _mnist(**kw):
    return lambda tmp: load_mnist(**{"data_home": str(tmp), "download": False, **kw})


def _call(fn, *args, **kw):
    return lambda tmp: fn(*args, **kw)


# ------------------------------------------------------------------------ the catalogue
CASES = [
    # --- _validation helpers (the library-wide voice) ---------------------------------------
    ("rng-float", _call(V.as_generator, 1.5), TypeError, "rng", "float 1.5"),
    ("rng-string", _call(V.as_generator, "0"), TypeError, "rng", "str '0'"),
    ("rng-negative", _call(V.as_generator, -3), ValueError, "rng", "-3"),
    ("rng-bool", _call(V.as_generator, True), TypeError, "rng", "bool True"),
    ("rng-randomstate", _call(V.as_generator, np.random.RandomState(0)), TypeError, "rng",
     "RandomState"),
    ("array-string", _call(V.check_array, "abc", "X"), TypeError, "X", "str 'abc'"),
    ("array-text-list", _call(V.check_array, [[1.0, "a"]], "X"), TypeError, "X",
     "list [[1.0, 'a']]"),
    ("array-ragged-list", _call(V.check_array, [[1.0], [2.0, 3.0]], "X"), TypeError, "X",
     "list [[1.0], [2.0, 3.0]]"),
    ("array-complex", _call(V.check_array, np.ones((2, 2), complex), "X"), TypeError, "X",
     "complex128"),
    ("scalar-array", _call(V.check_scalar, np.ones(2), "eps"), TypeError, "eps",
     "ndarray of shape (2,)"),
    ("array-1d", _call(V.check_array, np.zeros(3), "X"), ValueError, "X", "shape (3,)"),
    ("array-empty", _call(V.check_array, np.zeros((0, 3)), "X"), ValueError, "X", "(0, 3)"),
    ("array-int", _call(V.check_array, np.zeros((2, 2), int), "X"), TypeError, "X", "int64"),
    ("array-nan", _call(V.check_array, _with(np.zeros((2, 2)), (0, 1), np.nan), "X"),
     ValueError, "X", "1 NaN"),
    ("array-dtype", _call(V.check_array, np.zeros((2, 2), np.float32), "X", dtype=np.float64),
     TypeError, "X", "float32"),
    ("array-shape", _call(V.check_array, np.zeros((4, 3)), "X", shape=(None, 2)), ValueError,
     "X", "(4, 3)"),
    ("labels-2d", _call(V.check_labels, np.zeros((2, 2), int), "y", 2), ValueError, "y",
     "(2, 2)"),
    ("labels-strings", _call(V.check_labels, np.array(["a", "b"]), "y", 2), TypeError, "y",
     "<U1"),
    ("labels-bool", _call(V.check_labels, np.array([True, False]), "y", 2), TypeError, "y",
     "bool"),
    ("labels-fraction", _call(V.check_labels, np.array([0.0, 1.5]), "y", 2), ValueError, "y",
     "1.5"),
    ("labels-pm1", _call(V.check_labels, np.array([-1, 1]), "y", 2), ValueError, "y",
     "[-1, 1]"),
    ("labels-length", _call(V.check_labels, np.array([0, 1, 1]), "y", 2, 4), ValueError, "y",
     "3 labels"),
    ("scalar-string", _call(V.check_scalar, "0.1", "eps"), TypeError, "eps", "str '0.1'"),
    ("scalar-nan", _call(V.check_scalar, np.nan, "eps"), ValueError, "eps", "nan"),
    ("scalar-below", _call(V.check_scalar, -1, "eps", low=0.0), ValueError, "eps", "-1"),
    ("scalar-none", _call(V.check_scalar, None, "eps"), TypeError, "eps", "NoneType None"),
    ("int-float", _call(V.check_int, 2.0, "steps"), TypeError, "steps", "float 2.0"),
    ("int-bool", _call(V.check_int, True, "steps"), TypeError, "steps", "bool True"),
    ("int-below", _call(V.check_int, 0, "steps", low=1), ValueError, "steps", "got 0"),
    ("norm-3", _call(V.check_norm, 3), ValueError, "norm", "got 3"),
    ("norm-l3", _call(V.check_norm, "l3"), ValueError, "norm", "'l3'"),
    ("norm-none", _call(V.check_norm, None), ValueError, "norm", "None"),
    ("dtype-int32", _call(V.check_float_dtype, "int32"), TypeError, "dtype", "int32"),
    ("dtype-float16", _call(V.check_float_dtype, np.float16), TypeError, "dtype", "float16"),
    ("dtype-nonsense", _call(V.check_float_dtype, "banana"), TypeError, "dtype", "'banana'"),

    # --- training loop: data and parameters -------------------------------------------------
    ("fit-params-missing", _fit(params={k: v for k, v in P0.items() if k != "b2"}), ValueError,
     "params", "missing ['b2']"),
    ("fit-params-list", _fit(params=list(P0.values())), TypeError, "params", "list"),
    ("fit-X-float32", _fit(X=X.astype(np.float32)), TypeError, "X", "float32"),
    ("fit-X-width", _fit(X=np.c_[X, X[:, :1]]), ValueError, "X", "(40, 3)"),
    ("fit-X-nan", _fit(X=_with(X, (3, 0), np.nan)), ValueError, "X", "1 NaN"),
    ("fit-y-length", _fit(y=Y[:-1]), ValueError, "y", "39 labels"),
    ("fit-y-range", _fit(y=np.where(Y == 1, 2, 0)), ValueError, "y", "[0, 2]"),
    ("fit-y-pm1", _fit(y=2 * Y - 1), ValueError, "y", "[-1, 1]"),
    ("fit-y-float", _fit(y=Y + 0.5), ValueError, "y", "40 non-integer values such as"),
    ("fit-X-outside-fgsm-box", _fit(objective=FGSMObjective(clip_min=0.0, clip_max=1.0)),
     ValueError, "X", "values in [-1."),
    ("fit-X-outside-pgd-box", _fit(objective=PGDObjective(n_steps=1, clip_min=0.0, clip_max=0.5),
                                   X=X01), ValueError, "X", "values in [0.0, 1.0]"),
    # --- training loop: what is passed -------------------------------------------------------
    ("fit-model-class", _fit(model=MLP), TypeError, "model", "the class MLP"),
    ("fit-model-estimator", _fit(model=MLPClassifier()), TypeError, "model", "MLPClassifier"),
    ("fit-objective-class", _fit(objective=FGSMObjective), TypeError, "objective",
     "the class FGSMObjective"),
    ("fit-objective-string", _fit(objective="fgsm"), TypeError, "objective",
     "str 'fgsm'; build one by name with minadv.training.make_objective('fgsm'"),
    ("fit-objective-none", _fit(objective=None), TypeError, "objective", "NoneType"),
    ("fit-objective-clean-weight", _fit(objective=FGSMObjective(clean_weight=2.0)), ValueError,
     "clean_weight",
     "2.0"),
    ("fit-objective-box", _fit(objective=FGSMObjective(clip_min=1.0, clip_max=0.0)),
     ValueError, "clip_min", "1.0"),
    ("fit-objective-steps", _fit(objective=PGDObjective(n_steps=0)), ValueError, "n_steps",
     "got 0"),
    ("fit-optimizer-factory", _fit(optimizer=sgd), TypeError, "optimizer", "function 'sgd'"),
    ("fit-optimizer-string", _fit(optimizer="adam"), TypeError, "optimizer", "str"),
    ("fit-optimizer-none", _fit(optimizer=None), TypeError, "optimizer", "NoneType"),
    ("fit-epochs-negative", _fit(epochs=-1), ValueError, "epochs", "-1"),
    ("fit-epochs-float", _fit(epochs=2.5), TypeError, "epochs", "2.5"),
    ("fit-batch-zero", _fit(batch_size=0), ValueError, "batch_size", "got 0"),
    ("fit-batch-none", _fit(batch_size=None), TypeError, "batch_size", "None"),
    ("fit-rng-float", _fit(rng=0.5), TypeError, "rng", "0.5"),
    ("fit-rng-negative", _fit(rng=-2), ValueError, "rng", "-2"),
    ("fit-unlabeled-width", _fit(objective=VATObjective(), X_unlabeled=np.zeros((5, 3))),
     ValueError, "X_unlabeled", "(5, 3)"),
    ("fit-unlabeled-erm", _fit(X_unlabeled=X), ValueError, "X_unlabeled", "'erm'"),
    ("fit-unlabeled-batch", _fit(objective=VATObjective(), X_unlabeled=X,
                                 unlabeled_batch_size=0), ValueError, "unlabeled_batch_size",
     "got 0"),
    ("fit-validation-array", _fit(validation=X), TypeError, "validation", "ndarray"),
    ("fit-validation-triple", _fit(validation=(X, Y, Y)), TypeError, "validation",
     "tuple of length 3"),
    ("fit-validation-y-length", _fit(validation=(X, Y[:-1])), ValueError,
     "validation[1] (y_val)", "39 labels"),
    ("fit-validation-X-width", _fit(validation=(X[:, :1], Y)), ValueError,
     "validation[0] (X_val)", "(40, 1)"),
    ("fit-validation-y-range", _fit(validation=(X, Y + 1)), ValueError,
     "validation[1] (y_val)", "[1, 2]"),
    ("fit-val-attack-alone", _fit(validation_attack=lambda m, p, x, y, r: x), ValueError,
     "validation_attack", "without validation"),
    ("fit-val-attack-string", _fit(validation=(X, Y), validation_attack="pgd"), TypeError,
     "validation_attack", "str"),
    ("fit-callbacks-function", _fit(callbacks=lambda e, logs, p: None), TypeError, "callbacks",
     "function"),
    ("fit-callbacks-none-item", _fit(callbacks=[None]), TypeError, "callbacks[0]", "NoneType"),
    ("fit-callbacks-string", _fit(callbacks="print"), TypeError, "callbacks", "str"),
    ("fit-early-dict", _fit(early_stopping={"monitor": "loss"}), TypeError, "early_stopping",
     "dict"),
    ("fit-early-val-no-validation", _fit(early_stopping=EarlyStopping("val_loss")), ValueError,
     "early_stopping.monitor", "'val_loss'"),
    ("fit-early-typo", _fit(early_stopping=EarlyStopping("loss_val")), ValueError,
     "early_stopping.monitor", "'loss_val'"),
    ("fit-early-accuracy-off", _fit(early_stopping=EarlyStopping("accuracy"),
                                    epoch_metrics=False), ValueError, "early_stopping.monitor",
     "'accuracy'"),
    ("fit-early-patience", _fit(early_stopping=EarlyStopping("loss", patience=-1)), ValueError,
     "early_stopping.patience", "-1"),
    ("fit-early-mode", _fit(early_stopping=EarlyStopping("loss", mode="minimum")), ValueError,
     "early_stopping.mode", "'minimum'"),
    ("fit-early-delta-nan", _fit(early_stopping=EarlyStopping("loss", min_delta=np.nan)),
     ValueError, "early_stopping.min_delta", "nan"),
    ("fit-grad-fn-batch", _fit(grad_fn_batch="new"), ValueError, "grad_fn_batch", "'new'"),
    ("fit-epoch-metrics", _fit(epoch_metrics="yes"), TypeError, "epoch_metrics", "str 'yes'"),
    ("fit-verbose-negative", _fit(verbose=-1), ValueError, "verbose", "-1"),
    ("fit-verbose-string", _fit(verbose="loud"), TypeError, "verbose", "'loud'"),
    ("evaluate-batch", _call(evaluate, NET, P0, X, Y, batch_size=0), ValueError, "batch_size",
     "got 0"),
    ("evaluate-attack", _call(evaluate, NET, P0, X, Y, attack="fgsm"), TypeError, "attack",
     "str"),
    ("evaluate-y", _call(evaluate, NET, P0, X, Y[:3]), ValueError, "y", "3 labels"),
    ("optim-adam-lr", _call(adam, -1.0), ValueError, "lr", "-1"),

    # --- estimators: hyper-parameters ---------------------------------------------------------
    ("est-objective", _est(objective="mart"), ValueError, "objective", "'mart'"),
    ("est-optimizer", _est(optimizer="lbfgs"), ValueError, "optimizer", "'lbfgs'"),
    ("est-lr-negative", _est(lr=-0.1), ValueError, "lr", "-0.1"),
    ("est-lr-string", _est(lr="0.1"), TypeError, "lr", "str '0.1'"),
    ("est-epochs", _est(epochs=0), ValueError, "epochs", "got 0"),
    ("est-batch", _est(batch_size=0), ValueError, "batch_size", "got 0"),
    ("est-eps-negative", _est(eps=-1.0), ValueError, "eps", "-1.0"),
    ("est-eps-nan", _est(eps=np.nan), ValueError, "eps", "nan"),
    ("est-norm", _est(norm="l7"), ValueError, "norm", "'l7'"),
    ("est-clean-weight", _est(clean_weight=1.5), ValueError, "clean_weight", "1.5"),
    ("est-l2-negative", _est(l2=-1e-4), ValueError, "l2", "-0.0001"),
    ("est-l2-string", _est(l2="1e-4"), TypeError, "l2", "str '1e-4'"),
    ("est-clip-swapped", _est(clip_min=1.0, clip_max=0.0), ValueError, "clip_min",
     "clip_min=1.0 > clip_max=0.0"),
    ("est-clip-nan", _est(clip_min=np.nan), ValueError, "clip_min", "nan"),
    ("est-pgd-steps", _est(n_steps=0), ValueError, "n_steps", "got 0"),
    ("est-pgd-step-size", _est(step_size=0.0), ValueError, "step_size", "0.0"),
    ("est-vat-xi", _est(xi=0.0), ValueError, "xi", "0.0"),
    ("est-vat-power", _est(n_power_iterations=-1), ValueError, "n_power_iterations", "-1"),
    ("est-vat-lambda", _est(vat_weight=-1.0), ValueError, "vat_weight", "-1.0"),
    ("est-entmin", _est(entmin="yes"), TypeError, "entmin", "str"),
    ("est-dtype-int", _est(dtype="int32"), TypeError, "dtype", "int32"),
    ("est-dtype-half", _est(dtype=np.float16), TypeError, "dtype", "float16"),
    ("est-optimizer-kwargs", _est(optimizer_kwargs={"bogus": 1}), ValueError,
     "optimizer_kwargs", "bogus"),
    ("est-optimizer-kwargs-list", _est(optimizer_kwargs=[("beta1", 0.9)]), TypeError,
     "optimizer_kwargs", "list"),
    ("est-hidden-zero", _est(hidden_layer_sizes=0), ValueError, "hidden_layer_sizes[0]",
     "got 0"),
    ("est-hidden-negative", _est(hidden_layer_sizes=(8, -5)), ValueError,
     "hidden_layer_sizes[1]", "-5"),
    ("est-hidden-float", _est(hidden_layer_sizes=(16.0,)), TypeError, "hidden_layer_sizes[0]",
     "float 16.0"),
    ("est-hidden-string", _est(hidden_layer_sizes="16"), TypeError, "hidden_layer_sizes",
     "str '16'"),
    ("est-activation", _est(activation="gelu"), ValueError, "activation", "'gelu'"),
    ("est-random-state-float", _est(random_state=1.5), TypeError, "random_state", "1.5"),
    ("est-random-state-legacy", _est(random_state=np.random.RandomState(0)), TypeError,
     "random_state", "RandomState"),
    ("est-verbose", _est(verbose=-1), ValueError, "verbose", "-1"),
    ("est-unlabeled-batch", _est(unlabeled_batch_size=0), ValueError, "unlabeled_batch_size",
     "got 0"),
    ("est-typo-mlp", _call(MLPClassifier, hiden_layer_sizes=(4,)), TypeError, "MLPClassifier",
     "'hiden_layer_sizes'"),
    ("est-typo-logistic", _call(LogisticRegression, learning_rate=0.1), TypeError,
     "LogisticRegression", "'learning_rate'"),
    ("est-retired-alpha", _call(MLPClassifier, alpha=0.1), TypeError, "MLPClassifier",
     "'alpha'"),
    ("est-set-params-typo", _call(MLPClassifier().set_params, epoch=3), ValueError,
     "set_params", "'epoch'"),
    ("est-exact-robust-mlp", _est(objective="exact_robust"), ValueError, "objective",
     "'exact_robust'"),
    # --- estimators: data ---------------------------------------------------------------------
    ("est-y-continuous", _est(y_=np.linspace(0, 1, 40)), ValueError, "y", "continuous"),
    ("est-y-nan", _est(y_=_with(Y, 5, np.nan)), ValueError, "y", "1 NaN"),
    ("est-y-inf", _est(y_=_with(Y, 5, np.inf)), ValueError, "y", "1 infinite"),
    ("est-y-column", _est(y_=Y[:, None]), ValueError, "y", "(40, 1)"),
    ("est-y-multioutput", _est(y_=np.c_[Y, Y]), ValueError, "y", "(40, 2)"),
    ("est-y-length", _est(y_=Y[:-1]), ValueError, "y", "got 39"),
    ("est-y-one-class", _est(y_=np.zeros(40)), ValueError, "y", "[0.0]"),
    ("est-y-mixed", _est(y_=np.array([0, "a"] * 20, dtype=object)), TypeError, "y",
     "['int', 'str']"),
    ("est-y-complex", _est(y_=Y + 0j), TypeError, "y", "complex128"),
    ("est-X-complex", _est(X_=X + 1j), TypeError, "X", "complex128"),
    ("est-X-text", _est(X_=np.full((40, 2), "a")), TypeError, "X", "<U1"),
    ("est-X-1d", _est(X_=X[:, 0]), ValueError, "X", "(40,)"),
    ("est-X-3d", _est(X_=X[:, :, None]), ValueError, "X", "(40, 2, 1)"),
    ("est-X-nan", _est(X_=_with(X, (0, 0), np.nan)), ValueError, "X", "1 NaN"),
    ("est-X-inf", _est(X_=_with(X, (0, 0), -np.inf)), ValueError, "X", "1 infinite"),
    ("est-X-empty", _est(X_=X[:0], y_=Y[:0]), ValueError, "X", "(0, 2)"),
    ("est-X-outside-box", _est(objective="pgd", clip_min=0.0, clip_max=1.0, n_steps=1),
     ValueError, "X", "values in [-1."),
    ("est-unlabeled-width", lambda tmp: MLPClassifier(objective="vat", epochs=1).fit(
        X, Y, X_unlabeled=np.zeros((5, 3))), ValueError, "X_unlabeled", "(5, 3)"),
    ("est-unlabeled-erm", lambda tmp: MLPClassifier(epochs=1).fit(X, Y, X_unlabeled=X),
     ValueError, "X_unlabeled", "'erm'"),
    ("est-logistic-3-classes", _est(LogisticRegression, y_=np.arange(40) % 3), ValueError, "y",
     "3 classes"),
    ("est-predict-width", _call(FITTED.predict, np.zeros((2, 3))), ValueError, "X",
     "has 3 features"),
    ("est-predict-complex", _call(FITTED.predict_proba, X + 0j), TypeError, "X", "complex"),
    ("est-predict-unfitted", _call(MLPClassifier().predict, X), NotFittedError,
     "This MLPClassifier", "not fitted"),
    ("est-score-length", _call(FITTED.score, X, Y[:-2]), ValueError, "y", "(38,)"),
    ("est-score-weights", _call(FITTED.score, X, Y, sample_weight=-np.ones(40)), ValueError,
     "sample_weight", "non-negative"),
    ("est-score-weights-shape", _call(FITTED.score, X, Y, sample_weight=np.ones(3)),
     ValueError, "sample_weight", "(3,)"),

    # --- save / load --------------------------------------------------------------------------
    ("save-path-int", _save(path=3), TypeError, "path", "int 3"),
    ("save-path-empty", lambda tmp: save_model("", NET, P0), ValueError, "path", "''"),
    ("save-path-folder", lambda tmp: save_model(str(tmp) + "/", NET, P0), ValueError, "path",
     "a folder"),
    ("save-model-dict", _save(model=P0, params=NET), TypeError, "model", "dict"),
    ("save-params-none", _save(params=None), TypeError, "params", "required"),
    ("save-params-dtype", _save(params=dict(P0, W1=P0["W1"].astype(np.float32))), TypeError,
     "params['W1']", "float32"),
    ("save-params-missing", _save(params={"W1": P0["W1"]}), ValueError, "params", "missing"),
    ("save-params-nan", _save(params=dict(P0, b1=_with(P0["b1"], 0, np.nan))), ValueError,
     "params['b1']", "1 NaN"),
    ("save-metadata-object", _save(metadata={"f": object()}), TypeError, "metadata", "object"),
    ("save-metadata-nan", _save(metadata={"eps": float("nan")}), TypeError, "metadata",
     "{'eps': nan}"),
    ("save-unfitted", _save(model=MLPClassifier(), params=None), NotFittedError, "model",
     "not fitted"),
    ("save-estimator-and-params", _save(model=FITTED, params=FITTED.params_), ValueError,
     "params", "MLPClassifier"),
    ("load-path-none", _call(load_model, None), TypeError, "path", "NoneType None"),
    ("load-path-folder", lambda tmp: load_model(str(tmp) + "/"), ValueError, "path",
     "a folder"),

    # --- MNIST -----------------------------------------------------------------------------
    ("mnist-subset", _mnist(subset="validation"), ValueError, "subset", "'validation'"),
    ("mnist-digits-repeat", _mnist(digits=(3, 3)), ValueError, "digits", "[3, 3]"),
    ("mnist-digits-10", _mnist(digits=(3, 10)), ValueError, "digits", "10"),
    ("mnist-digits-int", _mnist(digits=7), TypeError, "digits", "int 7"),
    ("mnist-digits-string", _mnist(digits="37"), TypeError, "digits", "str '37'"),
    ("mnist-digits-empty", _mnist(digits=()), ValueError, "digits", "[]"),
    ("mnist-n-samples", _mnist(n_samples=0), ValueError, "n_samples", "got 0"),
    ("mnist-dtype", _mnist(dtype=np.uint8), TypeError, "dtype", "uint8"),
    ("mnist-data-home", _call(load_mnist, data_home=5, download=False), TypeError, "data_home",
     "int 5"),
    ("mnist-download", _mnist(download="no"), TypeError, "download", "str"),
    ("mnist-checksums", _mnist(checksums=["abc"]), TypeError, "checksums", "list"),
    ("mnist-checksums-partial", _mnist(checksums={"x.gz": "0" * 32}), ValueError, "checksums",
     "'train-images-idx3-ubyte.gz'"),
    ("mnist-timeout", _mnist(timeout=0), ValueError, "timeout", "0.0"),

    # --- dataset helpers -------------------------------------------------------------------
    ("standardize-zero-scale", _call(D.standardize, X, scale=np.array([1.0, 0.0])),
     ValueError, "scale", "0.0 at column 1"),
    ("standardize-negative-scale", _call(D.standardize, X, scale=-2.0), ValueError, "scale",
     "-2.0"),
    ("standardize-mean-shape", _call(D.standardize, X, mean=np.zeros(3)), ValueError, "mean",
     "(3,)"),
    ("standardize-scale-nan", _call(D.standardize, X, scale=np.array([1.0, np.nan])),
     ValueError, "scale", "1 NaN"),
    ("standardize-X-1d", _call(D.standardize, X[:, 0]), ValueError, "X", "(40,)"),
    ("standardize-X-int", _call(D.standardize, np.ones((3, 2), int)), TypeError, "X", "int64"),
    ("minmax-swapped", _call(D.minmax, X, lo=1.0, hi=0.0), ValueError, "lo",
     "lo = 1.0 > hi = 0.0"),
    ("minmax-swapped-column", _call(D.minmax, X, lo=np.array([0.0, 5.0]),
                                    hi=np.array([1.0, 1.0])), ValueError, "lo", "at column 1"),
    ("minmax-lo-shape", _call(D.minmax, X, lo=np.zeros((2, 2))), ValueError, "lo", "(2, 2)"),
    ("minmax-hi-nan", _call(D.minmax, X, hi=np.nan), ValueError, "hi", "1 NaN"),
    ("moons-one-sample", _call(D.make_moons, 1), ValueError, "n_samples", "got 1"),
    ("moons-noise", _call(D.make_moons, 10, noise=-0.1), ValueError, "noise", "-0.1"),
    ("circles-factor", _call(D.make_circles, 10, factor=1.0), ValueError, "factor", "1.0"),
    ("vat-kind", _call(D.make_vat_synthetic, "spiral"), ValueError, "kind", "'spiral'"),
    ("vat-dim", _call(D.make_vat_synthetic, dim=1), ValueError, "dim", "got 1"),
    ("split-zero", _call(D.train_test_split, X, Y, test_size=0), ValueError, "test_size",
     "got 0"),
    ("split-fraction", _call(D.train_test_split, X, Y, test_size=1.5), ValueError, "test_size",
     "1.5"),
    ("split-string", _call(D.train_test_split, X, Y, test_size="0.2"), TypeError, "test_size",
     "str '0.2'"),
    ("split-y-length", _call(D.train_test_split, X, Y[:5]), ValueError, "y", "(5,)"),
    ("orthonormal-dim", _call(D.random_orthonormal_rows, 3, 2), ValueError, "dim", "got 2"),
    ("sharpness-features", _call(D.make_sharpness_data, 10, 0), ValueError, "n_features",
     "got 0"),
    # --- rough inputs of the vocabulary review -----------------------------------------------
    ("config-missing-key", _call(model_from_config, {"kind": "mlp"}), ValueError, "config",
     "missing ['sizes', 'activation', 'output', 'dtype']"),
    ("config-unknown-kind", _call(model_from_config, {"kind": "cnn"}), ValueError, "config",
     "'cnn'"),
    ("curve-model-signature", _call(robustness_curve, NET, P0, X, Y, [0.0, 0.1],
                                    attack=vat_perturbation), TypeError, "attack",
     "vat_perturbation takes (model, params, X, ...)"),
    ("loss-y-none", _call(NET.loss, P0, X, None), TypeError, "y", "got None"),
    ("grads-y-none", _call(NET.loss_and_grads, P0, X, None), TypeError, "y", "got None"),
    ("fit-unlabeled-pair", _fit(objective=VATObjective(), X_unlabeled=(X, Y)), TypeError,
     "X_unlabeled", "a tuple of 2 items"),
    ("est-unlabeled-pair", lambda tmp: MLPClassifier(objective="vat", epochs=1).fit(
        X, Y, X_unlabeled=(X, Y)), TypeError, "X_unlabeled", "a tuple of 2 items"),
    ("init-scheme", _call(init_weight, 2, 3, "xavier", 0, np.float64), ValueError, "scheme",
     "'xavier'"),
    # |X| ~ 1e200: one step of lr 1e-50 leaves weights ~1e150 (finite) whose logits ~1e350
    # overflow; the loss of the last update must not pass silently
    ("fit-last-update-overflows", _fit(model=MLP([2, 2]), params=MLP([2, 2]).init_params(rng=0),
                                       X=X * 1e200, optimizer=sgd(1e-50), batch_size=40),
     FloatingPointError, "fit", "left finite parameters whose loss is"),
]


def test_the_catalogue_is_large_and_its_ids_are_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 110 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("call, exc, name, arrived", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_answered_naming_the_argument_and_what_arrived(tmp_path, call, exc, name,
                                                                    arrived):
    with pytest.raises(exc) as info:
        call(tmp_path)
    msg = str(info.value)
    assert type(info.value) is exc or issubclass(type(info.value), exc)
    assert re.match(rf"{re.escape(name)}(?!\w)", msg), msg
    assert arrived in msg, msg


def test_read_idx_names_the_file(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(bad))}: bad IDX magic"):
        read_idx(str(bad))


def test_the_librarys_own_attacks_work_as_robustness_curve_attacks():
    """attack=minadv.attacks.fgsm is the built-in "fgsm" (it used to crash)."""
    by_fn = robustness_curve(NET, P0, X, Y, [0.0, 0.1, 0.3], attack=fgsm)
    by_name = robustness_curve(NET, P0, X, Y, [0.0, 0.1, 0.3], attack="fgsm")
    np.testing.assert_array_equal(by_fn.accuracy, by_name.accuracy)
