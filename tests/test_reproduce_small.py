"""Small seeded reproductions (thresholds with wide margins; numbers in the comments are the
measured values at the time of writing, so a regression is visible at a glance).

* VAT (Miyato et al. 2016, §3.1 synthetic sets): semi-supervised VAT with 16 labels beats
  supervised ERM on test error, on the 2-D moons and on their 100-D linear embedding.
* Madry et al. (2018): PGD-trained MLPs keep much higher PGD accuracy than ERM-trained ones;
  at large eps FGSM-trained ones fall behind PGD-trained ones.
"""

import numpy as np
import pytest

from minadv.attacks import pgd
from minadv.datasets import make_moons, make_vat_synthetic
from minadv.models import MLP
from minadv.optim import adam, sgd
from minadv.training import ERM, FGSMObjective, PGDObjective, VATObjective, evaluate, fit

SEEDS = (0, 1, 2, 3)


def _vat_vs_erm(data, sizes, lr, epochs=150):
    """Test errors (erm, vat) with 16 labels; VAT also sees the unlabeled pool."""
    Xtr, ytr, Xu, Xte, yte, seed = data
    model = MLP(sizes)
    p0 = model.init_params(rng=seed)
    errors = []
    for objective, unlabeled in ((ERM(l2=1e-4), None), (VATObjective(eps=0.3, l2=1e-4), Xu)):
        res = fit(model, p0, objective, Xtr, ytr, optimizer=sgd(lr, momentum=0.9),
                  epochs=epochs, batch_size=16, X_unlabeled=unlabeled,
                  unlabeled_batch_size=100, rng=seed, verbose=0)
        errors.append(1.0 - evaluate(model, res.params, Xte, yte)["accuracy"])
    return errors


def _embedded(seed):
    Xtr, ytr, Xte, yte, _ = make_vat_synthetic("moons", n_train=16, n_test=1100, rng=seed)
    return Xtr, ytr, Xte[:100], Xte[100:], yte[100:], seed


def _planar(seed):
    X, y = make_moons(1216, noise=0.1, rng=seed)
    return X[:16], y[:16], X[16:216], X[216:], y[216:], seed


@pytest.mark.slow
def test_semi_supervised_vat_beats_erm_on_the_100d_moons():
    # measured (erm, vat): (.028, .006) (.025, .004) (.142, .001) (.151, .003)
    errs = np.array([_vat_vs_erm(_embedded(s), [100, 100, 2], lr=1.0) for s in SEEDS])
    erm, vat = errs.mean(axis=0)
    assert vat < 0.03 and erm - vat > 0.03
    assert np.all(errs[:, 1] <= errs[:, 0] + 0.005)


@pytest.mark.slow
def test_semi_supervised_vat_beats_erm_on_the_2d_moons():
    # measured (erm, vat): (.086, .009) (.074, .017) (.151, .071) (.137, .017)
    errs = np.array([_vat_vs_erm(_planar(s), [2, 100, 2], lr=0.5) for s in SEEDS])
    erm, vat = errs.mean(axis=0)
    assert vat < 0.06 and erm - vat > 0.04
    assert np.all(errs[:, 1] < errs[:, 0])


@pytest.mark.slow
def test_pgd_training_keeps_pgd_accuracy_and_fgsm_training_falls_behind_at_large_eps():
    # measured at eps = 0.5, PGD-20 accuracy (erm, fgsm, pgd):
    #   seed 0: (.057, .507, .727)   seed 1: (.050, .540, .677)
    eps, accs = 0.5, []
    for seed in (0, 1):
        X, y = make_moons(600, noise=0.1, rng=seed)
        model = MLP([2, 64, 64, 2])
        p0 = model.init_params(rng=seed)
        row = []
        for objective in (ERM(), FGSMObjective(eps=eps), PGDObjective(eps=eps, n_steps=7)):
            res = fit(model, p0, objective, X[:300], y[:300], optimizer=adam(0.01), epochs=60,
                      batch_size=32, rng=seed, verbose=0)
            X_adv = pgd(model, res.params, X[300:], y[300:], eps, n_steps=20, rng=seed)
            row.append(evaluate(model, res.params, X_adv, y[300:])["accuracy"])
        accs.append(row)
    erm, fgsm_acc, pgd_acc = np.mean(accs, axis=0)
    assert erm < 0.2 and pgd_acc > 0.55
    assert pgd_acc - erm > 0.4 and pgd_acc - fgsm_acc > 0.05
