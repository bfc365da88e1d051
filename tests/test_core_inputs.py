"""Bad inputs to the core (params, losses, models, optimizers): a clear ValueError/TypeError
naming the argument, never a KeyError/IndexError or a silently wrong number."""

import numpy as np
import pytest

from minadv import losses, numerics
from minadv.gradcheck import rel_error
from minadv.models import MLP, LogisticRegressionModel
from minadv.optim import OPTIMIZERS, apply_updates
from minadv.params import flatten, init_weight, unflatten

NET = MLP([3, 4, 2], activation="tanh")
PARAMS = NET.init_params(rng=0)
X = np.random.default_rng(0).normal(size=(5, 3))
Y = np.array([0, 1, 1, 0, 1])
Z = np.zeros((2, 3))


def _update(name, grads):
    opt = OPTIMIZERS[name]()
    params = {"w": np.ones(2), "b": np.zeros(())}
    return opt.update(grads, opt.init(params), params, grad_fn=lambda p: dict(p))


CASES = {
    # params
    "flatten-list": (lambda: flatten([np.ones(2)]), TypeError, "params: expected a mapping"),
    "unflatten-like-list": (lambda: unflatten(np.ones(2), [np.ones(2)]), TypeError, "like"),
    "unflatten-wrong-length": (lambda: unflatten(np.ones(3), {"w": np.ones(2)}), ValueError,
                               "length 2"),
    "init_weight-zero-fan-in": (lambda: init_weight(0, 3, "he", 0), ValueError, "fan_in"),
    "init_weight-zero-fan-out": (lambda: init_weight(3, 0, "glorot", 0), ValueError, "fan_out"),
    "init_weight-float-fan-in": (lambda: init_weight(2.5, 3, "he", 0), TypeError, "fan_in"),
    "init_weight-unknown-scheme": (lambda: init_weight(2, 3, "xavier", 0), ValueError,
                                   "scheme: expected the initialisation"),
    # losses
    "ce-label-too-large": (lambda: losses.softmax_cross_entropy(Z, np.array([0, 3])),
                           ValueError, "labels must lie in"),
    "ce-negative-label": (lambda: losses.softmax_cross_entropy(Z, np.array([0, -1])),
                          ValueError, "labels must lie in"),
    "sigsoftmax-label-too-large": (lambda: losses.sigsoftmax_nll(Z, np.array([3, 0])),
                                   ValueError, "labels must lie in"),
    "logistic-pm1-labels": (lambda: losses.binary_logistic_loss(np.zeros(2), np.array([-1, 1])),
                            ValueError, "not -1/\\+1"),
    "logistic-label-2": (lambda: losses.binary_logistic_loss(np.zeros(2), np.array([0, 2])),
                         ValueError, "labels must lie in"),
    "ce-fractional-label": (lambda: losses.softmax_cross_entropy(Z, np.array([0.5, 1.0])),
                            ValueError, "non-integer"),
    "ce-label-count": (lambda: losses.softmax_cross_entropy(Z, np.array([0])), ValueError,
                       "must match"),
    "ce-1d-logits": (lambda: losses.softmax_cross_entropy(np.zeros(3), np.array([0])),
                     ValueError, "z: expected a 2-D"),
    "ce-nan-logits": (lambda: losses.softmax_cross_entropy(np.full((1, 2), np.nan), [0]),
                      ValueError, "NaN"),
    "kl-unknown-output": (lambda: losses.kl_divergence(Z, Z, "softmx"), ValueError, "output"),
    "kl-shape-mismatch": (lambda: losses.kl_divergence(np.zeros((2, 2)), Z), ValueError, "z_ref"),
    # models
    "model-loss-label-out-of-range": (lambda: NET.loss(PARAMS, X, Y + 1), ValueError, "y"),
    "model-hvp-missing-key": (lambda: NET.hvp(PARAMS, X, Y, {"W1": PARAMS["W1"]}), ValueError,
                              "vector: expected the names"),
    "model-fisher-negative-l2": (lambda: NET.fisher_product(PARAMS, X, PARAMS, l2=-1.0),
                                 ValueError, "l2"),
    "model-params-list": (lambda: NET.loss(list(PARAMS.values()), X, Y), TypeError, "params"),
    "logistic-model-pm1": (lambda: LogisticRegressionModel(3).loss(
        {"w": np.zeros(3), "b": np.zeros(())}, X, np.array([-1, 1, 1, -1, 1])), ValueError,
        "not -1/\\+1"),
    "mlp-one-class": (lambda: MLP([3, 1]), ValueError, "sizes"),
    # optimizers
    **{f"{name}-update-missing-key": (lambda name=name: _update(name, {"w": np.ones(2)}),
                                      ValueError, "grads: expected the names")
       for name in ("sgd", "momentum", "nesterov", "adam", "sam")},
    "update-grads-list": (lambda: _update("sgd", [np.ones(2)]), TypeError, "grads"),
    "apply_updates-names": (lambda: apply_updates({"w": np.ones(2)}, {"v": np.ones(2)}),
                            ValueError, "updates"),
    "rel_error-shapes": (lambda: rel_error(np.ones(2), np.ones(3)), ValueError, "shapes differ"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_a_clear_error(case):
    call, error, match = CASES[case]
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("fn", [numerics.categorical_kl, lambda p, q: numerics.entropy(p)],
                         ids=["categorical_kl", "entropy"])
def test_minus_inf_log_probability_contributes_zero(fn):
    log_p = np.array([[0.0, -np.inf], [np.log(0.5), np.log(0.5)]])
    log_q = np.log(np.array([[0.5, 0.5], [0.5, 0.5]]))
    out = fn(log_p, log_q)
    assert np.isfinite(out).all()
    assert out[0] == (np.log(2.0) if fn is numerics.categorical_kl else 0.0)
