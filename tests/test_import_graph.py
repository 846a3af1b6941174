"""The house stays the way it was built: imports only go down, and no files import each other in
a circle. Computed from the source with `ast` (imports inside functions included, since a lazy
import is still a dependency); tests, benchmarks and migrations are left out.

Floors, top to bottom (a package may import its own floor or any floor below):
    asgi.py, jobs/                 entry points (the API app, the worker's actors)
    schema/ | ingress/ | modules/  the agents' door | the platforms' door | extension packages
                                   (none imports another; modules are loaded by entry point)
    resolvers/                     the rules
    models/, connectors/           tables | platform knowledge
    core/                          settings, database, auth, events, tasks (core/cli.py aside)
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "models", "connectors", "resolvers", "schema", "ingress", "jobs", "modules")
FLOOR = {
    "core": 0,
    "models": 1,
    "connectors": 1,
    "resolvers": 2,
    "schema": 3,
    "ingress": 3,
    "modules": 3,  # built on the rules and core/extensions.py, like the two doors
    "jobs": 4,
    "asgi": 4,
}
ENTRY_POINTS = {"core.cli"}  # the CLI starts every kind of process, so it may reach any floor
SIDE_BY_SIDE = {
    ("schema", "ingress"),
    ("ingress", "schema"),
    ("models", "connectors"),
    ("connectors", "models"),
    ("modules", "schema"),
    ("modules", "ingress"),
    ("schema", "modules"),
    ("ingress", "modules"),
}


def _modules() -> dict[str, Path]:
    found = {"asgi": ROOT / "asgi.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted import lands on (`a.b.c` may be a name inside module `a.b`)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """The graph, computed in a fresh interpreter: CPython 3.11.7's `ast` can raise "AST
    constructor recursion depth mismatch" in a process where a RecursionError happened before
    (the hostile-input tests provoke some on purpose)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from tests.test_import_graph import _graph; "
            "print(json.dumps({k: sorted(v) for k, v in _graph().items()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return {k: set(v) for k, v in json.loads(out.stdout).items()}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from pkg import module` imports the module; `from module import name` the module
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                found = _resolve(target, modules)
                if found and found != name:
                    graph[name].add(found)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def _package(module: str) -> str:
    return module.split(".")[0]


def test_no_files_import_each_other_in_a_circle() -> None:
    assert _circles(import_graph()) == []


def test_imports_only_go_down() -> None:
    upward = []
    for module, imported in import_graph().items():
        if module in ENTRY_POINTS:
            continue
        for target in imported:
            here, there = _package(module), _package(target)
            if (here, there) in SIDE_BY_SIDE or FLOOR[there] > FLOOR[here]:
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_the_checks_see_what_they_claim() -> None:
    """The graph itself: it must find a lazy import and a real cycle, or the tests above are empty."""
    graph = import_graph()
    assert "core.tasks" in graph["resolvers.messages"]
    assert "resolvers.messages" in graph["jobs.outbound"]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = ast.parse("def f():\n    from resolvers.inbound import ingest\n")
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(source))  # lazy imports are walked
