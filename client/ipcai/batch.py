"""Detection over many images for `ipcai detect`: inputs, bounded concurrency, outputs.

Results are reported in input order (a script diffing two runs sees the same order) while up
to `concurrency` requests are in flight; a wrong key or a service that is not enabled stops
the run at the first answer instead of failing every image the same way.
"""

from __future__ import annotations

import asyncio
import glob
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipcai.client import AsyncClient
from ipcai.drawing import draw_detections
from ipcai.errors import APIError, AuthenticationError, IpcaiError, PermissionDenied
from ipcai.images import IMAGE_SUFFIXES
from ipcai.models import DetectionResult
from ipcai.text import plural


class InputError(IpcaiError):
    """An argument names no file, folder or matching glob."""


def expand_inputs(arguments: Sequence[str], *, recursive: bool = False) -> list[Path]:
    """Files from arguments that are files, folders (image files inside) or glob patterns.

    Globs are expanded here too, so a quoted pattern works the same on every shell.
    """
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            candidates = path.rglob("*") if recursive else path.iterdir()
            found += sorted(
                p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.is_file():
            found.append(path)
        elif glob.has_magic(argument):
            matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
            files = [p for p in matches if p.is_file()]
            if not files:
                raise InputError(f"{argument}: no file matches")
            found += files
        else:
            raise InputError(f"{argument}: no such file or folder")
    return list(dict.fromkeys(found))  # each file once, first position kept


def annotated_paths(inputs: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
    """Where each input's annotated copy goes: out_dir/<name>, made unique when two inputs
    from different folders share a name; JPEG unless the input was PNG."""
    taken: set[str] = set()
    targets: dict[Path, Path] = {}
    for path in inputs:
        suffix = path.suffix.lower() if path.suffix.lower() in {".jpg", ".jpeg", ".png"} else ".jpg"
        name, number = f"{path.stem}{suffix}", 1
        while name.lower() in taken:
            number += 1
            name = f"{path.stem}-{number}{suffix}"
        taken.add(name.lower())
        targets[path] = out_dir / name
    return targets


@dataclass
class ImageOutcome:
    """What happened to one input image."""

    path: Path
    latency: float
    result: DetectionResult | None = None
    error: IpcaiError | None = None
    annotated: Path | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"image": str(self.path)}
        if self.result is not None:
            record.update(self.result.to_json())
        else:
            record["error"] = error_json(self.error)
        if self.annotated is not None:
            record["annotated"] = str(self.annotated)
        record["latency_ms"] = round(self.latency * 1000, 1)
        return record


def error_json(error: IpcaiError | None) -> dict[str, Any]:
    if isinstance(error, APIError):
        return {"status": error.status, "code": error.code, "message": error.message}
    return {"code": error.code if error else "client_error", "message": str(error)}


def _save_annotated(path: Path, result: DetectionResult, target: Path) -> None:
    image = draw_detections(path, result)
    if target.suffix == ".png":
        image.save(target)
    else:
        image.save(target, quality=90)


async def detect_many(
    client: AsyncClient,
    paths: Sequence[Path],
    service: str,
    *,
    min_confidence: float | None = None,
    slices: str | None = None,
    concurrency: int = 4,
    out_dir: Path | None = None,
    on_done: Callable[[ImageOutcome], None] = lambda outcome: None,
) -> list[ImageOutcome]:
    """Detect on every path with at most `concurrency` requests in flight; `on_done` sees each
    outcome in input order as soon as it and all before it are finished."""
    targets = annotated_paths(paths, out_dir) if out_dir is not None else {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    semaphore = asyncio.Semaphore(max(1, concurrency))
    finished: dict[int, ImageOutcome] = {}
    outcomes: list[ImageOutcome] = []

    async def one(index: int, path: Path) -> None:
        async with semaphore:
            started = time.monotonic()
            try:
                result = await client.detect(
                    path, service, min_confidence=min_confidence, slices=slices
                )
            except (AuthenticationError, PermissionDenied):
                raise
            except IpcaiError as exc:
                finished[index] = ImageOutcome(path, time.monotonic() - started, error=exc)
            else:
                outcome = ImageOutcome(path, time.monotonic() - started, result=result)
                if path in targets:
                    await asyncio.to_thread(_save_annotated, path, result, targets[path])
                    outcome.annotated = targets[path]
                finished[index] = outcome
        while len(outcomes) in finished:  # report in input order
            outcome = finished.pop(len(outcomes))
            outcomes.append(outcome)
            on_done(outcome)

    try:
        async with asyncio.TaskGroup() as group:
            for index, path in enumerate(paths):
                group.create_task(one(index, path))
    except BaseExceptionGroup as failures:
        # The TaskGroup cancelled the other requests (a wrong key, a closed output pipe);
        # raise the cause itself, which callers know how to handle, not a group of it.
        raise failures.exceptions[0] from None
    return outcomes


def _objects(outcome: ImageOutcome) -> str:
    if outcome.result is None:
        return f"error: {error_json(outcome.error)['code']}"
    counts = outcome.result.counts()
    return ", ".join(f"{count} {label}" for label, count in counts.items()) or "-"


def summary_table(outcomes: Iterable[ImageOutcome]) -> str:
    """Per image: objects per class and latency; then totals."""
    outcomes = list(outcomes)
    rows = [("image", "objects", "latency")]
    rows += [(str(o.path), _objects(o), f"{o.latency * 1000:.0f} ms") for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>8}" for r in rows]
    ok = [o for o in outcomes if o.ok]
    objects = sum(len(o.result.detections) for o in ok if o.result is not None)
    total = f"{plural(len(outcomes), 'image')}, {len(ok)} ok, {len(outcomes) - len(ok)} failed, "
    total += plural(objects, "object")
    if ok:
        latencies = [o.latency * 1000 for o in ok]
        total += f"; latency median {statistics.median(latencies):.0f} ms"
        total += f", max {max(latencies):.0f} ms"
    return "\n".join([*lines, total])
