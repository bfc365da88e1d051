# %% [markdown]
# # Tutorial 10 — Is this point robust?  Bounds, exact answers and smoothing
#
# **Papers.** Gowal et al. (2018), *On the Effectiveness of Interval Bound Propagation for
# Training Verifiably Robust Models*, arXiv:1810.12715; Zhang et al. (2018), *Efficient Neural
# Network Robustness Certification with General Activation Functions* (CROWN), NeurIPS;
# Wong & Kolter (2018), *Provable Defenses against Adversarial Examples via the Convex Outer
# Adversarial Polytope*, ICML; Tjeng, Xiao, Tedrake (2019), *Evaluating Robustness of Neural
# Networks with Mixed Integer Programming*, ICLR; Cohen, Rosenfeld, Kolter (2019), *Certified
# Adversarial Robustness via Randomized Smoothing*, ICML.
#
# **Learning objectives.** After this tutorial you can
# 1. say what it means for a point to be robust, and why a failed attack does not prove it;
# 2. compute three lower bounds on the worst-case margin (interval, linear, LP) and the exact
#    answer (a MILP), and explain the order they always come in;
# 3. find an adversarial example that PGD misses, with a proof that it is one;
# 4. certify an L2 radius by randomized smoothing and see how it depends on the noise level.
#
# **Prerequisites.** Tutorials 06 (adversarial training) and 07 (attacks on the digits);
# `docs/theory.md` §17 has every derivation used here.
#
# **Time.** About 30 minutes to read and run (about a minute with `MINADV_QUICK=1`).

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from minadv.attacks import pgd
from minadv.certify import (
    certify_interval,
    certify_linear,
    certify_lipschitz,
    certify_lp,
    linear_bounds,
    smoothed_certify,
    verify_exact,
)
from minadv.datasets import load_digits, train_test_split
from minadv.models import MLP
from minadv.optim import adam
from minadv.training import ERM, PGDObjective, fit
from minadv.training.objectives import IBPObjective

QUICK = os.environ.get("MINADV_QUICK") == "1"
EPOCHS = 40                                            # < 10 s for both networks
N_POINTS = 4 if QUICK else 30                        # quick mode: the table on 4 points
EPS = 0.1                                              # L∞ radius, pixels in [0, 1]
BOX = {"clip_min": 0.0, "clip_max": 1.0}

X, y = load_digits()                                   # X (1797, 64) in [0, 1], y in 0..9
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
net = MLP([64, 32, 10], activation="relu")


def train(objective):
    return fit(net, net.init_params(rng=0), objective, X_tr, y_tr, optimizer=adam(1e-2),
               epochs=EPOCHS, batch_size=64, rng=0, verbose=0).params


networks = {"ERM": train(ERM()),
            "PGD-trained": train(PGDObjective(eps=EPS, n_steps=10, **BOX)),
            # Gowal et al.: 100 clean steps, then eps 0 -> EPS and kappa 1 -> 0.5 over 400 steps
            "IBP-trained": train(IBPObjective(eps=EPS, kappa=0.5, warmup_steps=100,
                                              ramp_steps=400, **BOX))}
for name, params in networks.items():
    print(f"{name:<12} clean test accuracy {np.mean(net.predict(params, X_te) == y_te):.3f}")

# %% [markdown]
# ## 1. The question
# A point `x` with label `y` is *robust* at radius `ε` when every `x'` in the set
# `S(x) = {‖x' − x‖_∞ ≤ ε} ∩ [0, 1]^64` is still classified `y`: for every wrong class `j` the
# **margin** `m_j(x') = z_y(x') − z_j(x')` stays positive, i.e.
# `min_{x' ∈ S(x)} m_j(x') > 0`.
#
# * An **attack** (PGD) finds *some* `x'` and evaluates `m_j(x')` there: an upper bound on the
#   minimum.  If it finds a negative margin, the point is not robust; if not, we know nothing.
# * A **relaxation** (interval, linear, LP) computes a *lower* bound: if it is positive, the
#   point is robust; if not, we know nothing.
# * The **exact** answer (a mixed-integer programme, `docs/theory.md` §17.5) is the minimum
#   itself, with a counterexample when it is negative.
#
# With the same pre-activation bounds: interval, linear ≤ LP ≤ exact ≤ attack (eq. (17.0)).
# Here are the four numbers for one test point of the ERM network.

# %%
erm = networks["ERM"]
METHODS = {"interval": certify_interval, "linear": certify_linear, "LP": certify_lp,
           "exact": verify_exact}


def all_methods(params, X, y):
    """Every certifier on the rows of X with the same (linear-relaxation) hidden bounds."""
    bounds = linear_bounds(net, params, X, EPS, **BOX)
    return {name: certify(net, params, X, y, EPS, bounds=bounds, **BOX)
            for name, certify in METHODS.items()}


def margins_at(params, X_points, y, classes):
    """The margins z_y - z_j at given points (one row per point)."""
    z = net.logits(params, X_points)
    return z[np.arange(len(y)), y][:, None] - np.take_along_axis(z, classes, axis=1)


x0, y0 = X_te[:1], y_te[:1]
one = all_methods(erm, x0, y0)
x_pgd = pgd(net, erm, x0, y0, EPS, n_steps=50, n_restarts=3, rng=0, **BOX)
at_pgd = margins_at(erm, x_pgd, y0, one["exact"].classes)
print(f"label {y0[0]}; smallest margin over the wrong classes:")
for name, cert in one.items():
    print(f"  {name:<9} {cert.margins[0].min():+.3f}   {cert.status[0]}")
print(f"  {'PGD':<9} {at_pgd[0].min():+.3f}   (the margin at the attack's point)")
assert one["interval"].margins.min() <= one["LP"].margins.min() + 1e-6
assert one["linear"].margins.min() <= one["LP"].margins.min() + 1e-6
assert one["LP"].margins.min() <= one["exact"].margins.min() + 1e-6
assert one["exact"].margins.min() <= at_pgd.min() + 1e-6

# %% [markdown]
# ## 2. Margin bounds per method, class by class
# For the same point, every wrong class `j` has its own minimum margin.  The bars show the
# lower bounds of the three relaxations, the exact minimum and the margin PGD reached.  Bars
# below zero say "not certified" for a bound, "not robust" for the exact value and the attack.

# %%
fig, ax = plt.subplots(figsize=(8, 4))
width = 0.16
series = {**{name: cert.margins[0] for name, cert in one.items()}, "PGD point": at_pgd[0]}
for k, (name, values) in enumerate(series.items()):
    ax.bar(np.arange(len(classes := one["exact"].classes[0])) + (k - 2) * width, values,
           width, label=name)
ax.axhline(0.0, color="k", lw=0.8)
ax.set_xticks(np.arange(len(classes)), [str(c) for c in classes])
ax.set_xlabel(f"wrong class j (true class {y0[0]})")
ax.set_ylabel(r"margin $z_y - z_j$: bound or value")
ax.set_title(f"ERM network, L∞ eps = {EPS}: lower bounds ≤ exact ≤ attack")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))   # beside the bars
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The table: attacks say too much, relaxations say too little
# For the first test points, count how many each method calls robust (PGD: no adversarial
# example found; the others: certified), with the median time per point.

# %%
def table_row(params, X, y):
    counts, times = dict.fromkeys(["PGD", *METHODS], 0), {k: [] for k in ["PGD", *METHODS]}
    verdicts = {}
    for i in range(X.shape[0]):
        xi, yi = X[i:i + 1], y[i:i + 1]
        start = time.perf_counter()
        x_adv = pgd(net, params, xi, yi, EPS, n_steps=50, n_restarts=3, rng=i, **BOX)
        times["PGD"].append(time.perf_counter() - start)
        robust = {"PGD": bool(net.predict(params, x_adv)[0] == yi[0])}
        start = time.perf_counter()
        bounds = linear_bounds(net, params, xi, EPS, **BOX)
        t_bounds = time.perf_counter() - start
        for name, certify in METHODS.items():
            start = time.perf_counter()
            cert = certify(net, params, xi, yi, EPS, bounds=bounds, **BOX)
            times[name].append(time.perf_counter() - start + t_bounds)
            robust[name] = cert.status[0] == "verified"
        assert robust["interval"] <= robust["LP"] <= robust["exact"] <= robust["PGD"]
        verdicts[i] = robust
        for k, v in robust.items():
            counts[k] += v
    return counts, {k: float(np.median(v)) for k, v in times.items()}, verdicts


results = {name: table_row(params, X_te[:N_POINTS], y_te[:N_POINTS])
           for name, params in networks.items()}
print(f"{N_POINTS} test points, L∞ eps = {EPS} in the box [0, 1]")
print(f"{'network':<12}" + "".join(f"{k:>16}" for k in ["PGD", *METHODS]))
for name, (counts, times, _) in results.items():
    print(f"{name:<12}" + "".join(f"{counts[k]:>5} ({times[k]:6.3f} s)" for k in counts))

# %% [markdown]
# Read the rows left to right.  PGD-50 with three restarts is an optimistic estimate of the
# robust points; the exact count can only be lower.  The relaxations certify fewer still:
# interval bounds certify nothing on these networks — their boxes forget every correlation
# between units — and the LP is only slightly better than the back-substitution.  Adversarial
# training (PGD) raises the attack, exact, LP and linear counts — on the PGD-trained network
# the linear bound certifies almost every robust point — but the interval bound still
# certifies nothing.  Training *through* the bound changes that: the IBP-trained network
# (Gowal et al. 2018, `docs/theory.md` §17.8) is built so that its interval bounds are tight,
# and there the cheapest certificate agrees with the exact answer on most points (and the MILP
# is fast, because most hidden units are provably stable).
#
# ## 4. A counterexample PGD misses
# Among the points where PGD found nothing, look for one the MILP falsifies.  The exact solver
# is the expensive step, so let the cheap bound say where to look: a point whose linear lower
# bound on the margin is far below zero is the likeliest to be truly non-robust, so the MILP
# visits the survivors of PGD from the lowest bound up.  The counterexample is re-checked by a
# forward pass before it is reported: it is a proof.

# %%
first = np.arange(60)                                  # the first 60 test points
X60, y60 = X_te[first], y_te[first]
x_adv60 = pgd(net, erm, X60, y60, EPS, n_steps=50, n_restarts=3, rng=0, **BOX)
survivors = first[(net.predict(erm, X60) == y60) & (net.predict(erm, x_adv60) == y60)]
lower = certify_linear(net, erm, X_te[survivors], y_te[survivors], EPS, **BOX).margins
missed = None
for i in survivors[np.argsort(lower.min(axis=1), kind="stable")]:
    cert = verify_exact(net, erm, X_te[i:i + 1], y_te[i:i + 1], EPS, **BOX)
    if cert.status[0] == "falsified":
        missed = (i, cert.counterexamples[0], x_adv60[i])
        break
assert missed is not None, "no PGD-robust point was falsified among the first 60"
i, x_cex, x_adv = missed
pred = net.predict(erm, x_cex[None, :])[0]
print(f"test point {i}: label {y_te[i]}; PGD's best point is still a {y_te[i]}, but the "
      f"MILP's point is classified {pred} (|x' - x|_inf = {np.abs(x_cex - X_te[i]).max():.3f})")
assert pred != y_te[i] and np.abs(x_cex - X_te[i]).max() <= EPS + 1e-12

fig, axes = plt.subplots(1, 4, figsize=(11, 2.8))
panels = [(X_te[i], f"x (label {y_te[i]})"), (x_adv, "PGD-50×3: still "
          f"{net.predict(erm, x_adv[None, :])[0]}"), (x_cex, f"MILP: classified {pred}"),
          (x_cex - X_te[i], "x' − x (MILP)")]
for ax, (img, title) in zip(axes, panels):
    diff = title.startswith("x'")
    shown = ax.imshow(img.reshape(8, 8), cmap="RdBu" if diff else "gray_r",
                      vmin=-EPS if diff else 0, vmax=EPS if diff else 1)   # δ: symmetric scale
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04).set_label(
        "x' − x" if diff else "pixel value", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("pixel column", fontsize=8), ax.set_ylabel("pixel row", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Randomized smoothing: a certified L2 radius by sampling
# Cohen et al. classify `x` by a majority vote of the network on `x + σε`, `ε ~ N(0, I)`.  If
# the top class has probability `p_A > 1/2` the vote cannot change within the L2 radius
# `σ Φ⁻¹(p_A)` (`docs/theory.md` eq. (17.6)); with `n` samples a Clopper–Pearson lower bound
# replaces `p_A`.  More noise allows larger radii — until the noise destroys the vote itself.
# (A Lipschitz bound, for comparison, certifies nothing here: the product of the layers'
# spectral norms is far too large.)

# %%
SIGMAS = [0.05, 0.1, 0.25, 0.5]
N_SMOOTH = 8 if QUICK else 30
n_samples = 500 if QUICK else 2000
smooth = {}
for sigma in SIGMAS:
    cert = smoothed_certify(net, erm, X_te[:N_SMOOTH], sigma, n0=100, n_samples=n_samples,
                            failure_probability=0.001, rng=0)
    correct = cert.prediction == y_te[:N_SMOOTH]
    smooth[sigma] = np.where(correct, cert.radius, 0.0)       # 0 for abstain or wrong
    print(f"sigma {sigma:4}: certified and correct {correct.sum():2d}/{N_SMOOTH}, "
          f"median radius {np.median(smooth[sigma]):.3f}")
lip = certify_lipschitz(net, erm, X_te[:N_SMOOTH], y_te[:N_SMOOTH], EPS)
print(f"Lipschitz certificate at L∞ eps = {EPS}: {int(lip.verified.sum())} of {N_SMOOTH} "
      f"points (smallest bound {lip.margins.min():.1f})")

fig, ax = plt.subplots(figsize=(6, 4))
for k in range(N_SMOOTH):
    ax.plot(SIGMAS, [smooth[s][k] for s in SIGMAS], color="0.7", lw=0.8,
            label="one test point" if k == 0 else None)
ax.plot(SIGMAS, [np.median(smooth[s]) for s in SIGMAS], "o-", color="C3", label="median")
ax.set_xlabel(r"noise level $\sigma$")
ax.set_ylabel("certified L2 radius (0 = abstain or wrong)")
ax.set_title("Randomized smoothing on the ERM network")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))       # outside the curves
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# * A point is robust when the minimum margin over the input set is positive; an attack gives
#   an upper bound on that minimum, a relaxation a lower bound, and the MILP the value itself.
# * With the same pre-activation bounds: interval, linear ≤ LP ≤ exact ≤ attack — checked for
#   every point above.
# * PGD with restarts can miss adversarial examples that exist; the MILP finds them with a
#   proof.  Relaxations, on networks not trained for them, certify few points; IBP training
#   makes even the interval bound certify.
# * Randomized smoothing certifies an L2 radius with probability `1 − α`; the radius grows
#   with σ until the noise breaks the majority vote.
#
# ## Exercises
# 1. Repeat the table at `EPS = 0.05` and `0.2`.  Which count falls first as ε grows?
# 2. Compute `linear_bounds` and `interval_bounds` for one point: how many hidden units are
#    *stable* (their interval does not contain 0) under each?  Why does the MILP time depend
#    on that number?
# 3. For logistic regression every method is exact (`docs/theory.md` §17.1).  Check it with
#    `minadv.certify.verify_exact` against `minadv.attacks.robust_margin`.
# 4. (Autograded) Propagate an interval through one affine + ReLU layer
#    (`print(course.stub("interval_affine_relu"))` shows the task), and write the four big-M
#    rows of one ReLU (`print(course.stub("big_m_relu"))`); check them:

# %%
from minadv import course


def interval_affine_relu(lower, upper, W, b):
    """Bounds of relu(h W + b) for lower <= h <= upper (see the stub)."""
    # BEGIN SOLUTION
    W_pos, W_neg = np.maximum(W, 0), np.minimum(W, 0)    # the two halves of W
    low = lower @ W_pos + upper @ W_neg + b              # (n, d_out): smallest value
    high = upper @ W_pos + lower @ W_neg + b             # largest value
    return np.maximum(low, 0), np.maximum(high, 0)       # ReLU is monotone: map both ends
    # END SOLUTION


def big_m_relu(lower, upper):
    """The rows A (a, h, z) <= c of h = relu(a) with one binary z (see the stub)."""
    # BEGIN SOLUTION
    n = lower.shape[0]
    zero, one = np.zeros(n, lower.dtype), np.ones(n, lower.dtype)
    rows = [                                             # (coef a, coef h, coef z, rhs)
        (zero, -one, zero, zero),                        # -h <= 0
        (one, -one, zero, zero),                         # a - h <= 0
        (zero, one, -upper, zero),                       # h - u z <= 0
        (-one, one, -lower, -lower),                     # h - a - l z <= -l
    ]
    A = np.stack([np.stack(r[:3], axis=1) for r in rows], axis=1)   # (n, 4, 3)
    c = np.stack([r[3] for r in rows], axis=1)                       # (n, 4)
    return A, c
    # END SOLUTION


assert course.check("interval_affine_relu", interval_affine_relu).passed
assert course.check("big_m_relu", big_m_relu).passed
