"""Instructor solutions: plain NumPy answers to the graded exercises (not installed with the
package; keep this file away from the students' copy of the stubs).

Written the way a student would (no minadv imports), so that the tests show an independent
implementation passes each checker.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interval_affine_relu", "big_m_relu"]


# ----------------------------------------------------------------------------- certification
def interval_affine_relu(lower, upper, W, b):
    W_pos, W_neg = np.maximum(W, 0), np.minimum(W, 0)    # the two halves of W
    low = lower @ W_pos + upper @ W_neg + b              # (n, d_out): smallest value
    high = upper @ W_pos + lower @ W_neg + b             # largest value
    return np.maximum(low, 0), np.maximum(high, 0)


def big_m_relu(lower, upper):
    n = lower.shape[0]
    zero, one = np.zeros(n, lower.dtype), np.ones(n, lower.dtype)
    rows = [
        (zero, -one, zero, zero),                        # -h <= 0
        (one, -one, zero, zero),                         # a - h <= 0
        (zero, one, -upper, zero),                       # h - u z <= 0
        (-one, one, -lower, -lower),                     # h - a - l z <= -l
    ]
    A = np.stack([np.stack(r[:3], axis=1) for r in rows], axis=1)   # (n, 4, 3)
    c = np.stack([r[3] for r in rows], axis=1)                       # (n, 4)
    return A, c
