"""Celery tasks of the detection app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from apps.detection.metering import drain_usage
from apps.detection.usage_retention import purge_old_usage_events


@shared_task(ignore_result=True)
def drain_usage_events() -> int:
    """Move queued usage events from Redis into the database and the daily roll-ups."""
    return drain_usage()


@shared_task(name="detection.purge_usage_events", ignore_result=True)
def purge_usage_events() -> int:
    """Apply the usage rows' retention (IPCAI_USAGE_EVENT_RETENTION_DAYS)."""
    return purge_old_usage_events()
