"""Hand-tuned NumPy references of the workloads (``docs/benchmarks.md``): the yardstick of
"plain NumPy can do this in that time".

Each reference computes the same mathematics as the minadv workload it stands beside (same
shapes, dtype, data, hyper-parameters and update rule), written the way a performance-minded
NumPy programmer would for this one network and nothing else: preallocated buffers, ``out=``
arguments, one stacked weight-gradient product over the clean and adversarial rows, no
validation, no generality.  It is a benchmark, not a library: nothing in minadv imports it.

``reference(wid, tiny=False, n_steps=None, n=None)`` returns a zero-argument callable that runs
the workload once (the same unit of work as the ``work`` callable of the bench modules).
"""

from __future__ import annotations

import numpy as np


# ------------------------------------------------------------------------------ helpers
def _relu_mlp(sizes, dtype, seed=0):
    """Parameters of the bench modules' MLP: minadv's ``MLP(sizes).init_params(rng=seed)``."""
    from minadv.models import MLP
    return MLP(list(sizes), dtype=dtype).init_params(rng=seed)


def _softmax_ce_grad(z, y, scale, out):
    """Mean-CE gradient ``scale * (softmax(z) - onehot(y))`` into ``out``; returns the summed loss.

    ``z`` is overwritten (shifted by its row maximum)."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=out)
    s = out.sum(axis=1, keepdims=True)                     # (B, 1)
    rows = np.arange(z.shape[0])
    loss = float(np.log(s).sum() - z[rows, y].sum())
    out *= scale / s
    out[rows, y] -= scale
    return loss


def _minibatches(n, B, rng):
    """Row indices of B rows per step, a new permutation of ``range(n)`` each epoch: the
    shuffled minibatches ``fit`` draws (the rows are then gathered into a preallocated buffer)."""
    while True:
        perm = rng.permutation(n)
        for s in range(0, n - B + 1, B):
            yield perm[s:s + B]


def _sgd_momentum(params, grads, bufs, lr, mom):
    for k, g in grads.items():
        bufs[k] *= mom
        bufs[k] += g
        params[k] -= lr * bufs[k]


# ------------------------------------------------------------------------------ W1
def fgsm_training(X, y, sizes, B, n_steps, eps=0.1, alpha=0.5, lr=0.01, mom=0.9, seed=0):
    """W1: ``n_steps`` FGSM-AT steps (½CE(x) + ½CE(x + eps sign ∇ₓCE)) on shuffled minibatches,
    SGD momentum."""
    dt = X.dtype
    P = _relu_mlp(sizes, dt)
    bufs = {k: np.zeros_like(v) for k, v in P.items()}
    d, h1, h2, c = sizes
    H0, A1, A2, Z = (np.empty((2 * B, m), dt) for m in (d, h1, h2, c))   # [clean; adversarial]
    D1, D2, D3 = np.empty((2 * B, h1), dt), np.empty((2 * B, h2), dt), np.empty((2 * B, c), dt)
    n, rng = X.shape[0], np.random.default_rng(seed)

    def forward(r):                                        # rows r of the stacked buffers
        np.matmul(H0[r], P["W1"], out=A1[r]); A1[r] += P["b1"]; np.maximum(A1[r], 0, out=A1[r])  # noqa: E501,E702
        np.matmul(A1[r], P["W2"], out=A2[r]); A2[r] += P["b2"]; np.maximum(A2[r], 0, out=A2[r])  # noqa: E501,E702
        np.matmul(A2[r], P["W3"], out=Z[r]); Z[r] += P["b3"]                                      # noqa: E702

    def back_hidden(r):                                    # δ₂, δ₁ (ReLU: mask where h == 0)
        np.matmul(D3[r], P["W3"].T, out=D2[r]); np.multiply(D2[r], A2[r] > 0, out=D2[r])  # noqa: E501,E702
        np.matmul(D2[r], P["W2"].T, out=D1[r]); np.multiply(D1[r], A1[r] > 0, out=D1[r])  # noqa: E501,E702

    def go():
        batches = _minibatches(n, B, rng)
        clean, adv = slice(0, B), slice(B, 2 * B)
        for _ in range(n_steps):
            idx = next(batches)
            np.take(X, idx, axis=0, out=H0[clean])         # the minibatch, gathered in place
            yb = y[idx]
            forward(clean)
            _softmax_ce_grad(Z[clean], yb, alpha / B, D3[clean])
            back_hidden(clean)
            step = np.sign(D1[clean] @ P["W1"].T)         # (B, d); NumPy's in-place sign
            step *= eps                                    # loop is ~20x slower than a new array
            np.add(H0[clean], step, out=H0[adv])
            forward(adv)
            _softmax_ce_grad(Z[adv], yb, (1 - alpha) / B, D3[adv])
            back_hidden(adv)
            grads = {"W1": H0.T @ D1, "b1": D1.sum(0), "W2": A1.T @ D2, "b2": D2.sum(0),
                     "W3": A2.T @ D3, "b3": D3.sum(0)}     # one product over the 2B rows
            _sgd_momentum(P, grads, bufs, lr, mom)
    return go


# ------------------------------------------------------------------------------ W2
def pgd_linf(X, y, sizes, B, eps=0.3, step=0.01, n_steps=10, seed=0):
    """W2: PGD-10 L∞ with a uniform random start, clipped to [0, 1], in batches of ``B``."""
    dt = X.dtype
    P = _relu_mlp(sizes, dt)
    W1t, W2t, W3t = P["W1"].T.copy(), P["W2"].T.copy(), P["W3"].T.copy()
    d, h1, h2, c = sizes
    A1, A2, Z = np.empty((B, h1), dt), np.empty((B, h2), dt), np.empty((B, c), dt)
    D3, G = np.empty((B, c), dt), np.empty((B, d), dt)
    rng = np.random.default_rng(seed)
    n = X.shape[0]

    def go():
        out = np.empty_like(X)
        for s in range(0, n, B):
            x0, yb = X[s:s + B], y[s:s + B]
            lo, hi = np.maximum(x0 - eps, 0), np.minimum(x0 + eps, 1)
            x = out[s:s + B]
            rng.random(x.shape, dtype=dt, out=x)
            x *= 2 * eps; x -= eps; x += x0                                      # noqa: E702
            np.minimum(x, hi, out=x); np.maximum(x, lo, out=x)                   # noqa: E702
            for _ in range(n_steps):
                np.matmul(x, P["W1"], out=A1); np.add(A1, P["b1"], out=A1)                # noqa: E702
                np.maximum(A1, 0, out=A1)
                np.matmul(A1, P["W2"], out=A2); np.add(A2, P["b2"], out=A2)               # noqa: E702
                np.maximum(A2, 0, out=A2)
                np.matmul(A2, P["W3"], out=Z); np.add(Z, P["b3"], out=Z)                  # noqa: E702
                _softmax_ce_grad(Z, yb, 1.0, D3)
                g2 = D3 @ W3t; np.multiply(g2, A2 > 0, out=g2)       # a mask multiply: boolean  # noqa: E501,E702
                g1 = g2 @ W2t; np.multiply(g1, A1 > 0, out=g1)       # indexing is ~15x slower  # noqa: E501,E702
                np.matmul(g1, W1t, out=G)
                S = np.sign(G)                     # a new array (in-place sign is ~20x slower)
                S *= step
                x += S
                np.minimum(x, hi, out=x)           # np.clip with array bounds is ~4x slower
                np.maximum(x, lo, out=x)
        return out
    return go


# ------------------------------------------------------------------------------ W3, W5
def _relu_forward(x, P, L):
    """Forward of an L-layer ReLU MLP; returns logits and the hidden activations."""
    hs = [x]
    for layer in range(1, L):
        a = hs[-1] @ P[f"W{layer}"]
        a += P[f"b{layer}"]
        np.maximum(a, 0, out=a)
        hs.append(a)
    z = hs[-1] @ P[f"W{L}"]
    z += P[f"b{L}"]
    return z, hs


def _relu_backward(dz, hs, P, L, params=True, to_input=False):
    """Backward of :func:`_relu_forward` (weight gradients and/or the input gradient)."""
    grads, delta = {}, dz
    for layer in range(L, 0, -1):
        if params:
            grads[f"W{layer}"] = hs[layer - 1].T @ delta
            grads[f"b{layer}"] = delta.sum(0)
        if layer > 1 or to_input:
            g = delta @ P[f"W{layer}"].T
            if layer > 1:
                np.multiply(g, hs[layer - 1] > 0, out=g)
            delta = g
    return grads, delta


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


def _unit_rows(d):
    norm = np.sqrt(np.einsum("ij,ij->i", d, d))[:, None]
    d /= np.maximum(norm, np.finfo(d.dtype).tiny)          # a zero row stays zero
    return d


def vat_training(X, y, Xu, sizes, B, U, n_steps, eps=2.0, xi=1e-6, lam=1.0, lr=0.01, mom=0.9,
                 seed=0):
    """W3/W5: VAT steps (CE on B labeled + λ KL on U unlabeled rows, one power iteration) on
    shuffled minibatches."""
    dt = X.dtype
    P = _relu_mlp(sizes, dt)
    bufs = {k: np.zeros_like(v) for k, v in P.items()}
    L, rng = len(sizes) - 1, np.random.default_rng(seed)
    n, nu = X.shape[0], Xu.shape[0]
    Xs = np.empty((B + U, sizes[0]), dt)
    same = Xu is X and U == B                     # W5: the KL term on the labeled rows (fit)
    xu = Xs[:B] if same else np.empty((U, sizes[0]), dt)
    order = np.random.default_rng(seed + 1)

    def go():
        batches, unlabeled = _minibatches(n, B, order), _minibatches(nu, U, order)
        for _ in range(n_steps):
            idx = next(batches)
            np.take(X, idx, axis=0, out=Xs[:B])                           # labeled rows
            yb = y[idx]
            if not same:
                np.take(Xu, next(unlabeled), axis=0, out=xu)              # unlabeled rows
            log_p = _log_softmax(_relu_forward(xu, P, L)[0])              # clean p̂, (U, C)
            p = np.exp(log_p)
            r = _unit_rows(rng.standard_normal(xu.shape, dtype=dt))
            r *= xi
            zr, hs = _relu_forward(xu + r, P, L)
            q = np.exp(_log_softmax(zr))
            q -= p                                                        # ∂KL/∂z (× U)
            _, g = _relu_backward(q, hs, P, L, params=False, to_input=True)
            r = _unit_rows(g)
            r *= eps
            np.add(xu, r, out=Xs[B:])
            z, hs = _relu_forward(Xs, P, L)
            dz = np.empty_like(z)
            _softmax_ce_grad(z[:B].copy(), yb, 1.0 / B, dz[:B])
            lq = _log_softmax(z[B:])
            np.exp(lq, out=dz[B:]); dz[B:] -= p; dz[B:] *= lam / U         # noqa: E702
            grads, _ = _relu_backward(dz, hs, P, L)
            _sgd_momentum(P, grads, bufs, lr, mom)
    return go


# ------------------------------------------------------------------------------ W6
def tanh_hvp_power(X, y, sizes, n_iter=20, seed=3):
    """W6: ``n_iter`` power iterations of the exact Hessian of the mean CE of a one-hidden-layer
    tanh MLP w.r.t. all parameters (Pearlmutter's R-operator; forward quantities once)."""
    from minadv.models import MLP
    P = MLP(list(sizes), activation="tanh").init_params(rng=1)
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    d, h, c = sizes
    n = X.shape[0]
    shapes = [(d, h), (h,), (h, c), (c,)]
    sizes_flat = [int(np.prod(s)) for s in shapes]
    offs = np.cumsum([0] + sizes_flat)

    def go():
        a1 = X @ W1 + b1
        h1 = np.tanh(a1)
        d1 = 1 - h1 * h1                                          # φ'(a), (n, h)
        z = h1 @ W2 + b2
        p = np.exp(_log_softmax(z))                               # (n, C)
        delta2 = p.copy()
        delta2[np.arange(n), y] -= 1
        delta2 /= n                                               # δ₂, (n, C)
        g1 = delta2 @ W2.T
        d2g = -2 * h1 * d1 * g1                                   # φ''(a) ⊙ g
        v = np.random.default_rng(seed).standard_normal(offs[-1])
        v /= np.linalg.norm(v)
        out = np.empty_like(v)
        for _ in range(n_iter):
            V1, c1, V2, c2 = (v[offs[k]:offs[k + 1]].reshape(shapes[k]) for k in range(4))
            ra1 = X @ V1
            ra1 += c1                                             # R{a₁}
            rh1 = d1 * ra1                                        # R{h₁}
            rz = h1 @ V2
            rz += rh1 @ W2
            rz += c2                                              # R{z}
            rd2 = p * (rz - np.einsum("ij,ij->i", p, rz)[:, None]) / n   # R{δ₂}
            O1, o1, O2, o2 = (out[offs[k]:offs[k + 1]].reshape(shapes[k]) for k in range(4))
            np.matmul(h1.T, rd2, out=O2)
            O2 += rh1.T @ delta2
            o2[:] = rd2.sum(0)
            rg1 = rd2 @ W2.T
            rg1 += delta2 @ V2.T
            rd1 = d2g * ra1
            rd1 += d1 * rg1                                       # R{δ₁}
            np.matmul(X.T, rd1, out=O1)
            o1[:] = rd1.sum(0)
            v = out / np.linalg.norm(out)
        return v
    return go


# ------------------------------------------------------------------------------ W4
def robust_logistic_lmax(X, y, w, eps):
    """W4: the Hessian of the L2-adversarial logistic loss (``docs/theory.md`` eq. (1.3)) and its
    largest eigenvalue, written for this one case (no intercept, no weight decay, ``w != 0``).

    ``H = (1/n) AᵀA + (eps/||w||) mean(σ(-z)) (I - u uᵀ)`` with the rows
    ``A_i = sqrt(c_i) (y_i x_i - v)``, ``v = eps u``, ``u = w/||w||``, ``c_i = σ(z_i) σ(-z_i)``:
    the same Gram form as minadv (positive semidefinite whatever the rounding).  Hand-tuned:
    ``A`` in two passes over X (one scaled copy, then the rank-one correction ``- sqrt(c) vᵀ``
    in place by BLAS ``dger``), the symmetric product, term 2 added in place, ``eigvalsh``."""
    from scipy.linalg.blas import dger
    y_pm = 2.0 * y - 1.0                                          # (n,) in {-1, +1}
    n = X.shape[0]

    def go():
        nw = np.linalg.norm(w)
        u = w / nw
        z = y_pm * (X @ w) - eps * nw                             # (n,) adversarial margins
        s = np.exp(-np.logaddexp(0.0, z))                         # σ(-z), stable
        sqrt_c = np.sqrt(s * np.exp(-np.logaddexp(0.0, -z)))      # sqrt(σ(-z) σ(z)), no 1 - s
        A = X * (y_pm * sqrt_c)[:, None]                          # sqrt(c_i) y_i x_i
        dger(-eps, u, sqrt_c, a=A.T, overwrite_a=1)               # Aᵀ -= v sqrt(c)ᵀ, in place
        H = A.T @ A                                               # (d, d) syrk
        H /= n
        scale = eps * s.mean() / nw
        H.flat[::H.shape[0] + 1] += scale                         # + scale I
        dger(-scale, u, u, a=H.T, overwrite_a=1)                  # - scale u uᵀ (in place)
        return np.linalg.eigvalsh(H)[-1]
    return go


# ------------------------------------------------------------------------------ dispatch
def reference(wid: str, tiny: bool = False, n_steps: int | None = None, n: int | None = None):
    """The reference callable of workload ``wid`` at the bench modules' sizes (``tiny``:
    the smoke-test sizes)."""
    import bench_hvp
    import bench_pgd
    import bench_training as bt
    if wid == "W1":
        sizes, B = ((20, 8, 8, 3), 16) if tiny else ((784, 256, 256, 10), 128)
        n_steps = n_steps or (2 if tiny else 100)
        X, y = bt._data(B * n_steps, sizes[0], sizes[-1], np.float32)
        return fgsm_training(X, y, sizes, B, n_steps)
    if wid == "W2":
        sizes, B = ((20, 8, 8, 3), 50) if tiny else (bench_pgd.SIZES, 1_000)
        _, _, X, y = bench_pgd._problem(n or (100 if tiny else 10_000), sizes)
        return pgd_linf(X, y, sizes, B)
    if wid == "W3":
        sizes, B, U = ((20, 8, 8, 3), 16, 32) if tiny else ((784, 256, 256, 10), 128, 256)
        n_steps = n_steps or (2 if tiny else 200)
        X, y = bt._data((B + U) * n_steps, sizes[0], sizes[-1], np.float32)
        return vat_training(X[:B * n_steps], y[:B * n_steps], X[B * n_steps:], sizes, B, U,
                            n_steps)
    if wid == "W4":
        import bench_closed_form_hessian as b4
        X, y, w = b4._problem(*((200, 10) if tiny else (12_000, 784)))
        return robust_logistic_lmax(X, y, w, b4.EPS)
    if wid == "W5":
        sizes, m = ((10, 10, 2), 4) if tiny else ((100, 100, 2), 16)
        n_steps = n_steps or (2 if tiny else 2000)
        X, y = bt._data(m, sizes[0], sizes[-1], np.float64)
        return vat_training(X, y, X, sizes, m, m, n_steps, eps=0.6)
    if wid == "W6":
        N, D, Hd, C = (50, 12, 6, 3) if tiny else (1000, 784, 100, 10)
        X, y = bench_hvp.problem(N, D, C)
        return tanh_hvp_power(X, y, (D, Hd, C), n_iter=bench_hvp.N_ITER)
    raise KeyError(wid)
