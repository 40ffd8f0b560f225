"""Retention of per-request usage rows: old UsageEvent rows are deleted, daily roll-ups stay.

One row per API request adds up to millions a month for a busy tenant; reports, quotas and
the usage API read the daily roll-ups (DailyUsage), so the rows are only needed for recent
troubleshooting. Deleted in batches so one run never holds a long lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.usage.models import UsageEvent


def purge_old_usage_events(now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delete usage rows older than IPCAI_USAGE_EVENT_RETENTION_DAYS (0: keep all)."""
    days = settings.IPCAI_USAGE_EVENT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = UsageEvent.objects.filter(created_at__lt=cutoff)
    removed = 0
    while batch := list(old.values_list("pk", flat=True)[:batch_size]):
        removed += UsageEvent.objects.filter(pk__in=batch).delete()[0]
    return removed
