"""Build and store the monthly usage report of every tenant (Celery beat, or by hand)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from apps.reports.models import MonthlyUsageReport
from apps.reports.usage import report_rows_by_tenant
from apps.tenants.models import Tenant


@transaction.atomic
def build_monthly_reports(month: date, tenants: list[Tenant] | None = None) -> int:
    """Store (or replace) the report for `month` of each tenant; returns how many were stored.

    Every tenant gets a report, also one without usage: "no requests" is an answer too.
    """
    month = month.replace(day=1)
    tenants = list(Tenant.objects.all()) if tenants is None else tenants
    rows_by_tenant = report_rows_by_tenant(month, [t.pk for t in tenants])
    for tenant in tenants:
        MonthlyUsageReport.objects.update_or_create(
            tenant=tenant,
            month=month,
            defaults={"rows": rows_by_tenant.get(tenant.pk, []), "generated_at": timezone.now()},
        )
    return len(tenants)
