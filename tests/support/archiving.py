"""A portal that archives its requests (Celery on a private broker, a folder archive), and a
wait for its events to be listed: the stack the export, `ipcai export` and browser tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from harness.polling import eventually
from harness.portal import Portal, running_portal
from harness.redis_server import running_redis


@contextmanager
def archiving_portal(folder: Path, worker_url: str, **env: str) -> Iterator[Portal]:
    """The broker is this portal's own: Celery workers of other suites on the machine's shared
    Redis would otherwise take its tasks (and find neither its events nor its jobs)."""
    with (
        running_redis(folder / "broker") as broker,
        running_portal(
            folder,
            worker_url,
            celery=True,
            CELERY_BROKER_URL=broker.url,
            IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
            IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
            **env,
        ) as portal,
    ):
        yield portal


def wait_until_archived(portal: Portal, key: str, count: int, timeout: float = 60) -> list[dict]:
    """The key's tenant's archived events once the events API lists `count` of them."""

    def listed() -> list[dict] | None:
        events = requests.get(
            f"{portal.base_url}/api/v1/events?limit=200", headers={"x-api-key": key}, timeout=30
        ).json()["results"]
        return events if len(events) == count else None

    return eventually(listed, timeout, f"{count} archived events")
