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
# **Goals.** Derive the closed form, check it against finite differences, reproduce the
# sharpness table of `docs/theory.md` §2.5, and see *which term* of the Hessian does the sharpening.

# %%
import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.analysis.sharpness_curve import random_noise_control, sharpness_curve
from minadv.datasets import make_sharpness_data
from minadv.gradcheck import numerical_gradient, rel_error
from minadv.plotting import plot_sharpness
from minadv.robust_logistic import (
    critical_radius,
    flat_hessian,
    hessian_terms,
    robust_logistic_loss_grad,
)

# %% [markdown]
# ## 1. The inner maximisation has a closed form
# For a linear score the worst L2 perturbation is `δ* = −eps·y·w/‖w‖` (Hölder), so the
# adversarial loss is
#
# $$L_{adv}(w) = \frac1n\sum_i \operatorname{softplus}(-y_i w^\top x_i + \varepsilon\|w\|_2)
# \qquad (1.1)$$
#
# and with `u = w/‖w‖`, `s_i = σ(−z_i)`, `c_i = s_i(1−s_i)`, `a_i = y_i x_i − eps·u` its Hessian is
#
# $$H = \frac1n\sum_i c_i a_i a_i^\top + \frac{\varepsilon}{\|w\|}\,\overline{s}\,(I - uu^\top).
# \qquad (1.3)$$
#
# Term 1 is the ordinary logistic Hessian at the *fixed* adversarial points; term 2 exists
# only because the attack moves with `w`.

# %%
X, y, gen = make_sharpness_data()          # docs/theory.md §2.5: n = 400, d = 20, seed 1
w = np.random.default_rng(0).normal(size=20)
eps = 0.5
loss, grad = robust_logistic_loss_grad(w, X, y, eps, norm=2)
H = flat_hessian(w, X, y, eps, norm=2)
fd_grad = numerical_gradient(lambda v: robust_logistic_loss_grad(v, X, y, eps, norm=2)[0], w)
fd_hess = np.column_stack([(robust_logistic_loss_grad(w + 1e-5 * e, X, y, eps, norm=2)[1]
                            - robust_logistic_loss_grad(w - 1e-5 * e, X, y, eps, norm=2)[1]) / 2e-5
                           for e in np.eye(20)])
print(f"gradient vs FD: {rel_error(grad, fd_grad):.1e}   Hessian vs FD: {rel_error(H, fd_hess):.1e}")
assert rel_error(grad, fd_grad) < 1e-7 and rel_error(H, fd_hess) < 1e-7

term1, term2 = hessian_terms(w, None, X, y, eps, norm=2)
print("term 2 annihilates w:", np.abs(term2 @ w).max())
assert np.abs(term2 @ w).max() < 1e-12

# %% [markdown]
# ## 2. Train to the optimum for each eps and read the spectrum
# Each eps is fitted exactly in float64 (L-BFGS, then Newton polishing, warm-started along the
# grid); every fit carries its certificate, the KKT residual `curve.kkt_residual` (≤ 1e-8).

# %%
grid = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
curve = sharpness_curve(X, y, grid, norm=2, k=2)
control = random_noise_control(X, y, grid[::2], n_directions=20, rng=gen)
eps_c = critical_radius(X, y, 2)
print("lambda_max:", np.round(curve.lambda_max, 5))
print("random-noise control lambda_max:", np.round(control.lambda_max, 5))
print(f"critical radius eps_c = {eps_c:.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
plot_sharpness(grid, curve.lambda_max, ax=ax1, eps_c=eps_c)
ax1.plot(grid[::2], control.lambda_max, "s--", label="random noise, same norm")
ax1.legend()
ax2.plot(grid, curve.w_norm, "o-", label="‖w*‖")
ax2.plot(grid, curve.robust_accuracy, "s-", label="robust training accuracy")
ax2.axvline(eps_c, color="k", ls=":")
ax2.set_xlabel("eps")
ax2.set_title("The optimum shrinks towards 0 as eps → ε_c")
ax2.legend()
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

fig, ax = plt.subplots(figsize=(6, 3.5))
sizes = np.array(term_sizes)
ax.plot(grid[::2], sizes[:, 0], "o-", label="λ_max(term 1): logistic Hessian at δ*")
ax.plot(grid[::2], sizes[:, 1], "s-", label="‖term 2‖ = eps·mean(s)/‖w*‖ (attack moves with w)")
ax.set_xlabel("eps")
ax.set_ylabel("size")
ax.set_title("Which term sharpens?")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Summary
# The sharpening is exact and explained: the attack's dependence on `w` adds the PSD term
# `(eps/‖w‖)·mean(s)·(I − uuᵀ)`, orthogonal to `w`, which diverges as `w* → 0` at eps_c.
# Random perturbations of the same norm do not depend on `w` and do not add it.
#
# ## Exercises
# 1. Repeat with `norm=np.inf`.  Is there an `eps/‖w‖` term?  (See `docs/theory.md` §1.3.)
# 2. Plot `curve.lambda_max` against `eps_c − eps` on log axes: what power law do you see?
# 3. Use `minadv.analysis.landscape` to draw filter-normalised 1-D slices at `w*(0)` and
#    `w*(0.8)`.  Which is narrower?  (Tutorial 8 does this for neural networks.)
# 4. (Autograded) Write the closed-form Hessian (1.3) yourself
#    (`print(course.stub("robust_logistic_hessian"))` shows the task):


# %%
def robust_logistic_hessian(w, X, y, eps):
    """(d, d) Hessian (1.3) of the L2-adversarial logistic loss, y in {0, 1}, no bias."""
    raise NotImplementedError          # your code here


attempt = course.check("robust_logistic_hessian", robust_logistic_hessian)
