"""Celery tasks of the request-event archive: storing (apps/archive/store_task.py, imported
here so Celery's autodiscovery registers it), the outbox sweep, spool replay and retention."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from apps.archive.consume import sweep
from apps.archive.store import purge_expired_events
from apps.archive.store_task import archive_entry, archive_event, archive_next, hand_on
from apps.core.spool_replay import replay_spool

__all__ = [
    "archive_entry",
    "archive_event",
    "archive_next",
    "purge_expired_events_task",
    "replay_spool_task",
    "sweep_outbox_task",
]

logger = logging.getLogger(__name__)


@shared_task(name="events.replay_spool", ignore_result=True)
def replay_spool_task() -> int:
    """Periodic safety net: replay spool files this host's web processes left behind (the
    embedded default shares one disk; elsewhere each portal replays its own spool)."""
    return replay_spool().published


@shared_task(name="events.sweep_outbox", ignore_result=True)
def sweep_outbox_task() -> dict[str, int]:
    """Reconciliation: hand on outbox entries a dead consumer held or a lost wake-up call left
    undelivered (apps/archive/consume.py)."""
    result = sweep(hand_on)
    return {"reclaimed": result.reclaimed, "undelivered": result.undelivered}


@shared_task(name="events.purge_expired", ignore_result=True, acks_late=True)
def purge_expired_events_task() -> int:
    removed = purge_expired_events()
    if removed:
        logger.info("retention removed %d archived events", removed)
    return removed


@worker_ready.connect
def _catch_up_at_worker_start(**_: object) -> None:
    """A worker back from a crash replays what was spooled meanwhile and sweeps the outbox at
    once, instead of waiting for beat."""
    result = replay_spool()
    if result.published or result.remaining:
        logger.info(
            "spool replay at start: %d published, %d left", result.published, result.remaining
        )
    try:
        swept = sweep(hand_on)
    except Exception as exc:  # Redis not back yet: beat's sweep runs again shortly
        logger.warning("outbox sweep at start failed: %s", exc)
    else:
        if swept.reclaimed or swept.undelivered:
            logger.info(
                "outbox sweep at start: %d reclaimed, %d undelivered handed on",
                swept.reclaimed,
                swept.undelivered,
            )
