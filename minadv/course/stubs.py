"""Exercise stubs: the signature and the task of every graded exercise (bodies to write).

Copy a stub into your notebook or a file, replace ``raise NotImplementedError`` with your code
and check it::

    import minadv.course
    print(minadv.course.stub("affine_backward"))      # the text below, ready to copy
    minadv.course.check("affine_backward", affine_backward)

or, from a shell, ``minadv grade affine_backward my_solution.py``.  Every exercise keeps the
dtype of its inputs (float32 in, float32 out), works on a whole batch at once (no Python loop
over rows) and must not modify its inputs.  NumPy only.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the stubs are copied with their import)

__all__ = [
    "sigmoid", "logsumexp", "logistic_backward", "affine_backward",
    "softmax_cross_entropy_backward", "two_layer_backward", "steepest_ascent",
    "project_l2_ball", "pgd_step", "vat_power_iteration", "robust_logistic_hessian",
    "hvp_one_hidden",
]


def sigmoid(t):
    """Logistic sigmoid ``σ(t) = 1 / (1 + exp(-t))``, elementwise, without overflow.

    Parameters
    ----------
    t : ndarray of any shape, float32 or float64

    Returns
    -------
    ndarray of ``t``'s shape and dtype, values in [0, 1]

    Notes
    -----
    The textbook formula overflows: ``exp(-t)`` is ``inf`` for ``t < -710`` (float64) or
    ``t < -89`` (float32) and NumPy warns.  Use ``exp(-|t|)``, which never overflows:
    ``σ(t) = 1 / (1 + e^{-t})`` for ``t >= 0`` and ``σ(t) = e^{t} / (1 + e^{t})`` for ``t < 0``.
    """
    raise NotImplementedError


def logsumexp(z):
    """``log Σ_k exp(z_ik)`` for every row ``i`` of ``z``, without overflow.

    Parameters
    ----------
    z : ndarray of shape (n, C), float32 or float64

    Returns
    -------
    ndarray of shape (n,), ``z``'s dtype

    Notes
    -----
    ``exp(1000)`` overflows.  Subtract the row maximum ``M_i = max_k z_ik`` first:
    ``logsumexp(z_i) = M_i + log Σ_k exp(z_ik - M_i)`` (every exponent is ``<= 0``, and the
    largest term is exactly 1, so the log never sees 0).  ``docs/theory.md §0`` item 6.
    """
    raise NotImplementedError


def logistic_backward(w, b, X, y):
    """Mean logistic loss of a linear classifier and its gradients in ``w``, ``b`` and ``X``.

    Parameters
    ----------
    w : ndarray of shape (d,)
    b : float
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), integer labels in {0, 1}

    Returns
    -------
    loss : float
        ``L = (1/n) Σ_i softplus(-m_i)`` with the margin ``m_i = s_i (x_i·w + b)`` and the
        signed label ``s_i = 2 y_i - 1``; ``softplus(t) = log(1 + e^t)``.
    dw : ndarray of shape (d,)
        ``∂L/∂w = -(1/n) Σ_i σ(-m_i) s_i x_i``.
    db : float
        ``∂L/∂b = -(1/n) Σ_i σ(-m_i) s_i``.
    dX : ndarray of shape (n, d)
        ``∂L/∂x_i = -(1/n) σ(-m_i) s_i w`` (the gradient of the *mean* loss, so it carries the
        ``1/n``; an attack uses ``n dX``).

    Notes
    -----
    Compute ``softplus`` stably: ``softplus(t) = max(t, 0) + log1p(exp(-|t|))`` (or
    ``np.logaddexp(0, t)``), and ``σ`` as in the ``sigmoid`` exercise: margins of ``±1000``
    must give a finite loss and no warning.  ``docs/theory.md §0`` items 1-5.
    """
    raise NotImplementedError


def affine_backward(dout, cache):
    """Backward pass of the affine layer ``out = x W + b``.

    Parameters
    ----------
    dout : ndarray of shape (n, m)
        Upstream gradient ``∂L/∂out``.
    cache : tuple (x, W, b)
        ``x`` of shape (n, d), ``W`` of shape (d, m), ``b`` of shape (m,), as saved by the
        forward pass.

    Returns
    -------
    dx : ndarray of shape (n, d)
        ``dout Wᵀ``.
    dW : ndarray of shape (d, m)
        ``xᵀ dout`` (same shape as ``W``).
    db : ndarray of shape (m,)
        ``Σ_rows dout`` (same shape as ``b``).

    Notes
    -----
    ``out_ij = Σ_k x_ik W_kj + b_j``; the chain rule gives the three products above.  A shape
    check catches most mistakes: every gradient has the shape of the array it belongs to.
    """
    raise NotImplementedError


def softmax_cross_entropy_backward(z, y):
    """Gradient of the mean softmax cross-entropy with respect to the logits.

    Parameters
    ----------
    z : ndarray of shape (n, C), float32 or float64, logits
    y : ndarray of shape (n,), integer labels in {0, …, C-1}

    Returns
    -------
    dz : ndarray of shape (n, C)
        ``∂L/∂z`` for ``L = (1/n) Σ_i -log softmax(z_i)_{y_i}``, i.e.
        ``dz_i = (softmax(z_i) - onehot(y_i)) / n``.

    Notes
    -----
    ``softmax(z)_k = exp(z_k - M) / Σ_j exp(z_j - M)`` with ``M = max_j z_j`` (the shift does
    not change the value and keeps ``exp`` from overflowing for logits like ``1000``).
    ``docs/theory.md §0`` item 7.
    """
    raise NotImplementedError


def two_layer_backward(params, X, y):
    """Loss, parameter gradients and input gradient of a two-layer tanh network.

    Forward pass (row-vector convention, ``n`` samples)::

        a = X W1 + b1          # (n, h)
        h = tanh(a)            # (n, h)
        z = h W2 + b2          # (n, C) logits
        L = (1/n) Σ_i -log softmax(z_i)_{y_i}

    Parameters
    ----------
    params : dict with ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, C), ``b2`` (C,)
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), integer labels in {0, …, C-1}

    Returns
    -------
    loss : float
        ``L``.
    grads : dict
        ``{"W1", "b1", "W2", "b2"}``: ``∂L/∂θ``, each of the shape of its parameter.
    dX : ndarray of shape (n, d)
        ``∂L/∂X`` (carries the ``1/n`` of the mean).

    Notes
    -----
    Backward: ``dz = (softmax(z) - onehot(y)) / n``; ``dW2 = hᵀ dz``; ``db2 = Σ_rows dz``;
    ``dh = dz W2ᵀ``; ``da = dh ⊙ (1 - h²)`` (``tanh' = 1 - tanh²``); ``dW1 = Xᵀ da``;
    ``db1 = Σ_rows da``; ``dX = da W1ᵀ``.  Use a stable softmax (subtract the row max).
    """
    raise NotImplementedError


def steepest_ascent(g, eps, norm):
    """Maximiser of ``<g_i, δ_i>`` over the ball ``||δ_i||_p <= eps``, for every row.

    Parameters
    ----------
    g : ndarray of shape (n, d), float32 or float64, one gradient per row
    eps : float, the radius (``>= 0``)
    norm : {np.inf, 2, 1}

    Returns
    -------
    delta : ndarray of shape (n, d), ``g``'s dtype
        * ``norm = np.inf``: ``δ = eps sign(g)`` (every coordinate moves; FGSM).
        * ``norm = 2``: ``δ = eps g / ||g||_2``.
        * ``norm = 1``: ``δ = eps sign(g_j) e_j`` with ``j = argmax_i |g_i|`` — one coordinate
          moves; on a tie, the **first** such index (what ``np.argmax`` returns).

        A zero row ``g_i = 0`` gives ``δ_i = 0`` (never NaN).

    Notes
    -----
    Hölder: ``<g, δ> <= ||g||_q ||δ||_p`` with ``1/p + 1/q = 1``, with equality at the ``δ``
    above, so the value is ``eps ||g||_q``.  ``docs/theory.md §4.1``, eq. (4.2).  Gradients
    can be huge (``1e200``) or tiny (``1e-200``): ``sqrt(Σ g²)`` then overflows or underflows;
    divide the row by its largest ``|g_i|`` before taking the norm.
    """
    raise NotImplementedError


def project_l2_ball(delta, eps):
    """Euclidean projection of every row of ``delta`` onto the L2 ball of radius ``eps``.

    Parameters
    ----------
    delta : ndarray of shape (n, d), float32 or float64
    eps : float, ``>= 0``

    Returns
    -------
    ndarray of shape (n, d), ``delta``'s dtype
        ``δ_i`` if ``||δ_i||_2 <= eps`` (unchanged, bit for bit), else ``eps δ_i / ||δ_i||_2``:
        ``δ_i min(1, eps / ||δ_i||_2)``.

    Notes
    -----
    Rows are projected independently (one norm per row, not one for the whole array).  A zero
    row stays zero; rows with huge entries (``1e200``) must not overflow: ``np.linalg.norm``
    of such a row is ``inf`` — rescale the row by its largest ``|entry|`` first.
    ``docs/theory.md §8``.
    """
    raise NotImplementedError


def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    """One step of projected gradient ascent (PGD) in an Lp ball, inside a data box.

    Parameters
    ----------
    x : ndarray of shape (n, d), the current iterate
    x0 : ndarray of shape (n, d), the clean points (centres of the balls, inside the box)
    g : ndarray of shape (n, d), the loss gradient at ``x``
    step_size : float
    eps : float, the ball radius
    norm : {np.inf, 2, 1}
    clip_min, clip_max : float or None, the data box (``None``: no bound on that side)

    Returns
    -------
    ndarray of shape (n, d), ``x``'s dtype
        In this order (Madry et al. 2018, eq. (2.1)):

        1. ascent: ``x' = x + steepest_ascent(g, step_size, norm)`` (the previous exercise);
        2. ball: ``x'' = x0 + P_ball(x' - x0)``, the Euclidean projection onto
           ``||x'' - x0||_p <= eps`` (L∞: clip to ``[-eps, eps]``; L2: rescale rows outside;
           L1: ``minadv.attacks.project_ball(r, eps, 1)`` may be used);
        3. box: ``clip(x'', clip_min, clip_max)``.

    Notes
    -----
    Since ``x0`` lies in the box, clipping after the projection keeps the point in the ball;
    clipping first and projecting second gives a different point.  ``docs/theory.md §8``.
    """
    raise NotImplementedError


def vat_power_iteration(fisher_product, d, n_iter):
    """Power iteration for the dominant eigenvector of each sample's input Fisher matrix.

    Parameters
    ----------
    fisher_product : callable, ``(n, D) -> (n, D)``
        Applies each sample's symmetric PSD matrix ``H_i`` to row ``i``:
        ``fisher_product(R)[i] = H_i R[i]``, e.g.
        ``lambda R: model.input_fisher_product(params, X, R)`` (VAT's input-space Fisher).
    d : ndarray of shape (n, D), float32 or float64, the start vectors (one per row)
    n_iter : int, ``>= 0``

    Returns
    -------
    ndarray of shape (n, D), ``d``'s dtype, unit rows
        ``d_0 = d / ||d||`` row-wise, then ``n_iter`` times ``d_{k+1} = H d_k / ||H d_k||``.
        ``n_iter = 0`` returns the normalised start.  A zero row (zero start or ``H_i d = 0``)
        stays zero, never NaN.

    Notes
    -----
    VAT (Miyato et al., arXiv:1704.03976) takes ``r_vadv = eps d_k`` with ``k = 1``: after
    ``k`` steps the component along the top eigenvector grows like ``(λ_1/λ_2)^k``.
    Normalise at every step (the products grow like ``λ_1^k`` and overflow).
    ``docs/theory.md §6.2``.
    """
    raise NotImplementedError


def robust_logistic_hessian(w, X, y, eps):
    """Hessian of the L2 adversarial logistic loss (no bias), in closed form.

    Parameters
    ----------
    w : ndarray of shape (d,), nonzero
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), integer labels in {0, 1}
    eps : float, the L2 attack radius ``>= 0``

    Returns
    -------
    H : ndarray of shape (d, d), symmetric

    Notes
    -----
    Loss ``L(w) = (1/n) Σ_i softplus(-z_i)`` with the robust margin
    ``z_i = s_i w·x_i - eps ||w||_2`` and ``s_i = 2 y_i - 1`` (the worst case of an L2 attack
    of radius ``eps`` on a linear score).  With ``u = w / ||w||``, ``σ_i = σ(-z_i)``,
    ``c_i = σ(z_i) σ(-z_i)`` and the label-signed adversarial example
    ``a_i = s_i x_i - eps u``::

        H = (1/n) Σ_i c_i a_i a_iᵀ  +  (eps / ||w||) mean_i(σ_i) (I - u uᵀ)

    The first term is the plain logistic Hessian at the fixed adversarial points; the second
    exists because the attack direction depends on ``w``.  ``docs/theory.md §1.2``, eq. (1.3).
    """
    raise NotImplementedError


def hvp_one_hidden(params, X, y, v):
    """Exact Hessian-vector product of a one-hidden-layer tanh net (Pearlmutter's R-operator).

    The network and loss are those of ``two_layer_backward``:
    ``a = X W1 + b1``, ``h = tanh(a)``, ``z = h W2 + b2``, ``L = mean softmax cross-entropy``.

    Parameters
    ----------
    params : dict ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, C), ``b2`` (C,)
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,), integer labels
    v : dict with the same keys and shapes as ``params``, the direction

    Returns
    -------
    dict with the keys and shapes of ``params``: ``∇²L(θ) v``

    Notes
    -----
    ``R{·}`` is the derivative along ``v``: ``R{f} = d/dr f(θ + r v)`` at ``r = 0``.
    Forward: ``R{a} = X V1 + c1``; ``R{h} = (1 - h²) ⊙ R{a}``; ``R{z} = R{h} W2 + h V2 + c2``.
    Backward, with ``p = softmax(z)``, ``δ2 = (p - Y)/n``, ``g = δ2 W2ᵀ``, ``δ1 = (1 - h²) ⊙ g``::

        R{δ2} = (p ⊙ R{z} - p ⊙ Σ_k (p ⊙ R{z})_k) / n
        R{g}  = δ2 V2ᵀ + R{δ2} W2ᵀ
        R{δ1} = -2 h (1 - h²) ⊙ R{a} ⊙ g + (1 - h²) ⊙ R{g}      (tanh'' = -2 tanh tanh')
        (Hv)_W2 = hᵀ R{δ2} + R{h}ᵀ δ2      (Hv)_b2 = Σ_rows R{δ2}
        (Hv)_W1 = Xᵀ R{δ1}                 (Hv)_b1 = Σ_rows R{δ1}

    (``V1, c1, V2, c2`` are the blocks of ``v``.)  ``docs/theory.md §12``.
    """
    raise NotImplementedError


# ----------------------------------------------------------------------------- certification
def interval_affine_relu(lower, upper, W, b):
    """Interval bounds of one affine + ReLU layer: ``relu(h W + b)`` for ``lower <= h <= upper``.

    Parameters
    ----------
    lower, upper : ndarray of shape (n, d_in), ``lower <= upper`` elementwise
    W : ndarray of shape (d_in, d_out)
    b : ndarray of shape (d_out,)

    Returns
    -------
    (lower_out, upper_out) : two ndarrays of shape (n, d_out), the inputs' dtype
        The smallest box containing ``relu(h W + b)`` for every ``h`` in the box.

    Notes
    -----
    With the centre ``μ = (upper + lower)/2`` and radius ``r = (upper - lower)/2``, the affine
    image lies in ``[μ W + b - r |W|, μ W + b + r |W|]`` (each output is a linear function of a
    box, extreme at a vertex), and the ReLU, being non-decreasing, maps ``[l, u]`` to
    ``[relu(l), relu(u)]``.  ``docs/theory.md §17.2``, eq. (17.1).
    """
    raise NotImplementedError


def big_m_relu(lower, upper):
    """The big-M constraints of ``h = relu(a)`` for units with ``lower < a < upper``
    (``lower < 0 < upper``), one binary ``z`` per unit.

    Parameters
    ----------
    lower, upper : ndarray of shape (n,), one entry per unit

    Returns
    -------
    (A, c) : ndarrays of shape (n, 4, 3) and (n, 4), the inputs' dtype
        Unit ``i``'s constraints are ``A[i] @ (a, h, z) <= c[i]``, the rows in this order:

        1. ``h >= 0``;
        2. ``h >= a``;
        3. ``h <= u z``;
        4. ``h <= a - l (1 - z)``,

        each written as ``(coefficient of a, of h, of z) · (a, h, z) <= constant`` (move every
        variable to the left, e.g. ``h >= a`` is ``a - h <= 0``).

    Notes
    -----
    With ``z = 1`` rows 2 and 4 force ``h = a`` (and row 1 then ``a >= 0``); with ``z = 0`` rows
    1 and 3 force ``h = 0`` (and row 2 then ``a <= 0``).  ``docs/theory.md §17.5``, eq. (17.5).
    """
    raise NotImplementedError


__all__ += ["interval_affine_relu", "big_m_relu"]
