"""Export jobs: start one (the API, the dashboard and tests call this), find a tenant's one.
The job runs in apps/reports/datasets/export_task.py."""

from __future__ import annotations

import uuid

from django.db import transaction

from apps.reports.datasets.export_task import build_dataset_export
from apps.reports.datasets.selection import ExportSpec
from apps.reports.models import DatasetExport
from apps.tenants.models import Tenant


def start_export(tenant: Tenant, spec: ExportSpec, created_by=None) -> DatasetExport:
    """A queued export job; the Celery task starts once the row is committed."""
    if spec.service is None:
        services = tuple(tenant.services.values_list("application_type", flat=True))
        spec = ExportSpec.from_json({**spec.to_json(), "tenant_services": services})
    export = DatasetExport.objects.create(
        tenant=tenant, created_by=created_by, format=spec.format, spec=spec.to_json()
    )
    transaction.on_commit(lambda: build_dataset_export.delay(str(export.pk)))
    return export


def tenant_export(tenant_id: int, export_id: str) -> DatasetExport | None:
    """The tenant's export with that id, or None (also for malformed ids)."""
    try:
        parsed = uuid.UUID(str(export_id))
    except ValueError:
        return None
    return DatasetExport.objects.filter(tenant_id=tenant_id, pk=parsed).first()
