"""Celery tasks of the request-event archive.

``archive_event`` acknowledges late (the message stays in Redis until the objects are stored)
and retries storage, database and staging-Redis errors with capped exponential backoff and no
retry limit: an archive outage of hours delays events, it does not drop them. Keep
``IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S`` below the broker's visibility timeout, or Redis redelivers
a waiting retry while it still waits (harmless, since writes are create-once, but wasteful).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Reject
from celery.signals import worker_ready
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from apps.events.archive import purge_expired_events, store_event
from apps.events.enqueue import replay_spool
from apps.events.staging import drop_staged_image
from apps.events.storage import StorageError

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> int:
    """Seconds before retry number `retries` + 1: 1, 2, 4, ... capped, with full jitter so a
    recovering store is not hit by every waiting task at the same instant."""
    return get_exponential_backoff_interval(
        factor=settings.IPCAI_ARCHIVE_RETRY_BACKOFF_S,
        retries=retries,
        maximum=settings.IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S,
        full_jitter=True,
    )


@shared_task(
    bind=True,
    name="events.archive_event",
    acks_late=True,
    # A worker process killed mid-task (OOM, deploy) puts the message back instead of dropping.
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,
)
def archive_event(self, message: dict) -> None:
    try:
        store_event(message)
    except (StorageError, DatabaseError, RedisError) as exc:
        logger.warning(
            "archiving event %s (request %s) failed (attempt %d), retrying: %s",
            message.get("event_id"),
            message.get("portal_request_id"),
            self.request.retries + 1,
            exc,
        )
        try:
            raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc
        except Reject as rejected:
            # Celery drops the message when it cannot publish the retry (broker gone too);
            # requeue the original instead, or Redis restores it after the visibility timeout.
            raise Reject(rejected.reason, requeue=True) from exc
    if message.get("image_ref"):
        try:
            drop_staged_image(message["image_ref"])
        except RedisError as exc:  # the event is stored; a leftover blob only costs memory
            logger.warning("could not drop staged image %s: %s", message["image_ref"], exc)


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
