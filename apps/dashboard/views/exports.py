"""Dashboard pages for dataset exports: start one, watch it build, download the zip.

Owners and admins only: an export is the tenant's archive in bulk. The job and the zip are the
ones the API makes (apps/reports/datasets); these views only parse the form and render.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from apps.core.errors import ApiError
from apps.dashboard.access import not_found, tenant_page
from apps.dashboard.views.requests import page
from apps.reports.datasets.downloads import export_stream
from apps.reports.datasets.formats import FORMAT_LABELS, FORMATS
from apps.reports.datasets.jobs import start_export, tenant_export
from apps.reports.datasets.selection import ExportSpec, InvalidExport
from apps.reports.models import DatasetExport
from apps.tenants.application_types import ApplicationType

EXPORTS_SHOWN = 20


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, FORMAT_LABELS[f]) for f in FORMATS])
    service = forms.ChoiceField(
        choices=[("", "All services"), *ApplicationType.choices], required=False
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive."
    )
    classes = forms.CharField(
        required=False, help_text="Comma-separated, e.g. dog,cat. Empty: the services' classes."
    )
    score_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Score from")
    score_max = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Score to",
        help_text="Only frames with a detection in this band (e.g. 0.3 to 0.6: the unsure ones).",
    )
    sample_size = forms.IntegerField(required=False, min_value=1, help_text="Empty: every frame.")

    def spec(self) -> ExportSpec:
        """The export to run; InvalidExport (shown on the form) when the filters clash."""
        data = self.cleaned_data
        day = lambda d: datetime.combine(d, time.min, tzinfo=UTC) if d else None  # noqa: E731
        return ExportSpec(
            format=data["format"],
            service=data["service"] or None,
            since=day(data["since"]),
            until=day(data["until"] + timedelta(days=1)) if data["until"] else None,
            classes=tuple(c.strip() for c in data["classes"].split(",") if c.strip()),
            score_min=data["score_min"],
            score_max=data["score_max"],
            sample_size=data["sample_size"],
        )


@tenant_page(manage=True)
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
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
        {"form": form, "jobs": jobs, "refresh": busy},
        status=400 if form.errors else 200,
    )


@tenant_page(manage=True)
def export_download(request: HttpRequest, export_id: str) -> HttpResponse:
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
