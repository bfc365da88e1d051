# %% [markdown]
# # Tutorial 7 — Adversarial examples on real handwritten digits
#
# **Papers.** Szegedy et al. (2014), *Intriguing properties of neural networks*,
# arXiv:1312.6199; Goodfellow, Shlens, Szegedy (2015), arXiv:1412.6572; Kurakin, Goodfellow,
# Bengio (2017), *Adversarial Machine Learning at Scale*, arXiv:1611.01236 (label leaking);
# Madry et al. (2018), arXiv:1706.06083; Athalye, Carlini, Wagner (2018), *Obfuscated
# Gradients Give a False Sense of Security*, arXiv:1802.00420.
#
# **Data.** The UCI *Optical Recognition of Handwritten Digits* test set (Alpaydin & Kaynak;
# CC BY 4.0): 1 797 images of 8×8 pixels, shipped with minadv, so this runs offline.
#
# **Goals.**
# 1. Train a small MLP to > 90 % test accuracy and look at `x`, `δ` and `x + δ` for FGSM, the
#    L2 fast gradient, a one-pixel (L1) attack and PGD.
# 2. Make the network say a digit *of our choice* (targeted attacks).
# 3. See gradient masking honestly: an FGSM-trained network that looks robust under FGSM and
#    is not under PGD.
# 4. Train with PGD (Madry et al.) and compare robustness curves.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv.attacks import fast_gradient, fgsm, pgd, robustness_curve
from minadv.datasets import load_digits, train_test_split
from minadv.models import MLP
from minadv.optim import adam
from minadv.training import ERM, FGSMObjective, PGDObjective, fit

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
# ## 2. Four attacks, side by side
# All attacks keep the pixels in `[0, 1]`.
# * **FGSM** (L∞, eps = 0.1): every pixel moves by ±0.1 — a faint texture.
# * **L2 fast gradient** (eps = 1.0): the gradient direction itself, normalised.
# * **One pixel** (L1 fast gradient, eps = 1): the steepest L1 step changes the *single* pixel
#   with the largest gradient; in an 8×8 image one pixel is a lot.
# * **PGD** (L∞, eps = 0.1, 20 steps, random start): FGSM iterated and projected.

# %%
attacks = {
    "FGSM, eps=0.1": lambda p, Xs, ys: fgsm(net, p, Xs, ys, 0.1, **BOX),
    "L2 FGM, eps=1": lambda p, Xs, ys: fast_gradient(net, p, Xs, ys, 1.0, norm=2, **BOX),
    "one pixel (L1), eps=1": lambda p, Xs, ys: fast_gradient(net, p, Xs, ys, 1.0, norm=1, **BOX),
    "PGD-20, eps=0.1": lambda p, Xs, ys: pgd(net, p, Xs, ys, 0.1, n_steps=20, rng=0, **BOX),
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


# %% [markdown]
# Now look at them.  For each attack: the clean digit, the perturbation `δ` (red = brighter,
# blue = darker) and the adversarial digit, each with the network's prediction.

# %%
def show_attack_grid(params, X_clean, y_clean, adv, title=""):
    """Rows: attacks; columns: x, δ, x + δ for each of the given digits."""
    n = X_clean.shape[0]
    fig, axes = plt.subplots(len(adv), 3 * n, figsize=(1.1 * 3 * n, 1.35 * len(adv) + 0.5),
                             squeeze=False)
    pred_clean = net.predict(params, X_clean)
    for row, (name, Xa) in zip(axes, adv.items()):
        pred_adv = net.predict(params, Xa)
        for i in range(n):
            delta = (Xa[i] - X_clean[i]).reshape(8, 8)
            bound = max(np.abs(delta).max(), 1e-12)
            row[3 * i].imshow(X_clean[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            row[3 * i].set_title(f"x: {pred_clean[i]}", fontsize=8)
            row[3 * i + 1].imshow(delta, cmap="RdBu_r", vmin=-bound, vmax=bound)
            row[3 * i + 1].set_title("δ", fontsize=8)
            row[3 * i + 2].imshow(Xa[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ok = pred_adv[i] == y_clean[i]
            row[3 * i + 2].set_title(f"x+δ: {pred_adv[i]}", fontsize=8,
                                     color="k" if ok else "r")
        row[0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# one digit each of 0, 3, 5 and 8 that the network reads correctly and PGD fools
pgd_fooled = net.predict(erm, adversarial["PGD-20, eps=0.1"]) != y_te
read_ok = net.predict(erm, X_te) == y_te
show_idx = np.array([np.flatnonzero(read_ok & pgd_fooled & (y_te == k))[0] for k in (0, 3, 5, 8)])
fig = show_attack_grid(erm, X_te[show_idx], y_te[show_idx],
                       {k: v[show_idx] for k, v in adversarial.items()},
                       "ERM network: clean digit, perturbation, adversarial digit (red = fooled)")
plt.show()

# %% [markdown]
# ## 3. Targeted attacks: choose the answer
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
# ## 4. Gradient masking: FGSM training looks robust and is not
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
# ## 5. Adversarial training with PGD, and robustness curves
# Madry et al. train on a 7-step PGD point with a random start.  We compare three networks
# under PGD-20 along an eps grid (`robustness_curve` counts a digit as robust at eps only if
# it survives every attack up to eps, so the curves never rise).

# %%
pgd_trained = train(PGDObjective(eps=eps_train, n_steps=7, **BOX))
networks = {"ERM": erm, "FGSM-trained": fgsm_trained, "PGD-trained": pgd_trained}
curves = {name: robustness_curve(net, p, X_te, y_te, grid, attack="pgd", n_steps=20, rng=0, **BOX)
          for name, p in networks.items()}
for name, c in curves.items():
    print(f"{name:<13}" + "  ".join(f"{a:.3f}" for a in c.accuracy))

fig, ax = plt.subplots(figsize=(6, 4))
for name, c in curves.items():
    ax.plot(grid, c.accuracy, "o-", label=f"{name} (PGD-20)")
ax.plot(grid, fgsm_curve.pointwise_accuracy, "s--", color="C1", alpha=0.6,
        label="FGSM-trained, FGSM at each eps")
ax.set_xlabel("eps (L∞, pixels in [0, 1])")
ax.set_ylabel("test accuracy under attack")
ax.set_title("Robustness curves on digits")
ax.legend()
plt.show()

robust_at = {name: c.accuracy[-1] for name, c in curves.items()}
assert robust_at["PGD-trained"] > robust_at["FGSM-trained"] + 0.1
assert robust_at["PGD-trained"] > robust_at["ERM"] + 0.1

# %% [markdown]
# The PGD-trained network pays with clean accuracy (the first point of its curve) for the
# robustness it gains; at eps = 0.3 on an 8×8 digit that is a large budget (a third of the
# grey scale on every pixel).  The FGSM-trained network, judged by FGSM alone, would look
# robust; under PGD it is not.  Finally, look at what PGD does to the PGD-trained network:
# its perturbations start to look like strokes of another digit.

# %%
adv_robust = {"PGD-20, eps=0.3 (ERM)": pgd(net, erm, X_te[show_idx], y_te[show_idx], 0.3,
                                           n_steps=20, rng=0, **BOX)}
fig = show_attack_grid(erm, X_te[show_idx], y_te[show_idx], adv_robust, "ERM network")
plt.show()
adv_robust = {"PGD-20, eps=0.3 (PGD-tr.)": pgd(net, pgd_trained, X_te[show_idx],
                                              y_te[show_idx], 0.3, n_steps=20, rng=0, **BOX)}
fig = show_attack_grid(pgd_trained, X_te[show_idx], y_te[show_idx], adv_robust,
                       "PGD-trained network")
plt.show()

# %% [markdown]
# ## Summary
# * A small MLP reads these digits at > 90 %; an invisible-looking FGSM step of 0.1 per pixel
#   (or a single pixel) breaks it.
# * Targeted attacks choose the wrong answer; they need a larger budget.
# * One-step adversarial training can mask gradients: always evaluate with a stronger attack
#   (PGD with random starts) than the one used in training.
# * PGD training buys real robustness and costs clean accuracy.
#
# ## Exercises
# 1. Repeat section 4 with `clean_weight=0.0` (train on adversarial points only).  Compare FGSM
#    accuracy with the clean accuracy: what is *label leaking* (Kurakin et al. 2017)?
# 2. Evaluate the FGSM-trained network with PGD restarts (`n_restarts=5`).  Does it change
#    the verdict?
# 3. (Autograded) Write one step of PGD yourself (`print(course.stub("pgd_step"))` shows the
#    task: ascent, projection onto the ball, then the box) and check it:

# %%
from minadv import course


def pgd_step(x, x0, g, step_size, eps, norm, clip_min=None, clip_max=None):
    """Ascent step, projection onto the eps-ball around x0, then the box (see the stub)."""
    raise NotImplementedError          # your code here


attempt = course.check("pgd_step", pgd_step)
