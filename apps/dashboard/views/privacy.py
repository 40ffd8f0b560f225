"""The privacy page: what the tenant's stored images blur, and erasure of a camera's (or every
camera's) stored data in a time range, with the audit log of past erasures.

Owners and admins only. The writes are apps/tenants/redaction.py and apps/reports/erasure.py,
the same ones the API, the admin and `manage.py redaction` call.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from apps.dashboard.access import TenantRequest, tenant_page
from apps.dashboard.forms.privacy import ErasureForm, RedactionForm
from apps.dashboard.pages import page
from apps.reports.erasure import do_erase
from apps.reports.models import ErasureRequest
from apps.tenants.redaction import RedactionRequired, set_owner_redaction

ERASURES_SHOWN = 20


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def privacy(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    action = request.POST.get("action") if request.method == "POST" else None
    redaction = RedactionForm(request.POST if action == "redaction" else None, tenant=tenant)
    erasure = ErasureForm(request.POST if action == "erasure" else None, tenant=tenant)
    if action == "redaction" and redaction.is_valid():
        try:
            kinds = set_owner_redaction(
                tenant,
                faces=redaction.cleaned_data["faces"],
                plates=redaction.cleaned_data["plates"],
            )
        except RedactionRequired as exc:
            redaction.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Stored images now blur: {', '.join(sorted(kinds)) or 'nothing'}."
            )
            return redirect("dashboard:privacy", slug=tenant.slug)
    if action == "erasure" and erasure.is_valid():
        done = do_erase(
            tenant,
            since=erasure.cleaned_data["since"],
            until=erasure.cleaned_data["until"],
            camera=erasure.cleaned_data["camera"] or "",
            requested_by=f"user {request.user.get_username()}",
        )
        removed = sum(done.removed.values())
        messages.success(
            request,
            f"Erased: {removed} items removed"
            + (f", {len(done.not_removed)} could not be (see below)." if done.not_removed else "."),
        )
        return redirect("dashboard:privacy", slug=tenant.slug)
    invalid = action is not None
    erasures = list(ErasureRequest.objects.filter(tenant=tenant)[:ERASURES_SHOWN])
    for row in erasures:  # "archived requests: 3" rather than the report's keys
        row.removed_items = [  # type: ignore[attr-defined]  # for the template only
            (kind.replace("_", " "), count) for kind, count in row.removed.items() if count
        ]
    return page(
        request,
        "dashboard/privacy.html",
        {
            "redaction": redaction,
            "erasure": erasure,
            "erasures": erasures,
        },
        status=400 if invalid else 200,
    )
