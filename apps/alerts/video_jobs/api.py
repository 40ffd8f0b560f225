"""REST: /api/v1/video-jobs (create, list), /api/v1/video-jobs/<id> (show, cancel) and each
event's snapshot. Thin views over services.py; another tenant's job answers 404."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.alerts.api import KeyOrSignedLinkAuthentication
from apps.alerts.api import _refuse_link as refuse_link
from apps.alerts.payloads import iso_utc
from apps.alerts.video_jobs import links, services
from apps.alerts.video_jobs.models import VideoJob, VideoJobEvent
from apps.alerts.video_jobs.serializers import (
    VideoJobCreateSerializer,
    VideoJobDetailQuerySerializer,
    VideoJobQuerySerializer,
    VideoJobSerializer,
)
from apps.alerts.video_jobs.uploads import BoundedFile, BoundedUploadHandler, stream_chunked
from apps.core.auth import ActiveTenantKey, RequireScope, key_grant
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_DETECT, SCOPE_EVENTS_READ, SCOPE_MANAGE
from apps.core.serializers import ErrorSerializer
from apps.core.storage import ObjectNotFound, StorageError, get_storage
from apps.core.views import TenantKeyView

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(
        ErrorSerializer, description="Inactive tenant, or the key lacks the scope."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such job for your tenant."),
}


def _invalid(serializer) -> ApiError:
    field, problems = next(iter(serializer.errors.items()))
    text = problems if isinstance(problems, list) else [problems]
    name = "request" if field == "non_field_errors" else field
    return ApiError(400, "invalid_request", f"{name}: {' '.join(map(str, text))}")


def _job_or_404(tenant_id: int, job_id: str) -> VideoJob:
    job = (
        VideoJob.objects.select_related("camera").filter(tenant_id=tenant_id, pk=job_id).first()
        if _is_uuid(job_id)
        else None
    )
    if job is None:
        raise ApiError(404, "video_job_not_found", "No video job with that id.")
    return job


def event_item(event: VideoJobEvent) -> dict:
    item = {
        "id": str(event.id),
        "label": event.label,
        "start_s": event.start_s,
        "end_s": event.end_s,
        "max_score": event.max_score,
        "zones": list(event.zones),
        "box": list(event.box),
        "best_s": event.best_s,
        "snapshot_url": (links.signed_url(event.job_id, event.id) if event.snapshot_key else None),
    }
    if event.plate:
        item["plate"] = event.plate
    return item


def job_item(job: VideoJob, *, events: bool = True) -> dict:
    item = {
        "id": str(job.id),
        "status": job.status,
        "file_name": job.file_name,
        "camera": job.camera.public_id if job.camera else None,
        "services": list(job.services),
        "sample_fps": job.sample_fps,
        "progress": {
            "percent": job.percent,
            "media_seconds_done": round(job.media_done_s, 3),
            "media_seconds_total": round(job.duration_s, 3),
        },
        "clip": {
            "codec": job.codec,
            "duration_s": round(job.duration_s, 3),
            "fps": job.clip_fps,
            "width": job.width,
            "height": job.height,
            "size_bytes": job.size_bytes,
            "cut_at_s": job.cut_at_s,
        },
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "note": job.error_message if job.status == VideoJob.Status.SUCCEEDED else "",
        "video_seconds": job.video_seconds,
        "created_at": iso_utc(job.created_at),
        "finished_at": iso_utc(job.finished_at),
    }
    if events and job.status == VideoJob.Status.SUCCEEDED:
        item["events"] = [event_item(e) for e in job.events.all()]
    return item


def frames_page(job: VideoJob, offset: int, limit: int) -> dict:
    """Detections per analysed frame, in media order, `limit` from `offset`."""
    frames: list[dict] = []
    for chunk in job.chunks.order_by("index"):
        frames.extend(chunk.frames)
    if job.cut_at_s is not None:
        frames = [f for f in frames if f["t"] <= job.cut_at_s]
    page = frames[offset : offset + limit]
    following = offset + limit if offset + limit < len(frames) else None
    return {"count": len(frames), "offset": offset, "next_offset": following, "results": page}


class VideoJobListView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)
    write_scopes = (SCOPE_DETECT, SCOPE_MANAGE)
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="List video jobs, newest first",
        parameters=[VideoJobQuerySerializer],
        responses={200: VideoJobSerializer(many=True), 400: ErrorSerializer, **ERRORS},
        tags=["video jobs"],
    )
    def get(self, request: Request) -> Response:
        query = VideoJobQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise _invalid(query)
        jobs = VideoJob.objects.filter(tenant_id=self.tenant_id).select_related("camera")
        if "status" in query.validated_data:
            jobs = jobs.filter(status=query.validated_data["status"])
        if "camera" in query.validated_data:
            jobs = jobs.filter(camera__public_id=query.validated_data["camera"])
        limit = query.validated_data.get("limit", 50)
        return Response({"results": [job_item(j, events=False) for j in jobs[:limit]]})

    @extend_schema(
        summary="Analyse a stored clip (multipart `file`, or `source_key`)",
        request={"multipart/form-data": VideoJobCreateSerializer},
        responses={202: VideoJobSerializer, 400: ErrorSerializer, 413: ErrorSerializer, **ERRORS},
        tags=["video jobs"],
    )
    def post(self, request: Request) -> Response:
        handler = BoundedUploadHandler(request._request)
        request._request.upload_handlers = [handler]
        chunked = stream_chunked(request._request, handler.limit)
        try:
            body = VideoJobCreateSerializer(data=request.data)
            valid = body.is_valid()
        finally:
            if handler.too_large or (chunked is not None and chunked.too_large):
                handler.discard()
                raise ApiError(
                    413,
                    "payload_too_large",
                    f"The clip is over the {handler.limit} byte limit; nothing was stored.",
                )
            if chunked is not None and chunked.broken:
                handler.discard()
                raise ApiError(
                    400,
                    "invalid_body",
                    "The chunked body ended early or is malformed; nothing was stored.",
                )
        if not valid:
            raise _invalid(body)
        data = body.validated_data
        upload = data.get("file")
        try:
            job = services.create_job(
                self.tenant_id,
                services=data.get("services") or (),
                camera_id=data.get("camera"),
                sample_fps=data["fps"],
                min_confidence=data.get("min_confidence"),
                upload=upload.path if isinstance(upload, BoundedFile) else None,
                file_name=upload.name if upload else "",
                source_key=data.get("source_key", ""),
            )
        except services.JobRefused as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        finally:
            if upload is not None:
                upload.close()  # the temporary file goes with it
        return Response(job_item(job), status=202)


class VideoJobDetailView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)
    write_scopes = (SCOPE_DETECT, SCOPE_MANAGE)

    @extend_schema(
        summary="A video job: status, progress, events; frames=true adds detections per frame",
        parameters=[VideoJobDetailQuerySerializer],
        responses={200: VideoJobSerializer, **ERRORS},
        tags=["video jobs"],
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = _job_or_404(self.tenant_id, job_id)
        query = VideoJobDetailQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise _invalid(query)
        item = job_item(job)
        if query.validated_data["frames"]:
            item["frames"] = frames_page(
                job, query.validated_data["frames_offset"], query.validated_data["frames_limit"]
            )
        return Response(item)

    @extend_schema(
        summary="Cancel a video job (200, cancelled) or delete a finished one (204), and "
        "delete what it stored",
        responses={200: VideoJobSerializer, 204: None, **ERRORS},
        tags=["video jobs"],
    )
    def delete(self, request: Request, job_id: str) -> Response:
        job = _job_or_404(self.tenant_id, job_id)
        try:
            cancelled = services.cancel_job(job)
        except StorageError as exc:
            raise ApiError(503, "archive_unavailable", "Storage is unavailable; retry.") from exc
        if cancelled is None:
            return Response(status=204)
        return Response(job_item(cancelled))


class VideoJobSnapshotView(APIView):
    """The best frame of a job's event: with the signed `token` of its `snapshot_url` (no key
    needed), or with a key of the job's tenant that has `events:read`; anything else 404s."""

    authentication_classes = [KeyOrSignedLinkAuthentication]
    permission_classes = []

    @extend_schema(
        summary="The best frame of a video job's event (JPEG): a signed link, or your key",
        responses={(200, "image/jpeg"): bytes, **ERRORS},
        tags=["video jobs"],
    )
    def get(self, request: Request, job_id: str, event_id: str) -> HttpResponse:
        token = request.query_params.get("token", "")
        event: VideoJobEvent | None = None
        if token:
            if not links.token_allows(job_id, event_id, token):
                raise refuse_link(request)
            event = VideoJobEvent.objects.filter(
                pk=uuid.UUID(event_id), job_id=uuid.UUID(job_id), tenant__active=True
            ).first()  # a suspended tenant's links stop with its keys
        else:
            if request.auth is None:
                raise ApiError(401, "missing_api_key", "Send your API key or a signed link.")
            ActiveTenantKey().has_permission(request, self)
            RequireScope(SCOPE_EVENTS_READ)().has_permission(request, self)
            job = _job_or_404(key_grant(request).tenant_id, job_id)
            event = job.events.filter(pk=event_id).first() if _is_uuid(event_id) else None
        if event is None or not event.snapshot_key:
            raise ApiError(404, "snapshot_not_found", "No snapshot for that event.")
        try:
            data = get_storage().get(event.snapshot_key)
        except ObjectNotFound:
            raise ApiError(404, "snapshot_not_found", "No snapshot for that event.") from None
        except StorageError as exc:
            raise ApiError(503, "archive_unavailable", "Snapshot storage is unavailable.") from exc
        response = HttpResponse(data, content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=300"
        return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
