"""The training loop: optima against L-BFGS, exactness of one-step training on linear models,
optimizers that need grad_fn, determinism, early stopping, callbacks, errors."""

import numpy as np
import pytest
from scipy.optimize import minimize

from minadv.datasets import make_moons
from minadv.models import MLP, LogisticRegressionModel
from minadv.optim import adam, entropy_sgd, sam, sgd
from minadv.params import flatten, tree_equal, unflatten
from minadv.robust_logistic import robust_logistic_loss_grad
from minadv.training import (
    ERM,
    EarlyStopping,
    ExactRobustObjective,
    FGSMObjective,
    PGDObjective,
    ShahamObjective,
    VATObjective,
    evaluate,
    fit,
)


def _blobs(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d)) + 0.8 * (2 * y[:, None] - 1) * np.linspace(1, 0.2, d)
    return X, y


def _lbfgs(fun_grad, x0):
    res = minimize(fun_grad, x0, jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10_000})
    return res.x


# ---------------------------------------------------------------------------- exact answers
def test_erm_logistic_reaches_the_lbfgs_optimum():
    X, y = _blobs()
    model = LogisticRegressionModel(5)
    p0 = model.init_params()

    def fg(theta):
        out = model.loss_and_grads(unflatten(theta, p0), X, y, input_grad=False, l2=0.1)
        return out.loss, flatten(out.grads)

    ref = _lbfgs(fg, flatten(p0))
    res = fit(model, p0, ERM(l2=0.1), X, y, optimizer=sgd(1.0, momentum=0.5), epochs=300,
              batch_size=200, rng=0, verbose=0)
    np.testing.assert_allclose(flatten(res.params), ref, atol=1e-6)
    assert res.history["loss"][-1] == pytest.approx(fg(ref)[0], abs=1e-10)


def test_exact_robust_logistic_training_reaches_the_lbfgs_optimum_of_the_closed_form():
    X, y = _blobs()
    model = LogisticRegressionModel(5)
    p0 = model.init_params(rng=0, scale=0.1)
    ref = _lbfgs(lambda t: robust_logistic_loss_grad(t, X, y, 0.3, norm=2, l2=0.1,
                                                     fit_intercept=True), flatten(p0))
    res = fit(model, p0, ExactRobustObjective(eps=0.3, norm=2, l2=0.1), X, y,
              optimizer=sgd(1.0, momentum=0.5), epochs=300, batch_size=200, rng=0, verbose=0)
    np.testing.assert_allclose(flatten(res.params), ref, atol=1e-6)


class _Recorder:
    """Wraps an objective and records every gradient it returns."""

    def __init__(self, objective):
        self.objective, self.grads = objective, []

    def __call__(self, model, params, batch, rng):
        loss, grads = self.objective(model, params, batch, rng)
        self.grads.append(grads)
        return loss, grads


def _mix(alpha, eps):
    plain, robust = ExactRobustObjective(eps=0.0), ExactRobustObjective(eps=eps)

    def objective(model, params, batch, rng):
        la, ga = plain(model, params, batch, rng)
        lb, gb = robust(model, params, batch, rng)
        return alpha * la + (1 - alpha) * lb, {k: alpha * ga[k] + (1 - alpha) * gb[k] for k in ga}
    return objective


@pytest.mark.parametrize("one_step, closed_form", [
    (ShahamObjective(eps=0.2, norm=np.inf), ExactRobustObjective(eps=0.2, norm=np.inf)),
    (ShahamObjective(eps=0.2, norm=2), ExactRobustObjective(eps=0.2, norm=2)),
    (FGSMObjective(eps=0.2, clean_weight=0.5), _mix(0.5, 0.2)),
], ids=["shaham-linf", "shaham-l2", "goodfellow-linf"])
def test_one_step_training_of_a_linear_model_is_closed_form_robust_training(one_step,
                                                                            closed_form):
    """FGSM is the exact inner maximiser for a linear score: gradients agree at every step."""
    X, y = _blobs(n=60)
    model = LogisticRegressionModel(5)
    p0 = model.init_params(rng=1, scale=0.3)
    a, b = _Recorder(one_step), _Recorder(closed_form)
    ra = fit(model, p0, a, X, y, optimizer=sgd(0.5, momentum=0.9), epochs=20, batch_size=16,
             rng=3, verbose=0)
    rb = fit(model, p0, b, X, y, optimizer=sgd(0.5, momentum=0.9), epochs=20, batch_size=16,
             rng=3, verbose=0)
    assert len(a.grads) == len(b.grads) == 80
    for ga, gb in zip(a.grads, b.grads):
        for k in ga:
            np.testing.assert_allclose(ga[k], gb[k], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(flatten(ra.params), flatten(rb.params), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- optimizers
def _moons_mlp(seed=0, n=120):
    X, y = make_moons(n, noise=0.1, rng=seed)
    model = MLP([2, 16, 2], activation="tanh")
    return model, model.init_params(rng=seed), X, y


def test_entropy_sgd_decreases_the_training_loss_through_the_loop():
    model, p0, X, y = _moons_mlp()
    opt = entropy_sgd(lr=1.0, L=5, gamma0=0.03, sgld_lr=0.1, rng=0)
    res = fit(model, p0, ERM(), X, y, optimizer=opt, epochs=8, batch_size=32, rng=0, verbose=0)
    start = model.loss(p0, X, y)
    assert model.loss(res.params, X, y) < 0.7 * start
    assert res.history["loss"][-1] < res.history["loss"][0]


def test_entropy_sgd_gets_fresh_minibatches_and_sam_the_same_one():
    model, p0, X, y = _moons_mlp()
    seen = []

    def objective(m, p, batch, rng):
        seen.append(batch.X[:, 0].tobytes())
        return ERM()(m, p, batch, rng)

    fit(model, p0, objective, X, y, optimizer=entropy_sgd(lr=1.0, L=3, rng=0), epochs=1,
        batch_size=40, rng=0, verbose=0)
    assert len(seen) == 3 * 4 and len(set(seen)) == len(seen)
    seen.clear()
    fit(model, p0, objective, X, y, optimizer=sam(sgd(0.1), rho=0.05), epochs=1, batch_size=40,
        rng=0, verbose=0)
    assert len(seen) == 6 and seen[0::2] == seen[1::2]


# ---------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("objective, unlabeled", [
    (FGSMObjective(eps=0.1), False),
    (PGDObjective(eps=0.1, n_steps=3), False),
    (VATObjective(eps=0.3), True),
], ids=["fgsm", "pgd", "vat-semi"])
def test_same_seed_gives_bitwise_identical_parameters(objective, unlabeled):
    model, p0, X, y = _moons_mlp()
    kw = dict(optimizer=adam(0.01), epochs=3, batch_size=16, verbose=0,
              X_unlabeled=X[::-1].copy() if unlabeled else None, unlabeled_batch_size=24)
    a = fit(model, p0, objective, X, y, rng=7, **kw)
    b = fit(model, p0, objective, X, y, rng=np.random.default_rng(7), **kw)
    c = fit(model, p0, objective, X, y, rng=8, **kw)
    assert tree_equal(a.params, b.params) and a.history["loss"] == b.history["loss"]
    assert not tree_equal(a.params, c.params)


def test_fit_keeps_float32_and_does_not_modify_its_inputs():
    X, y = make_moons(64, noise=0.1, rng=0)
    X = X.astype(np.float32)
    model = MLP([2, 8, 2], dtype=np.float32)
    p0 = model.init_params(rng=0)
    before = {k: v.copy() for k, v in p0.items()}
    X_before = X.copy()
    res = fit(model, p0, FGSMObjective(eps=0.1), X, y, optimizer=sgd(0.1, momentum=0.9),
              epochs=2, batch_size=16, rng=0, verbose=0)
    assert all(v.dtype == np.float32 for v in res.params.values())
    assert tree_equal(p0, before) and np.array_equal(X, X_before)


# ---------------------------------------------------------------------------- loop features
def test_history_validation_and_robust_accuracy():
    model, p0, X, y = _moons_mlp()
    Xv, yv = make_moons(60, noise=0.1, rng=9)
    attack = lambda m, p, Xb, yb, rng: Xb + 0.3 * np.sign(  # noqa: E731
        m.loss_and_grads(p, Xb, yb).input_grad)
    res = fit(model, p0, ERM(), X, y, optimizer=adam(0.02), epochs=4, batch_size=32, rng=0,
              validation=(Xv, yv), validation_attack=attack, verbose=0)
    assert set(res.history) == {"loss", "accuracy", "time", "val_loss", "val_accuracy",
                                "val_robust_accuracy"}
    assert all(len(v) == 4 for v in res.history.values())
    final = evaluate(model, res.params, Xv, yv)
    assert res.history["val_accuracy"][-1] == final["accuracy"]
    assert res.history["val_robust_accuracy"][-1] <= final["accuracy"]


def test_early_stopping_restores_the_best_parameters():
    model, p0, X, y = _moons_mlp()
    snapshots = []

    def cb(epoch, logs, params):
        snapshots.append((logs["val_loss"], {k: v.copy() for k, v in params.items()}))

    # a learning rate far too large makes the validation loss bounce, so training stops early
    res = fit(model, p0, ERM(), X, y, optimizer=sgd(8.0, momentum=0.9), epochs=40,
              batch_size=32, rng=0, validation=(X, y), callbacks=[cb], verbose=0,
              early_stopping=EarlyStopping(monitor="val_loss", patience=2))
    best = int(np.argmin([s[0] for s in snapshots]))
    assert res.best_epoch == best and res.epochs_run == len(snapshots) < 40
    assert res.epochs_run == best + 3
    assert tree_equal(res.params, snapshots[best][1])


def test_a_callback_returning_true_stops_training():
    model, p0, X, y = _moons_mlp()
    res = fit(model, p0, ERM(), X, y, optimizer=sgd(0.1), epochs=10, batch_size=32, rng=0,
              callbacks=[lambda epoch, logs, params: epoch == 2], verbose=0)
    assert res.epochs_run == 3 and len(res.history["loss"]) == 3


def test_verbose_prints_one_line_per_epoch_and_zero_is_silent(capsys):
    model, p0, X, y = _moons_mlp()
    fit(model, p0, ERM(), X, y, optimizer=sgd(0.1), epochs=3, batch_size=32, rng=0, verbose=1)
    err = capsys.readouterr().err
    assert err.count("epoch ") == 3 and "loss" in err and "accuracy" in err
    fit(model, p0, ERM(), X, y, optimizer=sgd(0.1), epochs=3, batch_size=32, rng=0, verbose=0)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(epochs=-1), ValueError, "epochs"),
    (dict(X_unlabeled=np.zeros((5, 3))), ValueError, "X_unlabeled"),
    (dict(optimizer=object()), TypeError, "optimizer"),
    (dict(validation=(np.zeros((4, 2)),)), TypeError, "validation"),
    (dict(grad_fn_batch="other"), ValueError, "grad_fn_batch"),
    (dict(early_stopping=EarlyStopping(monitor="val_loss")), ValueError, "validation="),
])
def test_bad_arguments_raise_clear_errors(kwargs, exc, match):
    model, p0, X, y = _moons_mlp()
    args = dict(optimizer=sgd(0.1), epochs=1, batch_size=8, rng=0, verbose=0)
    args.update(kwargs)
    obj = VATObjective() if "X_unlabeled" in kwargs else ERM()
    with pytest.raises(exc, match=match):
        fit(model, p0, obj, X, y, **args)


def test_unlabeled_data_with_a_supervised_objective_and_bad_alpha_are_refused():
    model, p0, X, y = _moons_mlp()
    with pytest.raises(ValueError, match="does not use unlabeled"):
        fit(model, p0, ERM(), X, y, optimizer=sgd(0.1), X_unlabeled=X, verbose=0)
    with pytest.raises(ValueError, match="clean_weight"):
        fit(model, p0, FGSMObjective(clean_weight=2.0), X, y, optimizer=sgd(0.1), verbose=0)


def test_a_non_finite_objective_raises_floating_point_error():
    model, p0, X, y = _moons_mlp()

    def broken(m, p, batch, rng):
        loss, grads = ERM()(m, p, batch, rng)
        return float("nan"), grads

    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(model, p0, broken, X, y, optimizer=sgd(0.1), epochs=2, batch_size=32, rng=0,
            verbose=0)


def test_evaluate_validates_its_inputs():
    from minadv.models import MLP
    from minadv.training import evaluate

    net = MLP([2, 3, 2])
    params = net.init_params(rng=0)
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="y: labels must lie"):
        evaluate(net, params, X, np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(net, params, X, np.array([0, 1, 1, 0]), batch_size=0)
    assert evaluate(net, params, X, np.array([0, 1, 1, 0]))["accuracy"] == 0.5  # one class for all


# ---------------------------------------------------------------------------- hardening
def test_nan_from_the_last_update_raises_naming_epoch_and_step():
    """The objective is finite at every call, but the last update makes W1 NaN: the loop
    must not return it silently."""
    model, p0, X, y = _moons_mlp()
    calls = []

    def nan_optimizer_update(grads, state, params, grad_fn=None):
        calls.append(1)
        updates = {k: np.zeros_like(v) for k, v in params.items()}
        if len(calls) == 8:                           # epoch 2, step 4 (4 steps per epoch)
            updates["b1"] = np.full_like(params["b1"], np.nan)
        return updates, state

    from minadv.optim import Optimizer

    opt = Optimizer(lambda p: None, nan_optimizer_update)
    with pytest.raises(FloatingPointError, match=r"'b1' .*epoch 2, step 4"):
        fit(model, p0, ERM(), X, y, optimizer=opt, epochs=2, batch_size=32, rng=0, verbose=0)


def test_an_overflowing_but_finite_update_is_not_reported():
    """The vdot screen overflows for huge finite weights; the exact check must confirm."""
    model = LogisticRegressionModel(2)
    X, y = np.array([[1e-300, 0.0], [0.0, -1e-300]]), np.array([0, 1])
    from minadv.optim import Optimizer

    def big(grads, state, params, grad_fn=None):
        return {"w": np.array([1e200, -1e200]), "b": np.array(0.0)}, state

    res = fit(model, model.init_params(), ERM(), X, y, optimizer=Optimizer(lambda p: None, big),
              epochs=1, batch_size=2, rng=0, verbose=0)
    np.testing.assert_array_equal(res.params["w"], [1e200, -1e200])


@pytest.mark.parametrize("objective", [FGSMObjective(eps=0.1, clip_min=0.0, clip_max=1.0),
                                       PGDObjective(eps=0.1, n_steps=2, clip_min=0.0,
                                                    clip_max=1.0)], ids=["fgsm", "pgd"])
def test_data_outside_the_objectives_box_is_refused_like_pgd(objective):
    model, p0, X, y = _moons_mlp()                  # moons span about [-1.2, 2.2]
    with pytest.raises(ValueError, match=r"^X: the objective's box is .*\[0.0, 1.0\].*holds "
                                         r"values in \[-1"):
        fit(model, p0, objective, X, y, optimizer=sgd(0.1), epochs=1, verbose=0)
    Xb = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))    # inside: trains
    res = fit(model, p0, objective, Xb, y, optimizer=sgd(0.1), epochs=1, verbose=0, rng=0)
    assert res.epochs_run == 1


def test_fit_computes_training_accuracy_only_when_something_reads_it(monkeypatch):
    import minadv.training.loop as loop

    model, p0, X, y = _moons_mlp()
    calls = []
    real = loop.evaluate_kernel
    monkeypatch.setattr(loop, "evaluate_kernel", lambda *a, **k: calls.append(1) or real(*a, **k))
    kw = dict(optimizer=sgd(0.1), epochs=3, batch_size=40, rng=0)
    res = fit(model, p0, ERM(), X, y, verbose=0, **kw)
    assert calls == [] and set(res.history) == {"loss", "time"}
    res2 = fit(model, p0, ERM(), X, y, verbose=0, epoch_metrics=True, **kw)
    assert len(calls) == 3 and set(res2.history) == {"loss", "accuracy", "time"}
    assert tree_equal(res.params, res2.params) and res.history["loss"] == res2.history["loss"]
    assert res2.history["accuracy"][-1] == evaluate(model, res2.params, X, y)["accuracy"]
    calls.clear()
    fit(model, p0, ERM(), X, y, verbose=0, callbacks=[lambda e, logs, p: None], **kw)
    assert len(calls) == 3
    calls.clear()
    res3 = fit(model, p0, ERM(), X, y, verbose=0, validation=(X, y), epoch_metrics=False, **kw)
    assert len(calls) == 3 and "accuracy" not in res3.history and "val_accuracy" in res3.history


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(objective=FGSMObjective), TypeError, r"^objective: .*the class FGSMObjective.*"
                                               r"FGSMObjective\(\)"),
    (dict(callbacks=lambda e, logs, p: None), TypeError, r"^callbacks: .*wrap it"),
    (dict(callbacks=[None]), TypeError, r"^callbacks\[0\]: .*NoneType"),
    (dict(validation_attack=lambda m, p, X, y, r: X), ValueError,
     r"^validation_attack: given without validation"),
    (dict(early_stopping=EarlyStopping(monitor="val_accuracy")), ValueError,
     r"^early_stopping.monitor: .*'val_accuracy'.*need validation="),
    (dict(early_stopping=EarlyStopping(monitor="val_robust_accuracy"), validation="ok"),
     ValueError, r"^early_stopping.monitor: expected one of \['loss', 'accuracy', 'val_loss', "
                 r"'val_accuracy'\]"),
    (dict(validation="wrong-length"), ValueError, r"^validation\[1\] \(y_val\): has 59 labels "
                                                  r"but validation\[0\] \(X_val\) has 60 rows"),
    (dict(validation="wrong-width"), ValueError, r"^validation\[0\] \(X_val\): expected shape"),
    (dict(epoch_metrics="yes"), TypeError, r"^epoch_metrics: "),
    (dict(optimizer=sgd), TypeError, r"^optimizer: .*call the factory, e\.g\. sgd\(lr=0\.1\)"),
    (dict(optimizer="adam"), TypeError, r"^optimizer: .*got str"),
])
def test_loop_mistakes_are_refused_before_the_first_step(kwargs, exc, pattern):
    model, p0, X, y = _moons_mlp()
    Xv, yv = X[:60], y[:60]
    val = {"ok": (Xv, yv), "wrong-length": (Xv, yv[:-1]), "wrong-width": (Xv[:, :1], yv)}
    if isinstance(kwargs.get("validation"), str):
        kwargs = dict(kwargs, validation=val[kwargs["validation"]])
    steps = []
    objective = kwargs.pop("objective", lambda m, p, b, r: steps.append(1) or ERM()(m, p, b, r))
    args = {"optimizer": sgd(0.1), "epochs": 1, "batch_size": 32, "rng": 0, "verbose": 0,
            **kwargs}
    with pytest.raises(exc, match=pattern):
        fit(model, p0, objective, X, y, **args)
    assert steps == []


def test_an_estimator_passed_as_model_gets_a_hint():
    from minadv import MLPClassifier

    _, p0, X, y = _moons_mlp()
    with pytest.raises(TypeError, match=r"^model: .*MLPClassifier.*\.model_ and \.params_"):
        fit(MLPClassifier(), p0, ERM(), X, y, optimizer=sgd(0.1), verbose=0)
