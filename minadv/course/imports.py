"""What a submission may use, checked statically (the AST) before it runs.

In grading mode (``minadv grade``, not ``check()`` in a notebook) a submission is refused,
with a message naming the line, when

* it imports ``minadv`` beyond what some exercise allows: the library computes the answers.
  ``minadv.course``'s ``check``, ``stub`` and ``exercises`` are always allowed (a notebook calls
  them); an exercise lists the other ``minadv`` names it allows (``Exercise.allowed``, e.g.
  ``minadv.attacks.project_ball`` for ``pgd_step``);
* the graded function, or a module-level function it calls, uses a name its exercise forbids
  (``Exercise.forbidden``: the library function the exercise asks the student to write, e.g.
  ``scipy.special.expit`` in ``sigmoid``) or a ``minadv`` name that exercise does not allow;
* the file reaches around the import system (``__import__``, ``importlib``, ``sys.modules``,
  ``eval``/``exec``/``compile``, ``__builtins__``, ``__globals__``, ``__subclasses__``) or
  assigns ``__name__``.

Names are resolved through the file's imports (``import scipy.special as sp`` makes
``sp.expit`` mean ``scipy.special.expit``).  The child's import hook
(:func:`minadv.course.runner.install_guard`) refuses the same ``minadv`` imports at run time.
``--allow-imports`` turns both off.
"""

from __future__ import annotations

import ast

__all__ = ["refusals", "COURSE_HELPERS", "ESCAPES"]

COURSE_HELPERS = ("minadv.course", "minadv.course.check", "minadv.course.stub",
                  "minadv.course.exercises")
ESCAPES = ("__import__", "importlib", "sys.modules", "eval", "exec", "compile", "builtins",
           "__builtins__")
DUNDER_ESCAPES = ("__globals__", "__subclasses__", "__code__", "__closure__", "__builtins__")


def _aliases(tree) -> dict:
    """Local name -> dotted name, from every import in the file."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


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


def refusals(source: str, exercise, *, allowed_anywhere=()) -> list[str]:
    """Why ``source`` is refused for ``exercise`` (an :class:`~minadv.course.grading.Exercise`);
    an empty list when it may run.  ``allowed_anywhere``: the ``minadv`` names some exercise
    graded from this file allows (a file answering several exercises imports them all).
    A syntax error is not judged here (the child reports it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases = _aliases(tree)
    out = _import_refusals(tree, set(allowed_anywhere) | set(exercise.allowed))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__name__"
                                                for t in node.targets):
            out.append(f"line {node.lineno}: assigns __name__")
    for node, dotted in _chains(tree, aliases):
        parts = dotted.split(".")
        if (any(dotted == e or dotted.startswith(e + ".") for e in ESCAPES)
                or any(p in DUNDER_ESCAPES for p in parts)):
            out.append(f"line {node.lineno}: uses {dotted} (reaching around the import "
                       "system is not allowed in a submission)")
    for part in _reachable(tree, exercise.name):
        for node, dotted in _chains(part, aliases):
            if any(dotted == f or dotted.startswith(f + ".") for f in exercise.forbidden):
                out.append(f"line {node.lineno}: {exercise.name} uses {dotted}, the function "
                           "this exercise asks you to write")
            elif (dotted.split(".")[0] == "minadv" and dotted not in COURSE_HELPERS
                  and not any(dotted == a or a.startswith(dotted + ".") for a in exercise.allowed)):
                out.append(f"line {node.lineno}: {exercise.name} uses {dotted} (allowed from "
                           f"minadv here: {', '.join(exercise.allowed) or 'nothing'})")
    return sorted(set(out), key=lambda m: (int(m.split()[1].rstrip(":")), m))
