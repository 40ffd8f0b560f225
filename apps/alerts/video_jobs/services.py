"""Every state change of a video job, one function each: create, cancel, fail, complete, purge.
The API, the dashboard and the Celery tasks all call these."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.alerts.models import WebhookDelivery, WebhookEndpoint
from apps.alerts.payloads import iso_utc
from apps.alerts.queueing import queue
from apps.alerts.retention import retention_days_by_tenant
from apps.alerts.video_jobs.models import VideoJob, VideoJobChunk, VideoJobEvent, VideoLimits
from apps.alerts.webhooks.delivery import enqueue
from apps.cameras.models import Camera
from apps.core.storage import ArchiveStorage, StorageError, get_storage
from apps.tenants.models import TenantService
from apps.usage.metering import record_video_seconds, video_seconds_this_month

logger = logging.getLogger(__name__)

START_JOB = "video.start_job"
ANALYZE_CHUNK = "video.analyze_chunk"
FINISH_JOB = "video.finish_job"

COMPLETED = "video_job.completed"
FAILED = "video_job.failed"

ACTIVE = (VideoJob.Status.QUEUED, VideoJob.Status.RUNNING)


class JobRefused(Exception):
    """The job cannot be created; `status`, `code` and `message` make the API's answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_concurrent_jobs: int
    max_duration_s: float
    monthly_video_seconds: float  # 0: no monthly quota


def limits_of(tenant_id: int) -> Limits:
    row = VideoLimits.objects.filter(tenant_id=tenant_id).first()

    def pick(value, default):
        return default if value is None else value

    return Limits(
        pick(row and row.max_concurrent_jobs, settings.IPCAI_VIDEO_MAX_CONCURRENT_JOBS),
        pick(row and row.max_duration_s, settings.IPCAI_VIDEO_MAX_DURATION_S),
        pick(row and row.monthly_video_seconds, settings.IPCAI_VIDEO_MONTHLY_SECONDS),
    )


def upload_prefix(tenant_id: int) -> str:
    """Where a tenant's own clips may already lie in the archive storage (S3 sync, a recorder's
    export): jobs take keys under it, never another tenant's, never a URL."""
    return f"video-uploads/{tenant_id}/"


def _job_prefix(tenant_id: int, job_id: uuid.UUID) -> str:
    return f"video-jobs/{tenant_id}/{job_id}/"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "clip").name).strip("._")
    return (cleaned or "clip")[:100]


def _check_options(
    tenant_id: int, services: Sequence[str], camera_id: str | None
) -> tuple[list[str], Camera | None]:
    enabled = list(
        TenantService.objects.filter(tenant_id=tenant_id, enabled=True).values_list(
            "application_type", flat=True
        )
    )
    wanted = list(dict.fromkeys(services)) if services else enabled
    missing = [s for s in wanted if s not in enabled]
    if missing or not wanted:
        raise JobRefused(
            403, "service_not_enabled", f"Not enabled for your tenant: {', '.join(missing)}."
        )
    camera = None
    if camera_id:
        camera = Camera.objects.filter(tenant_id=tenant_id, public_id=camera_id).first()
        if camera is None:
            raise JobRefused(400, "invalid_camera", f"No such camera: {camera_id}.")
    return wanted, camera


def _check_limits(tenant_id: int) -> None:
    limits = limits_of(tenant_id)
    running = VideoJob.objects.filter(tenant_id=tenant_id, status__in=ACTIVE).count()
    if running >= limits.max_concurrent_jobs:
        raise JobRefused(
            429,
            "too_many_video_jobs",
            f"{running} video jobs are queued or running; the limit is "
            f"{limits.max_concurrent_jobs}. Wait for one to finish.",
        )
    if limits.monthly_video_seconds:
        used = video_seconds_this_month(tenant_id, timezone.now().date().replace(day=1))
        if used >= limits.monthly_video_seconds:
            raise JobRefused(
                429,
                "video_quota_exceeded",
                f"{used:.0f} of this month's {limits.monthly_video_seconds:.0f} video seconds "
                "are used.",
            )


def create_job(
    tenant_id: int,
    *,
    services: Sequence[str] = (),
    camera_id: str | None = None,
    sample_fps: float = 2.0,
    min_confidence: float | None = None,
    upload: Path | None = None,
    file_name: str = "",
    source_key: str = "",
    storage: ArchiveStorage | None = None,
) -> VideoJob:
    """A queued job for an uploaded file (`upload`, a local file this copies to the archive
    storage) or a key already in the tenant's storage; JobRefused says why not."""
    wanted, camera = _check_options(tenant_id, services, camera_id)
    _check_limits(tenant_id)
    storage = storage or get_storage()
    job = VideoJob(
        tenant_id=tenant_id,
        camera=camera,
        services=wanted,
        sample_fps=sample_fps,
        min_confidence=min_confidence,
        file_name=_safe_name(file_name or source_key.rsplit("/", 1)[-1]),
    )
    if upload is not None:
        job.source_key = _job_prefix(tenant_id, job.id) + "clip-" + job.file_name
        job.stored_by_job = True
        job.size_bytes = upload.stat().st_size
        if job.size_bytes == 0:
            raise JobRefused(400, "empty_clip", "The uploaded file is empty.")
        try:
            storage.put_file(job.source_key, upload, "application/octet-stream")
        except StorageError as exc:
            logger.error("video upload not stored: %s", exc)
            raise JobRefused(503, "storage_unavailable", "The clip could not be stored.") from None
    else:
        if not source_key.startswith(upload_prefix(tenant_id)) or ".." in source_key.split("/"):
            raise JobRefused(
                400,
                "invalid_key",
                f"source_key must name an object under {upload_prefix(tenant_id)} in your "
                "archive storage.",
            )
        if not storage.exists(source_key):
            raise JobRefused(400, "no_such_object", f"No object under {source_key}.")
        job.source_key = source_key
    try:
        with transaction.atomic():
            job.save()
            transaction.on_commit(lambda: queue(START_JOB, str(job.id)))
    except Exception:
        if job.stored_by_job:
            storage.delete([job.source_key])
        raise
    return job


def _stored_keys(job: VideoJob) -> list[str]:
    keys = [k for k in job.events.values_list("snapshot_key", flat=True) if k]
    if job.stored_by_job and job.source_key:
        keys.append(job.source_key)
    return keys


def remove_stored(job: VideoJob, storage: ArchiveStorage | None = None) -> None:
    """Delete what the job wrote (its uploaded clip, its snapshots), never the tenant's own
    object it was pointed at."""
    (storage or get_storage()).delete(_stored_keys(job))


def cancel_job(job: VideoJob) -> VideoJob | None:
    """Delete what the job stored. A queued or running job stays, cancelled (its running
    chunks stop at their next batch), so the list shows what happened; a finished one goes
    entirely (None)."""
    with transaction.atomic():
        locked = VideoJob.objects.select_for_update().get(pk=job.pk)
        remove_stored(locked)
        if locked.finished:
            locked.delete()
            return None
        locked.events.all().delete()
        locked.chunks.all().delete()
        locked.status = VideoJob.Status.CANCELLED
        locked.finished_at = timezone.now()
        locked.save()
    return locked


def fail_job(job_id: uuid.UUID | str, code: str, message: str) -> None:
    """The job failed: its reason on the row, its stored clip and snapshots deleted, chunks
    dropped, and a `video_job.failed` webhook."""
    with transaction.atomic():
        job = VideoJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return
        remove_stored(job)
        job.events.all().delete()
        job.chunks.all().delete()
        job.status = VideoJob.Status.FAILED
        job.error_code, job.error_message = code, message[:500]
        job.finished_at = timezone.now()
        job.save()
        _announce(job, FAILED)


def complete_job(job: VideoJob, events: list[VideoJobEvent], frames: int) -> None:
    """Inside the caller's transaction (the job row locked): the events, the metering, the
    `video_job.completed` webhook."""
    job.events.all().delete()
    VideoJobEvent.objects.bulk_create(events)
    analysed = job.cut_at_s if job.cut_at_s is not None else job.duration_s
    job.video_seconds = round(analysed, 3)
    job.media_done_s = max(job.media_done_s, job.duration_s)
    job.status = VideoJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save()
    record_video_seconds(job.tenant_id, job.services[0], job.video_seconds, frames, _today())
    _announce(job, COMPLETED)


def _today() -> date:
    return timezone.now().date()


def job_summary(job: VideoJob) -> dict:
    """The webhook's data: what a receiver needs to fetch the result."""
    return {
        "id": str(job.id),
        "status": job.status,
        "camera": job.camera.public_id if job.camera else None,
        "file_name": job.file_name,
        "duration_s": round(job.duration_s, 3),
        "video_seconds": job.video_seconds,
        "events": job.events.count(),
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "url": settings.IPCAI_PUBLIC_URL.rstrip("/") + f"/api/v1/video-jobs/{job.id}",
        "finished_at": iso_utc(job.finished_at),
    }


def _wants(endpoint: WebhookEndpoint, job: VideoJob, event_type: str) -> bool:
    if endpoint.event_types and event_type not in endpoint.event_types:
        return False
    return not endpoint.cameras or (
        job.camera is not None and job.camera.public_id in endpoint.cameras
    )


def _announce(job: VideoJob, event_type: str) -> None:
    payload = {"type": event_type, "timestamp": iso_utc(timezone.now()), "data": job_summary(job)}
    rows = [
        WebhookDelivery(endpoint=endpoint, event=None, event_type=event_type, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(tenant_id=job.tenant_id, enabled=True)
        if _wants(endpoint, job, event_type)
    ]
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.id for row in rows]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def purge_expired_jobs(now=None, storage: ArchiveStorage | None = None) -> int:
    """Finished jobs past their tenant's retention (the longest of its services', 0 keeping
    them), with their stored clip and snapshots: stored clips follow the tenant's retention."""
    now = now or timezone.now()
    storage = storage or get_storage()
    removed = 0
    for tenant_id, days in retention_days_by_tenant().items():
        if days <= 0:
            continue
        for job in VideoJob.objects.filter(
            tenant_id=tenant_id, finished_at__lt=now - timedelta(days=days)
        ):
            remove_stored(job, storage)
            job.delete()
            removed += 1
    return removed


def chunk_query(job_id: uuid.UUID | str):
    return VideoJobChunk.objects.filter(job_id=uuid.UUID(str(job_id)))
