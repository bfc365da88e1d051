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


def network_program(net: Network, lower0: np.ndarray, upper0: np.ndarray, bounds: list, *,
                    integer: bool) -> Program:
    """Constraints of table (17.4) for one point (``lower0``/``upper0`` ``(d,)``, ``bounds`` a
    list of ``L - 1`` pairs of ``(n_l,)`` arrays, all finite); ``integer`` picks big-M."""
    sizes = [lower0.size] + [W.shape[1] for W in net.weights[:-1]]
    offset, var_lo, var_hi = [0], [lower0], [upper0]             # a_l at offset[l]
    start = lower0.size                                          # x' occupies [0, d)
    for l, (lo, up) in enumerate(bounds, 1):
        relu = net.activation == "relu"
        var_lo += [lo, np.maximum(lo, 0) if relu else lo]        # a_l, h_l
        var_hi += [up, np.maximum(up, 0) if relu else up]
        offset.append(start)
        start += 2 * sizes[l]
    n_cont = start
    unstable = [(l, k) for l, (lo, up) in enumerate(bounds, 1) for k in range(lo.size)
                if net.activation == "relu" and lo[k] < 0 < up[k]]
    n_bin = len(unstable) if integer else 0
    n_vars = n_cont + n_bin
    A_rows, lo_rows, hi_rows = [], [], []

    def row(entries, low, high):
        r = np.zeros(n_vars)
        for idx, val in entries:
            r[idx] += val
        A_rows.append(r), lo_rows.append(low), hi_rows.append(high)

    for l in range(1, len(bounds) + 1):
        W, b = net.weights[l - 1], net.biases[l - 1]
        prev = 0 if l == 1 else offset[l - 1] + sizes[l - 1]     # h_{l-1} (x' for l = 1)
        a0, h0 = offset[l], offset[l] + sizes[l]
        for k in range(sizes[l]):                                # a_k - Σ_i h_i W_ik = b_k
            row([(a0 + k, 1.0), (slice(prev, prev + sizes[l - 1]), -W[:, k])], b[k], b[k])
        lo, up = bounds[l - 1]
        for k in range(sizes[l]):
            a, h = a0 + k, h0 + k
            if net.activation != "relu" or lo[k] >= 0:
                row([(h, 1.0), (a, -1.0)], 0.0, 0.0)             # h = a
            elif up[k] <= 0:
                continue                                         # h ∈ [0, 0] by its bounds
            else:
                row([(a, 1.0), (h, -1.0)], -np.inf, 0.0)         # h >= a
                if integer:
                    z = n_cont + unstable.index((l, k))
                    row([(h, 1.0), (z, -up[k])], -np.inf, 0.0)   # h <= u z
                    row([(h, 1.0), (a, -1.0), (z, -lo[k])], -np.inf, -lo[k])  # h <= a - l(1-z)
                else:
                    s = up[k] / (up[k] - lo[k])
                    row([(h, 1.0), (a, -s)], -np.inf, -s * lo[k])   # h <= s (a - l)
    integrality = np.zeros(n_vars)
    integrality[n_cont:] = 1
    var_lo = np.concatenate(var_lo + [np.zeros(n_bin)])
    var_hi = np.concatenate(var_hi + [np.ones(n_bin)])
    L = len(bounds)
    last = slice(offset[L] + sizes[L], offset[L] + 2 * sizes[L])
    return Program(np.array(A_rows).reshape(-1, n_vars), np.array(lo_rows), np.array(hi_rows),
                   var_lo, var_hi, integrality, last, n_bin)
