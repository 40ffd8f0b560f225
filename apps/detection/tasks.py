"""Celery tasks of the detection app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from apps.detection.metering import drain_usage


@shared_task(ignore_result=True)
def drain_usage_events() -> int:
    """Move queued usage events from Redis into the database and the daily roll-ups."""
    return drain_usage()
