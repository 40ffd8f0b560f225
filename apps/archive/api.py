"""The events API: list a tenant's archived request events, read one, download its image.

Thin views: the tenant comes from the API key (the detection API's authentication class), the
queries from listing.py, the bytes from the archive storage. Another tenant's event id is a 404,
exactly like an id that never existed.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from apps.archive.listing import EventFilter, tenant_event, tenant_events
from apps.archive.models import ArchivedEvent
from apps.archive.serializers import (
    ArchivedEventDetailSerializer,
    ArchivedEventSerializer,
    EventPageSerializer,
    EventQuerySerializer,
)
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ
from apps.core.serializers import ErrorSerializer
from apps.core.storage import StorageError, get_storage
from apps.core.views import TenantKeyView

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(ErrorSerializer, description="The tenant is inactive."),
    404: OpenApiResponse(ErrorSerializer, description="No such event for your tenant."),
    503: OpenApiResponse(ErrorSerializer, description="Archive storage unavailable; retry."),
}


class NewestFirstPagination(CursorPagination):
    """Cursor pages stay stable while new events keep arriving (offsets would shift)."""

    ordering = ("-received_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


def _tenant_event_or_404(tenant_id: int, event_id: str) -> ArchivedEvent:
    # Archived requests stay readable after their service is disabled: they are the tenant's.
    event = tenant_event(tenant_id, event_id)
    if event is None:
        raise ApiError(404, "event_not_found", "No archived event with that id.")
    return event


class EventListView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["request archive"],
        summary="List archived request events",
        parameters=[EventQuerySerializer],
        responses={200: EventPageSerializer, 400: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = EventQuerySerializer(data=request.query_params)
        if not query.is_valid():
            field, problems = next(iter(query.errors.items()))
            raise ApiError(400, "invalid_query", f"{field}: {' '.join(map(str, problems))}")
        filters = EventFilter(
            service=query.validated_data.get("service"),
            day=query.validated_data.get("date"),
            since=query.validated_data.get("since"),
            until=query.validated_data.get("until"),
        )
        paginator = NewestFirstPagination()
        try:
            page = paginator.paginate_queryset(
                tenant_events(self.tenant_id, filters), request, view=self
            )
        except Exception as exc:  # DRF's NotFound for a tampered cursor
            raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc
        data = ArchivedEventSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class EventDetailView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["request archive"],
        summary="One archived request event with its stored response",
        responses={200: ArchivedEventDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = _tenant_event_or_404(self.tenant_id, event_id)
        try:
            record = json.loads(get_storage().get(event.record_key))
        except StorageError as exc:
            raise ApiError(503, "archive_unavailable", "Archive storage is unavailable.") from exc
        serializer = ArchivedEventDetailSerializer(
            event, context={"request": request, "record": record}
        )
        return Response(serializer.data)


class EventImageView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["request archive"],
        summary="Download the image of an archived request event",
        responses={(200, "image/*"): bytes, **ERRORS},
    )
    def get(self, request: Request, event_id: str) -> HttpResponse:
        event = _tenant_event_or_404(self.tenant_id, event_id)
        if not event.has_image:
            raise ApiError(404, "image_not_found", "This event has no archived image.")
        try:
            data = get_storage().get(event.image_key)
        except StorageError as exc:
            raise ApiError(503, "archive_unavailable", "Archive storage is unavailable.") from exc
        response = HttpResponse(data, content_type=event.image_content_type)
        filename = event.image_key.rsplit("/", 1)[-1]
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
