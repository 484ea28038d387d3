"""No import cycles in the headless parts: engine/, tangtui/runs/ and tangtui/cli/.

Every ``import`` and ``from ... import`` counts, at module level or inside a function (a lazy
import only hides a cycle), except under ``if TYPE_CHECKING:`` (annotations only). A cycle is a
strongly connected component of more than one module in that graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("engine", "tangtui.runs", "tangtui.cli")


def modules() -> dict[str, Path]:
    out = {}
    for pkg in ("engine", "tangtui"):
        for file in (ROOT / pkg).rglob("*.py"):
            parts = file.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return out


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return getattr(t, "id", None) == "TYPE_CHECKING" or getattr(t, "attr", None) == "TYPE_CHECKING"


def imports(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for a in child.names:
                    sub = f"{child.module}.{a.name}"
                    if sub in known:
                        found.add(sub)
                    elif child.module in known:
                        found.add(child.module)
            visit(child)

    visit(tree)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
                     "def f():\n    from b import x\n")
    assert imports(tree, {"a": Path(), "b": Path()}) == {"b"}


def test_the_headless_packages_have_no_import_cycles() -> None:
    known = modules()
    graph = {name: imports(ast.parse(path.read_text(encoding="utf-8")), known)
             for name, path in known.items()}
    bad = [c for c in cycles(graph)
           if any(m == p or m.startswith(p + ".") for m in c for p in CHECKED)]
    assert bad == []
