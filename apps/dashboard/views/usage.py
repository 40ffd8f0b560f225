"""The usage page (requests per day and service over a date range) and its CSV."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpResponse

from apps.dashboard.access import TenantRequest, tenant_page
from apps.dashboard.forms.usage import DateRangeForm
from apps.dashboard.pages import download, page
from apps.reports.usage import daily_csv, daily_series, request_totals, service_totals


@tenant_page()
def usage(request: TenantRequest) -> HttpResponse:
    form = DateRangeForm.from_query(request.GET)
    context: dict = {"form": form}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"] + timedelta(days=1)
        context.update(
            chart=daily_series(request.tenant.pk, start, end),
            totals=service_totals(start, end, [request.tenant.pk]),
            requests=request_totals(start, end, [request.tenant.pk]).get(request.tenant.pk),
            csv_query=request.GET.urlencode(),
        )
    return page(request, "dashboard/usage.html", context, status=200 if form.is_valid() else 400)


@tenant_page()
def usage_csv(request: TenantRequest) -> HttpResponse:
    form = DateRangeForm.from_query(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors), status=400
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return download(
        daily_csv(request.tenant.pk, start, end + timedelta(days=1)),
        "text/csv; charset=utf-8",
        f"usage-{request.tenant.slug}-{start}-{end}.csv",
    )
