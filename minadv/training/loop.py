"""One training loop for every objective and optimizer.

:func:`fit` draws shuffled minibatches from an explicit :class:`numpy.random.Generator`, asks
the objective for ``(loss, grads)``, hands them to a pure optimizer
(``update(grads, state, params, grad_fn=...)``, :mod:`minadv.optim`) and records a per-epoch
history.  Optimizers that evaluate extra gradients receive ``grad_fn(params) -> grads``:

* SAM (and any optimizer by default) gets the gradient of the **same** minibatch;
* EntropySGD gets a **fresh** minibatch at every call (its Langevin steps), drawn from a
  stream of its own so that the epoch's shuffling is unchanged.

Randomness: ``rng`` is split once with ``Generator.spawn`` into independent streams for the
labeled shuffle, the unlabeled shuffle, the objective (random starts, VAT probes), the fresh
minibatches and validation attacks; the same seed gives bitwise-identical parameters.

Cost: a step is the objective, the optimizer update and a finiteness check of the new
parameters.  Whole-data metrics (training accuracy, validation) are evaluated after an epoch
only when something reads them (see ``epoch_metrics`` of :func:`fit`): with one step per epoch
(a full-batch toy problem) they would cost more than the step itself.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from .._validation import (
    all_finite,
    as_generator,
    check_int,
    check_labels,
    check_scalar,
    describe,
)
from ..attacks.box import outside_box
from ..optim.base import apply_updates
from ..params import Params, tree_copy
from ..threads import thread_policy
from .objectives import Batch, Objective

__all__ = ["fit", "FitResult", "EarlyStopping", "evaluate", "evaluate_kernel"]


class EarlyStopping(NamedTuple):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``monitor`` is a key of the history: ``"loss"``, ``"accuracy"``, or with ``validation=``
    ``"val_loss"``, ``"val_accuracy"`` (and ``"val_robust_accuracy"`` with a
    ``validation_attack``).  ``mode`` is ``"min"``, ``"max"`` or ``"auto"`` (max for names
    containing "accuracy").  With ``restore_best`` the returned parameters are those of the
    best epoch.
    """

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    mode: str = "auto"
    restore_best: bool = True


class FitResult(NamedTuple):
    """What :func:`fit` returns: final (or best) ``params``, the per-epoch ``history`` (dict of
    lists), the optimizer ``opt_state``, ``best_epoch`` (or None) and ``epochs_run``."""

    params: Params
    history: dict
    opt_state: Any
    best_epoch: int | None
    epochs_run: int


# -------------------------------------------------------------------------------- batches
class _Sampler:
    """Shuffled minibatch indices: a new permutation of ``range(n)`` at each pass."""

    def __init__(self, n: int, batch_size: int, rng: np.random.Generator):
        self.n, self.batch_size, self.rng = n, min(batch_size, n), rng
        self._perm, self._pos = None, n

    def epoch(self) -> list[np.ndarray]:
        perm = self.rng.permutation(self.n)
        return [perm[i:i + self.batch_size] for i in range(0, self.n, self.batch_size)]

    def next(self) -> np.ndarray:
        """Next batch of a cycling stream of permutations (unlabeled data, fresh batches)."""
        if self._pos + self.batch_size > self.n:
            self._perm, self._pos = self.rng.permutation(self.n), 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx


# -------------------------------------------------------------------------------- evaluation
def evaluate(model, params: Params, X: np.ndarray, y: np.ndarray, *,
             attack: Callable | None = None, rng: Any = None,
             batch_size: int = 1000) -> dict:
    """Clean loss and accuracy of ``params`` on ``(X, y)`` (and robust accuracy).

    ``attack(model, params, X, y, rng) -> X_adv`` is evaluated batch by batch when given.
    Returns ``{"loss", "accuracy"[, "robust_accuracy"]}``.
    """
    _check_model(model)
    params, X, y = model.check_inputs(params, X, y)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if attack is not None and not callable(attack):
        raise TypeError(f"attack: expected a callable attack(model, params, X, y, rng) -> X_adv, "
                        f"got {type(attack).__name__}.")
    return evaluate_kernel(model, params, X, y, attack=attack, rng=as_generator(rng),
                           batch_size=batch_size)


def evaluate_kernel(model, params: Params, X: np.ndarray, y: np.ndarray, *,
                    attack: Callable | None, rng: np.random.Generator,
                    batch_size: int) -> dict:
    """:func:`evaluate` without validation (``rng`` a Generator)."""
    loss = correct = robust = 0.0
    for i in range(0, X.shape[0], batch_size):
        Xb, yb = X[i:i + batch_size], y[i:i + batch_size]
        z, _ = model.forward(params, Xb)
        loss += float(np.sum(model.output.nll(z, yb)[0]))
        correct += float(np.sum(model.predict_from_logits(z) == yb))
        if attack is not None:
            z_adv, _ = model.forward(params, attack(model, params, Xb, yb, rng))
            robust += float(np.sum(model.predict_from_logits(z_adv) == yb))
    n = X.shape[0]
    out = {"loss": loss / n, "accuracy": correct / n}
    if attack is not None:
        out["robust_accuracy"] = robust / n
    return out


# -------------------------------------------------------------------------------- progress
class _Progress:
    """Per-epoch line on stderr; a live bar when stderr is a terminal and the run is long."""

    def __init__(self, verbose: int, epochs: int, steps: int):
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.live = verbose > 0 and sys.stderr.isatty() and epochs * steps >= 200
        self._last = 0.0

    def step(self, epoch: int, step: int, loss: float) -> None:
        if not self.live:
            return
        now = time.perf_counter()
        if now - self._last < 0.1 and step + 1 < self.steps:
            return
        self._last = now
        done = int(30 * (step + 1) / self.steps)
        sys.stderr.write(f"\repoch {epoch + 1}/{self.epochs} [{'=' * done:<30}] "
                         f"{step + 1}/{self.steps} loss {loss:.4f}")
        sys.stderr.flush()

    def epoch_end(self, epoch: int, logs: dict, seconds: float) -> None:
        if self.verbose <= 0:
            return
        items = " - ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "time")
        sys.stderr.write(("\r" if self.live else "")
                         + f"epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {items}\n")
        sys.stderr.flush()


# -------------------------------------------------------------------------------- checks
@dataclasses.dataclass(frozen=True)
class _FitSetup:
    """The validated arguments of :func:`fit` (what the epochs need besides model/objective)."""

    params: Params
    X: np.ndarray
    y: np.ndarray
    epochs: int
    batch_size: int
    X_unlabeled: np.ndarray | None
    unlabeled_batch_size: int
    validation: tuple | None
    validation_attack: Callable | None
    callbacks: tuple
    use_fresh: bool
    train_accuracy: bool
    verbose: int


def _check_model(model) -> None:
    if isinstance(model, type) or not hasattr(model, "check_inputs"):
        hint = ("; an estimator trains itself with .fit(X, y) and exposes .model_ and .params_"
                if hasattr(model, "get_params") else "")
        raise TypeError("model: expected a minadv model instance (e.g. MLP([...]) or "
                        f"LogisticRegressionModel(d)), got {describe(model)}{hint}.")


def _check_objective(model, objective) -> None:
    if isinstance(objective, type):
        raise TypeError(f"objective: expected an objective instance, got {describe(objective)}; "
                        f"create one, e.g. {objective.__name__}().")
    if not callable(objective):
        hint = (f"; build one by name with minadv.training.make_objective({objective!r}, ...)"
                if isinstance(objective, str) else "")
        raise TypeError("objective: expected a callable objective(model, params, batch, rng) -> "
                        f"(loss, grads), e.g. minadv.training.ERM(), got {describe(objective)}"
                        f"{hint}.")
    if isinstance(objective, Objective):
        objective.validate(model)


def _check_optimizer(optimizer) -> None:
    if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
        return
    hint = (f"; call the factory, e.g. {optimizer.__name__}(lr=0.1)"
            if callable(optimizer) and hasattr(optimizer, "__name__") else
            ", e.g. minadv.optim.sgd(0.1)")
    raise TypeError("optimizer: expected an (init, update) pair from minadv.optim, got "
                    f"{describe(optimizer)}{hint}.")


def _check_in_box(objective, X: np.ndarray, name: str) -> None:
    """``X`` must lie in the objective's data box (``clip_min``/``clip_max``), as for ``pgd()``."""
    lo, hi = getattr(objective, "clip_min", None), getattr(objective, "clip_max", None)
    if not outside_box(X, lo, hi):
        return
    raise ValueError(f"{name}: the objective's box is [clip_min, clip_max] = [{lo}, {hi}] but "
                     f"{name} holds values in [{X.min()}, {X.max()}]; rescale or clip {name}, "
                     "or widen the box.")


def _check_callbacks(callbacks) -> tuple:
    if callable(callbacks) or isinstance(callbacks, (str, bytes)) or not isinstance(
            callbacks, Iterable):
        raise TypeError("callbacks: expected a list of callables cb(epoch, logs, params), got "
                        f"{describe(callbacks)}" + ("; wrap it: callbacks=[cb]."
                                                    if callable(callbacks) else "."))
    callbacks = tuple(callbacks)
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"callbacks[{i}]: expected a callable cb(epoch, logs, params), got "
                            f"{describe(cb)}.")
    return callbacks


def _check_validation(model, validation, attack):
    if attack is not None:
        if not callable(attack):
            raise TypeError("validation_attack: expected a callable attack(model, params, X, y, "
                            f"rng) -> X_adv, got {describe(attack)}.")
        if validation is None:
            raise ValueError("validation_attack: given without validation=(X_val, y_val); the "
                             "attack runs on the validation set, so pass validation= too.")
    if validation is None:
        return None
    if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        got = (f"a {type(validation).__name__} of length {len(validation)}"
               if isinstance(validation, (tuple, list)) else describe(validation))
        raise TypeError(f"validation: expected a pair (X_val, y_val), got {got}.")
    X_val = model.check_X(validation[0], "validation[0] (X_val)")
    y_val = check_labels(validation[1], "validation[1] (y_val)", model.n_classes,
                         X_val.shape[0], x_name="validation[0] (X_val)")
    return X_val, y_val


def _check_early_stopping(spec, validation, attack, train_accuracy: bool) -> None:
    if spec is None:
        return
    if not isinstance(spec, EarlyStopping):
        raise TypeError("early_stopping: expected minadv.training.EarlyStopping(...), got "
                        f"{describe(spec)}.")
    check_int(spec.patience, "early_stopping.patience", low=0)
    check_scalar(spec.min_delta, "early_stopping.min_delta", low=0.0)
    if spec.mode not in ("auto", "min", "max"):
        raise ValueError(f"early_stopping.mode: expected 'auto', 'min' or 'max', got "
                         f"{spec.mode!r}.")
    keys = ["loss"] + (["accuracy"] if train_accuracy else [])
    if validation is not None:
        keys += ["val_loss", "val_accuracy"] + (["val_robust_accuracy"] if attack else [])
    if spec.monitor not in keys:
        why = (" (the val_* entries need validation=(X_val, y_val))"
               if str(spec.monitor).startswith("val_") and validation is None else "")
        raise ValueError(f"early_stopping.monitor: expected one of {keys}, got "
                         f"{spec.monitor!r}{why}.")


def _check_fit_args(model, params, objective, X, y, *, optimizer, epochs, batch_size,
                    X_unlabeled, unlabeled_batch_size, validation, validation_attack,
                    callbacks, early_stopping, grad_fn_batch, epoch_metrics,
                    verbose) -> _FitSetup:
    """Validate every argument of :func:`fit` once, before the first step."""
    _check_model(model)
    params, X, y = model.check_inputs(params, X, y)
    _check_objective(model, objective)
    _check_optimizer(optimizer)
    _check_in_box(objective, X, "X")
    unlabeled_batch_size = _check_unlabeled(model, objective, X_unlabeled, unlabeled_batch_size,
                                            batch_size)
    if X_unlabeled is not None:
        X_unlabeled = model.check_X(X_unlabeled, "X_unlabeled")
        _check_in_box(objective, X_unlabeled, "X_unlabeled")
    if grad_fn_batch not in (None, "same", "fresh"):
        raise ValueError(f"grad_fn_batch: expected None, 'same' or 'fresh', got {grad_fn_batch!r}.")
    if epoch_metrics is not None and not isinstance(epoch_metrics, (bool, np.bool_)):
        raise TypeError(f"epoch_metrics: expected None, True or False, got {describe(epoch_metrics)}.")
    verbose = check_int(verbose, "verbose", low=0)
    callbacks = _check_callbacks(callbacks)
    validation = _check_validation(model, validation, validation_attack)
    train_accuracy = (bool(verbose or validation is not None or callbacks or early_stopping)
                      if epoch_metrics is None else bool(epoch_metrics))
    _check_early_stopping(early_stopping, validation, validation_attack, train_accuracy)
    use_fresh = (getattr(optimizer, "grad_fn_batch", None) == "fresh" if grad_fn_batch is None
                 else grad_fn_batch == "fresh")
    return _FitSetup(params=params, X=X, y=y, epochs=check_int(epochs, "epochs", low=0),
                     batch_size=check_int(batch_size, "batch_size", low=1),
                     X_unlabeled=X_unlabeled, unlabeled_batch_size=unlabeled_batch_size,
                     validation=validation, validation_attack=validation_attack,
                     callbacks=callbacks, use_fresh=use_fresh, train_accuracy=train_accuracy,
                     verbose=verbose)


def check_unlabeled(X_unlabeled: Any) -> Any:
    """Refuse an ``(X_u, y_u)`` pair where unlabeled rows are expected (they carry no labels)."""
    if isinstance(X_unlabeled, tuple):
        raise TypeError(f"X_unlabeled: expected an array of unlabeled rows (n_u, d), got a "
                        f"tuple of {len(X_unlabeled)} items; the VAT term uses no labels for "
                        "these rows: pass X_u alone (X_unlabeled=X_u).")
    return X_unlabeled


def _check_unlabeled(model, objective, X_unlabeled, unlabeled_batch_size, batch_size) -> int:
    """``unlabeled_batch_size`` (default ``batch_size``; unused without unlabeled data, so that
    one setting serves runs with and without it); unlabeled data only for VAT-like objectives."""
    if X_unlabeled is None:
        return 0
    check_unlabeled(X_unlabeled)
    if not getattr(objective, "uses_unlabeled", True):
        raise ValueError(f"X_unlabeled: the objective {getattr(objective, 'name', '')!r} "
                         "does not use unlabeled data; use a VAT-family objective.")
    return check_int(batch_size if unlabeled_batch_size is None else unlabeled_batch_size,
                     "unlabeled_batch_size", low=1)


def _first_non_finite(params: Params) -> str | None:
    """Name of the first parameter holding NaN or inf, else None (one BLAS dot per array,
    :func:`~minadv._validation.all_finite`)."""
    for k, v in params.items():
        if not all_finite(v):
            return k
    return None


class _Stopper:
    """Tracks the monitored metric, the best epoch and a copy of the best parameters."""

    def __init__(self, spec: EarlyStopping | None):
        self.spec = spec
        self.best, self.best_epoch, self.best_params, self.wait = None, None, None, 0
        if spec is not None:
            mode = spec.mode
            if mode == "auto":
                mode = "max" if "accuracy" in spec.monitor else "min"
            self.sign = 1.0 if mode == "min" else -1.0

    def update(self, epoch: int, logs: dict, params: Params) -> bool:
        """Record the epoch; return True when training should stop."""
        if self.spec is None:
            return False
        value = self.sign * logs[self.spec.monitor]       # the key was checked at fit start
        if self.best is None or value < self.best - self.spec.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_params = tree_copy(params) if self.spec.restore_best else None
            return False
        self.wait += 1
        return self.wait >= self.spec.patience


# -------------------------------------------------------------------------------- steps
class _Stepper:
    """One pass over the labeled data: batches, objective, optimizer, finiteness checks."""

    def __init__(self, model, objective, optimizer, setup: _FitSetup,
                 streams: list[np.random.Generator]):
        self.model, self.objective, self.optimizer, self.setup = model, objective, optimizer, setup
        self.labeled = _Sampler(setup.X.shape[0], setup.batch_size, streams[0])
        self.unlabeled = (None if setup.X_unlabeled is None else _Sampler(
            setup.X_unlabeled.shape[0], setup.unlabeled_batch_size, streams[1]))
        self.fresh = _Sampler(setup.X.shape[0], setup.batch_size, streams[3])
        self.obj_rng = streams[2]
        self.last = None                       # (batch, epoch, step) of the last update
        self.progress = _Progress(setup.verbose, setup.epochs,
                                  math.ceil(setup.X.shape[0] / self.labeled.batch_size))

    def batch(self, idx: np.ndarray) -> Batch:
        s = self.setup
        Xu = None if self.unlabeled is None else s.X_unlabeled[self.unlabeled.next()]
        return Batch(s.X[idx], s.y[idx], Xu)

    def grad_fn(self, batch: Batch) -> Callable[[Params], Params]:
        """What the optimizer's ``grad_fn`` evaluates: a fresh or the same minibatch."""
        model, objective, rng = self.model, self.objective, self.obj_rng
        if self.setup.use_fresh:
            return lambda p: objective(model, p, self.batch(self.fresh.next()), rng)[1]
        return lambda p: objective(model, p, batch, rng)[1]

    def run_epoch(self, params: Params, state: Any, epoch: int):
        """One pass over the labeled data; returns ``(params, state, mean loss)``."""
        total, count = 0.0, 0
        for step, idx in enumerate(self.labeled.epoch()):
            batch = self.batch(idx)
            loss, grads = self.objective(self.model, params, batch, self.obj_rng)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"fit: the objective became {loss} at epoch {epoch + 1}, step {step + 1}; "
                    "lower the learning rate or check the data scaling.")
            updates, state = self.optimizer.update(grads, state, params,
                                                   grad_fn=self.grad_fn(batch))
            params = apply_updates(params, updates)
            bad = _first_non_finite(params)
            if bad is not None:
                raise FloatingPointError(
                    f"fit: the parameter {bad!r} became non-finite (NaN or inf) in the update "
                    f"of epoch {epoch + 1}, step {step + 1}; lower the learning rate or check "
                    "the data scaling.")
            total += loss * idx.shape[0]
            count += idx.shape[0]
            self.progress.step(epoch, step, total / count)
        self.last = (batch, epoch, step)
        return params, state, total / count

    def check_returned(self, params: Params) -> None:
        """The loss of the parameters ``fit`` returns, on the last minibatch.

        Finite parameters can still be so large that the logits overflow; after any other
        update the next step's loss reveals it, after the last one nothing would.  One forward
        pass of one minibatch per ``fit``."""
        if self.last is None:                                     # epochs=0: no update made
            return
        batch, epoch, step = self.last
        with np.errstate(over="ignore", invalid="ignore"):       # the result is checked here
            z, _ = self.model.forward(params, batch.X)
            loss = float(np.mean(self.model.output.nll(z, batch.y)[0]))
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"fit: the update of epoch {epoch + 1}, step {step + 1} left finite parameters "
                f"whose loss is {loss} on its minibatch (the logits overflow); lower the "
                "learning rate or check the data scaling.")


def _epoch_logs(model, params: Params, setup: _FitSetup, loss: float,
                rng: np.random.Generator) -> dict:
    """``loss`` (free: the mean minibatch objective) plus the metrics that are asked for."""
    logs = {"loss": loss}
    if setup.train_accuracy:
        logs["accuracy"] = evaluate_kernel(model, params, setup.X, setup.y, attack=None,
                                           rng=rng, batch_size=1000)["accuracy"]
    if setup.validation is not None:
        val = evaluate_kernel(model, params, *setup.validation, attack=setup.validation_attack,
                              rng=rng, batch_size=1000)
        logs.update({f"val_{k}": v for k, v in val.items()})
    return logs


# -------------------------------------------------------------------------------- fit
@thread_policy
def fit(model, params: Params, objective: Callable, X: np.ndarray, y: np.ndarray, *,
        optimizer, epochs: int = 10, batch_size: int = 32, rng: Any = None,
        X_unlabeled: np.ndarray | None = None, unlabeled_batch_size: int | None = None,
        validation: tuple | None = None, validation_attack: Callable | None = None,
        callbacks: Iterable[Callable] = (), early_stopping: EarlyStopping | None = None,
        grad_fn_batch: str | None = None, epoch_metrics: bool | None = None,
        verbose: int = 1) -> FitResult:
    """Minimise ``objective`` over minibatches of ``(X, y)`` with a pure optimizer.

    Parameters
    ----------
    model : Model
        Any model of the protocol (:mod:`minadv.models.base`).
    params : dict
        Initial parameters (not modified).
    objective : callable ``(model, params, Batch, rng) -> (loss, grads)``
        An instance, usually of :mod:`minadv.training.objectives`; its ``validate(model)`` runs
        first.  ``X`` (and ``X_unlabeled``) must lie in its ``[clip_min, clip_max]`` box if it
        has one, as for :func:`minadv.attacks.pgd`.
    X : ndarray of shape (n, d), the model's dtype
    y : ndarray of shape (n,), labels in ``{0..C-1}``
    optimizer : Optimizer
        ``init``/``update`` pair from :mod:`minadv.optim`, e.g. ``sgd(0.1)``.
    epochs : int >= 0, default 10
        Passes over the labeled data; one step per minibatch (the last may be smaller).
    batch_size : int >= 1, default 32
        Labeled rows per step (capped at ``n``).
    rng : None, int or Generator
        The only source of randomness (see the module docstring).
    X_unlabeled : ndarray of shape (m, d), optional
        Extra unlabeled rows for semi-supervised objectives (VAT); ``unlabeled_batch_size``
        (default ``batch_size``, capped at ``m``) of them join every step.
    validation : (X_val, y_val), optional
        Adds ``val_loss``, ``val_accuracy`` (and ``val_robust_accuracy`` when
        ``validation_attack(model, params, X, y, rng) -> X_adv`` is given) to the history.
        ``validation_attack`` without ``validation`` is an error.
    callbacks : list of callables ``cb(epoch, logs, params) -> bool | None``
        Called after every epoch; returning True stops training.
    early_stopping : EarlyStopping, optional
        Its ``monitor`` must be an entry the history records (checked before the first step).
    grad_fn_batch : {"same", "fresh"} or None
        Override of what the optimizer's ``grad_fn`` evaluates; ``None`` follows
        ``optimizer.grad_fn_batch`` ("fresh" for EntropySGD, the same minibatch otherwise).
    epoch_metrics : bool or None, default None
        Whether to evaluate the clean training ``accuracy`` over all of ``X`` after every epoch.
        ``None``: only when something reads it (``verbose > 0``, ``validation``, ``callbacks``
        or ``early_stopping``); ``True``: always; ``False``: never.
    verbose : int, default 1
        0: silent; >= 1: one line per epoch on stderr (plus a live bar on a terminal).

    Returns
    -------
    FitResult
        ``history`` has ``loss`` (mean minibatch objective of the epoch) and ``time`` for every
        epoch, ``accuracy`` (clean training accuracy at the end of the epoch) when
        ``epoch_metrics`` asks for it, and the validation entries.

    Raises
    ------
    TypeError, ValueError
        Bad arguments, before the first step (each message names the argument).
    FloatingPointError
        When the objective or the parameters after an update become non-finite (the message
        names the epoch and step; lower the learning rate).
    """
    setup = _check_fit_args(
        model, params, objective, X, y, optimizer=optimizer, epochs=epochs,
        batch_size=batch_size, X_unlabeled=X_unlabeled,
        unlabeled_batch_size=unlabeled_batch_size, validation=validation,
        validation_attack=validation_attack, callbacks=callbacks,
        early_stopping=early_stopping, grad_fn_batch=grad_fn_batch,
        epoch_metrics=epoch_metrics, verbose=verbose)
    streams = as_generator(rng).spawn(5)        # labeled, unlabeled, objective, fresh, validation
    stepper = _Stepper(model, objective, optimizer, setup, streams)
    params, state = setup.params, optimizer.init(setup.params)
    history: dict[str, list] = {}
    stopper = _Stopper(early_stopping)
    epoch = -1
    for epoch in range(setup.epochs):
        start = time.perf_counter()
        params, state, loss = stepper.run_epoch(params, state, epoch)
        logs = _epoch_logs(model, params, setup, loss, streams[4])
        logs["time"] = time.perf_counter() - start
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        stepper.progress.epoch_end(epoch, logs, logs["time"])
        stop = stopper.update(epoch, logs, params)
        if any([bool(cb(epoch, logs, params)) for cb in setup.callbacks]) or stop:
            break
    if stopper.best_params is not None:
        params = stopper.best_params
    stepper.check_returned(params)
    return FitResult(params, history, state, stopper.best_epoch, epoch + 1)
