"""Miyato et al. 2016 (arXiv:1507.00677): virtual adversarial training (VAT) beats maximum
likelihood, weight decay and dropout with few labels, and is not worse than the other
perturbation methods.

Two reproductions: ``vat`` (the synthetic 100-D moons and circles, 16 labels) and
``vat-digits`` (10 labels per class).  Ordering claims are tested on paired differences: the
six methods of one repeat share the data, the initial weights and the training stream.
"""

from __future__ import annotations

import numpy as np

from ...datasets import make_vat_synthetic
from ...models import MLP
from ...optim import adam, exponential_decay, sgd
from ...training import (
    ERM,
    DropoutObjective,
    FGSMObjective,
    RandomPerturbationObjective,
    VATObjective,
    evaluate,
    fit,
)
from ..base import Experiment, Protocol, ci_bounds, make_check, mean_ci, spec_text
from .common import BOX, DIGITS, digits_split, labeled_subset

__all__ = ["PROTOCOLS", "VAT_SETTINGS", "VAT_DROPOUT"]

PAPER = "Miyato et al. 2016 (1507.00677)"
BASELINES = ("MLE", "L2 decay", "dropout")

#: docs/theory.md §6.3 (the authors' train_syn.py): per-method settings on (moons, circles)
VAT_SETTINGS = {"moons": {"l2": 1e-4, "random": 1.8, "at_l2": 0.2, "vat": 0.6},
                "circles": {"l2": 1e-4, "random": 2.8, "at_l2": 0.65, "vat": 0.5}}
VAT_DROPOUT = {"moons": 0.4, "circles": 0.75}          # drop rates, same source


def _synthetic_methods(kind: str) -> dict:

    cfg = VAT_SETTINGS[kind]
    return {"MLE": ERM(), "L2 decay": ERM(l2=cfg["l2"]),
            "dropout": DropoutObjective(rate=VAT_DROPOUT[kind]),
            "random pert.": RandomPerturbationObjective(eps=cfg["random"]),
            "AT (L2, FGSM-mixed)": FGSMObjective(eps=cfg["at_l2"], norm=2, clean_weight=0.5),
            "VAT": VATObjective(eps=cfg["vat"], xi=1e-6, n_power_iterations=1)}


def vat_repeat(streams) -> dict:
    """One repeat per data set: the 16 labeled and the test points from ``data`` (one child per
    set), initial weights from ``init`` and the training stream (dropout masks,
    perturbations) from ``order``, shared by the six methods (paired)."""
    data = np.random.SeedSequence(streams.data).generate_state(2)
    out = {}
    for kind, s in zip(("moons", "circles"), data):
        X_tr, y_tr, X_te, y_te, _ = make_vat_synthetic(kind, rng=int(s))
        model = MLP([100, 100, 2], activation="relu")
        init = model.init_params(rng=streams.init)
        err = {}
        for name, objective in _synthetic_methods(kind).items():
            # full batch (16 points), momentum SGD lr 1.0 decayed ×0.995 per epoch
            opt = sgd(exponential_decay(1.0, 0.995, 1), momentum=0.9)
            res = fit(model, init, objective, X_tr, y_tr, optimizer=opt, epochs=1000,
                      batch_size=16, rng=streams.order, verbose=0)
            err[name] = 1 - evaluate(model, res.params, X_te, y_te)["accuracy"]
        out[kind] = err
    return out


def digits_methods() -> dict:
    """The six methods as objectives of one training loop, with whether each also trains on
    the unlabeled digits (RPT and VAT need no labels)."""
    return {"MLE": (ERM(), False), "L2 decay": (ERM(l2=1e-3), False),
            "dropout": (DropoutObjective(rate=0.5), False),
            "random pert.": (RandomPerturbationObjective(eps=1.0), True),
            "AT (L2, FGSM-mixed)": (FGSMObjective(eps=1.0, norm=2, clean_weight=0.5, **BOX), False),
            "VAT": (VATObjective(eps=1.0, xi=1e-6, n_power_iterations=1), True)}


def vat_digits_repeat(streams) -> dict:
    """One repeat: the split from ``data``, the labeled draw from ``probe``, initial weights
    from ``init``, the training stream from ``order`` (shared by the six methods: paired)."""
    X_tr, X_te, y_tr, y_te = digits_split(streams.data)
    lab = labeled_subset(y_tr, 10, streams.probe)
    model = MLP([64, 100, 10])
    init = model.init_params(rng=streams.init)
    err = {}
    for name, (objective, semi) in digits_methods().items():
        # full labeled batch (100 digits) + 250 unlabeled rows per step: one step per epoch
        res = fit(model, init, objective, X_tr[lab], y_tr[lab], optimizer=adam(2e-3),
                  epochs=400, batch_size=100, X_unlabeled=X_tr if semi else None,
                  unlabeled_batch_size=250, rng=streams.order, verbose=0)
        err[name] = 1 - evaluate(model, res.params, X_te, y_te)["accuracy"]
    return {"digits": err}


def _judge(P, runs, name, reference, notes) -> Experiment:
    kinds = list(runs[0])
    methods = list(runs[0][kinds[0]])
    checks, rows, groups, errors, summary = [], [], {}, {}, []
    for kind in kinds:
        err = {m: np.array([r[kind][m] for r in runs]) for m in methods}
        for b in BASELINES:
            checks.append(make_check(P, "beats", f"{kind}: VAT has a lower test error than {b}",
                                     f"paired test error VAT − {b}", err["VAT"] - err[b]))
        others = [m for m in methods if m != "VAT"]
        best = min(others, key=lambda m: err[m].mean())
        checks.append(make_check(P, "noninferior", f"{kind}: VAT is not worse than the best "
                                 f"other method ({best})", f"paired test error VAT − {best}",
                                 err["VAT"] - err[best]))
        rows += [(kind, m, *mean_ci(err[m]), *(mean_ci(err["VAT"] - err[m]) if m != "VAT"
                                              else ("—", "—"))) for m in methods]
        groups[kind] = [err[m].mean() for m in methods]
        errors[kind] = tuple(np.array([ci_bounds(err[m]) for m in methods]).T)
        summary.append(f"{kind}: VAT {err['VAT'].mean():.3f}, MLE {err['MLE'].mean():.3f}, "
                       f"best other {best} {err[best].mean():.3f}")
    return Experiment(
        name, P.title, reference,
        ["data", "method", "test error (mean)", "test error 95 % CI", "VAT − method (mean)",
         "VAT − method 95 % CI"], rows, checks,
        [f"{len(runs)} independent repeats; the six methods of a repeat share its data, "
         "initial weights and training stream, so VAT − method is a paired difference.",
         *notes],
        {"kind": "bars", "groups": groups, "errors": errors, "labels": methods,
         "ylabel": "test error (mean)"},
        paper=P.statement, summary="; ".join(summary), repeats=len(runs))


def vat_judge(runs):
    return _judge(VAT, runs, "vat", "Miyato et al. 2016, arXiv:1507.00677, §3.1, Fig. 3; "
                  "docs/theory.md §6.3–6.4",
                  ["Supervised only, 16 labeled points, MLP 100-100-2 ReLU, 1000 full-batch "
                   "epochs of momentum SGD (lr 1.0 ×0.995 per epoch), the per-method settings "
                   "of the authors' train_syn.py (dropout rate 0.4 / 0.75 on the hidden "
                   "layer). The data generator matches the statistics of the authors' "
                   "pickles, not their exact points. The paper gives no per-method numbers "
                   "for this figure; its claim is the ordering."])


def vat_digits_judge(runs):
    return _judge(VAT_DIGITS, runs, "vat-digits", "Miyato et al. 2016, arXiv:1507.00677, §3, "
                  "Tables 1–2; docs/theory.md §6.3, §6.5",
                  ["100 labeled digits (10 per class), the rest of the training split "
                   "unlabeled; MLP 64-100-10 ReLU, Adam 0.002, 400 steps of 100 labeled (+250 "
                   "unlabeled for RPT and VAT) rows. One L2 radius ε = 1.0 for random "
                   "perturbation, adversarial (L2, clipped to [0, 1]) and virtual adversarial "
                   "training; L2 decay 1e−3; dropout rate 0.5 on the hidden layer. The paper "
                   "tuned each method's radius on validation data; we do not."])


_BEATS = ("The paper's ordering: VAT's error is below MLE's, L2 decay's and dropout's; the "
          "paired difference VAT − baseline is negative (threshold 0 is the claim).")
_MARGIN = ("'Lowest of six' is not decidable when two methods are equally good, so the claim "
           "is tested as non-inferiority: VAT's error exceeds the best other method's by at "
           "most 0.02 (20 of 1000 test points; the paper's figure shows differences between "
           "wrong and appropriate boundaries, far larger).")
VAT = Protocol(
    "vat", "Virtual adversarial training on the synthetic 100-D moons and circles", PAPER,
    "§3.1, Fig. 3: with 16 labels MLE and L2 decay draw wrong boundaries, dropout and random "
    "perturbation help on one set each, VAT draws appropriate boundaries on both (no "
    "per-method numbers).", "100-D moons / circles, 16 labels", vat_repeat, vat_judge,
    {"beats": ("<", 0.0, _BEATS), "noninferior": ("<=", 0.02, _MARGIN)},
    k=60, k_quick=3,
    k_derivation=('Pilot: 10 repeats at seed 0, default protocol. Checks true in the pilot: 6 of 8; the'
                 ' least decisive is moons VAT < MLE (effect 0.035, sd 0.0616). With power 1 − 0.05/6 '
                 '= 0.992 per check, repeats_needed(0.0616, 0.035) = 60; k = 60 (2.4 s CPU each). Two '
                 'checks could not choose k: circles VAT < dropout was reversed in the pilot '
                 '(+0.0086), and circles non-inferiority (effect 0.0114, sd 0.0427) would need more '
                 'than 100 repeats; they may stay inconclusive.'),
    pilot=(0.0616, 0.035, 0.9917))
VAT_DIGITS = Protocol(
    "vat-digits", "Virtual adversarial training with 10 labels per class (digits)", PAPER,
    "§3.2, Table 2 (MNIST, 100 labels): VAT 2.33 % vs plain NN 21.98 % test error; Table 1 "
    "(supervised MNIST): VAT < AT-L2 < AT-L∞ < RPT < dropout < MLE.", DIGITS + ", 10 labels "
    "per class", vat_digits_repeat, vat_digits_judge,
    {"beats": ("<", 0.0, _BEATS), "noninferior": ("<=", 0.02, _MARGIN.replace(
        "20 of 1000 test points", "11 of 540 test digits"))},
    k=6, k_quick=3,
    k_derivation=('Pilot: 10 repeats at seed 0, default protocol. Least decisive of the 4 checks: VAT <'
                 ' dropout (effect 0.0296, sd 0.0114). With power 1 − 0.05/4 = 0.9875 per check, '
                 'repeats_needed(0.0114, 0.0296) = 5; k = 6 (1.6 s CPU each).'),
    pilot=(0.0114, 0.0296, 0.9875))

PROTOCOLS = (VAT, VAT_DIGITS)
__doc__ += spec_text(PROTOCOLS)
