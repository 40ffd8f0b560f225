"""Dashboard pages for stored-video jobs: upload a clip, watch its progress, read the result as
a timeline of events with their best snapshots.

Members see the jobs; owners and admins upload and cancel. The upload is streamed to a bounded
temporary file (apps/alerts/video_jobs/uploads.py) before the form is read, so the CSRF check
runs after the upload handlers are set (Django reads the body once).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from apps.alerts.video_jobs import services
from apps.alerts.video_jobs.models import VideoJob
from apps.alerts.video_jobs.uploads import BoundedFile, BoundedUploadHandler
from apps.cameras.models import Camera
from apps.core.storage import StorageError, get_storage
from apps.dashboard.access import TenantRequest, can_manage, not_found, tenant_page
from apps.dashboard.pages import page

JOBS_SHOWN = 30
TIMELINE_WIDTH = (
    1000  # the SVG's viewBox units (positions as attributes: the CSP has no inline style)
)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _job(request: TenantRequest, job_id: str) -> VideoJob | None:
    pk = _uuid(job_id)
    if pk is None:
        return None
    return VideoJob.objects.select_related("camera").filter(tenant=request.tenant, pk=pk).first()


@csrf_exempt  # checked by csrf_protect below, once the upload handlers are in place
@tenant_page()
@require_http_methods(["GET", "POST"])
def video_jobs(request: TenantRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        handler = BoundedUploadHandler(request)
        request.upload_handlers = [handler]
        return _upload(request, handler)
    return _list(request, error)


def _list(request: TenantRequest, error: str, status: int = 200) -> HttpResponse:
    jobs = list(
        VideoJob.objects.filter(tenant=request.tenant).select_related("camera")[:JOBS_SHOWN]
    )
    return page(
        request,
        "dashboard/video_jobs.html",
        {
            "jobs": jobs,
            "cameras": Camera.objects.filter(tenant=request.tenant).order_by("name"),
            "error": error,
            "refresh": any(not job.finished for job in jobs),
        },
        status=status,
    )


@csrf_protect
def _upload(request: TenantRequest, handler: BoundedUploadHandler) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if handler.too_large:
            return _list(request, f"The clip is over the {handler.limit} byte limit.", 413)
        if not isinstance(upload, BoundedFile):
            return _list(request, "Choose a video file.", 400)
        try:
            fps = float(request.POST.get("fps") or 2.0)
        except ValueError:
            fps = 0.0
        if not 0.1 <= fps <= 30:
            return _list(request, "Frames per second must be between 0.1 and 30.", 400)
        try:
            job = services.create_job(
                request.tenant.pk,
                camera_id=request.POST.get("camera") or None,
                sample_fps=fps,
                upload=upload.path,
                file_name=upload.name or "",
            )
        except services.JobRefused as exc:
            return _list(request, exc.message, exc.status)
    finally:
        if upload is not None:
            upload.close()
    messages.success(request, f"{job.file_name} is queued for analysis.")
    return redirect("dashboard:video-job", slug=request.tenant.slug, job_id=str(job.id))


@tenant_page()
@require_http_methods(["GET", "POST"])
def video_job(request: TenantRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    if job is None:
        return not_found(request)
    if request.method == "POST":
        if not can_manage(request.membership):
            return page(request, "dashboard/forbidden.html", status=403)
        kept = services.cancel_job(job)
        messages.info(
            request,
            "The job is deleted." if kept is None else "The job is cancelled and its clip deleted.",
        )
        return redirect("dashboard:video-jobs", slug=request.tenant.slug)
    events = list(job.events.all()) if job.status == VideoJob.Status.SUCCEEDED else []
    length = job.duration_s or 1.0
    timeline = [
        {
            "event": event,
            "x": round(TIMELINE_WIDTH * event.start_s / length, 1),
            "width": max(2.0, round(TIMELINE_WIDTH * (event.end_s - event.start_s) / length, 1)),
        }
        for event in events
    ]
    ticks = [
        {"x": round(TIMELINE_WIDTH * s / length, 1), "label": f"{s // 60}:{s % 60:02d}"}
        for s in range(0, int(length) + 1, max(10, int(length) // 60 * 10 or 10))
    ]
    return page(
        request,
        "dashboard/video_job.html",
        {
            "job": job,
            "timeline": timeline,
            "ticks": ticks,
            "width": TIMELINE_WIDTH,
            "refresh": not job.finished,
        },
    )


@tenant_page()
def video_job_snapshot(request: TenantRequest, job_id: str, event_id: str) -> HttpResponseBase:
    job = _job(request, job_id)
    pk = _uuid(event_id)
    event = job.events.filter(pk=pk).first() if job and pk else None
    if event is None or not event.snapshot_key:
        return not_found(request)
    try:
        data = get_storage().get(event.snapshot_key)
    except StorageError:
        return not_found(request)
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response
