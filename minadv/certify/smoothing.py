"""Randomized smoothing (Cohen, Rosenfeld, Kolter 2019): a certified L2 radius by sampling.

The smoothed classifier of a base classifier ``f`` (here: the model's prediction) is
(``docs/theory.md`` §17.6)::

    g(x) = argmax_c P(f(x + σ ε) = c),    ε ~ N(0, I)

If the top class ``c_A`` has probability ``p_A > 1/2`` then ``g`` is constant on the L2 ball of
radius ``R = σ Φ⁻¹(p_A)`` (Cohen et al., Theorem 1 with ``p_B = 1 - p_A``).  With Monte Carlo:

* ``predict``: ``n`` noisy copies, counts of the two top classes ``n_A, n_B``; return ``c_A``
  when the two-sided binomial test of ``n_A`` out of ``n_A + n_B`` against ``1/2`` has p-value
  ``<= α``, else abstain (``-1``).  Wrong with probability at most ``α`` (their Proposition 1).
* ``certify``: guess ``c_A`` from ``n0`` copies, count it in ``n`` fresh copies, take the
  one-sided Clopper–Pearson lower confidence bound ``p_lower = B(α; n_A, n - n_A + 1)``
  (``B`` the Beta quantile) and return ``(c_A, σ Φ⁻¹(p_lower))`` if ``p_lower > 1/2``, else
  abstain.  The radius is certified with probability ``>= 1 - α``.

For a linear binary classifier ``f(x) = 1[wᵀx + b > 0]``, ``P(f(x + σε) = 1) = Φ((wᵀx + b) /
(σ ||w||))``: the smoothed classifier is ``f`` itself and its exact radius is the distance to the
decision boundary ``|wᵀx + b| / ||w||`` for every σ (:func:`linear_smoothing_radius`, the exact
answer the Monte Carlo radius is tested against).

References
----------
Cohen, Rosenfeld, Kolter (2019), "Certified Adversarial Robustness via Randomized Smoothing",
ICML, Theorem 1, Propositions 1-2 and the pseudocode of PREDICT and CERTIFY.  Their code called
``scipy.stats.binom_test``; current SciPy has :func:`scipy.stats.binomtest`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import special, stats

from .._validation import as_generator, check_int, check_scalar
from ..models import MLP, LogisticRegressionModel
from .network import Network, as_network

__all__ = ["SmoothedCertificate", "smoothed_counts", "smoothed_predict", "smoothed_certify",
           "smoothed_certify_kernel", "clopper_pearson_lower", "linear_smoothing_radius",
           "ABSTAIN"]

#: the class index returned when the smoothed classifier abstains
ABSTAIN = -1


class SmoothedCertificate(NamedTuple):
    """Result of :func:`smoothed_certify`: per point the class (``-1`` = abstain), the
    certified L2 radius (0 when abstaining), ``p_lower`` and the count ``n_A`` of ``n``."""

    prediction: np.ndarray
    radius: np.ndarray
    p_lower: np.ndarray
    counts: np.ndarray


def smoothed_counts(net: Network, x: np.ndarray, sigma: float, n: int,
                    gen: np.random.Generator, *, batch_size: int = 1000) -> np.ndarray:
    """Class counts ``(C,)`` of ``argmax z(x + σ ε)`` over ``n`` draws (``x`` ``(d,)``)."""
    counts = np.zeros(net.n_classes, dtype=np.int64)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        noisy = x + sigma * gen.standard_normal((m, x.size), dtype=x.dtype)   # (m, d)
        counts += np.bincount(np.argmax(net.logits(noisy), axis=1), minlength=net.n_classes)
    return counts


def clopper_pearson_lower(k: np.ndarray, n: int, failure_probability: float) -> np.ndarray:
    """One-sided ``1 - α`` Clopper–Pearson lower bound of a binomial proportion: the
    ``α``-quantile of ``Beta(k, n - k + 1)`` (0 when ``k = 0``)."""
    k = np.asarray(k)
    with np.errstate(invalid="ignore"):
        return np.where(k > 0, stats.beta.ppf(failure_probability, np.maximum(k, 1), n - k + 1), 0.0)


def _check_smoothing(model, params, X, sigma, failure_probability, rng, batch_size):
    net = as_network(model, params)
    X = model.check_X(X)
    sigma = check_scalar(sigma, "sigma", low=0.0, low_inclusive=False)
    failure_probability = check_scalar(failure_probability, "failure_probability", low=0.0,
                                       high=1.0, low_inclusive=False, high_inclusive=False)
    return net, X, sigma, failure_probability, as_generator(rng), check_int(batch_size, "batch_size", low=1)


def smoothed_predict(model: Any, params: Any, X: Any, sigma: float, *, n_samples: int = 100,
                     failure_probability: float = 0.001, rng: Any = None,
                     batch_size: int = 1000) -> np.ndarray:
    """Cohen et al.'s PREDICT: the smoothed class of each row, or ``-1`` (abstain).

    Parameters
    ----------
    model : MLP or LogisticRegressionModel
    params : dict
    X : ndarray (n, d), the model's dtype
    sigma : float > 0
        Noise level σ.
    n_samples : int >= 1
    failure_probability : float in (0, 1)
        Probability of returning a wrong class (not abstaining) is at most ``failure_probability``.
    rng : None, int or Generator
    batch_size : int >= 1
        Noisy copies per forward pass.

    Returns
    -------
    ndarray (n,), int64

    Notes
    -----
    ``docs/theory.md`` §17.6: abstain unless the two-sided binomial test
    (:func:`scipy.stats.binomtest`) of ``n_A`` vs ``n_B`` rejects ``p = 1/2`` at level α.
    """
    net, X, sigma, failure_probability, gen, batch_size = _check_smoothing(
        model, params, X, sigma, failure_probability,
                                                             rng, batch_size)
    n_samples = check_int(n_samples, "n_samples", low=1)
    out = np.full(X.shape[0], ABSTAIN, dtype=np.int64)
    for i, x in enumerate(X):
        counts = smoothed_counts(net, x, sigma, n_samples, gen, batch_size=batch_size)
        top2 = np.argsort(counts, kind="stable")[::-1][:2]       # c_A, c_B
        n_a, n_b = int(counts[top2[0]]), int(counts[top2[1]])
        if stats.binomtest(n_a, n_a + n_b, 0.5).pvalue <= failure_probability:
            out[i] = top2[0]
    return out


def smoothed_certify_kernel(net: Network, X: np.ndarray, sigma: float, *, n0: int, n: int,
                            failure_probability: float, gen: np.random.Generator,
                            batch_size: int) -> SmoothedCertificate:
    """Kernel of :func:`smoothed_certify` (everything validated)."""
    pred = np.full(X.shape[0], ABSTAIN, dtype=np.int64)
    radius, p_low = np.zeros(X.shape[0]), np.zeros(X.shape[0])
    counts = np.zeros(X.shape[0], dtype=np.int64)
    for i, x in enumerate(X):
        c_a = int(np.argmax(smoothed_counts(net, x, sigma, n0, gen, batch_size=batch_size)))   # selection
        counts[i] = smoothed_counts(net, x, sigma, n, gen, batch_size=batch_size)[c_a]         # estimation
        p_low[i] = clopper_pearson_lower(counts[i], n, failure_probability)
        if p_low[i] > 0.5:
            pred[i], radius[i] = c_a, sigma * special.ndtri(p_low[i])              # σ Φ⁻¹(p)
    return SmoothedCertificate(pred, radius, p_low, counts)


def smoothed_certify(model: Any, params: Any, X: Any, sigma: float, *, n0: int = 100,
                     n_samples: int = 1000, failure_probability: float = 0.001, rng: Any = None,
                     batch_size: int = 1000) -> SmoothedCertificate:
    """Cohen et al.'s CERTIFY: a class and a certified L2 radius per row (or abstain).

    Parameters
    ----------
    model, params, X, sigma, failure_probability, rng, batch_size
        As in :func:`smoothed_predict`.
    n0 : int >= 1
        Draws to select the top class.
    n_samples : int >= 1
        Fresh draws to estimate its probability.

    Returns
    -------
    SmoothedCertificate
        ``radius = σ Φ⁻¹(p_lower)`` where ``p_lower > 1/2``, else class ``-1`` and radius 0.
        With probability ``>= 1 - α`` (per point) the smoothed classifier is constant on the
        L2 ball of that radius.

    Raises
    ------
    TypeError, ValueError
        Not an MLP/logistic regression, bad ``X``, ``sigma <= 0``, ``failure_probability`` outside (0, 1),
        counts ``< 1``.

    Notes
    -----
    ``docs/theory.md`` §17.6, eq. (17.6).
    """
    net, X, sigma, failure_probability, gen, batch_size = _check_smoothing(
        model, params, X, sigma, failure_probability,
                                                             rng, batch_size)
    n0 = check_int(n0, "n0", low=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    return smoothed_certify_kernel(net, X, sigma, n0=n0, n=n_samples,
                                   failure_probability=failure_probability, gen=gen,
                                   batch_size=batch_size)


def linear_smoothing_radius(model: Any, params: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact class and certified L2 radius of a smoothed *binary linear* classifier.

    ``f(x) = argmax z(x)`` with ``z_1 - z_0 = wᵀx + b`` (logistic regression, or an MLP
    ``[d, 2]``): the smoothed classifier equals ``f`` and its radius is
    ``|wᵀx + b| / ||w||_2`` for every σ (module docstring).

    Returns
    -------
    prediction : ndarray (n,), int64
    radius : ndarray (n,)

    Raises
    ------
    TypeError, ValueError
        A model that is not a binary linear classifier, bad ``params`` or ``X``.
    """
    if not (isinstance(model, LogisticRegressionModel)
            or (isinstance(model, MLP) and model.n_layers == 1 and model.n_classes == 2)):
        raise TypeError("model: the closed form needs a binary linear classifier (logistic "
                        f"regression or MLP([d, 2])), got {model!r}.")
    net = as_network(model, params)
    X = model.check_X(X)
    w = net.weights[0][:, 1] - net.weights[0][:, 0]              # (d,)
    score = X @ w + (net.biases[0][1] - net.biases[0][0])        # (n,)
    return (score > 0).astype(np.int64), np.abs(score) / np.linalg.norm(w)
