"""The overview page: this month per service, the quota, 30 days of traffic; a guided first
call while the tenant has sent nothing (figures from overview_data.py)."""

from __future__ import annotations

from django.http import HttpResponse

from apps.dashboard.access import TenantRequest, tenant_page
from apps.dashboard.overview_data import first_calls, tenant_overview
from apps.dashboard.pages import page


@tenant_page()
def overview(request: TenantRequest) -> HttpResponse:
    context = tenant_overview(request.tenant)
    if not context["chart"]["services"]:  # nothing yet: the guided start needs these
        context["first_calls"] = first_calls(request.tenant)
        context["base_url"] = request.build_absolute_uri("/").rstrip("/")
    return page(request, "dashboard/overview.html", context)
