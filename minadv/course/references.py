"""The graders' references: the library function where minadv has one, else a plain version.

Each function has the signature of the stub of the same name in :mod:`minadv.course.stubs`.
Where minadv already computes the quantity (numerics, losses, models, attacks,
robust_logistic), the reference *is* that code, so a student who passes an exercise has
reproduced what the library runs.  The three plain ones (``affine_backward``, ``pgd_step``,
``vat_power_iteration``) are tested against the library paths they mirror in
``tests/test_course.py`` (one PGD step of :func:`minadv.attacks.pgd`, the exact VAT direction).
"""

from __future__ import annotations

import numpy as np

from .. import attacks, numerics, robust_logistic
from ..analysis import weight_names_of
from ..attacks import lp_norms, project_ball, project_box
from ..losses import kl_divergence, softmax_cross_entropy
from ..models import MLP, LogisticRegressionModel

__all__ = [
    "sigmoid", "logsumexp", "logistic_backward", "affine_backward",
    "softmax_cross_entropy_backward", "two_layer_backward", "steepest_ascent",
    "project_l2_ball", "pgd_step", "vat_power_iteration", "robust_logistic_hessian",
    "hvp_one_hidden", "unit_rows",
    # tutorials 00-04
    "affine_forward", "relu_forward", "relu_backward", "linear_worst_case", "project_l1_ball",
    "robust_logistic_loss", "local_entropy_gradient",
]


def sigmoid(t):
    """:func:`minadv.numerics.sigmoid` (``scipy.special.expit``)."""
    return numerics.sigmoid(np.asarray(t))


def logsumexp(z):
    """:func:`minadv.numerics.logsumexp` over the rows."""
    return numerics.logsumexp(z, axis=1)


def logistic_backward(w, b, X, y):
    """:class:`minadv.models.LogisticRegressionModel`'s ``loss_and_grads``."""
    model = LogisticRegressionModel(X.shape[1], dtype=X.dtype)
    res = model.loss_and_grads({"w": w, "b": np.asarray(b, dtype=X.dtype)}, X, y)
    return res.loss, res.grads["w"], float(res.grads["b"]), res.input_grad


def affine_backward(dout, cache):
    """``dx = dout Wᵀ``, ``dW = xᵀ dout``, ``db = Σ_rows dout`` (plain)."""
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, np.sum(dout, axis=0)


def softmax_cross_entropy_backward(z, y):
    """:func:`minadv.losses.softmax_cross_entropy`'s ``p - e_y``, divided by ``n``."""
    return softmax_cross_entropy(z, y)[1] / z.shape[0]


def _tanh_net(params, X):
    d, h = params["W1"].shape
    return MLP([d, h, params["W2"].shape[1]], activation="tanh", dtype=X.dtype)


def two_layer_backward(params, X, y):
    """:class:`minadv.models.MLP` (tanh, one hidden layer): ``loss_and_grads``."""
    res = _tanh_net(params, X).loss_and_grads(params, X, y)
    return res.loss, res.grads, res.input_grad


def steepest_ascent(g, eps, norm):
    """:func:`minadv.attacks.steepest_ascent`."""
    return attacks.steepest_ascent(g, eps, norm)


def project_l2_ball(delta, eps):
    """:func:`minadv.attacks.project_ball` with ``norm=2``."""
    return project_ball(delta, eps, 2)


def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    """Ascent step, projection onto the ball around ``x0``, box clip: the order of
    :func:`minadv.attacks.pgd` (one of its iterations)."""
    x_new = x + attacks.steepest_ascent(g, step_size, norm)      # (n, d)
    x_new = x0 + project_ball(x_new - x0, eps, norm)
    return project_box(x_new, clip_min, clip_max)


def unit_rows(d):
    """``d_i / ||d_i||_2`` per row (zero rows stay zero; safe for huge and tiny rows)."""
    norms = lp_norms(d, 2)                                          # (n,)
    scale = np.zeros_like(norms)
    np.divide(1, norms, out=scale, where=norms > 0)
    return d * scale[:, None]


def vat_power_iteration(fisher_product, d, n_iter):
    """Normalise, then ``n_iter`` times multiply and normalise (the exact-product form of
    :func:`minadv.attacks.vat_perturbation`, ``exact=True``, before the ``eps`` scaling)."""
    d = unit_rows(d)
    for _ in range(n_iter):
        d = unit_rows(fisher_product(d))
    return d


def robust_logistic_hessian(w, X, y, eps):
    """:func:`minadv.robust_logistic.robust_logistic_hessian` (L2, no intercept)."""
    return robust_logistic.robust_logistic_hessian(w, None, X, y, eps, norm=2)


def hvp_one_hidden(params, X, y, v):
    """:meth:`minadv.models.MLP.hvp` of the tanh net of :func:`two_layer_backward`."""
    return _tanh_net(params, X).hvp(params, X, y, v)


# ============================================================================ tutorials 00-04
# (section of the exercises new in tutorials 00-04; cases in tutorial_cases_a.py)
def affine_forward(x, W, b):
    """:func:`minadv.layers.affine_forward`'s ``out``, with the cache ``(x, W, b)``."""
    from ..layers import affine_forward as lib_affine_forward

    return lib_affine_forward(x, W, b)[0], (x, W, b)


def relu_forward(x):
    """``max(x, 0)`` (:data:`minadv.layers.ACTIVATIONS` ``"relu"``), cache ``x``."""
    from ..layers import ACTIVATIONS

    return ACTIVATIONS["relu"].phi(x), x


def relu_backward(dout, x):
    """``dout ⊙ [x > 0]`` (the derivative of :data:`minadv.layers.ACTIVATIONS` ``"relu"``)."""
    from ..layers import ACTIVATIONS

    return dout * ACTIVATIONS["relu"].d1(x)


def linear_worst_case(w, b, X, y, eps, norm):
    """:func:`minadv.attacks.linear_worst_case` without a box."""
    return attacks.linear_worst_case(w, b, X, y, eps, norm=norm)


def project_l1_ball(delta, eps):
    """:func:`minadv.attacks.project_ball` with ``norm=1``."""
    return project_ball(delta, eps, 1)


def robust_logistic_loss(w, b, X, y, eps, norm):
    """:func:`minadv.robust_logistic.robust_logistic_loss` (closed form, eq. (1.1))."""
    return robust_logistic.robust_logistic_loss(w, b, X, y, eps, norm=norm)


def local_entropy_gradient(x, grid, f_grid, gamma):
    """:func:`minadv.optim.local_entropy_grad` at the Gibbs means of the grid (a softmax of the
    log-weights per point)."""
    from scipy import special

    from ..optim import local_entropy_grad

    logw = -f_grid[None, :] - 0.5 * gamma * (x[:, None] - grid[None, :]) ** 2   # (m, k)
    mean = special.softmax(logw, axis=1) @ grid                                 # (m,)
    return local_entropy_grad({"x": x}, {"x": mean}, gamma)["x"]
# ============================================================================================
# Tutorials 05-09 (one section, kept together).  ``vat_kl_backward`` is the library's
# ``kl_divergence``; ``generator_loss_and_grads`` runs the library's MLP kernels; the three
# plain ones are tested against the library paths they mirror in
# ``tests/test_course_tutorial_cases_b.py`` (``pgd`` from a given start, ``robustness_curve``,
# ``random_direction``).
# ============================================================================================
__all__ += [
    "vat_kl_backward", "pgd_inner_max", "robust_accuracy_curve",
    "filter_normalized_direction", "generator_loss_and_grads",
]


def vat_kl_backward(z_ref, z):
    """:func:`minadv.losses.kl_divergence` (softmax family): ``(KL_i, q - p)``."""
    return kl_divergence(z_ref, z)


def pgd_inner_max(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None,
                  clip_max=None):
    """L∞ PGD from ``X + delta0``: the iteration of :func:`minadv.attacks.pgd` (plain; an
    empty batch is allowed, which the library's validation refuses)."""
    def box(Z):
        return Z if clip_min is None and clip_max is None else np.clip(Z, clip_min, clip_max)

    X_adv = box(X + np.clip(delta0, -eps, eps))                      # (n, d) projected start
    for _ in range(n_steps):
        X_adv = X_adv + step_size * np.sign(input_grad(X_adv))      # steepest L∞ ascent
        X_adv = box(X + np.clip(X_adv - X, -eps, eps))               # ball, then box
    return X_adv


def robust_accuracy_curve(y, pred):
    """The cumulative summary of :func:`minadv.attacks.robustness_curve` (plain)."""
    correct = pred == y[:, None]                                   # (n, k + 1)
    robust = np.logical_and.accumulate(correct, axis=1)[:, 1:]     # (n, k) cumulative
    clean = correct[:, 0]
    n_clean = int(clean.sum())
    fooled = (clean[:, None] & ~robust).sum(axis=0)                # (k,)
    success = fooled / n_clean if n_clean else np.zeros(robust.shape[1])
    return robust.mean(axis=0), np.asarray(success, dtype=np.float64)


def filter_normalized_direction(params, d):
    """The ``"filter"`` normalisation of :func:`minadv.analysis.random_direction` applied to a
    given ``d`` (plain; biases ignored)."""
    weights = weight_names_of(params)
    out = {}
    for k, theta in params.items():
        if k not in weights:
            out[k] = np.zeros_like(d[k])
            continue
        axes = tuple(range(max(theta.ndim - 1, 1)))   # all but the filter axis; 1-D: one filter
        t_norm = np.sqrt(np.sum(theta * theta, axis=axes))         # (fan_out,) or ()
        d_norm = np.sqrt(np.sum(d[k] * d[k], axis=axes))
        out[k] = d[k] * (t_norm / (d_norm + 1e-10))
    return out


def _relu_net(params, dtype):
    n_layers = len(params) // 2
    sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1] for l in range(1, n_layers + 1)]
    return MLP(sizes, activation="relu", dtype=dtype)


def generator_loss_and_grads(pG, pD, z):
    """:class:`minadv.models.MLP` kernels: ``D.loss_and_grads`` (label 1) for ``dx``, then
    ``G.backward`` with upstream ``dx`` (Tutorial 9's generator step)."""
    G, D = _relu_net(pG, z.dtype), _relu_net(pD, z.dtype)
    x, cache = G.forward(pG, z)                                            # (n, 2) samples
    out = D.loss_and_grads(pD, x, np.ones(z.shape[0], dtype=np.int64), param_grads=False)
    grads, _ = G.backward(pG, cache, out.input_grad, input_grad=False)     # chain rule into G
    return out.loss, grads, out.input_grad



# ----------------------------------------------------------------------------- certification
# (tutorial 10; the case module is ``certify_cases``)
def interval_affine_relu(lower, upper, W, b):
    """:func:`minadv.certify.interval.interval_affine` (eq. (17.1)), then the ReLU at both
    ends."""
    from ..certify.interval import interval_affine

    low, high = interval_affine(lower, upper, W, b)
    return np.maximum(low, 0), np.maximum(high, 0)


def big_m_relu(lower, upper):
    """Eq. (17.5) of ``docs/theory.md`` §17.5, the rows :func:`minadv.certify.program.
    network_program` writes for an unstable unit, as ``A (n, 4, 3)`` on ``(a, h, z)`` and
    ``c (n, 4)``: ``-h <= 0``, ``a - h <= 0``, ``h - u z <= 0``, ``-a + h - l z <= -l``."""
    n = lower.shape[0]
    A = np.zeros((n, 4, 3), dtype=lower.dtype)
    c = np.zeros((n, 4), dtype=lower.dtype)
    A[:, 0, 1] = -1                                      # h >= 0
    A[:, 1, 0], A[:, 1, 1] = 1, -1                       # h >= a
    A[:, 2, 1], A[:, 2, 2] = 1, -upper                   # h <= u z
    A[:, 3, 0], A[:, 3, 1], A[:, 3, 2] = -1, 1, -lower   # h <= a - l (1 - z)
    c[:, 3] = -lower
    return A, c


__all__ += ["interval_affine_relu", "big_m_relu"]
