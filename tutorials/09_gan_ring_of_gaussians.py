# %% [markdown]
# # Tutorial 9 — The other adversarial training: a GAN on a ring of Gaussians
#
# **Papers.** Goodfellow et al. (2014), *Generative Adversarial Nets*, NeurIPS,
# arXiv:1406.2661; Metz, Poole, Pfau, Sohl-Dickstein (2017), *Unrolled Generative Adversarial
# Networks*, ICLR, arXiv:1611.02163 (the ring-of-Gaussians benchmark and mode collapse);
# Salimans et al. (2016), *Improved Techniques for Training GANs*, arXiv:1606.03498.
#
# "Adversarial training" names two ideas.  Tutorials 2–8 train a classifier against an
# *attacker* who perturbs its inputs.  A GAN trains a *generator* `G` against a
# *discriminator* `D`:
#
# $$\min_G \max_D\; \mathbb E_{x\sim p_{data}}[\log D(x)] + \mathbb E_{z}[\log(1 - D(G(z)))]
# \qquad\text{(Goodfellow et al. 2014, eq. 1)}.$$
#
# The link is one quantity: the generator learns through the discriminator's **input
# gradient** `∇ₓ` of a loss — exactly what every attack in this course computes.  A generator
# step moves each fake sample along a *targeted attack* direction on `D` (target: "real"),
# then backpropagates that motion into the generator's weights.
#
# **Goals.** Build `G` and `D` from `minadv.models.MLP` with explicit backprop, check the
# chained gradient, train on 8 Gaussians on a ring, measure success (modes covered, distance
# to the nearest mode), and watch mode collapse.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.attacks import fast_gradient
from minadv.gradcheck import numerical_gradient, rel_error
from minadv.models import MLP
from minadv.optim import adam, apply_updates

QUICK = os.environ.get("MINADV_QUICK") == "1"

# %% [markdown]
# ## 1. Data and a measure of success
# Eight Gaussians with standard deviation σ = 0.05 on a circle of radius 2.  A generated
# sample is *good* if it lies within 3σ of a centre.  A mode is **covered** if it receives at
# least a quarter of its fair share (`n/8`) of good samples.  We also report the mean
# distance of all samples to their nearest centre.

# %%
RADIUS, SIGMA, K = 2.0, 0.05, 8
angles = 2 * np.pi * np.arange(K) / K
centres = RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])     # (K, 2)


def sample_real(n, gen):
    return centres[gen.integers(0, K, n)] + SIGMA * gen.standard_normal((n, 2))   # (n, 2)


def mode_stats(x):
    """(modes covered, mean distance to the nearest centre, fraction within 3σ)."""
    dist = np.linalg.norm(x[:, None, :] - centres[None], axis=2)       # (n, K)
    nearest, dmin = dist.argmin(axis=1), dist.min(axis=1)
    good = dmin < 3 * SIGMA
    per_mode = np.bincount(nearest[good], minlength=K)
    return int(np.sum(per_mode >= 0.25 * len(x) / K)), float(dmin.mean()), float(good.mean())


# %% [markdown]
# The real data set the scale: in 2-D a fraction `1 − e^{−9/2} ≈ 0.989` of a Gaussian lies
# within 3σ of its centre, and the mean distance to the centre is `σ√(π/2) ≈ 0.063`.

# %%
real_check = sample_real(4000, np.random.default_rng(0))
modes_r, dist_r, good_r = mode_stats(real_check)
print(f"real data: {modes_r}/8 modes, mean distance {dist_r:.4f}, {good_r:.3f} within 3σ")
assert modes_r == K and abs(good_r - (1 - np.exp(-4.5))) < 0.01
assert abs(dist_r - SIGMA * np.sqrt(np.pi / 2)) < 0.003

# %% [markdown]
# ## 2. Generator and discriminator as minadv MLPs
# * `D = MLP([2, 32, 32, 2])`: a classifier with classes 0 = fake, 1 = real.
# * `G = MLP([2, 32, 32, 2])`: its two output "logits" *are* the sample `x = G(z)`; we never
#   apply its softmax.  We use the model kernels `G.forward(params, z) -> (x, cache)` and
#   `G.backward(params, cache, dx) -> (grads, dz)`, which accept any upstream gradient `dx`.
#
# The generator minimises the non-saturating loss `L_G = −mean log D_real(G(z))`, i.e. the
# discriminator's cross-entropy with the label "real" on fake samples.  Its gradient with
# respect to the samples is `D.loss_and_grads(..., y=real).input_grad` — the attack quantity —
# and the chain rule through `G` is one call to `G.backward`.

# %%
LATENT = 2
G = MLP([LATENT, 32, 32, 2], activation="relu")
D = MLP([2, 32, 32, 2], activation="relu")
REAL, FAKE = 1, 0


def generator_loss_and_grads(pG, pD, z):
    """L_G and its gradient w.r.t. the generator's parameters, through D's input gradient."""
    x, cache = G.forward(pG, z)                                        # (n, 2) samples
    labels = np.full(len(z), REAL)
    out = D.loss_and_grads(pD, x, labels, param_grads=False)           # ∂L_G/∂x: (n, 2)
    grads, _ = G.backward(pG, cache, out.input_grad, input_grad=False)  # chain rule through G
    return out.loss, grads, out.input_grad


gen = np.random.default_rng(1)
pG, pD = G.init_params(rng=gen), D.init_params(rng=gen)
z_check = gen.standard_normal((16, LATENT))
loss, grads, dx = generator_loss_and_grads(pG, pD, z_check)
for name in ("W1", "b3"):
    numeric = numerical_gradient(
        lambda v, name=name: generator_loss_and_grads({**pG, name: v}, pD, z_check)[0], pG[name])
    print(f"∂L_G/∂{name}: relative error vs finite differences {rel_error(grads[name], numeric):.1e}")
    assert rel_error(grads[name], numeric) < 1e-6

# %% [markdown]
# **The generator step is a targeted attack.**  Moving the fake samples themselves by a step
# of length `η` against `∇ₓ L_G` is the L2 fast gradient method on `D` with *target* "real":

# %%
x_fake, _ = G.forward(pG, z_check)
step = 0.1
by_hand = x_fake - step * dx / np.linalg.norm(dx, axis=1, keepdims=True)
attack = fast_gradient(D, pD, x_fake, np.full(16, FAKE), step, norm=2, target=np.full(16, REAL))
print(f"max |hand-made step − targeted FGM| = {np.abs(by_hand - attack).max():.1e}")
assert np.allclose(by_hand, attack, atol=1e-12)

# %% [markdown]
# ## 3. Training
# Alternate one discriminator step (cross-entropy on 120 real and 120 fake samples) and one
# generator step, both with Adam (lr 1e-3, β₁ = 0.5 as in DCGAN).  The networks and batches are
# small on purpose: thousands of steps of tiny matrix products are fastest single-threaded,
# and products this small stay below the size at which OpenBLAS starts extra threads (which
# costs far more than it saves on a busy machine).

# %%
def train_gan(steps, *, lr_g=1e-3, lr_d=1e-3, seed=2, batch=120, n_snapshots=5):
    gen = np.random.default_rng(seed)
    pG, pD = G.init_params(rng=gen), D.init_params(rng=gen)
    opt_g, opt_d = adam(lr_g, b1=0.5), adam(lr_d, b1=0.5)
    state_g, state_d = opt_g.init(pG), opt_d.init(pD)
    labels = np.r_[np.full(batch, REAL), np.full(batch, FAKE)]
    z_eval = gen.standard_normal((2000, LATENT))                      # fixed: comparable snapshots
    history, snapshots = [], {}
    for t in range(1, steps + 1):
        fake, _ = G.forward(pG, gen.standard_normal((batch, LATENT)))
        out = D.loss_and_grads(pD, np.vstack([sample_real(batch, gen), fake]), labels,
                               input_grad=False)
        updates, state_d = opt_d.update(out.grads, state_d, pD)
        pD = apply_updates(pD, updates)
        _, grads, _ = generator_loss_and_grads(pG, pD, gen.standard_normal((batch, LATENT)))
        updates, state_g = opt_g.update(grads, state_g, pG)
        pG = apply_updates(pG, updates)
        if t % max(1, steps // 20) == 0 or t == steps:
            samples = G.forward(pG, z_eval)[0]
            history.append((t, *mode_stats(samples)))
            if t % max(1, steps // n_snapshots) == 0 or t == steps:
                snapshots[t] = samples
    return pG, pD, np.array(history), snapshots


def draw_samples(ax, samples, title):
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.3)
    ax.scatter(centres[:, 0], centres[:, 1], marker="x", c="r", s=40)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)


def show_snapshots(snapshots, prefix=""):
    """One panel per snapshot: the samples, the modes, and how many modes are covered."""
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3 * len(snapshots), 3.2))
    for ax, (t, samples) in zip(axes, snapshots.items()):
        modes, _, good = mode_stats(samples)
        draw_samples(ax, samples, f"{prefix}step {t}\n{modes}/8 modes, {good:.0%} within 3σ")
    plt.show()


steps = 3000 if QUICK else 6000
pG, pD, history, snapshots = train_gan(steps)
show_snapshots(snapshots)

modes, dist, good = history[-1, 1:]
print(f"after {steps} steps: {modes:.0f} of 8 modes covered, mean distance to the nearest "
      f"mode {dist:.3f} (σ = {SIGMA}), {good:.0%} of samples within 3σ")
print(f"most modes covered at any time during training: {history[:, 1].max():.0f}")
assert modes >= (6 if QUICK else 8) and dist < (0.3 if QUICK else 0.12)
assert history[:, 1].max() >= (7 if QUICK else 8)

# %% [markdown]
# Training curves of the success measures, and the discriminator's view at the end: its
# probability of "real" over the plane, the generated samples and the direction in which the
# generator pushes them (`−∇ₓ L_G`, the targeted-attack direction).

# %%
grid = np.linspace(-3, 3, 121)
G1, G2 = np.meshgrid(grid, grid)
p_real = D.predict_proba(pD, np.column_stack([G1.ravel(), G2.ravel()]))[:, REAL]
x_end, _ = G.forward(pG, np.random.default_rng(5).standard_normal((150, LATENT)))
push = -D.loss_and_grads(pD, x_end, np.full(150, REAL), param_grads=False).input_grad
push /= np.linalg.norm(push, axis=1, keepdims=True) + 1e-300

fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4))
ax1.plot(history[:, 0], history[:, 1], "o-")
ax1.set_xlabel("step")
ax1.set_ylabel("modes covered (of 8)")
ax2.plot(history[:, 0], history[:, 2], "o-", label="mean distance to nearest mode")
ax2.axhline(3 * SIGMA, color="k", ls=":", label="3σ")
ax2.set_xlabel("step")
ax2.legend()
cs = ax3.contourf(G1, G2, p_real.reshape(G1.shape), levels=np.linspace(0, 1, 11),
                  cmap="RdBu_r", alpha=0.7)
fig.colorbar(cs, ax=ax3, label="D: P(real)")
ax3.quiver(x_end[:, 0], x_end[:, 1], push[:, 0], push[:, 1], scale=25, width=0.003)
ax3.scatter(centres[:, 0], centres[:, 1], marker="x", c="k")
ax3.set_aspect("equal")
ax3.set_title("P_D(real); arrows: −∇ₓL_G at fakes", fontsize=10)
plt.show()

# %% [markdown]
# ## 4. Mode collapse
# The generator's gradient only says "move towards where `D` *currently* says real".  It
# never asks for variety: a generator that puts all its samples on the one region `D` rates
# most real has done its job for this step.  If the discriminator learns too slowly (here:
# its learning rate is 50× smaller than the generator's), that is what happens.  The samples
# collapse onto a few thin curves aimed at `D`'s current favourite region; `D` slowly
# lowers that region and the curves swing elsewhere — the samples hop instead of settling,
# and at most one mode is covered at any time.  This is the mode collapse of Goodfellow's
# NIPS tutorial (2016, arXiv:1701.00160, §5.1.1) and of Metz et al. (2017, Fig. 1).

# %%
collapse_steps = 1000 if QUICK else 2000
_, _, history_c, snapshots_c = train_gan(collapse_steps, lr_g=1e-2, lr_d=2e-4, n_snapshots=4)
show_snapshots(snapshots_c, prefix="weak D, ")
modes_c, dist_c, _ = history_c[-1, 1:]
print(f"weak discriminator: at most {history_c[:, 1].max():.0f} mode(s) covered at any time, "
      f"final mean distance {dist_c:.3f}")
assert history_c[:, 1].max() <= 1 and dist_c > 3 * dist

# %% [markdown]
# ### The balanced recipe, other seeds
# Mode collapse is not only a matter of bad settings.  Run the *same* balanced recipe from
# other seeds: some runs cover every mode, others settle on a subset and never find the rest
# (partial collapse, or "mode dropping").  The run shown above is seed 2.

# %%
sweep_seeds = (0, 1) if QUICK else (0, 1, 3, 4, 5)
sweep = {seed: train_gan(steps, seed=seed, n_snapshots=1) for seed in sweep_seeds}
modes_by_seed = {2: modes, **{seed: out[2][-1, 1] for seed, out in sweep.items()}}
for seed, m in sorted(modes_by_seed.items()):
    print(f"seed {seed}: {m:.0f} of 8 modes after {steps} steps")
fig, axes = plt.subplots(1, len(sweep), figsize=(3 * len(sweep), 3.2))
for ax, (seed, out) in zip(np.atleast_1d(axes), sweep.items()):
    samples = out[3][steps]
    draw_samples(ax, samples, f"seed {seed}\n{mode_stats(samples)[0]}/8 modes")
plt.show()
assert min(modes_by_seed.values()) < K <= max(modes_by_seed.values())

# %% [markdown]
# What helps against collapse: keep the discriminator strong and up to date (balanced
# learning rates), let the generator anticipate the discriminator's response (unrolled GANs,
# Metz et al.), or let `D` see whole minibatches so that it can detect a lack of variety
# (minibatch discrimination, Salimans et al.).  Report the modes-covered number over seeds and
# over training, not one good-looking picture.
#
# ## Summary
# * A GAN's generator learns through `∇ₓ` of the discriminator's loss: each generator step is
#   a targeted attack on `D`, backpropagated into `G` (`G.backward` with `dx`).
# * Success is measured, not eyeballed: modes covered and distance to the nearest mode.
# * A discriminator that lags the generator lets the generator collapse onto one mode.
#
# ## Exercises
# 1. Use the saturating loss `+mean log(1 − D(G(z)))` for the generator (flip the sign of
#    the fake-label input gradient).  How do the early steps change, and why (Goodfellow et
#    al. 2014, §3)?
# 2. Train with `LATENT = 1`.  Can a continuous map from a line cover eight separated modes
#    without putting samples between them?
# 3. (Autograded) The discriminator is trained with the softmax cross-entropy; write its
#    backward pass (`print(course.stub("softmax_cross_entropy_backward"))`):


# %%
def softmax_cross_entropy_backward(z, y):
    """dz = (softmax(z) − onehot(y)) / n for logits z (n, C) and labels y (n,)."""
    raise NotImplementedError          # your code here


attempt = course.check("softmax_cross_entropy_backward", softmax_cross_entropy_backward)
