"""Exercise stubs: the signature and the task of every graded exercise (bodies to write).

Copy a stub into your notebook or a file, replace ``raise NotImplementedError`` with your code
and check it::

    import minadv.course
    print(minadv.course.stub("affine_backward"))      # the text below, ready to copy
    minadv.course.check("affine_backward", affine_backward)

or, from a shell, ``minadv grade affine_backward my_solution.py``.  Every exercise keeps the
dtype of its inputs (float32 in, float32 out), works on a whole batch at once (no Python loop
over rows) and must not modify its inputs.  What a stub may use is in its *Allowed* section
(``minadv.course.stub`` adds it; ``minadv grade`` enforces it).
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the stubs are copied with their import)

__all__ = [
    "sigmoid", "logsumexp", "logistic_backward", "affine_backward",
    "softmax_cross_entropy_backward", "two_layer_backward", "steepest_ascent",
    "project_l2_ball", "pgd_step", "vat_power_iteration", "robust_logistic_hessian",
    "hvp_one_hidden",
    # tutorials 00-04
    "affine_forward", "relu_forward", "relu_backward", "linear_worst_case", "project_l1_ball",
    "robust_logistic_loss", "local_entropy_gradient",
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
        ``n_iter = 0`` returns the normalised start.  A zero row (a zero start, or a product
        ``H_i d`` that is exactly 0) stays zero, never NaN.

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


# ============================================================================ tutorials 00-04
# (section of the exercises new in tutorials 00-04; cases in tutorial_cases_a.py)
def affine_forward(x, W, b):
    """Forward pass of the affine layer ``out = x W + b``, with its cache.

    Parameters
    ----------
    x : ndarray of shape (n, d), float32 or float64
    W : ndarray of shape (d, m)
    b : ndarray of shape (m,)

    Returns
    -------
    out : ndarray of shape (n, m)
        ``out_ij = Σ_k x_ik W_kj + b_j`` (``b`` broadcasts over the rows).
    cache : tuple (x, W, b)
        What ``affine_backward`` needs: the inputs themselves.

    Notes
    -----
    Row-vector convention (one sample per row, weights ``(fan_in, fan_out)``), as in
    :mod:`minadv.layers`.
    """
    raise NotImplementedError


def relu_forward(x):
    """ReLU forward pass ``out = max(x, 0)``, elementwise, with its cache.

    Parameters
    ----------
    x : ndarray of any shape, float32 or float64

    Returns
    -------
    out : ndarray of ``x``'s shape and dtype
        ``max(x, 0)``.
    cache : ndarray
        The input ``x`` itself (``relu_backward`` needs to know where ``x > 0``).

    Notes
    -----
    ``np.maximum`` does it in one call.
    """
    raise NotImplementedError


def relu_backward(dout, cache):
    """ReLU backward pass: ``dx = dout ⊙ [x > 0]``.

    Parameters
    ----------
    dout : ndarray, upstream gradient ``∂L/∂out``, of ``x``'s shape
    cache : ndarray, the forward input ``x``

    Returns
    -------
    dx : ndarray of ``x``'s shape and dtype
        ``dout`` where ``x > 0``, 0 elsewhere.  At ``x = 0`` exactly ReLU has no derivative;
        the convention (every library's) is 0: use ``x > 0``, not ``x >= 0``.
    """
    raise NotImplementedError


def linear_worst_case(w, b, X, y, eps, norm):
    """The worst perturbation of a linear classifier in the Lp ball, in closed form.

    For the score ``f(x) = x·w + b`` and the signed label ``s = 2y - 1``, solve for every row
    ``min_{‖δ‖_p <= eps} s (x + δ)·w + s b`` (lowest margin = highest logistic loss).

    Parameters
    ----------
    w : ndarray of shape (d,)
    b : float (it does not change δ)
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), integer labels in {0, 1}
    eps : float, ``>= 0``
    norm : {np.inf, 2, 1}

    Returns
    -------
    delta : ndarray of shape (n, d), ``X``'s dtype
        ``δ_i = -eps s_i v`` with the direction ``v`` of ``w``'s dual norm:
        ``v = sign(w)`` (L∞: FGSM), ``v = w / ‖w‖₂`` (L2), ``v = sign(w_j) e_j`` with
        ``j`` the **first** index of ``max |w_j|`` (L1).  ``sign(0) = 0``: a coordinate with
        ``w_j = 0`` does not move, and ``w = 0`` gives ``δ = 0`` (never NaN).

    Notes
    -----
    Hölder: ``s δ·w >= -eps ‖w‖_q`` with ``1/p + 1/q = 1``, with equality at the ``δ`` above.
    ``docs/theory.md §1.1``.  Huge weights (``1e200``): compute ``‖w‖₂`` of ``w / max|w|``.
    """
    raise NotImplementedError


def project_l1_ball(delta, eps):
    """Euclidean projection of every row of ``delta`` onto the L1 ball of radius ``eps``.

    Parameters
    ----------
    delta : ndarray of shape (n, d), float32 or float64
    eps : float, ``>= 0``

    Returns
    -------
    ndarray of shape (n, d), ``delta``'s dtype
        Rows with ``‖δ_i‖₁ <= eps`` unchanged; the others soft-thresholded,
        ``sign(δ_ij) max(|δ_ij| - θ_i, 0)``, with the ``θ_i > 0`` that makes the row's L1 norm
        exactly ``eps``.

    Notes
    -----
    Finding ``θ`` (Duchi et al. 2008, Fig. 1): sort ``u = |δ_i|`` decreasingly, take the
    cumulative sums ``c_k = u_1 + … + u_k``, the largest ``k`` with ``u_k > (c_k - eps) / k``,
    and ``θ = (c_k - eps) / k``.  ``eps = 0`` gives 0.  A loop over the rows is fine here.
    """
    raise NotImplementedError


def robust_logistic_loss(w, b, X, y, eps, norm):
    """Mean logistic loss of a linear classifier under the worst Lp attack of radius ``eps``.

    Parameters
    ----------
    w : ndarray of shape (d,)
    b : float
    X : ndarray of shape (n, d), float32 or float64
    y : ndarray of shape (n,), integer labels in {0, 1}
    eps : float, ``>= 0``
    norm : {np.inf, 2, 1}, the attack norm ``p``

    Returns
    -------
    loss : float
        ``(1/n) Σ_i softplus(-z_i)`` with the robust margin
        ``z_i = s_i (x_i·w + b) - eps ‖w‖_q``, ``s_i = 2 y_i - 1`` and ``q`` the dual exponent
        (``1/p + 1/q = 1``: ``q = 1`` for L∞, 2 for L2, ∞ for L1).

    Notes
    -----
    The inner maximisation is solved in closed form (the previous tutorial's
    ``linear_worst_case``): the attack lowers every margin by exactly ``eps ‖w‖_q``.
    ``softplus(t) = log(1 + e^t)``: compute it as ``np.logaddexp(0, t)`` (margins of ``±1e3``
    must not overflow).  ``docs/theory.md §1``, eq. (1.1).
    """
    raise NotImplementedError


def local_entropy_gradient(x, grid, f_grid, gamma):
    """Gradient of EntropySGD's local entropy of a 1-D loss sampled on a grid.

    ``F_γ(x) = -log Σ_j exp(-f(x'_j) - γ/2 (x - x'_j)²)`` (up to a constant) has the gradient
    ``∇F_γ(x) = γ (x - ⟨x'⟩_x)``, where ``⟨x'⟩_x = Σ_j w_j x'_j / Σ_j w_j`` is the mean of the
    Gibbs weights ``w_j = exp(-f(x'_j) - γ/2 (x - x'_j)²)``.

    Parameters
    ----------
    x : ndarray of shape (m,), float32 or float64, the points
    grid : ndarray of shape (k,), the grid ``x'_j``
    f_grid : ndarray of shape (k,), the loss on the grid ``f(x'_j)``
    gamma : float ``> 0``, the scope

    Returns
    -------
    grad : ndarray of shape (m,), ``x``'s dtype
        ``γ (x_i - ⟨x'⟩_{x_i})`` for every point.

    Notes
    -----
    The weights under- or overflow (``f ~ 1e4``, ``x`` far from the grid): work with the
    log-weights and subtract each point's maximum before ``exp`` (a softmax over the grid).
    Vectorise over the points (an ``(m, k)`` array).  Chaudhari et al. (2017);
    ``docs/theory.md §9.1`` and §3.5.
    """
    raise NotImplementedError


# ============================================================================================
# Tutorials 05-09: exercises of the second half of the course (one section, kept together)
# ============================================================================================
__all__ += [
    "vat_kl_backward", "pgd_inner_max", "robust_accuracy_curve",
    "filter_normalized_direction", "generator_loss_and_grads",
]


def vat_kl_backward(z_ref, z):
    """VAT's divergence ``KL(p(·|x) ‖ p(·|x + r))`` on logits, per sample, and its gradient.

    Tutorial 5.

    Parameters
    ----------
    z_ref : ndarray of shape (n, C), float32 or float64
        Clean logits ``z(x)``, held constant (VAT does not backpropagate through the clean
        prediction).
    z : ndarray of shape (n, C), same dtype
        Logits ``z(x + r)`` at the perturbed input.

    Returns
    -------
    kl : ndarray of shape (n,), ``z``'s dtype
        ``KL_i = Σ_k p_ik (log p_ik - log q_ik)`` with ``p = softmax(z_ref)`` and
        ``q = softmax(z)``, row-wise; ``0`` where ``z_i = z_ref_i``.
    dz : ndarray of shape (n, C), ``z``'s dtype
        ``∂KL_i/∂z_i = q_i - p_i`` per sample (**not** divided by ``n``).

    Notes
    -----
    Use a stable log-softmax, ``log softmax(z) = z - M - log Σ_k exp(z_k - M)`` with the row
    maximum ``M``, never ``log(softmax(z))``: at logits like ``±1000`` a probability underflows
    to exactly 0, and ``0 · log 0 = 0 · (-inf)`` is NaN, while ``p_k (log p_k - log q_k)`` with
    finite log-probabilities is ``0``.  The chain rule through the network turns ``dz`` into
    ``∇_r KL = Jₓᵀ (q - p)``, the vector VAT's finite-difference power iteration normalises.
    Miyato et al. (2018), arXiv:1704.03976, eqs. (3)-(5); ``docs/theory.md §6``.
    """
    raise NotImplementedError


def pgd_inner_max(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None,
                  clip_max=None):
    """The inner maximisation of PGD adversarial training in the L∞ ball, from a given start.

    Tutorial 6.

    Parameters
    ----------
    input_grad : callable ``X_adv -> G``
        ``G[i] = ∇ₓ ℓ_i(x_i)``, the loss gradient with respect to each input row, shape
        ``(n, d)``, the labels being fixed inside it (e.g.
        ``lambda Xa: model.loss_and_grads(params, Xa, y).input_grad``).
    X : ndarray of shape (n, d), float32 or float64, the clean points (inside the box)
    delta0 : ndarray of shape (n, d), the start perturbation (e.g. uniform in ``[-eps, eps]``)
    eps : float, the L∞ radius
    step_size : float
    n_steps : int, ``>= 0``
    clip_min, clip_max : float or None, the data box (``None``: no bound on that side)

    Returns
    -------
    X_adv : ndarray of shape (n, d), ``X``'s dtype
        ``x_0 = clip_box(X + clip(delta0, -eps, eps))``, then ``n_steps`` times::

            x_{t+1} = clip_box( X + clip(x_t + step_size · sign(∇ₓ ℓ(x_t)) - X, -eps, eps) )

        with ``sign(0) = 0`` (a coordinate with zero gradient does not move) and the gradient
        evaluated at the current iterate ``x_t``.  ``n_steps = 0`` returns ``x_0``.

    Notes
    -----
    Madry et al. (2018), arXiv:1706.06083, eq. (2.1): adversarial training minimises the loss
    at this ``X_adv`` (the outer problem); the inner loop only moves the inputs.  Clip the
    *perturbation* ``x - X`` to the ball (not ``x`` itself), then clip to the box.
    """
    raise NotImplementedError


def robust_accuracy_curve(y, pred):
    """Robust accuracy and attack success along an eps grid, from the predictions under attack.

    Tutorial 7.

    Parameters
    ----------
    y : ndarray of shape (n,), integer labels, ``n >= 1``
    pred : ndarray of shape (n, k + 1), integer predictions
        Column 0: the prediction on the clean input; column ``j >= 1``: the prediction on the
        attack's output at the ``j``-th radius ``eps_j`` of a non-decreasing grid.

    Returns
    -------
    accuracy : ndarray of shape (k,), float64
        ``accuracy[j-1]`` = fraction of the points that are classified correctly clean **and**
        under every attack at radii ``eps_1 … eps_j`` (the cumulative worst case: a point
        fooled at a small radius is not robust at a larger one, even if the attack there
        happened to fail).  Non-increasing.
    success_rate : ndarray of shape (k,), float64
        Among the points classified correctly clean, the fraction that some attack at radius
        ``<= eps_j`` fooled; ``0`` (not NaN) when no point is classified correctly clean.

    Notes
    -----
    A robustness curve reports the worst case over every attack that was run; the pointwise
    accuracy at each radius alone overstates robustness when an attack is weak or unlucky
    (gradient masking, Athalye et al. 2018, arXiv:1802.00420).
    """
    raise NotImplementedError


def filter_normalized_direction(params, d):
    """Li et al.'s filter normalisation of a random direction ``d`` in weight space.

    Tutorial 8.

    Parameters
    ----------
    params : dict of ndarrays, the weights ``θ`` (e.g. ``W1`` (d, h), ``b1`` (h,), …)
    d : dict with the same keys, shapes and dtypes, a raw direction (e.g. Gaussian)

    Returns
    -------
    dict with the keys, shapes and dtypes of ``params``
        For every **weight** array, every filter ``d_j`` is rescaled to the norm of the same
        filter of ``θ``::

            d_j  <-  d_j · ‖θ_j‖ / (‖d_j‖ + 1e-10)

        A filter is a column ``W[:, j]`` of a 2-D weight of shape ``(fan_in, fan_out)`` (one
        per output unit).  Weights are the arrays with ``ndim >= 2``; when ``params`` has none
        (logistic regression ``{"w": (d,), "b": ()}``), each 1-D array is a weight and is one
        filter.  Every other array (the biases) gets the direction ``0``.

    Notes
    -----
    A ReLU network computes the same function after ``W_l -> c W_l``, ``W_{l+1} -> W_{l+1}/c``,
    so a raw direction of fixed size means little; after filter normalisation the slices
    ``L(θ + α d)`` of different networks are comparable.  The ``1e-10`` keeps a zero filter of
    ``d`` at zero instead of ``0/0``.  Li et al. (2018), arXiv:1712.09913, section 4.
    """
    raise NotImplementedError


def generator_loss_and_grads(pG, pD, z):
    """A GAN generator's loss and gradients, through the discriminator's input gradient.

    Tutorial 9.

    Both networks are ReLU MLPs in the row-vector convention with parameters ``W1, b1, …,
    WL, bL`` (``L = len(params) // 2`` layers; hidden layers ``h_l = relu(h_{l-1} W_l + b_l)``,
    last layer affine, no activation)::

        x = G(z)               # (n, 2)  the fake samples: G's last affine output
        s = D(x)               # (n, 2)  D's logits; class 1 = "real", class 0 = "fake"
        L_G = (1/n) Σ_i -log softmax(s_i)_1       (the non-saturating generator loss)

    Parameters
    ----------
    pG : dict ``W1 … WL, b1 … bL`` of the generator (``W1`` has ``z.shape[1]`` rows)
    pD : dict ``W1 … WL, b1 … bL`` of the discriminator (input width = G's output width, two
        output logits)
    z : ndarray of shape (n, k), float32 or float64, the latent codes

    Returns
    -------
    loss : float
        ``L_G``.
    grads : dict
        ``∂L_G/∂θ_G`` for every key of ``pG`` (shape of the parameter).  ``D``'s parameters are
        held constant (no gradient for them).
    dx : ndarray of shape (n, 2)
        ``∂L_G/∂x``: the discriminator's input gradient at the fake samples (carries the
        ``1/n``); ``-dx`` is the direction of a targeted attack on ``D`` with target "real".

    Notes
    -----
    Backward: ``ds = (softmax(s) - e_1) / n``; through ``D`` down to its **input**
    (``g = δ W_lᵀ``, ``δ = g ⊙ relu'(a)``, with ``relu'(a) = 1[a > 0]``, so ``0`` at the kink),
    which gives ``dx``; then through ``G`` as in any backward pass with upstream gradient
    ``dx`` (``∂L/∂W_l = h_{l-1}ᵀ δ_l``, ``∂L/∂b_l = Σ_rows δ_l``).  Use a stable log-softmax
    for the loss.  Goodfellow et al. (2014), arXiv:1406.2661, section 3.
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
