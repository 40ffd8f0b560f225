"""Export jobs: one write function per state change, called by the API, the dashboard, the
Celery task and tests alike (zulip-style)."""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.events.storage import StorageError, get_storage
from apps.reports.datasets.archive_zip import ExportTooLarge
from apps.reports.datasets.build import build_export, export_key
from apps.reports.datasets.selection import ExportSpec
from apps.reports.models import DatasetExport
from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Progress is written at most this often: a row update per frame would cost more than the frame.
PROGRESS_EVERY_S = 0.5


def start_export(tenant: Tenant, spec: ExportSpec, created_by=None) -> DatasetExport:
    """A queued export job; the Celery task starts once the row is committed."""
    from apps.reports.tasks import build_dataset_export  # the task module imports this one

    if spec.service is None:
        services = tuple(tenant.services.values_list("application_type", flat=True))
        spec = ExportSpec.from_json({**spec.to_json(), "tenant_services": services})
    export = DatasetExport.objects.create(
        tenant=tenant, created_by=created_by, format=spec.format, spec=spec.to_json()
    )
    transaction.on_commit(lambda: build_dataset_export.delay(str(export.pk)))
    return export


def run_export(export_id: str) -> DatasetExport | None:
    """Build a queued export; the job row ends DONE or FAILED with a clear error."""
    claimed = DatasetExport.objects.filter(pk=export_id, status=DatasetExport.Status.QUEUED).update(
        status=DatasetExport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:  # a duplicate delivery, or a job already finished
        return DatasetExport.objects.filter(pk=export_id).first()
    export = DatasetExport.objects.select_related("tenant").get(pk=export_id)
    rows = DatasetExport.objects.filter(pk=export_id)
    last_write = 0.0

    def progress(written: int, scanned: int, candidates: int) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write >= PROGRESS_EVERY_S or scanned == candidates:
            last_write = now
            rows.update(images=written, scanned=scanned, candidates=candidates)

    key = export_key(export.tenant.slug, export.pk.hex)
    try:
        built = build_export(
            export.tenant_id,
            ExportSpec.from_json(export.spec),
            get_storage(),
            key,
            limit_bytes=settings.IPCAI_EXPORT_MAX_BYTES,
            max_candidates=settings.IPCAI_EXPORT_MAX_CANDIDATES,
            progress=progress,
        )
    except ExportTooLarge as exc:
        return _fail(export_id, "export_too_large", str(exc))
    except StorageError as exc:
        logger.warning("export %s: archive storage failed: %s", export_id, exc)
        return _fail(export_id, "archive_unavailable", "The archive storage is unavailable.")
    except Exception:
        logger.exception("export %s failed", export_id)
        _fail(export_id, "export_failed", "The export failed; the operator has the details.")
        raise
    rows.update(
        status=DatasetExport.Status.DONE,
        finished_at=timezone.now(),
        images=built.images,
        annotations=built.annotations,
        size_bytes=built.size_bytes,
        storage_key=key,
    )
    return rows.get()


def _fail(export_id: str, code: str, message: str) -> DatasetExport:
    rows = DatasetExport.objects.filter(pk=export_id)
    rows.update(
        status=DatasetExport.Status.FAILED,
        finished_at=timezone.now(),
        error_code=code,
        error_message=message[:500],
    )
    return rows.get()


def tenant_export(tenant_id: int, export_id: str) -> DatasetExport | None:
    """The tenant's export with that id, or None (also for malformed ids)."""
    try:
        parsed = uuid.UUID(str(export_id))
    except ValueError:
        return None
    return DatasetExport.objects.filter(tenant_id=tenant_id, pk=parsed).first()
