"""Finished exports are deleted IPCAI_EXPORT_RETENTION_DAYS after they finished: the zip in
the archive storage, then the row (beat runs it hourly, apps/reports/tasks.py). The API shows
each export's `expires_at` and the dashboard says "kept until", so the tenant knows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core.storage import get_storage
from apps.reports.models import DatasetExport

logger = logging.getLogger(__name__)


def purge_expired_exports(now: datetime | None = None) -> int:
    """Delete every export that finished more than the retention ago; how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IPCAI_EXPORT_RETENTION_DAYS)
    expired = list(DatasetExport.objects.filter(finished_at__lt=cutoff))
    keys = [export.storage_key for export in expired if export.storage_key]
    if keys:
        get_storage().delete(keys)  # StorageError: nothing deleted, the next run tries again
    DatasetExport.objects.filter(pk__in=[export.pk for export in expired]).delete()
    if expired:
        logger.info("retention removed %d dataset exports", len(expired))
    return len(expired)
