"""`/api/v1/erasure-requests`: erase a camera's (or the tenant's) stored images and events in a
time range (apps/reports/erasure.py) and read the reports back. Scope `manage`: an erasure
cannot be undone. Another tenant's requests and cameras answer 404."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.cameras.models import Camera
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_MANAGE
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView
from apps.reports.erasure import do_erase, report_json
from apps.reports.models import ErasureRequest
from apps.tenants.models import Tenant

LIST_LIMIT = 100
ERRORS = {
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: OpenApiResponse(ErrorSerializer, description="No such item for your tenant."),
}


class ErasureInputSerializer(serializers.Serializer):
    camera = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="camera id; omit: all"
    )
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()

    def validate(self, attrs: dict) -> dict:
        if attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "must be after since"})
        return attrs


class ErasureReportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    camera = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    requested_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    removed = serializers.DictField(child=serializers.IntegerField())
    not_removed = serializers.ListField(child=serializers.DictField())


class ErasureRequestListView(TenantKeyView):
    scopes = (SCOPE_MANAGE,)

    @extend_schema(
        tags=["privacy"],
        summary="Erase a camera's (or every camera's) archived requests, events, snapshots, "
        "video-job results and the exports holding them, in a time range",
        request=ErasureInputSerializer,
        responses={201: ErasureReportSerializer, 400: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        query = ErasureInputSerializer(data=request.data)
        if not query.is_valid():
            field, problems = next(iter(query.errors.items()))
            raise ApiError(400, "invalid_erasure", f"{field}: {' '.join(map(str, problems))}")
        camera = query.validated_data.get("camera") or ""
        if (
            camera
            and not Camera.objects.filter(tenant_id=self.tenant_id, public_id=camera).exists()
        ):
            raise ApiError(404, "camera_not_found", "No camera with that id.")
        erasure = do_erase(
            Tenant.objects.get(pk=self.tenant_id),
            since=query.validated_data["since"],
            until=query.validated_data["until"],
            camera=camera,
            requested_by=f"key {self.grant.public_id}",
        )
        return Response(report_json(erasure), status=201)

    @extend_schema(
        tags=["privacy"],
        summary="The tenant's latest erasures (the audit log)",
        responses={200: ErasureReportSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        rows = ErasureRequest.objects.filter(tenant_id=self.tenant_id)[:LIST_LIMIT]
        return Response([report_json(row) for row in rows])


class ErasureRequestDetailView(TenantKeyView):
    scopes = (SCOPE_MANAGE,)

    @extend_schema(
        tags=["privacy"],
        summary="One erasure's report",
        responses={200: ErasureReportSerializer, **ERRORS},
    )
    def get(self, request: Request, erasure_id: str) -> Response:
        try:
            pk = uuid.UUID(erasure_id)
        except ValueError:
            pk = None
        row = ErasureRequest.objects.filter(tenant_id=self.tenant_id, pk=pk).first() if pk else None
        if row is None:
            raise ApiError(404, "erasure_not_found", "No erasure request with that id.")
        return Response(report_json(row))
