"""scikit-learn-style shells: :class:`LogisticRegression` and :class:`MLPClassifier`.

``__init__`` only stores hyper-parameters; :meth:`fit` validates them, builds a model, an
objective (:mod:`minadv.training.objectives`) and an optimizer (:mod:`minadv.optim`), runs
:func:`minadv.training.fit` and returns ``self``.  Learned state ends in ``_``: ``model_``,
``params_`` (a plain dict usable with every kernel of ``model_``), ``history_``,
``classes_``, ``n_features_in_``, ``objective_``.

Labels: any 1-D array of class labels is accepted; like scikit-learn, ``classes_ =
np.unique(y)`` and the model is trained on the indices ``0..C-1`` into ``classes_``;
:meth:`predict` maps back.  ``model_`` and ``params_`` therefore speak the encoded labels.

Objective names: ``"erm"``, ``"fgsm"`` (Goodfellow's α-mixture), ``"shaham"``, ``"pgd"``,
``"exact_robust"`` (logistic regression only), ``"vat"``, ``"random"`` (see
:data:`minadv.training.OBJECTIVES`).  Optimizer names: :data:`minadv.optim.OPTIMIZERS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import (
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

__all__ = ["LogisticRegression", "MLPClassifier"]

# which estimator hyper-parameters each objective takes (estimator name -> objective field)
_OBJECTIVE_ARGS = {
    "erm": {"l2": "l2"},
    "fgsm": {"eps": "eps", "alpha": "alpha", "norm": "norm", "l2": "l2"},
    "shaham": {"eps": "eps", "norm": "norm", "l2": "l2"},
    "pgd": {"eps": "eps", "norm": "norm", "pgd_steps": "steps", "pgd_step_size": "step_size",
            "l2": "l2"},
    "exact_robust": {"eps": "eps", "norm": "norm", "l2": "l2"},
    "vat": {"eps": "eps", "vat_xi": "xi", "vat_power_iterations": "n_power",
            "vat_lambda": "lam", "entmin": "entmin", "l2": "l2"},
    "random": {"eps": "eps", "vat_lambda": "lam", "l2": "l2"},
}


class _AdversarialClassifier:
    """Shared ``fit``/``predict`` machinery; subclasses define ``_build_model``."""

    def __init__(self, *, objective: str = "erm", eps: float = 0.1, norm: Any = "linf",
                 alpha: float = 0.5, l2: float = 0.0, pgd_steps: int = 10,
                 pgd_step_size: float | None = None, vat_xi: float = 1e-6,
                 vat_power_iterations: int = 1, vat_lambda: float = 1.0, entmin: bool = False,
                 optimizer: str = "momentum", lr: float = 0.1,
                 optimizer_kwargs: dict | None = None, epochs: int = 100,
                 batch_size: int = 32, unlabeled_batch_size: int | None = None,
                 random_state: Any = None, dtype: Any = "float64", verbose: int = 0):
        self.objective, self.eps, self.norm, self.alpha, self.l2 = objective, eps, norm, alpha, l2
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
        names = []
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__:
                sig = inspect.signature(klass.__init__)
                names += [p for p in sig.parameters if p != "self" and p not in names
                          and sig.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY]
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any):
        """Set hyper-parameters; unknown names raise ``ValueError``."""
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"set_params: unknown hyper-parameter {k!r}; valid: {valid}.")
            setattr(self, k, v)
        return self

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
        check_scalar(self.lr, "lr", low=0.0, low_inclusive=False)
        check_scalar(self.alpha, "alpha", low=0.0, high=1.0)
        check_int(self.epochs, "epochs", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        if self.unlabeled_batch_size is not None:
            check_int(self.unlabeled_batch_size, "unlabeled_batch_size", low=1)
        check_int(self.verbose, "verbose", low=0)
        # every hyper-parameter is checked, also those the chosen objective ignores (sklearn)
        check_scalar(self.eps, "eps", low=0.0)
        check_norm(self.norm)
        check_scalar(self.l2, "l2", low=0.0)
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

    def _encode(self, X: Any, y: Any):
        dtype = check_float_dtype(self.dtype)
        X = check_array(np.asarray(X, dtype=dtype), "X", ndim=2)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}.")
        classes, y_enc = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(f"y: needs at least two classes, got {classes.tolist()}.")
        return X, y_enc.astype(np.int64), classes

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None):
        """Train on ``(X, y)`` (plus unlabeled rows for VAT); returns ``self``.

        Raises
        ------
        ValueError, TypeError
            Bad hyper-parameters (negative ``lr``, ``alpha`` outside [0, 1], ``batch_size`` 0,
            unknown names), bad data, or ``X_unlabeled`` of the wrong width.
        """
        self._check_hyper()
        X, y_enc, classes = self._encode(X, y)
        model = self._build_model(X.shape[1], classes.shape[0])
        if X_unlabeled is not None:
            X_unlabeled = model.check_X(np.asarray(X_unlabeled, dtype=model.dtype),
                                        "X_unlabeled")
        rng = as_generator(self.random_state)
        init_rng, opt_rng, fit_rng = rng.spawn(3)
        objective = self._make_objective()
        result = fit(model, self._init_params(model, init_rng), objective, X, y_enc,
                     optimizer=self._make_optimizer(opt_rng), epochs=self.epochs,
                     batch_size=self.batch_size, rng=fit_rng, X_unlabeled=X_unlabeled,
                     unlabeled_batch_size=self.unlabeled_batch_size,
                     verbose=self.verbose)
        self.model_, self.params_, self.history_ = model, result.params, result.history
        self.classes_, self.n_features_in_, self.objective_ = classes, X.shape[1], objective
        return self

    # ------------------------------------------------------------------ predict
    def _check_fitted(self, X: Any) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise AttributeError(f"This {type(self).__name__} is not fitted yet; call fit first.")
        return self.model_.check_X(np.asarray(X, dtype=self.model_.dtype))

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

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy on ``(X, y)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class LogisticRegression(_AdversarialClassifier):
    """Binary logistic regression trained with any objective (default ERM, plain momentum SGD).

    The objective is ``mean loss + ½·l2·‖w‖²`` (bias unpenalized), optionally made robust:
    ``objective="exact_robust"`` uses the closed-form worst case (theory.md eq. (1.1)).
    Hyper-parameters are those of :class:`MLPClassifier` minus the architecture.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([3, 3, 7, 7])
    >>> clf = LogisticRegression(epochs=200, batch_size=4, random_state=0).fit(X, y)
    >>> clf.predict(np.array([[0.0], [3.0]])).tolist()
    [3, 7]
    """

    def _build_model(self, n_features: int, n_classes: int):
        if n_classes != 2:
            raise ValueError(f"y: LogisticRegression is binary, got {n_classes} classes; "
                             "use MLPClassifier(hidden_layer_sizes=()) for softmax regression.")
        return LogisticRegressionModel(n_features, dtype=self.dtype)

    def _init_params(self, model, rng):
        return model.init_params(rng)


class MLPClassifier(_AdversarialClassifier):
    """Softmax MLP trained with any objective.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100,)
        Widths of the hidden layers; ``()`` gives softmax regression.
    activation : {"relu", "tanh", "sigmoid", "softplus", "identity"}, default "relu"
    objective : {"erm", "fgsm", "shaham", "pgd", "vat", "random"}, default "erm"
    eps : float, attack radius (VAT: the radius of ``r_vadv``), default 0.1
    norm : attack norm for fgsm/shaham/pgd, default "linf"
    alpha : weight of the clean loss for "fgsm", default 0.5
    l2 : weight decay ``½·l2·Σ‖W‖²``, default 0
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

    def __init__(self, hidden_layer_sizes: Sequence[int] = (100,), activation: str = "relu",
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation

    @classmethod
    def _param_names(cls) -> list[str]:
        return sorted(super()._param_names() + ["hidden_layer_sizes", "activation"])

    def _build_model(self, n_features: int, n_classes: int):
        if self.objective == "exact_robust":
            raise ValueError("objective: 'exact_robust' needs the closed form of logistic "
                             "regression; use LogisticRegression or objective='pgd'.")
        sizes = [n_features, *tuple(self.hidden_layer_sizes), n_classes]
        return MLP(sizes, activation=self.activation, dtype=self.dtype)

    def _init_params(self, model, rng):
        return model.init_params(rng)
