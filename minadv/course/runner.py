"""The child side of ``minadv grade``: run one submission on case inputs, write its outputs.

``minadv grade`` starts this file as a script in a fresh interpreter
(``python -I runner.py JOB_DIR START``, :mod:`minadv.course.isolation`).  The child

1. caps its address space (``resource.setrlimit(RLIMIT_AS)``, POSIX) and sends the student's
   ``print`` output to a log file, keeping a private copy of stdout for the protocol;
2. guards ``import``: a submission may not import ``minadv`` (the library computes the answers)
   except the names its exercises allow; ``minadv.course`` is a harmless stand-in whose
   ``check`` does nothing (so a notebook's own ``course.check(...)`` cells still run);
3. loads the submission -- the definitions the parent kept of it
   (:mod:`minadv.course.definitions`), not the student's whole file -- and prints ``loaded``
   (or ``load-error MESSAGE``);
4. for each task from ``START`` on: reads the case inputs from an ``.npz`` file, calls the
   function, writes the output (with the NumPy warnings, the time, whether the inputs were
   modified, the exception if any) to ``out_<i>.npz`` and prints ``done <i>``.

It imports only the standard library and NumPy: no grader, no reference and no instructor
solution is ever loaded here.  Arrays travel as ``.npz`` (``allow_pickle=False``) with a JSON
description of the nesting (tuples, lists, dicts, Python scalars); never pickle.  The parent
trusts nothing this process says about the verdict: it compares the outputs with references
it computes itself, and a child that exits, hangs or writes garbage fails the case.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
import types
import warnings

__all__ = ["encode", "decode", "save_tree", "load_tree", "MatrixProduct"]

BLOCKED_TOP = ("tutorials", "tests", "benchmarks")       # a source checkout's other folders
COURSE_HELPERS = ("check", "stub", "exercises")


# ----------------------------------------------------------------------------- the codec
class MatrixProduct:
    """``R -> (H_i R_i)_i`` for a stack ``H`` of ``(D, D)`` matrices, in ``R``'s dtype."""

    def __init__(self, H):
        self.H = H

    def __call__(self, R):
        import numpy as np

        return np.einsum("nij,nj->ni", self.H.astype(R.dtype), R)

    def __repr__(self) -> str:
        return f"MatrixProduct(H of shape {self.H.shape})"


class Opaque:
    """Stands for an object that cannot travel as arrays (its type name only)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<a {self.type_name} object>"


def encode(obj, arrays: dict):
    """A JSON-able description of ``obj``; its arrays go into ``arrays`` (name -> ndarray)."""
    import numpy as np

    def put(a):
        key = f"a{len(arrays)}"
        arrays[key] = a
        return key

    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufcU":
        return {"t": "nd", "k": put(obj)}
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
        return {"t": "np", "k": put(np.asarray(obj))}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "py", "v": obj}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__, "v": [encode(x, arrays) for x in obj]}
    if isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        return {"t": "dict", "v": {k: encode(v, arrays) for k, v in obj.items()}}
    if type(obj).__name__ == "MatrixProduct" and isinstance(getattr(obj, "H", None), np.ndarray):
        return {"t": "matprod", "k": put(obj.H)}
    return {"t": "opaque", "v": type(obj).__name__}


def decode(node, arrays):
    """Inverse of :func:`encode` (``arrays``: the loaded ``.npz``)."""
    kind = node["t"]
    if kind == "nd":
        return arrays[node["k"]].copy()
    if kind == "np":
        return arrays[node["k"]][()]
    if kind == "py":
        return node["v"]
    if kind in ("list", "tuple"):
        items = [decode(x, arrays) for x in node["v"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {k: decode(v, arrays) for k, v in node["v"].items()}
    if kind == "matprod":
        return MatrixProduct(arrays[node["k"]].copy())
    return Opaque(str(node["v"]))


def save_tree(path, meta: dict, trees: dict) -> None:
    """Write ``trees`` (name -> object) and the JSON-able ``meta`` to the ``.npz`` ``path``."""
    import numpy as np

    arrays: dict = {}
    nodes = {name: encode(obj, arrays) for name, obj in trees.items()}
    arrays["__meta__"] = np.array(json.dumps({"meta": meta, "nodes": nodes}))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load_tree(path) -> tuple[dict, dict]:
    """``(meta, trees)`` from a file written by :func:`save_tree` (never unpickles)."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    head = json.loads(str(arrays.pop("__meta__")[()]))
    return head["meta"], {name: decode(node, arrays) for name, node in head["nodes"].items()}


def _same(a, b) -> bool:
    import numpy as np

    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    return True


# ----------------------------------------------------------------------------- the guard
def _fake_course():
    course = types.ModuleType("minadv.course")

    class Result:
        passed = None
        cases: list = []

        def __str__(self):
            return ""

    course.check = lambda *args, **kwargs: Result()
    course.stub = lambda *args, **kwargs: ""
    course.exercises = lambda: []
    top = types.ModuleType("minadv")
    top.course = course
    return top, course


def install_guard(allowed: list) -> None:
    """Refuse the submission's ``minadv`` imports other than ``allowed`` (dotted names)."""
    real_import = builtins.__import__
    fake_top, fake_course = _fake_course()
    allowed_modules = {name.rsplit(".", 1)[0] for name in allowed}

    def guarded(name, globals=None, locals=None, fromlist=(), level=0):
        importer = (globals or {}).get("__name__") or ""
        if level or importer == "minadv" or importer.startswith("minadv."):
            return real_import(name, globals, locals, fromlist, level)   # the library itself
        top = name.split(".")[0]
        if top in BLOCKED_TOP:
            raise ImportError(f"import of {name} refused while grading")
        if top != "minadv":
            return real_import(name, globals, locals, fromlist, level)
        fromlist = tuple(fromlist or ())
        if name == "minadv.course" or (name == "minadv" and fromlist == ("course",)):
            if name == "minadv.course" and fromlist and not set(fromlist) <= set(COURSE_HELPERS):
                raise ImportError(f"from minadv.course import {', '.join(fromlist)} refused: "
                                  f"only {', '.join(COURSE_HELPERS)} may be imported")
            return fake_course if fromlist and name == "minadv.course" else fake_top
        if name in allowed_modules and all(f"{name}.{f}" in allowed for f in fromlist):
            return real_import(name, globals, locals, fromlist, level)
        allowed_text = ", ".join(allowed) if allowed else "nothing"
        raise ImportError(f"import of {name} refused: a submission computes its answers itself "
                          f"(allowed from minadv: {allowed_text})")

    builtins.__import__ = guarded


# ----------------------------------------------------------------------------- the run
def _cap_memory(megabytes) -> None:
    if not megabytes:
        return
    try:
        import resource
    except ImportError:                      # not POSIX: no cap (documented in isolation)
        return
    limit = int(megabytes * 1024 * 1024)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)                         # never above an existing hard cap
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))   # hard too: no raising it back
    except (ValueError, OSError):                        # e.g. not supported: run uncapped
        pass


def _load(manifest):
    sys.path.insert(0, manifest["workdir"])              # the file may import its neighbours
    sys.path.append(manifest["minadv_root"])             # only for the allowed minadv names
    with open(manifest["source"], encoding="utf-8") as fh:
        code = compile(fh.read(), manifest["source"], "exec")
    module = types.ModuleType("submission")
    module.__file__ = manifest["source"]
    sys.modules["submission"] = module
    exec(code, module.__dict__)
    return module


def _run_task(module, task, out_path) -> None:
    import numpy as np

    meta, trees = load_tree(task["inputs"])
    _, fresh = load_tree(task["inputs"])
    record = {"error": None, "notimpl": False, "msgs": [], "modified": False, "seconds": 0.0}
    out = None
    fn = getattr(module, task["exercise"], None)
    if not callable(fn):
        record["error"] = f"the submission defines no function named {task['exercise']!r}"
    else:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                warnings.simplefilter("always")
                out = fn(*trees["args"], **trees["kwargs"])
            record["msgs"] = [str(w.message) for w in caught
                              if issubclass(w.category, RuntimeWarning)]
        except NotImplementedError:
            record["notimpl"] = True
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
            record["error"] = f"raised {type(exc).__name__}: {exc}"[:500]
            if isinstance(exc, SystemExit):
                record["error"] += " (return a value, never exit the interpreter)"
        record["seconds"] = time.perf_counter() - start
        record["modified"] = not _same((trees["args"], trees["kwargs"]),
                                       (fresh["args"], fresh["kwargs"]))
    try:
        save_tree(out_path, record, {"out": out})
    except Exception as exc:  # noqa: BLE001 - an output that cannot be saved is reported
        record["error"] = f"returned an output that cannot be read back ({exc})"[:500]
        save_tree(out_path, record, {"out": None})


def main(argv) -> int:
    job, start = argv[0], int(argv[1])
    with open(os.path.join(job, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log = os.open(os.path.join(job, f"student_output_{start}.txt"),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)                                     # the student's print goes to a log
    _cap_memory(manifest.get("memory_mb"))
    import numpy  # noqa: F401  (before the guard and the cap matter: loaded once, here)

    if not manifest.get("allow_imports"):
        install_guard(manifest.get("allowed", []))
    try:
        module = _load(manifest)
    except BaseException as exc:  # noqa: BLE001 - SystemExit at import too
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        proto.write("load-error " + text + "\n")
        proto.flush()
        return 0
    proto.write("loaded\n")
    proto.flush()
    for i, task in enumerate(manifest["tasks"]):
        if i < start:
            continue
        _run_task(module, task, os.path.join(job, f"out_{i}.npz"))
        proto.write(f"done {i}\n")
        proto.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
