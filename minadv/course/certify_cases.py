"""Cases and known mistakes of the certification exercises (tutorial 10): interval
propagation through one affine + ReLU layer, and the big-M constraints of one ReLU.

Adversarial cases: negative weights (the ends of an interval swap), zero-width intervals (the
bounds are the forward pass), intervals entirely on one side of 0, float32, units whose bounds
straddle 0 by very different amounts.
"""

from __future__ import annotations

import numpy as np

from . import references as ref
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["CERTIFY_EXERCISES"]


# ----------------------------------------------------------------------------- interval layer
def _interval_cases(gen):
    def box(n, d, width, dtype=np.float64):
        centre = gen.standard_normal((n, d))
        rad = width * gen.random((n, d))
        return (centre - rad).astype(dtype), (centre + rad).astype(dtype)

    W, b = gen.standard_normal((4, 3)), gen.standard_normal(3)
    lo, up = box(5, 4, 0.5)
    point = gen.standard_normal((3, 4))
    W32, b32 = W.astype(np.float32), b.astype(np.float32)
    return [
        CaseSpec("random weights of both signs", (lo, up, W, b)),
        CaseSpec("all weights negative (the ends swap)", (lo, up, -np.abs(W), b)),
        CaseSpec("zero-width intervals: the forward pass", (point, point.copy(), W, b)),
        CaseSpec("wide intervals straddling 0", (*box(4, 4, 3.0), W, b)),
        CaseSpec("float32", (*box(3, 4, 0.5, np.float32), W32, b32)),
        # a bias far below 0: every unit is inactive on the whole interval (both bounds 0)
        CaseSpec("every unit inactive (bias -100)", (lo, up, W, b - 100.0)),
        # a bias far above 0: every unit is active, the ReLU is the identity on the interval
        CaseSpec("every unit active (bias +100)", (lo, up, W, b + 100.0)),
    ]


def _endpoints(lower, upper, W, b):
    return np.maximum(lower @ W + b, 0), np.maximum(upper @ W + b, 0)


def _no_relu(lower, upper, W, b):
    mid, rad = (upper + lower) / 2, (upper - lower) / 2
    c, r = mid @ W + b, rad @ np.abs(W)
    return c - r, c + r


def _relu_first(lower, upper, W, b):
    return _no_relu(np.maximum(lower, 0), np.maximum(upper, 0), W, b)


INTERVAL_AFFINE_RELU = Exercise(
    name="interval_affine_relu",
    summary="interval bounds of relu(h W + b) for h in [lower, upper], per row",
    tutorial="10_is_this_point_robust.py",
    task="interval bounds of relu(h W + b) for h in [lower, upper], per row",
    reference=ref.interval_affine_relu,
    make_cases=_interval_cases,
    outputs=("lower_out", "upper_out"),
    overflow_hint="inf/nan: the bounds are two matrix products of finite inputs; check the signs",
    mistakes=(
        Mistake("a negative weight swaps the ends: use the centre μ W + b and the radius "
                "r |W| (μ = (u + l)/2, r = (u - l)/2), not l W + b and u W + b", _endpoints),
        Mistake("the ReLU acts on the layer's output h W + b, not on its input h", _relu_first),
        Mistake("apply the ReLU to both ends: [relu(l_a), relu(u_a)]", _no_relu),
    ),
)


# ----------------------------------------------------------------------------- big-M
def _big_m_cases(gen):
    lo = -gen.random(6) * 3 - 0.1                                  # l < 0 < u: unstable units
    up = gen.random(6) * 3 + 0.1
    return [
        CaseSpec("random unstable units", (lo, up)),
        CaseSpec("symmetric bounds", (np.array([-1.0, -2.0]), np.array([1.0, 2.0]))),
        CaseSpec("lopsided bounds", (np.array([-1e-3, -50.0]), np.array([50.0, 1e-3]))),
        CaseSpec("float32", (lo.astype(np.float32), up.astype(np.float32))),
        CaseSpec("one unit", (np.array([-0.5]), np.array([2.0]))),
        CaseSpec("large bounds (1e6)", (-1e6 * (lo / lo.min()), 1e6 * (up / up.max()))),
    ]


def _big_m_rows(lower, upper, *, last):
    A = np.zeros(lower.shape + (4, 3), dtype=lower.dtype)          # (n, 4, 3) on (a, h, z)
    c = np.zeros(lower.shape + (4,), dtype=lower.dtype)
    A[:, 0, 1] = -1                                                # -h <= 0
    A[:, 1, 0], A[:, 1, 1] = 1, -1                                 # a - h <= 0
    A[:, 2, 1], A[:, 2, 2] = 1, -upper                             # h - u z <= 0
    last(A, c, lower, upper)
    return A, c


def _plus_l(A, c, lower, upper):                                   # h <= a + l (1 - z)
    A[:, 3, 0], A[:, 3, 1], A[:, 3, 2], c[:, 3] = -1, 1, lower, lower


def _no_one_minus_z(A, c, lower, upper):                           # h <= a - l z
    A[:, 3, 0], A[:, 3, 1], A[:, 3, 2] = -1, 1, lower


def _u_for_l(A, c, lower, upper):                                  # h <= a - u (1 - z)
    A[:, 3, 0], A[:, 3, 1], A[:, 3, 2], c[:, 3] = -1, 1, -upper, -upper


BIG_M_RELU = Exercise(
    name="big_m_relu",
    summary="the four big-M rows A (a, h, z) <= c of h = relu(a) with l < a < u, per unit",
    tutorial="10_is_this_point_robust.py",
    task="the four big-M rows A (a, h, z) <= c of h = relu(a) with l < a < u, per unit",
    reference=ref.big_m_relu,
    make_cases=_big_m_cases,
    outputs=("A", "c"),
    overflow_hint="inf/nan: the rows only contain 0, ±1, l and u",
    mistakes=(
        Mistake("the last row is h <= a - l (1 - z): with z = 0 it must allow a down to l "
                "(l < 0, so -l > 0); you wrote a + l (1 - z)",
                lambda lo, up: _big_m_rows(lo, up, last=_plus_l)),
        Mistake("the last row is h <= a - l (1 - z), i.e. h - a - l z <= -l: with z = 1 it "
                "must give h <= a; you wrote h <= a - l z",
                lambda lo, up: _big_m_rows(lo, up, last=_no_one_minus_z)),
        Mistake("the slack in h <= a - l (1 - z) uses the LOWER bound l (how far below 0 a can "
                "go when the unit is off), not u", lambda lo, up: _big_m_rows(lo, up,
                                                                              last=_u_for_l)),
    ),
)

CERTIFY_EXERCISES = [INTERVAL_AFFINE_RELU, BIG_M_RELU]
