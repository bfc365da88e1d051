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
from ..attacks import lp_norms, project_ball, project_box
from ..losses import softmax_cross_entropy
from ..models import MLP, LogisticRegressionModel

__all__ = [
    "sigmoid", "logsumexp", "logistic_backward", "affine_backward",
    "softmax_cross_entropy_backward", "two_layer_backward", "steepest_ascent",
    "project_l2_ball", "pgd_step", "vat_power_iteration", "robust_logistic_hessian",
    "hvp_one_hidden", "unit_rows",
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
