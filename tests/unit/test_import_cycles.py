"""No import cycles among the ``shared`` modules.

Every import counts — at module level and inside functions (a function-level import only
delays a cycle to the first call) — except those under ``if TYPE_CHECKING:``, which never run.
Importing ``a.b.c`` also imports the packages ``a`` and ``a.b``. A cycle is reported as the
path of modules that closes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "shared"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runnable(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node``, skipping the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            for other in child.orelse:
                yield other
                yield from _runnable(other)
            continue
        yield child
        yield from _runnable(child)


def _imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The ``shared`` modules that running ``name`` may import, with their packages."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    for node in _runnable(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else base)
    closed: set[str] = set()
    for target in targets:
        parts = target.split(".")
        closed.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return {t for t in closed if t in known and t != name}


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imported(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One closing path (``a → b → a``) for each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_closing_path(graph, group) for group in groups]


def _closing_path(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    start = min(group)

    def walk(path: list[str]) -> Iterator[list[str]]:
        for succ in sorted(graph[path[-1]] & group):
            if succ == start:
                yield [*path, start]
            elif succ not in path:
                yield from walk([*path, succ])

    return next(walk([start]))


def test_shared_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" → ".join(c) for c in found)


def test_the_detector_reports_a_cycle_with_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_function_level_and_relative_imports_count(tmp_path: Path) -> None:
    pkg = tmp_path / "shared" / "x"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "one.py").write_text("def f():\n    from shared.x import two\n")
    (pkg / "two.py").write_text("from . import one\n")
    (pkg / "three.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shared.x import one\n"
    )
    known = {"shared.x": pkg / "__init__.py"} | {
        f"shared.x.{n}": pkg / f"{n}.py" for n in ("one", "two", "three")
    }
    graph = {name: _imported(name, path, known) for name, path in known.items()}
    assert graph["shared.x.one"] == {"shared.x", "shared.x.two"}
    assert graph["shared.x.two"] == {"shared.x", "shared.x.one"}
    assert graph["shared.x.three"] == set()  # type-checking imports never run
    assert cycles(graph) == [["shared.x.one", "shared.x.two", "shared.x.one"]]
