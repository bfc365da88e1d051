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

Local files (offline use)
-------------------------
:func:`load_mnist` looks for each file in the data folder before downloading anything:

* the folder is ``data_home`` if given, else the environment variable ``MINADV_DATA``, else
  ``~/.cache/minadv`` (:func:`default_data_home`);
* a file may be there compressed, under its published name (``train-images-idx3-ubyte.gz``,
  checked against the published MD5), or uncompressed (``train-images-idx3-ubyte``, or
  ``train-images.idx3-ubyte`` as some archives name it); an uncompressed file has no published
  checksum, so only its IDX header and size are checked;
* with ``download=False`` nothing is fetched: a ``FileNotFoundError`` lists every missing file
  and the names it looked for.  A failed download (no network) raises an ``OSError`` that does
  the same.

So on a machine without network, copy the four files (compressed or not) into one folder and
either pass ``data_home=`` or set ``MINADV_DATA``.

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

from ._validation import check_float_dtype, check_int, check_scalar

__all__ = ["MNIST_URL", "MNIST_FILES", "load_mnist", "read_idx", "fetch_file", "default_data_home",
           "local_mnist_file"]

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


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an (optionally gzipped) IDX file of unsigned bytes into a uint8 array.

    Raises ``ValueError`` naming the file for a wrong magic number, an unsupported type, or a
    size that does not match the header (truncated file).
    """
    path = os.fspath(path)
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


def local_mnist_file(folder: str, name: str) -> str | None:
    """Path of ``name`` (a published ``.gz`` name) in ``folder``, compressed or uncompressed,
    or None.  Uncompressed names tried: ``train-images-idx3-ubyte`` and
    ``train-images.idx3-ubyte``."""
    for candidate in _local_names(name):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _local_names(name: str) -> tuple[str, ...]:
    raw = name[:-len(".gz")]
    return (name, raw, raw.replace("-idx", ".idx", 1))


def _mnist_paths(subset: str, home: str, *, download: bool, base_url: str, sums: dict,
                 timeout: float) -> list[str]:
    """Local or downloaded paths of the subset's two files; every missing file is named.

    Local compressed files are verified first (a corrupt file is reported before a missing
    one); uncompressed ones are used as they are (``read_idx`` checks their header)."""
    names = _SUBSETS[subset]
    for name in names:
        if name not in sums:
            raise ValueError(f"checksums: no MD5 for {name!r}; give all four files or None.")
    found = {name: local_mnist_file(home, name) for name in names}
    for name, path in found.items():
        if path is not None and path.endswith(".gz"):
            fetch_file("", path, sums[name], timeout=timeout)      # checksum only, no download
    missing = [name for name in names if found[name] is None]
    looked = "; ".join(" or ".join(_local_names(n)) for n in missing)
    where = (f"in {home} (data_home, else $MINADV_DATA, else ~/.cache/minadv), looked for: "
             f"{looked}")
    if missing and not download:
        raise FileNotFoundError(f"MNIST {subset}: {len(missing)} file(s) missing {where}; "
                                "download=False, so nothing was fetched. Copy the files there "
                                "(compressed or not) or pass download=True.")
    for name in missing:
        try:
            found[name] = fetch_file(base_url.rstrip("/") + "/" + name,
                                     os.path.join(home, name), sums[name], timeout=timeout)
        except OSError as exc:
            raise OSError(f"MNIST {subset}: {len(missing)} file(s) missing {where}, and the "
                          f"download failed ({exc}). Copy the files there or retry online.") \
                from exc
    return [found[name] for name in names]


def _check_mnist_args(subset, digits, n_samples, dtype, data_home, base_url, download,
                      checksums, timeout):
    if subset not in _SUBSETS:
        raise ValueError(f"subset: expected 'train' or 'test', got {subset!r}.")
    dtype = check_float_dtype(dtype)
    if digits is not None:
        if isinstance(digits, (str, bytes)) or not hasattr(digits, "__iter__"):
            raise TypeError(f"digits: expected a sequence of digits such as (3, 7), got "
                            f"{type(digits).__name__} {digits!r}.")
        digits = [check_int(d, "digits", low=0, high=9) for d in digits]
        if len(set(digits)) != len(digits) or not digits:
            raise ValueError(f"digits: expected distinct digits, got {digits}.")
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1)
    for value, name in ((data_home, "data_home"), (base_url, "base_url")):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name}: expected a str, got {type(value).__name__} {value!r}.")
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(f"download: expected True or False, got {type(download).__name__}.")
    if checksums is not None and not isinstance(checksums, dict):
        raise TypeError(f"checksums: expected a dict {{file name: md5}}, got "
                        f"{type(checksums).__name__}.")
    check_scalar(timeout, "timeout", low=0.0, low_inclusive=False)
    return dtype, digits, n_samples


def load_mnist(subset: str = "train", *, digits: Sequence[int] | None = None,
               n_samples: int | None = None, dtype: Any = np.float32,
               data_home: str | None = None, base_url: str = MNIST_URL,
               download: bool = True, checksums: dict | None = None,
               timeout: float = 30.0):
    """MNIST as ``X`` of shape ``(n, 784)`` with pixels in ``[0, 1]`` and integer labels ``y``.

    Files are looked for in the data folder first (compressed or uncompressed IDX, see the
    module docstring) and downloaded only when missing.

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
        Data folder; default ``$MINADV_DATA`` if set, else ``~/.cache/minadv``
        (:func:`default_data_home`).  Files there are used as they are (compressed ones are
        checked against ``checksums``).
    base_url : str
        Where the four ``.gz`` files live.
    download : bool
        ``False`` never touches the network: a ``FileNotFoundError`` then names every
        missing file.
    checksums : dict or None
        ``{file name: md5}``; the published checksums by default.
    timeout : float > 0
        Seconds per download.

    Returns
    -------
    X : ndarray of shape (n, 784), ``dtype``
    y : ndarray of shape (n,), int64

    Raises
    ------
    FileNotFoundError
        ``download=False`` and files are missing (all are named).
    OSError
        A download failed (the missing files and the folder are named).
    ValueError
        A corrupt file (checksum or IDX header), or bad arguments.
    """
    dtype, digits, n_samples = _check_mnist_args(subset, digits, n_samples, dtype, data_home,
                                                 base_url, download, checksums, timeout)
    home = os.fspath(data_home) if data_home is not None else default_data_home()
    paths = _mnist_paths(subset, home, download=download, base_url=base_url,
                         sums=MNIST_FILES if checksums is None else checksums, timeout=timeout)
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
