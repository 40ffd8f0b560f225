"""The services page: which services the tenant has, and each one's settings (threshold,
saving requests to the archive, retention)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.dashboard.access import TenantRequest, not_found, tenant_page
from apps.dashboard.forms.services import ServiceSettingsForm
from apps.dashboard.pages import page
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import update_service


@tenant_page()
def services(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    existing = {s.application_type: s for s in tenant.services.all()}
    rows = []
    for value, label in ApplicationType.choices:
        service = existing.get(value)
        enabled = service is not None and service.enabled
        rows.append(
            {
                "application_type": value,
                "label": label,
                "service": service,
                "enabled": enabled,
                "offered": value in settings.IPCAI_OFFERED_SERVICES,
                "form": ServiceSettingsForm(instance=service, prefix=value) if enabled else None,
            }
        )
    return page(
        request,
        "dashboard/services.html",
        {"rows": rows, "support_email": settings.IPCAI_SUPPORT_EMAIL},
    )


@tenant_page(manage=True)
@require_POST
def update_service_settings(request: TenantRequest, application_type: str) -> HttpResponse:
    service = request.tenant.services.filter(
        application_type=application_type, enabled=True
    ).first()
    if service is None:
        return not_found(request)
    form = ServiceSettingsForm(request.POST, instance=service, prefix=application_type)
    if not form.is_valid():
        messages.error(
            request,
            f"{service.get_application_type_display()}: "
            + " ".join(str(e) for errors in form.errors.values() for e in errors),
        )
        return redirect("dashboard:services", slug=request.tenant.slug)
    update_service(
        service,
        min_confidence=form.cleaned_data["min_confidence"],
        save_request_events=form.cleaned_data["save_request_events"],
        retention_days=form.cleaned_data["retention_days"],
    )
    messages.success(request, f"Saved the {service.get_application_type_display()} settings.")
    return redirect("dashboard:services", slug=request.tenant.slug)
