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
# **Goals.** Watch FGSM fool a linear classifier more as d grows; check every attack against
# the closed form.

# %%
import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.analysis.sharpness_curve import fit_robust_logistic
from minadv.attacks import fast_gradient, fgsm, linear_worst_case, pgd, steepest_ascent
from minadv.models import LogisticRegressionModel
from minadv.plotting import plot_curve, plot_decision_boundary

rng = np.random.default_rng(0)


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
fig = plot_decision_boundary(lambda Z: model2.predict_proba(fit2.params, Z), X2, y2, lim=3.0, X_adv=X2_adv,
                             title="FGSM on a 2-D linear classifier (eps = 0.5)")
plt.show()
crossed = np.mean(model2.predict(fit2.params, X2_adv) != model2.predict(fit2.params, X2))
print(f"fraction of points pushed across the boundary: {crossed:.2f}")
assert np.allclose(np.abs(X2_adv - X2), 0.5)                 # every coordinate moves by eps

# %% [markdown]
# ## 2. Steepest ascent = exact worst case for a linear model
# `max_{‖δ‖_p ≤ eps} ⟨g, δ⟩ = eps‖g‖_q` (Hölder), attained by `eps·sign(g)` (p = ∞),
# `eps·g/‖g‖₂` (p = 2) and `eps·sign(g_j)e_j` at the largest `|g_j|` (p = 1).  For a linear
# score the input gradient is `∝ −y·w` everywhere, so one step is optimal.

# %%
g = rng.normal(size=(5, 30))
for norm, dual in ((np.inf, 1), (2, 2), (1, np.inf)):
    delta = steepest_ascent(g, 0.3, norm)
    gain = np.sum(g * delta, axis=1)
    assert np.allclose(gain, 0.3 * np.linalg.norm(g, ord=dual, axis=1), rtol=1e-14)
print("Hölder identities hold for p = inf, 2, 1")

X, y = gaussian_problem(500, 50)
fit = fit_robust_logistic(X, y, 0.0, l2=1e-2, fit_intercept=True)
model = LogisticRegressionModel(50)
for norm in (np.inf, 2, 1):
    exact = X + linear_worst_case(fit.w, fit.b, X, y, 0.5, norm=norm)
    fast = fast_gradient(model, fit.params, X, y, 0.5, norm=norm)
    print(f"norm {norm}: max |fast gradient - closed form| = {np.abs(fast - exact).max():.1e}")
    assert np.abs(fast - exact).max() < 1e-12
assert np.array_equal(fgsm(model, fit.params, X, y, 0.5), fast_gradient(model, fit.params, X, y, 0.5))

# %% [markdown]
# ## 3. PGD reaches the optimum
# With a box constraint too (inputs in `[−3, 3]`) the L∞ optimum is still closed-form
# (clip per coordinate).  PGD with enough steps reaches it.

# %%
X_box = np.clip(X, -3, 3)
exact = X_box + linear_worst_case(fit.w, fit.b, X_box, y, 0.5, norm=np.inf, clip_min=-3, clip_max=3)
X_pgd, trace = pgd(model, fit.params, X_box, y, 0.5, norm=np.inf, n_steps=40, step_size=0.05,
                   clip_min=-3, clip_max=3, rng=0, return_trace=True)
loss_exact = model.loss(fit.params, exact, y)
loss_pgd = model.loss(fit.params, X_pgd, y)
print(f"loss at closed form {loss_exact:.10f}, at PGD-40 {loss_pgd:.10f}")
assert abs(loss_pgd - loss_exact) <= 1e-8 * loss_exact

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(trace.loss[0], "o-", label="PGD: mean loss after k steps")
ax.axhline(loss_exact, color="k", ls=":", label="closed-form optimum")
ax.set_xlabel("PGD step k (0 = random start)")
ax.set_ylabel("mean loss")
ax.set_title("PGD climbs to the exact worst case")
ax.legend()
plt.show()

# %% [markdown]
# ## Summary
# * For linear models the inner maximisation of adversarial training is solved exactly by one
#   steepest-ascent step: FGSM *is* the L∞ worst case; PGD converges to it.
# * The damage an L∞ attack can do grows with `‖w‖₁`, i.e. with the dimension.
#
# ## Exercises
# 1. Train with `fit_robust_logistic(X, y, eps, norm=np.inf)` (L∞ adversarial training).  How
#    sparse does `w` become, and what happens to the FGSM accuracy?
# 2. Plot `trace.loss` of the PGD run: how many steps does it take to reach the optimum?
# 3. Why does the L1 attack change exactly one coordinate?  Which one?
# 4. (Autograded) Write the steepest-ascent step for the three norms yourself (ties in L1: the
#    first index).  `print(course.stub("steepest_ascent"))` shows the task.


# %%
def my_steepest_ascent(g, eps, norm):
    """argmax_{‖δ‖_p ≤ eps} <g, δ> row by row, for norm in {np.inf, 2, 1}."""
    raise NotImplementedError          # your code here


attempt = course.check("steepest_ascent", my_steepest_ascent)
