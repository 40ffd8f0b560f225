""" "Try it": the page, and the cameras' native detection endpoint it posts to, signed in by
session.

A dashboard user has a session, not an API key, and handing the browser a key (even a
short-lived one) would put a secret in JavaScript and litter the key list. So this is the
native endpoint's own view class (same parsing, limits, service check, worker call, metering
and archiving) with one change: the caller is the signed-in member of the tenant named in the
URL instead of a key. The session is CSRF-checked (DRF's SessionAuthentication), and the
quota counts as for any request; the rate limit applies per user.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.core.errors import ApiError
from apps.core.grants import KeyGrant, ServiceGrant
from apps.dashboard.access import TenantRequest, can_manage, membership_of, tenant_page
from apps.dashboard.pages import page
from apps.detection.api.detect import DetectionRequest, NativeDetectView
from apps.tenants.limits import count_request
from apps.tenants.models import Tenant


def session_grant(tenant: Tenant) -> KeyGrant:
    """What a key of this tenant would grant, for a signed-in member: no key id, so usage is
    metered (and events archived) against the tenant without naming a key."""
    return KeyGrant(
        key_id=None,
        public_id="",
        tenant_id=tenant.pk,
        tenant_slug=tenant.slug,
        tenant_active=tenant.active,
        default_application_type=tenant.default_application_type,
        monthly_request_quota=tenant.monthly_request_quota,
        expires_at=None,
        services={
            s.application_type: ServiceGrant(
                application_type=s.application_type,
                enabled=s.enabled,
                min_confidence=s.min_confidence,
                save_request_events=s.save_request_events,
                retention_days=s.retention_days,
            )
            for s in tenant.services.all()
        },
    )


class TenantSessionAuthentication(SessionAuthentication):
    """Signed-in owner or admin of the URL's tenant → (user, KeyGrant); non-members 404."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, KeyGrant] | None:
        signed_in = super().authenticate(request)  # also enforces CSRF for signed-in users
        if signed_in is None:
            return None
        user = signed_in[0]
        membership = membership_of(user, request.parser_context["kwargs"]["slug"])
        if membership is None:
            raise ApiError(404, "not_found", "No such tenant.")
        if not can_manage(membership):
            raise ApiError(
                403, "forbidden", "Viewers cannot run detections; ask an owner or admin."
            )
        return user, session_grant(membership.tenant)

    def enforce_csrf(self, request: Request) -> None:
        # Check the Django request: Django's CSRF check reads request.POST, which on DRF's
        # request would run the endpoint's parsers and refuse a raw image body (415) first.
        super().enforce_csrf(request._request)  # type: ignore[arg-type]  # see above

    def authenticate_header(self, request: Request) -> str:
        return "Session"  # makes DRF answer 401, not 403, when not signed in


class UserRateAndQuota(BaseThrottle):
    """The tenant's monthly quota, and the per-key rate limit applied to the user instead."""

    def allow_request(self, request: Request, view) -> bool:
        count_request(cast(KeyGrant, request.auth), rate_subject=f"user-{request.user.pk}")
        return True


@extend_schema_view(
    post=extend_schema(
        tags=["dashboard"],
        summary="Try it: the native detection, signed in to the dashboard (no API key)",
    )
)
class SessionDetectView(NativeDetectView):
    authentication_classes = [TenantSessionAuthentication]
    throttle_classes = [UserRateAndQuota]

    def post(self, request: DetectionRequest, application_type: str, **url: str) -> Response:
        return super().post(request, application_type)  # url: the tenant's slug, checked above


@tenant_page()
def try_it(request: TenantRequest) -> HttpResponse:
    enabled = [
        (s.application_type, s.get_application_type_display())
        for s in request.tenant.services.filter(enabled=True)
    ]
    return page(
        request,
        "dashboard/try_it.html",
        {
            "enabled_services": enabled,
            "api_base": reverse(
                "dashboard:try-it-api",
                kwargs={"slug": request.tenant.slug, "application_type": "SERVICE"},
            ),
        },
    )
