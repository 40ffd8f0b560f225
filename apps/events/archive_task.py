"""The archive's storing task, in its own module so the request path can publish it without
importing the periodic tasks (apps/events/tasks.py), which in turn replay through enqueue.

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
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from apps.events.archive import store_event
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
