# %% [markdown]
# # Tutorial 0 — Backprop from scratch: logistic regression and a two-layer MLP in NumPy
#
# Every attack in this course needs one quantity: the gradient of the loss with respect to the
# **input**, `∇ₓ L`.  Every training method needs the gradient with respect to the
# **parameters**.  Here you write both by hand, for logistic regression and for a two-layer
# network, check them against finite differences, and then meet the library functions that do
# the same thing.
#
# **Goals.** By the end you can
# 1. say why the textbook `1/(1 + exp(−t))` and `exp(z)/Σexp(z)` break, and write the stable
#    forms (`np.logaddexp`, max-subtracted softmax);
# 2. write forward/backward passes as pairs `f_forward(...) -> (out, cache)`,
#    `f_backward(dout, cache) -> grads` (the cs231n layout);
# 3. check any gradient with `minadv.gradcheck` and read the relative error;
# 4. recognise the same computation in `minadv.models.MLP.loss_and_grads`.
#
# Run it as a script (`python tutorials/00_backprop_from_scratch.py`) or open it as a
# notebook with jupytext (see the README, section "Course").

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from minadv.datasets import make_moons
from minadv.gradcheck import numerical_gradient, rel_error
from minadv.models import MLP, LogisticRegressionModel

QUICK = os.environ.get("MINADV_QUICK") == "1"
rng = np.random.default_rng(0)

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

# %% [markdown]
# **The stable forms.**  `−log σ(t) = log(1 + e^{−t}) = logaddexp(0, −t)`: NumPy's `logaddexp`
# computes `log(eᵃ + eᵇ)` as `max(a, b) + log1p(exp(−|a − b|))`, which never overflows.  For the
# softmax subtract the row maximum first: `softmax(z) = softmax(z − max z)` exactly, and now
# the largest exponent is `e⁰ = 1`.  The same shift gives a stable `log softmax`.

# %%
def stable_sigmoid(t):
    return np.exp(-np.logaddexp(0.0, -t))               # σ(t) = exp(−log(1 + e^{−t}))


def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)          # (n, C), largest entry 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


stable_nll = np.logaddexp(0.0, -t)
print("−log σ(t), stable:", stable_nll)
print("softmax([1000, 0, −5]), stable:", np.exp(log_softmax(np.array([[1000.0, 0.0, -5.0]]))))
assert stable_nll[0] == 1000.0 and np.all(np.isfinite(stable_sigmoid(t)))
assert np.allclose(np.exp(log_softmax(np.array([[1000.0, 0.0, -5.0]]))), [[1, 0, 0]])

ts = np.linspace(-800, 800, 401)
with np.errstate(over="ignore", divide="ignore"):
    naive_curve = -np.log(naive_sigmoid(ts))
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ts, np.logaddexp(0.0, -ts), lw=4, alpha=0.4, label="logaddexp(0, −t)  (stable)")
ax.plot(ts, np.where(np.isfinite(naive_curve), naive_curve, np.nan), "k--",
        label="−log(1/(1+exp(−t)))  (naive)")
ax.axvspan(ts[0], ts[np.isfinite(naive_curve)][0], color="r", alpha=0.1,
           label="naive gives inf")
ax.set_xlabel("logit t")
ax.set_ylabel("−log σ(t)")
ax.set_title("The naive logistic loss is infinite for t < −709")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Logistic regression by hand
# Score `z = Xw + b` (shape `(n,)`), labels `y ∈ {0, 1}`, mean loss
#
# $$L = \frac1n\sum_i \big[\operatorname{logaddexp}(0, z_i) - y_i z_i\big]
#     \qquad(= -y\log\sigma(z) - (1-y)\log(1-\sigma(z))).$$
#
# Backward: `∂L/∂z_i = (σ(z_i) − y_i)/n`; then the chain rule through `z = Xw + b` gives
# `∂L/∂w = Xᵀ dz`, `∂L/∂b = Σ dz` and — the attack's quantity — `∂L/∂X = dz wᵀ`.

# %%
def logreg_loss_and_grads(w, b, X, y):
    """Mean logistic loss, its gradients w.r.t. w and b, and the input gradient ∂L/∂X."""
    n = X.shape[0]
    y = y.astype(X.dtype)             # int labels would silently promote float32 to float64
    z = X @ w + b                                        # (n,)
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    dz = (stable_sigmoid(z) - y) / n                     # (n,)  ∂L/∂z
    dw = X.T @ dz                                        # (d,)
    db = dz.sum()                                        # ()
    dX = np.outer(dz, w)                                 # (n, d)  ∂L/∂X
    return loss, dw, db, dX


X = rng.normal(size=(20, 5))
y = rng.integers(0, 2, 20)
w, b = rng.normal(size=5), 0.3
loss, dw, db, dX = logreg_loss_and_grads(w, b, X, y)

# central differences: (f(θ + h e_i) − f(θ − h e_i)) / 2h for every coordinate
num_dw = numerical_gradient(lambda v: logreg_loss_and_grads(v, b, X, y)[0], w)
num_db = numerical_gradient(lambda v: logreg_loss_and_grads(w, v[0], X, y)[0], np.array([b]))
num_dX = numerical_gradient(lambda V: logreg_loss_and_grads(w, b, V, y)[0], X)
errors = {"dw": rel_error(dw, num_dw), "db": rel_error(db, num_db), "dX": rel_error(dX, num_dX)}
print({k: f"{v:.1e}" for k, v in errors.items()})
assert max(errors.values()) < 1e-8

# %% [markdown]
# The library's logistic regression computes the same numbers (its labels are also 0/1):

# %%
ref = LogisticRegressionModel(5).loss_and_grads({"w": w, "b": np.array(b)}, X, y)
print(f"loss: mine {loss:.12f}   minadv {ref.loss:.12f}")
assert rel_error(dw, ref.grads["w"]) < 1e-14 and rel_error(dX, ref.input_grad) < 1e-14

# %% [markdown]
# ## 3. A two-layer MLP as forward/backward pairs
# `X → affine → tanh → affine → softmax cross-entropy`.  Each piece is a pair:
#
# | forward | backward |
# |---|---|
# | `out = x W + b` | `dx = dout Wᵀ`, `dW = xᵀ dout`, `db = Σ_rows dout` |
# | `out = tanh(a)` | `da = dout ⊙ (1 − out²)` |
# | `ℓ = −log softmax(z)_y` (mean) | `dz = (softmax(z) − onehot(y)) / n` |
#
# The caches hold exactly what the backward pass needs, nothing more.

# %%
def affine_forward(x, W, b):
    out = x @ W + b                                      # (n, m)
    return out, (x, W, b)


def affine_backward(dout, cache):
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)      # dx (n, d), dW (d, m), db (m,)


def tanh_forward(a):
    out = np.tanh(a)
    return out, out                                      # cache: the output itself


def tanh_backward(dout, cache):
    return dout * (1.0 - cache * cache)                  # tanh' = 1 − tanh²


def softmax_cross_entropy(z, y):
    """Mean −log softmax(z)_y and its gradient dz (stable: uses log_softmax)."""
    n = z.shape[0]
    logp = log_softmax(z)                                # (n, C)
    loss = -logp[np.arange(n), y].mean()
    dz = np.exp(logp)
    dz[np.arange(n), y] -= 1.0                           # softmax − onehot
    return loss, dz / n


def mlp_loss_and_grads(params, X, y):
    """Loss, parameter gradients and input gradient of the two-layer tanh MLP."""
    a1, c1 = affine_forward(X, params["W1"], params["b1"])
    h1, c2 = tanh_forward(a1)
    z, c3 = affine_forward(h1, params["W2"], params["b2"])
    loss, dz = softmax_cross_entropy(z, y)
    dh1, dW2, db2 = affine_backward(dz, c3)
    da1 = tanh_backward(dh1, c2)
    dX, dW1, db1 = affine_backward(da1, c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, dX


net = MLP([4, 10, 3], activation="tanh")                 # used only for its initial weights
params = net.init_params(rng=0)
X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, 16)
loss, grads, dX = mlp_loss_and_grads(params, X, y)

for name in params:
    def f(value, name=name):
        return mlp_loss_and_grads({**params, name: value}, X, y)[0]
    err = rel_error(grads[name], numerical_gradient(f, params[name]))
    print(f"{name}: relative error {err:.1e}")
    assert err < 1e-7
err_x = rel_error(dX, numerical_gradient(lambda V: mlp_loss_and_grads(params, V, y)[0], X))
print(f"input gradient: relative error {err_x:.1e}")
assert err_x < 1e-7

# %% [markdown]
# **How small is small?**  The central difference has truncation error `O(h²)` and rounding
# error `O(ε_mach/h)`; their sum is smallest near `h ≈ ε_mach^{1/3} ≈ 1e-5`.  Sweep `h`:

# %%
hs = np.logspace(-12, -1, 23)
sweep = [rel_error(grads["W1"], numerical_gradient(
    lambda V: mlp_loss_and_grads({**params, "W1": V}, X, y)[0], params["W1"], h=h)) for h in hs]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(hs, sweep, "o-")
ax.axhline(1e-7, color="gray", ls=":", label="1e-7: the float64 rule of thumb")
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error of dW1")
ax.set_title("Rounding (small h) vs truncation (large h)")
ax.legend()
plt.show()
assert min(sweep) < 1e-9 and sweep[0] > 1e-6 and sweep[-1] > 1e-6

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
for mine_g, lib_g in zip(affine_backward(dout, my_cache), layers.affine_backward(dout, lib_cache)):
    assert rel_error(mine_g, lib_g) < 1e-15
tanh = layers.ACTIVATIONS["tanh"]
h1, my_tanh_cache = tanh_forward(a1)
lib_h1, lib_tanh_cache = layers.activation_forward(a1, tanh)
assert rel_error(tanh_backward(dout, my_tanh_cache),
                 layers.activation_backward(dout, lib_tanh_cache, tanh)) < 1e-15
print("affine and tanh pairs: identical to minadv.layers")

# %%
lib = net.loss_and_grads(params, X, y)
print(f"loss: mine {loss:.15f}   minadv {lib.loss:.15f}")
for name in params:
    assert rel_error(grads[name], lib.grads[name]) < 1e-13
assert rel_error(dX, lib.input_grad) < 1e-13 and abs(loss - lib.loss) < 1e-13

# %% [markdown]
# ## 5. Train your network
# Plain gradient descent with *your* gradients on the two moons, next to the library's
# gradients: the two runs must stay identical to rounding.

# %%
Xm, ym = make_moons(200, noise=0.15, rng=0)
moons = MLP([2, 16, 2], activation="tanh")
mine = lib_params = moons.init_params(rng=0)
steps = 300 if QUICK else 1500
history = []
for _ in range(steps):
    loss_m, g_m, _ = mlp_loss_and_grads(mine, Xm, ym)
    g_l = moons.loss_and_grads(lib_params, Xm, ym, input_grad=False).grads
    mine = {k: mine[k] - 0.5 * g_m[k] for k in mine}
    lib_params = {k: lib_params[k] - 0.5 * g_l[k] for k in lib_params}
    history.append(loss_m)
accuracy = np.mean(np.argmax(mine["W2"].T @ np.tanh(Xm @ mine["W1"] + mine["b1"]).T
                             + mine["b2"][:, None], axis=0) == ym)
print(f"after {steps} steps: loss {history[-1]:.4f}, training accuracy {accuracy:.3f}")
assert max(rel_error(mine[k], lib_params[k]) for k in mine) < 1e-10
assert history[-1] < 0.5 * history[0] and accuracy > 0.85

grid = np.linspace(-2.5, 3.5, 120)
G1, G2 = np.meshgrid(grid, np.linspace(-2, 2.5, 100))
P = moons.predict_proba(mine, np.column_stack([G1.ravel(), G2.ravel()]))[:, 1]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.plot(history)
ax1.set_xlabel("gradient step")
ax1.set_ylabel("training loss")
ax1.set_title("Your backprop, trained")
ax2.contourf(G1, G2, P.reshape(G1.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
ax2.scatter(Xm[:, 0], Xm[:, 1], c=ym, cmap="RdBu_r", edgecolors="k", s=15)
ax2.set_title("Decision boundary of your network")
plt.show()

# %% [markdown]
# ## Summary
# * Naive `exp` overflows at |t| ≈ 709; `logaddexp` and max-subtracted (log-)softmax never do.
# * Backprop is a chain of forward/backward pairs; the input gradient `∂L/∂X` is one more
#   matmul at the bottom (`dout Wᵀ` of the first affine layer).
# * `numerical_gradient` + `rel_error` (below 1e-7 in float64) tell you whether a backward
#   pass is right; `minadv.gradcheck.check_model` does all checks for a library model.
#
# ## Exercises
# 1. Replace tanh by ReLU (`out = max(a, 0)`, `da = dout ⊙ [a > 0]`).  Why can a finite
#    difference disagree when a pre-activation sits within `h` of 0?
# 2. Add an L2 penalty `½λ‖W‖²` to the loss: what changes in the backward pass?
# 3. Write `logsumexp(z)` (row-wise, stable) yourself: the stub below raises
#    `NotImplementedError` until you fill it in, and the autograder says so.
#
# ## Autograder
# `minadv.course.check(name, fn)` runs your function on random *and* adversarial cases
# (saturated logits, float32, huge scales) and prints ✓/✗ with the relative error and a hint.
# The functions you wrote in this notebook are graded first; they must pass.

# %%
from minadv import course


def logistic_backward(w, b, X, y):
    loss, dw, db, dX = logreg_loss_and_grads(w, b, X, y)
    return loss, dw, float(db), dX


def two_layer_backward(params, X, y):
    return mlp_loss_and_grads(params, X, y)


graded = {
    "sigmoid": stable_sigmoid,
    "softmax_cross_entropy_backward": lambda z, y: softmax_cross_entropy(z, y)[1],
    "logistic_backward": logistic_backward,
    "affine_backward": affine_backward,
    "two_layer_backward": two_layer_backward,
}
results = {name: course.check(name, fn) for name, fn in graded.items()}
assert all(r.passed for r in results.values())

# %% [markdown]
# Your turn: replace the body of the stub (`print(course.stub("logsumexp"))` shows the task).


# %%
def logsumexp(z):
    """Row-wise log Σ_k exp(z_k) of z (n, C) -> (n,), stable for huge logits."""
    raise NotImplementedError          # your code here


attempt = course.check("logsumexp", logsumexp)
