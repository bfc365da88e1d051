# %% [markdown]
# # Tutorial 2 — Attacks that are provably right: the linear case
#
# **Papers.** Goodfellow, Shlens, Szegedy (2015), *Explaining and Harnessing Adversarial
# Examples*, arXiv:1412.6572; Shaham, Yamada, Negahban (2015/2018), *Understanding
# Adversarial Training*, arXiv:1511.05432; Madry et al. (2018), *Towards Deep Learning Models
# Resistant to Adversarial Attacks*, arXiv:1706.06083.
#
# **Claims reproduced.**
# 1. *Linearity explains adversarial examples* (Goodfellow §3): under an L∞ budget eps the
#    score of a linear model moves by `eps‖w‖₁`, which grows with the input dimension while
#    eps stays fixed — so high-dimensional linear models are fooled by imperceptible changes.
# 2. The steepest-ascent step of each norm (Shaham eq. for the L∞, L2, L1 uncertainty sets)
#    is the *exact* worst case for a linear model; FGSM is exact there.
# 3. PGD (Madry) converges to that exact worst case.
#
# **Learning objectives.** By the end you can
# 1. explain with Hölder's inequality why FGSM is the *exact* L∞ worst case of a linear model,
#    and why its damage grows with the input dimension;
# 2. write the steepest-ascent step of the L∞, L2 and L1 balls, and the closed-form worst
#    perturbation of a linear classifier (FGSM by hand);
# 3. project onto the L1 ball (soft-thresholding) and watch projected gradient ascent make a
#    perturbation sparse.
#
# **Prerequisites.** Tutorial 0 (logistic regression, input gradients); vector norms and their
# duals (`1/p + 1/q = 1`).
#
# **Time.** About 90 minutes (three exercises).

# %%
import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.analysis.sharpness_curve import fit_robust_logistic
from minadv.attacks import fast_gradient, fgsm, pgd
from minadv.attacks import linear_worst_case as lib_linear_worst_case
from minadv.models import LogisticRegressionModel
from minadv.plotting import plot_curve

rng = np.random.default_rng(0)
CLASS_STYLE = {0: dict(color="#E69F00", marker="o", label="class 0"),     # Okabe–Ito orange
               1: dict(color="#56B4E9", marker="s", label="class 1")}     # Okabe–Ito sky blue


def gaussian_problem(n, d, signal=2.0, rng=rng):
    """Two classes, means ±(signal/sqrt(d))·1: the clean problem is equally hard for every d."""
    y = rng.integers(0, 2, n)
    mean = (2 * y - 1)[:, None] * signal / np.sqrt(d)
    return mean + rng.normal(size=(n, d)), y


# %% [markdown]
# ## 1. The linearity argument
# Keep the clean problem equally hard for every `d` (the class means are `±2/√d`, distance
# fixed) and attack with the *same* tiny L∞ budget `eps = 0.1`.  The worst-case score change
# is `eps‖w‖₁ ≈ eps·√d·‖w‖₂`: it grows like `√d`.

# %%
eps = 0.1
print("   d   test acc   FGSM acc   eps*|w|_1     (Bayes accuracy: Phi(2) = 0.977)")
fgsm_accuracy = []
for d in (10, 100, 1000):
    X, y = gaussian_problem(2000, d)
    X_test, y_test = gaussian_problem(2000, d)             # accuracies on fresh data
    fit = fit_robust_logistic(X, y, 0.0, l2=1e-2, fit_intercept=True)
    model = LogisticRegressionModel(d)
    clean = np.mean(model.predict(fit.params, X_test) == y_test)
    X_adv = fgsm(model, fit.params, X_test, y_test, eps)
    robust = np.mean(model.predict(fit.params, X_adv) == y_test)
    fgsm_accuracy.append(robust)
    print(f"{d:4d}   {clean:9.3f}  {robust:9.3f}   {eps * np.abs(fit.w).sum():8.3f}")
assert fgsm_accuracy[0] > fgsm_accuracy[1] > fgsm_accuracy[2]
assert fgsm_accuracy[2] < 0.2          # at d = 1000 an eps = 0.1 attack breaks the model

fig = plot_curve([10, 100, 1000], {"FGSM, eps = 0.1": fgsm_accuracy}, xlabel="input dimension d",
                 ylabel="test accuracy under FGSM",
                 title="Same clean problem, same eps: larger d, weaker model")
fig.axes[0].set_xscale("log")
plt.show()

# %% [markdown]
# In two dimensions we can watch it happen: every FGSM arrow (eps = 0.5) points straight at
# the decision boundary, along `−y·sign(w)`, and the points within `eps‖w‖₁/‖w‖₂` of the
# boundary (in distance) cross it.

# %%
X2, y2 = gaussian_problem(60, 2, signal=1.5)
fit2 = fit_robust_logistic(X2, y2, 0.0, l2=1e-2, fit_intercept=True)
model2 = LogisticRegressionModel(2)
X2_adv = fgsm(model2, fit2.params, X2, y2, 0.5)
lim = np.abs(np.vstack([X2, X2_adv])).max() + 0.3                 # every point and arrow shown
g1, g2 = np.meshgrid(np.linspace(-lim, lim, 121), np.linspace(-lim, lim, 121))
P = model2.predict_proba(fit2.params, np.column_stack([g1.ravel(), g2.ravel()]))[:, 1]
fig, ax = plt.subplots(figsize=(6.5, 5), constrained_layout=True)
fill = ax.contourf(g1, g2, P.reshape(g1.shape), levels=np.linspace(0, 1, 11), cmap="cividis",
                   alpha=0.8)
ax.contour(g1, g2, P.reshape(g1.shape), levels=[0.5], colors="w", linewidths=2)
for k, style in CLASS_STYLE.items():
    ax.scatter(*X2[y2 == k].T, edgecolors="k", s=30, zorder=3, **style)
ax.quiver(X2[:, 0], X2[:, 1], *(X2_adv - X2).T, angles="xy", scale_units="xy", scale=1,
          color="#D55E00", width=0.006, zorder=4, label="FGSM step (eps = 0.5)")
fig.colorbar(fill, ax=ax, label="P(class 1)")
ax.set_xlabel("x₁")
ax.set_ylabel("x₂")
ax.set_title("FGSM on a 2-D linear classifier (white: the boundary)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
plt.show()
f2 = X2 @ fit2.w + fit2.b
crossed = model2.predict(fit2.params, X2_adv) != model2.predict(fit2.params, X2)
close = ((f2 > 0) == (y2 == 1)) & (np.abs(f2) < 0.5 * np.abs(fit2.w).sum())
print(f"fraction of points pushed across the boundary: {crossed.mean():.2f} "
      f"(correct points within eps‖w‖₁/‖w‖₂ of it: {close.mean():.2f})")
assert np.allclose(np.abs(X2_adv - X2), 0.5)                 # every coordinate moves by eps
assert np.array_equal(crossed, close)                        # exactly those cross

# %% [markdown]
# ## 2. Steepest ascent = exact worst case for a linear model
# `max_{‖δ‖_p ≤ eps} ⟨g, δ⟩ = eps‖g‖_q` (Hölder), attained by `eps·sign(g)` (p = ∞),
# `eps·g/‖g‖₂` (p = 2) and `eps·sign(g_j)e_j` at the largest `|g_j|` (p = 1).
#
# ### Exercise 1 — the steepest-ascent step, three norms
# One row per gradient.  A zero row gives `δ = 0` (never NaN); in L1, ties go to the **first**
# index (what `np.argmax` returns); huge rows (`1e200`) must not overflow the L2 norm.
# `print(course.stub("steepest_ascent"))` has the full task.

# %%
def steepest_ascent(g, eps, norm):
    """argmax_{‖δ‖_p ≤ eps} <g, δ> row by row, for norm in {np.inf, 2, 1}."""
    # BEGIN SOLUTION
    if norm == np.inf:
        return (eps * np.sign(g)).astype(g.dtype)
    if norm == 2:
        scale = np.max(np.abs(g), axis=1, keepdims=True)             # (n, 1) row max
        safe = np.where(scale > 0, scale, 1)
        norms = scale * np.sqrt(np.sum((g / safe) ** 2, axis=1, keepdims=True))
        return (eps * g / np.where(norms > 0, norms, 1)).astype(g.dtype)
    rows = np.arange(g.shape[0])
    j = np.argmax(np.abs(g), axis=1)                     # first index on ties
    delta = np.zeros_like(g)
    delta[rows, j] = eps * np.sign(g[rows, j])
    return delta
    # END SOLUTION


# %%
result = course.check("steepest_ascent", steepest_ascent)

# %% [markdown]
# Hölder's identity, checked with your step: the gain `⟨g, δ⟩` is `eps‖g‖_q`.

# %%
g = rng.normal(size=(5, 30))
for norm, dual in ((np.inf, 1), (2, 2), (1, np.inf)):
    delta = steepest_ascent(g, 0.3, norm)
    gain = np.sum(g * delta, axis=1)
    assert np.allclose(gain, 0.3 * np.linalg.norm(g, ord=dual, axis=1), rtol=1e-14)
print("Hölder identities hold for p = inf, 2, 1 (your steepest_ascent)")

# %% [markdown]
# ### Exercise 2 — FGSM by hand: the worst perturbation of a linear classifier
# For the score `f(x) = x·w + b` the input gradient of the logistic loss is
# `−σ(−s f) s w`: its direction is `−s w` wherever `x` is.  So one steepest-ascent step is the
# exact worst case: `δ = −eps·s·v` with `v = sign(w)` (L∞ — this *is* FGSM), `w/‖w‖₂` (L2),
# `sign(w_j) e_j` at the first largest `|w_j|` (L1).  A weight `w_j = 0` does not change the
# score, so that coordinate does not move.  `print(course.stub("linear_worst_case"))`.

# %%
def linear_worst_case(w, b, X, y, eps, norm):
    """The perturbation (n, d) that lowers every margin s (x·w + b) most in the Lp ball."""
    # BEGIN SOLUTION
    s = 2 * y - 1                                        # (n,) signed labels
    v = steepest_ascent(w[None, :], 1.0, norm)[0]        # Hölder's maximiser for w
    return (-eps * s[:, None] * v[None, :]).astype(X.dtype)
    # END SOLUTION


# %%
result = course.check("linear_worst_case", linear_worst_case)

# %% [markdown]
# Your closed form against the library's one-step attack (`fast_gradient`, which follows the
# loss gradient) on a 50-dimensional problem, for every norm:

# %%
X, y = gaussian_problem(500, 50)
fit = fit_robust_logistic(X, y, 0.0, l2=1e-2, fit_intercept=True)
model = LogisticRegressionModel(50)
for norm in (np.inf, 2, 1):
    exact = X + linear_worst_case(fit.w, fit.b, X, y, 0.5, norm)
    fast = fast_gradient(model, fit.params, X, y, 0.5, norm=norm)
    print(f"norm {norm}: max |fast gradient - your closed form| = {np.abs(fast - exact).max():.1e}")
    assert np.abs(fast - exact).max() < 1e-12
assert np.array_equal(fgsm(model, fit.params, X, y, 0.5), fast_gradient(model, fit.params, X, y, 0.5))

# %% [markdown]
# ## 3. PGD reaches the optimum
# With a box constraint too (inputs in `[−3, 3]`) the L∞ optimum is still closed-form
# (clip per coordinate).  PGD with enough steps reaches it.

# %%
X_box = np.clip(X, -3, 3)
exact = X_box + lib_linear_worst_case(fit.w, fit.b, X_box, y, 0.5, norm=np.inf, clip_min=-3,
                                      clip_max=3)
X_pgd, trace = pgd(model, fit.params, X_box, y, 0.5, norm=np.inf, n_steps=40, step_size=0.05,
                   clip_min=-3, clip_max=3, rng=0, return_trace=True)
loss_exact = model.loss(fit.params, exact, y)
loss_pgd = model.loss(fit.params, X_pgd, y)
print(f"loss at closed form {loss_exact:.10f}, at PGD-40 {loss_pgd:.10f}")
assert abs(loss_pgd - loss_exact) <= 1e-8 * loss_exact

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(trace.loss[0], "o-", color="#0072B2", label="PGD: mean loss after k steps")
ax.axhline(loss_exact, color="k", ls=":", label="closed-form optimum")
ax.set_xlabel("PGD step k (0 = random start)")
ax.set_ylabel("mean loss")
ax.set_title("PGD climbs to the exact worst case")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## 4. Projected gradient ascent in the L1 ball: sparsity from the projection
# PGD needs the Euclidean projection onto the ball.  For L∞ it is a clip; for L1 it is a
# *soft threshold*: shrink every `|δ_j|` by the same `θ` and cut at 0, with the `θ` that makes
# the row's L1 norm exactly `eps` (Duchi et al. 2008).
#
# ### Exercise 3 — projection onto the L1 ball
# Rows already inside stay unchanged.  Find `θ` from the sorted magnitudes: with
# `u = sort(|δ|)` decreasing and `c_k = u_1 + … + u_k`, take the largest `k` with
# `u_k > (c_k − eps)/k`, then `θ = (c_k − eps)/k`.  `print(course.stub("project_l1_ball"))`.

# %%
def project_l1_ball(delta, eps):
    """Euclidean projection of every row of delta (n, d) onto {‖r‖₁ ≤ eps}."""
    # BEGIN SOLUTION
    out = delta.copy()
    for i, row in enumerate(delta):
        if np.sum(np.abs(row)) <= eps:
            continue
        if eps == 0:
            out[i] = 0
            continue
        u = np.sort(np.abs(row))[::-1]
        c = np.cumsum(u) - eps
        k = np.nonzero(u * np.arange(1, row.size + 1) > c)[0][-1]
        theta = c[k] / (k + 1)
        out[i] = np.sign(row) * np.maximum(np.abs(row) - theta, 0)
    return out
    # END SOLUTION


# %%
result = course.check("project_l1_ball", project_l1_ball)

# %% [markdown]
# Now ascend with plain *L2* steps (`δ ← δ + t·g/‖g‖₂`, every coordinate moves; `t = 5 eps`)
# and project with your L1 projection after each step.  The projection alone drives the
# perturbation to the L1 optimum, which changes one coordinate (your `linear_worst_case` with
# `norm=1`): the number of nonzero coordinates falls from 50 (the step) to 9 (after the first
# projection) and then to 1.  That takes tens of steps because
# the two largest `|w_j|` are close (0.231 and 0.227 of `‖w‖₂`): each step moves about
# `t` times their difference of the budget `eps` to the largest.

# %%
eps1, t_step, n_steps = 2.0, 10.0, 100
delta = np.zeros_like(X)
nonzeros, losses = [], []
for _ in range(n_steps):
    gx = model.loss_and_grads(fit.params, X + delta, y).input_grad          # (n, d)
    delta = project_l1_ball(delta + steepest_ascent(gx, t_step, 2), eps1)
    nonzeros.append(np.mean(np.count_nonzero(delta, axis=1)))
    losses.append(model.loss(fit.params, X + delta, y))
loss_l1 = model.loss(fit.params, X + linear_worst_case(fit.w, fit.b, X, y, eps1, 1), y)
print(f"after {n_steps} steps: loss {losses[-1]:.10f}, closed-form L1 optimum {loss_l1:.10f}, "
      f"nonzero coordinates per row {nonzeros[-1]:.0f}")
assert abs(losses[-1] - loss_l1) <= 1e-9 * loss_l1 and nonzeros[-1] == 1
assert nonzeros[0] == 9 and np.count_nonzero(steepest_ascent(gx, t_step, 2)) == gx.size
top = np.sort(np.abs(fit.w))[::-1][:2] / np.linalg.norm(fit.w)
assert np.allclose(top, [0.231, 0.227], atol=5e-4)           # the numbers the prose quotes
first_sparse = 1 + int(np.argmax(np.array(nonzeros) == 1))
print(f"one nonzero coordinate from step {first_sparse} on; t (u₁ − u₂) = "
      f"{t_step * (top[0] - top[1]):.3f} per step against eps = {eps1}")
assert 10 <= first_sparse <= n_steps                          # "tens of steps"

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5), constrained_layout=True)
ax1.plot(np.arange(1, n_steps + 1), losses, "o-", ms=3, color="#0072B2",
         label="L2 step + your L1 projection")
ax1.axhline(loss_l1, color="k", ls=":", label="closed-form L1 optimum")
ax1.set_xlabel("step k")
ax1.set_ylabel("mean loss")
ax1.set_title("Projected ascent reaches the L1 worst case")
ax1.legend(loc="lower right")
ax2.semilogy(np.arange(1, n_steps + 1), nonzeros, "s-", ms=3, color="#D55E00")
ax2.set_xlabel("step k")
ax2.set_ylabel("nonzero coordinates of δ (mean per row)")
ax2.set_title("The projection makes δ sparse")
plt.show()

# %% [markdown]
# ## Summary
# * For linear models the inner maximisation of adversarial training is solved exactly by one
#   steepest-ascent step: FGSM *is* the L∞ worst case; PGD converges to it.
# * The damage an L∞ attack can do grows with `‖w‖₁`, i.e. with the dimension.
# * Projections make PGD work in any ball; the L1 projection soft-thresholds and makes the
#   perturbation sparse.
#
# ## Open questions (not graded)
# 1. Train with `fit_robust_logistic(X, y, eps, norm=np.inf)` (L∞ adversarial training).  How
#    sparse does `w` become, and what happens to the FGSM accuracy?
# 2. How many PGD steps does the L∞ run of section 3 need to reach the optimum, and why so
#    few for a linear model?
# 3. Why does the L1 attack change exactly one coordinate?  Which one?
