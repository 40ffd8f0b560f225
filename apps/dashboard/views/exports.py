"""Dashboard pages for dataset exports: start one, watch it build, download the zip.

Owners and admins only: an export is the tenant's archive in bulk. The job and the zip are the
ones the API makes (apps/reports/datasets); these views only parse the form and render.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from apps.core.errors import ApiError
from apps.dashboard.access import TenantRequest, not_found, tenant_page
from apps.dashboard.forms.exports import ExportForm
from apps.dashboard.pages import page
from apps.reports.datasets.downloads import export_stream
from apps.reports.datasets.jobs import start_export, tenant_export
from apps.reports.datasets.selection import InvalidExport
from apps.reports.models import DatasetExport

EXPORTS_SHOWN = 20


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def exports(request: TenantRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            start_export(request.tenant, form.spec(), created_by=request.user)
        except InvalidExport as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("dashboard:exports", slug=request.tenant.slug)
    jobs = list(DatasetExport.objects.filter(tenant=request.tenant)[:EXPORTS_SHOWN])
    waiting = {DatasetExport.Status.QUEUED, DatasetExport.Status.RUNNING}
    busy = any(job.status in waiting for job in jobs)
    return page(
        request,
        "dashboard/exports.html",
        {
            "form": form,
            "jobs": jobs,
            "refresh": busy,
            "exports_per_hour": settings.IPCAI_EXPORTS_PER_HOUR,
            "retention_days": settings.IPCAI_EXPORT_RETENTION_DAYS,
        },
        status=400 if form.errors else 200,
    )


@tenant_page(manage=True)
def export_download(request: TenantRequest, export_id: str) -> HttpResponseBase:
    export = tenant_export(request.tenant.pk, export_id)
    if export is None:
        return not_found(request)
    if export.status != DatasetExport.Status.DONE:
        messages.info(request, f"That export is {export.get_status_display().lower()}, not ready.")
        return redirect("dashboard:exports", slug=request.tenant.slug)
    try:
        return export_stream(export)
    except ApiError:
        return page(request, "dashboard/archive_unavailable.html", status=503)
