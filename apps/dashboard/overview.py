"""The numbers on a tenant's overview page: today and this month per service, quota, 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from apps.detection.limits import requests_this_month
from apps.reports.usage import ServiceTotals, daily_series, next_month, service_totals, utc_today
from apps.tenants.models import Tenant

CHART_DAYS = 30


@dataclass(frozen=True)
class ServiceOverview:
    application_type: str
    label: str
    enabled: bool
    today: ServiceTotals | None
    month: ServiceTotals | None


@dataclass(frozen=True)
class Quota:
    used: int
    limit: int | None

    @property
    def percent(self) -> float | None:
        return min(100.0, 100.0 * self.used / self.limit) if self.limit else None


def tenant_overview(tenant: Tenant) -> dict:
    today = utc_today()
    month_start = today.replace(day=1)
    today_totals = _by_service(service_totals(today, today + timedelta(days=1), [tenant.pk]))
    month_totals = _by_service(service_totals(month_start, next_month(month_start), [tenant.pk]))
    services = {s.application_type: s for s in tenant.services.all()}
    names = sorted(set(services) | set(month_totals))
    return {
        "services": [
            ServiceOverview(
                application_type=name,
                label=services[name].get_application_type_display() if name in services else name,
                enabled=name in services and services[name].enabled,
                today=today_totals.get(name),
                month=month_totals.get(name),
            )
            for name in names
        ],
        # The quota counter is Redis's, counted on the request path: it is current even
        # before the usage drain has stored the latest requests.
        "quota": Quota(used=requests_this_month(tenant.pk), limit=tenant.monthly_request_quota),
        "chart": daily_series(
            tenant.pk, today - timedelta(days=CHART_DAYS - 1), today + timedelta(days=1)
        ),
    }


def _by_service(totals: list[ServiceTotals]) -> dict[str, ServiceTotals]:
    return {t.application_type: t for t in totals}
