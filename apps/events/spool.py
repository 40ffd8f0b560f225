"""A durable local spool: archive messages that could not reach the broker wait here on disk.

When Redis is unreachable the request must still succeed quickly and the event must not be lost,
so the message is written to a folder instead: one file per event, written to a temporary name,
fsynced, then renamed into place (rename is atomic, so a crash leaves either nothing or a complete
file, never a torn one). Replay publishes the files oldest first and deletes each one only after
the broker accepted it; a crash between the two publishes it again, which the archive task
tolerates because its writes are create-once.

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
from pathlib import Path

from apps.events.durable_files import fsync_dir, write_temp_file

logger = logging.getLogger(__name__)

_SUFFIX = ".msg"


@dataclass(frozen=True)
class ReplayResult:
    published: int
    remaining: int
    error: str | None = None


@dataclass
class Spool:
    root: Path

    @property
    def ready_dir(self) -> Path:
        return self.root / "ready"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def put(self, name: str, payload: bytes) -> Path:
        """Durably store one message under a unique `name` (no slashes); returns its path."""
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad spool name {name!r}")
        self.ready_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        # A time prefix keeps replay in arrival order without reading the files.
        final = self.ready_dir / f"{time.time_ns():020d}-{name}{_SUFFIX}"
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

    def replay(self, publish: Callable[[bytes], None], limit: int | None = None) -> ReplayResult:
        """Publish spooled messages oldest first, deleting each after `publish` returns.

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
                    publish(payload)
                except Exception as exc:
                    # Any publish failure (broker down, timeout, Redis out of memory) means
                    # "keep it": the message is the only copy of the event.
                    logger.warning("spool replay stopped after %d: %s", published, exc)
                    return ReplayResult(published, len(self.pending()), str(exc))
                path.unlink(missing_ok=True)
                published += 1
        return ReplayResult(published, len(self.pending()))
