"""REST for feedback: a verdict on an event, a camera's learned areas, its precision and the
suggested settings (thin views over services.py; another tenant's ids answer 404).

- POST /api/v1/camera-events/<id>/feedback              (manage; GET reads it: events:read)
- GET  /api/v1/cameras/<camera>/learned-areas           (events:read or manage)
- DELETE /api/v1/cameras/<camera>/learned-areas/<id>    (manage)
- GET  /api/v1/cameras/<camera>/feedback-quality        (events:read or manage)
- POST /api/v1/cameras/<camera>/feedback-quality/apply  (manage)
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.alerts.feedback import learned_areas
from apps.alerts.feedback.models import EventVerdict, LearnedArea
from apps.alerts.feedback.precision import camera_quality
from apps.alerts.feedback.serializers import (
    ApplySuggestionSerializer,
    CameraQualitySerializer,
    FeedbackInputSerializer,
    FeedbackSerializer,
    LearnedAreaListSerializer,
)
from apps.alerts.feedback.services import (
    FeedbackInvalid,
    apply_suggestion,
    give_feedback,
    remove_area,
)
from apps.alerts.listing import tenant_camera_event
from apps.cameras.api import camera_json, tenant_camera
from apps.cameras.models import Camera
from apps.cameras.serializers import CameraSerializer
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ, SCOPE_MANAGE
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A field is invalid; the message names it."),
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(
        ErrorSerializer, description="Inactive tenant, or the key lacks the scope."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such item for your tenant."),
}
TAGS = ["camera events"]


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    return dict(request.data)


def area_json(area: LearnedArea, counts: dict[int, int]) -> dict:
    return {
        "id": area.pk,
        "label": area.label,
        "box": list(area.box),
        "frame_width": area.frame_width,
        "frame_height": area.frame_height,
        "max_score": round(area.max_score, 4),
        "held_back": counts.get(area.pk, 0),
        "event": str(area.event_id) if area.event_id else None,
        "created_at": area.created_at.isoformat(),
    }


def verdict_json(row: EventVerdict) -> dict:
    area = LearnedArea.objects.filter(event_id=row.event_id).first()
    counts = learned_areas.held_counts(row.camera_id) if area else {}
    return {
        "event": str(row.event_id),
        "verdict": row.verdict,
        "note": row.note,
        "given_at": row.given_at.isoformat(),
        "learned_area": area_json(area, counts) if area else None,
    }


class EventFeedbackView(TenantKeyView):
    # Reading a verdict: events:read (or manage). Giving one changes what the camera alerts
    # on, so events:read is not enough: manage.
    scopes: ClassVar[tuple[str, ...]] = (SCOPE_EVENTS_READ, SCOPE_MANAGE)
    write_scopes: ClassVar[tuple[str, ...] | None] = (SCOPE_MANAGE,)

    @extend_schema(
        summary="The verdict given on an event (404 feedback_not_found when none)",
        responses={200: FeedbackSerializer, **ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = tenant_camera_event(self.tenant_id, event_id)
        if event is None:
            raise ApiError(404, "event_not_found", "No camera event with that id.")
        row = EventVerdict.objects.filter(event=event).first()
        if row is None:
            raise ApiError(404, "feedback_not_found", "No verdict was given on this event.")
        return Response(verdict_json(row))

    @extend_schema(
        summary="Say whether an event was a false alarm (teaches its camera) or confirmed",
        request=FeedbackInputSerializer,
        responses={200: FeedbackSerializer, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, event_id: str) -> Response:
        event = tenant_camera_event(self.tenant_id, event_id)
        if event is None:
            raise ApiError(404, "event_not_found", "No camera event with that id.")
        body = _body(request)
        try:
            row = give_feedback(
                event, body.get("verdict"), body.get("note"), f"key {self.grant.public_id}"
            )
        except FeedbackInvalid as exc:
            raise ApiError(400, "invalid_feedback", str(exc)) from None
        return Response(verdict_json(row))


class _CameraView(TenantKeyView):
    scopes: ClassVar[tuple[str, ...]] = (SCOPE_EVENTS_READ, SCOPE_MANAGE)
    write_scopes: ClassVar[tuple[str, ...] | None] = (SCOPE_MANAGE,)

    def camera(self, camera_id: str) -> Camera:
        return tenant_camera(self.tenant_id, camera_id)


class LearnedAreaListView(_CameraView):
    @extend_schema(
        summary="The areas false alarms taught a camera, with the boxes each held back",
        responses={200: LearnedAreaListSerializer, **ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, camera_id: str) -> Response:
        camera = self.camera(camera_id)
        counts = learned_areas.held_counts(camera.pk)
        areas = LearnedArea.objects.filter(camera=camera)
        return Response({"areas": [area_json(area, counts) for area in areas]})


class LearnedAreaView(_CameraView):
    @extend_schema(
        summary="Forget a learned area: its boxes open events again",
        responses={204: None, **ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, camera_id: str, area_id: int) -> Response:
        camera = self.camera(camera_id)
        area = LearnedArea.objects.filter(camera=camera, pk=area_id).first()
        if area is None:
            raise ApiError(404, "area_not_found", "No learned area with that id on this camera.")
        remove_area(area)
        return Response(status=204)


class FeedbackQualityView(_CameraView):
    @extend_schema(
        summary="Precision per class from verdicts, with a suggested threshold and min size",
        responses={200: CameraQualitySerializer, **ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, camera_id: str) -> Response:
        return Response(camera_quality(self.camera(camera_id).pk).to_json())


class ApplySuggestionView(_CameraView):
    scopes = (SCOPE_MANAGE,)

    @extend_schema(
        summary="Apply a suggested threshold (per class) or minimum size to the camera",
        request=ApplySuggestionSerializer,
        responses={200: CameraSerializer, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, camera_id: str) -> Response:
        camera = self.camera(camera_id)
        body = _body(request)
        try:
            camera = apply_suggestion(camera, body.get("setting"), body.get("label"))
        except FeedbackInvalid as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return Response(camera_json(camera))
