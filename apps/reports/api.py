"""The reports app's API, under /api/v1/: the tenant's usage (`ipcai usage`) and dataset exports
of the request archive (`ipcai export`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.alerts.video_jobs.services import limits_of
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ, SCOPE_MANAGE
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView
from apps.reports.datasets.downloads import export_stream
from apps.reports.datasets.jobs import ExportRefused, start_export, tenant_export
from apps.reports.datasets.selection import InvalidExport
from apps.reports.models import DatasetExport
from apps.reports.serializers import DatasetExportSerializer, ExportRequestSerializer
from apps.tenants.api import errors
from apps.tenants.application_types import ApplicationType
from apps.tenants.limits import requests_this_month
from apps.tenants.models import Tenant
from apps.tenants.serializers import UsageSerializer
from apps.usage.metering import video_seconds_this_month
from apps.usage.models import DailyUsage, DailyVideoUsage

MAX_USAGE_DAYS = 366


@extend_schema(tags=["usage"])
class UsageView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ, SCOPE_MANAGE)

    @extend_schema(
        summary="Requests per day and service, and this month's quota position",
        operation_id="usage",
        parameters=[
            OpenApiParameter("days", int, description=f"last N days, 1..{MAX_USAGE_DAYS}"),
            OpenApiParameter("application_type", str, enum=ApplicationType.values),
        ],
        responses={200: UsageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        days = _days(request.query_params.get("days", "30"))
        application_type = request.query_params.get("application_type") or None
        if application_type and application_type not in ApplicationType.values:
            raise ApiError(
                400,
                "unknown_application_type",
                f"No service {application_type!r}; valid: {', '.join(ApplicationType.values)}.",
            )
        grant = self.grant
        today = datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        rows = DailyUsage.objects.filter(tenant_id=grant.tenant_id, day__gte=first)
        if application_type:
            rows = rows.filter(application_type=application_type)
        rows = rows.order_by("day", "application_type")
        # One call, one request: a DeepStack call is in the day rows of every service it ran,
        # and once in the totals (unless they are one service's).
        requests, errors = ("requests", "errors") if application_type else ("calls", "failed_calls")
        totals = rows.aggregate(
            requests=Sum(requests), errors=Sum(errors), objects=Sum("objects_found")
        )
        return Response(
            {
                "from": first.isoformat(),
                "to": today.isoformat(),
                "application_type": application_type,
                "days": [_day_json(row) for row in rows],
                "totals": {name: value or 0 for name, value in totals.items()},
                "quota": {
                    "monthly_request_quota": grant.monthly_request_quota,
                    "used_this_month": requests_this_month(grant.tenant_id),
                },
                "video": _video_usage(grant.tenant_id, first, today),
            }
        )


def _video_usage(tenant_id: int, first: date, today: date) -> dict:
    """Stored-video jobs in the period, in their own unit (apps/usage DailyVideoUsage)."""
    totals = DailyVideoUsage.objects.filter(tenant_id=tenant_id, day__gte=first).aggregate(
        jobs=Sum("jobs"), seconds=Sum("video_seconds")
    )
    quota = limits_of(tenant_id).monthly_video_seconds
    return {
        "jobs": totals["jobs"] or 0,
        "video_seconds": round(totals["seconds"] or 0.0, 1),
        "video_seconds_this_month": round(
            video_seconds_this_month(tenant_id, today.replace(day=1)), 1
        ),
        "monthly_video_seconds": quota or None,
    }


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_USAGE_DAYS:
        raise ApiError(400, "invalid_days", f"days must be an integer 1..{MAX_USAGE_DAYS}.")
    return days


def _day_json(row: DailyUsage) -> dict:
    day: date = row.day
    return {
        "date": day.isoformat(),
        "application_type": row.application_type,
        "requests": row.requests,
        "successes": row.requests - row.errors,
        "errors": row.errors,
        "objects": row.objects_found,
        "mean_latency_ms": round(row.mean_latency_ms, 1),
    }


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or a bad one."),
    403: OpenApiResponse(ErrorSerializer, description="Inactive tenant, or no events:read."),
    404: OpenApiResponse(ErrorSerializer, description="No such export for your tenant."),
}
LIST_LIMIT = 50


def _tenant_export_or_404(tenant_id: int, export_id: str) -> DatasetExport:
    export = tenant_export(tenant_id, export_id)
    if export is None:
        raise ApiError(404, "export_not_found", "No dataset export with that id.")
    return export


class ExportListView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["exports"],
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
            export = start_export(Tenant.objects.get(pk=self.tenant_id), query.to_spec())
        except ExportRefused as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            raise ApiError(exc.status, exc.code, str(exc), headers) from None
        except InvalidExport as exc:
            raise ApiError(400, "invalid_export", str(exc)) from None
        data = DatasetExportSerializer(export, context={"request": request}).data
        return Response(data, status=202, headers={"Location": data["url"]})

    @extend_schema(
        tags=["exports"],
        summary="The tenant's latest dataset exports",
        responses={200: DatasetExportSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        exports = DatasetExport.objects.filter(tenant_id=self.tenant_id)[:LIST_LIMIT]
        return Response(
            DatasetExportSerializer(exports, many=True, context={"request": request}).data
        )


class ExportDetailView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["exports"],
        summary="One dataset export: status and progress",
        responses={200: DatasetExportSerializer, **ERRORS},
    )
    def get(self, request: Request, export_id: str) -> Response:
        export = _tenant_export_or_404(self.tenant_id, export_id)
        return Response(DatasetExportSerializer(export, context={"request": request}).data)


class ExportDownloadView(TenantKeyView):
    scopes = (SCOPE_EVENTS_READ,)

    @extend_schema(
        tags=["exports"],
        summary="Download a finished dataset export (zip, streamed)",
        responses={
            (200, "application/zip"): bytes,
            409: OpenApiResponse(ErrorSerializer, description="Not finished (or failed)."),
            **ERRORS,
        },
    )
    def get(self, request: Request, export_id: str) -> StreamingHttpResponse:
        return export_stream(_tenant_export_or_404(self.tenant_id, export_id))
