# %% [markdown]
# # Tutorial 7 — Adversarial examples on real handwritten digits
#
# **Learning objectives.**  After this tutorial you can
# 1. write one step of projected gradient ascent — step, projection onto the eps-ball, box —
#    and run PGD with it (graded: `pgd_step`);
# 2. look at `x`, `δ` and `x + δ` for FGSM, the L2 fast gradient, a one-pixel (L1) attack and
#    PGD, and say what each perturbation looks like;
# 3. make a network output a digit of your choice (targeted attacks);
# 4. recognise gradient masking: an FGSM-trained network that looks robust under FGSM and is not
#    under PGD;
# 5. compute a robustness curve as a cumulative worst case (graded: `robust_accuracy_curve`) and
#    compare ERM, FGSM and PGD training with it.
#
# **Prerequisites.**  Tutorial 2 (FGSM, steepest ascent in each norm), Tutorial 6 (adversarial
# training, the PGD inner loop).
#
# **Time.**  About 75 minutes: 30 to read and run, 45 for the two graded exercises and the
# open questions.
#
# **Papers.** Szegedy et al. (2014), *Intriguing properties of neural networks*,
# arXiv:1312.6199; Goodfellow, Shlens, Szegedy (2015), arXiv:1412.6572; Kurakin, Goodfellow,
# Bengio (2017), *Adversarial Machine Learning at Scale*, arXiv:1611.01236 (label leaking);
# Madry et al. (2018), arXiv:1706.06083; Athalye, Carlini, Wagner (2018), *Obfuscated
# Gradients Give a False Sense of Security*, arXiv:1802.00420.
#
# **Data.** The UCI *Optical Recognition of Handwritten Digits* test set (Alpaydin & Kaynak;
# CC BY 4.0): 1 797 images of 8×8 pixels, shipped with minadv, so this runs offline.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minadv.course
from minadv.attacks import fast_gradient, fgsm, pgd, random_ball_start, robustness_curve
from minadv.datasets import load_digits, train_test_split
from minadv.models import MLP
from minadv.optim import adam
from minadv.training import ERM, FGSMObjective, PGDObjective, fit

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=OKABE_ITO)   # colour-blind-safe colours
QUICK = os.environ.get("MINADV_QUICK") == "1"
EPOCHS = 20 if QUICK else 60

X, y = load_digits()                                   # X (1797, 64) in [0, 1], y in 0..9
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
BOX = {"clip_min": 0.0, "clip_max": 1.0}               # pixels stay valid grey levels
print(f"train {X_tr.shape}, test {X_te.shape}")

# %% [markdown]
# ## 1. A small MLP that reads digits
# 64 → 64 → 10 with ReLU, trained with Adam on the cross-entropy (ERM).

# %%
net = MLP([64, 64, 10], activation="relu")
init = net.init_params(rng=0)


def train(objective, epochs=EPOCHS):
    return fit(net, init, objective, X_tr, y_tr, optimizer=adam(1e-2), epochs=epochs,
               batch_size=64, rng=0, verbose=0).params


erm = train(ERM())
clean_acc = np.mean(net.predict(erm, X_te) == y_te)
print(f"clean test accuracy: {clean_acc:.3f}")
assert clean_acc > 0.9

# %% [markdown]
# ## 2. One PGD step, by hand
# PGD (Madry et al. 2018, eq. (2.1)) repeats one step: ascend the loss by a steepest-ascent
# step of length `step_size` in the attack's norm, project back onto the eps-ball around the
# clean `x0`, then clip to the data box.
#
# ### Exercise A (graded): `pgd_step`
# `print(minadv.course.stub("pgd_step"))` shows the task (L∞, L2 and L1; the order of the two
# projections matters).  You may use `minadv.attacks.project_ball(r, eps, 1)` for the L1 ball.

# %%
def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    """Ascent step of length step_size in `norm`, projection onto the eps-ball around x0,
    then the box [clip_min, clip_max] (None: no bound on that side)."""
    # BEGIN SOLUTION
    from minadv.attacks import project_ball  # allowed by the stub, for the L1 ball

    def unit_rows(a):
        scale = np.max(np.abs(a), axis=1, keepdims=True)
        safe = np.where(scale > 0, scale, 1)
        norms = scale * np.sqrt(np.sum((a / safe) ** 2, axis=1, keepdims=True))
        return a / np.where(norms > 0, norms, 1)

    if norm == np.inf:
        step = np.sign(g)
    elif norm == 2:
        step = unit_rows(g)
    else:                                                      # one coordinate per row
        rows, j = np.arange(g.shape[0]), np.argmax(np.abs(g), axis=1)
        step = np.zeros_like(g)
        step[rows, j] = np.sign(g[rows, j])
    r = x + step_size * step - x0
    if norm == np.inf:
        r = np.clip(r, -eps, eps)
    elif norm == 2:
        r = r * np.minimum(1, eps / np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-300))
    else:
        r = project_ball(r, eps, 1)
    x_new = x0 + r
    if clip_min is not None or clip_max is not None:
        x_new = np.clip(x_new, clip_min, clip_max)
    return x_new.astype(x.dtype)
    # END SOLUTION


# %%
assert minadv.course.check("pgd_step", pgd_step).passed

# %% [markdown]
# Twenty of your steps from the library's random start (`rng=0`) are PGD-20:

# %%
def my_pgd(params, X0, labels, eps, n_steps=20):
    """PGD-20 in L∞ with your pgd_step, from the library's random start for rng=0."""
    step_size = 2.5 * eps / n_steps                            # the library's default
    X_adv = np.clip(X0 + random_ball_start(X0.shape, eps, np.inf, rng=0), 0, 1)
    for _ in range(n_steps):
        g = net.loss_and_grads(params, X_adv, labels, param_grads=False).input_grad
        X_adv = pgd_step(X_adv, X0, g, step_size, eps, np.inf, **BOX)
    return X_adv


X_pgd = my_pgd(erm, X_te, y_te, 0.1)
X_pgd_lib = pgd(net, erm, X_te, y_te, 0.1, n_steps=20, rng=0, **BOX)
print(f"max |your PGD-20 - library PGD-20| = {np.abs(X_pgd - X_pgd_lib).max():.1e}")
assert np.abs(X_pgd - X_pgd_lib).max() < 1e-12

# %% [markdown]
# ## 3. Four attacks, side by side
# All attacks keep the pixels in `[0, 1]`.
# * **FGSM** (L∞, eps = 0.1): every pixel moves by ±0.1 unless the box stops it (background
#   pixels at 0 pushed darker stay at 0).  On an 8×8 digit this is clearly visible — the change
#   is about a sixth of the image's L2 norm (asserted below) — yet the digit stays readable to
#   us.
# * **L2 fast gradient** (eps = 1.0): the gradient direction itself, normalised.
# * **One pixel** (L1 fast gradient, eps = 1): the steepest L1 step changes the *single* pixel
#   with the largest gradient; in an 8×8 image one pixel is a lot.
# * **PGD** (L∞, eps = 0.1, 20 steps, random start): your steps, iterated.

# %%
attacks = {
    "FGSM, eps=0.1": lambda p, Xs, ys: fgsm(net, p, Xs, ys, 0.1, **BOX),
    "L2 FGM, eps=1": lambda p, Xs, ys: fast_gradient(net, p, Xs, ys, 1.0, norm=2, **BOX),
    "one pixel (L1), eps=1": lambda p, Xs, ys: fast_gradient(net, p, Xs, ys, 1.0, norm=1, **BOX),
    "PGD-20, eps=0.1": lambda p, Xs, ys: my_pgd(p, Xs, ys, 0.1),
}
adversarial = {name: attack(erm, X_te, y_te) for name, attack in attacks.items()}
acc_under = {name: np.mean(net.predict(erm, Xa) == y_te) for name, Xa in adversarial.items()}
for name, acc in acc_under.items():
    print(f"{name:<24} test accuracy {acc:.3f}")
assert acc_under["FGSM, eps=0.1"] < 0.6 * clean_acc          # far below the clean accuracy
assert acc_under["PGD-20, eps=0.1"] <= acc_under["FGSM, eps=0.1"]
assert acc_under["one pixel (L1), eps=1"] < clean_acc - 0.1   # one pixel fools > 10 %
n_changed = np.sum(adversarial["one pixel (L1), eps=1"] != X_te, axis=1)
assert n_changed.max() == 1

delta_fgsm = adversarial["FGSM, eps=0.1"] - X_te
moved = np.mean(delta_fgsm != 0)
relative = np.mean(np.linalg.norm(delta_fgsm, axis=1) / np.linalg.norm(X_te, axis=1))
print(f"FGSM eps=0.1: {moved:.0%} of the pixels move; ‖δ‖₂/‖x‖₂ = {relative:.2f} on average")
assert 0.12 < relative < 0.25 and moved > 0.6                 # "about a sixth", visible


# %% [markdown]
# Now look at them.  For each attack: the clean digit `x`, the perturbation `δ` and the
# adversarial digit `x + δ`, with the network's prediction above each digit.  All `δ` panels
# of a figure share one symmetric colour scale (right colour bar: orange = more ink, i.e. a
# larger pixel value; purple = less ink), so their sizes can be compared; the digits share the
# grey scale of the left colour bar (1 = black ink).  A prediction that differs from the true
# label is marked "(fooled)" on `x + δ` and "(misread)" on a clean digit.

# %%
def show_attack_grid(params, X_clean, y_clean, adv, title=""):
    """Rows: attacks; columns: x, δ, x + δ for each of the given digits."""
    n = X_clean.shape[0]
    fig, axes = plt.subplots(len(adv), 3 * n, figsize=(1.25 * 3 * n + 2.2, 1.5 * len(adv) + 1),
                             squeeze=False, layout="constrained")
    pred_clean = net.predict(params, X_clean)
    bound = max(np.abs(Xa - X_clean).max() for Xa in adv.values())   # one scale per figure
    for row, (name, Xa) in zip(axes, adv.items()):
        pred_adv = net.predict(params, Xa)
        for i in range(n):
            ax_x, ax_d, ax_a = row[3 * i: 3 * i + 3]
            pixels = ax_x.imshow(X_clean[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            misread = pred_clean[i] != y_clean[i]
            ax_x.set_title(f"x: {pred_clean[i]}" + (" (misread)" if misread else ""),
                           fontsize=8, fontweight="bold" if misread else "normal")
            deltas = ax_d.imshow((Xa[i] - X_clean[i]).reshape(8, 8), cmap="PuOr_r",
                                 vmin=-bound, vmax=bound)
            ax_d.set_title("δ", fontsize=8)
            ax_a.imshow(Xa[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            fooled = pred_adv[i] != y_clean[i]
            ax_a.set_title(f"x+δ: {pred_adv[i]}" + (" (fooled)" if fooled else ""), fontsize=8,
                           fontweight="bold" if fooled else "normal")
        row[0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(pixels, ax=axes[:, 0], location="left", label="pixel value (x, x+δ)",
                 shrink=0.9, pad=0.15)
    fig.colorbar(deltas, ax=axes[:, -1], label="δ (one scale for all δ panels)", shrink=0.9)
    fig.suptitle(title)
    return fig


# one digit each of 0, 3, 5 and 8 that the network reads correctly and PGD fools
pgd_fooled = net.predict(erm, adversarial["PGD-20, eps=0.1"]) != y_te
read_ok = net.predict(erm, X_te) == y_te
show_idx = np.array([np.flatnonzero(read_ok & pgd_fooled & (y_te == k))[0] for k in (0, 3, 5, 8)])
fig = show_attack_grid(erm, X_te[show_idx], y_te[show_idx],
                       {k: v[show_idx] for k, v in adversarial.items()},
                       f"ERM network, true labels {y_te[show_idx].tolist()}")
plt.show()

# %% [markdown]
# On one colour scale the one-pixel attack's single pixel (δ up to 1) dominates; the FGSM and
# PGD perturbations are ±0.1 everywhere the box allows — a texture over the whole image,
# not a local edit.  Where the one pixel with the largest gradient is already at the edge of
# the box, the box cancels the step (an empty δ panel) and the prediction does not change.
#
# ## 4. Targeted attacks: choose the answer
# Instead of ascending the loss of the true label, *descend* the loss of a target label
# (`target=`).  Here every test digit `k` is pushed towards `k + 1 (mod 10)`.  A targeted
# attack needs a larger budget than an untargeted one: it must reach one particular class.

# %%
target = (y_te + 1) % 10
target_success = {}
for eps in (0.1, 0.2, 0.3):
    X_t = pgd(net, erm, X_te, y_te, eps, n_steps=20, target=target, rng=0, **BOX)
    target_success[eps] = np.mean(net.predict(erm, X_t) == target)
    print(f"targeted PGD-20, eps={eps}: predicted as the target on {target_success[eps]:.3f}")
assert target_success[0.3] > 0.9 and target_success[0.1] < target_success[0.3]

X_t = pgd(net, erm, X_te[show_idx], y_te[show_idx], 0.3, n_steps=20, target=target[show_idx],
          rng=0, **BOX)
fig = show_attack_grid(erm, X_te[show_idx], y_te[show_idx], {"targeted PGD, eps=0.3": X_t},
                       f"targets {target[show_idx].tolist()}")
plt.show()

# %% [markdown]
# ## 5. Gradient masking: FGSM training looks robust and is not
# Train with Goodfellow's objective `½J(x) + ½J(x + eps·sign∇ₓJ)` at eps = 0.3.  Then evaluate
# with the attack it was trained against (FGSM) and with a stronger one (PGD-20).  A network
# can learn to make its *own one-step gradient* useless — the FGSM point stops being the worst
# point — without becoming robust: Athalye et al. call this obfuscated gradients.  The only
# honest evaluation is against a stronger attack than the one used in training.

# %%
eps_train = 0.3
fgsm_trained = train(FGSMObjective(eps=eps_train, clean_weight=0.5, **BOX))
grid = [0.0, 0.1, 0.2, 0.3] if QUICK else [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
fgsm_curve = robustness_curve(net, fgsm_trained, X_te, y_te, grid, attack="fgsm", **BOX)
pgd_curve = robustness_curve(net, fgsm_trained, X_te, y_te, grid, attack="pgd", n_steps=20, rng=0,
                             **BOX)
fgsm_at, pgd_at = fgsm_curve.pointwise_accuracy[-1], pgd_curve.pointwise_accuracy[-1]
print(f"FGSM-trained: clean {fgsm_curve.clean_accuracy:.3f}   at eps={eps_train}: "
      f"FGSM {fgsm_at:.3f}   PGD-20 {pgd_at:.3f}")
assert fgsm_at > pgd_at + 0.3          # strong against FGSM, weak against PGD

# %% [markdown]
# ## 6. Robustness curves, and adversarial training with PGD
# A robustness curve reports, at each eps of a grid, the fraction of test points that are
# classified correctly clean **and** under every attack run at radii up to eps — the worst case
# over everything tried.  The accuracy on each attack's output alone (the "pointwise" accuracy)
# can rise with eps when an attack is unlucky, which is the signature of a weak evaluation.
#
# ### Exercise B (graded): `robust_accuracy_curve`
# From the predictions `pred` of shape `(n, k + 1)` (column 0 clean, column `j` the attack at
# `eps_j`), return the robust accuracy and the attack success rate along the grid
# (`print(minadv.course.stub("robust_accuracy_curve"))`).

# %%
def robust_accuracy_curve(y, pred):
    """(accuracy, success_rate), each of shape (k,): the fraction of points correct clean and
    under every attack up to eps_j, and the fraction of the clean-correct points that some
    attack up to eps_j fooled (0 if none is correct clean)."""
    # BEGIN SOLUTION
    correct = pred == y[:, None]                               # (n, k + 1)
    robust = np.cumprod(correct, axis=1)[:, 1:].astype(bool)   # survived everything so far
    clean = correct[:, 0]
    n_clean = clean.sum()
    fooled = (clean[:, None] & ~robust).sum(axis=0)
    success = fooled / n_clean if n_clean else np.zeros(robust.shape[1])
    return robust.mean(axis=0), success
    # END SOLUTION


# %%
assert minadv.course.check("robust_accuracy_curve", robust_accuracy_curve).passed

# %% [markdown]
# Madry et al. train on a 7-step PGD point with a random start.  We compare three networks
# under PGD-20: your function turns each network's predictions under attack into its curve,
# and gives exactly what `robustness_curve` reports for the same attack.

# %%
pgd_trained = train(PGDObjective(eps=eps_train, n_steps=7, **BOX))
networks = {"ERM": erm, "FGSM-trained": fgsm_trained, "PGD-trained": pgd_trained}
curves = {}
for name, p in networks.items():
    def attack(Xb, yb, eps, p=p):
        return pgd(net, p, Xb, yb, eps, n_steps=20, rng=0, **BOX)
    pred = np.column_stack([net.predict(p, X_te)]
                           + [net.predict(p, attack(X_te, y_te, e) if e > 0 else X_te)
                              for e in grid])
    curves[name], _ = robust_accuracy_curve(y_te, pred)          # your function
    library = robustness_curve(net, p, X_te, y_te, grid, attack=attack, **BOX)
    assert np.array_equal(curves[name], library.accuracy)
    print(f"{name:<13}" + "  ".join(f"{a:.3f}" for a in curves[name]))

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for (name, acc), marker in zip(curves.items(), "os^"):
    ax.plot(grid, acc, marker + "-", label=f"{name}, PGD-20 (robust accuracy)")
ax.plot(grid, fgsm_curve.pointwise_accuracy, "D--", color="k",
        label="FGSM-trained, FGSM alone at each eps")
ax.set_xlabel("eps (L∞, pixels in [0, 1])")
ax.set_ylabel("test accuracy under attack")
ax.set_ylim(-0.02, 1.02)
ax.set_title("Robustness curves on digits")
ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9)   # beside the curves
plt.show()

robust_at = {name: acc[-1] for name, acc in curves.items()}
assert robust_at["PGD-trained"] > robust_at["FGSM-trained"] + 0.1
assert robust_at["PGD-trained"] > robust_at["ERM"] + 0.1
assert curves["PGD-trained"][0] < curves["ERM"][0] - 0.1         # it pays in clean accuracy

# %% [markdown]
# The PGD-trained network pays with clean accuracy (the first point of its curve, more than 10
# points below ERM's) for the robustness it gains; at eps = 0.3 on an 8×8 digit that is a large
# budget (a third of the grey scale on every pixel).  The FGSM-trained network, judged by FGSM
# alone, would look robust; under PGD it is not.
#
# Finally, look at what PGD at eps = 0.3 does to both networks.  The perturbations look like
# saturated noise: almost every pixel sits at ±eps or at the edge of the box (the fraction is
# printed and asserted below) — there is no stroke of another digit to see.  The PGD-trained
# network misreads some of these clean digits already (marked "(misread)"): its clean accuracy
# is lower.

# %%
adv_erm = pgd(net, erm, X_te[show_idx], y_te[show_idx], 0.3, n_steps=20, rng=0, **BOX)
adv_pgdt = pgd(net, pgd_trained, X_te[show_idx], y_te[show_idx], 0.3, n_steps=20, rng=0, **BOX)
for name, X_a in (("ERM", adv_erm), ("PGD-trained", adv_pgdt)):
    d = X_a - X_te[show_idx]
    saturated = np.mean((np.abs(d) > 0.3 - 1e-9) | (X_a <= 0) | (X_a >= 1))
    print(f"{name}: {saturated:.0%} of the pixels at ±eps or at a box edge")
    assert saturated > 0.8
fig = show_attack_grid(erm, X_te[show_idx], y_te[show_idx],
                       {"PGD-20, eps=0.3": adv_erm}, "ERM network")
plt.show()
fig = show_attack_grid(pgd_trained, X_te[show_idx], y_te[show_idx],
                       {"PGD-20, eps=0.3": adv_pgdt}, "PGD-trained network")
plt.show()
n_misread = int(np.sum(net.predict(pgd_trained, X_te[show_idx]) != y_te[show_idx]))
print(f"the PGD-trained network misreads {n_misread} of these {len(show_idx)} clean digits")
assert n_misread >= 1                   # the prose above: it misreads some clean digits

# %% [markdown]
# ## Summary
# * A small MLP reads these digits at > 90 %; an FGSM step of 0.1 per pixel — clearly visible
#   on 8×8 digits, but leaving them readable to us — or a single pixel breaks it.
# * PGD is one projected step, repeated; targeted attacks choose the wrong answer and need a
#   larger budget.
# * One-step adversarial training can mask gradients: always evaluate with a stronger attack
#   (PGD with random starts) than the one used in training, and report the cumulative worst
#   case.
# * PGD training buys real robustness and costs clean accuracy.
#
# ## Exercises (open)
# 1. Repeat section 5 with `clean_weight=0.0` (train on adversarial points only).  Compare FGSM
#    accuracy with the clean accuracy: what is *label leaking* (Kurakin et al. 2017)?
# 2. Evaluate the FGSM-trained network with PGD restarts (`n_restarts=5`).  Does it change
#    the verdict?
# 3. Compare the pointwise accuracy (`robustness_curve(...).pointwise_accuracy`) with the robust
#    accuracy of the FGSM-trained network under FGSM.  Where do they differ, and why?
