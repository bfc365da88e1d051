"""What ``minadv grade`` runs of a submission: its definitions, nothing else.

A submission is often a whole tutorial: the student release's notebooks load data, train,
plot, ``import minadv`` and call ``minadv.course.check(...)`` around the exercise cells.  The
grader of record grades the functions, so before the child interpreter runs anything the
file is cut down to its *definitions*, in source order:

* module-level ``def`` and ``class`` statements (a non-graded one is dropped when its
  decorators, defaults or annotations need a name that was dropped: they run at load time);
* imports of modules a submission may use: NumPy, SciPy, the standard library, the
  submission's neighbours (a ``.py`` file or package beside it) and the ``minadv`` names its
  exercises allow (``Exercise.allowed``);
* simple constant assignments ``NAME = value`` whose value is built from literals, names
  already kept, operators, attribute and item access, ``lambda`` and calls of NumPy, SciPy or
  ``math`` functions and of the builtin constructors (``dict``, ``tuple``, ``float``, ...).

Every other top-level statement is dropped: data loading, training, plots, prints, ``import
minadv`` and ``import matplotlib``, ``minadv.course.check(...)``, ``assert``, ``sys.exit``,
loops, ``if __name__ == "__main__":``.  Dropped lines become blank lines, so the line
numbers of the kept code (in refusals and tracebacks) are the file's own.  A graded function
that reads a dropped global fails with ``NameError`` (the hint says so): it must compute
what it needs itself.

The refusal rules (:mod:`minadv.course.imports`) judge what is kept, resolving names through
*all* the file's imports, so a kept function that uses a dropped ``from minadv... import X``
is still refused when it is graded (or called by the graded function).
"""

from __future__ import annotations

import ast
import builtins
import sys
import threading
from dataclasses import dataclass

__all__ = ["Kept", "keep_definitions", "parse_source", "ALLOWED_TOP", "CONSTRUCTORS"]

# CPython 3.11 keeps the recursion depth of its C-to-Python AST conversion in one global
# state, so two threads parsing at once (``minadv grade --batch`` grades students on a thread
# pool) can raise "SystemError: AST constructor recursion depth mismatch" (CPython issue
# 106905, fixed in later releases).  Every parse in the grader goes through this lock.
_PARSE_LOCK = threading.Lock()


def parse_source(source: str) -> ast.Module:
    """``ast.parse(source)`` under the grader's parse lock (thread-safe on every CPython)."""
    with _PARSE_LOCK:
        return ast.parse(source)

ALLOWED_TOP = frozenset({"numpy", "scipy"}) | frozenset(sys.stdlib_module_names)
COMPUTE_TOP = ("numpy", "scipy", "math", "cmath")        # calls allowed in a kept constant
CONSTRUCTORS = frozenset({"dict", "list", "tuple", "set", "frozenset", "float", "int",
                          "complex", "bool", "str", "range", "slice", "abs", "min", "max",
                          "len", "round", "sum"})
_SIMPLE = (ast.Constant, ast.Name, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp,
           ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Attribute, ast.Subscript,
           ast.Slice, ast.Lambda, ast.Call, ast.keyword, ast.JoinedStr, ast.FormattedValue,
           ast.Starred, ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
           ast.arguments, ast.arg)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Kept:
    """The definitions of a source: ``source`` (same line numbers, dropped lines blank),
    ``tree`` (a module of the kept statements), ``aliases`` (local name -> dotted name from
    *every* import of the original file) and ``dropped`` (first line of each dropped
    statement)."""

    source: str
    tree: ast.Module
    aliases: dict
    dropped: tuple


def _import_aliases(tree) -> dict:
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else (
                    a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _bound_by(node) -> set:
    """Names a kept top-level statement binds."""
    if isinstance(node, _DEFS):
        return {node.name}
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name for a in node.names if a.name != "*"}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _needed(nodes) -> set:
    """Names read when ``nodes`` (expressions) are evaluated: lambda bodies do not run, names
    bound inside (comprehension targets) do not count."""
    loads, stores = set(), set()
    todo = [n for n in nodes if n is not None]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Lambda):
            todo += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            continue
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
        todo += list(ast.iter_child_nodes(node))
    return loads - stores


def _load_time(node, lazy_annotations: bool) -> set:
    """Names a ``def``/``class`` statement reads when it runs (not when it is called)."""
    exprs = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        exprs += node.bases + [k.value for k in node.keywords]
        return _needed(exprs)
    args = node.args
    exprs += args.defaults + [d for d in args.kw_defaults if d is not None]
    if not lazy_annotations:
        every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
        exprs += [a.annotation for a in every if a is not None] + [node.returns]
    return _needed(exprs)


def _dotted(node, aliases) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id)] + parts[::-1])


def _simple_value(value, kept_aliases) -> bool:
    """Whether ``value`` is a constant expression (see the module docstring)."""
    todo = [value]
    while todo:
        node = todo.pop()
        if not isinstance(node, _SIMPLE):
            return False
        if isinstance(node, ast.Lambda):
            todo += node.args.defaults
            continue
        if isinstance(node, ast.Call):
            callee = _dotted(node.func, kept_aliases)
            if callee is None or not (callee in CONSTRUCTORS
                                      or callee.split(".")[0] in COMPUTE_TOP):
                return False
            todo += node.args + node.keywords
            continue
        todo += list(ast.iter_child_nodes(node))
    return True


def _importable(node, *, allowed, local_modules, keep_all) -> bool:
    if keep_all:
        return True
    if isinstance(node, ast.ImportFrom):
        if node.level:                                   # relative: a neighbour package
            return True
        full = [f"{node.module}.{a.name}" for a in node.names]
        mods = [node.module]
    else:
        full = mods = [a.name for a in node.names]
    tops = {m.split(".")[0] for m in mods}
    if tops == {"minadv"}:
        return all(f in allowed for f in full)
    return all(t in ALLOWED_TOP or t in local_modules for t in tops)


def _keeps(node, bound, kept_aliases, graded, lazy, **imports) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _importable(node, **imports)
    if isinstance(node, _DEFS):
        return node.name in graded or _load_time(node, lazy) <= bound
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        plain = all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store))
                    for t in targets for n in ast.walk(t))
        return (plain and _simple_value(node.value, kept_aliases)
                and _needed([node.value]) <= bound)
    return False


def keep_definitions(source: str, *, graded=(), allowed=(), local_modules=(),
                     keep_all_imports: bool = False) -> Kept:
    """The definitions of ``source`` (see the module docstring).

    Parameters
    ----------
    source : str
        The submission's Python source (a notebook's code cells joined).
    graded : iterable of str
        Exercise names graded from this file: their ``def`` is always kept.
    allowed : iterable of str
        Dotted ``minadv`` names the file's exercises allow (their imports are kept).
    local_modules : iterable of str
        Module names of the submission's neighbours (kept when imported).
    keep_all_imports : bool
        Keep every import (``minadv grade --allow-imports``).

    Returns
    -------
    Kept

    Raises
    ------
    SyntaxError
        ``source`` does not parse (the caller reports it).

    Notes
    -----
    A constant is kept only if no dropped statement rebinds or mutates it
    (``losses = []`` filled by a dropped training loop would be an empty list in the child):
    the cut is repeated, with the names that the dropped statements touch excluded, until it
    no longer changes.
    """
    tree = parse_source(source)
    imports = dict(allowed=set(allowed), local_modules=set(local_modules),
                   keep_all=keep_all_imports)
    tainted: set = set()
    while True:
        kept = _cut(tree, set(graded), tainted, imports)
        ids = {id(k) for k in kept}
        touched = set().union(*[_touched(n) for n in tree.body if id(n) not in ids])
        if touched <= tainted:
            break
        tainted |= touched
    dropped = tuple(n.lineno for n in tree.body if id(n) not in ids)
    return Kept(_kept_source(source, tree.body, kept), ast.Module(body=kept, type_ignores=[]),
                _import_aliases(tree), dropped)


def _cut(tree, graded, tainted, imports) -> list:
    """One pass over the top-level statements: those kept, given the ``tainted`` names."""
    lazy = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
               and any(a.name == "annotations" for a in n.names) for n in tree.body)
    bound = set(dir(builtins)) | {"__name__", "__file__", "__doc__"}
    kept, kept_aliases = [], {}
    for node in tree.body:
        constant = isinstance(node, (ast.Assign, ast.AnnAssign))
        if constant and _bound_by(node) & tainted:
            continue
        if _keeps(node, bound, kept_aliases, graded, lazy, **imports):
            kept.append(node)
            bound |= _bound_by(node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                kept_aliases.update(_import_aliases(node))
    return kept


def _touched(node) -> set:
    """Names a (dropped) statement rebinds or mutates: stored names, ``name[...] = ...``,
    ``name.attr = ...`` and method calls ``name.method(...)``; a def's body is not run."""
    if isinstance(node, _DEFS):
        return set()
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            out.add(sub.id)
        elif (isinstance(sub, (ast.Subscript, ast.Attribute))
              and isinstance(sub.ctx, (ast.Store, ast.Del))):
            base = sub.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            base = sub.func.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def _span(node) -> tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno


def _kept_source(source: str, body, kept) -> str:
    """``source`` with the dropped statements' lines blanked (line numbers unchanged); where a
    line holds a kept and a dropped statement (``a = 1; f()``), the kept ones unparsed."""
    lines = source.splitlines()
    owner: dict = {}
    for node in body:
        first, last = _span(node)
        for i in range(first, last + 1):
            owner.setdefault(i, set()).add(any(node is k for k in kept))
    if any(len(v) > 1 for v in owner.values()):
        return ast.unparse(ast.Module(body=kept, type_ignores=[])) + "\n"
    keep_lines = {i for k in kept for i in range(_span(k)[0], _span(k)[1] + 1)}
    return "\n".join(line if i + 1 in keep_lines else ""
                     for i, line in enumerate(lines)) + "\n"
