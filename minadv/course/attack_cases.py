"""Cases and known mistakes of the attack exercises: steepest ascent, L2-ball projection, one
PGD step, VAT's power iteration.

Adversarial cases: L1 ties, zero rows, huge (``1e200``) and tiny (``1e-200``) rows, points on
the box edges with gradients pushing out of the box, float32, products that overflow without a
normalisation at every step.
"""

from __future__ import annotations

import numpy as np

from ..attacks import project_ball, project_box
from . import references as ref
from .grading import CaseSpec, Exercise, Mistake
from .runner import MatrixProduct

__all__ = ["ATTACK_EXERCISES", "MatrixProduct"]

NORMS = ((np.inf, "L∞"), (2, "L2"), (1, "L1"))


def _only(norm_value, wrong):
    """A mistake ``wrong(g, eps)`` made for one norm; the other norms are right."""
    def fn(g, eps, norm):
        return wrong(g, eps) if norm == norm_value else ref.steepest_ascent(g, eps, norm)
    return fn


# ----------------------------------------------------------------------------- steepest ascent
def _steepest_cases(gen):
    ties = np.array([[1.0, -3.0, 3.0, 0.0], [2.0, 2.0, -2.0, 1.0], [-5.0, 0.0, 5.0, -5.0]])
    zero = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    scales = np.array([[1e200, -1e200, 3e199], [1e-200, 2e-200, 0.0], [0.0, 3.0, 4.0]])
    cases = [CaseSpec(f"random float64, {label}", (gen.standard_normal((4, 6)), 0.3, norm))
             for norm, label in NORMS]
    cases += [
        CaseSpec("L1 ties (first index wins)", (ties, 0.5, 1)),
        CaseSpec("zero gradient row, L2", (zero, 1.0, 2)),
        CaseSpec("zero gradient row, L1", (zero.copy(), 1.0, 1)),
        CaseSpec("huge and tiny rows 1e±200, L2", (scales, 2.0, 2)),
        CaseSpec("float32, L∞", (gen.standard_normal((3, 4)).astype(np.float32), 0.1, np.inf)),
        CaseSpec("float32, L2", (gen.standard_normal((3, 4)).astype(np.float32), 0.5, 2)),
        CaseSpec("float32, L1", (gen.standard_normal((3, 4)).astype(np.float32), 0.5, 1)),
        CaseSpec("zero gradient entries and a zero row, L∞", (_with_zeros(gen), 0.25, np.inf)),
        CaseSpec("zero gradient entries and a zero row, float32 L∞",
                 (_with_zeros(gen).astype(np.float32), 0.25, np.inf)),
    ]
    return cases


def _with_zeros(gen, n=4, d=6):
    """Gradients with exact zeros: about a third of the entries, and the whole row 1."""
    g = gen.standard_normal((n, d))
    g[gen.random((n, d)) < 0.35] = 0.0
    g[1] = 0.0
    g[0, 0] = 0.0                                    # at least one zero entry in a nonzero row
    return g


def _l1_last_index(g, eps):
    a = np.abs(g)[:, ::-1]
    j = g.shape[1] - 1 - np.argmax(a, axis=1)
    delta = np.zeros_like(g)
    rows = np.arange(g.shape[0])
    delta[rows, j] = eps * np.sign(g[rows, j])
    return delta


def _l1_signed_argmax(g, eps):
    j = np.argmax(g, axis=1)
    delta = np.zeros_like(g)
    rows = np.arange(g.shape[0])
    delta[rows, j] = eps * np.sign(g[rows, j])
    return delta


def _l2_global_norm(g, eps):
    return eps * g / np.linalg.norm(g)


def _linf_where(g, eps):
    return np.where(g >= 0, eps, -eps).astype(g.dtype)


def _linf_scaled(g, eps):
    return eps * g / np.max(np.abs(g), axis=1, keepdims=True)


STEEPEST = Exercise(
    name="steepest_ascent",
    summary="maximiser of <g, δ> over the L∞/L2/L1 ball of radius eps, per row",
    reference=ref.steepest_ascent,
    make_cases=_steepest_cases,
    outputs=("delta",),
    overflow_hint=("zero rows must give δ = 0 (guard the division by ||g||), and huge or tiny "
                   "rows need the norm of g / max|g| times max|g| (sqrt(Σ g²) over/underflows)"),
    mistakes=(
        Mistake("L1 ties: take the FIRST index of max |g_i| (np.argmax), not the last",
                _only(1, _l1_last_index)),
        Mistake("L1: pick j = argmax |g_i| (absolute value), then move by eps sign(g_j)",
                _only(1, _l1_signed_argmax)),
        Mistake("L2: one norm per row (axis=1, keepdims=True), not the norm of the whole array",
                _only(2, _l2_global_norm)),
        Mistake("L∞: every coordinate moves by ±eps: δ = eps sign(g)", _only(np.inf, _linf_scaled)),
        Mistake("L∞: a coordinate with zero gradient does not move (np.sign(0) = 0); "
                "np.where(g >= 0, eps, -eps) moves it", _only(np.inf, _linf_where)),
    ),
    nan_hint=("nan from 0/0: a zero row (g_i = 0) must give δ_i = 0: guard the division by "
              "||g_i|| (e.g. np.divide(..., where=norm > 0))"),
    tutorial="02_attacks_linear_models.py",
    task="maximiser of <g, δ> over the L∞/L2/L1 ball of radius eps, row by row",
)


# ----------------------------------------------------------------------------- L2 projection
def _project_cases(gen):
    rows = gen.standard_normal((5, 4)) * np.array([0.1, 0.4, 1.0, 2.0, 5.0])[:, None]
    return [
        CaseSpec("rows inside and outside, eps=1", (rows, 1.0)),
        CaseSpec("rows on the sphere", (np.array([[0.6, 0.8], [0.0, -1.0], [3.0, 4.0]]), 1.0)),
        CaseSpec("zero row", (np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]), 2.0)),
        CaseSpec("huge rows 1e200", (np.array([[1e200, 1e200], [-3e200, 4e200]]), 1.0)),
        CaseSpec("float32", ((gen.standard_normal((4, 3)) * 2).astype(np.float32), 1.5)),
        CaseSpec("eps = 0", (gen.standard_normal((2, 3)), 0.0)),
        CaseSpec("eps = 0 with a zero row", (np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]), 0.0)),
    ]


def _project_all_rows(delta, eps):
    return eps * delta / np.linalg.norm(delta, axis=1, keepdims=True)


def _project_global(delta, eps):
    return delta * min(1.0, eps / np.linalg.norm(delta))


PROJECT_L2 = Exercise(
    name="project_l2_ball",
    summary="Euclidean projection of each row onto the L2 ball of radius eps",
    reference=ref.project_l2_ball,
    make_cases=_project_cases,
    outputs=("delta",),
    overflow_hint=("a zero row stays zero (guard the division), and rows with huge entries "
                   "need the norm of delta / max|delta| times max|delta|"),
    mistakes=(
        Mistake("only rows OUTSIDE the ball move: δ min(1, eps/||δ||); rows inside stay as they are",
                _project_all_rows),
        Mistake("one norm per row (axis=1), not the norm of the whole array", _project_global),
        Mistake("clipping every entry to [-eps, eps] is the L∞ projection: rescale the row",
                lambda delta, eps: np.clip(delta, -eps, eps)),
    ),
    nan_hint=("nan from 0/0: a zero row stays zero, also for eps = 0 (eps / ||δ|| is 0/0 "
              "there): only rows with ||δ_i|| > eps are rescaled"),
    tutorial="06_adversarial_training_mlp.py",
    task="Euclidean projection of each row onto the L2 ball of radius eps",
)


# ----------------------------------------------------------------------------- PGD step
def _pgd_case(name, gen, norm, *, n=4, d=5, eps=0.3, box=(0.0, 1.0), dtype=np.float64,
              edges=False):
    x0 = gen.random((n, d))
    if edges:                                        # clean points on the box edges,
        x0 = np.round(x0)                            # gradients pushing outwards on half of them
    start = ref.project_l2_ball(gen.standard_normal((n, d)) * eps, eps) if norm == 2 else (
        project_ball(gen.standard_normal((n, d)) * eps / 2, eps, norm))
    x = project_box(x0 + start, *box) if box != (None, None) else x0 + start
    g = gen.standard_normal((n, d))
    if edges:
        g = np.where(gen.random((n, d)) < 0.5, np.where(x0 > 0.5, 1.0, -1.0) * np.abs(g), g)
    x0, x, g = (a.astype(dtype) for a in (x0, x, g))
    return CaseSpec(name, (x, x0, g), {"step_size": 0.8 * eps, "eps": eps, "norm": norm,
                                       "clip_min": box[0], "clip_max": box[1]})


def _pgd_cases(gen):
    cases = [_pgd_case(f"random, box [0, 1], {label}", gen, norm) for norm, label in NORMS]
    cases += [
        _pgd_case("points on the box edges, L∞", gen, np.inf, edges=True),
        _pgd_case("points on the box edges, L2", gen, 2, edges=True, eps=0.8),
        _pgd_case("points on the box edges, L1", gen, 1, edges=True, eps=1.0),
        _pgd_case("no box (None, None), L2", gen, 2, box=(None, None)),
        _pgd_case("float32, L∞", gen, np.inf, dtype=np.float32),
        _pgd_case("float32, L2", gen, 2, dtype=np.float32, eps=0.5),
        _pgd_zero_gradient(gen),
        _pgd_one_sided(gen, "min"),
        _pgd_one_sided(gen, "max"),
    ]
    return cases


def _pgd_zero_gradient(gen, n=4, d=6, eps=0.3):
    """L∞ from the centre x = x0 (inside the box, far from its edges) with zero gradient
    entries and a zero row: a zero-gradient coordinate must not move."""
    x0 = 0.3 + 0.4 * gen.random((n, d))
    return CaseSpec("zero gradient entries and a zero row, L∞",
                    (x0.copy(), x0, _with_zeros(gen, n, d)),
                    {"step_size": 0.8 * eps, "eps": eps, "norm": np.inf, "clip_min": 0.0,
                     "clip_max": 1.0})


def _pgd_one_sided(gen, side, n=4, d=5, eps=0.3):
    """A box bounded on one side only, clean points near that bound and gradients pushing
    through it: the one given bound must clip."""
    near = 0.1 * gen.random((n, d))                               # distance to the bound
    g = gen.standard_normal((n, d))
    if side == "min":
        x0, g, box = near, -np.abs(g), (0.0, None)
    else:
        x0, g, box = 1.0 - near, np.abs(g), (None, 1.0)
    return CaseSpec(f"box with clip_{side} only, L∞", (x0.copy(), x0, g),
                    {"step_size": 0.8 * eps, "eps": eps, "norm": np.inf, "clip_min": box[0],
                     "clip_max": box[1]})


def _pgd_mistake(order):
    """One PGD step with its parts in a wrong ``order`` (a string of step names)."""
    def fn(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
        parts = {
            "ascent": lambda z: z + ref.steepest_ascent(g, step_size, norm),
            "ascent_where": lambda z: z + (_linf_where(g, step_size) if norm == np.inf
                                           else ref.steepest_ascent(g, step_size, norm)),
            "descent": lambda z: z - ref.steepest_ascent(g, step_size, norm),
            "eps_step": lambda z: z + ref.steepest_ascent(g, eps, norm),
            "ball": lambda z: x0 + project_ball(z - x0, eps, norm),
            "ball_at_0": lambda z: project_ball(z, eps, norm),
            "box": lambda z: project_box(z, clip_min, clip_max),
        }
        for step in order.split():
            x = parts[step](x)
        return x
    return fn


def _pgd_both_or_nothing(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    """Mistake: the box is applied only when both bounds are given."""
    x_new = _pgd_mistake("ascent ball")(x, x0, g, step_size, eps, norm)
    return x_new if clip_min is None or clip_max is None else project_box(x_new, clip_min,
                                                                          clip_max)


PGD_STEP = Exercise(
    name="pgd_step",
    summary="one PGD step: ascent, projection onto the eps-ball around x0, clip to the box",
    reference=ref.pgd_step,
    make_cases=_pgd_cases,
    outputs=("x_new",),
    overflow_hint="inf/nan: a zero gradient row must give a zero step (see steepest_ascent)",
    mistakes=(
        Mistake("order: project onto the eps-ball around x0 FIRST, then clip to the box (you "
                "clipped first)", _pgd_mistake("ascent box ball")),
        Mistake("project the perturbation x' - x0 onto the ball and add x0 back (you projected "
                "x' itself)", _pgd_mistake("ascent ball_at_0 box")),
        Mistake("PGD ascends the loss: x + step, not x - step", _pgd_mistake("descent ball box")),
        Mistake("the step has length step_size, not eps", _pgd_mistake("eps_step ball box")),
        Mistake("a box given on one side only still clips that side (np.clip(x, clip_min, "
                "None) works; `if clip_min is not None and clip_max is not None` skips it)",
                _pgd_both_or_nothing),
        Mistake("clip to the box [clip_min, clip_max] last", _pgd_mistake("ascent ball")),
        Mistake("project back onto the eps-ball around x0 after the step",
                _pgd_mistake("ascent box")),
        Mistake("L∞: a coordinate with zero gradient does not move (np.sign(0) = 0); "
                "np.where(g >= 0, step, -step) moves it", _pgd_mistake("ascent_where ball box")),
    ),
    nan_hint="nan from 0/0: a zero gradient row must give a zero step (see steepest_ascent)",
    tutorial="07_adversarial_examples_digits.py",
    task="one PGD step: ascent, projection onto the eps-ball around x0, clip to the box",
    allowed=("minadv.attacks.project_ball",),
)


# ----------------------------------------------------------------------------- power iteration
def _psd(gen, n, D, scale=1.0):
    A = gen.standard_normal((n, D, D))
    return scale * np.einsum("nij,nkj->nik", A, A) / D           # (n, D, D) PSD


def _fisher_case(gen):
    from ..models import MLP

    net = MLP([4, 6, 3], activation="tanh")
    params = net.init_params(rng=gen)
    X = gen.standard_normal((3, 4))
    return MatrixProduct(np.stack([_dense(lambda R: net.input_fisher_product(params, X, R), 3, 4, i)
                                   for i in range(3)]))


def _dense(product, n, D, i):
    """The matrix of sample ``i``'s product (columns: products of unit vectors in row i)."""
    cols = []
    for j in range(D):
        R = np.zeros((n, D))
        R[i, j] = 1.0
        cols.append(product(R)[i])
    return np.stack(cols, axis=1)


def _power_cases(gen):
    # Row 0: H = 9 [[1, 1], [1, 1]] ⊕ 0 and d ∝ (1, -1, 0, 0): H d is exactly 0 in floating
    # point for any summation order (x + (-x) = 0 exactly, the unit row has two entries of
    # the same magnitude), so the answer is unambiguous: the row stays zero.  Row 1: d = 0.
    a = np.array([3.0, 3.0, 0.0, 0.0])
    rank_one = np.stack([np.outer(a, a), _psd(gen, 1, 4)[0]])
    d_orth = np.array([[5.0, -5.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    return [
        CaseSpec("random PSD, 1 iteration", (MatrixProduct(_psd(gen, 3, 5)),
                                             gen.standard_normal((3, 5)), 1)),
        CaseSpec("random PSD, 6 iterations", (MatrixProduct(_psd(gen, 3, 5)),
                                              gen.standard_normal((3, 5)), 6)),
        CaseSpec("n_iter = 0: the normalised start", (MatrixProduct(_psd(gen, 2, 3)),
                                                      gen.standard_normal((2, 3)), 0)),
        CaseSpec("float32, 3 iterations", (MatrixProduct(_psd(gen, 2, 4)),
                                           gen.standard_normal((2, 4)).astype(np.float32), 3)),
        CaseSpec("zero start row, and H d = 0 exactly", (MatrixProduct(rank_one), d_orth, 2)),
        CaseSpec("eigenvalues ~1e100, 8 iterations", (MatrixProduct(_psd(gen, 2, 3, 1e100)),
                                                      gen.standard_normal((2, 3)), 8)),
        CaseSpec("input Fisher of a tanh MLP, 2 steps", (_fisher_case(gen),
                                                              gen.standard_normal((3, 4)), 2)),
    ]


def _power_mistake(extra=0, start=True, whole=False):
    def unit(d):
        return d / np.linalg.norm(d) if whole else ref.unit_rows(d)

    def fn(fisher_product, d, n_iter):
        d = unit(d) if start else d
        for _ in range(max(n_iter + extra, 0)):
            d = unit(fisher_product(d))
        return d
    return fn


POWER = Exercise(
    name="vat_power_iteration",
    summary="power iteration d <- H d / ||H d|| per row (VAT's direction, exact product)",
    reference=ref.vat_power_iteration,
    make_cases=_power_cases,
    outputs=("d",),
    overflow_hint=("normalise after every product (they grow like λ^k and overflow) and keep "
                   "zero rows zero (guard 0/0)"),
    mistakes=(
        Mistake("normalise the start vector: n_iter = 0 returns d / ||d|| row-wise",
                _power_mistake(start=False)),
        Mistake("normalise each row (one norm per sample), not the whole array",
                _power_mistake(whole=True)),
        Mistake("apply the product exactly n_iter times (you did one more)", _power_mistake(1)),
        Mistake("apply the product exactly n_iter times (you did one fewer)", _power_mistake(-1)),
    ),
    nan_hint=("nan: 0/0 from a zero row (a zero start, or H d = 0: guard the division, the row "
              "stays zero), or inf/inf from products that overflowed (normalise after every "
              "product)"),
    tutorial="05_virtual_adversarial_training.py",
    task="power iteration d <- H d / ||H d|| per row (VAT's direction)",
)

ATTACK_EXERCISES = [STEEPEST, PROJECT_L2, PGD_STEP, POWER]
