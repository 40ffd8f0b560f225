"""Celery tasks of usage metering (scheduled in settings.CELERY_BEAT_SCHEDULE).

Task names are the ones these tasks had in apps/detection: tasks queued before a deploy still
run after it.
"""

from celery import shared_task

from apps.usage.metering import drain_usage
from apps.usage.retention import purge_old_usage_events


@shared_task(name="apps.detection.tasks.drain_usage_events", ignore_result=True)
def drain_usage_events() -> int:
    """Move queued usage events from Redis into the database and the daily roll-ups."""
    return drain_usage()


@shared_task(name="detection.purge_usage_events", ignore_result=True)
def purge_usage_events() -> int:
    """Apply the usage rows' retention (IPCAI_USAGE_EVENT_RETENTION_DAYS)."""
    return purge_old_usage_events()
