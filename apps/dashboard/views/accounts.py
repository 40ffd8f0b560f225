"""Signed in, no tenant page yet: where `/` leads and the tenant switcher. The sign-in and
password pages are Django's auth views with the throttled forms of apps/core/signin.py
(wired in urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from apps.dashboard.access import SignedInRequest, membership_of, not_found
from apps.tenants.models import Tenant


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    """The last tenant this user looked at, else their first; a page saying so if none."""
    memberships = request.user.memberships.select_related("tenant").order_by("tenant__name")
    last = request.session.get("tenant")
    chosen = next((m for m in memberships if m.tenant.slug == last), None) or memberships.first()
    if chosen is None:  # an operator is told how to join a tenant, anyone else whom to ask
        tenants = Tenant.objects.order_by("slug")[:20] if request.user.is_staff else []
        context = {"tenants": tenants, "support_email": settings.IPCAI_SUPPORT_EMAIL}
        return render(request, "dashboard/no_tenant.html", context)
    return redirect("dashboard:overview", slug=chosen.tenant.slug)


@login_required
def switch_tenant(request: SignedInRequest) -> HttpResponse:
    slug = request.GET.get("tenant", "")
    if membership_of(request.user, slug) is None:
        return not_found(request)
    return redirect("dashboard:overview", slug=slug)
