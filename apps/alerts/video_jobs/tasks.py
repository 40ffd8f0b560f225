"""Celery tasks of video jobs; the work is in analysis.py.

Chunk tasks are acknowledged late and rejected when their worker is lost, so a killed worker's
chunk goes back to the broker; the sweep (beat, IPCAI_VIDEO_SWEEP_S) hands on any chunk whose
hold expired, whatever happened to its message. Registered through apps/archive/tasks.py
(Celery's autodiscovery imports that module).
"""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.conf import settings

from apps.alerts.video_jobs import analysis
from apps.alerts.video_jobs.services import fail_job, purge_expired_jobs

logger = logging.getLogger(__name__)


@shared_task(name="video.start_job", ignore_result=True, acks_late=True)
def start_job(job_id: str) -> None:
    analysis.start(job_id)


@shared_task(
    bind=True,
    name="video.analyze_chunk",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
)
def analyze_chunk(self, job_id: str, index: int) -> str:
    try:
        return analysis.analyze(job_id, index)
    except Exception as exc:
        # Worker trouble (busy, restarting) passes; a frame it refuses five times does not.
        if self.request.retries >= self.max_retries:
            logger.error("video job %s chunk %s failed: %r", job_id, index, exc)
            fail_job(job_id, "analysis_failed", f"A part of the clip could not be analysed: {exc}")
            return "failed"
        from apps.alerts.video_jobs.models import VideoJobChunk

        # Let the retry claim it at once rather than after the hold.
        VideoJobChunk.objects.filter(job_id=uuid.UUID(job_id), index=index).update(
            status=VideoJobChunk.Status.PENDING
        )
        raise self.retry(exc=exc, countdown=min(30, 2**self.request.retries)) from None


@shared_task(name="video.finish_job", ignore_result=True, acks_late=True)
def finish_job(job_id: str) -> str:
    return analysis.finish(job_id)


@shared_task(name="video.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    counts = analysis.sweep()
    if settings.IPCAI_VIDEO_PURGE:
        counts["purged"] = purge_expired_jobs()
    return counts
