"""The live portal the slow camera-event tests drive: real gunicorn, Celery and the session's
worker, an archive folder and spool of its own, webhooks to local receivers retried quickly and
the idle sweep every second, so each test waits seconds, not minutes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.portal import Portal, running_portal


@contextmanager
def alerts_portal(log_dir: Path, worker_url: str, **settings: str) -> Iterator[Portal]:
    with running_portal(
        log_dir,
        worker_url,
        celery=True,
        workers=2,
        threads=8,
        IPCAI_ARCHIVE_URL=f"file://{log_dir / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(log_dir / "spool"),
        IPCAI_WEBHOOK_ALLOW_PRIVATE="true",
        IPCAI_WEBHOOK_RETRY_BASE_S="0.5",
        IPCAI_WEBHOOK_RETRY_MAX_S="2",
        IPCAI_CAMERA_SWEEP_S="1",
        **settings,
    ) as portal:
        yield portal
