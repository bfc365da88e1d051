"""Save and load a model and its parameters as one ``.npz`` file.

Layout: one array per parameter (``param:<name>``) plus ``__minadv__``, a 0-d unicode array
holding a JSON header ``{"format": "minadv-model", "format_version", "minadv_version",
"config": model.config(), "dtype", "param_names", "metadata"}``.  No pickles are written and
:func:`load_model` reads with ``allow_pickle=False``.

Writes are atomic: the file is written to a temporary file in the destination directory,
flushed to disk and moved over the destination with :func:`os.replace`, so a crash or an error
never leaves a half-written file and never damages an existing good file.
"""

from __future__ import annotations

import json
import os
import reprlib
import tempfile
import zipfile
from typing import Any, NamedTuple

import numpy as np

from ._validation import NotFittedError
from ._version import __version__
from .models import model_from_config
from .params import Params

__all__ = ["save_model", "load_model", "LoadedModel", "check_path"]

_FORMAT = "minadv-model"
_FORMAT_VERSION = 1
_HEADER = "__minadv__"
_PREFIX = "param:"


class LoadedModel(NamedTuple):
    """What :func:`load_model` returns."""

    model: Any
    params: Params
    metadata: dict | None
    minadv_version: str


def _header(model, params: Params, metadata: Any) -> str:
    header = {"format": _FORMAT, "format_version": _FORMAT_VERSION,
              "minadv_version": __version__, "config": model.config(),
              "dtype": model.dtype.name, "param_names": list(params), "metadata": metadata}
    try:
        return json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata: must be JSON-serialisable (dicts, lists, str, finite "
                        f"numbers, bool, None), got {reprlib.repr(metadata)}: {exc}") from exc


def check_path(path: Any, name: str = "path") -> str:
    """``os.fspath(path)`` as ``str``; TypeError naming ``name`` for anything else."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a file name (str or os.PathLike), got "
                        f"{type(path).__name__} {path!r}.")
    path = os.fspath(path)
    if not path or path.endswith(("/", os.sep)):
        raise ValueError(f"{name}: expected a file name, got {path!r} (a folder or empty).")
    return path


def _unpack(model: Any, params: Any, metadata: Any):
    """``(model, params, metadata)`` from a model and its parameters or a fitted estimator."""
    if hasattr(model, "get_params") and hasattr(model, "fit"):        # an estimator
        if not hasattr(model, "params_"):
            raise NotFittedError(f"model: this {type(model).__name__} is not fitted yet; call "
                                 "fit(X, y) before saving it.")
        if params is not None:
            raise ValueError(f"params: a fitted {type(model).__name__} carries its own "
                             "parameters; pass params=None (or its model_ and params_).")
        if metadata is None:
            metadata = {"estimator": type(model).__name__, "classes": model.classes_.tolist()}
        return model.model_, model.params_, metadata
    if not hasattr(model, "check_params") or not hasattr(model, "config"):
        raise TypeError("model: expected a minadv model (MLP, LogisticRegressionModel) or a "
                        f"fitted estimator, got {type(model).__name__}.")
    if params is None:
        raise TypeError("params: required with a model (only a fitted estimator carries its "
                        "own); pass the dict of parameters, e.g. from model.init_params().")
    return model, params, metadata


def save_model(path: str | os.PathLike, model, params: Params | None = None, *,
               metadata: dict | None = None) -> str:
    """Write ``model`` (its ``config()``) and ``params`` to ``path`` atomically.

    Parameters
    ----------
    path : str or PathLike
        Destination; ``.npz`` is appended when missing.
    model : Model or fitted estimator
        Any model with ``config()`` (rebuilt by :func:`minadv.models.model_from_config`), or a
        fitted :class:`~minadv.MLPClassifier`/:class:`~minadv.LogisticRegression` (its
        ``model_`` and ``params_`` are saved).
    params : dict or None
        Validated against the model (names, shapes, dtype, finite values).  ``None`` (only)
        with a fitted estimator.
    metadata : dict, optional
        JSON-serialisable extras (training settings, class labels...).  For an estimator the
        default is ``{"estimator": <class name>, "classes": classes_.tolist()}``, since
        ``params_`` speak the encoded labels ``0..C-1``.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError, ValueError
        Invalid parameters or non-JSON metadata; the destination is left untouched.
    NotFittedError
        An estimator that was never fitted.
    """
    path = check_path(path)
    model, params, metadata = _unpack(model, params, metadata)
    params = model.check_params(params)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {_HEADER: np.array(_header(model, params, metadata))}
    arrays.update({_PREFIX + k: np.asarray(v) for k, v in params.items()})  # 0-d kept 0-d
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"path: the folder {directory} of {path} does not exist.")
    _write_atomic(path, directory, arrays)
    return path


def _write_atomic(path: str, directory: str, arrays: dict) -> None:
    """``np.savez`` to a temporary file in ``directory``, fsync, ``os.replace`` over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=".minadv-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read(path: str) -> tuple[dict, dict]:
    """Header and raw arrays of a minadv file; ``ValueError`` for anything else."""
    try:
        with open(path, "rb") as fh:                      # we own (and always close) the handle
            data = np.load(fh, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError(f"a bare {type(data).__name__}, not an .npz archive")
            if _HEADER not in data.files:
                raise ValueError("no minadv header")
            header = json.loads(str(data[_HEADER][()]))
            arrays = {k[len(_PREFIX):]: data[k] for k in data.files if k.startswith(_PREFIX)}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile,
            json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a readable minadv model file (truncated, corrupt or "
                         f"written by another program): {exc}") from exc
    fmt = header.get("format") if isinstance(header, dict) else None
    if fmt != _FORMAT:
        raise ValueError(f"{path}: not a minadv model file (format {fmt!r}).")
    return header, arrays


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read a file written by :func:`save_model`.

    ``path`` may omit the ``.npz`` that :func:`save_model` appends.

    Returns
    -------
    LoadedModel
        ``(model, params, metadata, minadv_version)``; parameters are bitwise identical to
        the saved ones, in the saved order and dtype.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Truncated, corrupt or foreign file, a newer format version, or parameters that do
        not match the stored architecture.
    """
    path = check_path(path)
    if not os.path.exists(path) and not path.endswith(".npz") and os.path.exists(path + ".npz"):
        path += ".npz"                                   # save_model appended it
    header, arrays = _read(path)
    version, names = header.get("format_version", 0), header.get("param_names")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{path}: corrupt minadv header: format_version must be an integer, "
                         f"got {version!r}.")
    if not isinstance(names, list) or not all(isinstance(k, str) for k in names):
        raise ValueError(f"{path}: corrupt minadv header: param_names must be a list of "
                         f"strings, got {names!r}.")
    if version > _FORMAT_VERSION:
        raise ValueError(f"{path}: format version {header['format_version']} is newer than "
                         f"this minadv supports ({_FORMAT_VERSION}); upgrade minadv.")
    try:
        model = model_from_config(header["config"])
        params = {k: arrays[k] for k in header["param_names"]}
        params = model.check_params(params)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent minadv model file: {exc}") from exc
    return LoadedModel(model, params, header.get("metadata"), header.get("minadv_version", "?"))
