"""A durable local spool: what could not reach Redis waits here on disk, then is replayed.

Two kinds of message use it: archive events (the whole event, image inline, when the outbox's
Redis refuses the ``XADD``) and usage events (when the usage queue's ``RPUSH`` fails), so a Redis
outage neither fails the camera's request nor loses its archive entry or its metering. The
kind is part of the file name; the replayer (apps/archive/enqueue.py) dispatches by kind.

When Redis is unreachable the request must still succeed quickly and nothing may be lost, so
the message is written to a folder instead: one file per message, written to a temporary name,
fsynced, then renamed into place (rename is atomic, so a crash leaves either nothing or a complete
file, never a torn one). Replay publishes the files oldest first and deletes each one only after
Redis accepted it; a crash between the two publishes it again, which the archive tolerates
(create-once writes) and usage draining too (one row per request id).

Several processes share one spool (gunicorn workers, the Celery worker, a management command), so
replay takes an exclusive ``flock`` on a lock file: one replayer at a time, and the lock dies with
its holder.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from apps.core.durable_files import fsync_dir, write_temp_file

logger = logging.getLogger(__name__)

_SUFFIX = ".msg"
ARCHIVE, USAGE = "archive", "usage"


@dataclass(frozen=True)
class ReplayResult:
    published: int
    remaining: int
    error: str | None = None


@dataclass(frozen=True)
class SpoolStats:
    files: int
    by_kind: dict[str, int]
    oldest_age_s: float | None

    def as_dict(self) -> dict:
        oldest = None if self.oldest_age_s is None else round(self.oldest_age_s, 1)
        return {"files": self.files, "by_kind": self.by_kind, "oldest_age_s": oldest}


def kind_of(path: Path) -> str:
    """`<time>-<kind>-<name>.msg`; files from before kinds existed are archive events."""
    parts = path.name.removesuffix(_SUFFIX).split("-", 2)
    return parts[1] if len(parts) == 3 else ARCHIVE


@dataclass
class Spool:
    root: Path

    @property
    def ready_dir(self) -> Path:
        return self.root / "ready"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def put(self, name: str, payload: bytes, kind: str = ARCHIVE) -> Path:
        """Durably store one message of `kind` under a unique `name` (no slashes); returns its
        path."""
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad spool name {name!r}")
        if not kind.isalnum():
            raise ValueError(f"bad spool kind {kind!r}")
        self.ready_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        # A time prefix keeps replay in arrival order without reading the files.
        final = self.ready_dir / f"{time.time_ns():020d}-{kind}-{name}{_SUFFIX}"
        tmp = write_temp_file(self.tmp_dir, payload)
        os.replace(tmp, final)
        fsync_dir(self.ready_dir)
        return final

    def pending(self) -> list[Path]:
        """Spooled messages, oldest first."""
        try:
            names = sorted(e.name for e in os.scandir(self.ready_dir) if e.name.endswith(_SUFFIX))
        except FileNotFoundError:
            return []
        return [self.ready_dir / n for n in names]

    def has_pending(self) -> bool:
        try:
            with os.scandir(self.ready_dir) as entries:
                return any(e.name.endswith(_SUFFIX) for e in entries)
        except FileNotFoundError:
            return False

    def stats(self) -> SpoolStats:
        pending = self.pending()
        by_kind: dict[str, int] = {}
        for path in pending:
            by_kind[kind_of(path)] = by_kind.get(kind_of(path), 0) + 1
        oldest = None
        if pending:
            oldest = max(0.0, time.time() - int(pending[0].name.split("-", 1)[0]) / 1e9)
        return SpoolStats(len(pending), by_kind, oldest)

    @contextmanager
    def _replay_lock(self) -> Iterator[bool]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "replay.lock", "a+b") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def replay(
        self, publish: Callable[[str, bytes], None], limit: int | None = None
    ) -> ReplayResult:
        """Publish spooled messages oldest first with `publish(kind, payload)`, deleting each
        after it returns.

        Stops at the first failure (the broker is probably still down; the rest would fail the
        same way) and leaves that message and the rest in place. Another process already
        replaying makes this a no-op.
        """
        published = 0
        with self._replay_lock() as acquired:
            if not acquired:
                return ReplayResult(0, len(self.pending()))
            for path in self.pending()[:limit]:
                try:
                    payload = path.read_bytes()
                except FileNotFoundError:
                    continue
                try:
                    publish(kind_of(path), payload)
                except Exception as exc:
                    # Any publish failure (broker down, timeout, Redis out of memory) means
                    # "keep it": the message is the only copy of the event.
                    logger.warning("spool replay stopped after %d: %s", published, exc)
                    return ReplayResult(published, len(self.pending()), str(exc))
                path.unlink(missing_ok=True)
                published += 1
        return ReplayResult(published, len(self.pending()))


@cache
def _spool_for(path: str) -> Spool:
    return Spool(Path(path))


def get_spool() -> Spool:
    """This host's spool (``IPCAI_EVENT_SPOOL_DIR``), shared by every process on it."""
    return _spool_for(str(settings.IPCAI_EVENT_SPOOL_DIR))
