"""tests/ and bench/ share the process helpers through harness/ and nothing else: a benchmark
never imports a test module, a test never imports a benchmark, and harness/ imports neither
(so either side can change without breaking the other). Read from the source with `ast`,
every import statement counted, also those inside functions.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _top_level_imports(path: Path) -> set[str]:
    """The top-level package of every absolute import in a file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [("bench", {"tests"}), ("tests", {"bench"}), ("harness", {"tests", "bench"})],
)
def test_tests_and_bench_share_only_the_harness(folder: str, forbidden: set[str]) -> None:
    sources = sorted((ROOT / folder).rglob("*.py"))
    assert sources, f"no sources under {folder}/"
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources
        for name in sorted(_top_level_imports(path) & forbidden)
    ]
    assert offences == []


def test_the_harness_is_not_part_of_the_product_wheel() -> None:
    """setuptools matches package names against these patterns (fnmatch); none may match."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = [
        f"{name} (by {pattern})"
        for name in ("harness", "tests", "bench")
        for pattern in included
        if fnmatch.fnmatchcase(name, pattern)
    ]
    assert shipped == []
