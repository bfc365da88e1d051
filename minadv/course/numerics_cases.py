"""Cases and known mistakes of the stable-numerics exercises: sigmoid, logsumexp, softmax CE.

The adversarial cases are saturated inputs (``±1e3`` in float64, ``±100`` in float32, where
the textbook formulas overflow) and float32 inputs (the output keeps the dtype).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import references as ref
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["NUMERICS_EXERCISES"]

SATURATED_64 = np.array([-1000.0, -750.0, -40.0, -1.5, 0.0, 2.0, 40.0, 750.0, 1000.0])
SATURATED_32 = np.array([-100.0, -90.0, -20.0, 0.0, 20.0, 90.0, 100.0], dtype=np.float32)


# ----------------------------------------------------------------------------- sigmoid
def _sigmoid_cases(gen):
    tails = np.concatenate([-745 + 45 * gen.random(4), 700 + 45 * gen.random(4)])
    return [
        CaseSpec("random float64 (4, 5)", (3 * gen.standard_normal((4, 5)),)),
        CaseSpec("saturated t = ±1e3 (float64)", (SATURATED_64.copy(),)),
        CaseSpec("random float32 (3, 4)", (gen.standard_normal((3, 4)).astype(np.float32),)),
        CaseSpec("saturated t = ±100 (float32)", (SATURATED_32.copy(),)),
        CaseSpec("3-D array (2, 3, 4)", (4 * gen.standard_normal((2, 3, 4)),)),
        # σ(t) ~ 1e-323 .. 1e-304 for t in [-745, -700]: exp(-|t|) is still representable
        CaseSpec("tails t in ±[700, 745] (float64)", (tails,)),
    ]


SIGMOID = Exercise(
    name="sigmoid",
    summary="stable logistic sigmoid σ(t) = 1 / (1 + exp(-t))",
    reference=ref.sigmoid,
    make_cases=_sigmoid_cases,
    outputs=("sigma",),
    overflow_hint=("exp overflows at large |t|: use exp(-|t|), i.e. 1/(1+exp(-t)) for t >= 0 "
                   "and exp(t)/(1+exp(t)) for t < 0 (np.where evaluates both branches: "
                   "compute e = exp(-|t|) once)"),
    mistakes=(Mistake("you computed σ(-t) = 1 - σ(t): the sigmoid is 1 / (1 + exp(-t))",
                      lambda t: special.expit(-t)),),
    tutorial="00_backprop_from_scratch.py",
    task="stable elementwise sigmoid 1 / (1 + exp(-t)) that never overflows",
    forbidden=("scipy.special.expit", "scipy.special.log_expit", "scipy.stats.logistic"),
)


# ----------------------------------------------------------------------------- logsumexp
def _logsumexp_cases(gen):
    saturated = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0],
                          [1e3, 1e3, 1e3], [0.0, -1e3, 1e3]])
    return [
        CaseSpec("random float64 (5, 4)", (3 * gen.standard_normal((5, 4)),)),
        CaseSpec("random square (4, 4)", (gen.standard_normal((4, 4)),)),
        CaseSpec("saturated logits ±1e3", (saturated,)),
        CaseSpec("float32 logits ±100", (np.array([[100.0, 90.0, 0.0], [-100.0, -200.0, -150.0]],
                                                  dtype=np.float32),)),
        CaseSpec("one class (3, 1)", (gen.standard_normal((3, 1)),)),
        CaseSpec("random float32 (6, 5)", ((3 * gen.standard_normal((6, 5))).astype(np.float32),)),
    ]


def _lse_without_max(z):
    return special.logsumexp(z, axis=1) - np.max(z, axis=1)


LOGSUMEXP = Exercise(
    name="logsumexp",
    summary="stable row-wise log Σ exp(z)",
    reference=ref.logsumexp,
    make_cases=_logsumexp_cases,
    outputs=("lse",),
    overflow_hint=("overflow at large logits: subtract the row max M before exp, "
                   "logsumexp(z) = M + log Σ exp(z - M) (one M per row, keepdims=True)"),
    mistakes=(
        Mistake("you subtracted the row max but did not add it back: M + log Σ exp(z - M)",
                _lse_without_max),
        Mistake("one value per row: reduce over axis=1 (the classes), not axis=0",
                lambda z: special.logsumexp(z, axis=0)),
    ),
    tutorial="00_backprop_from_scratch.py",
    task="row-wise log Σ_k exp(z_ik) without overflow (subtract the row max)",
    forbidden=("scipy.special.logsumexp",),
)


# ----------------------------------------------------------------------------- softmax CE
def _labels(gen, n, C):
    return gen.integers(0, C, size=n)


def _softmax_ce_cases(gen):
    sat = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [1e3, 1e3, 1e3]])
    z32 = np.array([[100.0, -100.0, 0.0], [95.0, 90.0, -100.0]], dtype=np.float32)
    return [
        CaseSpec("random float64 (6, 4)", (2 * gen.standard_normal((6, 4)), _labels(gen, 6, 4)),
                 n=6),
        CaseSpec("saturated logits ±1e3", (sat, np.array([1, 0, 2])), n=3),
        CaseSpec("float32 logits ±100", (z32, np.array([0, 2])), n=2),
        CaseSpec("two classes, one row", (gen.standard_normal((1, 2)), np.array([1])), n=1),
        CaseSpec("random float32 (5, 3)", ((2 * gen.standard_normal((5, 3))).astype(np.float32),
                                           _labels(gen, 5, 3)), n=5),
        CaseSpec("one class C = 1 (dz = 0)", (gen.standard_normal((4, 1)), np.zeros(4, int)),
                 n=4),
    ]


def _ce_no_onehot(z, y):
    return special.softmax(z, axis=1) / z.shape[0]


def _ce_softmax_axis0(z, y):
    p = special.softmax(z, axis=0)
    p[np.arange(z.shape[0]), y] -= 1
    return p / z.shape[0]


SOFTMAX_CE = Exercise(
    name="softmax_cross_entropy_backward",
    summary="dL/dz of the mean softmax cross-entropy: (softmax(z) - onehot(y)) / n",
    reference=ref.softmax_cross_entropy_backward,
    make_cases=_softmax_ce_cases,
    outputs=("dz",),
    overflow_hint="overflow at large logits: subtract the row max before exp in the softmax",
    mistakes=(
        Mistake("subtract 1 at the true class: dz = (softmax(z) - onehot(y)) / n",
                _ce_no_onehot),
        Mistake("the softmax normalises each row (axis=1), not each column", _ce_softmax_axis0),
    ),
    tutorial="00_backprop_from_scratch.py",
    task="dL/dz of the mean softmax cross-entropy, (softmax(z) - onehot(y)) / n",
    forbidden=("scipy.special.softmax", "scipy.special.log_softmax"),
)

NUMERICS_EXERCISES = [SIGMOID, LOGSUMEXP, SOFTMAX_CE]
