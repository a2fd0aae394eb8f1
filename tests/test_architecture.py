"""The direction of the house, checked on the real import graph (grimp, import-linter's).

``make lint`` runs import-linter's contracts (``pyproject.toml``: layers from
``report`` down to the core, and no extraction library under ``store``); this
test adds the two rules those contracts cannot say: no cycle between files, and
the boundary modules import nothing of the project.
"""

from __future__ import annotations

import grimp

PACKAGES = ("ingest", "store", "report")
LEAVES = ("ingest.types", "ingest.errors", "ingest.urls", "ingest.langtags")


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=False)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm).

    >>> _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['b', 'a']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_files() -> None:
    graph = _graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def test_boundary_modules_import_nothing_of_the_project() -> None:
    graph = _graph()
    for leaf in LEAVES:
        assert graph.find_modules_directly_imported_by(leaf) == set(), leaf


def test_store_imports_only_boundary_modules_of_ingest() -> None:
    graph = _graph()
    store = {m for m in graph.modules if m == "store" or m.startswith("store.")}
    imported = {d for m in store for d in graph.find_modules_directly_imported_by(m)}
    assert {d for d in imported if d.startswith("ingest")} <= set(LEAVES)
