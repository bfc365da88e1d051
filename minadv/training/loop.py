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
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_generator, check_int, check_scalar
from ..optim.base import apply_updates
from ..params import Params, tree_copy
from .objectives import Batch, Objective

__all__ = ["fit", "FitResult", "EarlyStopping", "evaluate"]


class EarlyStopping(NamedTuple):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode`` is ``"min"``, ``"max"`` or ``"auto"`` (max for names containing "accuracy").
    With ``restore_best`` the returned parameters are those of the best epoch.
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
    params, X, y = model.check_inputs(params, X, y)
    batch_size = check_int(batch_size, "batch_size", low=1)
    gen = as_generator(rng)
    loss = correct = robust = 0.0
    for i in range(0, X.shape[0], batch_size):
        Xb, yb = X[i:i + batch_size], y[i:i + batch_size]
        z, _ = model.forward(params, Xb)
        loss += float(np.sum(model.output.nll(z, yb)[0]))
        correct += float(np.sum(model.predict_from_logits(z) == yb))
        if attack is not None:
            z_adv, _ = model.forward(params, attack(model, params, Xb, yb, gen))
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
        now = time.perf_counter()
        if not self.live or (now - self._last < 0.1 and step + 1 < self.steps):
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
def _check_fit_args(model, params, objective, X, y, optimizer, epochs, batch_size,
                    X_unlabeled, unlabeled_batch_size, validation, early_stopping, verbose):
    params, X, y = model.check_inputs(params, X, y)
    if not callable(objective):
        raise TypeError(f"objective: expected a callable objective, got {type(objective)}.")
    if isinstance(objective, Objective):
        objective.validate(model)
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError("optimizer: expected an (init, update) pair from minadv.optim, got "
                        f"{type(optimizer).__name__}.")
    epochs = check_int(epochs, "epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if X_unlabeled is not None:
        if not getattr(objective, "uses_unlabeled", True):
            raise ValueError(f"X_unlabeled: the objective {getattr(objective, 'name', '')!r} "
                             "does not use unlabeled data; use a VAT-family objective.")
        X_unlabeled = model.check_X(X_unlabeled, "X_unlabeled")
        unlabeled_batch_size = check_int(
            batch_size if unlabeled_batch_size is None else unlabeled_batch_size,
            "unlabeled_batch_size", low=1)
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise TypeError("validation: expected a pair (X_val, y_val).")
        validation = model.check_inputs(params, *validation)[1:]
    if early_stopping is not None:
        check_int(early_stopping.patience, "early_stopping.patience", low=0)
        check_scalar(early_stopping.min_delta, "early_stopping.min_delta", low=0.0)
        if early_stopping.mode not in ("auto", "min", "max"):
            raise ValueError(f"early_stopping.mode: expected 'auto', 'min' or 'max', got "
                             f"{early_stopping.mode!r}.")
    check_int(verbose, "verbose", low=0)
    return params, X, y, epochs, batch_size, X_unlabeled, unlabeled_batch_size, validation


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
        if self.spec.monitor not in logs:
            raise KeyError(f"early_stopping.monitor: {self.spec.monitor!r} is not recorded; "
                           f"available: {sorted(logs)} (pass validation= for 'val_*').")
        value = self.sign * logs[self.spec.monitor]
        if self.best is None or value < self.best - self.spec.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_params = tree_copy(params) if self.spec.restore_best else None
            return False
        self.wait += 1
        return self.wait >= self.spec.patience


# -------------------------------------------------------------------------------- fit
def fit(model, params: Params, objective: Callable, X: np.ndarray, y: np.ndarray, *,
        optimizer, epochs: int = 10, batch_size: int = 32, rng: Any = None,
        X_unlabeled: np.ndarray | None = None, unlabeled_batch_size: int | None = None,
        validation: tuple | None = None, validation_attack: Callable | None = None,
        callbacks: Iterable[Callable] = (), early_stopping: EarlyStopping | None = None,
        grad_fn_batch: str | None = None, verbose: int = 1) -> FitResult:
    """Minimise ``objective`` over minibatches of ``(X, y)`` with a pure optimizer.

    Parameters
    ----------
    model : Model
        Any model of the protocol (:mod:`minadv.models.base`).
    params : dict
        Initial parameters (not modified).
    objective : callable ``(model, params, Batch, rng) -> (loss, grads)``
        Usually one of :mod:`minadv.training.objectives`; its ``validate(model)`` runs first.
    X : ndarray of shape (n, d), the model's dtype
    y : ndarray of shape (n,), labels in ``{0..C-1}``
    optimizer : Optimizer
        ``init``/``update`` pair from :mod:`minadv.optim`.
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
    callbacks : iterable of callables ``cb(epoch, logs, params) -> bool | None``
        Called after every epoch; returning True stops training.
    early_stopping : EarlyStopping, optional
    grad_fn_batch : {"same", "fresh"} or None
        Override of what the optimizer's ``grad_fn`` evaluates; ``None`` follows
        ``optimizer.grad_fn_batch`` ("fresh" for EntropySGD, the same minibatch otherwise).
    verbose : int, default 1
        0: silent; >= 1: one line per epoch on stderr (plus a live bar on a terminal).

    Returns
    -------
    FitResult
        ``history`` has ``loss`` (mean minibatch objective of the epoch), ``accuracy`` (clean
        training accuracy at the end of the epoch), ``time`` and the validation entries.

    Raises
    ------
    FloatingPointError
        When the objective becomes non-finite (lower the learning rate).
    """
    (params, X, y, epochs, batch_size, X_unlabeled, unlabeled_batch_size,
     validation) = _check_fit_args(model, params, objective, X, y, optimizer, epochs,
                                   batch_size, X_unlabeled, unlabeled_batch_size, validation,
                                   early_stopping, verbose)
    streams = as_generator(rng).spawn(5)
    labeled = _Sampler(X.shape[0], batch_size, streams[0])
    unlabeled = (None if X_unlabeled is None else
                 _Sampler(X_unlabeled.shape[0], unlabeled_batch_size, streams[1]))
    fresh = _Sampler(X.shape[0], batch_size, streams[3])
    obj_rng, val_rng = streams[2], streams[4]

    def batch_of(idx: np.ndarray) -> Batch:
        Xu = None if unlabeled is None else X_unlabeled[unlabeled.next()]
        return Batch(X[idx], y[idx], Xu)

    state = optimizer.init(params)
    def fresh_fn(p):
        return (objective(model, p, batch_of(fresh.next()), obj_rng)[1])
    if grad_fn_batch not in (None, "same", "fresh"):
        raise ValueError(f"grad_fn_batch: expected None, 'same' or 'fresh', got {grad_fn_batch!r}.")
    use_fresh = (getattr(optimizer, "grad_fn_batch", None) == "fresh" if grad_fn_batch is None
                 else grad_fn_batch == "fresh")
    history: dict[str, list] = {}
    stopper = _Stopper(early_stopping)
    progress = _Progress(verbose, epochs, math.ceil(X.shape[0] / labeled.batch_size))
    epoch = -1
    for epoch in range(epochs):
        start = time.perf_counter()
        params, state, loss = _run_epoch(model, params, state, objective, optimizer, labeled,
                                         batch_of, obj_rng, fresh_fn if use_fresh else None,
                                         progress, epoch)
        logs = _epoch_logs(model, params, X, y, loss, validation, validation_attack, val_rng)
        logs["time"] = time.perf_counter() - start
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        progress.epoch_end(epoch, logs, logs["time"])
        stop = stopper.update(epoch, logs, params)
        stop = any([bool(cb(epoch, logs, params)) for cb in callbacks]) or stop
        if stop:
            break
    if stopper.best_params is not None:
        params = stopper.best_params
    return FitResult(params, history, state, stopper.best_epoch, epoch + 1)


def _run_epoch(model, params, state, objective, optimizer, sampler, batch_of, obj_rng,
               fresh_fn, progress, epoch):
    """One pass over the labeled data; returns ``(params, state, mean loss)``."""
    total, count = 0.0, 0
    for step, idx in enumerate(sampler.epoch()):
        batch = batch_of(idx)
        loss, grads = objective(model, params, batch, obj_rng)
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"fit: the objective became {loss} at epoch {epoch + 1}, step {step + 1}; "
                "lower the learning rate or check the data scaling.")
        grad_fn = fresh_fn or (lambda p, b=batch: objective(model, p, b, obj_rng)[1])
        updates, state = optimizer.update(grads, state, params, grad_fn=grad_fn)
        params = apply_updates(params, updates)
        total += loss * idx.shape[0]
        count += idx.shape[0]
        progress.step(epoch, step, total / count)
    return params, state, total / count


def _epoch_logs(model, params, X, y, loss, validation, attack, rng) -> dict:
    logs = {"loss": loss, "accuracy": evaluate(model, params, X, y)["accuracy"]}
    if validation is not None:
        val = evaluate(model, params, *validation, attack=attack, rng=rng)
        logs.update({f"val_{k}": v for k, v in val.items()})
    return logs
