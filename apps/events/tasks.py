"""Celery tasks of the request-event archive: storing (apps/events/archive_task.py, imported
here so Celery's autodiscovery registers it), spool replay and retention."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from apps.events.archive import purge_expired_events
from apps.events.archive_task import archive_event, retry_delay
from apps.events.enqueue import replay_spool

__all__ = ["archive_event", "purge_expired_events_task", "replay_spool_task", "retry_delay"]

logger = logging.getLogger(__name__)


@shared_task(name="events.replay_spool", ignore_result=True)
def replay_spool_task() -> int:
    """Periodic safety net: replay spool files this host's web processes left behind (the
    embedded default shares one disk; elsewhere each portal replays its own spool)."""
    return replay_spool().published


@shared_task(name="events.purge_expired", ignore_result=True, acks_late=True)
def purge_expired_events_task() -> int:
    removed = purge_expired_events()
    if removed:
        logger.info("retention removed %d archived events", removed)
    return removed


@worker_ready.connect
def _replay_spool_at_worker_start(**_: object) -> None:
    """Events spooled while the broker was down are replayed as soon as a worker is back."""
    result = replay_spool()
    if result.published or result.remaining:
        logger.info(
            "spool replay at start: %d published, %d left", result.published, result.remaining
        )
