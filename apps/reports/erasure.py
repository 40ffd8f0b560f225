"""Erasure: remove every stored copy of a camera's (or the whole tenant's) images and events in
a time range, from storage and the database, and say what could not be removed and why.

What is removed (docs/PRIVACY.md):
- archived requests received in the range: image, JSON record, thumbnail, index row. An
  archived request names no camera; for a camera's erasure it is tied to the camera through
  its usage event (same request id). One whose usage event is gone (usage retention is
  shorter than the archive's) cannot be tied, and is reported rather than guessed;
- camera events started in the range: snapshot, its boxes file, the Redis stash of an open
  event, the row (and its webhook deliveries);
- video jobs created in the range: event snapshots, the clip the job stored, the job's rows;
- dataset exports whose zip holds an image of an erased archived request: zip and row.

Storage first, then rows: a storage failure leaves the row (and so the item listed, and
erasable again) and is reported; a row never outlives nothing, an object never outlives its
row unnoticed. Usage rows (billing: counts, no image) stay. Reports and this request's own
row are the audit log.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.alerts import snapshots
from apps.alerts.models import CameraEvent
from apps.alerts.video_jobs.models import VideoJob, VideoJobEvent
from apps.archive.models import ArchivedEvent
from apps.archive.thumbnails import thumbnail_key
from apps.core.storage import ArchiveStorage, StorageError, get_storage
from apps.reports.models import DatasetExport, ErasureRequest
from apps.tenants.models import Tenant
from apps.usage.models import UsageEvent

logger = logging.getLogger(__name__)
KINDS = (
    "archived_requests",
    "thumbnails",
    "camera_events",
    "snapshots",
    "video_jobs",
    "video_job_snapshots",
    "video_clips",
    "dataset_exports",
)
BATCH = 500


@dataclass
class _Report:
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    not_removed: list[dict[str, str]] = field(default_factory=list)

    def fail(self, kind: str, item: object, reason: str) -> None:
        self.not_removed.append({"kind": kind, "id": str(item), "reason": reason})


def do_erase(
    tenant: Tenant,
    *,
    since: datetime,
    until: datetime,
    camera: str = "",
    requested_by: str,
    storage: ArchiveStorage | None = None,
) -> ErasureRequest:
    """Erase and record it (the audit log's row, written first so a crash mid-way still shows
    who asked); returns the row with its report."""
    request = ErasureRequest.objects.create(
        tenant=tenant, camera=camera, since=since, until=until, requested_by=requested_by
    )
    logger.info(
        "erasure %s for tenant %s camera %r %s..%s asked by %s",
        request.id, tenant.slug, camera or "*", since, until, requested_by,
    )  # fmt: skip
    storage = storage or get_storage()
    report = _Report()
    erased_ids = _erase_archived(tenant, since, until, camera, storage, report)
    _erase_camera_events(tenant, since, until, camera, storage, report)
    _erase_video_jobs(tenant, since, until, camera, storage, report)
    _erase_exports(tenant, erased_ids, storage, report)
    request.removed = report.removed
    request.not_removed = report.not_removed
    request.finished_at = timezone.now()
    request.save(update_fields=["removed", "not_removed", "finished_at"])
    return request


def _delete(storage: ArchiveStorage, keys: Iterable[str]) -> str:
    """'' when gone (or never there), else why not."""
    try:
        storage.erase([k for k in keys if k])
    except StorageError as exc:
        return f"storage: {exc}"
    return ""


def _erase_archived(
    tenant: Tenant,
    since: datetime,
    until: datetime,
    camera: str,
    storage: ArchiveStorage,
    report: _Report,
) -> set[str]:
    events = ArchivedEvent.objects.filter(
        tenant=tenant, received_at__gte=since, received_at__lt=until
    )
    erased: set[str] = set()
    rows = list(events.values_list("id", "portal_request_id", "record_key", "image_key"))
    if camera:
        request_ids = [r[1] for r in rows if r[1]]
        on_camera = set(
            UsageEvent.objects.filter(
                tenant=tenant, camera=camera, request_id__in=request_ids
            ).values_list("request_id", flat=True)
        )
        known = set(
            UsageEvent.objects.filter(tenant=tenant, request_id__in=request_ids).values_list(
                "request_id", flat=True
            )
        )
        kept = []
        for row in rows:
            if row[1] in on_camera:
                kept.append(row)
            elif row[1] not in known:
                report.fail(
                    "archived_requests",
                    row[0],
                    "its usage record (which names the camera) is gone: cannot tell whether it "
                    "came from this camera; erase the whole tenant's range to remove it",
                )
        rows = kept
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        deleted = []
        for event_id, _, record_key, image_key in batch:
            keys = [image_key, record_key, thumbnail_key(record_key) if record_key else ""]
            reason = _delete(storage, keys)
            if reason:
                report.fail("archived_requests", event_id, reason)
                continue
            deleted.append(event_id)
            report.removed["thumbnails"] += 1 if image_key else 0
        ArchivedEvent.objects.filter(id__in=deleted).delete()
        report.removed["archived_requests"] += len(deleted)
        erased.update(e.hex for e in deleted)
    return erased


def _erase_camera_events(
    tenant: Tenant,
    since: datetime,
    until: datetime,
    camera: str,
    storage: ArchiveStorage,
    report: _Report,
) -> None:
    events = CameraEvent.objects.filter(tenant=tenant, started_at__gte=since, started_at__lt=until)
    if camera:
        events = events.filter(camera__public_id=camera)
    for event in events.only("id", "snapshot_key", "started_at", "tenant_id"):
        keys = []
        if event.snapshot_key:
            keys = [event.snapshot_key, event.snapshot_key.rsplit(".", 1)[0] + ".json"]
        reason = _delete(storage, keys)
        if reason:
            report.fail("camera_events", event.id, reason)
            continue
        try:
            snapshots.drop_stash(str(event.id))  # an open event's frame in Redis
        except Exception as exc:  # Redis down: the stash expires within its TTL
            report.fail(
                "snapshots", event.id, f"open event's stash not dropped ({exc}); expires in 24 h"
            )
        event.delete()
        report.removed["camera_events"] += 1
        report.removed["snapshots"] += 1 if keys else 0


def _erase_video_jobs(
    tenant: Tenant,
    since: datetime,
    until: datetime,
    camera: str,
    storage: ArchiveStorage,
    report: _Report,
) -> None:
    jobs = VideoJob.objects.filter(tenant=tenant, created_at__gte=since, created_at__lt=until)
    if camera:
        jobs = jobs.filter(camera__public_id=camera)
    for job in jobs:
        snapshot_keys = list(
            VideoJobEvent.objects.filter(job=job)
            .exclude(snapshot_key="")
            .values_list("snapshot_key", flat=True)
        )
        clip = [job.source_key] if job.stored_by_job and job.source_key else []
        reason = _delete(storage, snapshot_keys + clip)
        if reason:
            report.fail("video_jobs", job.id, reason)
            continue
        job.delete()
        report.removed["video_jobs"] += 1
        report.removed["video_job_snapshots"] += len(snapshot_keys)
        report.removed["video_clips"] += len(clip)


def _erase_exports(
    tenant: Tenant, erased: set[str], storage: ArchiveStorage, report: _Report
) -> None:
    """Exports whose zip holds an image of an erased request (its file name is the event id)."""
    if not erased:
        return
    exports = DatasetExport.objects.filter(tenant=tenant).filter(~Q(storage_key=""))
    for export in exports:
        try:
            names = zipfile.ZipFile(io.BytesIO(storage.get(export.storage_key))).namelist()
        except Exception as exc:
            report.fail("dataset_exports", export.id, f"its zip could not be read: {exc}")
            continue
        stems = {name.rsplit("/", 1)[-1].split(".", 1)[0] for name in names}
        if not stems & erased:
            continue
        reason = _delete(storage, [export.storage_key])
        if reason:
            report.fail("dataset_exports", export.id, reason)
            continue
        export.delete()
        report.removed["dataset_exports"] += 1


def report_json(request: ErasureRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "camera": request.camera or None,
        "since": request.since.isoformat(),
        "until": request.until.isoformat(),
        "requested_by": request.requested_by,
        "created_at": request.created_at.isoformat(),
        "finished_at": request.finished_at.isoformat() if request.finished_at else None,
        "removed": request.removed,
        "not_removed": request.not_removed,
    }
