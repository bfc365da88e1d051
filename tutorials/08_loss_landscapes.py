# %% [markdown]
# # Tutorial 8 — Loss landscapes of standard and adversarially trained networks
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
# * `minadv.analysis.random_direction(params, normalization="filter")`: a Gaussian direction
#   whose every filter (column `W[:, j]`) is rescaled to the norm of the same filter of `θ`, so
#   that slices of *different* networks are comparable (Li et al., section 4);
# * `slice_1d` / `slice_2d`: the loss along `θ + α d` and on `θ + α d₁ + β d₂`;
# * `adversarial_loss_fn`: the loss with the attack re-run at every point of the slice;
# * `top_eigenvalues`: the largest Hessian eigenvalue by Lanczos on exact Hessian-vector
#   products — a number for the sharpness the pictures show.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv import course
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
from minadv.plotting import plot_slice_1d, plot_slice_2d
from minadv.training import ERM, PGDObjective, fit

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
sharpness = {}
for name, p in trained.items():
    X_fixed = pgd(net, p, X_tr[:n_curv], y_tr[:n_curv], EPS, n_steps=10, rng=0, **BOX)
    lam_clean = top_eigenvalues(net, p, X_tr[:n_curv], y_tr[:n_curv], k=1, rng=0, tol=1e-8)[0]
    lam_adv = top_eigenvalues(net, p, X_fixed, y_tr[:n_curv], k=1, rng=0, tol=1e-8)[0]
    sharpness[name] = (lam_clean, lam_adv)
    print(f"{name:<12} λ_max clean loss {lam_clean:.3f}   λ_max at fixed PGD points {lam_adv:.3f}")
assert sharpness["PGD-trained"][0] > sharpness["ERM"][0]

# %% [markdown]
# The PGD-trained network sits at a *sharper* point of the clean loss than ERM — the same
# direction as Yamada et al.'s theorem for logistic regression, measured here for one seed
# and one small network (no theorem covers it).  Part of the reason is visible in the
# numbers above: ERM drives its training loss close to zero, where the softmax saturates and
# the curvature `p(1 − p)` vanishes; the adversarially trained network cannot.

# %% [markdown]
# ## 3. Filter-normalised 1-D slices
# One random filter-normalised direction per network (same seed); the adversarial loss runs
# PGD-10 at every `α` on 400 training digits.

# %%
alphas = np.linspace(-1, 1, 11 if QUICK else 25)
slices = {}
for name, p in trained.items():
    d = random_direction(p, rng=1, normalization="filter")
    clean = slice_1d(clean_loss_fn(net, X_tr, y_tr), p, d, alphas)
    adv = slice_1d(adversarial_loss_fn(net, X_tr[:400], y_tr[:400], pgd, eps=EPS, n_steps=10,
                                       rng=0, **BOX), p, d, alphas)
    slices[name] = (clean.values, adv.values)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
plot_slice_1d(alphas, {f"{k} (λ_max {sharpness[k][0]:.2f})": v[0] for k, v in slices.items()},
              ax=ax1, title="clean training loss", logy=True)
plot_slice_1d(alphas, {k: v[1] for k, v in slices.items()}, ax=ax2,
              title=f"adversarial loss (PGD-10, eps {EPS})", logy=True)
plt.show()

centre = len(alphas) // 2
for clean, adv in slices.values():
    assert clean[centre] == min(clean) and adv[centre] <= min(adv) + 1e-12 + 0.05 * adv[centre]
assert slices["PGD-trained"][1][centre] < slices["ERM"][1][centre]   # it is more robust

# %% [markdown]
# Both networks sit in a basin of their own training loss (the minimum of each curve is at
# `α = 0`).  The PGD-trained network's adversarial loss is far lower along the whole slice.
# On a log scale the basins have similar widths in these normalised units; the Hessian numbers
# above measure the curvature at the bottom, which a 1-D picture at this resolution does not
# resolve — a reason to report both.
#
# ## 4. 2-D slices
# Contours of the clean training loss on the plane `θ + α d₁ + β d₂` (two independent
# filter-normalised directions).

# %%
grid = np.linspace(-1, 1, 9 if QUICK else 21)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
planes = {}
for ax, (name, p) in zip(axes, trained.items()):
    d1, d2 = random_direction(p, rng=1), random_direction(p, rng=2)
    planes[name] = slice_2d(clean_loss_fn(net, X_tr, y_tr), p, d1, d2, alphas=grid, betas=grid)
    plot_slice_2d(grid, grid, np.log10(planes[name].values), ax=ax,
                  title=f"{name}: log10 clean loss (λ_max {sharpness[name][0]:.2f})")
plt.show()
for plane in planes.values():
    mid = len(grid) // 2
    assert plane.values[mid, mid] == plane.values.min()

# %% [markdown]
# ## Summary
# * Filter normalisation makes slices of different networks comparable; the Hessian's top
#   eigenvalue turns the picture's curvature at the centre into a number.
# * Here the PGD-trained network is sharper in the clean loss than ERM (the direction of
#   Tutorial 3's theorem) and much lower in the adversarial loss along the slices.
#
# ## Exercises
# 1. Repeat with `eps = 0.2`: does `λ_max` of the PGD-trained network grow further?
# 2. Use `normalization="none"`: why do the two networks' slices become incomparable?
# 3. (Autograded) The Lanczos solver only needs Hessian-vector products.  Write the
#    R-operator HVP of a one-hidden-layer tanh network (`print(course.stub("hvp_one_hidden"))`):


# %%
def hvp_one_hidden(params, X, y, v):
    """Hv of the mean softmax cross-entropy of the tanh net W1, b1, W2, b2 (dict in, dict out)."""
    raise NotImplementedError          # your code here


attempt = course.check("hvp_one_hidden", hvp_one_hidden)
