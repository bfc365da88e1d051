"""MNIST: download once (checksummed, atomic), cache, parse the IDX files with NumPy.

The tutorials and reproductions run on built-in synthetic data; this module is for users who
want the papers' own dataset.  Nothing here runs at import time or in the default test suite
against the network (the tests serve fake IDX files from ``127.0.0.1``).

Safety rules
------------
* A file is downloaded to a temporary file in the cache folder, its MD5 checked against the
  published checksum, and only then renamed over the final name (``os.replace`` is atomic):
  an interrupted or corrupt download never replaces a good cached file.
* A cached file is re-verified before use; a corrupt or truncated file raises ``ValueError``
  naming the file and the fix (delete it) — it is never deleted silently.

IDX format (LeCun et al.): big-endian magic ``0x0000 TT DD`` (``TT = 0x08`` for unsigned
bytes, ``DD`` = number of dimensions), ``DD`` big-endian uint32 sizes, then the data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import check_float_dtype, check_int

__all__ = ["MNIST_URL", "MNIST_FILES", "load_mnist", "read_idx", "fetch_file", "default_data_home"]

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
#: file name -> published MD5 (the checksums torchvision and others verify)
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_SUBSETS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def default_data_home() -> str:
    """``$MINADV_DATA`` if set, else ``~/.cache/minadv``."""
    return os.environ.get("MINADV_DATA") or os.path.join(os.path.expanduser("~"), ".cache",
                                                         "minadv")


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(url: str, path: str, md5: str, *, timeout: float = 30.0) -> str:
    """Download ``url`` to ``path`` unless a file with checksum ``md5`` is already there.

    The download goes to a temporary file beside ``path``; it is renamed over ``path`` only
    after its MD5 matches.  Returns ``path``.

    Raises
    ------
    ValueError
        The cached file or the downloaded file does not match ``md5``.
    OSError
        The server could not be reached or answered with an error (the message says which URL).
    """
    if os.path.exists(path):
        if _md5(path) == md5:
            return path
        raise ValueError(
            f"{path}: checksum mismatch (corrupt or truncated cached file). Delete it to "
            "download it again; minadv never deletes your files itself.")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                out.write(block)
        got = _md5(tmp)
        if got != md5:
            raise ValueError(f"{url}: downloaded file has MD5 {got}, expected {md5} "
                             "(corrupt or truncated download); nothing was written.")
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError) as exc:
        raise OSError(f"could not download {url}: {exc}. Check the network, or place the file "
                      f"at {path} yourself.") from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def read_idx(path: str) -> np.ndarray:
    """Parse an (optionally gzipped) IDX file of unsigned bytes into a uint8 array.

    Raises ``ValueError`` naming the file for a wrong magic number, an unsupported type, or a
    size that does not match the header (truncated file).
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable (gzipped) IDX file: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: bad IDX magic number; not an IDX file.")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX data type 0x{raw[2]:02x} unsupported (need 0x08, uint8).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header.")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX header announces shape {shape} ({expected} bytes) but the "
                         f"file holds {len(raw) - header} data bytes (truncated or corrupt).")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(subset: str = "train", *, digits: Sequence[int] | None = None,
               n_samples: int | None = None, dtype: Any = np.float32,
               data_home: str | None = None, base_url: str = MNIST_URL,
               download: bool = True, checksums: dict | None = None,
               timeout: float = 30.0):
    """MNIST as ``X`` of shape ``(n, 784)`` with pixels in ``[0, 1]`` and integer labels ``y``.

    Parameters
    ----------
    subset : {"train", "test"}
        60 000 training or 10 000 test images.
    digits : sequence of int or None
        Keep only these digits and relabel them ``0..k-1`` in the given order: ``digits=(3,
        7)`` gives Goodfellow et al.'s binary 3-vs-7 problem with labels 0 (a 3) and 1 (a 7).
    n_samples : int or None
        Keep the first ``n_samples`` (after filtering), for quick experiments.
    dtype : {float32, float64}
    data_home : str or None
        Cache folder (:func:`default_data_home` by default).
    base_url : str
        Where the four ``.gz`` files live.
    download : bool
        ``False`` raises ``FileNotFoundError`` instead of downloading a missing file.
    checksums : dict or None
        ``{file name: md5}``; the published checksums by default.

    Returns
    -------
    X : ndarray of shape (n, 784), ``dtype``
    y : ndarray of shape (n,), int64
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset: expected 'train' or 'test', got {subset!r}.")
    dtype = check_float_dtype(dtype)
    if digits is not None:
        digits = [check_int(d, "digits", low=0, high=9) for d in digits]
        if len(set(digits)) != len(digits) or not digits:
            raise ValueError(f"digits: expected distinct digits, got {digits}.")
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1)
    home = data_home or default_data_home()
    sums = MNIST_FILES if checksums is None else checksums
    paths = []
    for name in _SUBSETS[subset]:
        path = os.path.join(home, name)
        if not os.path.exists(path) and not download:
            raise FileNotFoundError(f"{path} is missing and download=False.")
        paths.append(fetch_file(base_url.rstrip("/") + "/" + name, path, sums[name],
                                timeout=timeout))
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{paths[0]}, {paths[1]}: images {images.shape} and labels "
                         f"{labels.shape} do not pair up.")
    y = labels.astype(np.int64)
    keep = np.arange(y.shape[0])
    if digits is not None:
        keep = np.flatnonzero(np.isin(y, digits))
        relabel = np.full(10, -1)
        relabel[digits] = np.arange(len(digits))          # digits[k] -> k
        y = relabel[y[keep]]
    if n_samples is not None:
        keep = keep[:n_samples]
        y = y[:keep.shape[0]]
    X = images[keep].reshape(keep.shape[0], -1).astype(dtype)
    X /= 255
    return X, y.astype(np.int64)
