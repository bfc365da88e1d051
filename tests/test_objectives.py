"""Objectives: exact gradients (closed forms, finite differences), single-pass invariants."""

import numpy as np
import pytest

from minadv.attacks.steepest import steepest_ascent
from minadv.gradcheck import rel_error
from minadv.layers import dropout_mask
from minadv.models import MLP, LogisticRegressionModel
from minadv.optim import sgd
from minadv.robust_logistic import robust_logistic_grad, robust_logistic_loss
from minadv.training import (
    ERM,
    OBJECTIVES,
    Batch,
    DropoutObjective,
    ExactRobustObjective,
    FGSMObjective,
    GaussianNoiseObjective,
    PGDObjective,
    RandomPerturbationObjective,
    ShahamObjective,
    VATObjective,
    evaluate,
    fit,
    make_objective,
)


def _data(n=12, d=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X[:, 0] + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


def _logistic(seed=1):
    model = LogisticRegressionModel(4)
    return model, model.init_params(rng=seed, scale=0.7)


def _mlp(dtype=np.float64, classes=3):
    model = MLP([4, 6, 5, classes], activation="tanh", dtype=dtype)
    return model, model.init_params(rng=3)


def _fd_grad(f, params, h=1e-6):
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            plus = {kk: vv.copy() for kk, vv in params.items()}
            minus = {kk: vv.copy() for kk, vv in params.items()}
            plus[k][i] += h
            minus[k][i] -= h
            g[i] = (f(plus) - f(minus)) / (2 * h)
        out[k] = g
    return out


def _assert_tree_close(a, b, rtol=1e-12, atol=1e-14):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)


# ---------------------------------------------------------------------------- exact answers
@pytest.mark.parametrize("norm", [np.inf, 2, 1], ids=["linf", "l2", "l1"])
def test_shaham_on_linear_model_equals_closed_form_robust_gradient(norm):
    """One ascent step is the exact worst case of a linear score (theory §1.1)."""
    X, y = _data()
    model, params = _logistic()
    loss, grads = ShahamObjective(eps=0.3, norm=norm)(model, params, Batch(X, y), None)
    ref = robust_logistic_grad(params["w"], params["b"], X, y, 0.3, norm=norm)
    assert loss == pytest.approx(robust_logistic_loss(params["w"], params["b"], X, y, 0.3, norm=norm),
                                 rel=1e-13)
    _assert_tree_close(grads, ref)


def test_fgsm_on_linear_model_mixes_plain_and_robust_closed_forms():
    X, y = _data()
    model, params = _logistic()
    w, b = params["w"], params["b"]
    loss, grads = FGSMObjective(eps=0.2, clean_weight=0.25, l2=0.1)(model, params, Batch(X, y), None)
    rob = robust_logistic_grad(w, b, X, y, 0.2, norm=np.inf)
    plain = robust_logistic_grad(w, b, X, y, 0.0, norm=np.inf)
    ref = {k: 0.25 * plain[k] + 0.75 * rob[k] for k in rob}
    ref["w"] = ref["w"] + 0.1 * w
    want = (0.25 * robust_logistic_loss(w, b, X, y, 0.0) + 0.75
            * robust_logistic_loss(w, b, X, y, 0.2, norm=np.inf) + 0.05 * float(w @ w))
    assert loss == pytest.approx(want, rel=1e-13)
    _assert_tree_close(grads, ref)


@pytest.mark.parametrize("norm", [np.inf, 2], ids=["linf", "l2"])
def test_exact_robust_objective_matches_closed_form(norm):
    X, y = _data()
    model, params = _logistic()
    loss, grads = ExactRobustObjective(eps=0.4, norm=norm, l2=0.01)(model, params, Batch(X, y),
                                                                   None)
    ref = robust_logistic_grad(params["w"], params["b"], X, y, 0.4, norm=norm, l2=0.01)
    assert loss == pytest.approx(
        robust_logistic_loss(params["w"], params["b"], X, y, 0.4, norm=norm, l2=0.01), rel=1e-13)
    _assert_tree_close(grads, ref)
    assert grads["b"].shape == () and grads["b"].dtype == np.float64


def test_erm_is_value_and_grads_with_the_l2_convention():
    X, y = _data()
    model, params = _mlp()
    loss, grads = ERM(l2=0.3)(model, params, Batch(X, y), None)
    ref = model.loss_and_grads(params, X, y, l2=0.3)
    assert loss == ref.loss
    _assert_tree_close(grads, ref.grads, rtol=0, atol=0)


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("norm", [np.inf, 2, 1], ids=["linf", "l2", "l1"])
def test_one_step_stacked_backward_equals_two_separate_passes(alpha, norm):
    X, y = _data()
    model, params = _mlp()
    obj = FGSMObjective(eps=0.15, clean_weight=alpha, norm=norm, l2=0.05)
    loss, grads = obj(model, params, Batch(X, y), None)
    gx = model.loss_and_grads(params, X, y).input_grad
    X_adv = X + steepest_ascent(gx, 0.15, norm)
    clean = model.loss_and_grads(params, X, y, l2=0.05)
    adv = model.loss_and_grads(params, X_adv, y, l2=0.05)
    assert loss == pytest.approx(alpha * clean.loss + (1 - alpha) * adv.loss, rel=1e-13)
    _assert_tree_close(grads, {k: alpha * clean.grads[k] + (1 - alpha) * adv.grads[k]
                               for k in grads}, rtol=1e-11, atol=1e-14)


def test_fgsm_gradient_matches_finite_differences_with_the_example_held_constant():
    X, y = _data()
    model, params = _mlp()
    _, grads = FGSMObjective(eps=0.1)(model, params, Batch(X, y), None)
    X_adv = X + 0.1 * np.sign(model.loss_and_grads(params, X, y).input_grad)
    fd = _fd_grad(lambda p: 0.5 * model.loss(p, X, y) + 0.5 * model.loss(p, X_adv, y), params)
    _assert_tree_close(grads, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("entmin", [False, True])
def test_vat_gradient_matches_finite_differences_with_r_and_p_hat_constant(entmin):
    """n_power_iterations = 0 makes r reproducible from the seed: r = eps * unit(N(0, I))."""
    X, y = _data()
    Xu = _data(n=7, seed=5)[0]
    model, params = _mlp()
    obj = VATObjective(eps=0.5, n_power_iterations=0, vat_weight=0.7, entmin=entmin, l2=0.02)
    loss, grads = obj(model, params, Batch(X, y, Xu), np.random.default_rng(11))
    d = np.random.default_rng(11).standard_normal(Xu.shape)
    r = 0.5 * d / np.linalg.norm(d, axis=1, keepdims=True)
    z_ref = model.logits(params, Xu)

    def f(p):
        kl = np.mean(model.output.kl(model.output.log_proba(z_ref), model.logits(p, Xu + r))[0])
        val = model.loss(p, X, y, l2=0.02) + 0.7 * kl
        if entmin:
            ent = [model.output.entropy(model.logits(p, A))[0] for A in (X, Xu)]
            val += np.sum(np.concatenate(ent)) / (X.shape[0] + Xu.shape[0])
        return val

    assert loss == pytest.approx(f(params), rel=1e-12)
    _assert_tree_close(grads, _fd_grad(f, params), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("exact", [False, True])
def test_vat_loss_uses_the_attack_kernels_direction_on_the_unlabeled_rows(exact):
    """Semi-supervised: CE on the labeled rows + lam * KL at r_vadv of the unlabeled rows."""
    from minadv.attacks.vat import VATConfig, vat_perturbation_kernel

    X, y = _data()
    Xu = _data(n=9, seed=8)[0]
    model, params = _mlp()
    obj = VATObjective(eps=0.8, vat_weight=2.0, exact=exact)
    loss, _ = obj(model, params, Batch(X, y, Xu), np.random.default_rng(5))
    r = vat_perturbation_kernel(model, params, Xu, VATConfig(eps=0.8, exact=exact),
                                rng=np.random.default_rng(5)).r_adv
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 0.8, rtol=1e-12)
    kl = np.mean(model.output.kl(model.output.log_proba(model.logits(params, Xu)),
                                 model.logits(params, Xu + r))[0])
    assert loss == pytest.approx(model.loss(params, X, y) + 2.0 * kl, rel=1e-12)


def test_pgd_with_eps_zero_is_erm():
    X, y = _data()
    model, params = _mlp()
    loss, grads = PGDObjective(eps=0.0, n_steps=3, l2=0.1)(model, params, Batch(X, y),
                                                         np.random.default_rng(0))
    ref = model.loss_and_grads(params, X, y, l2=0.1)
    assert loss == pytest.approx(ref.loss, rel=1e-14)
    _assert_tree_close(grads, ref.grads)


# ---------------------------------------------------------------------------- invariants
def test_pgd_loss_is_at_least_the_clean_loss_and_the_attack_reuses_the_rng():
    X, y = _data(n=40)
    model, params = _mlp()
    clean = model.loss(params, X, y)
    a = PGDObjective(eps=0.3, n_steps=10)(model, params, Batch(X, y), np.random.default_rng(4))
    b = PGDObjective(eps=0.3, n_steps=10)(model, params, Batch(X, y), np.random.default_rng(4))
    assert a[0] > clean and a[0] == b[0]


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_keeps_float32(name):
    X, y = _data(dtype=np.float32)
    if name == "exact_robust":
        model = LogisticRegressionModel(4, dtype=np.float32)
        params = model.init_params(rng=0, scale=0.5)
    else:
        model, params = _mlp(dtype=np.float32)
    obj = make_objective(name)
    obj.validate(model)
    loss, grads = obj(model, params, Batch(X, y, X[:5]), np.random.default_rng(0))
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert [g.shape for g in grads.values()] == [p.shape for p in params.values()]


def test_random_perturbation_is_vat_without_power_iteration():
    X, y = _data()
    model, params = _mlp()
    a = RandomPerturbationObjective(eps=0.4)(model, params, Batch(X, y), np.random.default_rng(2))
    b = VATObjective(eps=0.4, n_power_iterations=0)(model, params, Batch(X, y), np.random.default_rng(2))
    assert a[0] == b[0]
    _assert_tree_close(a[1], b[1], rtol=0, atol=0)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("obj, match", [
    (FGSMObjective(clean_weight=1.5), "clean_weight"),
    (FGSMObjective(clean_weight=-0.1), "clean_weight"),
    (FGSMObjective(eps=-1.0), "eps"),
    (FGSMObjective(norm="l3"), "norm"),
    (PGDObjective(n_steps=0), "n_steps"),
    (VATObjective(xi=0.0), "xi"),
    (ERM(l2=-1.0), "l2"),
    (ShahamObjective(clean_weight=0.5), "perturbed batch only"),
    (RandomPerturbationObjective(n_power_iterations=1), "n_power_iterations"),
])
def test_bad_hyperparameters_raise_at_validate(obj, match):
    with pytest.raises(ValueError, match=match):
        obj.validate(_mlp()[0])


def test_exact_robust_refuses_an_mlp_and_make_objective_refuses_unknowns():
    with pytest.raises(TypeError, match="logistic regression"):
        ExactRobustObjective().validate(_mlp()[0])
    with pytest.raises(ValueError, match="expected one of"):
        make_objective("mart")                 # an objective minadv does not have
    with pytest.raises(ValueError, match="unknown hyper-parameters"):
        make_objective("erm", eps=0.1)


# ------------------------------------------------- dropout (fixed masks: a deterministic loss)
def _dropout_problem(activation, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP([5, 7, 6, 3], activation=activation)
    params = model.init_params(rng=seed)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    masks = [dropout_mask((8, k), 0.4, rng) for k in (7, 6)]
    return model, params, X, y, masks


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "relu"])
def test_gradient_matches_finite_differences_with_a_fixed_mask(activation):
    model, params, X, y, _ = _dropout_problem(activation)
    objective = DropoutObjective(rate=0.4, l2=1e-2)
    # the same seed draws the same masks at every call: a fixed-mask loss
    loss_grads = lambda: objective(model, params, Batch(X, y), np.random.default_rng(11))  # noqa: E731
    _, grads = loss_grads()
    h = 1e-6
    for key, p in params.items():
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = loss_grads()[0]
            p[idx] = old - h
            down = loss_grads()[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * h)
        assert rel_error(grads[key], num) <= 1e-7, key


def test_masks_of_ones_give_the_model_loss_and_grads():
    model, params, X, y, _ = _dropout_problem("tanh")
    ones = [np.ones((8, k)) for k in model.hidden_sizes]
    z, cache = model.forward(params, X, masks=ones)
    losses, dz = model.output.nll(z, y)
    grads, _ = model.backward(params, cache, dz / X.shape[0], input_grad=False)
    ref = model.loss_and_grads(params, X, y)
    assert float(np.mean(losses)) == pytest.approx(ref.loss, rel=1e-14)
    for k in params:
        np.testing.assert_allclose(grads[k], ref.grads[k], rtol=1e-12, atol=1e-15)


def test_masks_are_what_the_textbook_loop_applies():
    """The masked forward equals the plain loop with ``h_l ⊙ m_l`` written out."""
    model, params, X, y, masks = _dropout_problem("softplus")
    z, _ = model.forward(params, X, masks=masks)
    h = X
    for l in (1, 2):
        h = np.logaddexp(0.0, h @ params[f"W{l}"] + params[f"b{l}"]) * masks[l - 1]
    np.testing.assert_allclose(z, h @ params["W3"] + params["b3"], rtol=1e-13)


def test_objective_rate_zero_is_erm_and_registry():
    model, params, X, y, _ = _dropout_problem("relu")
    batch = Batch(X, y)
    a = DropoutObjective(rate=0.0)(model, params, batch, np.random.default_rng(0))
    b = ERM()(model, params, batch, np.random.default_rng(0))
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    assert make_objective("dropout", rate=0.25) == DropoutObjective(rate=0.25)


def test_objective_trains_and_refuses_linear_models():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = MLP([4, 32, 2], activation="relu")
    res = fit(model, model.init_params(rng=0), DropoutObjective(rate=0.3), X, y,
              optimizer=sgd(0.1, momentum=0.9), epochs=40, batch_size=32, rng=0, verbose=0)
    assert evaluate(model, res.params, X, y)["accuracy"] > 0.9
    with pytest.raises(TypeError, match="dropout: needs a model with hidden layers"):
        fit(LogisticRegressionModel(4), LogisticRegressionModel(4).init_params(),
            DropoutObjective(), X, y, optimizer=sgd(0.1), epochs=1, rng=0, verbose=0)


# ------------------------------------------------------------------------ Gaussian noise
def test_gaussian_noise_objective_is_erm_at_the_noised_input():
    model = MLP([3, 4, 2])
    params = model.init_params(rng=0)
    X, y = np.random.default_rng(1).random((5, 3)), np.array([0, 1, 1, 0, 1])
    loss, grads = GaussianNoiseObjective(sigma=0.5)(model, params, Batch(X, y),
                                                    np.random.default_rng(2))
    noisy = X + 0.5 * np.random.default_rng(2).standard_normal(X.shape)
    ref = model.loss_and_grads_kernel(params, noisy, y, input_grad=False, l2=0.0)
    assert loss == pytest.approx(ref.loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref.grads[k], rtol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoiseObjective(sigma=0.0).validate(model)
