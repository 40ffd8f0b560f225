"""Who may call the detection API: one authentication class, one permission, one throttle.

All three endpoints share them. The key resolves to its tenant once (apps/tenants/grants.py) and
rides on `request.auth` as a KeyGrant; the permission and throttle read only that grant.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.detection.errors import ApiError
from apps.detection.limits import count_request
from apps.tenants.grants import KeyGrant, KeyRejected, resolve_key

API_KEY_HEADER = "HTTP_X_API_KEY"
API_KEY_FORM_FIELD = "api_key"  # DeepStack's way of sending the key


class ApiKeyAuthentication(BaseAuthentication):
    """`x-api-key` header (or DeepStack's `api_key` form field) → KeyGrant, or 401."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, KeyGrant] | None:
        raw_key = request.META.get(API_KEY_HEADER) or self._form_key(request)
        if not raw_key:
            return None  # the permission turns "no key" into 401 missing_api_key
        try:
            grant = resolve_key(raw_key.strip())
        except KeyRejected as exc:
            raise ApiError(
                401, exc.code, exc.message, {"WWW-Authenticate": self.authenticate_header(request)}
            ) from None
        return AnonymousUser(), grant

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="x-api-key"'  # makes DRF answer 401, not 403, without a key

    @staticmethod
    def _form_key(request: Request) -> str | None:
        content_type = request.content_type or ""
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            value = request.data.get(API_KEY_FORM_FIELD)
            return value if isinstance(value, str) else None
        return None


class ServiceEnabled(BasePermission):
    """The tenant is active and every service the request asks for is enabled (else 403)."""

    def has_permission(self, request: Request, view) -> bool:
        grant = request.auth
        if not isinstance(grant, KeyGrant):
            return False  # DRF raises NotAuthenticated → 401
        if not grant.tenant_active:
            raise ApiError(
                403,
                "tenant_inactive",
                f"Tenant {grant.tenant_slug!r} is inactive; contact the operator to reactivate it.",
            )
        for application_type in view.requested_application_types(request, grant):
            if grant.service(application_type) is None:
                raise ApiError(
                    403,
                    "service_not_enabled",
                    f"The {application_type} service is not enabled for tenant "
                    f"{grant.tenant_slug!r}. A tenant owner can enable it in the dashboard "
                    "(Services), or ask the operator to enable it in the admin.",
                )
        return True


class KeyRateAndQuota(BaseThrottle):
    """Per-key rate limit and per-tenant monthly quota (429 + Retry-After), counted in Redis."""

    def allow_request(self, request: Request, view) -> bool:
        count_request(request.auth)
        return True


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "Your API key (`ipcai_...`). DeepStack clients may send it as the "
            "`api_key` form field instead.",
        }
