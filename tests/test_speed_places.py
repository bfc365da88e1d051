"""Speed places equal the textbook path, over every activation × dtype × output.

* W6 (repeated HVPs): ``MLP.hvp_closure`` reuses one forward/backward pass for every
  direction; each product equals the textbook ``hvp_kernel`` (a separate code path: one
  R-forward/backward loop over the layer pairs, nothing hoisted) bitwise, in any call order
  and with ``out=``.  Bitwise, because both paths evaluate the same floating-point operations
  on the same operands (``φ'(a) ⊙ g`` and ``g ⊙ φ'(a)`` are the same IEEE product); only
  where they are computed differs.
* W1 (FGSM training) has no speed place any more: one product over the stacked ``2B`` rows was
  measured no faster than the two backward passes, so ``objectives._one_step`` runs the two
  passes with ``dlogits`` pre-scaled by ``α`` and ``1 - α``.  It is compared with the
  textbook ``α ∇L(x) + (1-α) ∇L(x_adv)`` from ``loss_and_grads``: the two differ only in where
  ``α`` multiplies (each backpropagated delta within ``γ_{w+3}`` of ``|Δ|`` per layer, ``w``
  the widest layer, ``γ_k = k u / (1 - k u)``, Higham, *Accuracy and Stability of Numerical
  Algorithms*, §3.1) and in one extra addition of two ``B``-row sums (each within
  ``γ_{B+1} |H|ᵀ|Δ|``), so entrywise ``|a - b| ≤ 2 (γ_{B+1} + L γ_{w+3}) |H|ᵀ|Δ|`` with
  ``|Δ|`` bounded by ``|dz| |W|ᵀ …`` (``|φ'| ≤ 1`` for these activations).  In float64 it is
  also ≤ 1e-12 relative.
"""

import numpy as np
import pytest

from minadv.attacks.steepest import steepest_ascent
from minadv.models import MLP, stack_caches
from minadv.params import flatten, tree_zeros_like
from minadv.training import Batch, FGSMObjective

GRID = [(a, d, o) for a in ("relu", "tanh", "sigmoid", "softplus")
        for d in (np.float32, np.float64) for o in ("softmax", "sigsoftmax")]
IDS = [f"{a}-{np.dtype(d).name}-{o}" for a, d, o in GRID]


def _setup(activation, dtype, output, B=12):
    rng = np.random.default_rng(0)
    net = MLP([5, 7, 6, 3], activation=activation, output=output, dtype=dtype)
    X = rng.normal(size=(B, 5)).astype(dtype)
    return net, net.init_params(rng=1), X, rng.integers(0, 3, B)


def _bound(net, params, X, X_adv, y, alpha):
    """``2 (γ_{B+1} + L γ_{w+3}) |H|ᵀ|Δ|`` per weight (``|Δ|`` summed per bias)."""
    n, u = X.shape[0], np.finfo(net.dtype).eps / 2

    def gamma(k):
        return k * u / (1 - k * u)

    factor = 2 * (gamma(n + 1) + net.n_layers * gamma(max(net.sizes) + 3))
    out = {}
    for Xh, w in ((X, alpha), (X_adv, 1 - alpha)):
        z, cache = net.forward(params, Xh)
        dz = np.abs(net.output.nll(z, y)[1]) * (w / n)
        hs = [cache.X, *cache.post]
        delta = dz
        for l in range(net.n_layers, 0, -1):        # |δ| bounds via |W| (upper bound)
            wk, bk = net.layer_keys[l - 1]
            out[wk] = out.get(wk, 0) + np.abs(hs[l - 1]).T @ delta
            out[bk] = out.get(bk, 0) + delta.sum(axis=0)
            delta = delta @ np.abs(params[wk]).T * (1.0 if l > 1 else 0.0)
    return {k: factor * v for k, v in out.items()}


@pytest.mark.parametrize("alpha", [0.3, 0.5])
@pytest.mark.parametrize("activation,dtype,output", GRID, ids=IDS)
def test_fgsm_objective_equals_the_textbook_combination(activation, dtype, output, alpha):
    net, params, X, y = _setup(activation, dtype, output)
    loss, grads = FGSMObjective(eps=0.1, clean_weight=alpha)(net, params, Batch(X, y), None)
    gx = net.loss_and_grads(params, X, y, param_grads=False).input_grad
    X_adv = X + steepest_ascent(gx, 0.1, np.inf)
    clean, adv = net.loss_and_grads(params, X, y), net.loss_and_grads(params, X_adv, y)
    textbook = {k: alpha * clean.grads[k] + (1 - alpha) * adv.grads[k] for k in params}
    bound = _bound(net, params, X, X_adv, y, alpha)
    for k in params:
        assert grads[k].dtype == dtype
        assert np.all(np.abs(grads[k] - textbook[k]) <= bound[k]), k
    if dtype == np.float64:
        a, b = flatten(grads), flatten(textbook)
        assert np.linalg.norm(a - b) <= 1e-12 * np.linalg.norm(b)
        assert loss == pytest.approx(alpha * clean.loss + (1 - alpha) * adv.loss, rel=1e-15)


@pytest.mark.parametrize("activation,dtype,output", GRID, ids=IDS)
def test_hvp_closure_equals_fresh_hvp_kernel_bitwise(activation, dtype, output):
    net, params, X, y = _setup(activation, dtype, output)
    rng = np.random.default_rng(2)
    vs = [{k: rng.normal(size=p.shape).astype(dtype) for k, p in params.items()}
          for _ in range(3)]
    hvp = net.hvp_closure(params, X, y)
    firsts = [hvp(v) for v in vs]
    for v, first in zip(reversed(vs), reversed(firsts)):     # another order, and with out=
        out = tree_zeros_like(params)
        assert hvp(v, out=out) is out
        fresh = net.hvp_kernel(params, X, y, v)
        for k in params:
            np.testing.assert_array_equal(first[k], fresh[k])
            np.testing.assert_array_equal(out[k], fresh[k])
            assert fresh[k].dtype == dtype


def test_stack_caches_is_rowwise_concatenation():
    net, params, X, _ = _setup("tanh", np.float64, "softmax")
    _, c1 = net.forward(params, X[:5])
    _, c2 = net.forward(params, X[5:])
    _, c = net.forward(params, X)
    stacked = stack_caches(c1, c2)
    assert type(stacked) is type(c)
    np.testing.assert_array_equal(stacked.X, c.X)
    for a, b in zip(stacked.pre + stacked.post, c.pre + c.post):
        np.testing.assert_array_equal(a, b)


def test_the_textbook_hvp_is_a_path_of_its_own(monkeypatch):
    """``hvp_kernel`` does not go through the closure (the equality above compares two paths)."""
    from minadv.models import MLP

    net, params, X, y = _setup("tanh", np.float64, "softmax")
    v = {k: np.ones_like(p) for k, p in params.items()}
    expected = net.hvp_kernel(params, X, y, v)

    def no_closure(*args, **kwargs):
        raise AssertionError("hvp_kernel called the closure")

    monkeypatch.setattr(MLP, "hvp_closure", no_closure)
    got = net.hvp_kernel(params, X, y, v)
    for k in params:
        np.testing.assert_array_equal(got[k], expected[k])
