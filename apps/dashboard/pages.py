"""How every tenant page renders: the layout's context (tenant, role, the tenant switcher),
and downloads with their file name."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from apps.dashboard.access import TenantRequest, can_manage
from apps.tenants.models import Membership


def page(request: TenantRequest, template: str, context: dict | None = None, status: int = 200):
    """Render a tenant page with what the layout needs: the tenant, the role, the switcher."""
    membership: Membership = request.membership
    return render(
        request,
        template,
        {
            "tenant": membership.tenant,
            "membership": membership,
            "can_manage": can_manage(membership),
            "memberships": request.user.memberships.select_related("tenant").order_by(
                "tenant__name"
            ),
            **(context or {}),
        },
        status=status,
    )


def download(body: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
