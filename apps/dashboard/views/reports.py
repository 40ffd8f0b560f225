"""The monthly reports page and each report's CSV / JSON download."""

from __future__ import annotations

import json

from django.http import HttpResponse

from apps.dashboard.access import TenantRequest, not_found, tenant_page
from apps.dashboard.pages import download, page
from apps.reports.models import MonthlyUsageReport
from apps.reports.usage import parse_month, report_csv


@tenant_page()
def reports(request: TenantRequest) -> HttpResponse:
    return page(
        request,
        "dashboard/reports.html",
        {"reports": MonthlyUsageReport.objects.filter(tenant=request.tenant)},
    )


@tenant_page()
def report_download(request: TenantRequest, month: str, fmt: str) -> HttpResponse:
    if fmt not in {"csv", "json"}:
        return not_found(request)
    try:
        first_day = parse_month(month)
    except ValueError:
        return not_found(request)
    report = MonthlyUsageReport.objects.filter(tenant=request.tenant, month=first_day).first()
    if report is None:
        return not_found(request)
    filename = f"usage-{request.tenant.slug}-{report.label}.{fmt}"
    if fmt == "csv":
        return download(report_csv(report.rows), "text/csv; charset=utf-8", filename)
    body = {
        "tenant": request.tenant.slug,
        "month": report.label,
        "generated_at": report.generated_at.isoformat(),
        "rows": report.rows,
    }
    return download(json.dumps(body, indent=2), "application/json", filename)
