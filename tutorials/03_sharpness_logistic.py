# %% [markdown]
# # Tutorial 3 — Adversarial training makes the weight loss landscape sharper
#
# **Paper.** Yamada, Kanai, Iwata, Takahashi, Yamanaka, Takahashi, Kumagai (2021),
# *Adversarial Training Makes Weight Loss Landscape Sharper in Logistic Regression*,
# arXiv:2102.02950.
#
# **Claim.** For linear logistic regression trained against an L2 attack of radius eps, the
# largest eigenvalue of the Hessian of the loss w.r.t. the weights grows with eps — and the
# cause is that the noise is *aligned with the loss gradient*: random noise of the same size
# does not sharpen.
#
# **Learning objectives.** By the end you can
# 1. solve the inner maximisation of adversarial logistic regression in closed form with the
#    dual norm, and write the adversarial loss for L∞, L2 and L1 attacks;
# 2. write its Hessian (1.3) and check it against finite differences;
# 3. reproduce the sharpness table of `docs/theory.md` §2.5 with *your* Hessian and say which
#    of its two terms does the sharpening.
#
# **Prerequisites.** Tutorial 0 (logistic regression), tutorial 2 (Hölder, the linear worst
# case); eigenvalues of a symmetric matrix.
#
# **Time.** About 75 minutes (two exercises).

# %%
import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.analysis.sharpness_curve import random_noise_control, sharpness_curve
from minadv.attacks import linear_worst_case
from minadv.datasets import make_sharpness_data
from minadv.gradcheck import numerical_gradient, rel_error
from minadv.plotting import plot_sharpness
from minadv.robust_logistic import (
    critical_radius,
    hessian_terms,
    robust_logistic_loss_grad,
)

# %% [markdown]
# ## 1. The inner maximisation has a closed form
# For a linear score the worst perturbation in the Lp ball lowers every margin by exactly
# `eps‖w‖_q`, with `q` the dual exponent (`1/p + 1/q = 1`; tutorial 2, `linear_worst_case`):
# `min_{‖δ‖_p ≤ eps} s w·(x + δ) = s w·x − eps‖w‖_q` (Hölder).  So the adversarial loss is
#
# $$L_{adv}(w) = \frac1n\sum_i \operatorname{softplus}(-s_i (w^\top x_i + b) + \varepsilon\|w\|_q)
# \qquad (1.1)$$
#
# ### Exercise 1 — the adversarial loss through the dual norm
# `q = 1` for an L∞ attack, 2 for L2, ∞ for L1; `softplus(t) = np.logaddexp(0, t)`.
# `print(course.stub("robust_logistic_loss"))` has the full task.

# %%
def robust_logistic_loss(w, b, X, y, eps, norm):
    """Mean logistic loss under the worst Lp attack of radius eps (closed form), y in {0, 1}."""
    # BEGIN SOLUTION
    q = {np.inf: 1, 2: 2, 1: np.inf}[norm]               # the dual exponent
    s = 2 * y - 1
    scale = np.max(np.abs(w))
    w_norm = scale * np.linalg.norm(w / scale, ord=q) if scale > 0 else 0.0
    z = s * (X @ w + b) - eps * w_norm                   # (n,) robust margins
    return float(np.mean(np.logaddexp(0, -z)))
    # END SOLUTION


# %%
result = course.check("robust_logistic_loss", robust_logistic_loss)

# %% [markdown]
# Your closed form equals the plain logistic loss at the attacked points, for every norm: the
# inner maximisation is solved, not approximated.

# %%
X, y, gen = make_sharpness_data()          # docs/theory.md §2.5: n = 400, d = 20, seed 1
w = np.random.default_rng(0).normal(size=20)
eps = 0.5
for norm in (np.inf, 2, 1):
    X_adv = X + linear_worst_case(w, 0.0, X, y, eps, norm=norm)
    attacked = robust_logistic_loss(w, 0.0, X_adv, y, 0.0, norm)      # eps = 0: plain loss
    closed = robust_logistic_loss(w, 0.0, X, y, eps, norm)
    print(f"norm {norm}: loss at the attacked points {attacked:.12f}, closed form {closed:.12f}")
    assert abs(attacked - closed) < 1e-12 * closed

# %% [markdown]
# From here on: the L2 attack, no bias.  With `u = w/‖w‖`, `σ_i = σ(−z_i)`,
# `c_i = σ(z_i)σ(−z_i)` and the label-signed adversarial example `a_i = s_i x_i − eps·u`, the
# Hessian of (1.1) is
#
# $$H = \frac1n\sum_i c_i a_i a_i^\top + \frac{\varepsilon}{\|w\|}\,\overline{\sigma}\,(I - uu^\top).
# \qquad (1.3)$$
#
# Term 1 is the ordinary logistic Hessian at the *fixed* adversarial points; term 2 exists
# only because the attack moves with `w`.
#
# ### Exercise 2 — the Hessian (1.3)
# Compute `c_i` as `σ(z)σ(−z)`, not `σ(z)(1 − σ(z))` (which cancels to 0 for `z > 37`).
# `print(course.stub("robust_logistic_hessian"))` has the full task.

# %%
def robust_logistic_hessian(w, X, y, eps):
    """(d, d) Hessian (1.3) of the L2-adversarial logistic loss, y in {0, 1}, no bias."""
    # BEGIN SOLUTION
    n, dim = X.shape
    s = (2 * y - 1).astype(X.dtype)
    nw = np.linalg.norm(w)
    u = w / nw

    def sigma(t):
        e = np.exp(-np.abs(t))
        return np.where(t >= 0, 1 / (1 + e), e / (1 + e))

    z = s * (X @ w) - eps * nw                           # robust margins
    c = sigma(z) * sigma(-z)                             # not sigma (1 - sigma): cancellation
    A = s[:, None] * X - eps * u                         # (n, d) label-signed adversarial x
    term1 = (A.T * c) @ A / n
    term2 = (eps / nw) * np.mean(sigma(-z)) * (np.eye(dim, dtype=X.dtype) - np.outer(u, u))
    return term1 + term2
    # END SOLUTION


# %%
result = course.check("robust_logistic_hessian", robust_logistic_hessian)

# %% [markdown]
# Your Hessian against finite differences of the exact gradient, and your loss against the
# library's gradient:

# %%
loss, grad = robust_logistic_loss_grad(w, X, y, eps, norm=2)
H = robust_logistic_hessian(w, X, y, eps)
fd_grad = numerical_gradient(lambda v: robust_logistic_loss(v, 0.0, X, y, eps, 2), w)
fd_hess = np.column_stack([(robust_logistic_loss_grad(w + 1e-5 * e, X, y, eps, norm=2)[1]
                            - robust_logistic_loss_grad(w - 1e-5 * e, X, y, eps, norm=2)[1]) / 2e-5
                           for e in np.eye(20)])
print(f"gradient vs FD of your loss: {rel_error(grad, fd_grad):.1e}   "
      f"your Hessian vs FD: {rel_error(H, fd_hess):.1e}")
assert rel_error(grad, fd_grad) < 1e-7 and rel_error(H, fd_hess) < 1e-7

term1, term2 = hessian_terms(w, None, X, y, eps, norm=2)
print("term 2 annihilates w:", np.abs(term2 @ w).max())
assert np.abs(term2 @ w).max() < 1e-12
assert rel_error(H, term1 + term2) < 1e-13

# %% [markdown]
# ## 2. Train to the optimum for each eps and read the spectrum
# Each eps is fitted exactly in float64 (L-BFGS, then Newton polishing, warm-started along the
# grid); every fit carries its certificate, the KKT residual `curve.kkt_residual` (≤ 1e-8).

# %%
grid = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
curve = sharpness_curve(X, y, grid, norm=2, k=2)
control = random_noise_control(X, y, grid[::2], n_directions=20, rng=gen)
eps_c = critical_radius(X, y, 2)
yours = np.array([np.linalg.eigvalsh(robust_logistic_hessian(w_opt, X, y, e))[-1]
                  for e, w_opt in zip(grid, curve.w)])
print("lambda_max:", np.round(curve.lambda_max, 5))
print("lambda_max of your Hessian at the same optima:", np.round(yours, 5))
assert np.allclose(yours, curve.lambda_max, rtol=1e-8)
print("random-noise control lambda_max:", np.round(control.lambda_max, 5))
print(f"critical radius eps_c = {eps_c:.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
plot_sharpness(grid, curve.lambda_max, ax=ax1, eps_c=eps_c)
ax1.plot(grid[::2], control.lambda_max, "s--", label="random noise, same norm")
ax1.legend(loc="upper left")
ax2.plot(grid, curve.w_norm, "o-", label="‖w*‖")
ax2.plot(grid, curve.robust_accuracy, "s-", label="robust training accuracy")
ax2.axvline(eps_c, color="k", ls=":", label=f"ε_c = {eps_c:.3f}")
ax2.set_xlabel("eps (L2 attack radius)")
ax2.set_ylabel("‖w*‖  /  accuracy")
ax2.set_title("The optimum shrinks towards 0 as eps → ε_c")
ax2.legend(loc="upper right")             # above the falling curves, clear of the data
plt.show()

reference = {0.0: 0.15774, 0.1: 0.18942, 0.2: 0.22944, 0.3: 0.27989, 0.4: 0.34474,
             0.5: 0.43093, 0.6: 0.55072, 0.7: 0.72817, 0.8: 1.02062}
assert np.allclose(curve.lambda_max, [reference[e] for e in np.round(grid, 1)], atol=1e-4)
assert np.all(np.diff(curve.lambda_max) > 0)
assert control.lambda_max.max() / control.lambda_max.min() < 1.05

# %% [markdown]
# ## 3. Which term sharpens?
# Split the Hessian at each optimum.  Both terms grow, for different reasons: term 1 (the
# logistic Hessian at the fixed adversarial points) grows because the robust margins shrink,
# so more points sit where `c_i = σ(z)σ(−z)` is large; term 2, `eps·mean(s)/‖w*‖`, grows
# super-linearly because `‖w*‖` shrinks towards 0 as eps → eps_c, and by eps = 0.8 it is
# more than twice term 1.  (Measured below: term 1 goes 0.158 → 0.325, term 2 0 → 0.696.)

# %%
term_sizes = []
for e, w_opt in zip(grid[::2], curve.w[::2]):
    t1, t2 = hessian_terms(w_opt, None, X, y, e, norm=2)
    term_sizes.append((np.linalg.eigvalsh(t1)[-1], np.linalg.eigvalsh(t2)[-1]))
    print(f"eps={e:.1f}:  lam_max(term1)={term_sizes[-1][0]:.5f}   "
          f"||term2||={term_sizes[-1][1]:.5f}")
assert term_sizes[-1][1] > 2 * term_sizes[-1][0]     # the attack term dominates at eps = 0.8
assert np.allclose(term_sizes[0], (0.158, 0.0), atol=5e-4)      # the numbers the prose quotes
assert np.allclose(term_sizes[-1], (0.325, 0.696), atol=5e-4)

fig, ax = plt.subplots(figsize=(6, 3.5))
sizes = np.array(term_sizes)
ax.plot(grid[::2], sizes[:, 0], "o-", label="λ_max(term 1): logistic Hessian at δ*")
ax.plot(grid[::2], sizes[:, 1], "s-", label="‖term 2‖ = eps·mean(s)/‖w*‖ (attack moves with w)")
ax.set_xlabel("eps")
ax.set_ylabel("largest eigenvalue of the term")
ax.set_title("Which term sharpens?")
ax.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# ## Summary
# The sharpening is exact and explained: the attack's dependence on `w` adds the PSD term
# `(eps/‖w‖)·mean(s)·(I − uuᵀ)`, orthogonal to `w`, which diverges as `w* → 0` at eps_c.
# Random perturbations of the same norm do not depend on `w` and do not add it.
#
# ## Open questions (not graded)
# 1. Repeat with `norm=np.inf`.  Is there an `eps/‖w‖` term?  (See `docs/theory.md` §1.3.)
# 2. Plot `curve.lambda_max` against `eps_c − eps` on log axes: what power law do you see?
# 3. Use `minadv.analysis.landscape` to draw filter-normalised 1-D slices at `w*(0)` and
#    `w*(0.8)`.  Which is narrower?  (Tutorial 8 does this for neural networks.)
# 4. Why do random perturbations of the same norm not sharpen, in terms of (1.3)?
