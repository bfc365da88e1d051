"""Real handwritten digits that work offline: the UCI "Optical Recognition of Handwritten Digits"
test set, shipped with minadv as package data.

1 797 images of 8×8 grey levels in 0..16 (Alpaydin & Kaynak, 1998; CC BY 4.0, see
``minadv/data/DIGITS_LICENSE.md``). The loader checks the file's SHA-256 before it trusts a byte,
so a damaged installation fails loudly instead of training on garbage.

References
----------
Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten Digits. UCI Machine
Learning Repository. https://doi.org/10.24432/C50P49
"""

from __future__ import annotations

import gzip
import hashlib
import io
from importlib import resources
from typing import Any

import numpy as np

from ._validation import check_float_dtype

__all__ = ["load_digits", "DIGITS_SHA256", "DIGITS_CITATION"]

DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_CITATION = ("Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten "
                   "Digits. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 "
                   "(CC BY 4.0)")
_FILE = "digits.csv.gz"
_N, _SIDE, _LEVELS = 1797, 8, 16


def read_verified(data: bytes, sha256: str = DIGITS_SHA256) -> np.ndarray:
    """Parse the gzipped CSV ``data`` into an int array ``(1797, 65)`` after checking its hash.

    Raises
    ------
    OSError
        If the SHA-256 of ``data`` is not ``sha256`` (a damaged or replaced file), or the
        table does not have 1 797 rows of 64 pixels in 0..16 and a label in 0..9.
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise OSError(f"minadv/data/{_FILE}: SHA-256 {digest} does not match the expected "
                      f"{sha256}; the installation is damaged, reinstall minadv.")
    text = gzip.decompress(data).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    pixels, labels = table[:, :-1], table[:, -1]
    if (table.shape != (_N, _SIDE * _SIDE + 1) or pixels.min() < 0 or pixels.max() > _LEVELS
            or labels.min() < 0 or labels.max() > 9):
        raise OSError(f"minadv/data/{_FILE}: unexpected contents (shape {table.shape}).")
    return table


def load_digits(*, dtype: Any = np.float64, images: bool = False, scale: bool = True):
    """Load the 1 797 UCI handwritten digits (8×8, grey levels 0..16) from package data.

    Parameters
    ----------
    dtype : {float64, float32}, default float64
        Floating dtype of ``X``.
    images : bool, default False
        ``False`` gives ``X`` of shape ``(1797, 64)`` (pixels row by row); ``True`` gives
        ``(1797, 8, 8)`` images for plotting.
    scale : bool, default True
        ``True`` maps grey level ``g`` to ``g / 16`` so that ``X`` lies in ``[0, 1]`` (the box
        attacks clip to); ``False`` keeps the raw levels ``0..16`` as floats.

    Returns
    -------
    X : ndarray of shape (1797, 64) or (1797, 8, 8)
        ``X = g / 16`` with ``g`` the grey levels (exact in both dtypes: 16 is a power of two).
    y : ndarray of shape (1797,), int64
        The digit, 0..9 (about 180 of each).

    Raises
    ------
    TypeError
        If ``dtype`` is not float32/float64 or ``images``/``scale`` is not a bool.
    OSError
        If the shipped file is missing or its SHA-256 does not match :data:`DIGITS_SHA256`.

    Notes
    -----
    The data are the UCI test set by Alpaydin & Kaynak (CC BY 4.0; cite
    :data:`DIGITS_CITATION`). Nothing is downloaded: the file ships inside the package and is
    verified on every call (≈ 20 ms).

    Examples
    --------
    >>> from minadv.datasets import load_digits
    >>> X, y = load_digits()
    >>> X.shape, X.dtype.name, float(X.min()), float(X.max()), sorted(set(y.tolist()))[:3]
    ((1797, 64), 'float64', 0.0, 1.0, [0, 1, 2])
    """
    dt = check_float_dtype(dtype)
    for name, value in (("images", images), ("scale", scale)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: expected True or False, got {value!r}.")
    try:
        data = resources.files("minadv").joinpath("data", _FILE).read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise OSError(f"minadv/data/{_FILE} is missing from the installation ({exc}); "
                      "reinstall minadv.") from exc
    table = read_verified(data)
    X = table[:, :-1].astype(dt)
    if scale:
        X /= _LEVELS
    if images:
        X = X.reshape(-1, _SIDE, _SIDE)
    return X, table[:, -1].copy()
