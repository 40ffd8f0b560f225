"""The dataset export API: start an export of the key's tenant, watch it, download the zip.

Keys need the `events:read` scope: an export is the archived events in bulk. Another tenant's
export id is a 404, exactly like an id that never existed.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.auth import ActiveTenantKey, ApiKeyAuthentication, RequireScope
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ
from apps.core.serializers import ErrorSerializer
from apps.reports.datasets.downloads import export_stream
from apps.reports.datasets.jobs import start_export, tenant_export
from apps.reports.datasets.selection import InvalidExport
from apps.reports.export_serializers import DatasetExportSerializer, ExportRequestSerializer
from apps.reports.models import DatasetExport
from apps.tenants.models import Tenant

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(ErrorSerializer, description="Inactive tenant, or no events:read."),
    404: OpenApiResponse(ErrorSerializer, description="No such export for your tenant."),
}
LIST_LIMIT = 50


class ExportsView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ActiveTenantKey, RequireScope(SCOPE_EVENTS_READ)]

    def get_export(self, request: Request, export_id: str) -> DatasetExport:
        export = tenant_export(request.auth.tenant_id, export_id)
        if export is None:
            raise ApiError(404, "export_not_found", "No dataset export with that id.")
        return export


class ExportListView(ExportsView):
    @extend_schema(
        summary="Start a dataset export (COCO, YOLO or Label Studio zip) of archived frames",
        request=ExportRequestSerializer,
        responses={202: DatasetExportSerializer, 400: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        query = ExportRequestSerializer(data=request.data)
        if not query.is_valid():
            field, problems = next(iter(query.errors.items()))
            raise ApiError(400, "invalid_export", f"{field}: {' '.join(map(str, problems))}")
        try:
            export = start_export(Tenant.objects.get(pk=request.auth.tenant_id), query.to_spec())
        except InvalidExport as exc:
            raise ApiError(400, "invalid_export", str(exc)) from None
        data = DatasetExportSerializer(export, context={"request": request}).data
        return Response(data, status=202, headers={"Location": data["url"]})

    @extend_schema(
        summary="The tenant's latest dataset exports",
        responses={200: DatasetExportSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        exports = DatasetExport.objects.filter(tenant_id=request.auth.tenant_id)[:LIST_LIMIT]
        return Response(
            DatasetExportSerializer(exports, many=True, context={"request": request}).data
        )


class ExportDetailView(ExportsView):
    @extend_schema(
        summary="One dataset export: status and progress",
        responses={200: DatasetExportSerializer, **ERRORS},
    )
    def get(self, request: Request, export_id: str) -> Response:
        export = self.get_export(request, export_id)
        return Response(DatasetExportSerializer(export, context={"request": request}).data)


class ExportDownloadView(ExportsView):
    @extend_schema(
        summary="Download a finished dataset export (zip, streamed)",
        responses={
            (200, "application/zip"): bytes,
            409: OpenApiResponse(ErrorSerializer, description="Not finished (or failed)."),
            **ERRORS,
        },
    )
    def get(self, request: Request, export_id: str) -> StreamingHttpResponse:
        return export_stream(self.get_export(request, export_id))
