"""REST: /api/v1/camera-events (read, `events:read` scope) and /api/v1/webhooks (`manage`).

Thin views: the tenant comes from the API key, queries from camera_listing.py, state changes
from webhooks/endpoints.py. Another tenant's ids answer 404, like ids that never existed. The
snapshot route also answers a signed URL without a key: that is how webhook receivers fetch it.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.alerts import snapshots
from apps.alerts.alerting import ALERTING_FIELDS, AlertingInvalid, alerting_of, update_alerting
from apps.alerts.listing import (
    CameraEventFilter,
    camera_event_by_id,
    tenant_camera_event,
    tenant_camera_events,
    tenant_endpoint,
)
from apps.alerts.models import WebhookEndpoint
from apps.alerts.payloads import event_item
from apps.alerts.serializers import (
    CameraAlertingSerializer,
    CameraEventPageSerializer,
    CameraEventQuerySerializer,
    CameraEventSerializer,
    DeliverySerializer,
    WebhookCreatedSerializer,
    WebhookInputSerializer,
    WebhookSerializer,
)
from apps.alerts.webhooks import endpoints
from apps.archive.api import NewestFirstPagination
from apps.core.auth import (
    ActiveTenantKey,
    ApiKeyAuthentication,
    RequireScope,
    api_key_failures,
    key_grant,
    too_many_failures,
)
from apps.core.client_ip import client_ip
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ, KeyGrant
from apps.core.serializers import ErrorSerializer
from apps.core.storage import StorageError
from apps.core.views import TenantKeyView

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(
        ErrorSerializer, description="Inactive tenant, or the key lacks the scope."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such item for your tenant."),
}


def _invalid(serializer) -> ApiError:
    field, problems = next(iter(serializer.errors.items()))
    text = problems if isinstance(problems, list) else [problems]
    return ApiError(400, "invalid_request", f"{field}: {' '.join(map(str, text))}")


class NewestFirst(NewestFirstPagination):
    ordering = ("-started_at", "-id")


class CameraEventListView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        summary="List camera events, newest first",
        parameters=[CameraEventQuerySerializer],
        responses={200: CameraEventPageSerializer, 400: ErrorSerializer, **ERRORS},
        tags=["camera events"],
    )
    def get(self, request: Request) -> Response:
        query = CameraEventQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise _invalid(query)
        filters = CameraEventFilter(**query.validated_data)
        paginator = NewestFirst()
        try:
            page = paginator.paginate_queryset(
                tenant_camera_events(self.tenant_id, filters), request, view=self
            )
        except Exception as exc:  # DRF's NotFound for a tampered cursor
            raise ApiError(400, "invalid_cursor", "The cursor is not valid.") from exc
        return paginator.get_paginated_response([event_item(event) for event in page or ()])


class CameraEventDetailView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        summary="One camera event",
        responses={200: CameraEventSerializer, **ERRORS},
        tags=["camera events"],
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = tenant_camera_event(self.tenant_id, event_id)
        if event is None:
            raise ApiError(404, "event_not_found", "No camera event with that id.")
        return Response(event_item(event))


class KeyOrSignedLinkAuthentication(ApiKeyAuthentication):
    """A signed link (a `token` and no key) is its own permission, checked by the view: it
    is not a key-less request, so it counts no failed sign-in against the address (a
    receiver opening its links, or cameras behind the same NAT, would get 429). A forged or
    expired token counts as a failure there."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, KeyGrant] | None:
        if request.query_params.get("token") and not self.presented_key(request):
            return None
        return super().authenticate(request)


def _refuse_link(request: Request) -> ApiError:
    """A token that does not open this event: a failure of the address, as a bad key is."""
    limit, ip = api_key_failures(), client_ip(request.META)
    blocked_for = limit.blocked_for(ip)
    if blocked_for:
        return too_many_failures(blocked_for)
    limit.record_failure(ip)
    return ApiError(404, "event_not_found", "No snapshot for this link (expired?).")


class CameraEventSnapshotView(APIView):
    """The best frame of an event: with a signed `token` (no key), or with a key of the
    event's tenant that has `events:read`."""

    authentication_classes = [KeyOrSignedLinkAuthentication]
    permission_classes = []

    @extend_schema(
        summary="The best snapshot of a camera event (JPEG or PNG)",
        responses={(200, "image/*"): bytes, **ERRORS},
        tags=["camera events"],
    )
    def get(self, request: Request, event_id: str) -> HttpResponse:
        token = request.query_params.get("token", "")
        if token:
            if not snapshots.token_allows(event_id, token):
                raise _refuse_link(request)
            event = camera_event_by_id(event_id)
            if event is not None and not event.tenant.active:
                event = None  # a suspended tenant's links stop with its keys
        else:
            if request.auth is None:
                raise ApiError(401, "missing_api_key", "Send your API key or a signed link.")
            ActiveTenantKey().has_permission(request, self)
            RequireScope(SCOPE_EVENTS_READ)().has_permission(request, self)
            event = tenant_camera_event(key_grant(request).tenant_id, event_id)
        if event is None:
            raise ApiError(404, "event_not_found", "No camera event with that id.")
        try:
            data = snapshots.read(str(event.id), event.snapshot_key)
        except StorageError as exc:
            raise ApiError(503, "archive_unavailable", "Snapshot storage is unavailable.") from exc
        if data is None:
            raise ApiError(404, "snapshot_not_found", "This event has no snapshot.")
        response = HttpResponse(data, content_type=event.snapshot_content_type or "image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=300"
        return response


def _tenant_endpoint_or_404(tenant_id: int, endpoint_id: str) -> WebhookEndpoint:
    endpoint = tenant_endpoint(tenant_id, endpoint_id)
    if endpoint is None:
        raise ApiError(404, "webhook_not_found", "No webhook endpoint with that id.")
    return endpoint


def _filters_of(tenant_id: int, data: dict, current: WebhookEndpoint | None):
    """The endpoint's filters from a body (None: a change that sends none keeps them)."""
    names = ("cameras", "labels", "zones", "event_types")
    if current is not None and not any(name in data for name in names):
        return None
    values = {name: data.get(name, getattr(current, name) if current else None) for name in names}
    return endpoints.check_filters(**values, tenant_id=tenant_id)


def _endpoint_error(exc: endpoints.EndpointError) -> ApiError:
    return ApiError(400, "invalid_webhook", f"{exc.field}: {exc.message}")


class WebhookListView(TenantKeyView):
    @extend_schema(
        summary="List webhook endpoints",
        responses={200: WebhookSerializer(many=True), **ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        rows = WebhookEndpoint.objects.filter(tenant_id=self.tenant_id)
        return Response({"results": WebhookSerializer(rows, many=True).data})

    @extend_schema(
        summary="Create a webhook endpoint (the response shows its secret, once)",
        request=WebhookInputSerializer,
        responses={201: WebhookCreatedSerializer, 400: ErrorSerializer, **ERRORS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        body = WebhookInputSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body)
        data = body.validated_data
        from apps.tenants.models import Tenant

        try:
            endpoint, secret = endpoints.create_endpoint(
                Tenant.objects.get(pk=self.tenant_id),
                data["url"],
                description=data.get("description", ""),
                filters=_filters_of(self.tenant_id, data, None),
            )
        except endpoints.EndpointError as exc:
            raise _endpoint_error(exc) from None
        return Response({**WebhookSerializer(endpoint).data, "secret": secret}, status=201)


class WebhookDetailView(TenantKeyView):
    @extend_schema(
        summary="One webhook endpoint",
        responses={200: WebhookSerializer, **ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(
            WebhookSerializer(_tenant_endpoint_or_404(self.tenant_id, endpoint_id)).data
        )

    @extend_schema(
        summary="Change a webhook endpoint (fields not sent stay as they are)",
        request=WebhookInputSerializer(partial=True),
        responses={200: WebhookSerializer, 400: ErrorSerializer, **ERRORS},
        tags=["webhooks"],
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _tenant_endpoint_or_404(self.tenant_id, endpoint_id)
        body = WebhookInputSerializer(data=request.data, partial=True)
        if not body.is_valid():
            raise _invalid(body)
        data = body.validated_data
        try:
            endpoints.update_endpoint(
                endpoint,
                url=data.get("url"),
                description=data.get("description"),
                filters=_filters_of(self.tenant_id, data, endpoint),
                enabled=data.get("enabled"),
            )
        except endpoints.EndpointError as exc:
            raise _endpoint_error(exc) from None
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a webhook endpoint", responses={204: None, **ERRORS}, tags=["webhooks"]
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        endpoints.delete_endpoint(_tenant_endpoint_or_404(self.tenant_id, endpoint_id))
        return Response(status=204)


class WebhookTestView(TenantKeyView):
    @extend_schema(
        summary="Send a signed test event to the endpoint",
        request=None,
        responses={202: DeliverySerializer, **ERRORS},
        tags=["webhooks"],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        delivery = endpoints.send_test_event(_tenant_endpoint_or_404(self.tenant_id, endpoint_id))
        return Response(DeliverySerializer(delivery).data, status=202)


class WebhookDeliveriesView(TenantKeyView):
    @extend_schema(
        summary="The endpoint's latest deliveries with every attempt (the delivery log)",
        responses={200: DeliverySerializer(many=True), **ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _tenant_endpoint_or_404(self.tenant_id, endpoint_id)
        rows = endpoint.deliveries.prefetch_related("attempt_log")[:100]
        return Response({"results": DeliverySerializer(rows, many=True).data})


class CameraAlertingView(TenantKeyView):
    """A camera's event settings, beside the cameras API: /api/v1/cameras/<id>/alerting."""

    def get_camera_pk(self, request: Request, camera_id: str) -> int:
        from apps.cameras.models import Camera

        pk = (
            Camera.objects.filter(tenant_id=self.tenant_id, public_id=camera_id)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            raise ApiError(404, "camera_not_found", "No camera with that id in your tenant.")
        return pk

    @staticmethod
    def body(row) -> dict:
        return {name: getattr(row, name) for name in ALERTING_FIELDS}

    @extend_schema(
        summary="A camera's event settings",
        responses={200: CameraAlertingSerializer, **ERRORS},
        tags=["camera events"],
    )
    def get(self, request: Request, camera_id: str) -> Response:
        return Response(self.body(alerting_of(self.get_camera_pk(request, camera_id))))

    @extend_schema(
        summary="Change a camera's event settings (fields not sent stay as they are)",
        request=CameraAlertingSerializer,
        responses={200: CameraAlertingSerializer, 400: ErrorSerializer, **ERRORS},
        tags=["camera events"],
    )
    def patch(self, request: Request, camera_id: str) -> Response:
        camera_pk = self.get_camera_pk(request, camera_id)
        body = CameraAlertingSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body)
        try:
            return Response(self.body(update_alerting(camera_pk, body.validated_data)))
        except AlertingInvalid as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
