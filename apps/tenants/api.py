"""The tenant's own API keys and usage over the API, for `ipcai keys` / `ipcai usage`.

Authenticated like the detection API (an `x-api-key` resolves to one tenant) and scoped to
that tenant in every query: a key never lists, revokes or counts another tenant's keys or
usage (another tenant's key id answers 404, exactly like an unknown one). State changes go
through apps/tenants/services.py, like the admin and the management commands.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.detection.access import ApiKeyAuthentication
from apps.detection.errors import ApiError
from apps.detection.limits import requests_this_month
from apps.detection.models import DailyUsage
from apps.detection.serializers import ErrorSerializer
from apps.tenants.api_serializers import (
    KeyCreatedSerializer,
    KeyCreateSerializer,
    KeyListSerializer,
    KeySerializer,
    UsageSerializer,
)
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import KeyGrant
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.services import issue_api_key, revoke_api_key

# Bounds what a leaked key can do: it cannot mint keys without limit.
MAX_ACTIVE_KEYS_PER_TENANT = 100
MAX_USAGE_DAYS = 366


class ActiveTenantKey(BasePermission):
    """A valid key (else 401) of an active tenant (else 403)."""

    def has_permission(self, request: Request, view) -> bool:
        grant = request.auth
        if not isinstance(grant, KeyGrant):
            return False  # DRF answers 401 missing_api_key
        if not grant.tenant_active:
            raise ApiError(
                403,
                "tenant_inactive",
                f"Tenant {grant.tenant_slug!r} is inactive; contact the operator to reactivate it.",
            )
        return True


def key_json(key: ApiKey, current_key_id: int) -> dict:
    """What a tenant may know about a key: never the secret or its hash."""
    return {
        "id": key.public_id,
        "prefix": key.prefix,
        "name": key.name,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "active": not key.is_revoked and not key.is_expired,
        "current": key.pk == current_key_id,
    }


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    texts = {
        400: "Invalid parameter or body.",
        401: "No API key, or a key that is unknown, revoked or expired.",
        403: "The tenant is inactive (or, for creation, has too many active keys).",
        404: "No such key in this tenant (another tenant's key looks the same).",
    }
    return {s: OpenApiResponse(ErrorSerializer, description=texts[s]) for s in statuses}


class TenantKeyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ActiveTenantKey]

    def tenant_keys(self):
        return ApiKey.objects.filter(tenant_id=self.request.auth.tenant_id)


@extend_schema(tags=["account"])
class KeyListView(TenantKeyView):
    @extend_schema(
        summary="List the tenant's API keys",
        operation_id="keys_list",
        responses={200: KeyListSerializer, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        keys = self.tenant_keys().order_by("-created_at")
        return Response({"keys": [key_json(k, request.auth.key_id) for k in keys]})

    @extend_schema(
        summary="Issue a new API key (its secret is in this answer only)",
        operation_id="keys_create",
        request=KeyCreateSerializer,
        responses={201: KeyCreatedSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = KeyCreateSerializer(data=request.data)
        if not data.is_valid():
            field, problems = next(iter(data.errors.items()))
            raise ApiError(400, "invalid_body", f"{field}: {problems[0]}")
        if self.tenant_keys().usable().count() >= MAX_ACTIVE_KEYS_PER_TENANT:
            raise ApiError(
                403,
                "too_many_keys",
                f"A tenant may have at most {MAX_ACTIVE_KEYS_PER_TENANT} active keys; "
                "revoke unused ones first.",
            )
        days = data.validated_data["expires_in_days"]
        key, secret = issue_api_key(
            Tenant.objects.get(pk=request.auth.tenant_id),
            name=data.validated_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        return Response({"key": key_json(key, request.auth.key_id), "secret": secret}, status=201)


@extend_schema(tags=["account"])
class KeyRevokeView(TenantKeyView):
    @extend_schema(
        summary="Revoke one of the tenant's API keys",
        operation_id="keys_revoke",
        request=None,
        responses={200: KeySerializer, **errors(401, 403, 404)},
    )
    def post(self, request: Request, public_id: str) -> Response:
        key = self.tenant_keys().filter(public_id=public_id).first()
        if key is None:
            raise ApiError(404, "key_not_found", f"No API key {public_id!r} in this tenant.")
        return Response({"key": key_json(revoke_api_key(key), request.auth.key_id)})


@extend_schema(tags=["account"])
class UsageView(TenantKeyView):
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
        totals = rows.aggregate(
            requests=Sum("requests"), errors=Sum("errors"), objects=Sum("objects_found")
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
