"""Package structure: no import cycle (function-level imports included), no registration by
import side effect, and the registries are plain literals."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "minadv"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    is_pkg = MODULES[importer].name == "__init__.py"
    base = importer.split(".")
    base = base if is_pkg else base[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def imports_of(name: str) -> set[str]:
    """minadv modules imported anywhere in ``name`` (module level and inside functions), with
    the packages whose ``__init__`` such an import runs (except the importer's own)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(name, node)
            targets.add(mod)
            targets |= {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES}
    out = set()
    own = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 2)}
    for t in targets:
        parts = t.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in MODULES and prefix not in own:
                out.add(prefix)
    return out


def test_the_graph_sees_function_level_imports():
    assert "minadv.attacks" in imports_of("minadv.analysis.smoothness")   # inside a function


def test_no_import_cycle_even_through_function_level_imports():
    graph = {m: imports_of(m) for m in MODULES}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, cycles


def test_objectives_registry_is_a_plain_literal_never_mutated():
    src = (PKG / "training" / "objectives.py").read_text(encoding="utf-8")
    assigns = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Assign)
               and any(getattr(t, "id", None) == "OBJECTIVES" for t in n.targets)]
    assert len(assigns) == 1 and isinstance(assigns[0].value, ast.Dict)
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("setdefault", "update") and \
                    getattr(node.value, "id", None) == "OBJECTIVES":
                raise AssertionError(f"{name} registers into OBJECTIVES")
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and \
                    getattr(node.value, "id", None) == "OBJECTIVES":
                raise AssertionError(f"{name} registers into OBJECTIVES")


def test_every_objective_is_registered_without_importing_anything_else():
    from minadv.training import OBJECTIVES, Objective, objectives

    classes = {v for v in vars(objectives).values()
               if isinstance(v, type) and issubclass(v, Objective) and v is not Objective}
    assert classes <= set(OBJECTIVES.values()) | {c for c in classes if c.name == "objective"}
    assert {cls.name for cls in OBJECTIVES.values()} == set(OBJECTIVES)
