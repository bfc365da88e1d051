# %% [markdown]
# # Tutorial 1 — Exact gradients: backprop by hand, gradient checks, Hessian-vector products
#
# **Learning objectives.** By the end you can
# 1. compute a loss, its parameter gradients *and its input gradient* in one forward/backward
#    pass of a small MLP, and say why the input gradient costs only one extra matmul;
# 2. check any gradient against central finite differences and read the relative error;
# 3. multiply by the Hessian exactly with Pearlmutter's R-operator (Pearlmutter 1994), the
#    tool behind every sharpness number in the later tutorials — and write it yourself for a
#    one-hidden-layer network (the graded exercise).
#
# **Prerequisites.** Tutorial 0 (forward/backward pairs, the two-layer tanh network, gradient
# checks); directional derivatives.
#
# **Time.** About 75 minutes (one exercise, the longest of the course's first part).
#
# Everything later (attacks, adversarial training, sharpness) is built on these three
# primitives, so we make sure here that they are *exactly* right.
#
# Run it as a script (`python tutorials/01_exact_gradients.py`) or as the notebook
# `minadv course release` writes.

# %%
import matplotlib.pyplot as plt
import numpy as np

from minadv import course
from minadv.gradcheck import check_model, numerical_directional_derivative, numerical_gradient, rel_error
from minadv.models import MLP, LogisticRegressionModel
from minadv.numerics import sigmoid, softplus
from minadv.params import flatten, unflatten

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Why stable numerics matter
# The textbook sigmoid `1 / (1 + exp(-t))` overflows for large negative `t`, and the
# textbook logistic loss `-log(sigmoid(t))` returns `inf` once `sigmoid` underflows to 0.
# With logits of size 1e4 (easy to reach with an unregularised linear model on separable
# data) both break.  minadv uses `softplus(t) = logaddexp(0, t)` instead.

# %%
t = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
with np.errstate(over="ignore", divide="ignore"):
    naive_loss = -np.log(1 / (1 + np.exp(-t)))          # -log sigma(t), the textbook way
stable_loss = softplus(-t)                              # the same quantity, stably
print("naive  -log sigma(t):", naive_loss)
print("stable softplus(-t): ", stable_loss)
assert np.isinf(naive_loss[0]) and stable_loss[0] == 1e4
assert np.all(np.isfinite(sigmoid(t)))

# %% [markdown]
# ## 2. One forward pass, one backward pass, three answers
# For the MLP `h_l = phi(h_{l-1} W_l + b_l)` the backward pass carries `δ_l = ∂L/∂a_l` down
# the layers.  At the bottom, `∂L/∂X = δ_1 W_1ᵀ`: one more matmul gives the input gradient
# that every attack needs.

# %%
net = MLP([4, 8, 3], activation="tanh")
params = net.init_params(rng=0)
X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, 16)
out = net.loss_and_grads(params, X, y)
print(f"mean cross-entropy: {out.loss:.6f}")
print({k: g.shape for k, g in out.grads.items()}, "input grad:", out.input_grad.shape)

# %% [markdown]
# ## 3. Checking a gradient
# The central difference `(f(θ + h e_i) − f(θ − h e_i)) / 2h` has error `O(h²)` plus rounding
# `O(ε/h)`; `h = 1e-6` balances them in float64.  We compare with
# `rel_error(a, b) = ‖a − b‖ / (‖a‖ + ‖b‖)`: below 1e-7 means right.

# %%
theta = flatten(params)
numeric = numerical_gradient(lambda v: net.loss(unflatten(v, params), X, y), theta)
err = rel_error(flatten(out.grads), numeric)
print(f"parameter-gradient relative error: {err:.2e}")
assert err < 1e-7

# A bug is obvious: drop the factor 1/n of the mean loss and the error jumps to ~1.
print(f"with a forgotten 1/n:               {rel_error(16 * flatten(out.grads), numeric):.2e}")

# %% [markdown]
# ## 4. Exact Hessian-vector products
# The R-operator propagates a *directional derivative* forward (`R{a_l}`) and backward
# (`R{δ_l}`) alongside the ordinary passes; the result is `H v` exactly, for about the cost of
# two gradients.  Check it against a finite difference of exact gradients, and check the
# symmetry `uᵀHv = vᵀHu` that any Hessian must have.

# %%
report = check_model(net, params, X, y, rng=1)
print(report)
assert report.passed

# %% [markdown]
# ### Exercise — the R-operator, by hand
# For the network of tutorial 0 (`a = X W1 + b1`, `h = tanh(a)`, `z = h W2 + b2`, mean softmax
# cross-entropy), `R{·}` is the derivative along the direction `v = (V1, c1, V2, c2)`:
# `R{f} = d/dr f(θ + r v)` at `r = 0`.  Push it through the forward pass, then through the
# backward pass:
#
# * forward: `R{a} = X V1 + c1`, `R{h} = (1 − h²) ⊙ R{a}`, `R{z} = R{h} W2 + h V2 + c2`;
# * backward, with `p = softmax(z)`, `δ2 = (p − Y)/n`, `g = δ2 W2ᵀ`:
#   `R{δ2} = (p ⊙ R{z} − p ⊙ Σ_k (p ⊙ R{z})_k)/n`, `R{g} = δ2 V2ᵀ + R{δ2} W2ᵀ`,
#   `R{δ1} = −2h(1 − h²) ⊙ R{a} ⊙ g + (1 − h²) ⊙ R{g}`;
# * `(Hv)_W2 = hᵀ R{δ2} + R{h}ᵀ δ2`, `(Hv)_b2 = Σ_rows R{δ2}`, `(Hv)_W1 = Xᵀ R{δ1}`,
#   `(Hv)_b1 = Σ_rows R{δ1}`.
#
# Use a stable softmax (subtract the row max).  `print(course.stub("hvp_one_hidden"))` has the
# full task.


# %%
def hvp_one_hidden(params, X, y, v):
    """Hv of the mean softmax cross-entropy of the tanh net W1, b1, W2, b2 (dict in, dict out)."""
    # BEGIN SOLUTION
    n = X.shape[0]
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    V1, c1, V2, c2 = v["W1"], v["b1"], v["W2"], v["b2"]
    a = X @ W1 + b1
    h = np.tanh(a)                                       # (n, h)
    e = np.exp(-2 * np.abs(a))
    d1 = 4 * e / (1 + e) ** 2                            # tanh'(a) = 1 - h², without cancelling
    z = h @ W2 + b2
    zs = z - z.max(axis=1, keepdims=True)
    p = np.exp(zs - np.log(np.exp(zs).sum(axis=1, keepdims=True)))    # (n, C) softmax
    rows = np.arange(n)
    delta2 = p.copy()
    delta2[rows, y] = 0
    delta2[rows, y] = -delta2.sum(axis=1)                # p_y - 1 = -sum_{k != y} p_k
    delta2 /= n
    r_a = X @ V1 + c1                                    # R-forward
    r_h = d1 * r_a
    r_z = r_h @ W2 + h @ V2 + c2
    m = p.argmax(axis=1)[:, None]                        # pivot on the most probable class:
    dz = r_z - np.take_along_axis(r_z, m, axis=1)        # (diag p - p pᵀ) 1 = 0
    r_delta2 = p * (dz - (p * dz).sum(axis=1, keepdims=True)) / n   # R-backward
    g = delta2 @ W2.T
    r_g = delta2 @ V2.T + r_delta2 @ W2.T
    r_delta1 = -2 * h * d1 * r_a * g + d1 * r_g
    return {"W1": X.T @ r_delta1, "b1": r_delta1.sum(axis=0),
            "W2": h.T @ r_delta2 + r_h.T @ delta2, "b2": r_delta2.sum(axis=0)}
    # END SOLUTION


# %%
result = course.check("hvp_one_hidden", hvp_one_hidden)

# %% [markdown]
# Why trust the R-operator more than the finite difference?  Sweep the step `h` of the finite
# difference of exact gradients: its error against *your* `Hv` is U-shaped (rounding `O(ε/h)`
# on the left, truncation `O(h²)` on the right) and never reaches the R-operator's symmetry
# error, which is at the level of rounding.

# %%
v_dir = unflatten(rng.normal(size=theta.size), params)
hv_yours = flatten(hvp_one_hidden(params, X, y, v_dir))
hv_exact = flatten(net.hvp(params, X, y, v_dir))
print(f"your Hv vs minadv's MLP.hvp: relative error {rel_error(hv_yours, hv_exact):.1e}")
assert rel_error(hv_yours, hv_exact) < 1e-12


def grad_at(t):
    return flatten(net.loss_and_grads(unflatten(t, params), X, y, input_grad=False).grads)


hs = np.logspace(-10, -1, 19)
fd_errors = [rel_error(hv_yours, numerical_directional_derivative(grad_at, theta,
                                                                  flatten(v_dir), h))
             for h in hs]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(hs, fd_errors, "o-", color="#0072B2",
          label="finite difference of gradients vs your Hv")
ax.axhline(report.hvp_symmetry, color="#009E73", ls="--",
           label=f"R-operator symmetry error {report.hvp_symmetry:.0e}")
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error")
ax.set_title("Exact HVP vs finite differences")
ax.legend(fontsize=8, loc="upper center")
plt.show()
print(f"best finite difference: {min(fd_errors):.1e} at h = {hs[int(np.argmin(fd_errors))]:.0e}")
assert min(fd_errors) < 1e-8 and fd_errors[0] > 1e3 * min(fd_errors)
assert fd_errors[-1] > 1e3 * min(fd_errors)
assert report.hvp_symmetry < min(fd_errors)          # the exact product beats every h

# %% [markdown]
# For logistic regression the Hessian has the closed form `[X 1]ᵀ diag(c) [X 1] / n` with
# `c_i = σ(f_i) σ(−f_i)`; the R-operator reproduces it to rounding.

# %%
logreg = LogisticRegressionModel(4)
lp = {"w": rng.normal(size=4), "b": np.array(0.2)}
yb = rng.integers(0, 2, 16)
f = X @ lp["w"] + 0.2
c = sigmoid(f) * sigmoid(-f)
Xa = np.hstack([X, np.ones((16, 1))])
H = Xa.T @ (c[:, None] * Xa) / 16
v = rng.normal(size=5)
hv = flatten(logreg.hvp(lp, X, yb, unflatten(v, lp)))
print(f"R-operator vs closed form: {rel_error(hv, H @ v):.2e}")
assert rel_error(hv, H @ v) < 1e-14

# %% [markdown]
# ## Summary
# * Stable numerics (`softplus`, `log_softmax`) keep losses finite at any logit.
# * One backward pass yields parameter gradients and, with one more matmul, input gradients.
# * Gradient checks and HVP checks are one call: `check_model`.  `minadv gradcheck` runs them
#   for every model/activation/output combination.
#
# ## Open questions (not graded)
# 1. Repeat the check with `activation="relu"`.  Why does the finite difference occasionally
#    disagree when a pre-activation sits within `h` of 0?  (See `suite_problem`.)
# 2. Run the check in float32 (`MLP(..., dtype=np.float32)`).  What `h` minimises the error?
# 3. Derive `R{δ_L}` for the softmax cross-entropy and compare with `losses.SOFTMAX.nll_hvp`.
# 4. `1 − tanh(a)²` loses all its digits when `|a|` is large (`tanh(a)` rounds to ±1).  Write
#    `tanh'(a)` without that cancellation (hint: in terms of `exp(−2|a|)`); from which `|a|` on
#    does the difference matter in float64?
