"""What every certifier returns: margin bounds per wrong class and a verdict per point.

The property certified at a point ``x`` with label ``y`` over the input set ``S(x)``
(:mod:`minadv.certify.input_set`) is *robustness*::

    m_j(x') = z_y(x') - z_j(x') > 0   for every wrong class j ≠ y and every x' ∈ S(x),

i.e. ``min_{x' ∈ S(x)} m_j(x') > 0``: the prediction stays ``y`` (strictly: a tie is not
robust).  The margin ``m_j = c_jᵀ z`` with ``c_j = e_y - e_j`` is linear in the logits, so it is
folded into the last affine layer (``W_L c_j``, ``b_Lᵀ c_j``) before any bound is propagated:
bounding the margin directly is tighter than subtracting two logit intervals.

Verdicts (one string per point):

* ``"verified"`` — every wrong class has a *finite* proven lower bound ``> tol``;
* ``"falsified"`` — a counterexample ``x' ∈ S(x)`` whose forward pass gives ``m_j(x') <= 0``
  for some ``j`` (always re-checked by a forward pass before it is reported; the clean ``x``
  itself when it is misclassified);
* ``"unknown"`` — anything else, with the reason (a non-positive bound of an incomplete method,
  a non-finite bound, a solver stopped by its time limit).

A NaN or infinite bound is never "verified" (issue reports of other verifiers).

Arithmetic: interval and linear bounds are computed in the model's dtype and are the exact
bounds of real arithmetic up to its rounding (relative ``~1e-16`` per operation in float64,
``~1e-7`` in float32); LP and MILP verdicts keep a margin of ``1e-6`` for HiGHS's tolerances
(``minadv.certify.program``).  A float32 bound within ``~1e-6`` of 0 deserves a float64 re-run.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import check_labels
from .input_set import input_set
from .network import Network, as_network, check_activation

__all__ = ["Certificate", "CertifyInputs", "margin_specs", "check_labels_for", "verdicts",
           "check_certify_inputs", "check_bounds",
           "VERIFIED", "FALSIFIED", "UNKNOWN"]

VERIFIED, FALSIFIED, UNKNOWN = "verified", "falsified", "unknown"


class Certificate(NamedTuple):
    """Result of one certifier on ``n`` points.

    Attributes
    ----------
    method : str
        ``"interval"``, ``"linear"``, ``"lp"``, ``"milp"``, ``"closed_form"``, ``"lipschitz"``.
    margins : ndarray (n, C - 1)
        Proven lower bounds on ``min_{x' ∈ S(x)} z_y - z_j`` (the exact minima for ``"milp"``
        and ``"closed_form"`` when solved), one column per wrong class.
    classes : ndarray (n, C - 1), int64
        The wrong class ``j`` of each column.
    status : ndarray (n,) of str
        ``"verified"``, ``"falsified"`` or ``"unknown"`` (module docstring).
    reason : tuple of str
        Why, per point.
    counterexamples : tuple of (ndarray (d,) or None)
        A re-checked point of ``S(x)`` that is not classified ``y`` robustly, per point.
    solver : tuple
        Per point, a tuple of ``(status, message)`` of the solver per wrong class (LP/MILP);
        empty tuples for the other methods.
    """

    method: str
    margins: np.ndarray
    classes: np.ndarray
    status: np.ndarray
    reason: tuple
    counterexamples: tuple
    solver: tuple

    @property
    def verified(self) -> np.ndarray:
        """Boolean mask of the verified points."""
        return self.status == VERIFIED


def check_labels_for(net: Network, X: np.ndarray, y: Any) -> np.ndarray:
    """Labels to certify: ``y`` validated, or the network's predictions when ``y`` is None."""
    if y is None:
        return np.argmax(net.logits(X), axis=1).astype(np.int64)
    return check_labels(y, "y", net.n_classes, X.shape[0])


def margin_specs(y: np.ndarray, n_classes: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``C_spec`` ``(n, C-1, C)`` with rows ``e_y - e_j`` and the wrong classes ``(n, C-1)``."""
    n = y.shape[0]
    classes = np.array([[j for j in range(n_classes) if j != yi] for yi in y],
                       dtype=np.int64).reshape(n, n_classes - 1)
    spec = np.zeros((n, n_classes - 1, n_classes), dtype=dtype)
    rows = np.arange(n_classes - 1)
    for i in range(n):
        spec[i, :, y[i]] = 1.0
        spec[i, rows, classes[i]] = -1.0
    return spec, classes


def verdicts(margins: np.ndarray, clean_margins: np.ndarray, X: np.ndarray, *,
             tol: float = 0.0) -> tuple[np.ndarray, tuple, tuple]:
    """Verdicts of an incomplete method from its lower bounds ``(n, C-1)``.

    ``clean_margins`` are the forward-pass margins at the centres: a point misclassified
    (some ``m_j(x) <= 0``) is falsified by ``x`` itself.
    """
    status, reason, cex = [], [], []
    for i in range(margins.shape[0]):
        if np.any(clean_margins[i] <= 0):
            status.append(FALSIFIED)
            reason.append("the centre x itself is not classified y (a margin <= 0)")
            cex.append(X[i].copy())
        elif not np.all(np.isfinite(margins[i])):
            status.append(UNKNOWN)
            reason.append("a bound is not finite (overflow or NaN); nothing is certified")
            cex.append(None)
        elif np.all(margins[i] > tol):
            status.append(VERIFIED)
            reason.append("every margin lower bound is positive")
            cex.append(None)
        else:
            status.append(UNKNOWN)
            reason.append(f"smallest margin lower bound {float(np.min(margins[i])):.3g} <= "
                          f"{tol:g}: the relaxation cannot decide")
            cex.append(None)
    return np.array(status), tuple(reason), tuple(cex)


class CertifyInputs(NamedTuple):
    """What :func:`check_certify_inputs` returns: the network, the input set and the labels."""

    net: Network
    region: Any
    y: np.ndarray


def check_certify_inputs(model, params, X, y, eps, *, norm, clip_min, clip_max,
                         allowed: tuple, method: str) -> CertifyInputs:
    """Validate the public arguments of a certifier once (names every bad argument)."""
    net = as_network(model, params)
    check_activation(net, allowed, method)
    X = model.check_X(X)                                         # the model's width and dtype
    region = input_set(X, eps, norm, clip_min=clip_min, clip_max=clip_max)
    return CertifyInputs(net, region, check_labels_for(net, region.X, y))


def check_bounds(bounds: Any, net: Network, n: int) -> list:
    """Validate user-given pre-activation bounds: a sequence of at least ``L - 1`` pairs
    ``(lower, upper)`` of shape ``(n, n_l)`` (non-finite values are allowed: they make the
    verdict "unknown", never "verified")."""
    if not isinstance(bounds, (list, tuple)) or len(bounds) < net.n_layers - 1:
        raise TypeError(f"bounds: expected a list of {net.n_layers - 1} (lower, upper) pairs, "
                        f"got {type(bounds).__name__}.")
    out = []
    for l, pair in enumerate(bounds[:net.n_layers - 1], 1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"bounds[{l - 1}]: expected a (lower, upper) pair.")
        shape = (n, net.weights[l - 1].shape[1])
        lo, up = (np.asarray(b, dtype=net.weights[0].dtype) for b in pair)
        if lo.shape != shape or up.shape != shape:
            raise ValueError(f"bounds[{l - 1}]: expected arrays of shape {shape}, got "
                             f"{lo.shape} and {up.shape}.")
        if np.any(lo > up):
            raise ValueError(f"bounds[{l - 1}]: lower > upper somewhere (an empty interval).")
        out.append((lo, up))
    return out
