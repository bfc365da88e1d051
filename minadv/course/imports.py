"""What a submission may use, checked statically (the AST) before it runs.

The rules judge the submission's *definitions* only, what ``minadv grade`` runs
(:mod:`minadv.course.definitions`: defs, classes, allowed imports, simple constants; a
tutorial's plots, training, ``import minadv`` and ``check(...)`` calls are dropped first).
In grading mode (``minadv grade``, not ``check()`` in a notebook) a submission is refused,
with a message naming the line, when

* the graded function, or a module-level function it calls, imports ``minadv`` beyond what
  some exercise allows (the library computes the answers; a module-level ``import minadv`` is
  dropped, not refused, and a function nobody grades is not judged: the child's import hook
  refuses the import if it ever runs), or the graded name itself is bound by an import the
  grader drops (``from minadv.course.references import sigmoid``).
  ``minadv.course``'s ``check``, ``stub`` and ``exercises`` are always allowed (a notebook calls
  them); an exercise lists the other ``minadv`` names it allows (``Exercise.allowed``, e.g.
  ``minadv.attacks.project_ball`` for ``pgd_step``);
* the graded function, or a module-level function it calls, uses a name its exercise forbids
  (``Exercise.forbidden``: the library function the exercise asks the student to write, e.g.
  ``scipy.special.expit`` in ``sigmoid``) or a ``minadv`` name that exercise does not allow;
* the kept code reaches around the import system (imports ``importlib``/``builtins``, uses
  ``__import__``, ``importlib``, ``sys.modules``, ``eval``/``exec``/``compile``,
  ``__builtins__``, ``__globals__``, ``__subclasses__``) or assigns ``__name__``.

Names are resolved through *all* the file's imports, the dropped ones included (``import
scipy.special as sp`` makes ``sp.expit`` mean ``scipy.special.expit``; a kept function using
``MLP`` after a dropped ``from minadv.models import MLP`` uses ``minadv.models.MLP``).  The
child's import hook (:func:`minadv.course.runner.install_guard`) refuses the same ``minadv``
imports at run time.
``--allow-imports`` turns both off.
"""

from __future__ import annotations

import ast

from .definitions import keep_definitions, parse_source

__all__ = ["refusals", "COURSE_HELPERS", "ESCAPES"]

COURSE_HELPERS = ("minadv.course", "minadv.course.check", "minadv.course.stub",
                  "minadv.course.exercises")
ESCAPES = ("__import__", "importlib", "sys.modules", "eval", "exec", "compile", "builtins",
           "__builtins__")
DUNDER_ESCAPES = ("__globals__", "__subclasses__", "__code__", "__closure__", "__builtins__")


def _dotted(node, aliases) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id, node.id)
    return ".".join([base] + parts[::-1])


def _chains(root, aliases):
    """``(node, dotted name)`` for every maximal name chain ``a.b.c`` under ``root``."""
    inner = {id(n.value) for n in ast.walk(root) if isinstance(n, ast.Attribute)}
    for node in ast.walk(root):
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner:
            dotted = _dotted(node, aliases)
            if dotted:
                yield node, dotted
            elif isinstance(node, ast.Attribute) and node.attr in DUNDER_ESCAPES:
                yield node, node.attr


def _reachable(tree, name) -> list:
    """The nodes that run when ``name`` is graded: the module-level statements (they run at
    import) and the def of ``name`` with the module-level defs it names, transitively; the
    whole module when ``name`` is not a module-level def."""
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                          ast.AsyncFunctionDef))}
    if name not in defs:
        return [tree]
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [n.id for n in ast.walk(defs[current]) if isinstance(n, ast.Name) and n.id in defs]
    top_level = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                            ast.AsyncFunctionDef))]
    return [defs[n] for n in seen] + top_level


def _import_refusals(tree, allowed_anywhere) -> list:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
            bad = [m for m in mods if m.split(".")[0] == "minadv" and m not in COURSE_HELPERS
                   and not any(a.startswith(m + ".") for a in allowed_anywhere)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            full = [f"{node.module}.{a.name}" for a in node.names]
            bad = [f for f in full if f.split(".")[0] == "minadv" and f not in COURSE_HELPERS
                   and f not in allowed_anywhere]
        else:
            continue
        for name in bad:
            out.append(f"line {node.lineno}: imports {name}: a submission computes its answers "
                       "itself (the library is not allowed here)")
    return out


def _escape_imports(kept_tree) -> list:
    out = []
    for node in kept_tree.body:
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods = [node.module]
        else:
            continue
        for mod in mods:
            if mod.split(".")[0] in ESCAPES:
                out.append(f"line {node.lineno}: uses {mod} (reaching around the import "
                           "system is not allowed in a submission)")
    return out


def _bound_by_dropped_import(tree, kept_tree, name) -> list:
    """Refusals when the graded ``name`` comes from an import the grader drops (``from
    minadv.course.references import sigmoid``)."""
    kept = {id(n) for n in kept_tree.body}
    out = []
    for node in tree.body:
        if id(node) in kept or not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for a in node.names:
            local = a.asname or a.name.split(".")[0]
            if local != name:
                continue
            dotted = (f"{node.module}.{a.name}" if isinstance(node, ast.ImportFrom)
                      else a.name)
            out.append(f"line {node.lineno}: imports {dotted} as {name}: define it in the "
                       "submission (only the file's own definitions are graded)")
    return out


def refusals(source: str, exercise, *, allowed_anywhere=(), graded=(),
             local_modules=()) -> list[str]:
    """Why ``source`` is refused for ``exercise`` (an :class:`~minadv.course.grading.Exercise`);
    an empty list when it may run.  ``allowed_anywhere``: the ``minadv`` names some exercise
    graded from this file allows (a file answering several exercises imports them all);
    ``graded`` and ``local_modules``: as in
    :func:`~minadv.course.definitions.keep_definitions` (the same cut is judged as is run).
    A syntax error is not judged here (the child reports it)."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return []
    allowed = set(allowed_anywhere) | set(exercise.allowed)
    kept = keep_definitions(source, graded=set(graded) | {exercise.name}, allowed=allowed,
                            local_modules=local_modules)
    aliases = kept.aliases
    out = _escape_imports(kept.tree) + _bound_by_dropped_import(tree, kept.tree, exercise.name)
    for node in ast.walk(kept.tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__name__"
                                                for t in node.targets):
            out.append(f"line {node.lineno}: assigns __name__")
    for node, dotted in _chains(kept.tree, aliases):
        parts = dotted.split(".")
        if (any(dotted == e or dotted.startswith(e + ".") for e in ESCAPES)
                or any(p in DUNDER_ESCAPES for p in parts)):
            out.append(f"line {node.lineno}: uses {dotted} (reaching around the import "
                       "system is not allowed in a submission)")
    bound = {t.id for n in kept.tree.body for t in ast.walk(n) if isinstance(t, ast.Name)
             and isinstance(t.ctx, ast.Store)} | {
        n.name for n in kept.tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                        ast.AsyncFunctionDef))} | {
        a.asname or a.name.split(".")[0] for n in kept.tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    reachable = _reachable(kept.tree, exercise.name) if exercise.name in bound else []
    for part in reachable:                # (a name never bound: "defines no function")
        out += _import_refusals(part, allowed)
        for node, dotted in _chains(part, aliases):
            if any(dotted == f or dotted.startswith(f + ".") for f in exercise.forbidden):
                out.append(f"line {node.lineno}: {exercise.name} uses {dotted}, the function "
                           "this exercise asks you to write")
            elif (dotted.split(".")[0] == "minadv" and dotted not in COURSE_HELPERS
                  and not any(dotted == a or a.startswith(dotted + ".") for a in exercise.allowed)):
                out.append(f"line {node.lineno}: {exercise.name} uses {dotted} (allowed from "
                           f"minadv here: {', '.join(exercise.allowed) or 'nothing'})")
    return sorted(set(out), key=lambda m: (int(m.split()[1].rstrip(":")), m))
