"""scikit-learn-style shells: :class:`LogisticRegression` and :class:`MLPClassifier`.

``__init__`` only stores hyper-parameters; :meth:`fit` validates them, builds a model, an
objective (:mod:`minadv.training.objectives`) and an optimizer (:mod:`minadv.optim`), runs
:func:`minadv.training.fit` and returns ``self``.  Learned state ends in ``_``: ``model_``,
``params_`` (a plain dict usable with every kernel of ``model_``), ``history_``,
``classes_``, ``n_features_in_``, ``n_iter_``, ``objective_``.  A fitted estimator can be
saved with :func:`minadv.save_model` and attacked like a ``(model_, params_)`` pair.

Labels: any 1-D array of class labels (integers, whole-valued floats, strings, bools) is
accepted; like scikit-learn, ``classes_ = np.unique(y)`` and the model is trained on the
indices ``0..C-1`` into ``classes_``; :meth:`predict` maps back.  ``model_`` and ``params_``
therefore speak the encoded labels.  Continuous targets, NaN labels and multi-output targets
are refused (the checks of scikit-learn's ``type_of_target``).

Names follow scikit-learn where it has one: ``alpha`` is the L2 penalty (the objective is
``mean loss + ½·alpha·Σ‖W‖²`` over the weight matrices, biases unpenalized, exactly the
convention of scikit-learn's ``SGDClassifier``; scikit-learn's ``MLPClassifier`` divides its
``alpha`` by the minibatch size instead), ``hidden_layer_sizes`` may be an int,
``random_state`` is the seed.  FGSM's weight of the clean loss (Goodfellow et al.'s α) is
``clean_weight``.

scikit-learn interop without depending on it: ``get_params``/``set_params``, the tags protocol
(``__sklearn_tags__``, which imports scikit-learn only when scikit-learn itself asks), and
:class:`NotFittedError` (a ``ValueError`` and an ``AttributeError``, like scikit-learn's), so
``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``check_is_fitted`` work.

Objective names: ``"erm"``, ``"fgsm"`` (Goodfellow's mixture), ``"shaham"``, ``"pgd"``,
``"exact_robust"`` (logistic regression only), ``"vat"``, ``"random"`` (see
:data:`minadv.training.OBJECTIVES`).  Optimizer names: :data:`minadv.optim.OPTIMIZERS`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import numbers
from typing import Any

import numpy as np

from ._validation import (
    NotFittedError,
    as_generator,
    check_array,
    check_float_dtype,
    check_int,
    check_norm,
    check_scalar,
)
from .models import MLP, LogisticRegressionModel
from .optim import OPTIMIZERS
from .training import OBJECTIVES, fit, make_objective

__all__ = ["LogisticRegression", "MLPClassifier", "NotFittedError"]

# which estimator hyper-parameters each objective takes (estimator name -> objective field)
_BOX = {"clip_min": "clip_min", "clip_max": "clip_max"}
_OBJECTIVE_ARGS = {
    "erm": {"alpha": "l2"},
    "fgsm": {"eps": "eps", "clean_weight": "alpha", "norm": "norm", "alpha": "l2", **_BOX},
    "shaham": {"eps": "eps", "norm": "norm", "alpha": "l2", **_BOX},
    "pgd": {"eps": "eps", "norm": "norm", "pgd_steps": "steps", "pgd_step_size": "step_size",
            "alpha": "l2", **_BOX},
    "exact_robust": {"eps": "eps", "norm": "norm", "alpha": "l2"},
    "vat": {"eps": "eps", "vat_xi": "xi", "vat_power_iterations": "n_power",
            "vat_lambda": "lam", "entmin": "entmin", "alpha": "l2"},
    "random": {"eps": "eps", "vat_lambda": "lam", "alpha": "l2"},
}
# names that changed meaning or were renamed: the hint a TypeError gives
_RENAMED = {"l2": "'l2' is now 'alpha' (the L2 penalty, as in scikit-learn)",
            "seed": "the seed is 'random_state'", "rng": "the seed is 'random_state'",
            "learning_rate_init": "the learning rate is 'lr'",
            "learning_rate": "the learning rate is 'lr'", "max_iter": "the passes are 'epochs'"}


def _did_you_mean(name: str, valid: list[str]) -> str:
    if name in _RENAMED:
        return f"; {_RENAMED[name]}"
    close = difflib.get_close_matches(name, valid, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keywords(cls: type, kwargs: dict) -> None:
    """TypeError naming the public class (not the private base) for an unknown keyword."""
    valid = cls._param_names()
    for k in kwargs:
        if k not in valid:
            raise TypeError(f"{cls.__name__}: got an unexpected keyword argument {k!r}"
                            f"{_did_you_mean(k, valid)} (valid: {valid}).")


def check_hidden_layer_sizes(sizes: Any, name: str = "hidden_layer_sizes") -> tuple[int, ...]:
    """An int or a sequence of ints >= 1 (``()`` gives softmax regression), as a tuple."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"{name}: expected an int or a sequence of ints such as (100,), got "
                        f"{type(sizes).__name__} {sizes!r}.")
    return tuple(check_int(s, f"{name}[{i}]", low=1) for i, s in enumerate(sizes))


def check_estimator_X(X: Any, dtype: np.dtype, name: str = "X") -> np.ndarray:
    """Convert ``X`` to a finite 2-D array of ``dtype``; refuse what would lose information."""
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        raise TypeError(f"{name}: sparse matrices are not supported, got {type(X).__name__}; "
                        f"use {name}.toarray().")
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: complex values are not supported (the imaginary part would be "
                        f"lost), got dtype {arr.dtype}; pass the real features you mean.")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected numbers, got dtype {arr.dtype} ({exc}).") from exc
    if arr.ndim != 2:
        hint = f"; for one feature use {name}.reshape(-1, 1)" if arr.ndim == 1 else ""
        raise ValueError(f"{name}: expected a 2-D array (n_samples, n_features), got shape "
                         f"{arr.shape}{hint}.")
    return check_array(arr.astype(dtype, copy=False), name, ndim=2)


def check_class_labels(y: Any, n_samples: int, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """``(classes, encoded)`` for 1-D class labels, in the spirit of ``type_of_target``.

    Refused: multi-output shapes, a length different from ``X``'s rows, complex values, NaN or
    infinite labels, continuous (non-whole) floats, mixed label types, fewer than 2 classes.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got a column of shape "
                         f"{arr.shape}; use {name}.ravel().")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {arr.shape} "
                         "(multi-output and multi-label targets are not supported).")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name}: expected {n_samples} labels to match X's rows, got "
                         f"{arr.shape[0]}.")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: expected class labels, got complex dtype {arr.dtype}.")
    if arr.dtype.kind == "f":
        _check_float_labels(arr, name)
    try:
        classes, encoded = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        kinds = sorted({type(v).__name__ for v in arr.tolist()})
        raise TypeError(f"{name}: labels must all have one type, got a mix of {kinds}.") from exc
    if classes.shape[0] < 2:
        raise ValueError(f"{name}: needs at least two classes, got {classes.tolist()}.")
    return classes, encoded.reshape(-1).astype(np.int64)


def _check_float_labels(arr: np.ndarray, name: str) -> None:
    n_nan = int(np.isnan(arr).sum())
    if n_nan or not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains {n_nan} NaN and {int(np.isinf(arr).sum())} infinite "
                         "labels; drop those rows or fill in their classes.")
    frac = arr[arr != np.round(arr)]
    if frac.size:
        raise ValueError(f"{name}: expected class labels, got continuous values (e.g. "
                         f"{frac[0]!r}; scikit-learn's type_of_target calls this 'continuous'); "
                         "a classifier needs discrete labels, e.g. y.astype(int) if they are "
                         "whole numbers stored as floats.")


class _AdversarialClassifier:
    """Shared ``fit``/``predict`` machinery; subclasses define ``_build_model``."""

    _estimator_type = "classifier"          # scikit-learn < 1.6 reads this attribute

    def __init__(self, *, objective: str = "erm", eps: float = 0.1, norm: Any = "linf",
                 clean_weight: float = 0.5, alpha: float = 0.0, clip_min: float | None = None,
                 clip_max: float | None = None, pgd_steps: int = 10,
                 pgd_step_size: float | None = None, vat_xi: float = 1e-6,
                 vat_power_iterations: int = 1, vat_lambda: float = 1.0, entmin: bool = False,
                 optimizer: str = "momentum", lr: float = 0.1,
                 optimizer_kwargs: dict | None = None, epochs: int = 100,
                 batch_size: int = 32, unlabeled_batch_size: int | None = None,
                 random_state: Any = None, dtype: Any = "float64", verbose: int = 0):
        self.objective, self.eps, self.norm = objective, eps, norm
        self.clean_weight, self.alpha = clean_weight, alpha
        self.clip_min, self.clip_max = clip_min, clip_max
        self.pgd_steps, self.pgd_step_size = pgd_steps, pgd_step_size
        self.vat_xi, self.vat_power_iterations = vat_xi, vat_power_iterations
        self.vat_lambda, self.entmin = vat_lambda, entmin
        self.optimizer, self.lr, self.optimizer_kwargs = optimizer, lr, optimizer_kwargs
        self.epochs, self.batch_size = epochs, batch_size
        self.unlabeled_batch_size = unlabeled_batch_size
        self.random_state, self.dtype, self.verbose = random_state, dtype, verbose

    # ------------------------------------------------------------------ sklearn plumbing
    @classmethod
    def _param_names(cls) -> list[str]:
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        names: list[str] = []
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__ and klass is not object:
                sig = inspect.signature(klass.__init__)
                names += [p for p, v in sig.parameters.items()
                          if p != "self" and p not in names and v.kind in kinds]
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any):
        """Set hyper-parameters; unknown names raise ``ValueError``."""
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"set_params: unknown hyper-parameter {k!r} of "
                                 f"{type(self).__name__}{_did_you_mean(k, valid)} "
                                 f"(valid: {valid}).")
            setattr(self, k, v)
        return self

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6.

        scikit-learn only calls this when it is installed and asks; minadv does not depend on
        it, so the module is looked up here, at call time, never when minadv is imported."""
        utils = importlib.import_module("sklearn.utils")
        Tags, TargetTags = utils.Tags, utils.TargetTags
        ClassifierTags, InputTags = utils.ClassifierTags, utils.InputTags
        multi = isinstance(self, MLPClassifier)
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=multi),
                    input_tags=InputTags(allow_nan=False))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "params_")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ fit
    def _check_hyper(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective: expected one of {sorted(OBJECTIVES)}, "
                             f"got {self.objective!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}.")
        if self.optimizer_kwargs is not None and not isinstance(self.optimizer_kwargs, dict):
            raise TypeError("optimizer_kwargs: expected a dict or None, got "
                            f"{type(self.optimizer_kwargs).__name__}.")
        check_scalar(self.lr, "lr", low=0.0, low_inclusive=False)
        check_int(self.epochs, "epochs", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        if self.unlabeled_batch_size is not None:
            check_int(self.unlabeled_batch_size, "unlabeled_batch_size", low=1)
        if not isinstance(self.verbose, (bool, np.bool_)):        # verbose=True as in sklearn
            check_int(self.verbose, "verbose", low=0)
        check_float_dtype(self.dtype)
        self._check_objective_hyper()

    def _check_objective_hyper(self) -> None:
        # every hyper-parameter is checked, also those the chosen objective ignores (sklearn)
        check_scalar(self.eps, "eps", low=0.0)
        check_norm(self.norm)
        check_scalar(self.clean_weight, "clean_weight", low=0.0, high=1.0)
        check_scalar(self.alpha, "alpha", low=0.0)
        lo, hi = (None if v is None else check_scalar(v, nm)
                  for v, nm in ((self.clip_min, "clip_min"), (self.clip_max, "clip_max")))
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip_min: must be <= clip_max, got clip_min={lo} > "
                             f"clip_max={hi}.")
        check_int(self.pgd_steps, "pgd_steps", low=1)
        if self.pgd_step_size is not None:
            check_scalar(self.pgd_step_size, "pgd_step_size", low=0.0, low_inclusive=False)
        check_scalar(self.vat_xi, "vat_xi", low=0.0, low_inclusive=False)
        check_int(self.vat_power_iterations, "vat_power_iterations", low=0)
        check_scalar(self.vat_lambda, "vat_lambda", low=0.0)
        if not isinstance(self.entmin, (bool, np.bool_)):
            raise TypeError(f"entmin: expected a bool, got {type(self.entmin).__name__}.")

    def _make_objective(self):
        fields = _OBJECTIVE_ARGS[self.objective]
        return make_objective(self.objective, **{f: getattr(self, k) for k, f in fields.items()})

    def _make_optimizer(self, rng: np.random.Generator):
        kwargs = dict(self.optimizer_kwargs or {})
        kwargs["lr"] = self.lr
        if self.optimizer == "entropy_sgd":
            kwargs.setdefault("rng", rng)
        try:
            return OPTIMIZERS[self.optimizer](**kwargs)
        except TypeError as exc:
            raise ValueError(f"optimizer_kwargs: not accepted by {self.optimizer!r}: {exc}") \
                from exc

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None):
        """Train on ``(X, y)`` (plus unlabeled rows for VAT); returns ``self``.

        Raises
        ------
        ValueError, TypeError
            Bad hyper-parameters (negative ``lr``, ``clean_weight`` outside [0, 1],
            ``batch_size`` 0, unknown names), bad data (complex or non-numeric ``X``, NaN,
            continuous or multi-output labels), ``X`` outside ``[clip_min, clip_max]`` for an
            attack objective, or ``X_unlabeled`` of the wrong width.
        """
        self._check_hyper()
        dtype = check_float_dtype(self.dtype)
        X = check_estimator_X(X, dtype)
        classes, y_enc = check_class_labels(y, X.shape[0])
        model = self._build_model(X.shape[1], classes.shape[0])
        if X_unlabeled is not None:
            X_unlabeled = model.check_X(check_estimator_X(X_unlabeled, dtype, "X_unlabeled"),
                                        "X_unlabeled")
        rng = as_generator(self.random_state, "random_state")
        init_rng, opt_rng, fit_rng = rng.spawn(3)
        objective = self._make_objective()
        result = fit(model, model.init_params(init_rng), objective, X, y_enc,
                     optimizer=self._make_optimizer(opt_rng), epochs=self.epochs,
                     batch_size=self.batch_size, rng=fit_rng, X_unlabeled=X_unlabeled,
                     unlabeled_batch_size=self.unlabeled_batch_size,
                     verbose=int(self.verbose))
        self.model_, self.params_, self.history_ = model, result.params, result.history
        self.classes_, self.n_features_in_, self.objective_ = classes, X.shape[1], objective
        self.n_iter_ = result.epochs_run
        return self

    # ------------------------------------------------------------------ predict
    def _check_fitted(self, X: Any) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call "
                                 "fit(X, y) before using it.")
        X = check_estimator_X(X, self.model_.dtype)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: has {X.shape[1]} features, but {type(self).__name__} was "
                             f"fitted with {self.n_features_in_} features.")
        return X

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: ``(n,)`` for :class:`LogisticRegression`, ``(n, C)`` for the MLP."""
        X = self._check_fitted(X)
        return self.model_.forward(self.params_, X)[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, C)`` in the order of ``classes_``."""
        z = self.decision_function(X)
        return np.exp(self.model_.output.log_proba(z))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable label per row (values from ``classes_``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on ``(X, y)`` (weighted by ``sample_weight`` if given)."""
        pred = self.predict(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != pred.shape[0]:
            raise ValueError(f"y: expected {pred.shape[0]} labels (one per row of X), got "
                             f"shape {y.shape}.")
        if sample_weight is not None:
            sample_weight = check_array(sample_weight, "sample_weight", ndim=1,
                                        shape=(pred.shape[0],))
            if np.any(sample_weight < 0) or not np.sum(sample_weight) > 0:
                raise ValueError("sample_weight: expected non-negative weights with a positive "
                                 "sum.")
        return float(np.average(pred == y, weights=sample_weight))


class LogisticRegression(_AdversarialClassifier):
    """Binary logistic regression trained with any objective (default ERM, plain momentum SGD).

    The objective is ``mean loss + ½·alpha·‖w‖²`` (bias unpenalized), optionally made robust:
    ``objective="exact_robust"`` uses the closed-form worst case (``docs/theory.md`` eq. (1.1)).
    Hyper-parameters are those of :class:`MLPClassifier` minus the architecture.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([3, 3, 7, 7])
    >>> clf = LogisticRegression(epochs=200, batch_size=4, random_state=0).fit(X, y)
    >>> clf.predict(np.array([[0.0], [3.0]])).tolist()
    [3, 7]
    """

    def __init__(self, **kwargs: Any):
        _check_keywords(type(self), kwargs)
        super().__init__(**kwargs)

    def _build_model(self, n_features: int, n_classes: int):
        if n_classes != 2:
            raise ValueError(f"y: LogisticRegression is binary, got {n_classes} classes; "
                             "use MLPClassifier(hidden_layer_sizes=()) for softmax regression.")
        return LogisticRegressionModel(n_features, dtype=self.dtype)


class MLPClassifier(_AdversarialClassifier):
    """Softmax MLP trained with any objective.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Widths of the hidden layers (an int is one layer); ``()`` gives softmax regression.
    activation : {"relu", "tanh", "sigmoid", "softplus", "identity"}, default "relu"
    objective : {"erm", "fgsm", "shaham", "pgd", "vat", "random"}, default "erm"
    eps : float, attack radius (VAT: the radius of ``r_vadv``), default 0.1
    norm : attack norm for fgsm/shaham/pgd, default "linf"
    clean_weight : float in [0, 1], default 0.5
        Weight of the clean loss for "fgsm": ``clean_weight·J(x) + (1 - clean_weight)·J(x_adv)``
        (Goodfellow et al.'s α; 0 is pure adversarial training).
    alpha : float >= 0, default 0
        L2 penalty: the objective is ``mean loss + ½·alpha·Σ‖W‖²`` (biases unpenalized; as
        scikit-learn's ``SGDClassifier``; scikit-learn's ``MLPClassifier`` divides ``alpha`` by
        the minibatch size, so its ``alpha`` corresponds to ``alpha / batch_size`` here).
    clip_min, clip_max : float or None, default None
        Data box of the training attack ("fgsm", "shaham", "pgd"), e.g. 0 and 1 for pixels;
        ``X`` must lie inside it.  Other objectives ignore it.
    pgd_steps, pgd_step_size : PGD inner steps (default 10, step ``2.5·eps/steps``)
    vat_xi, vat_power_iterations, vat_lambda, entmin : VAT probe, power iterations, KL weight,
        entropy minimisation
    optimizer : name in :data:`minadv.optim.OPTIMIZERS`, default "momentum"
    lr : float > 0, default 0.1
    optimizer_kwargs : dict, extra keyword arguments of the optimizer factory
    epochs, batch_size, unlabeled_batch_size : loop settings (see :func:`minadv.training.fit`)
    random_state : None, int or Generator
    dtype : "float64" or "float32"
    verbose : int, default 0
    """

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu",
                 **kwargs: Any):
        _check_keywords(type(self), kwargs)
        super().__init__(**kwargs)
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation

    def _build_model(self, n_features: int, n_classes: int):
        if self.objective == "exact_robust":
            raise ValueError("objective: 'exact_robust' needs the closed form of logistic "
                             "regression; use LogisticRegression or objective='pgd'.")
        sizes = [n_features, *check_hidden_layer_sizes(self.hidden_layer_sizes), n_classes]
        return MLP(sizes, activation=self.activation, dtype=self.dtype)
