"""The shape of the code: no import cycle in `runtime/` (every import counted, lazy ones
too) and no module over 500 lines outside the data tables."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

#: Where each package of the `specc` distribution lives in the repository.
PACKAGES = {"specc": ROOT / "specc", "specc.spec": ROOT / "spec",
            "specc.compiler": ROOT / "compiler", "specc.runtime": ROOT / "runtime",
            "specc.tui": ROOT / "tui"}
#: Modules that are data tables (catalogs), not code: exempt from the size limit.
DATA_TABLES = {"spec/catalog/optim.py", "spec/catalog/architectures.py"}
MAX_LINES = 500


def _modules(package: str) -> dict[str, Path]:
    base = PACKAGES[package]
    out = {}
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join([package, *parts])] = path
    return out


def _imports(path: Path, name: str, is_package: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    mods = _modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = _imports(path, name, path.name == "__init__.py")
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle's witness, found by depth-first search."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append([*stack[stack.index(m):], m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_runtime() -> None:
    graph = import_graph("specc.runtime")
    assert graph.get("specc.runtime.study")
    assert cycles(graph) == []




def test_no_module_over_500_lines() -> None:
    big = {}
    for package in PACKAGES:
        for path in _modules(package).values():
            rel = path.relative_to(ROOT).as_posix()
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES and rel not in DATA_TABLES:
                big[rel] = n
    assert big == {}
