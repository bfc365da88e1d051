# %% [markdown]
# # Tutorial 4 — L∞ makes the adversarial loss non-smooth; EntropySGD smooths it
#
# **Paper.** Kanai, Yamada, Takahashi, Yamanaka, Ida (2021), *Smoothness Analysis of
# Adversarial Training*, arXiv:2103.01400 (TNNLS 2024).
#
# **Claims.** (1) Because the optimal attack depends on the parameters, the constraint set
# decides how smooth the adversarial loss is: an L∞ constraint causes gradient *jumps*, an
# L2 constraint does not.  (2) EntropySGD's local-entropy surrogate has curvature at most
# its scope γ, even on a kinked loss, so it smooths adversarial training.
#
# **Learning objectives.** By the end you can
# 1. measure gradient-Lipschitz ratios on the exact adversarial loss of logistic regression and
#    say where an L∞ attack puts kinks (and why an L2 attack does not);
# 2. write the gradient of EntropySGD's local entropy, `γ(x − ⟨x'⟩)`, with a stable Gibbs
#    mean (the graded exercise);
# 3. verify numerically that the local entropy's curvature is at most its scope `γ`, even on a
#    kinked loss.
#
# **Prerequisites.** Tutorial 0 (log-sum-exp), tutorial 3 (the closed-form adversarial loss);
# Gaussian integrals.
#
# **Time.** About 60 minutes (one exercise).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.analysis.smoothness import gradient_lipschitz_ratios, robust_logistic_grad_fn
from minadv.datasets import make_sharpness_data
from minadv.optim import entropy_sgd, local_entropy_grad
from minadv.plotting import plot_smoothness

# %% [markdown]
# ## 1. Where the L∞ adversarial loss has kinks
# With an L∞ attack the worst case is `δ* = −eps·y·sign(w)`, so the loss
# `mean softplus(−y wᵀx + eps‖w‖₁)` contains `‖w‖₁`: a kink wherever a weight crosses 0.
# The gradient jumps by `2·eps·mean(s)` in that coordinate.  The L2 loss contains `‖w‖₂`,
# smooth everywhere except `w = 0`.
#
# We probe `r(t) = ‖∇L(w + t e₃) − ∇L(w − t e₃)‖ / 2t` next to the kink `w₃ = 0`.

# %%
X, y, _ = make_sharpness_data()
w = np.random.default_rng(0).normal(size=X.shape[1])
w[3] = 1e-9
ts = np.logspace(-2, -6, 5)
e3 = np.eye(X.shape[1])[3:4]
r_inf = gradient_lipschitz_ratios(robust_logistic_grad_fn(X, y, 0.5, norm=np.inf), w, e3, ts,
                                  symmetric=True)[0]
r_l2 = gradient_lipschitz_ratios(robust_logistic_grad_fn(X, y, 0.5, norm=2), w, e3, ts,
                                 symmetric=True)[0]
print("      t      L_inf ratio    L2 ratio")
for row in zip(ts, r_inf, r_l2):
    print("{:9.0e}  {:12.4g}  {:10.5f}".format(*row))
assert r_inf[-1] / r_inf[0] >= 100            # grows like 1/t: no Lipschitz constant
assert r_l2.max() / r_l2.min() <= 2           # bounded: the L2 adversarial loss is smooth here

fig = plot_smoothness(ts, {"L∞ attack (kink at w₃ = 0)": r_inf, "L2 attack": r_l2})
fig.axes[0].plot(ts, r_inf[0] * ts[0] / ts, "k:", label="slope −1 (∝ 1/t)")
fig.axes[0].legend(loc="center right")       # the L∞ line is high there, the L2 line low
plt.show()

# %% [markdown]
# The L∞ ratio is `jump / 2t` with `jump = 2·eps·mean(s)`: check the prefactor.

# %%
jump = r_inf[-1] * 2 * ts[-1]
g = robust_logistic_grad_fn(X, y, 0.5, norm=np.inf)
measured_jump = abs(g(w + 1e-7 * e3[0])[3] - g(w - 1e-7 * e3[0])[3])
print(f"jump from the ratio: {jump:.6f}   jump measured directly: {measured_jump:.6f}")
assert abs(jump - measured_jump) < 1e-3 * measured_jump

# %% [markdown]
# ## 2. EntropySGD caps the curvature
# The local entropy `F_γ(x) = −log ∫ exp(−f(x') − γ/2 (x − x')²) dx'` has gradient
# `γ (x − ⟨x'⟩)` and Hessian `γ − γ² Var(x') ≤ γ`, for **any** `f`.  Take the most kinked
# 1-D loss there is, `f(x) = a|x|`, and compute the Gibbs mean by quadrature.

# %% [markdown]
# ### Exercise — the local-entropy gradient on a grid
# Sample the loss on a grid `x'_j`; the Gibbs weights are `exp(−f(x'_j) − γ/2 (x − x'_j)²)` and
# `⟨x'⟩` their mean.  The weights under- or overflow for large `f` or far-away `x`: work with
# the log-weights and subtract each point's maximum before `exp` (the log-sum-exp trick of
# tutorial 0).  One point per row of an `(m, k)` array.
# `print(course.stub("local_entropy_gradient"))` has the full task.

# %%
def local_entropy_gradient(x, grid, f_grid, gamma):
    """γ (x − ⟨x'⟩_x) for every point x (m,), the Gibbs mean taken over the grid (k,)."""
    # BEGIN SOLUTION
    logw = -f_grid[None, :] - 0.5 * gamma * (x[:, None] - grid[None, :]) ** 2   # (m, k)
    logw = logw - logw.max(axis=1, keepdims=True)        # the largest weight is exp(0) = 1
    weights = np.exp(logw)
    mean = (weights @ grid) / weights.sum(axis=1)        # (m,) Gibbs means
    return gamma * (x - mean)
    # END SOLUTION


# %%
result = course.check("local_entropy_gradient", local_entropy_gradient)

# %% [markdown]
# Now the most kinked loss, `f(x) = a|x|`, with your gradient.

# %%
a, gamma = 5.0, 1.0
grid = np.linspace(-30, 30, 600_001)


def surrogate_grad(x):
    return local_entropy_gradient(np.array([x]), grid, a * np.abs(grid), gamma)[0]


for t in (1e-1, 1e-2, 1e-3):
    raw = (a * np.sign(t) - a * np.sign(-t)) / (2 * t)          # |x| at its kink
    smooth = (surrogate_grad(t) - surrogate_grad(-t)) / (2 * t)
    print(f"t={t:.0e}:  ratio of f = {raw:9.1f}   ratio of F_gamma = {smooth:.4f}  (<= gamma = {gamma})")
    assert 0 <= smooth <= gamma + 1e-6

xs = np.linspace(-3, 3, 121 if os.environ.get("MINADV_QUICK") == "1" else 241)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, a * np.sign(xs), label="f'(x) = a·sign(x)  (jumps by 2a)")
ax.plot(xs, [surrogate_grad(x) for x in xs], label="∇F_γ(x) = γ(x − ⟨x'⟩)  (slope ≤ γ)")
ax.set_xlabel("x")
ax.set_ylabel("gradient")
ax.set_title(f"Local entropy smooths the kink of a|x| (a = {a}, γ = {gamma})")
ax.legend(loc="lower right")              # f' = +5 and ∇F_γ > 0 there: empty
plt.show()

# %% [markdown]
# On a quadratic `f = a x²/2` the Gibbs measure is Gaussian, `⟨x'⟩ = γx/(a+γ)`, so one outer
# step of EntropySGD uses the gradient `aγ/(a+γ)·x`: the curvature `a` is replaced by
# `aγ/(a+γ) < min(a, γ)`.  minadv's optimizer lets us plug in that exact Gibbs mean.

# %%
a = 100.0
params = {"x": np.array([2.0])}
exact = entropy_sgd(lr=1.0, L=5, gamma0=gamma, scoping=0.0,
                    gibbs_mean_fn=lambda p, g: {"x": g * p["x"] / (a + g)})
updates, _ = exact.update({"x": a * params["x"]}, exact.init(params), params,
                          grad_fn=lambda p: {"x": a * p["x"]})
effective = -updates["x"][0] / params["x"][0]
print(f"effective curvature a*gamma/(a+gamma) = {a * gamma / (a + gamma):.5f}; "
      f"measured {effective:.5f}")
assert abs(effective - a * gamma / (a + gamma)) < 1e-12
assert local_entropy_grad({"x": np.array([1.0])}, {"x": np.array([0.25])}, 2.0)["x"][0] == 1.5

# %% [markdown]
# ## Summary
# * L∞ adversarial loss: gradient jumps at every `w_i = 0` (ratio ∝ 1/t); L2: bounded ratio.
# * The local entropy has curvature ≤ γ whatever the loss, which is why EntropySGD helps
#   L∞ adversarial training (Kanai et al.).
#
# ## Open questions (not graded)
# 1. Train `fit_robust_logistic(X, y, 0.3, norm=np.inf)` (from `minadv.analysis`): how many
#    weights end exactly at 0, i.e. on a kink? The fit is certified (`fit.certified`,
#    `fit.kkt_residual`): a zero weight is optimal because its subgradient interval contains 0.
# 2. Repeat part 1 with the one-sided ratio (`symmetric=False`).  Why does it *not* grow when
#    stepping from `w₃ = 1e-9` in the +e₃ direction?
# 3. For `f = a|x|` derive `Var(x')` in closed form and check `γ − γ² Var(x')` at `x = 0`.
# 4. Your `local_entropy_gradient` on `f = a x²/2`: compare with `aγ/(a+γ)·x`.  How fine must
#    the grid be for 1e-8 agreement?
