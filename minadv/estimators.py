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

Names are minadv's one vocabulary (``docs/vocabulary.md``), unchanged from the attack and
the objective to the estimator: ``l2`` is the L2 penalty (the objective is
``mean loss + ½·l2·Σ‖W‖²`` over the weight matrices, biases unpenalized: scikit-learn's
``SGDClassifier`` calls it ``alpha``; its ``MLPClassifier`` divides ``alpha`` by the minibatch
size), ``clean_weight`` FGSM's weight of the clean loss (Goodfellow et al.'s α), ``n_steps``
and ``step_size`` PGD's, ``vat_weight``, ``xi`` and ``n_power_iterations`` VAT's.  Two names
follow scikit-learn: ``hidden_layer_sizes`` (may be an int) and ``random_state`` (the seed;
scikit-learn's tools look for it by that name).

Every hyper-parameter is an explicit keyword of ``__init__`` (scikit-learn's rule), so
``help()`` and IDEs show them and a misspelt name is Python's own ``TypeError``.  ``fit``
validates the loop settings here and delegates the objective's hyper-parameters to
``make_objective(...).validate(model)``: the objectives' own checks, one place.

scikit-learn interop without depending on it: ``get_params``/``set_params``, the tags protocol
(``__sklearn_tags__``, which imports scikit-learn only when scikit-learn itself asks), and
:class:`NotFittedError` (a ``ValueError`` and an ``AttributeError``, like scikit-learn's), so
``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``check_is_fitted`` work.

Objective names: ``"erm"``, ``"fgsm"`` (Goodfellow's mixture), ``"shaham"``, ``"pgd"``,
``"exact_robust"`` (logistic regression only), ``"vat"``, ``"random"`` (see
:data:`minadv.training.OBJECTIVES`).  Optimizer names: :data:`minadv.optim.OPTIMIZERS`.
"""

from __future__ import annotations

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
    check_scalar,
)
from .models import MLP, LogisticRegressionModel
from .optim import OPTIMIZERS
from .training import OBJECTIVES, fit, make_objective
from .training.loop import check_unlabeled

__all__ = ["LogisticRegression", "MLPClassifier", "NotFittedError"]

# the estimator's hyper-parameters each objective takes (the same names on both sides)
_BOX = ("clip_min", "clip_max")
_OBJECTIVE_ARGS = {
    "erm": ("l2",),
    "fgsm": ("eps", "clean_weight", "norm", "l2", *_BOX),
    "shaham": ("eps", "norm", "l2", *_BOX),
    "pgd": ("eps", "norm", "n_steps", "step_size", "l2", *_BOX),
    "exact_robust": ("eps", "norm", "l2"),
    "vat": ("eps", "xi", "n_power_iterations", "vat_weight", "entmin", "l2"),
    "random": ("eps", "vat_weight", "l2"),
}
# objectives validated whatever the chosen one, so that every hyper-parameter is checked
_CHECKED_ALWAYS = ("fgsm", "pgd", "vat")


def _store(estimator, values: dict) -> None:
    """``__init__`` only stores its arguments (scikit-learn's rule)."""
    for name, value in values.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


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


def _check_loop(est) -> None:
    """The loop settings of an estimator; the objective's hyper-parameters are the objective's
    to check (``make_objective(...).validate(model)``)."""
    if est.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, "
                         f"got {est.optimizer!r}.")
    if est.optimizer_kwargs is not None and not isinstance(est.optimizer_kwargs, dict):
        raise TypeError("optimizer_kwargs: expected a dict or None, got "
                        f"{type(est.optimizer_kwargs).__name__}.")
    check_scalar(est.lr, "lr", low=0.0, low_inclusive=False)
    check_int(est.epochs, "epochs", low=1)
    check_int(est.batch_size, "batch_size", low=1)
    if est.unlabeled_batch_size is not None:
        check_int(est.unlabeled_batch_size, "unlabeled_batch_size", low=1)
    if not isinstance(est.verbose, (bool, np.bool_)):        # verbose=True as in sklearn
        check_int(est.verbose, "verbose", low=0)


class _SklearnProtocol:
    """scikit-learn's protocols without depending on it: ``get_params``/``set_params`` and a
    ``repr`` read from the keywords of the subclass's ``__init__`` (scikit-learn's own rule),
    the tags and the fitted check."""

    _estimator_type = "classifier"          # scikit-learn < 1.6 reads this attribute
    _multi_class = True

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(p for p in inspect.signature(cls.__init__).parameters if p != "self")

    def get_params(self, deep: bool = True) -> dict:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params: Any):
        """Set hyper-parameters; unknown names raise ``ValueError``."""
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"set_params: unknown hyper-parameter {k!r} of "
                                 f"{type(self).__name__} (valid: {valid}).")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6, looked up only when scikit-learn itself asks."""
        utils = importlib.import_module("sklearn.utils")
        return utils.Tags(estimator_type="classifier",
                          target_tags=utils.TargetTags(required=True),
                          classifier_tags=utils.ClassifierTags(multi_class=self._multi_class),
                          input_tags=utils.InputTags(allow_nan=False))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "params_")


class _AdversarialClassifier(_SklearnProtocol):
    """Shared ``fit``/``predict`` machinery; subclasses define ``__init__`` and ``_build_model``."""

    def _make_objective(self, model):
        """The chosen objective, validated by itself; the other attack objectives validate the
        hyper-parameters the chosen one ignores (every hyper-parameter is checked, as in
        scikit-learn)."""
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective: expected one of {sorted(OBJECTIVES)}, "
                             f"got {self.objective!r}.")
        made = {}
        for name in dict.fromkeys((self.objective, *_CHECKED_ALWAYS)):
            made[name] = make_objective(name, **{k: getattr(self, k)
                                                 for k in _OBJECTIVE_ARGS.get(name, ())})
            made[name].validate(model)
        return made[self.objective]

    def _make_optimizer(self, rng: np.random.Generator):
        kwargs = {**(self.optimizer_kwargs or {}), "lr": self.lr}
        if self.optimizer == "entropy_sgd":
            kwargs.setdefault("rng", rng)
        try:
            return OPTIMIZERS[self.optimizer](**kwargs)
        except TypeError as exc:
            raise ValueError(f"optimizer_kwargs: not accepted by {self.optimizer!r}: {exc}") \
                from exc

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None):
        """Train on ``(X, y)`` (plus unlabeled rows ``(n_u, d)`` for VAT); returns ``self``.

        Raises ``ValueError``/``TypeError`` naming the argument for bad hyper-parameters (the
        objective's through its ``validate``), bad data, ``X`` outside ``[clip_min, clip_max]``
        for an attack objective, or an ``X_unlabeled`` of the wrong width or a ``(X, y)`` pair.
        """
        _check_loop(self)
        dtype = check_float_dtype(self.dtype)
        X = check_estimator_X(X, dtype)
        classes, y_enc = check_class_labels(y, X.shape[0])
        model = self._build_model(X.shape[1], classes.shape[0])
        objective = self._make_objective(model)
        if X_unlabeled is not None:
            X_unlabeled = model.check_X(check_estimator_X(
                check_unlabeled(X_unlabeled), dtype, "X_unlabeled"), "X_unlabeled")
        init_rng, opt_rng, fit_rng = as_generator(self.random_state, "random_state").spawn(3)
        result = fit(model, model.init_params(init_rng), objective, X, y_enc,
                     optimizer=self._make_optimizer(opt_rng), epochs=self.epochs,
                     batch_size=self.batch_size, rng=fit_rng, X_unlabeled=X_unlabeled,
                     unlabeled_batch_size=self.unlabeled_batch_size, verbose=int(self.verbose))
        self.model_, self.params_, self.history_ = model, result.params, result.history
        self.classes_, self.n_features_in_, self.objective_ = classes, X.shape[1], objective
        self.n_iter_ = result.epochs_run
        return self

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
        """``(n,)`` log-odds of ``classes_[1]`` for two classes, the logits ``(n, C)`` otherwise
        (scikit-learn's shapes)."""
        X = self._check_fitted(X)
        z = self.model_.forward(self.params_, X)[0]
        if z.ndim == 1 or z.shape[1] != 2:
            return z
        log_p = self.model_.output.log_proba(z)                   # (n, 2)
        return log_p[:, 1] - log_p[:, 0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, C)`` in the order of ``classes_``."""
        X = self._check_fitted(X)
        return np.exp(self.model_.output.log_proba(self.model_.forward(self.params_, X)[0]))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable label per row (values from ``classes_``)."""
        proba = self.predict_proba(X)                             # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on ``(X, y)`` (weighted by ``sample_weight`` if given)."""
        return accuracy_score(y, self.predict(X), sample_weight)


def accuracy_score(y: Any, pred: np.ndarray, sample_weight: Any = None) -> float:
    """Mean of ``pred == y``, weighted by non-negative ``sample_weight`` if given."""
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


_SHARED_DOC = """
    objective : {"erm", "fgsm", "shaham", "pgd", "vat", "random"%s}, default "erm"
        Training objective (:data:`minadv.training.OBJECTIVES`).
    eps : float >= 0, default 0.1
        Attack radius of the training attack (VAT: the radius of ``r_vadv``).
    norm : {np.inf, 2, 1, "linf", "l2", "l1"}, default "linf"
        Attack norm of "fgsm", "shaham", "pgd" (and "exact_robust").
    clean_weight : float in [0, 1], default 0.5
        Weight of the clean loss for "fgsm": ``clean_weight·J(x) + (1 - clean_weight)·J(x_adv)``
        (Goodfellow et al.'s α; 0 is pure adversarial training).
    l2 : float >= 0, default 0
        L2 penalty: the objective is ``mean loss + ½·l2·Σ‖W‖²`` (biases unpenalized;
        scikit-learn's ``SGDClassifier`` calls it ``alpha``).
    clip_min, clip_max : float or None, default None
        Data box of the training attack ("fgsm", "shaham", "pgd"), e.g. 0 and 1 for pixels;
        ``X`` must lie inside it.  Other objectives ignore it.
    n_steps : int >= 1, default 10
        PGD iterations of the training attack ("pgd").
    step_size : float > 0 or None, default None
        PGD step length; ``None`` is :func:`minadv.attacks.pgd.default_step_size`,
        ``2.5·eps/n_steps``.
    xi : float > 0, default 1e-6
        VAT's finite-difference probe length.
    n_power_iterations : int >= 0, default 1
        VAT's power iterations.
    vat_weight : float >= 0, default 1
        Weight λ of the KL term of "vat" and "random".
    entmin : bool, default False
        VAT+EntMin: add the conditional entropy.
    optimizer : name in :data:`minadv.optim.OPTIMIZERS`, default "momentum"
    lr : float > 0, default 0.1
    optimizer_kwargs : dict or None
        Extra keyword arguments of the optimizer factory.
    epochs, batch_size, unlabeled_batch_size : loop settings (:func:`minadv.training.fit`)
    random_state : None, int or Generator
        The seed (scikit-learn's name; ``rng`` everywhere else in minadv).
    dtype : "float64" or "float32"
    verbose : int, default 0
"""


class LogisticRegression(_AdversarialClassifier):
    """Binary logistic regression trained with any objective (default ERM, plain momentum SGD).

    The objective is ``mean loss + ½·l2·‖w‖²`` (bias unpenalized), optionally made robust:
    ``objective="exact_robust"`` uses the closed-form worst case (``docs/theory.md`` eq. (1.1)).

    Parameters
    ----------%s
    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([3, 3, 7, 7])
    >>> clf = LogisticRegression(epochs=200, batch_size=4, random_state=0).fit(X, y)
    >>> clf.predict(np.array([[0.0], [3.0]])).tolist()
    [3, 7]
    """

    _multi_class = False

    def __init__(self, *, objective: str = "erm", eps: float = 0.1, norm: Any = "linf",
                 clean_weight: float = 0.5, l2: float = 0.0, clip_min: float | None = None,
                 clip_max: float | None = None, n_steps: int = 10,
                 step_size: float | None = None, xi: float = 1e-6,
                 n_power_iterations: int = 1, vat_weight: float = 1.0, entmin: bool = False,
                 optimizer: str = "momentum", lr: float = 0.1,
                 optimizer_kwargs: dict | None = None, epochs: int = 100,
                 batch_size: int = 32, unlabeled_batch_size: int | None = None,
                 random_state: Any = None, dtype: Any = "float64", verbose: int = 0):
        _store(self, locals())

    def _build_model(self, n_features: int, n_classes: int):
        if n_classes != 2:
            raise ValueError(f"y: Only binary classification is supported. LogisticRegression "
                             f"got {n_classes} classes; use MLPClassifier(hidden_layer_sizes=()) "
                             "for softmax regression.")
        return LogisticRegressionModel(n_features, dtype=self.dtype)


class MLPClassifier(_AdversarialClassifier):
    """Softmax MLP trained with any objective.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Widths of the hidden layers (an int is one layer); ``()`` gives softmax regression.
    activation : {"relu", "tanh", "sigmoid", "softplus", "identity"}, default "relu"%s"""

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 objective: str = "erm", eps: float = 0.1, norm: Any = "linf",
                 clean_weight: float = 0.5, l2: float = 0.0, clip_min: float | None = None,
                 clip_max: float | None = None, n_steps: int = 10,
                 step_size: float | None = None, xi: float = 1e-6,
                 n_power_iterations: int = 1, vat_weight: float = 1.0, entmin: bool = False,
                 optimizer: str = "momentum", lr: float = 0.1,
                 optimizer_kwargs: dict | None = None, epochs: int = 100,
                 batch_size: int = 32, unlabeled_batch_size: int | None = None,
                 random_state: Any = None, dtype: Any = "float64", verbose: int = 0):
        _store(self, locals())

    def _build_model(self, n_features: int, n_classes: int):
        if self.objective == "exact_robust":
            raise ValueError("objective: 'exact_robust' needs the closed form of logistic "
                             "regression; use LogisticRegression or objective='pgd'.")
        sizes = [n_features, *check_hidden_layer_sizes(self.hidden_layer_sizes), n_classes]
        return MLP(sizes, activation=self.activation, dtype=self.dtype)


LogisticRegression.__doc__ %= (_SHARED_DOC % ', "exact_robust"',)
MLPClassifier.__doc__ %= (_SHARED_DOC % "",)
