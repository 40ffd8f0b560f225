"""Export jobs: start one (the API, the dashboard and tests call this), find a tenant's one.
The job runs in apps/reports/datasets/export_task.py.

Bounded per tenant (a key with `events:read` must not fill the store in a loop): one export
queued or running at a time, IPCAI_EXPORTS_PER_HOUR started an hour, and each deleted
IPCAI_EXPORT_RETENTION_DAYS after it finished (datasets/retention.py).
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.reports.datasets.export_task import build_dataset_export
from apps.reports.datasets.selection import ExportSpec, InvalidExport
from apps.reports.models import DatasetExport
from apps.tenants.models import Tenant

# A job queued or running this long is taken for lost (its worker died): it no longer blocks
# the tenant's next export.
STALE_AFTER = timedelta(hours=6)


class ExportRefused(InvalidExport):
    """Not started: another is under way (409) or the hourly rate is spent (429)."""

    def __init__(self, status: int, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after


@transaction.atomic
def start_export(tenant: Tenant, spec: ExportSpec, created_by=None) -> DatasetExport:
    """A queued export job; the Celery task starts once the row is committed."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # one start at a time
    check_bounds(tenant)
    if spec.service is None:
        services = tuple(tenant.services.values_list("application_type", flat=True))
        spec = ExportSpec.from_json({**spec.to_json(), "tenant_services": services})
    export = DatasetExport.objects.create(
        tenant=tenant, created_by=created_by, format=spec.format, spec=spec.to_json()
    )
    transaction.on_commit(lambda: build_dataset_export.delay(str(export.pk)))
    return export


def check_bounds(tenant: Tenant) -> None:
    now = timezone.now()
    tenants = DatasetExport.objects.filter(tenant=tenant)
    busy = tenants.filter(
        status__in=[DatasetExport.Status.QUEUED, DatasetExport.Status.RUNNING],
        created_at__gte=now - STALE_AFTER,
    )
    if busy.exists():
        raise ExportRefused(
            409,
            "export_in_progress",
            "Another export of this tenant is queued or running; start the next when it ends.",
        )
    hour_ago = now - timedelta(hours=1)
    recent = list(
        tenants.filter(created_at__gte=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    limit = settings.IPCAI_EXPORTS_PER_HOUR
    if len(recent) >= limit:
        retry_after = max(1, math.ceil((recent[-limit] - hour_ago).total_seconds()))
        raise ExportRefused(
            429,
            "too_many_exports",
            f"At most {limit} exports an hour per tenant; try again in {retry_after} s.",
            retry_after,
        )


def tenant_export(tenant_id: int, export_id: str) -> DatasetExport | None:
    """The tenant's export with that id, or None (also for malformed ids)."""
    try:
        parsed = uuid.UUID(str(export_id))
    except ValueError:
        return None
    return DatasetExport.objects.filter(tenant_id=tenant_id, pk=parsed).first()
