# %% [markdown]
# # Tutorial 6 — Adversarial training of a neural network: FGSM, robust optimization, PGD
#
# **Learning objectives.**  After this tutorial you can
# 1. state adversarial training as one min-max problem and name how FGSM, Shaham's robust
#    optimization and PGD training solve its inner maximisation;
# 2. write the projection onto the L2 ball that an L2 attack uses (graded: `project_l2_ball`);
# 3. write the inner loop of PGD training — sign-gradient ascent steps, each projected onto the
#    eps-ball and the data box (graded: `pgd_inner_max`);
# 4. evaluate trained networks against a strong attack across eps, and read a decision
#    boundary with the attack's perturbations drawn on it.
#
# **Prerequisites.**  Tutorial 0 (an MLP's backward pass), Tutorial 2 (FGSM and the steepest
# ascent step in each norm); the idea of a saddle point.
#
# **Time.**  About 75 minutes: 30 to read and run (training takes seconds), 45 for the two
# graded exercises and the open questions.
#
# **Papers.** Goodfellow et al. (2015), arXiv:1412.6572 §6; Shaham, Yamada, Negahban (2015),
# arXiv:1511.05432; Madry et al. (2018), arXiv:1706.06083; Kanai et al. (2021),
# arXiv:2103.01400 (EntropySGD for adversarial training).
#
# All adversarial training methods solve (approximately) the saddle-point problem of Madry et
# al., eq. (2.1):
#
# $$\min_\theta\; \mathbb E_{(x,y)}\Big[\max_{\|\delta\|\le\varepsilon} L(\theta, x+\delta, y)\Big].$$
#
# They differ only in how they solve the inner maximisation: one sign step (FGSM, Goodfellow),
# one steepest-ascent step in the chosen norm (Shaham), or projected gradient ascent (PGD,
# Madry).  In minadv each is an *objective* passed to the same `fit` loop.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minadv.course
from minadv.attacks import pgd, random_ball_start, robustness_curve
from minadv.datasets import make_moons
from minadv.models import MLP
from minadv.optim import adam, entropy_sgd, sgd
from minadv.plotting import plot_robustness_curves
from minadv.training import ERM, FGSMObjective, PGDObjective, ShahamObjective, fit

QUICK = os.environ.get("MINADV_QUICK") == "1"
EPOCHS = 30 if QUICK else 60                   # quick mode: half the epochs, same claims
X, y = make_moons(600, noise=0.1, rng=0)
X_tr, y_tr, X_te, y_te = X[:300], y[:300], X[300:], y[300:]
model = MLP([2, 64, 64, 2], activation="relu")
init = model.init_params(rng=0)
eps = 0.5

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=OKABE_ITO)   # colour-blind-safe colours

# %% [markdown]
# ## 1. Four objectives, one loop
# * ERM: the clean loss.
# * Goodfellow: `½ J(x) + ½ J(x + eps·sign ∇ₓJ)` (the adversarial point is a constant).
# * Shaham (L∞ set): the loss at `x + eps·sign ∇ₓJ` only.
# * Madry: the loss at a 7-step PGD point with a random start.

# %%
objectives = {
    "ERM": ERM(),
    "FGSM (Goodfellow)": FGSMObjective(eps=eps, clean_weight=0.5),
    "robust L-inf (Shaham)": ShahamObjective(eps=eps, norm=np.inf),
    "PGD (Madry)": PGDObjective(eps=eps, n_steps=7),
}
trained = {}
for name, objective in objectives.items():
    trained[name] = fit(model, init, objective, X_tr, y_tr, optimizer=adam(0.01), epochs=EPOCHS,
                        batch_size=32, rng=0, verbose=0).params

# %% [markdown]
# ## 2. Evaluate against PGD-20 with a random start
# `robustness_curve` counts a point as robust at eps only if it survives every attack up to
# eps (the cumulative worst case), so the curve never increases.

# %%
grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
curves = {name: robustness_curve(model, p, X_te, y_te, grid, attack="pgd", norm=np.inf, n_steps=20,
                                 rng=0).accuracy for name, p in trained.items()}
for name, acc in curves.items():
    print(f"{name:<22} clean {acc[0]:.3f}   PGD-20 at eps 0.5: {acc[-1]:.3f}")
fig, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
plot_robustness_curves(curves, grid, ax=ax, title="Moons: accuracy under PGD-20 (L∞)",
                       xlabel="eps (L∞ radius of the attack)")
ax.set_ylabel("test accuracy under attack")
ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9)   # beside the curves
plt.show()
assert curves["PGD (Madry)"][-1] > curves["ERM"][-1] + 0.4
assert curves["PGD (Madry)"][-1] > curves["FGSM (Goodfellow)"][-1]
others = [curves[k][0] for k in curves if k != "robust L-inf (Shaham)"]
assert curves["robust L-inf (Shaham)"][0] < min(others) - 0.05     # Shaham pays clean accuracy

# %% [markdown]
# The ERM network is broken by eps = 0.5 (below 10 % accuracy); PGD training keeps the most
# (above 60 %).  The one-step methods sit in between: Madry et al. observed that FGSM training
# gives little robustness against PGD at large eps on MNIST — here it falls behind PGD training
# but does not collapse (`minadv reproduce madry` averages two seeds).  Shaham's variant, which
# drops the clean term, pays for eps = 0.5 (half the moons' gap) with its clean accuracy (the
# first point of its curve, at least 5 points below the others): one sign step of that size
# moves many training points across the true boundary.

# %%
assert curves["ERM"][-1] < 0.1 and curves["PGD (Madry)"][-1] > 0.6

# %% [markdown]
# Where do the attacks push the points?  Each panel shows a network's class-1 probability
# (colour bar), its decision boundary (black line) and the PGD-20 perturbations at the training
# radius eps = 0.5 (arrows, from the clean point to the attacked one) of 60 test points.  The
# titles count how many of the 60 keep their label.

# %%
show = slice(0, 60)
X_show, y_show = X_te[show], y_te[show]
lim, centre = 1.9, np.array([0.5, 0.25])        # the moons live in [-1, 2] x [-0.5, 1]
g1 = np.linspace(centre[0] - lim, centre[0] + lim, 101)
g2 = np.linspace(centre[1] - lim, centre[1] + lim, 101)
G1, G2 = np.meshgrid(g1, g2)
fig, axes = plt.subplots(2, 2, figsize=(10.5, 9.5), sharex=True, sharey=True,
                         layout="constrained")
survive = {}
for ax, (name, p) in zip(axes.ravel(), trained.items()):
    X_attacked = pgd(model, p, X_show, y_show, eps, norm=np.inf, n_steps=20, rng=0)
    survive[name] = np.mean(model.predict(p, X_attacked) == y_show)
    prob = model.predict_proba(p, np.column_stack([G1.ravel(), G2.ravel()]))[:, 1]
    fill = ax.contourf(G1, G2, prob.reshape(G1.shape), levels=np.linspace(0, 1, 11),
                       cmap="PuOr_r", alpha=0.55)
    ax.contour(G1, G2, prob.reshape(G1.shape), levels=[0.5], colors="k", linewidths=1.5)
    move = X_attacked - X_show
    ax.quiver(*X_show.T, *move.T, angles="xy", scale_units="xy", scale=1, width=0.004,
              color="0.15", zorder=3)
    for label, marker, face in ((0, "o", "w"), (1, "^", "k")):
        rows = y_show == label
        ax.scatter(*X_show[rows].T, marker=marker, s=30, c=face, edgecolors="k", zorder=4,
                   label=f"test point, class {label}")
    ax.set_title(f"{name}: {survive[name]:.2f} robust at eps {eps}")
    ax.set_aspect("equal")
for ax in axes[1]:
    ax.set_xlabel("x₁")
for ax in axes[:, 0]:
    ax.set_ylabel("x₂")
fig.colorbar(fill, ax=axes, label="P(class 1)  (black line: 0.5)", shrink=0.6)
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles + [plt.Line2D([], [], color="0.15", marker=r"$\rightarrow$", ls="none",
                                 markersize=12)],
           labels + ["PGD-20 perturbation (eps 0.5)"], loc="outside lower center", ncol=3,
           frameon=False)
fig.suptitle("Decision boundaries and PGD perturbations on the moons")
plt.show()
assert survive["PGD (Madry)"] > survive["ERM"] + 0.3
assert survive["ERM"] < 0.2                     # "nearly every arrow crosses" (below)

# %% [markdown]
# Against ERM nearly every arrow crosses the boundary, which hugs the data; the adversarially
# trained boundaries sit farther from the points.
#
# ## 3. The inner loop of PGD training, by hand
# PGD training (Madry et al.) solves the inner maximisation with a few steps of projected
# sign-gradient ascent from a random start, then takes one optimizer step on the loss at the
# point it found.  Two pieces make the loop: a projection, and the loop itself.
#
# ### Exercise A (graded): projection onto the L2 ball
# The Euclidean projection of a perturbation `δ` onto `‖δ‖₂ ≤ eps` keeps rows inside the ball
# and rescales the others: `δ_i min(1, eps / ‖δ_i‖₂)`
# (`print(minadv.course.stub("project_l2_ball"))` shows the task and its traps).

# %%
def project_l2_ball(delta, eps):
    """Rows of delta scaled by min(1, eps / ‖δ_i‖₂): unchanged inside the ball, zero rows stay
    zero, no overflow for rows with huge entries."""
    # BEGIN SOLUTION
    scale = np.max(np.abs(delta), axis=1, keepdims=True)           # (n, 1) largest |entry|
    safe = np.where(scale > 0, scale, 1)
    norms = scale * np.sqrt(np.sum((delta / safe) ** 2, axis=1, keepdims=True))
    factor = np.where(norms > eps, eps / np.where(norms > 0, norms, 1), 1)
    return (delta * factor).astype(delta.dtype)
    # END SOLUTION


# %%
assert minadv.course.check("project_l2_ball", project_l2_ball).passed

# %% [markdown]
# With your projection, ten steps of L2 PGD on the ERM network (step `x ← x + step g/‖g‖₂`,
# then `x ← X + P(x − X)`) land on the library's L2 PGD points:

# %%
def input_grad_erm(X_adv):
    """∇ₓ of the ERM network's loss at X_adv, with the test labels."""
    return model.loss_and_grads(trained["ERM"], X_adv, y_te, param_grads=False).input_grad


X_l2 = X_te.copy()
for _ in range(10):
    g = input_grad_erm(X_l2)
    X_l2 = X_te + project_l2_ball(X_l2 + 0.1 * g / np.linalg.norm(g, axis=1, keepdims=True)
                                  - X_te, 0.4)
X_l2_lib = pgd(model, trained["ERM"], X_te, y_te, 0.4, norm=2, n_steps=10, step_size=0.1,
               random_start=False)
print(f"max |your L2 PGD - library| = {np.abs(X_l2 - X_l2_lib).max():.1e}")
assert np.abs(X_l2 - X_l2_lib).max() < 1e-12

# %% [markdown]
# ### Exercise B (graded): the L∞ inner loop
# From `x₀ = clip_box(X + clip(δ₀, −eps, eps))`, take `n_steps` steps
# `x ← clip_box(X + clip(x + step_size·sign(∇ₓℓ(x)) − X, −eps, eps))`, with the gradient at
# the current `x` (`print(minadv.course.stub("pgd_inner_max"))`: `sign(0) = 0`, one-sided
# boxes, an empty batch).

# %%
def pgd_inner_max(input_grad, X, delta0, eps, step_size, n_steps, clip_min=None,
                  clip_max=None):
    """n_steps of L∞ sign-gradient ascent from X + delta0 (input_grad(X_adv) is the loss
    gradient per row), each followed by the projection onto the eps-ball around X and the box
    [clip_min, clip_max] (None: no bound on that side)."""
    # BEGIN SOLUTION
    def box(Z):
        if clip_min is None and clip_max is None:
            return Z
        return np.clip(Z, clip_min, clip_max)

    X_adv = box(X + np.clip(delta0, -eps, eps))                    # projected start
    for _ in range(n_steps):
        X_adv = X_adv + step_size * np.sign(input_grad(X_adv))     # sign(0) = 0
        X_adv = box(X + np.clip(X_adv - X, -eps, eps))             # ball around X, then box
    return X_adv.astype(X.dtype)
    # END SOLUTION


# %%
assert minadv.course.check("pgd_inner_max", pgd_inner_max).passed

# %% [markdown]
# Now watch your loop attack the ERM network (eps = 0.3, step 0.05, 10 steps, from the
# library's random start for `rng=0`): the mean loss rises at every step while the
# perturbation fills the ball (its mean L∞ norm approaches eps).  The library's
# `pgd(..., return_trace=True)` records the same numbers.

# %%
start = random_ball_start(X_te.shape, 0.3, np.inf, rng=0)
iterates = [pgd_inner_max(input_grad_erm, X_te, start, 0.3, 0.05, k) for k in range(11)]
losses = [model.loss_and_grads(trained["ERM"], Xk, y_te, param_grads=False,
                               input_grad=False).loss for Xk in iterates]
norms = [np.abs(Xk - X_te).max(axis=1).mean() for Xk in iterates]
X_adv, trace = pgd(model, trained["ERM"], X_te, y_te, 0.3, norm=np.inf, n_steps=10,
                   step_size=0.05, rng=0, return_trace=True)
for step, (loss, norm) in enumerate(zip(losses, norms)):
    print(f"step {step:2d}: mean loss {loss:8.4f}   mean L-inf norm {norm:.3f}")
assert np.abs(iterates[-1] - X_adv).max() < 1e-12                 # your loop = the library's
assert np.allclose(losses, trace.loss[0]) and np.allclose(norms, trace.norm[0])
assert np.all(np.diff(losses) > 0) and norms[-1] > 0.95 * 0.3    # rises; fills the ball
assert np.abs(X_adv - X_te).max() <= 0.3 + 1e-12

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
ax1.plot(losses, "o-")
ax1.set_xlabel("PGD step (0 = random start)")
ax1.set_ylabel("mean cross-entropy loss")
ax2.plot(norms, "o-", label="mean ‖δ‖∞")
ax2.axhline(0.3, color="k", ls=":", label="eps = 0.3")
ax2.set_xlabel("PGD step (0 = random start)")
ax2.set_ylabel("mean L∞ norm of δ")
ax2.legend(loc="lower right")
fig.suptitle("Your PGD inner loop on the ERM network")
plt.show()

# %% [markdown]
# PGD training runs this loop (7 steps, eps = 0.5) on every minibatch and descends the loss at
# `X_adv` — the network of panel "PGD (Madry)" above.
#
# ## 4. EntropySGD for L∞ adversarial training (Kanai et al.)
# The L∞ adversarial loss has gradient jumps (Tutorial 4); EntropySGD optimises the local
# entropy, whose curvature is capped by its scope γ.  Compare SGD and EntropySGD (L = 5
# Langevin steps) at the same number of gradient evaluations ("effective epochs").

# %%
pgd_03 = PGDObjective(eps=0.3, n_steps=7)
runs = {f"SGD ({EPOCHS} epochs)": (sgd(0.1, momentum=0.9), EPOCHS),
        f"EntropySGD L=5 ({EPOCHS // 5} epochs)": (entropy_sgd(lr=1.0, L=5, gamma0=0.03, rng=0),
                                                  EPOCHS // 5)}
robust_at_03 = {}
for name, (optimizer, epochs) in runs.items():
    res = fit(model, init, pgd_03, X_tr, y_tr, optimizer=optimizer, epochs=epochs,
              batch_size=32, rng=0, verbose=0)
    acc = robustness_curve(model, res.params, X_te, y_te, [0.0, 0.3], attack="pgd", norm=np.inf,
                           n_steps=20, rng=0).accuracy
    robust_at_03[name] = acc[-1]
    print(f"{name:<28} clean {acc[0]:.3f}   PGD-20 at eps 0.3: {acc[-1]:.3f}")
assert abs(np.subtract(*robust_at_03.values())) < 0.05

# %% [markdown]
# At this scale the two reach comparable robust accuracy with equal gradient budgets (within
# 5 points); the paper reports an improvement from EntropySGD on image benchmarks, which this
# toy problem neither confirms nor refutes.
#
# ## Summary
# * FGSM, Shaham's robust optimization and PGD are the same min-max objective with
#   increasingly accurate inner maximisers; in minadv they are interchangeable objectives.
# * The inner loop is a few projected sign-gradient steps; you wrote it, and it equals the
#   library's `pgd`.
# * Evaluate robustness with a strong attack (PGD with random starts), never with the attack
#   used in training.
#
# ## Exercises (open)
# 1. Train with `ShahamObjective(eps=..., norm=2)` and `norm=1`.  Which attack norms is each
#    network robust to?  (`minadv reproduce shaham`.)
# 2. Evaluate the FGSM-trained network with FGSM (`attack="fgsm"`) instead of PGD.  Why is the
#    picture so different? (Hint: label leaking and gradient masking.)
# 3. Plot `minadv.analysis.slice_1d` of the clean and adversarial losses around the ERM and
#    PGD-trained weights with filter-normalised directions.  Which is sharper?  (Tutorial 8.)
