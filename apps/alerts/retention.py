"""Retention of camera events: a tenant's events go when its longest service retention ends.

A camera event may come from any of the camera's services, so it is kept as long as the
tenant keeps any request event: the longest ``retention_days`` of its services, and forever
when any of them says 0 ("no automatic deletion"). Snapshot objects go first, rows second, as
in the request archive (apps/archive/store.py), so no object outlives the row naming it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from apps.alerts.models import CameraEvent
from apps.core.storage import ArchiveStorage, get_storage
from apps.tenants.models import TenantService


def retention_days_by_tenant() -> dict[int, int]:
    """Tenant id -> days its camera events are kept (0: kept until deleted by hand)."""
    days: dict[int, list[int]] = defaultdict(list)
    for tenant_id, retention in TenantService.objects.values_list("tenant_id", "retention_days"):
        days[tenant_id].append(retention)
    return {tenant: 0 if 0 in values else max(values) for tenant, values in days.items()}


def purge_expired_camera_events(
    now=None, batch_size: int = 500, storage: ArchiveStorage | None = None
) -> int:
    now = now or timezone.now()
    storage = storage or get_storage()
    removed = 0
    for tenant_id, days in retention_days_by_tenant().items():
        if days <= 0:
            continue
        expired = CameraEvent.objects.filter(
            tenant_id=tenant_id, started_at__lt=now - timedelta(days=days), ended_at__isnull=False
        )
        while batch := list(expired.values_list("id", "snapshot_key")[:batch_size]):
            keys = [k for _, key in batch if key for k in (key, key.rsplit(".", 1)[0] + ".json")]
            storage.delete(keys)
            CameraEvent.objects.filter(id__in=[event_id for event_id, _ in batch]).delete()
            removed += len(batch)
    return removed
