"""The portal's apps stack one way (../shared/DESIGN.md, "Layout"): a module imports its own
app or the floors below it, never a floor above and never `portal`, and no two modules import
each other in a circle. Read from the source with `ast`, every import statement counted (also
those inside functions or under TYPE_CHECKING: a circle there is still a circle to a reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. A new app finds its floor here (and in DESIGN.md) or this test fails.
FLOORS = [
    "core",
    "tenants",
    "cameras",
    "usage",
    "archive",
    "alerts",
    "detection",
    "reports",
    "operator",
    "dashboard",
]
PROJECT_PACKAGES = ("apps", "portal", "gpu_worker")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _sources(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "apps" else None


def test_every_app_has_a_floor() -> None:
    apps = sorted(p.name for p in (ROOT / "apps").iterdir() if (p / "__init__.py").exists())
    assert [a for a in apps if a not in FLOORS] == [], "add the new app to FLOORS and DESIGN.md"


def test_apps_import_only_their_floor_and_below_and_never_portal() -> None:
    offences = []
    for path in _sources("apps"):
        own = _app_of(_module_name(path))
        if own is None:
            continue
        for imported in set(_imports(path)):
            if imported == "portal" or imported.startswith("portal."):
                offences.append(f"{path.relative_to(ROOT)} imports {imported}")
            other = _app_of(imported)
            if other in FLOORS and FLOORS.index(other) > FLOORS.index(own):
                offences.append(f"{path.relative_to(ROOT)} ({own}) imports up: {imported}")
    assert offences == []


@pytest.mark.parametrize("package", ["gpu_worker", "client/ipcai"])
def test_standalone_packages_import_nothing_of_the_portal(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for imported in _imports(path)
        if imported.split(".")[0] in {"apps", "portal"}
    ]
    assert offences == []


def _project_graph() -> dict[str, set[str]]:
    paths = [p for package in ("apps", "portal") for p in _sources(package)]
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # `from apps.x import y` names module apps.x.y when it exists, else apps.x.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = {t for t in targets if not t.startswith(name + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_portal_modules_import_each_other_in_a_circle() -> None:
    assert _cycles(_project_graph()) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    """The check above can fail: a made-up circle of three modules is found."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
