# %% [markdown]
# # Tutorial 0 — Backprop from scratch: logistic regression and a two-layer MLP in NumPy
#
# Every attack in this course needs one quantity: the gradient of the loss with respect to the
# **input**, `∇ₓ L`.  Every training method needs the gradient with respect to the
# **parameters**.  Here you write both yourself, layer by layer, check them against finite
# differences, train the network you wrote, and then meet the library functions that do the
# same thing.
#
# **Learning objectives.** By the end you can
# 1. say why the textbook `1/(1 + exp(−t))` and `exp(z)/Σexp(z)` break, and write the stable
#    forms (`exp(−|t|)`, max-subtracted log-sum-exp);
# 2. write forward/backward passes as pairs `f_forward(...) -> (out, cache)`,
#    `f_backward(dout, cache) -> grads` (the cs231n layout) and chain them into a network;
# 3. check any gradient with `minadv.gradcheck` and read the relative error;
# 4. recognise the same computation in `minadv.layers` and `minadv.models.MLP`.
#
# **Prerequisites.** NumPy broadcasting and matrix shapes; the chain rule; what a logistic
# regression and a softmax classifier are.  No earlier tutorial.
#
# **Time.** About 2 hours (nine short exercises).
#
# **How the exercises work.** Each exercise is a function whose body you write (the
# notebook says `raise NotImplementedError` until you do), followed by a check cell:
# `course.check(name, fn)` runs your function on random *and* adversarial cases (saturated
# logits, float32, exact zeros) and prints ✓/✗ with the relative error and a hint.  The cells
# after an exercise **use your function**: a wrong answer shows in the gradient checks and in
# the trained network's plots, not only in the check.
#
# Run it as a script (`python tutorials/00_backprop_from_scratch.py`) or as the notebook
# `minadv course release` writes (see the README, section "Course").

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.datasets import make_moons
from minadv.gradcheck import numerical_gradient, rel_error
from minadv.models import MLP, LogisticRegressionModel

QUICK = os.environ.get("MINADV_QUICK") == "1"
rng = np.random.default_rng(0)
CLASS_STYLE = {0: dict(color="#E69F00", marker="o", label="class 0"),     # Okabe–Ito orange
               1: dict(color="#56B4E9", marker="s", label="class 1")}     # Okabe–Ito sky blue

# %% [markdown]
# ## 1. The naive sigmoid and softmax overflow
# `exp(1000)` is larger than the largest float64 (≈ 1.8e308).  NumPy then returns `inf` and
# issues a `RuntimeWarning`; we ask it to *raise* instead (`np.errstate(over="raise")`) so we
# can print the message, and then to stay quiet so we can look at the result.

# %%
def naive_sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


t = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
with np.errstate(over="raise"):
    try:
        naive_sigmoid(t)
    except FloatingPointError as err:
        print("naive sigmoid:", err)
with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
    naive_nll = -np.log(naive_sigmoid(t))               # −log σ(t), the loss of a label 1
    naive_p = naive_softmax(np.array([[1000.0, 0.0, -5.0]]))   # inf / inf = nan
print("−log σ(t), naive:", naive_nll)
print("softmax([1000, 0, −5]), naive:", naive_p)
assert np.isinf(naive_nll[0]) and np.isnan(naive_p).any()

ts = np.linspace(-800, 800, 401)
with np.errstate(over="ignore", divide="ignore"):
    naive_curve = -np.log(naive_sigmoid(ts))
first_finite = ts[np.isfinite(naive_curve)][0]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ts, np.logaddexp(0.0, -ts), lw=4, color="#0072B2", alpha=0.5,
        label="logaddexp(0, −t)  (stable)")
ax.plot(ts, np.where(np.isfinite(naive_curve), naive_curve, np.nan), "k--",
        label="−log(1/(1+exp(−t)))  (naive)")
ax.axvspan(ts[0], first_finite, color="#D55E00", alpha=0.15, label="naive gives inf")
ax.set_xlabel("logit t")
ax.set_ylabel("−log σ(t)")
ax.set_title(f"The naive logistic loss is infinite for t < {first_finite:.0f}")
ax.legend(loc="upper right")
plt.show()
assert -750 < first_finite < -700          # exp(−t) overflows once −t > log(1.8e308) ≈ 709.8

# %% [markdown]
# ### Exercise 1 — a sigmoid that never overflows
# `exp(−|t|)` is always in `(0, 1]`.  With `e = exp(−|t|)`: `σ(t) = 1/(1 + e)` for `t ≥ 0`
# and `σ(t) = e/(1 + e)` for `t < 0`.  Keep the input's dtype.

# %%
def sigmoid(t):
    """Logistic sigmoid 1/(1 + exp(-t)), elementwise, without overflow."""
    # BEGIN SOLUTION
    e = np.exp(-np.abs(t))                               # in (0, 1]: never overflows
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))
    # END SOLUTION


# %%
result = course.check("sigmoid", sigmoid)

# %% [markdown]
# ### Exercise 2 — log-sum-exp, row by row
# `log Σ_k exp(z_k) = M + log Σ_k exp(z_k − M)` with `M = max_k z_k`: every exponent is `≤ 0`
# and the largest term is exactly 1, so the log never sees 0.  Your function gives the stable
# log-softmax below, and the network's loss in section 3.

# %%
def logsumexp(z):
    """Row-wise log sum_k exp(z_ik) of z (n, C) -> (n,), stable for huge logits."""
    # BEGIN SOLUTION
    m = np.max(z, axis=1, keepdims=True)                 # (n, 1) row max
    return (m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)))[:, 0]
    # END SOLUTION


# %%
result = course.check("logsumexp", logsumexp)

# %% [markdown]
# With your two functions the overflowing examples above come out right:

# %%
def log_softmax(z):
    return z - logsumexp(z)[:, None]                     # (n, C), your logsumexp


print("σ(t) with your sigmoid:", sigmoid(t))
print("softmax([1000, 0, −5]) with your logsumexp:",
      np.exp(log_softmax(np.array([[1000.0, 0.0, -5.0]]))))
assert np.all(np.isfinite(sigmoid(t))) and sigmoid(t)[0] == 0.0 and sigmoid(t)[-1] == 1.0
assert np.allclose(np.exp(log_softmax(np.array([[1000.0, 0.0, -5.0]]))), [[1, 0, 0]])

# %% [markdown]
# ## 2. Logistic regression by hand
# Score `f_i = x_i·w + b`, labels `y ∈ {0, 1}`, signed labels `s = 2y − 1`, margins
# `m_i = s_i f_i`, mean loss
#
# $$L = \frac1n\sum_i \operatorname{softplus}(-m_i), \qquad \operatorname{softplus}(t) = \log(1 + e^t).$$
#
# Backward: `∂L/∂f_i = −σ(−m_i) s_i / n`; then the chain rule through `f = Xw + b` gives
# `∂L/∂w = Xᵀ ∂L/∂f`, `∂L/∂b = Σ_i ∂L/∂f_i` and — the attack's quantity — `∂L/∂X = ∂L/∂f wᵀ`.
#
# ### Exercise 3 — loss and the three gradients
# Use `np.logaddexp(0, t)` for `softplus(t)` and your `sigmoid`.

# %%
def logistic_backward(w, b, X, y):
    """Mean logistic loss and its gradients (loss, dw, db, dX); y in {0, 1}."""
    # BEGIN SOLUTION
    n = X.shape[0]
    s = (2 * y - 1).astype(X.dtype)                      # signed labels ±1
    m = s * (X @ w + b)                                  # (n,) margins
    loss = float(np.mean(np.logaddexp(0, -m)))
    coef = -sigmoid(-m) * s / n                          # (n,) ∂L/∂f_i
    return loss, X.T @ coef, float(np.sum(coef)), np.outer(coef, w)
    # END SOLUTION


# %%
result = course.check("logistic_backward", logistic_backward)

# %% [markdown]
# A gradient check of *your* function: central differences `(f(θ + h e_i) − f(θ − h e_i))/2h`
# for every coordinate, compared by the relative error `‖a − b‖ / (‖a‖ + ‖b‖)`.  Below `1e-7`
# is right in float64; a bug gives `1e-2` or more.

# %%
X = rng.normal(size=(20, 5))
y = rng.integers(0, 2, 20)
w, b = rng.normal(size=5), 0.3
loss, dw, db, dX = logistic_backward(w, b, X, y)
num_dw = numerical_gradient(lambda v: logistic_backward(v, b, X, y)[0], w)
num_db = numerical_gradient(lambda v: logistic_backward(w, v[0], X, y)[0], np.array([b]))
num_dX = numerical_gradient(lambda V: logistic_backward(w, b, V, y)[0], X)
errors = {"dw": rel_error(dw, num_dw), "db": rel_error(db, num_db), "dX": rel_error(dX, num_dX)}
print({k: f"{v:.1e}" for k, v in errors.items()})
assert max(errors.values()) < 1e-8

# %% [markdown]
# The library's logistic regression computes the same numbers (its labels are also 0/1):

# %%
ref = LogisticRegressionModel(5).loss_and_grads({"w": w, "b": np.array(b)}, X, y)
print(f"loss: yours {loss:.12f}   minadv {ref.loss:.12f}")
assert rel_error(dw, ref.grads["w"]) < 1e-13 and rel_error(dX, ref.input_grad) < 1e-13

# %% [markdown]
# ## 3. A two-layer network as forward/backward pairs
# `X → affine → activation → affine → softmax cross-entropy`.  Each piece is a pair:
#
# | forward | backward |
# |---|---|
# | `out = x W + b` | `dx = dout Wᵀ`, `dW = xᵀ dout`, `db = Σ_rows dout` |
# | `out = tanh(a)` | `da = dout ⊙ (1 − out²)` |
# | `out = max(a, 0)` | `da = dout ⊙ [a > 0]` |
# | `ℓ = −log softmax(z)_y` (mean) | `dz = (softmax(z) − onehot(y)) / n` |
#
# The caches hold exactly what the backward pass needs.  The tanh pair is written for you, as
# the model to follow:

# %%
def tanh_forward(a):
    out = np.tanh(a)
    return out, out                                      # cache: the output itself


def tanh_backward(dout, cache):
    return dout * (1.0 - cache * cache)                  # tanh' = 1 − tanh²


# %% [markdown]
# ### Exercise 4 — the affine layer, forward
# `x` is `(n, d)`, `W` is `(d, m)`, `b` is `(m,)`.  Return `out` and the cache `(x, W, b)`.

# %%
def affine_forward(x, W, b):
    """Forward pass of the affine layer out = x W + b; returns (out, cache)."""
    # BEGIN SOLUTION
    out = x @ W + b                                      # (n, m)
    return out, (x, W, b)
    # END SOLUTION


# %%
result = course.check("affine_forward", affine_forward)

# %% [markdown]
# ### Exercise 5 — the affine layer, backward
# Every gradient has the shape of the array it belongs to: `dx` like `x`, `dW` like `W`,
# `db` like `b`.

# %%
def affine_backward(dout, cache):
    """Backward pass of the affine layer; returns (dx, dW, db)."""
    # BEGIN SOLUTION
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)      # dx (n, d), dW (d, m), db (m,)
    # END SOLUTION


# %%
result = course.check("affine_backward", affine_backward)

# %% [markdown]
# ### Exercise 6 — the ReLU pair
# `relu_forward` returns `max(a, 0)` and caches its input; `relu_backward` passes `dout`
# where the input was positive.  At `a = 0` exactly ReLU has no derivative: take 0 (`a > 0`).

# %%
def relu_forward(x):
    """ReLU forward: returns (max(x, 0), cache = x)."""
    # BEGIN SOLUTION
    return np.maximum(x, 0), x
    # END SOLUTION


def relu_backward(dout, cache):
    """ReLU backward: dout where the forward input was > 0, else 0."""
    # BEGIN SOLUTION
    return dout * (cache > 0)
    # END SOLUTION


# %%
result = course.check("relu_forward", relu_forward)
result = course.check("relu_backward", relu_backward)

# %% [markdown]
# ### Exercise 7 — softmax cross-entropy, backward
# `dz = (softmax(z) − onehot(y)) / n` for the *mean* loss; compute the softmax as
# `exp(log_softmax(z))` (your stable version) so that logits like 1000 are fine.

# %%
def softmax_cross_entropy_backward(z, y):
    """Gradient (n, C) of the mean softmax cross-entropy w.r.t. the logits z."""
    # BEGIN SOLUTION
    n = z.shape[0]
    dz = np.exp(log_softmax(z))                          # (n, C) probabilities
    dz[np.arange(n), y] -= 1
    return dz / n
    # END SOLUTION


# %%
result = course.check("softmax_cross_entropy_backward", softmax_cross_entropy_backward)

# %% [markdown]
# ### Exercise 8 — the whole network, forward and backward
# Chain your pairs: `affine_forward → act_forward → affine_forward`, the loss
# `mean(logsumexp(z) − z_y)` and `dz` from exercise 7, then back through
# `affine_backward → act_backward → affine_backward`.  The activation is a parameter, so the
# same function trains a tanh and a ReLU network.  Return the loss, the gradients
# `{"W1", "b1", "W2", "b2"}` and the input gradient `dX`.

# %%
ACTIVATIONS = {"tanh": (tanh_forward, tanh_backward), "relu": (relu_forward, relu_backward)}


def mlp_loss_and_grads(params, X, y, activation="tanh"):
    """Loss, parameter gradients and input gradient of the two-layer network."""
    act_forward, act_backward = ACTIVATIONS[activation]
    # BEGIN SOLUTION
    a1, cache1 = affine_forward(X, params["W1"], params["b1"])
    h1, cache2 = act_forward(a1)
    z, cache3 = affine_forward(h1, params["W2"], params["b2"])
    loss = float(np.mean(logsumexp(z) - z[np.arange(len(y)), y]))
    dz = softmax_cross_entropy_backward(z, y)
    dh1, dW2, db2 = affine_backward(dz, cache3)
    da1 = act_backward(dh1, cache2)
    dX, dW1, db1 = affine_backward(da1, cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, dX
    # END SOLUTION


def two_layer_backward(params, X, y):
    return mlp_loss_and_grads(params, X, y, "tanh")      # the graded network is the tanh one


# %%
result = course.check("two_layer_backward", two_layer_backward)

# %% [markdown]
# Gradient checks of your network, both activations.  (The inputs are drawn so that no ReLU
# pre-activation sits within `h` of 0, where the finite difference would straddle the kink.)

# %%
net = MLP([4, 10, 3], activation="tanh")                 # used only for its initial weights
params = net.init_params(rng=0)
X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, 16)
for activation in ("tanh", "relu"):
    loss, grads, dX = mlp_loss_and_grads(params, X, y, activation)
    for name in params:
        def f(value, name=name, activation=activation):
            return mlp_loss_and_grads({**params, name: value}, X, y, activation)[0]
        err = rel_error(grads[name], numerical_gradient(f, params[name]))
        print(f"{activation} {name}: relative error {err:.1e}")
        assert err < 1e-7
    err_x = rel_error(dX, numerical_gradient(
        lambda V, act=activation: mlp_loss_and_grads(params, V, y, act)[0], X))
    print(f"{activation} input gradient: relative error {err_x:.1e}")
    assert err_x < 1e-7
assert np.abs(X @ params["W1"] + params["b1"]).min() > 1e-4        # no pre-activation at a kink

# %% [markdown]
# **How small is small?**  The central difference has truncation error `O(h²)` and rounding
# error `O(ε_mach/h)`; their sum is smallest near `h ≈ ε_mach^{1/3} ≈ 1e-5`.  Sweep `h`:

# %%
loss, grads, dX = mlp_loss_and_grads(params, X, y, "tanh")
hs = np.logspace(-12, -1, 23)
sweep = [rel_error(grads["W1"], numerical_gradient(
    lambda V: mlp_loss_and_grads({**params, "W1": V}, X, y)[0], params["W1"], h=h)) for h in hs]
best_h = hs[int(np.argmin(sweep))]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(hs, sweep, "o-", color="#0072B2", label="your dW1 vs central difference")
ax.axhline(1e-7, color="gray", ls=":", label="1e-7: the float64 rule of thumb")
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error of dW1")
ax.set_title("Rounding (small h) vs truncation (large h)")
ax.legend(loc="upper center")
plt.show()
print(f"smallest error {min(sweep):.1e} at h = {best_h:.0e}")
assert min(sweep) < 1e-9 and sweep[0] > 1e-6 and sweep[-1] > 1e-6
assert 1e-7 <= best_h <= 1e-3                 # near ε_mach^(1/3) ≈ 6e-6, as the prose says

# %% [markdown]
# ## 4. Meet the library
# `minadv.models.MLP.loss_and_grads` runs exactly this loop over layers — forward through the
# affine/activation pairs, the stable softmax cross-entropy, backward through the same pairs —
# and returns the loss, the parameter gradients and the input gradient in one call.
# Its building blocks live in `minadv.layers`: the same forward/backward pairs you wrote
# (`affine_forward`/`affine_backward`, `activation_forward`/`activation_backward`; the
# library's affine cache is `(x, W)`, since the backward pass never needs `b`).

# %%
from minadv import layers

a1, my_cache = affine_forward(X, params["W1"], params["b1"])
lib_a1, lib_cache = layers.affine_forward(X, params["W1"], params["b1"])
dout = rng.normal(size=a1.shape)
assert rel_error(a1, lib_a1) < 1e-15
for mine_g, lib_g in zip(affine_backward(dout, my_cache), layers.affine_backward(dout, lib_cache)):
    assert rel_error(mine_g, lib_g) < 1e-15
for act in ("tanh", "relu"):
    fwd, bwd = ACTIVATIONS[act]
    h1, my_act_cache = fwd(a1)
    lib_h1, lib_act_cache = layers.activation_forward(a1, layers.ACTIVATIONS[act])
    assert rel_error(h1, lib_h1) < 1e-15
    assert rel_error(bwd(dout, my_act_cache),
                     layers.activation_backward(dout, lib_act_cache, layers.ACTIVATIONS[act])) < 1e-15
print("affine, tanh and ReLU pairs: identical to minadv.layers")

# %%
lib = net.loss_and_grads(params, X, y)
print(f"loss: yours {loss:.15f}   minadv {lib.loss:.15f}")
for name in params:
    assert rel_error(grads[name], lib.grads[name]) < 1e-13
assert rel_error(dX, lib.input_grad) < 1e-13 and abs(loss - lib.loss) < 1e-13

# %% [markdown]
# ## 5. Train your networks
# Plain gradient descent with *your* gradients on the two moons, a tanh and a ReLU network
# from the same start; the tanh run is shadowed by the library's gradients and the two must
# stay identical to rounding.  The decision boundaries are drawn with *your* forward pass.

# %%
def predict_proba(params, X, activation):
    """Class probabilities from your forward pieces (affine, activation, log-softmax)."""
    act_forward = ACTIVATIONS[activation][0]
    h1 = act_forward(affine_forward(X, params["W1"], params["b1"])[0])[0]
    return np.exp(log_softmax(affine_forward(h1, params["W2"], params["b2"])[0]))


Xm, ym = make_moons(200, noise=0.15, rng=0)
moons = MLP([2, 16, 2], activation="tanh")
start = moons.init_params(rng=0)
steps = 300 if QUICK else 1500
trained, history = {}, {}
lib_params = start
for activation in ("tanh", "relu"):
    mine, history[activation] = start, []
    for _ in range(steps):
        loss_m, g_m, _ = mlp_loss_and_grads(mine, Xm, ym, activation)
        mine = {k: mine[k] - 0.5 * g_m[k] for k in mine}
        history[activation].append(loss_m)
        if activation == "tanh":
            g_l = moons.loss_and_grads(lib_params, Xm, ym, input_grad=False).grads
            lib_params = {k: lib_params[k] - 0.5 * g_l[k] for k in lib_params}
    trained[activation] = mine
accuracy = {act: float(np.mean(predict_proba(p, Xm, act).argmax(axis=1) == ym))
            for act, p in trained.items()}
for act in trained:
    print(f"{act}: after {steps} steps loss {history[act][-1]:.4f}, "
          f"training accuracy {accuracy[act]:.3f}")
assert max(rel_error(trained["tanh"][k], lib_params[k]) for k in start) < 1e-10
assert all(h[-1] < 0.5 * h[0] for h in history.values())
assert min(accuracy.values()) > 0.85


def plot_boundary(ax, proba, title):
    """P(class 1) over the plane (colour bar), the 0.5 contour and the labelled points."""
    g1, g2 = np.meshgrid(np.linspace(-2.5, 3.5, 120), np.linspace(-2, 2.5, 100))
    P = proba(np.column_stack([g1.ravel(), g2.ravel()]))[:, 1].reshape(g1.shape)
    fill = ax.contourf(g1, g2, P, levels=np.linspace(0, 1, 11), cmap="cividis", alpha=0.8)
    ax.contour(g1, g2, P, levels=[0.5], colors="w", linewidths=2)
    for k, style in CLASS_STYLE.items():
        ax.scatter(*Xm[ym == k].T, edgecolors="k", s=18, linewidths=0.5, **style)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title)
    return fill


fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
for act in ("tanh", "relu"):
    axes[0].plot(history[act], label=f"{act} network")
axes[0].set_xlabel("gradient step")
axes[0].set_ylabel("training loss (mean cross-entropy)")
axes[0].set_title("Your backprop, trained")
axes[0].legend(loc="upper right")
for ax, act in zip(axes[1:], ("tanh", "relu")):
    fill = plot_boundary(ax, lambda Z, act=act: predict_proba(trained[act], Z, act),
                         f"Your {act} network (accuracy {accuracy[act]:.2f})")
fig.colorbar(fill, ax=axes[1:], label="P(class 1) from your forward pass")
axes[2].legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
plt.show()

# %% [markdown]
# ## Summary
# * Naive `exp` overflows at |t| ≈ 709; `exp(−|t|)` and max-subtracted log-sum-exp never do.
# * Backprop is a chain of forward/backward pairs; the input gradient `∂L/∂X` is one more
#   matmul at the bottom (`dout Wᵀ` of the first affine layer).
# * `numerical_gradient` + `rel_error` (below 1e-7 in float64) tell you whether a backward
#   pass is right; `minadv.gradcheck.check_model` does all checks for a library model.
#
# ## Open questions (not graded)
# 1. Why can a finite difference of the ReLU network disagree with your backward pass when a
#    pre-activation sits within `h` of 0?  How large is the disagreement?
# 2. Add an L2 penalty `½λ‖W‖²` on the weights to the loss: what changes in the backward
#    pass, and what does not (the biases, the input gradient)?
# 3. Your `sigmoid` uses `np.where`, which evaluates both branches.  Why does neither branch
#    overflow here, when `np.where(t >= 0, 1/(1 + exp(−t)), exp(t)/(1 + exp(t)))` would warn?
