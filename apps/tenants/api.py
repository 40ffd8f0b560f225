"""The tenant's own API keys over the API, for `ipcai keys` (usage: apps/reports/api.py).

Authenticated like the detection API (an `x-api-key` resolves to one tenant) and scoped to
that tenant in every query: a key never lists, revokes or counts another tenant's keys or
usage (another tenant's key id answers 404, exactly like an unknown one). State changes go
through apps/tenants/services.py, like the admin and the management commands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ApiError
from apps.core.serializers import ErrorSerializer
from apps.core.views import TenantKeyView
from apps.tenants.models import ApiKey, Tenant
from apps.tenants.serializers import (
    KeyCreatedSerializer,
    KeyCreateSerializer,
    KeyListSerializer,
    KeySerializer,
)
from apps.tenants.services import (
    KeyNotAllowed,
    TooManyKeys,
    issue_api_key_for_key,
    revoke_api_key,
)


def key_json(key: ApiKey, current_key_id: int | None) -> dict:
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
        "scopes": key.ordered_scopes,
        "current": key.pk == current_key_id,
    }


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    texts = {
        400: "Invalid parameter or body.",
        401: "No API key, or a key that is unknown, revoked or expired.",
        403: "The key lacks the manage scope, or the tenant is inactive; for creation also: "
        "the new key would be broader or longer-lived than this one, or too many active keys.",
        404: "No such key in this tenant (another tenant's key looks the same).",
    }
    return {s: OpenApiResponse(ErrorSerializer, description=texts[s]) for s in statuses}


@extend_schema(tags=["keys"])
class KeyListView(TenantKeyView):
    @extend_schema(
        summary="List the tenant's API keys",
        operation_id="keys_list",
        responses={200: KeyListSerializer, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        keys = ApiKey.objects.filter(tenant_id=self.tenant_id).order_by("-created_at")
        return Response({"keys": [key_json(k, self.grant.key_id) for k in keys]})

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
        days = data.validated_data["expires_in_days"]
        grant = self.grant
        try:
            key, secret = issue_api_key_for_key(
                Tenant.objects.get(pk=grant.tenant_id),
                own_scopes=grant.scopes,
                own_expires_at=(
                    datetime.fromtimestamp(grant.expires_at, tz=UTC) if grant.expires_at else None
                ),
                name=data.validated_data["name"],
                scopes=data.validated_data["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except KeyNotAllowed as exc:
            raise ApiError(403, exc.code, str(exc)) from None
        except TooManyKeys as exc:
            raise ApiError(403, "too_many_keys", str(exc)) from None
        return Response({"key": key_json(key, self.grant.key_id), "secret": secret}, status=201)


@extend_schema(tags=["keys"])
class KeyRevokeView(TenantKeyView):
    @extend_schema(
        summary="Revoke one of the tenant's API keys",
        operation_id="keys_revoke",
        request=None,
        responses={200: KeySerializer, **errors(401, 403, 404)},
    )
    def post(self, request: Request, public_id: str) -> Response:
        key = ApiKey.objects.filter(tenant_id=self.tenant_id).filter(public_id=public_id).first()
        if key is None:
            raise ApiError(404, "key_not_found", f"No API key {public_id!r} in this tenant.")
        return Response({"key": key_json(revoke_api_key(key), self.grant.key_id)})
