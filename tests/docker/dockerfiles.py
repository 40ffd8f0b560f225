"""Read the Dockerfiles in docker/ as instructions, so tests can check what an image would run
without a Docker engine (none runs here or in CI)."""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass
from pathlib import Path

from harness.processes import REPO_ROOT

DOCKER_DIR = REPO_ROOT / "docker"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ENV...
    arguments: str


def instructions(dockerfile: Path) -> list[Instruction]:
    """Instructions in order, continuation lines joined, comments and blank lines dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    result = []
    for text in logical:
        keyword, _, arguments = text.partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
    return result


def of_kind(dockerfile: Path, keyword: str) -> list[str]:
    return [i.arguments for i in instructions(dockerfile) if i.keyword == keyword]


def final_stage(dockerfile: Path) -> list[Instruction]:
    """Instructions of the last build stage (what the image is)."""
    found = instructions(dockerfile)
    last_from = max(n for n, i in enumerate(found) if i.keyword == "FROM")
    return found[last_from:]


def environment(dockerfile: Path) -> dict[str, str]:
    """ENV values of the final stage, later ones winning."""
    env: dict[str, str] = {}
    for instruction in final_stage(dockerfile):
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def copy_sources(dockerfile: Path) -> list[str]:
    """Build-context paths that COPY reads (COPY --from=<stage> reads a stage, not the context)."""
    sources = []
    for arguments in of_kind(dockerfile, "COPY"):
        words = shlex.split(arguments)
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def ignored_by_dockerignore(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (patterns as Docker reads
    them: leading "**/" matches at any depth, a later "!pattern" re-includes)."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            ignored = not negated
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
