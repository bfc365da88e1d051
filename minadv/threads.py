"""How many BLAS threads minadv's calls use, and the one control to change it.

minadv issues many small and medium matrix products (a 128-row minibatch through a 784-256-256
MLP, a power iteration's HVPs).  With NumPy's default OpenBLAS threading, each product is split
over every core and the worker threads then spin, waiting for the next one.  On a machine whose
cores are shared (a JupyterHub server, a CI runner, a laptop with a busy browser) a worker that
spins on a core that another process holds delays every following product: measured on a
2-core machine with one other busy process, PGD-10 (workload W2 of ``docs/benchmarks.md``) ran
3.0x its quiet time at 2 threads and 1.04x at 1 thread, while on the quiet machine 2 threads
were 1.24-1.64x faster than 1 (W1, W2, W3, W6).  No fixed thread count is right on both, so the
default policy looks at the machine when a call starts (``docs/benchmarks.md``, "Threads").

The policy (``"auto"``, the default)
    At the start of a top-level minadv call (:func:`minadv.training.fit`, the public attacks,
    :func:`~minadv.attacks.robustness_curve`, the Hessian operators and spectra,
    ``minadv reproduce``, ``minadv grade``) count the **other** runnable threads on the machine
    (Linux ``/proc/loadavg`` minus this process's own running threads; a count above zero is
    read twice more, 1 ms apart, and the smallest kept, so that a thread runnable for an
    instant does not count as a busy process).  The call uses
    ``min(current BLAS threads, usable cores - others)`` BLAS threads, at least one: all of them
    on a quiet machine (no change from NumPy's default), one when another process holds the
    other core of a 2-core machine.  The sample is reused for 0.5 s, so a loop of small calls
    pays it once.  Products below OpenBLAS's own size threshold (e.g. the 16 x 100 x 100 of
    W5) already run on one thread whatever the setting: the policy adds nothing for them.
    Where ``/proc/loadavg`` does not exist, ``"auto"`` leaves the BLAS setting as it is.

One control
    :func:`set_num_threads` (``n`` >= 1 or ``"auto"``), the context manager :func:`limit`, the
    environment variable ``MINADV_NUM_THREADS`` (read when no :func:`set_num_threads` is in
    force) and the CLI's ``minadv --threads N``.  A number is used as is inside minadv's calls.

Scope
    The thread count is changed only for the duration of a top-level minadv call and restored
    on exit (also on an exception); a setting the user made outside minadv's calls (with
    threadpoolctl or ``OPENBLAS_NUM_THREADS``) is never changed.  Calls nested inside a
    top-level call do not re-enter the controller.  The control is made for calls from one
    Python thread (concurrent calls from several threads are not coordinated: OpenBLAS's
    thread count may be per calling thread).  The control needs ``threadpoolctl``
    (installed by the ``tutorials`` and ``test`` extras); without it, minadv's calls run with
    the BLAS setting as it is, and only the CLI's ``--threads N`` acts (by setting the BLAS
    environment variables and restarting itself before NumPy loads).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["set_num_threads", "get_num_threads", "limit", "auto_threads", "thread_policy",
           "ENV_VAR"]

ENV_VAR = "MINADV_NUM_THREADS"
_RESAMPLE_SECONDS = 0.5          # how long one sample of the machine's load is reused
_CONFIRM_READINGS = 2            # re-readings of a count above zero (_sample_others)
_CONFIRM_SECONDS = 1e-3          # their spacing
F = TypeVar("F", bound=Callable[..., Any])


def _check_setting(value: Any, name: str) -> int | str:
    """A thread setting: a positive int or ``"auto"`` (``name`` goes in the message)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np
            is_np_int = isinstance(value, np.integer)
        except ImportError:                                  # pragma: no cover
            is_np_int = False
        if not is_np_int:
            raise TypeError(f"{name}: expected a positive integer or 'auto', got "
                            f"{type(value).__name__} {value!r}.")
    if value < 1:
        raise ValueError(f"{name}: expected a positive integer or 'auto', got {value}.")
    return int(value)


def _env_setting() -> int | str:
    text = os.environ.get(ENV_VAR)
    if text is None or text.strip() == "":
        return "auto"
    text = text.strip()
    if text.lower() == "auto":
        return "auto"
    try:
        value = int(text, 10)
    except ValueError:
        raise ValueError(f"{ENV_VAR}: expected a positive integer or 'auto', got {text!r}; "
                         f"fix or unset the environment variable.") from None
    if value < 1:
        raise ValueError(f"{ENV_VAR}: expected a positive integer or 'auto', got {value}; "
                         f"fix or unset the environment variable.")
    return value


class _State:
    """The process-wide state: the user's setting, the call depth and the BLAS controller."""

    def __init__(self) -> None:
        self.setting: int | str | None = None        # None: MINADV_NUM_THREADS, else "auto"
        self.depth = 0
        self.lock = threading.Lock()
        self.saved: list = []                        # (lib controller, threads) to restore
        self.controller = None
        self.controller_key: int | None = None
        self.sample: tuple[float, int] | None = None  # (time, other runnable threads)


_STATE = _State()


def set_num_threads(n: int | str | None) -> int | str | None:
    """Set the BLAS thread count of minadv's calls; returns the previous setting.

    Parameters
    ----------
    n : int >= 1, "auto" or None
        A number is used as is inside every top-level minadv call; ``"auto"`` is the policy of
        the module docstring; ``None`` returns to the default (``MINADV_NUM_THREADS`` when set,
        else ``"auto"``).

    Raises
    ------
    TypeError, ValueError
        ``n`` neither a positive integer nor ``"auto"``/``None`` (the message names ``n``).

    Examples
    --------
    >>> import minadv
    >>> old = minadv.set_num_threads(1)
    >>> minadv.get_num_threads()
    1
    >>> _ = minadv.set_num_threads(old)
    """
    new = None if n is None else _check_setting(n, "n")
    with _STATE.lock:
        old, _STATE.setting = _STATE.setting, new
    return old


def get_num_threads() -> int | str:
    """The setting in force: a number, or ``"auto"`` (from :func:`set_num_threads`, else
    ``MINADV_NUM_THREADS``, else ``"auto"``)."""
    return _STATE.setting if _STATE.setting is not None else _env_setting()


@contextlib.contextmanager
def limit(n: int | str) -> Iterator[None]:
    """Context manager: minadv's calls inside the block use ``n`` BLAS threads (or ``"auto"``).

    The previous setting comes back on exit.  Like :func:`set_num_threads`, it only concerns
    minadv's own calls; BLAS products you run yourself inside the block are not affected.

    Examples
    --------
    >>> import minadv
    >>> with minadv.threads.limit(1):
    ...     minadv.get_num_threads()
    1
    """
    new = _check_setting(n, "n")
    with _STATE.lock:
        old, _STATE.setting = _STATE.setting, new
    try:
        yield
    finally:
        with _STATE.lock:
            _STATE.setting = old


# -------------------------------------------------------------------------------- machine
def _other_runnable() -> int | None:
    """Runnable threads on the machine that are not this process's, or None if unknown.

    ``/proc/loadavg``'s fourth field is ``running/total`` scheduling entities; this process's
    own running threads (its main thread, OpenBLAS workers still spinning from an earlier
    product) are counted from ``/proc/self/task/*/stat`` and subtracted."""
    try:
        with open("/proc/loadavg", "rb") as fh:
            running = int(fh.read().split()[3].split(b"/")[0])
        own = 0
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat", "rb") as fh:
                stat = fh.read()
            close = stat.rindex(b")")
            own += stat[close + 2:close + 3] == b"R"
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - max(own, 1))


def _sample_others() -> int | None:
    """:func:`_other_runnable`, confirmed: a count above zero is read again
    ``_CONFIRM_READINGS`` times, ``_CONFIRM_SECONDS`` apart, and the smallest count is kept.

    A busy process is runnable at every reading; a thread that is runnable for an instant (a
    kernel worker, a shell, one of this process's BLAS workers going to sleep between the two
    files read) is not, and alone it would take a core away from a whole call.  Measured on an
    idle 2-core machine right after a two-thread product, one reading saw another runnable
    thread in 21 of 400 samples, the confirmed reading in 0 of 400; with one busy process both
    saw it in every sample (``docs/benchmarks.md``, "Threads").  The re-readings cost nothing
    when the first count is zero and about 2 ms (two short sleeps) when it is not, at most once
    per ``_RESAMPLE_SECONDS``."""
    others = _other_runnable()
    for _ in range(_CONFIRM_READINGS):
        if not others:
            break
        time.sleep(_CONFIRM_SECONDS)
        again = _other_runnable()
        if again is None:
            break
        others = min(others, again)
    return others


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                                   # not Linux
        return os.cpu_count() or 1


def auto_threads(current: int, *, others: int | None = -1, cores: int | None = None) -> int:
    """The ``"auto"`` policy: BLAS threads for a call that starts now.

    ``min(current, cores - others)``, at least 1, where ``current`` is the BLAS setting,
    ``cores`` the cores this process may use and ``others`` the runnable threads of other
    processes (both read from the machine by default; ``others=None`` means unknown, and then
    the answer is ``current``).

    Examples
    --------
    >>> auto_threads(2, others=1, cores=2)      # another process holds one of two cores
    1
    >>> auto_threads(2, others=0, cores=2), auto_threads(1, others=0, cores=8)
    (2, 1)
    """
    if others == -1:
        now = time.monotonic()
        sample = _STATE.sample
        if sample is None or now - sample[0] > _RESAMPLE_SECONDS:
            sample = _STATE.sample = (now, _sample_others())
        others = sample[1]
    if others is None:
        return current
    cores = _usable_cores() if cores is None else cores
    return max(1, min(current, cores - others))


# -------------------------------------------------------------------------------- BLAS
def _controller():
    """threadpoolctl's controller of the loaded BLAS libraries (None without threadpoolctl).

    Building one costs about 1 ms (it scans the loaded libraries), so it is cached and rebuilt
    only when modules were imported since (SciPy may load a second OpenBLAS)."""
    key = len(sys.modules)
    if _STATE.controller_key != key:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _STATE.controller, _STATE.controller_key = None, key
            return None
        _STATE.controller = ThreadpoolController().select(user_api="blas")
        _STATE.controller_key = len(sys.modules)
    return _STATE.controller


def _enter() -> None:
    setting = get_num_threads()
    ctl = _controller()
    if ctl is None:
        return
    now = [(lib, lib.get_num_threads()) for lib in ctl.lib_controllers]
    current = max((n for _, n in now), default=1)
    target = auto_threads(current) if setting == "auto" else setting
    for lib, n in now:
        if n != target:
            _STATE.saved.append((lib, n))
            lib.set_num_threads(target)


def _exit() -> None:
    while _STATE.saved:
        lib, n = _STATE.saved.pop()
        lib.set_num_threads(n)


def thread_policy(fn: F) -> F:
    """Decorator of minadv's top-level entry points: run ``fn`` under the thread setting.

    Only the outermost decorated call acts (sets the BLAS threads on entry, restores them on
    exit); a decorated function called from inside one costs a counter increment."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _STATE.lock:
            _STATE.depth += 1
            outer = _STATE.depth == 1
        try:
            if outer:
                _enter()
            return fn(*args, **kwargs)
        finally:
            with _STATE.lock:
                _STATE.depth -= 1
                if outer:
                    _exit()
    return wrapper  # type: ignore[return-value]
