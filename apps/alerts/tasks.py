"""Celery tasks of camera events: webhook attempts, snapshot storage, and the sweeps that make
the database the source of truth (due deliveries and unstored snapshots are found again even
when their queued task was lost with Redis).

Registered through apps/archive/tasks.py (Celery's autodiscovery imports that module).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from apps.alerts import health
from apps.alerts.models import CameraEvent
from apps.alerts.retention import purge_expired_camera_events
from apps.alerts.snapshots import store_event_snapshot
from apps.alerts.sweeps import close_idle_cameras, close_orphaned_events
from apps.alerts.video_jobs import tasks as video_tasks  # noqa: F401  (registers video.*)
from apps.alerts.webhooks import delivery
from apps.core.storage import StorageError

logger = logging.getLogger(__name__)

MAX_COUNTDOWN_S = 60.0


@shared_task(
    name="events.deliver_webhook",
    ignore_result=True,
    acks_late=True,
    # A second fence behind the attempt's own deadline (webhooks/outbound.py): the pool
    # interrupts (soft) then kills (hard) an attempt stuck past it. The attempt is on record
    # before it is sent, so a killed one still counts and is retried on the schedule.
    soft_time_limit=delivery.soft_time_limit_s(),
    time_limit=delivery.time_limit_s(),
)
def deliver_webhook(delivery_id: str) -> str:
    """One attempt. A failed one due again soon is queued with that countdown; later ones are
    left to the sweep, which finds due rows every IPCAI_CAMERA_SWEEP_S: a Redis broker hands a
    countdown longer than its visibility timeout to a second worker (harmless, the row is
    claimed, but wasteful), and hours-long countdowns would pile up in the workers. Routed to
    the webhook queue (CELERY_TASK_ROUTES) and its own worker."""
    outcome = delivery.attempt(delivery_id)
    if outcome == "retry":
        wait = delivery.seconds_until_due(delivery_id)
        if wait is not None and wait <= MAX_COUNTDOWN_S:
            delivery.enqueue([delivery_id], countdown=wait)
    return outcome


@shared_task(
    bind=True,
    name="events.store_snapshot",
    ignore_result=True,
    acks_late=True,
    max_retries=20,
)
def store_snapshot(self, event_id: str) -> bool:
    try:
        return store_event_snapshot(event_id)
    except (StorageError, DatabaseError, RedisError) as exc:
        logger.warning("snapshot of event %s not stored yet: %s", event_id, exc)
        raise self.retry(exc=exc, countdown=min(300, 2**self.request.retries)) from exc


@shared_task(name="events.camera_sweep", ignore_result=True)
def camera_sweep() -> dict:
    """Close events of silent cameras, re-enqueue due deliveries, store missed snapshots."""
    closed = close_idle_cameras() + close_orphaned_events()
    health_changes = health.sweep()  # cameras gone offline
    due = delivery.due_deliveries()
    delivery.enqueue(due)
    recent = timezone.now() - timedelta(days=1)
    unstored = list(
        CameraEvent.objects.filter(
            ended_at__isnull=False, ended_at__gte=recent, snapshot_key=""
        ).values_list("id", flat=True)[:200]
    )
    for event_id in unstored:
        try:
            store_event_snapshot(str(event_id))
        except (StorageError, RedisError) as exc:
            logger.warning("snapshot of event %s not stored yet: %s", event_id, exc)
            break
    return {
        "closed": closed,
        "deliveries": len(due),
        "snapshots": len(unstored),
        "health": health_changes,
    }


@shared_task(name="events.purge_camera_events", ignore_result=True, acks_late=True)
def purge_camera_events() -> int:
    removed = purge_expired_camera_events()
    if removed:
        logger.info("retention removed %d camera events", removed)
    return removed
