# %% [markdown]
# # Tutorial 8 — Loss landscapes of standard and adversarially trained networks
#
# **Learning objectives.**  After this tutorial you can
# 1. explain why a raw random direction in weight space says little about a ReLU network, and
#    write Li et al.'s filter normalisation that fixes it (graded:
#    `filter_normalized_direction`);
# 2. draw 1-D and 2-D slices of the clean and the adversarial loss around trained weights;
# 3. turn the curvature at the bottom of a slice into a number (the top Hessian eigenvalue by
#    Lanczos) and say what the pictures and the number each show, and do not.
#
# **Prerequisites.**  Tutorial 1 (Hessian-vector products), Tutorial 3 (sharpness of
# adversarially trained logistic regression), Tutorial 6 (PGD training).
#
# **Time.**  About 50 minutes: 20 to read and run, 30 for the graded exercise and the open
# questions.
#
# **Papers.** Li, Xu, Taylor, Studer, Goldstein (2018), *Visualizing the Loss Landscape of
# Neural Nets*, NeurIPS, arXiv:1712.09913; Yamada et al. (2021), *Adversarial Training Makes
# Weight Loss Landscape Sharper in Logistic Regression*, arXiv:2102.02950 (Tutorial 3);
# Keskar et al. (2017), *On Large-Batch Training for Deep Learning: Generalization Gap and
# Sharp Minima*, arXiv:1609.04836.
#
# **Question.** Tutorial 3 proved that L2 adversarial training sharpens the weight loss
# landscape of *logistic regression*.  What does a small neural network trained with PGD on
# real digits look like?
#
# **Tools.**
# * a filter-normalised direction (you write it below; the library's is
#   `minadv.analysis.random_direction(params, normalization="filter")`);
# * `slice_1d` / `slice_2d`: the loss along `θ + α d` and on `θ + α d₁ + β d₂`;
# * `adversarial_loss_fn`: the loss with the attack re-run at every point of the slice;
# * `top_eigenvalues`: the largest Hessian eigenvalue by Lanczos on exact Hessian-vector
#   products — a number for the sharpness the pictures show.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minadv.course
from minadv.analysis import (
    adversarial_loss_fn,
    clean_loss_fn,
    random_direction,
    slice_1d,
    slice_2d,
    top_eigenvalues,
)
from minadv.attacks import pgd
from minadv.datasets import load_digits, train_test_split
from minadv.models import MLP
from minadv.optim import adam
from minadv.plotting import plot_slice_1d
from minadv.training import ERM, PGDObjective, fit

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=OKABE_ITO)   # colour-blind-safe colours
QUICK = os.environ.get("MINADV_QUICK") == "1"
EPS = 0.1                                             # L∞ radius, pixels in [0, 1]
BOX = {"clip_min": 0.0, "clip_max": 1.0}

X, y = load_digits()
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
net = MLP([64, 32, 10], activation="relu")
init = net.init_params(rng=0)

# %% [markdown]
# ## 1. Two networks from the same start
# ERM and Madry's PGD training (7 steps, eps = 0.1), same initialisation, same minibatches.

# %%
trained = {}
for name, objective in (("ERM", ERM()), ("PGD-trained", PGDObjective(eps=EPS, n_steps=7, **BOX))):
    trained[name] = fit(net, init, objective, X_tr, y_tr, optimizer=adam(1e-2),
                        epochs=15 if QUICK else 40, batch_size=64, rng=0, verbose=0).params
    X_adv = pgd(net, trained[name], X_te, y_te, EPS, n_steps=20, rng=0, **BOX)
    print(f"{name:<12} clean test accuracy {np.mean(net.predict(trained[name], X_te) == y_te):.3f}"
          f"   PGD-20 at eps {EPS}: {np.mean(net.predict(trained[name], X_adv) == y_te):.3f}")

# %% [markdown]
# ## 2. Sharpness numbers
# `λ_max` of the Hessian of the mean training loss with respect to all weights, at the clean
# points and at *fixed* PGD points of each network (the Hessian that adversarial training
# actually descends, without the attack-dependence term of Tutorial 3).

# %%
n_curv = 400 if QUICK else X_tr.shape[0]
sharpness, train_loss = {}, {}
for name, p in trained.items():
    X_fixed = pgd(net, p, X_tr[:n_curv], y_tr[:n_curv], EPS, n_steps=10, rng=0, **BOX)
    lam_clean = top_eigenvalues(net, p, X_tr[:n_curv], y_tr[:n_curv], k=1, rng=0, tol=1e-8)[0]
    lam_adv = top_eigenvalues(net, p, X_fixed, y_tr[:n_curv], k=1, rng=0, tol=1e-8)[0]
    sharpness[name] = (lam_clean, lam_adv)
    train_loss[name] = net.loss_and_grads(p, X_tr, y_tr, param_grads=False,
                                          input_grad=False).loss
    print(f"{name:<12} λ_max clean loss {lam_clean:.3f}   λ_max at fixed PGD points {lam_adv:.3f}"
          f"   clean training loss {train_loss[name]:.4f}")
assert sharpness["PGD-trained"][0] > sharpness["ERM"][0]
assert train_loss["ERM"] < train_loss["PGD-trained"] / 2          # "several times lower"

# %% [markdown]
# The PGD-trained network sits at a *sharper* point of the clean loss than ERM — the same
# direction as Yamada et al.'s theorem for logistic regression, measured here for one seed
# and one small network (no theorem covers it).  Part of the reason is visible in the
# numbers above: ERM drives its clean training loss several times lower than the PGD-trained
# network does (at least twice lower, asserted; the printed losses give the factor), towards
# where the softmax saturates and the curvature `p(1 − p)` vanishes; the adversarially trained
# network cannot go there.
#
# ## 3. Filter-normalised directions
# A ReLU network computes the same function after `W₁ → c W₁, b₁ → c b₁, W₂ → W₂ / c`: the
# scale of each filter (column `W[:, j]`, one per unit) is arbitrary.  A raw Gaussian direction
# `d` of fixed size is therefore a big step for a network with small filters and a small one
# for a network with large filters.  Li et al. (2018, section 4) rescale every filter of the
# direction to the norm of the same filter of `θ`:
#
# $$d_j \leftarrow d_j\, \frac{\|\theta_j\|}{\|d_j\| + 10^{-10}},$$
#
# and give the biases the direction 0.
#
# ### Exercise (graded): `filter_normalized_direction`
# `print(minadv.course.stub("filter_normalized_direction"))` shows the task: which arrays are
# weights, which axis a filter lives on, and the logistic-regression case.

# %%
def filter_normalized_direction(params, d):
    """Each filter (column W[:, j] of a 2-D weight; a 1-D weight when there is no 2-D one) of d
    rescaled to ‖θ_j‖ / (‖d_j‖ + 1e-10); every other array (the biases) set to 0."""
    # BEGIN SOLUTION
    weights = [k for k, v in params.items() if np.ndim(v) >= 2]
    if not weights:                                            # logistic regression
        weights = [k for k, v in params.items() if np.ndim(v) == 1]
    out = {}
    for k, theta in params.items():
        if k not in weights:
            out[k] = np.zeros_like(d[k])
        elif theta.ndim == 1:
            out[k] = d[k] * (np.linalg.norm(theta) / (np.linalg.norm(d[k]) + 1e-10))
        else:
            t_norm = np.linalg.norm(theta, axis=0)             # (fan_out,) one per filter
            d_norm = np.linalg.norm(d[k], axis=0)
            out[k] = d[k] * (t_norm / (d_norm + 1e-10))
    return out
    # END SOLUTION


# %%
assert minadv.course.check("filter_normalized_direction", filter_normalized_direction).passed

# %% [markdown]
# Your function on the same Gaussian draws is the library's `random_direction`; and a slice
# along it does not see the rescaling `W₁ → 4 W₁, b₁ → 4 b₁, W₂ → W₂ / 4` of the ERM network
# (the same function), while a slice along the raw direction does.

# %%
def my_direction(params, seed):
    """A Gaussian draw per array (in params order, as the library draws), filter-normalised
    by your function."""
    gen = np.random.default_rng(seed)
    raw = {k: gen.standard_normal(v.shape) for k, v in params.items()}
    return filter_normalized_direction(params, raw), raw


p_erm = trained["ERM"]
d_erm, raw = my_direction(p_erm, 1)
lib = random_direction(p_erm, rng=1, normalization="filter")
assert all(np.allclose(d_erm[k], lib[k], rtol=1e-12, atol=0) for k in p_erm)

c = 4.0
p_scaled = {**p_erm, "W1": c * p_erm["W1"], "b1": c * p_erm["b1"], "W2": p_erm["W2"] / c}
loss_fn = clean_loss_fn(net, X_tr, y_tr)
probe = np.linspace(-1, 1, 5)
filt = [slice_1d(loss_fn, p, my_direction(p, 1)[0], probe).values for p in (p_erm, p_scaled)]
rawv = [slice_1d(loss_fn, p, raw, probe).values for p in (p_erm, p_scaled)]
print("filter-normalised:", np.round(filt[0], 4), "vs rescaled", np.round(filt[1], 4))
print("raw direction:    ", np.round(rawv[0], 4), "vs rescaled", np.round(rawv[1], 4))
assert np.allclose(filt[0], filt[1], rtol=1e-9)              # invariant
assert not np.allclose(rawv[0], rawv[1], rtol=1e-2)           # not invariant

# %% [markdown]
# ## 4. Filter-normalised 1-D slices
# One filter-normalised direction per network (your function, same seed); the adversarial
# loss runs PGD-10 at every `α` on 400 training digits.

# %%
alphas = np.linspace(-1, 1, 11 if QUICK else 25)
slices = {}
for name, p in trained.items():
    d = my_direction(p, 1)[0]
    clean = slice_1d(clean_loss_fn(net, X_tr, y_tr), p, d, alphas)
    adv = slice_1d(adversarial_loss_fn(net, X_tr[:400], y_tr[:400], pgd, eps=EPS, n_steps=10,
                                       rng=0, **BOX), p, d, alphas)
    slices[name] = (clean.values, adv.values)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
plot_slice_1d(alphas, {f"{k} (λ_max {sharpness[k][0]:.2f})": v[0] for k, v in slices.items()},
              ax=ax1, title="clean training loss", logy=True)
plot_slice_1d(alphas, {k: v[1] for k, v in slices.items()}, ax=ax2,
              title=f"adversarial loss (PGD-10, eps {EPS})", logy=True)
for ax in (ax1, ax2):
    ax.set_xlabel("α (step along the filter-normalised direction)")
    ax.set_ylabel("mean cross-entropy (log scale)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=9)
plt.show()

centre = len(alphas) // 2
for clean, adv in slices.values():
    assert clean[centre] == min(clean) and adv[centre] <= min(adv) + 1e-12 + 0.05 * adv[centre]
assert np.all(slices["PGD-trained"][1] < slices["ERM"][1])   # lower along the whole slice

# %% [markdown]
# Both networks sit in a basin of their own training loss (the minimum of each curve is at
# `α = 0`).  The PGD-trained network's adversarial loss is lower at every `α` of the slice
# (asserted above).  The curves cannot show the curvature at the bottom at this resolution:
# the Hessian numbers above measure it — a reason to report both.
#
# ## 5. 2-D slices
# The clean training loss on the plane `θ + α d₁ + β d₂` (two independent filter-normalised
# directions, seeds 1 and 2), on one colour scale for both networks.

# %%
grid = np.linspace(-1, 1, 9 if QUICK else 21)
planes = {}
for name, p in trained.items():
    d1, d2 = my_direction(p, 1)[0], my_direction(p, 2)[0]
    planes[name] = slice_2d(clean_loss_fn(net, X_tr, y_tr), p, d1, d2, alphas=grid, betas=grid)
logs = {name: np.log10(plane.values) for name, plane in planes.items()}
levels = np.linspace(min(v.min() for v in logs.values()), max(v.max() for v in logs.values()), 15)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True, layout="constrained")
for ax, (name, values) in zip(axes, logs.items()):
    A, Bm = np.meshgrid(grid, grid, indexing="ij")
    fill = ax.contourf(A, Bm, values, levels=levels, cmap="viridis")
    ax.contour(A, Bm, values, levels=levels, colors="w", linewidths=0.4)
    ax.plot([0], [0], "+", color="w", markersize=12, mew=2)         # the trained weights
    ax.set_xlabel("α (direction d₁);  + marks the trained weights θ")
    ax.set_title(f"{name}: clean loss (λ_max {sharpness[name][0]:.2f})")
axes[0].set_ylabel("β (direction d₂)")
fig.colorbar(fill, ax=axes, label="log10 of the mean clean training loss")
plt.show()
for plane in planes.values():
    mid = len(grid) // 2
    assert plane.values[mid, mid] == plane.values.min()

# %% [markdown]
# ## Summary
# * Filter normalisation makes slices of different networks comparable and removes the
#   rescaling symmetry of ReLU networks; the Hessian's top eigenvalue turns the picture's
#   curvature at the centre into a number.
# * Here the PGD-trained network is sharper in the clean loss than ERM (the direction of
#   Tutorial 3's theorem) and lower in the adversarial loss along the whole slice.
#
# ## Exercises (open)
# 1. Repeat with `eps = 0.2`: does `λ_max` of the PGD-trained network grow further?
# 2. Use `normalization="none"`: why do the two networks' slices become incomparable?
# 3. The Lanczos solver only needs Hessian-vector products (Tutorial 1).  How many does
#    `top_eigenvalues` use here, and how does that compare with building the dense Hessian of
#    this 2 410-parameter network?
