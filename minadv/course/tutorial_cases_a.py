"""Cases and known mistakes of the exercises new in tutorials 00-04: the affine and ReLU layer
pairs (00), the closed-form linear worst case and the L1-ball projection (02), the robust
logistic loss through the dual norm (03) and the local-entropy gradient of EntropySGD (04).

Adversarial cases: exact zeros where a derivative or a sign has a convention (``ReLU'(0)``,
``sign(0)``, zero weights, zero rows), ties, float32, saturated margins (``±1e3``), huge
weights (``1e200``), Gibbs weights that all underflow without the max-subtraction.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import references as ref
from .grading import CaseSpec, Exercise, Mistake

__all__ = ["TUTORIAL_A_EXERCISES"]

NORMS = ((np.inf, "L∞"), (2, "L2"), (1, "L1"))


# ----------------------------------------------------------------------------- affine forward
def _affine_fwd_case(name, gen, n, d, m, dtype=np.float64):
    x, W, b = gen.standard_normal((n, d)), gen.standard_normal((d, m)), gen.standard_normal(m)
    return CaseSpec(name, tuple(a.astype(dtype) for a in (x, W, b)), n=n)


def _affine_fwd_cases(gen):
    return [
        _affine_fwd_case("random float64 n=4, d=5, m=3", gen, 4, 5, 3),
        _affine_fwd_case("square n = d = m = 4", gen, 4, 4, 4),
        _affine_fwd_case("square d = m = 3, n = 5", gen, 5, 3, 3),
        _affine_fwd_case("random float32 n=3, d=2, m=5", gen, 3, 2, 5, np.float32),
        _affine_fwd_case("one row n=1, d=3, m=2", gen, 1, 3, 2),
        _affine_fwd_case("one output m=1", gen, 6, 3, 1),
    ]


AFFINE_FORWARD = Exercise(
    name="affine_forward",
    summary="forward pass of out = x W + b, with the cache (x, W, b)",
    tutorial="00_backprop_from_scratch.py",
    task="forward pass of out = x W + b, with the cache (x, W, b)",
    reference=ref.affine_forward,
    make_cases=_affine_fwd_cases,
    outputs=("out", "cache"),
    overflow_hint="inf/nan in the product: out = x @ W + b",
    mistakes=(
        Mistake("add the bias: out = x W + b (b broadcasts over the rows)",
                lambda x, W, b: (x @ W, (x, W, b))),
        Mistake("W has shape (d, m): out = x W, not x Wᵀ", lambda x, W, b: (x @ W.T + b, (x, W, b))),
        Mistake("the cache holds the inputs (x, W, b), what the backward pass needs, not out",
                lambda x, W, b: (x @ W + b, (x @ W + b, W, b))),
    ),
)


# ----------------------------------------------------------------------------- ReLU pair
def _relu_inputs(gen):
    exact = np.array([[-2.0, -0.0, 0.0, 1e-300, -1e-300], [3.0, 0.0, -1.0, 2.5, -0.5]])
    huge = np.array([[1e150, -1e150, 1e-300], [0.0, -0.0, 7.0]])
    return [
        ("random float64 (4, 5)", gen.standard_normal((4, 5))),
        ("exact zeros and ±0.0", exact),
        ("all negative", -np.abs(gen.standard_normal((3, 4))) - 0.1),
        ("random float32 (3, 4)", gen.standard_normal((3, 4)).astype(np.float32)),
        ("huge and tiny 1e150, 1e-300", huge),
        ("3-D input (2, 3, 4)", gen.standard_normal((2, 3, 4))),
    ]


def _relu_fwd_cases(gen):
    return [CaseSpec(name, (x,)) for name, x in _relu_inputs(gen)]


RELU_FORWARD = Exercise(
    name="relu_forward",
    summary="ReLU forward: out = max(x, 0), cache = x",
    tutorial="00_backprop_from_scratch.py",
    task="ReLU forward: out = max(x, 0), cache = x",
    reference=ref.relu_forward,
    make_cases=_relu_fwd_cases,
    outputs=("out", "cache"),
    overflow_hint="ReLU needs no exp: out = np.maximum(x, 0)",
    mistakes=(
        Mistake("ReLU keeps the positive part: max(x, 0), not min(x, 0)",
                lambda x: (np.minimum(x, 0), x)),
        Mistake("out is max(x, 0) itself, not the 0/1 mask [x > 0]",
                lambda x: ((x > 0).astype(x.dtype), x)),
        Mistake("the cache is the input x (relu_backward tests x > 0), not the output",
                lambda x: (np.maximum(x, 0), np.maximum(x, 0))),
    ),
)


def _relu_bwd_cases(gen):
    cases = []
    for name, x in _relu_inputs(gen):
        dout = (3 * gen.standard_normal(x.shape)).astype(x.dtype)
        cases.append(CaseSpec(name, (dout, x)))
    return cases


RELU_BACKWARD = Exercise(
    name="relu_backward",
    summary="ReLU backward: dx = dout ⊙ [x > 0]",
    tutorial="00_backprop_from_scratch.py",
    task="ReLU backward: dx = dout ⊙ [x > 0]",
    reference=ref.relu_backward,
    make_cases=_relu_bwd_cases,
    outputs=("dx",),
    overflow_hint="no arithmetic beyond a mask is needed: dx = dout * (x > 0)",
    mistakes=(
        Mistake("at x = 0 exactly the derivative is taken as 0 (the convention of every "
                "library): use x > 0, not x >= 0",
                lambda dout, x: dout * (x >= 0)),
        Mistake("multiply dout by the 0/1 mask [x > 0], not by x",
                lambda dout, x: dout * np.maximum(x, 0)),
        Mistake("the mask is on the forward input x (the cache), not on dout",
                lambda dout, x: dout * (dout > 0)),
        Mistake("the chain rule multiplies by dout: dx = dout ⊙ [x > 0]",
                lambda dout, x: (x > 0).astype(x.dtype)),
    ),
)


# ----------------------------------------------------------------------------- linear worst case
def _lwc_case(name, gen, norm, *, n=5, d=6, w=None, eps=0.3, dtype=np.float64):
    X = gen.standard_normal((n, d))
    w = gen.standard_normal(d) if w is None else np.asarray(w, dtype=np.float64)
    y = gen.integers(0, 2, size=n)
    return CaseSpec(name, (w.astype(dtype), 0.2, X.astype(dtype), y, eps, norm), n=n)


def _lwc_cases(gen):
    cases = [_lwc_case(f"random, {label}", gen, norm) for norm, label in NORMS]
    cases += [
        _lwc_case("zero weights don't move, L∞", gen, np.inf, d=5, w=[1.0, 0.0, -2.0, 0.0, 0.5]),
        _lwc_case("w = 0, L2", gen, 2, d=3, w=[0.0, 0.0, 0.0]),
        _lwc_case("w = 0, L1", gen, 1, d=3, w=[0.0, 0.0, 0.0]),
        _lwc_case("L1 ties (first index wins)", gen, 1, d=4, w=[1.0, -3.0, 3.0, -3.0]),
        _lwc_case("huge weights 1e200, L2", gen, 2, d=3, w=[1e200, -2e200, 2e200]),
        _lwc_case("float32, L∞", gen, np.inf, dtype=np.float32),
        _lwc_case("float32, L2", gen, 2, dtype=np.float32, eps=1.5),
    ]
    return cases


def _lwc(direction, *, signed=True):
    """``-eps s v`` with a planted ``direction(w) -> v``; ``signed=False`` uses 0/1 labels."""
    def fn(w, b, X, y, eps, norm):
        s = (2 * y - 1) if signed else y
        v = direction(w, norm)
        return (-eps * s[:, None] * v[None, :]).astype(X.dtype)
    return fn


def _ref_direction(w, norm):
    return ref.linear_worst_case(w, 0.0, np.zeros((1, w.size), dtype=w.dtype),
                                 np.array([0]), 1.0, norm)[0]


def _where_sign(w, norm):
    return np.where(w >= 0, 1.0, -1.0) if norm == np.inf else _ref_direction(w, norm)


def _l1_last(w, norm):
    if norm != 1:
        return _ref_direction(w, norm)
    j = w.size - 1 - int(np.argmax(np.abs(w)[::-1]))
    v = np.zeros_like(w)
    v[j] = np.sign(w[j])
    return v


LINEAR_WORST_CASE = Exercise(
    name="linear_worst_case",
    summary="exact worst-case perturbation of a linear classifier in the Lp ball (FGSM by hand)",
    tutorial="02_attacks_linear_models.py",
    task="exact worst-case perturbation of a linear classifier in the Lp ball (FGSM by hand)",
    reference=ref.linear_worst_case,
    make_cases=_lwc_cases,
    outputs=("delta",),
    overflow_hint=("w = 0 must give δ = 0 (guard ‖w‖ = 0), and huge weights need the norm of "
                   "w / max|w| times max|w| (sqrt(Σ w²) overflows)"),
    mistakes=(
        Mistake("the attack lowers the margin s (w·x + b): δ = -eps s v, you moved towards the "
                "label (+eps s v)", lambda w, b, X, y, eps, norm: -_lwc(_ref_direction)(
                    w, b, X, y, eps, norm)),
        Mistake("the labels are 0/1: use the signed labels s = 2y - 1",
                _lwc(_ref_direction, signed=False)),
        Mistake("L∞: sign(0) = 0 — a coordinate with w_j = 0 does not change the score and "
                "does not move (np.sign, not np.where(w >= 0, 1, -1))", _lwc(_where_sign)),
        Mistake("L1 ties: the budget goes to the FIRST index of max |w_j| (np.argmax)",
                _lwc(_l1_last)),
    ),
)


# ----------------------------------------------------------------------------- L1 projection
def _l1_cases(gen):
    rows = gen.standard_normal((5, 6)) * np.array([0.05, 0.2, 1.0, 2.0, 5.0])[:, None]
    ties = np.array([[1.0, -1.0, 1.0, -1.0], [2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    return [
        CaseSpec("rows inside and outside, eps=1", (rows, 1.0)),
        CaseSpec("equal magnitudes and a zero row", (ties, 1.5)),
        CaseSpec("one nonzero entry per row", (np.array([[0.0, 4.0, 0.0], [-3.0, 0.0, 0.0]]),
                                              1.0)),
        CaseSpec("rows on the sphere ‖δ‖₁ = eps", (np.array([[0.25, -0.75], [1.0, 0.0]]), 1.0)),
        CaseSpec("eps = 0", (gen.standard_normal((3, 4)), 0.0)),
        CaseSpec("float32", ((gen.standard_normal((4, 5)) * 2).astype(np.float32), 1.5)),
        CaseSpec("large entries ~1e6, eps = 2", (np.array([[1e6, -3e6, 2e6], [5.0, 0.0, -1e6]]),
                                                  2.0)),
    ]


def _soft_threshold(delta, theta):
    return np.sign(delta) * np.maximum(np.abs(delta) - theta, 0)


def _l1_rescale(delta, eps):
    norms = np.sum(np.abs(delta), axis=1, keepdims=True)
    factor = np.where(norms > eps, eps / np.where(norms > 0, norms, 1), 1)
    return delta * factor


PROJECT_L1 = Exercise(
    name="project_l1_ball",
    summary="Euclidean projection of each row onto the L1 ball (sort-based, Duchi et al. 2008)",
    tutorial="02_attacks_linear_models.py",
    task="Euclidean projection of each row onto the L1 ball (sort-based, Duchi et al. 2008)",
    reference=ref.project_l1_ball,
    make_cases=_l1_cases,
    outputs=("delta",),
    overflow_hint=("rows inside the ball (‖δ‖₁ <= eps) are returned unchanged, eps = 0 gives 0 "
                   "(guard the divisions)"),
    mistakes=(
        Mistake("rescaling the row by eps/‖δ‖₁ stays in the ball but is not the closest point: "
                "soft-threshold |δ_j| - θ with the θ that makes ‖·‖₁ = eps",
                _l1_rescale),
        Mistake("the threshold θ is not eps: find θ from the sorted |δ| so that "
                "Σ_j max(|δ_j| - θ, 0) = eps", lambda delta, eps: _soft_threshold(delta, eps)),
        Mistake("clipping every entry to [-eps, eps] is the L∞ projection",
                lambda delta, eps: np.clip(delta, -eps, eps)),
    ),
)


# ----------------------------------------------------------------------------- robust loss
def _rl_case(name, gen, norm, eps, *, n=12, d=4, w_scale=1.0, dtype=np.float64):
    X = gen.standard_normal((n, d))
    w = w_scale * gen.standard_normal(d)
    return CaseSpec(name, (w.astype(dtype), 0.3, X.astype(dtype), gen.integers(0, 2, size=n),
                           eps, norm), n=n)


def _rl_cases(gen):
    cases = [_rl_case(f"random eps=0.4, {label}", gen, norm, 0.4) for norm, label in NORMS]
    cases += [
        _rl_case("eps = 0: the plain logistic loss", gen, 2, 0.0),
        _rl_case("saturated margins ~±1e3, L∞", gen, np.inf, 0.1, w_scale=1e3),
        _rl_case("saturated margins ~±1e3, L1", gen, 1, 0.1, w_scale=1e3),
        _rl_case("large eps = 5 (every point misclassified), L2", gen, 2, 5.0),
        _rl_case("float32, L∞", gen, np.inf, 0.3, dtype=np.float32),
    ]
    return cases


def _robust_loss_parts(w, b, X, y, eps, norm, *, q=None, sign=1.0, labels01=False):
    """``mean softplus(sign eps ‖w‖_q - s (x·w + b))`` with switches that plant the mistakes."""
    q = {np.inf: 1, 2: 2, 1: np.inf}[norm] if q is None else q
    s = y if labels01 else 2 * y - 1
    w64 = w.astype(np.float64)
    margin = s * (X.astype(np.float64) @ w64 + b) - sign * eps * np.linalg.norm(w64, ord=q)
    return float(np.mean(np.logaddexp(0, -margin)))


ROBUST_LOSS = Exercise(
    name="robust_logistic_loss",
    summary="mean logistic loss under the worst Lp attack: softplus(eps ‖w‖_q - s (x·w + b))",
    tutorial="03_sharpness_logistic.py",
    task="mean logistic loss under the worst Lp attack: softplus(eps ‖w‖_q - s (x·w + b))",
    reference=ref.robust_logistic_loss,
    make_cases=_rl_cases,
    outputs=("loss",),
    overflow_hint=("overflow at large margins: softplus(t) = np.logaddexp(0, t) (never "
                   "log(1 + exp(t)))"),
    mistakes=(
        Mistake("the attack costs eps ‖w‖_q with q the DUAL exponent of p (1/p + 1/q = 1): "
                "‖w‖₁ for an L∞ attack, ‖w‖_∞ for an L1 attack (you used ‖w‖_p)",
                lambda w, b, X, y, eps, norm: _robust_loss_parts(w, b, X, y, eps, norm, q=norm)),
        Mistake("the attack LOWERS the margin: z = s (x·w + b) - eps ‖w‖_q (you added it)",
                lambda w, b, X, y, eps, norm: _robust_loss_parts(w, b, X, y, eps, norm,
                                                                sign=-1.0)),
        Mistake("the labels are 0/1: use the signed labels s = 2y - 1",
                lambda w, b, X, y, eps, norm: _robust_loss_parts(w, b, X, y, eps, norm,
                                                                labels01=True)),
    ),
)


# ----------------------------------------------------------------------------- local entropy
def _le_case(name, gen, f, *, m=5, k=401, lo=-4.0, hi=4.0, gamma=1.0, x=None,
             dtype=np.float64):
    grid = np.linspace(lo, hi, k)
    x = gen.uniform(lo, hi, m) if x is None else np.asarray(x, dtype=np.float64)
    return CaseSpec(name, tuple(a.astype(dtype) for a in (x, grid, f(grid))) + (gamma,))


def _le_cases(gen):
    return [
        _le_case("smooth f = x²/2 + sin 3x", gen, lambda g: g * g / 2 + np.sin(3 * g)),
        _le_case("kinked f = 5|x| (tutorial 4)", gen, lambda g: 5 * np.abs(g),
                 x=[-1.0, -1e-3, 0.0, 1e-3, 1.0]),
        _le_case("f offset by 1e4 (exp(-f) underflows)", gen,
                 lambda g: 1e4 + np.cos(g)),
        _le_case("points far from the grid, x = ±1e3", gen, lambda g: np.abs(g),
                 x=[-1e3, -50.0, 50.0, 1e3], gamma=2.0),
        _le_case("large scope γ = 1e4 (Gibbs mean ≈ nearest grid point)", gen,
                 lambda g: g ** 4, gamma=1e4),
        _le_case("small scope γ = 1e-3", gen, lambda g: (g - 1) ** 2, gamma=1e-3),
        _le_case("float32", gen, lambda g: np.abs(g - 0.5), dtype=np.float32),
    ]


def local_entropy_parts(x, grid, f_grid, gamma, *, flip=False, with_gamma=True, with_f=True,
                        half=True):
    """``γ (x - ⟨x'⟩)`` with switches that plant the mistakes (computed stably)."""
    coef = 0.5 if half else 1.0
    logw = -(f_grid[None, :] if with_f else 0) - coef * gamma * (x[:, None] - grid[None, :]) ** 2
    mean = special.softmax(logw, axis=1) @ grid                     # (m,) Gibbs means
    diff = mean - x if flip else x - mean
    return (gamma * diff if with_gamma else diff).astype(x.dtype)


LOCAL_ENTROPY = Exercise(
    name="local_entropy_gradient",
    summary="EntropySGD's local-entropy gradient γ (x - ⟨x'⟩) on a 1-D grid, stably",
    tutorial="04_smoothness_entropy_sgd.py",
    task="EntropySGD's local-entropy gradient γ (x - ⟨x'⟩) on a 1-D grid, stably",
    forbidden=("scipy.special.softmax", "scipy.special.logsumexp"),
    reference=ref.local_entropy_gradient,
    make_cases=_le_cases,
    outputs=("grad",),
    overflow_hint=("the Gibbs weights exp(-f_j - γ/2 (x - x'_j)²) all underflow to 0 (0/0) or "
                   "overflow: subtract each row's largest log-weight before exp (a softmax)"),
    # the naive weights underflow to 0 and 0/0 gives nan: the same cure as the overflow
    nan_hint=("the Gibbs weights exp(-f_j - γ/2 (x - x'_j)²) all underflow to 0, so their "
              "normalisation is 0/0: subtract each row's largest log-weight before exp"),
    mistakes=(
        Mistake("the gradient is γ (x - ⟨x'⟩) (it points away from the Gibbs mean); you "
                "computed γ (⟨x'⟩ - x)",
                lambda x, grid, f, gamma: local_entropy_parts(x, grid, f, gamma, flip=True)),
        Mistake("multiply by the scope: γ (x - ⟨x'⟩)",
                lambda x, grid, f, gamma: local_entropy_parts(x, grid, f, gamma,
                                                              with_gamma=False)),
        Mistake("the Gibbs weights include the loss: exp(-f(x'_j) - γ/2 (x - x'_j)²)",
                lambda x, grid, f, gamma: local_entropy_parts(x, grid, f, gamma,
                                                              with_f=False)),
        Mistake("the coupling is γ/2 (x - x')², not γ (x - x')²",
                lambda x, grid, f, gamma: local_entropy_parts(x, grid, f, gamma, half=False)),
    ),
)

TUTORIAL_A_EXERCISES = [AFFINE_FORWARD, RELU_FORWARD, RELU_BACKWARD, LINEAR_WORST_CASE,
                        PROJECT_L1, ROBUST_LOSS, LOCAL_ENTROPY]
