"""The export job's Celery task and what it runs: claim the queued job, build the zip, record
the outcome on the job row (DONE or FAILED with a clear error)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.storage import StorageError, get_storage
from apps.reports.datasets.archive_zip import ExportTooLarge
from apps.reports.datasets.build import build_export, export_key
from apps.reports.datasets.selection import ExportSpec
from apps.reports.models import DatasetExport

logger = logging.getLogger(__name__)

# Progress is written at most this often: a row update per frame would cost more than the frame.
PROGRESS_EVERY_S = 0.5


@shared_task(name="reports.build_dataset_export", ignore_result=True, acks_late=True)
def build_dataset_export(export_id: str) -> None:
    """Build one dataset export; a duplicate delivery of a job already claimed does nothing."""
    run_export(export_id)


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
