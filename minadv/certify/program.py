"""The linear program (triangle relaxation) and the mixed-integer program (big-M) of a ReLU
network over an L∞ ball ∩ box, built once per point and shared by :mod:`~minadv.certify.lp`
and :mod:`~minadv.certify.milp`.

Variables ``v = (x', a_1, h_1, …, a_{L-1}, h_{L-1}[, z])`` with (``docs/theory.md`` §17.4)::

    ℓ <= x' <= υ                                   (the input set: L∞ ball ∩ box)
    a_l = h_{l-1} W_l + b_l,   l_l <= a_l <= u_l   (h_0 = x'; the pre-activation bounds)

and for each hidden unit, by its bounds ``[l, u]``:

=================  =========================================  ===============================
unit               triangle relaxation (LP)                   big-M (MILP), ``z ∈ {0, 1}``
=================  =========================================  ===============================
``u <= 0``         ``h = 0``                                  same
``l >= 0``         ``h = a``                                  same
``l < 0 < u``      ``h >= 0, h >= a, h <= u (a - l)/(u - l)``  ``h >= 0, h >= a, h <= u z,
                                                              h <= a - l (1 - z)``  (17.4)
identity           ``h = a``                                  same
=================  =========================================  ===============================

With ``z = 1`` the big-M rows force ``h = a`` (and ``a >= 0``), with ``z = 0`` they force
``h = 0`` (and ``a <= 0``): the MILP is exact.  Its LP relaxation (``0 <= z <= 1``) projects
onto the triangle, so the tighter the bounds ``[l, u]``, the tighter both programs (and the
fewer binaries: stable units need none).  The objective is the margin folded into the last
layer, ``(W_L c)ᵀ h_{L-1} + c ᵀb_L``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .network import Network

__all__ = ["Program", "network_program", "SOLVER_TOL"]

#: a margin within this distance of 0 is left to neither side by an LP/MILP verdict (HiGHS
#: solves to feasibility and optimality tolerances of 1e-7)
SOLVER_TOL = 1e-6


class Program(NamedTuple):
    """``min cᵀv`` s.t. ``row_lo <= A v <= row_hi``, ``var_lo <= v <= var_hi``.

    Attributes
    ----------
    A : ndarray (rows, n_vars)
    row_lo, row_hi : ndarray (rows,)
    var_lo, var_hi : ndarray (n_vars,)
    integrality : ndarray (n_vars,)
        1 for the binaries ``z`` (MILP), 0 otherwise.
    last : slice
        Where ``h_{L-1}`` sits in ``v`` (the objective's support).
    n_binary : int
    """

    A: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    var_lo: np.ndarray
    var_hi: np.ndarray
    integrality: np.ndarray
    last: slice
    n_binary: int

    def objective(self, w_last: np.ndarray) -> np.ndarray:
        """The cost vector with ``w_last`` on ``h_{L-1}`` and zero elsewhere."""
        c = np.zeros(self.A.shape[1])
        c[self.last] = w_last
        return c


class _Rows:
    """Rows ``low <= a·v <= high`` collected one at a time (entries: ``(index or slice, value)``)."""

    def __init__(self, n_vars: int):
        self.n_vars, self.A, self.low, self.high = n_vars, [], [], []

    def add(self, entries, low: float, high: float) -> None:
        r = np.zeros(self.n_vars)
        for idx, val in entries:
            r[idx] += val
        self.A.append(r), self.low.append(low), self.high.append(high)


def _layout(net: Network, lower0, upper0, bounds):
    """Offsets of ``a_l`` in ``v``, the layer sizes and the variable bounds of ``x', a, h``."""
    relu = net.activation == "relu"
    sizes = [lower0.size] + [lo.size for lo, _ in bounds]
    offset, var_lo, var_hi, start = [0], [lower0], [upper0], lower0.size   # x' is v[:d]
    for lo, up in bounds:
        var_lo += [lo, np.maximum(lo, 0) if relu else lo]        # a_l, h_l
        var_hi += [up, np.maximum(up, 0) if relu else up]
        offset.append(start)
        start += 2 * lo.size
    return sizes, offset, var_lo, var_hi, start


def _unit_rows(rows: _Rows, a: int, h: int, z: int | None, lo: float, up: float,
               relu: bool) -> None:
    """Table (17.4) for one unit; ``z`` the index of its binary (MILP) or None (LP)."""
    if not relu or lo >= 0:
        rows.add([(h, 1.0), (a, -1.0)], 0.0, 0.0)                # h = a
    elif up <= 0:
        return                                                   # h ∈ [0, 0] by its bounds
    else:
        rows.add([(a, 1.0), (h, -1.0)], -np.inf, 0.0)            # h >= a
        if z is not None:
            rows.add([(h, 1.0), (z, -up)], -np.inf, 0.0)         # h <= u z
            rows.add([(h, 1.0), (a, -1.0), (z, -lo)], -np.inf, -lo)   # h <= a - l (1 - z)
        else:
            s = up / (up - lo)
            rows.add([(h, 1.0), (a, -s)], -np.inf, -s * lo)      # h <= s (a - l)


def network_program(net: Network, lower0: np.ndarray, upper0: np.ndarray, bounds: list, *,
                    integer: bool) -> Program:
    """Constraints of table (17.4) for one point (``lower0``/``upper0`` ``(d,)``, ``bounds`` a
    list of ``L - 1`` pairs of ``(n_l,)`` arrays, all finite); ``integer`` picks big-M."""
    relu = net.activation == "relu"
    sizes, offset, var_lo, var_hi, n_cont = _layout(net, lower0, upper0, bounds)
    unstable = [(l, k) for l, (lo, up) in enumerate(bounds, 1) for k in range(lo.size)
                if relu and lo[k] < 0 < up[k]] if integer else []
    binary = {unit: n_cont + j for j, unit in enumerate(unstable)}     # (l, k) -> index of z
    rows = _Rows(n_cont + len(unstable))
    for l, (lo, up) in enumerate(bounds, 1):
        W, b = net.weights[l - 1], net.biases[l - 1]
        prev = 0 if l == 1 else offset[l - 1] + sizes[l - 1]     # h_{l-1} (x' for l = 1)
        a0, h0 = offset[l], offset[l] + sizes[l]
        for k in range(sizes[l]):                                # a_k - Σ_i h_i W_ik = b_k
            rows.add([(a0 + k, 1.0), (slice(prev, prev + sizes[l - 1]), -W[:, k])], b[k], b[k])
            _unit_rows(rows, a0 + k, h0 + k, binary.get((l, k)), lo[k], up[k], relu)
    n_bin = len(unstable)
    integrality = np.concatenate([np.zeros(n_cont), np.ones(n_bin)])
    L = len(bounds)
    return Program(np.array(rows.A).reshape(-1, rows.n_vars), np.array(rows.low),
                   np.array(rows.high), np.concatenate(var_lo + [np.zeros(n_bin)]),
                   np.concatenate(var_hi + [np.ones(n_bin)]), integrality,
                   slice(offset[L] + sizes[L], offset[L] + 2 * sizes[L]), n_bin)
