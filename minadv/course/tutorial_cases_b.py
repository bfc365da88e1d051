"""Cases and known mistakes of the exercises of tutorials 05-09.

* Tutorial 05 ``vat_kl_backward`` — VAT's KL on logits and its gradient ``q - p``;
* Tutorial 06 ``pgd_inner_max`` — the L∞ inner loop of PGD adversarial training;
* Tutorial 07 ``robust_accuracy_curve`` — the cumulative worst case along an eps grid;
* Tutorial 08 ``filter_normalized_direction`` — Li et al.'s filter normalisation;
* Tutorial 09 ``generator_loss_and_grads`` — the GAN generator step through ``D``'s input
  gradient.

Adversarial cases: logits at ``±40`` and ``±1000`` in both directions (probabilities that
underflow to exactly 0), zero gradient entries and zero gradient rows, one-sided boxes, empty
batches, zero filters, ReLU pre-activations exactly at the kink, float32.  The one callable
input (``pgd_inner_max``'s gradient) is a :class:`~minadv.course.attack_cases.MatrixProduct`,
the gradient ``H_i x_i`` of a quadratic loss, never a closure: a case is made of arrays only.
"""

from __future__ import annotations

import numpy as np

from ..numerics import log_softmax
from . import references as ref
from .attack_cases import MatrixProduct
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["TUTORIAL_B_EXERCISES", "TUTORIAL_OF"]

#: The tutorial file (in ``tutorials/``) that poses each exercise of this module.
TUTORIAL_OF = {
    "vat_kl_backward": "05_virtual_adversarial_training.py",
    "pgd_inner_max": "06_adversarial_training_mlp.py",
    "robust_accuracy_curve": "07_adversarial_examples_digits.py",
    "filter_normalized_direction": "08_loss_landscapes.py",
    "generator_loss_and_grads": "09_gan_ring_of_gaussians.py",
}




# ----------------------------------------------------------------------------- 05 VAT KL
def _kl_case(name, gen, n, C, *, scale=1.0, shift=0.5, dtype=np.float64):
    z_ref = scale * gen.standard_normal((n, C))
    z = z_ref + shift * scale * gen.standard_normal((n, C))
    return CaseSpec(name, (z_ref.astype(dtype), z.astype(dtype)), n=n)


def _kl_cases(gen):
    same = _kl_case("a zero-perturbation row (KL = 0, dz = 0)", gen, 4, 3)
    z_ref, z = same.args
    z[1] = z_ref[1]
    flip = np.array([[40.0, -40.0, 0.0], [-40.0, 40.0, 0.0], [0.0, 40.0, -40.0]])
    huge = np.array([[1e3, 0.0, -1e3], [-1e3, 0.0, 1e3], [0.0, 1e3, -1e3]])
    return [
        _kl_case("random float64 n=5, C=4", gen, 5, 4),
        same,
        CaseSpec("saturated logits ±40, flipped predictions", (flip, -flip[:, ::-1].copy()), n=3),
        CaseSpec("logits ±1e3: probabilities underflow to 0", (huge, huge[::-1].copy()), n=3),
        CaseSpec("confident clean, perturbed in both directions",
                 (np.array([[1e3, -1e3], [-1e3, 1e3], [30.0, -30.0]]),
                  np.array([[1e3 - 5, -1e3 + 5], [-1e3 + 5, 1e3 - 5], [-30.0, 30.0]])), n=3),
        _kl_case("float32 n=4, C=5", gen, 4, 5, dtype=np.float32),
        _kl_case("one row, two classes", gen, 1, 2, scale=3.0),
    ]


def _kl_parts(z_ref, z, *, reverse=False, sign=1.0, per_n=False):
    log_p, log_q = log_softmax(z_ref), log_softmax(z)
    p, q = np.exp(log_p), np.exp(log_q)
    kl = np.sum(q * (log_q - log_p), axis=1) if reverse else np.sum(p * (log_p - log_q), axis=1)
    dz = sign * (q - p)
    if per_n:
        kl, dz = kl / z.shape[0], dz / z.shape[0]
    return kl, dz


VAT_KL = Exercise(
    name="vat_kl_backward",
    summary="(tutorial 05) VAT's KL(softmax(z_ref) ‖ softmax(z)) per row and its gradient q - p",
    reference=ref.vat_kl_backward,
    make_cases=_kl_cases,
    outputs=("kl", "dz"),
    overflow_hint=("compute log p and log q with a stable log-softmax (z - max - log Σ exp(z - "
                   "max)), not log(softmax(z)): a probability that underflows to 0 makes "
                   "0 · log 0 = NaN, and exp(1000) overflows"),
    mistakes=(
        Mistake("∂KL/∂z = q - p = softmax(z) - softmax(z_ref): you returned p - q",
                lambda zr, z: _kl_parts(zr, z, sign=-1.0)),
        Mistake("KL(p ‖ q) weights the log-ratio by the CLEAN probabilities p = softmax(z_ref): "
                "you computed KL(q ‖ p)", lambda zr, z: _kl_parts(zr, z, reverse=True)),
        Mistake("per sample: KL_i and dz_i are not divided by n (VAT averages over the batch "
                "later)", lambda zr, z: _kl_parts(zr, z, per_n=True)),
    ),
    nan_hint=("NaN: compute log p and log q with a stable log-softmax; log(softmax(z)) is log 0 = "
              "-inf where a probability underflows, and 0 · (-inf) is NaN"),
    tutorial=TUTORIAL_OF["vat_kl_backward"],
    task="VAT's KL(softmax(z_ref) ‖ softmax(z)) per row and its logit gradient q - p",
    forbidden=("scipy.special.softmax", "scipy.special.log_softmax", "scipy.special.rel_entr",
               "scipy.special.kl_div", "scipy.stats.entropy"),
)


# ----------------------------------------------------------------------------- 06 PGD inner loop
def _symmetric(gen, n, d):
    A = gen.standard_normal((n, d, d))
    return (A + np.transpose(A, (0, 2, 1))) / 2                    # (n, d, d), indefinite


def _pgd_loop_case(name, gen, *, n=6, d=5, eps=0.3, box=(0.0, 1.0), n_steps=5,
                   dtype=np.float64, zero_feature=False, zero_rows=False, start="uniform",
                   edges=False):
    """The loss ``ℓ_i(x) = ½ xᵀ H_i x`` with a symmetric indefinite ``H_i`` per row: its input
    gradient ``H_i x`` is a :class:`MatrixProduct`, and its sign pattern changes as ``x``
    moves."""
    H = _symmetric(gen, n, d)
    if zero_feature:
        H[:, 1, :] = 0.0                               # feature 1: zero gradient everywhere
    if zero_rows:
        H[: max(n // 2, 1)] = 0.0                      # rows with a zero gradient
    X = gen.random((n, d))
    if edges:
        X = np.round(X)                                # on the box edges
    delta0 = {"uniform": gen.uniform(-eps, eps, (n, d)), "zero": np.zeros((n, d)),
              "outside": gen.uniform(-3 * eps, 3 * eps, (n, d))}[start]
    return CaseSpec(name, (MatrixProduct(H), X.astype(dtype), delta0.astype(dtype)),
                    {"eps": eps, "step_size": eps / 3, "n_steps": n_steps,
                     "clip_min": box[0], "clip_max": box[1]})


def _pgd_loop_cases(gen):
    return [
        _pgd_loop_case("random, box [0, 1], 5 steps", gen),
        _pgd_loop_case("a feature with zero gradient (sign(0) = 0)", gen, start="zero",
                       zero_feature=True),
        _pgd_loop_case("zero gradient rows", gen, start="zero", zero_rows=True),
        _pgd_loop_case("points on the box edges", gen, edges=True, eps=0.4),
        _pgd_loop_case("one-sided box: clip_min only", gen, box=(0.0, None), eps=0.5),
        _pgd_loop_case("one-sided box: clip_max only", gen, box=(None, 1.0), eps=0.5),
        _pgd_loop_case("start outside the ball, n_steps = 0", gen, start="outside",
                       n_steps=0, box=(None, None)),
        _pgd_loop_case("float32, 4 steps", gen, dtype=np.float32, n_steps=4),
        _pgd_loop_case("empty batch (n = 0)", gen, n=0),
    ]


def _pgd_loop_parts(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None,
                   clip_max=None, *, ascent=True, ball=True, around_x=True, sign0=False,
                   project_start=True, grad_at_clean=False, extra=0):
    """The stub's iteration with switches that plant the usual mistakes."""
    def box(Z):
        return Z if clip_min is None and clip_max is None else np.clip(Z, clip_min, clip_max)

    X_adv = box(X + (np.clip(delta0, -eps, eps) if project_start else delta0))
    for _ in range(n_steps + extra):
        g = input_grad(X if grad_at_clean else X_adv)
        s = np.where(g >= 0, 1.0, -1.0).astype(X.dtype) if sign0 else np.sign(g)
        X_adv = X_adv + (step_size if ascent else -step_size) * s
        if ball:
            X_adv = X + np.clip(X_adv - X, -eps, eps) if around_x else np.clip(X_adv, -eps, eps)
        X_adv = box(X_adv)
    return X_adv


def _loop_mistake(**switches):
    def fn(*args, **kwargs):
        return _pgd_loop_parts(*args, **kwargs, **switches)
    return fn


PGD_INNER = Exercise(
    name="pgd_inner_max",
    summary="(tutorial 06) PGD training's inner loop: n_steps L∞ ascent steps, ball, box",
    reference=ref.pgd_inner_max,
    make_cases=_pgd_loop_cases,
    outputs=("X_adv",),
    overflow_hint="inf/nan: the step is step_size · sign(g); no division is needed",
    mistakes=(
        Mistake("a coordinate with zero gradient does not move: use np.sign(g) (sign(0) = 0), "
                "not np.where(g >= 0, 1, -1)", _loop_mistake(sign0=True)),
        Mistake("evaluate the gradient at the current iterate x_t, not at the clean X",
                _loop_mistake(grad_at_clean=True)),
        Mistake("PGD ascends the loss: x + step_size · sign(g), not x - step_size · sign(g)",
                _loop_mistake(ascent=False)),
        Mistake("clip the perturbation x - X to [-eps, eps] and add X back (you clipped x "
                "itself)", _loop_mistake(around_x=False)),
        Mistake("after every step, project back onto the eps-ball around X (clip x - X to "
                "[-eps, eps])", _loop_mistake(ball=False)),
        Mistake("project the start too: x_0 = clip_box(X + clip(delta0, -eps, eps))",
                _loop_mistake(project_start=False)),
        Mistake("take exactly n_steps steps (you took one more)", _loop_mistake(extra=1)),
    ),
    nan_hint="nan: the step is step_size · sign(g); no division is needed",
    tutorial=TUTORIAL_OF["pgd_inner_max"],
    task=("PGD training's inner loop: n_steps L∞ sign-gradient steps, each projected onto the "
          "eps-ball and the box"),
)


# ----------------------------------------------------------------------------- 07 robust curve
def _curve_case(name, gen, n, k, *, p_ok=0.7, C=10):
    y = gen.integers(0, C, size=n)
    wrong = (y[:, None] + gen.integers(1, C, size=(n, k + 1))) % C
    pred = np.where(gen.random((n, k + 1)) < p_ok, y[:, None], wrong)
    return CaseSpec(name, (y, pred), n=n)


def _curve_cases(gen):
    y = np.array([0, 1, 2, 3, 4])
    pred_fixed = np.array([[0, 0, 9, 0],     # fooled at eps_2 only: not robust at eps_3
                           [1, 1, 1, 1],     # robust everywhere
                           [7, 2, 2, 2],     # wrong clean, "fixed" by the attack: never robust
                           [3, 8, 8, 3],
                           [4, 4, 4, 0]])
    y_bad = np.array([3, 7, 7])
    return [
        _curve_case("random predictions n=40, k=4", gen, 40, 4),
        CaseSpec("fooled at a small eps, 'robust' at a larger one", (y, pred_fixed), n=5),
        CaseSpec("no point correct clean (success rate 0, not 0/0)",
                 (y_bad, np.array([[7, 7, 3], [3, 7, 3], [3, 3, 7]])), n=3),
        CaseSpec("every point robust", (y, np.repeat(y[:, None], 4, axis=1)), n=5),
        CaseSpec("one point, one radius", (np.array([2]), np.array([[2, 5]])), n=1),
        _curve_case("mostly fooled n=30, k=6", gen, 30, 6, p_ok=0.35),
    ]


def curve_parts(y, pred, *, cumulative=True, with_clean=True, per_clean=True):
    """The reference summary with switches that plant the usual mistakes."""
    correct = pred == y[:, None]
    clean = correct[:, 0]
    if cumulative and with_clean:
        robust = np.logical_and.accumulate(correct, axis=1)[:, 1:]
    elif cumulative:
        robust = np.logical_and.accumulate(correct[:, 1:], axis=1)
    else:
        robust = correct[:, 1:]
    fooled = (clean[:, None] & ~robust).sum(axis=0)
    denom = clean.sum() if per_clean else len(y)
    success = fooled / denom if denom else np.zeros(robust.shape[1])
    return robust.mean(axis=0), np.asarray(success, dtype=np.float64)


ROBUST_CURVE = Exercise(
    name="robust_accuracy_curve",
    summary="(tutorial 07) cumulative robust accuracy and attack success along an eps grid",
    reference=ref.robust_accuracy_curve,
    make_cases=_curve_cases,
    outputs=("accuracy", "success_rate"),
    overflow_hint=("no point is classified correctly clean: the success rate is 0 there "
                   "(guard the division by their number)"),
    mistakes=(
        Mistake("a point is robust at eps_j only if it survives EVERY attack at radii <= eps_j: "
                "accumulate along the grid (np.logical_and.accumulate(..., axis=1))",
                lambda y, pred: curve_parts(y, pred, cumulative=False)),
        Mistake("include the clean column in the running 'and': a point misclassified without "
                "attack is not robust", lambda y, pred: curve_parts(y, pred, with_clean=False)),
        Mistake("the success rate is a fraction of the points classified correctly clean: "
                "divide by their number, not by n",
                lambda y, pred: curve_parts(y, pred, per_clean=False)),
    ),
    nan_hint=("no point is classified correctly clean: the success rate is 0 there (guard the "
              "division by their number)"),
    tutorial=TUTORIAL_OF["robust_accuracy_curve"],
    task="robust accuracy (cumulative worst case) and attack success along an eps grid",
)


# ----------------------------------------------------------------------------- 08 filter norm
def _mlp_params(gen, sizes, dtype=np.float64, scales=None):
    params = {}
    for l in range(1, len(sizes)):
        W = gen.standard_normal((sizes[l - 1], sizes[l])) / np.sqrt(sizes[l - 1])
        if scales is not None:
            W = W * scales[: sizes[l]]
        params[f"W{l}"] = W.astype(dtype)
        params[f"b{l}"] = (0.1 * gen.standard_normal(sizes[l])).astype(dtype)
    return params


def _direction(gen, params):
    return {k: gen.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}


def _filter_case(name, gen, sizes, *, dtype=np.float64, scales=None, dead=False,
                 zero_d=False):
    params = _mlp_params(gen, sizes, dtype, scales)
    d = _direction(gen, params)
    if dead:
        params["W1"][:, 0] = 0.0                       # a dead unit: its filter has norm 0
    if zero_d:
        d["W2"][:, 1] = 0.0                            # a zero filter of the direction
    return CaseSpec(name, (params, d))


def _filter_cases(gen):
    logistic = {"w": gen.standard_normal(4), "b": np.array(0.3)}
    return [
        _filter_case("MLP 4-5-3 float64", gen, [4, 5, 3]),
        _filter_case("MLP 3-6-4-2 (three layers)", gen, [3, 6, 4, 2]),
        _filter_case("float32 MLP 5-4-3", gen, [5, 4, 3], dtype=np.float32),
        _filter_case("a dead unit (zero filter of θ)", gen, [4, 5, 3], dead=True),
        _filter_case("a zero filter of d (no 0/0)", gen, [4, 5, 3], zero_d=True),
        _filter_case("filters of scales 1e-3 … 1e3", gen, [3, 7, 2],
                     scales=10.0 ** np.linspace(-3, 3, 7)),
        CaseSpec("logistic regression {w: (d,), b: ()}",
                 (logistic, {"w": gen.standard_normal(4), "b": np.array(-1.2)})),
    ]


def filter_parts(params, d, *, axis="filter", keep_bias=False, inverted=False):
    """Filter normalisation with switches that plant the usual mistakes."""
    weights = [k for k, v in params.items() if np.ndim(v) >= 2] or [
        k for k, v in params.items() if np.ndim(v) == 1]
    out = {}
    for k, theta in params.items():
        if k not in weights:
            out[k] = d[k].copy() if keep_bias else np.zeros_like(d[k])
            continue
        if axis == "layer" or theta.ndim == 1:
            tn, dn = np.linalg.norm(theta), np.linalg.norm(d[k])
        else:
            ax = 0 if axis == "filter" else 1
            keep = axis == "row"
            tn = np.sqrt(np.sum(theta * theta, axis=ax, keepdims=keep))
            dn = np.sqrt(np.sum(d[k] * d[k], axis=ax, keepdims=keep))
        out[k] = d[k] * (dn / (tn + 1e-10) if inverted else tn / (dn + 1e-10))
    return out


FILTER_NORM = Exercise(
    name="filter_normalized_direction",
    summary="(tutorial 08) Li et al.'s filter normalisation of a direction in weight space",
    reference=ref.filter_normalized_direction,
    make_cases=_filter_cases,
    outputs=("direction",),
    overflow_hint=("a zero filter of d gives 0/0: divide by (‖d_j‖ + 1e-10), as in the "
                   "formula"),
    mistakes=(
        Mistake("a filter is a COLUMN W[:, j] (one per output unit): reduce over axis 0, not "
                "over the rows", lambda p, d: filter_parts(p, d, axis="row")),
        Mistake("normalise each filter (column) separately, not the whole weight matrix at once "
                "(that is layer normalisation)", lambda p, d: filter_parts(p, d, axis="layer")),
        Mistake("the biases get the direction 0 (Li et al. ignore them)",
                lambda p, d: filter_parts(p, d, keep_bias=True)),
        Mistake("scale by ‖θ_j‖ / ‖d_j‖ (the filter of d gets the norm of θ's filter), not the "
                "inverse", lambda p, d: filter_parts(p, d, inverted=True)),
    ),
    nan_hint=("a zero filter of d gives 0/0: divide by (‖d_j‖ + 1e-10), as in the formula"),
    tutorial=TUTORIAL_OF["filter_normalized_direction"],
    task="Li et al.'s filter normalisation of a direction in weight space",
)


# ----------------------------------------------------------------------------- 09 GAN generator
def _relu_forward(p, h, act_out=False):
    """``([h_0 … h_L], [a_1 … a_L])`` of a ReLU MLP dict (last layer affine unless
    ``act_out``)."""
    L, hs, pre = len(p) // 2, [h], []
    for l in range(1, L + 1):
        a = hs[-1] @ p[f"W{l}"] + p[f"b{l}"]
        pre.append(a)
        hs.append(np.maximum(a, 0) if (l < L or act_out) else a)
    return hs, pre


def _gan_draw(gen, n, g_sizes, d_sizes, logit_scale):
    """Draw ``(pG, pD, z)``; with a ``logit_scale``, redraw until D rates some fakes "real" and
    some "fake", then rescale D's last layer so that its largest margin ``|s_1 - s_0|`` is
    ``logit_scale`` (a saturated case then has O(1) gradient rows and exponentially small
    ones, in both directions)."""
    for _ in range(100):
        pG, pD = _mlp_params(gen, list(g_sizes)), _mlp_params(gen, list(d_sizes))
        z = gen.standard_normal((n, g_sizes[0]))
        if logit_scale is None:
            return pG, pD, z
        s = _relu_forward(pD, _relu_forward(pG, z)[0][-1])[0][-1]            # (n, 2)
        margin = s[:, 1] - s[:, 0]
        if margin.max() > 0 > margin.min():
            L = len(d_sizes) - 1
            factor = logit_scale / np.max(np.abs(margin))
            pD[f"W{L}"], pD[f"b{L}"] = pD[f"W{L}"] * factor, pD[f"b{L}"] * factor
            return pG, pD, z
    raise RuntimeError("no case with both signs in 100 draws")   # pragma: no cover


def _gan_case(name, gen, n, *, g_sizes=(2, 6, 5, 2), d_sizes=(2, 7, 4, 2), dtype=np.float64,
              logit_scale=None, zero_rows=False):
    pG, pD, z = _gan_draw(gen, n, g_sizes, d_sizes, logit_scale)
    if zero_rows:
        pG["b1"][:] = 0.0
        z[: n // 2] = 0.0                              # a_1 = 0 exactly: ReLU at its kink
    cast = lambda p: {k: v.astype(dtype) for k, v in p.items()}   # noqa: E731
    return CaseSpec(name, (cast(pG), cast(pD), z.astype(dtype)), n=n)


def _gan_cases(gen):
    return [
        _gan_case("random float64, G 2-6-5-2, D 2-7-4-2", gen, 8),
        _gan_case("G with one hidden layer, D with three", gen, 6, g_sizes=(3, 8, 2),
                  d_sizes=(2, 5, 5, 4, 2)),
        _gan_case("float32", gen, 6, dtype=np.float32),
        _gan_case("D saturated both ways, logits ~±40", gen, 10, logit_scale=40.0),
        _gan_case("D saturated both ways, logits ~±1e3", gen, 8, logit_scale=1e3),
        _gan_case("zero latent rows: ReLU exactly at the kink", gen, 6, zero_rows=True),
        _gan_case("one sample", gen, 1),
    ]


def gan_parts(pG, pD, z, *, label=1, mean=True, relu_out=False, kink=False):
    """The stub's forward and backward with switches that plant the usual mistakes."""
    def backward(p, hs, pre, delta, act_out):
        L, grads = len(p) // 2, {}
        for l in range(L, 0, -1):
            if l < L or act_out:
                delta = delta * ((pre[l - 1] >= 0) if kink else (pre[l - 1] > 0))
            grads[f"W{l}"], grads[f"b{l}"] = hs[l - 1].T @ delta, delta.sum(axis=0)
            delta = delta @ p[f"W{l}"].T
        return grads, delta

    n = z.shape[0]
    hg, preg = _relu_forward(pG, z, relu_out)
    hd, pred = _relu_forward(pD, hg[-1])
    log_p = log_softmax(hd[-1])
    loss = float(-np.mean(log_p[:, label]))
    ds = np.exp(log_p)
    ds[:, label] -= 1
    ds = ds / n if mean else ds
    _, dx = backward(pD, hd, pred, ds, False)
    grads, _ = backward(pG, hg, preg, dx, relu_out)
    return loss, {k: grads[k] for k in pG}, dx


GAN_GENERATOR = Exercise(
    name="generator_loss_and_grads",
    summary="(tutorial 09) non-saturating GAN generator loss, G's gradients through D's input "
            "gradient",
    reference=ref.generator_loss_and_grads,
    make_cases=_gan_cases,
    outputs=("loss", "grads", "dx"),
    overflow_hint=("overflow at large discriminator logits: compute -log softmax(s)_1 with a "
                   "stable log-softmax (subtract the row max)"),
    mistakes=(
        Mistake("the generator wants D to say 'real': its loss is -log softmax(s)_1 (label 1), "
                "you used the label 'fake' (0)", lambda *a: gan_parts(*a, label=0)),
        Mistake("G's last layer is affine: its outputs are the samples (no ReLU on them)",
                lambda *a: gan_parts(*a, relu_out=True)),
        Mistake("relu'(a) = 1[a > 0]: 0 at the kink a = 0 (you used a >= 0)",
                lambda *a: gan_parts(*a, kink=True)),
        Mistake("L_G is the mean over the n samples: ds = (softmax(s) - e_1) / n",
                lambda *a: gan_parts(*a, mean=False)),
    ),
    nan_hint=("nan: compute -log softmax(s)_1 with a stable log-softmax (exp of huge logits gives "
              "inf / inf)"),
    tutorial=TUTORIAL_OF["generator_loss_and_grads"],
    task="the non-saturating GAN generator loss and G's gradients through D's input gradient",
)

TUTORIAL_B_EXERCISES = [VAT_KL, PGD_INNER, ROBUST_CURVE, FILTER_NORM, GAN_GENERATOR]
