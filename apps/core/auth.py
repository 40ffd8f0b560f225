"""Who may call the API: one authentication class and the permissions every API view shares.

The key resolves to its tenant once per request and rides on `request.auth` as a KeyGrant; the
permissions read only that grant. The resolver itself belongs to the tenants app (it reads the
key table): it is named by the `IPCAI_API_KEY_RESOLVER` setting, as Django names its
authentication backends, so this ground floor imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from drf_spectacular.drainage import set_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.client_ip import client_ip
from apps.core.errors import ApiError
from apps.core.failure_limits import FailureLimit
from apps.core.grants import NOT_CACHED, KeyGrant, KeyRejected
from apps.core.redis import redis_available, redis_breaker

API_KEY_HEADER = "HTTP_X_API_KEY"
API_KEY_FORM_FIELD = "api_key"  # DeepStack's way of sending the key


@cache
def key_resolver() -> Callable[..., KeyGrant]:
    """The configured `resolve(raw_key, *, cached_only: bool) -> KeyGrant` function (raises
    KeyRejected; with cached_only, also for a key it would have to read from the database)."""
    return import_string(settings.IPCAI_API_KEY_RESOLVER)


def _reset(setting: str, **_: object) -> None:
    if setting == "IPCAI_API_KEY_RESOLVER":
        key_resolver.cache_clear()


setting_changed.connect(_reset)


class ApiKeyAuthentication(BaseAuthentication):
    """`x-api-key` header → KeyGrant, or 401 (429 for an IP past the failure limit)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, KeyGrant] | None:
        try:
            return self._authenticate(request)
        finally:
            if not redis_available():  # checked without Redis: counted for /metrics
                redis_breaker().record_fallback("requests")

    def _authenticate(self, request: Request) -> tuple[AnonymousUser, KeyGrant] | None:
        """Failures (no key, a bad one) count against the client IP; past the limit the IP
        gets 429 instead of a key check, so guessing costs no database work. A key the portal
        has cached as valid keeps working from a blocked IP (a camera sharing a NAT address
        with a misconfigured one is not locked out), so that, the hot path, is tried first:
        one Redis read, and the failure limit is consulted only when it does not answer."""
        raw_key = (self.presented_key(request) or "").strip()
        rejected: KeyRejected | None = None
        if raw_key:
            try:
                return AnonymousUser(), key_resolver()(raw_key, cached_only=True)
            except KeyRejected as exc:
                rejected = None if exc.code == NOT_CACHED else exc
        ip = client_ip(request.META)
        limit = api_key_failures()
        blocked_for = limit.blocked_for(ip)
        if blocked_for:
            # Missing, rejected, or not cached (and not looked up in the database for a
            # blocked IP): refused until the window ends, no need to count on.
            raise too_many_failures(blocked_for)
        if not raw_key:
            limit.record_failure(ip)
            return None  # the permission turns "no key" into 401 missing_api_key
        if rejected is None:
            try:
                return AnonymousUser(), key_resolver()(raw_key, cached_only=False)  # the database
            except KeyRejected as exc:
                rejected = exc
        limit.record_failure(ip)
        raise ApiError(
            401,
            rejected.code,
            rejected.message,
            {"WWW-Authenticate": self.authenticate_header(request)},
        )

    def presented_key(self, request: Request) -> str | None:
        """The key the request carries: the `x-api-key` header. Subclasses add other places
        (DeepStack's form field, the detection app's `/k/<key>/` URLs)."""
        return request.META.get(API_KEY_HEADER)

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="x-api-key"'  # makes DRF answer 401, not 403, without a key


class ApiKeyOrFormFieldAuthentication(ApiKeyAuthentication):
    """The header, else DeepStack's `api_key` form field. Only the DeepStack view uses it:
    reading a form field means parsing the body, which no other route does before the key."""

    def presented_key(self, request: Request) -> str | None:
        return super().presented_key(request) or self._form_key(request)

    @staticmethod
    def _form_key(request: Request) -> str | None:
        content_type = request.content_type or ""
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            data = request.data  # a QueryDict for a form
            value = data.get(API_KEY_FORM_FIELD) if isinstance(data, Mapping) else None
            return value if isinstance(value, str) else None
        return None


# One security scheme for both classes in the OpenAPI schema (the form field is DeepStack's extra
# place for the same key), without drf-spectacular's warning that two classes share its name.
set_override(ApiKeyOrFormFieldAuthentication, "suppress_collision_warning", True)


def api_key_failures() -> FailureLimit:
    return FailureLimit(
        "apikey-ip", settings.IPCAI_AUTH_FAILURE_LIMIT, settings.IPCAI_AUTH_FAILURE_WINDOW_S
    )


def too_many_failures(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_auth_failures",
        f"Too many requests with a missing or invalid API key from your address; retry in "
        f"{retry_after} s with a valid key.",
        {"Retry-After": str(retry_after)},
    )


def ask_the_operator() -> str:
    """Who changes what a tenant may use (services, suspension) and how to reach them: the
    operator, not a tenant owner, so a camera's user is not sent to a page they cannot change."""
    email = settings.IPCAI_SUPPORT_EMAIL
    return f"write to the operator at {email}" if email else "ask the operator of this service"


def key_grant(request: Request) -> KeyGrant:
    """The request's key grant, for a view whose permissions required one (401 otherwise)."""
    grant = request.auth
    if not isinstance(grant, KeyGrant):
        raise NotAuthenticated()
    return grant


def require_active_grant(request: Request) -> KeyGrant | None:
    """The request's grant when its tenant is active; None without a key (DRF then answers
    401); 403 `tenant_inactive` for a suspended tenant."""
    grant = request.auth
    if not isinstance(grant, KeyGrant):
        return None
    if not grant.tenant_active:
        raise ApiError(
            403,
            "tenant_inactive",
            f"Tenant {grant.tenant_slug!r} is inactive; to reactivate it, {ask_the_operator()}.",
        )
    return grant


class ActiveTenantKey(BasePermission):
    """A valid key (else 401) of an active tenant (else 403)."""

    def has_permission(self, request: Request, view) -> bool:
        return require_active_grant(request) is not None


class ServiceEnabled(BasePermission):
    """The tenant is active and every service the request asks for is enabled (else 403).

    The view names the services it will run: `view.requested_application_types(request, grant)`.
    """

    def has_permission(self, request: Request, view) -> bool:
        grant = require_active_grant(request)
        if grant is None:
            return False  # DRF raises NotAuthenticated → 401
        for application_type in view.requested_application_types(request, grant):
            if grant.service(application_type) is None:
                raise ApiError(
                    403,
                    "service_not_enabled",
                    f"The {application_type} service is not enabled for tenant "
                    f"{grant.tenant_slug!r}. Only the operator enables services: "
                    f"{ask_the_operator()}.",
                )
        return True


def RequireScope(scope: str, *alternatives: str) -> type[BasePermission]:
    """A permission class: the key must carry `scope` or one of `alternatives` (403
    `insufficient_scope` otherwise).

    Used beside ActiveTenantKey / ServiceEnabled: `permission_classes = [ActiveTenantKey,
    RequireScope("manage")]`. Requests without a key are left to the other permission (401)."""
    accepted = (scope, *alternatives)
    wanted = " or ".join(repr(s) for s in accepted)

    class _RequireScope(BasePermission):
        def has_permission(self, request: Request, view) -> bool:
            grant = request.auth
            if isinstance(grant, KeyGrant) and not any(grant.has_scope(s) for s in accepted):
                raise ApiError(
                    403,
                    "insufficient_scope",
                    f"This API key lacks the {wanted} scope; use a key that has it or create "
                    "one in the dashboard (API keys).",
                )
            return isinstance(grant, KeyGrant)

    name = "RequireScope_" + "_".join(s.replace(":", "_") for s in accepted)
    _RequireScope.__name__ = _RequireScope.__qualname__ = name
    return _RequireScope


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    match_subclasses = True
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "Your API key (`ipcai_...`). DeepStack clients may send it as the "
            "`api_key` form field instead.",
        }
