"""The tenant's usage over the API, for `ipcai usage`: requests per day and service, and the
month's quota position. Authenticated like the keys API (apps/tenants/api.py); readable with
the `events:read` or the `manage` scope (a camera's detect-only key sees no account data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.auth import ActiveTenantKey, RequireScope
from apps.core.errors import ApiError
from apps.core.grants import SCOPE_EVENTS_READ, SCOPE_MANAGE, KeyGrant
from apps.tenants.api import TenantKeyView, errors
from apps.tenants.api_serializers import UsageSerializer
from apps.tenants.application_types import ApplicationType
from apps.tenants.limits import requests_this_month
from apps.usage.models import DailyUsage

MAX_USAGE_DAYS = 366


@extend_schema(tags=["account"])
class UsageView(TenantKeyView):
    permission_classes = [ActiveTenantKey, RequireScope(SCOPE_EVENTS_READ, SCOPE_MANAGE)]

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
        grant: KeyGrant = request.auth
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
            }
        )


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
