"""The archive's storing tasks, in their own module so the request path can publish the wake-up
call without importing the periodic tasks (apps/archive/tasks.py), which replay through enqueue.

Celery is the executor, the outbox (apps/archive/outbox.py) the durable record. Every event
publishes one ``events.archive_next`` wake-up call: take the next undelivered outbox entry,
store it, acknowledge it. ``events.archive_entry`` takes over one given pending entry: a retry
after a storage or database error (1, 2, 4 ... s with full jitter, capped at
``IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S``), or an entry the sweep reclaimed.

None of them acknowledges late: losing a Celery message costs nothing but time, since its
entry stays in the outbox and the sweep hands it on after ``IPCAI_ARCHIVE_CLAIM_AFTER_S``. A
retry waiting in a worker therefore holds no broker message either (the old design held
hundreds unacknowledged in one worker during a storage outage).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from redis.exceptions import RedisError

from apps.archive import outbox
from apps.archive.consume import handle
from apps.archive.outbox import Entry
from apps.core.redis import get_redis, reply_bytes

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> int:
    """Seconds before retry number `retries` + 1: 1, 2, 4, ... capped, with full jitter so a
    recovering store is not hit by every waiting event at the same instant."""
    return get_exponential_backoff_interval(
        factor=settings.IPCAI_ARCHIVE_RETRY_BACKOFF_S,
        retries=retries,
        maximum=settings.IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S,
        full_jitter=True,
    )


def wake_up() -> None:
    """Publish one wake-up call (the request path's only Celery publish). Raises on broker
    trouble; the caller decides what that means."""
    # retry=False: Celery's default publish retries would hold the request for seconds when
    # the broker is down. argsrepr: no repr building for the logs on the request thread.
    archive_next.apply_async(  # type: ignore[call-arg]  # celery-types lacks the repr options
        retry=False, argsrepr="()", kwargsrepr="{}"
    )


def hand_on(entry_id: str, attempt: int = 1, reconciled: bool = True, countdown: int = 0) -> None:
    archive_entry.apply_async(
        args=(entry_id, attempt, reconciled),
        countdown=countdown or None,  # type: ignore[arg-type]  # None sets no ETA; 0 would
        retry=False,
    )


@shared_task(name="events.archive_next", ignore_result=True)
def archive_next() -> int:
    """Store the next entry no consumer has taken yet; returns how many were handled."""
    try:
        entries = outbox.read_new(outbox.consumer_name(), count=1)
    except RedisError as exc:
        logger.warning("archive outbox unreachable (%s); the sweep catches up", exc)
        return 0
    for entry in entries:
        _store(entry, attempt=1, reconciled=False)
    return len(entries)


@shared_task(name="events.archive_entry", ignore_result=True)
def archive_entry(entry_id: str, attempt: int = 1, reconciled: bool = True) -> bool:
    """Take over one pending entry (whoever held it) and store it; False when it was stored
    and acknowledged meanwhile."""
    try:
        entry = outbox.claim(outbox.consumer_name(), entry_id)
    except RedisError as exc:
        logger.warning("archive outbox unreachable (%s); entry %s waits", exc, entry_id)
        return False
    if entry is None:
        return False
    _store(entry, attempt, reconciled)
    return True


def _store(entry: Entry, attempt: int, reconciled: bool) -> None:
    try:
        if handle(entry, attempt=attempt, reconciled=reconciled):
            return
        if archive_entry.app.conf.task_always_eager:
            return  # run inline (tests, a shell), a retry would recurse: the sweep retries
        hand_on(entry.entry_id, attempt + 1, reconciled, countdown=retry_delay(attempt - 1))
    except Exception as exc:
        # Redis or the broker failed us mid-way: the entry is still pending, nothing is lost;
        # the sweep hands it on once it has been idle for the claim bound.
        logger.warning(
            "archive entry %s left pending (%s); the sweep hands it on", entry.entry_id, exc
        )


@shared_task(name="events.archive_event", ignore_result=True, acks_late=True)
def archive_event(message: dict) -> None:
    """Messages published before the outbox existed (a queue drained across an upgrade): move
    the event and its staged image into the outbox, then drop the staged copy."""
    image = None
    if message.get("image_ref"):
        image = reply_bytes(get_redis().get(message["image_ref"]))
    outbox.add({k: v for k, v in message.items() if k != "image_ref"}, image)
    if message.get("image_ref"):
        get_redis().delete(message["image_ref"])
    wake_up()
