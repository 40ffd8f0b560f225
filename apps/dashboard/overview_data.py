"""The numbers on a tenant's overview page: today and this month per service, quota, 30 days."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import orjson

from apps.core.redis import get_redis, redis_key
from apps.reports.usage import (
    ServiceTotals,
    daily_series,
    latency_percentiles,
    next_month,
    request_totals,
    service_totals,
    utc_today,
)
from apps.tenants.limits import requests_this_month
from apps.tenants.models import ApiKey, Tenant

CHART_DAYS = 30
LATENCY_CACHE_S = 60


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
    month_end = next_month(month_start)
    today_totals = _by_service(
        service_totals(today, today + timedelta(days=1), [tenant.pk], latency=False)
    )
    month_totals = {
        name: replace(totals, **_cached_latency(tenant.pk, name, month_start, month_end))
        for name, totals in _by_service(
            service_totals(month_start, month_end, [tenant.pk], latency=False)
        ).items()
    }
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
        # Each call once (the service cards count the requests each ran), from the stored
        # totals, as the usage page and the usage API count them: refused calls included.
        "requests_month": getattr(
            request_totals(month_start, month_end, [tenant.pk]).get(tenant.pk), "requests", 0
        ),
        "requests_today": getattr(
            request_totals(today, today + timedelta(days=1), [tenant.pk]).get(tenant.pk),
            "requests",
            0,
        ),
        "chart": daily_series(
            tenant.pk, today - timedelta(days=CHART_DAYS - 1), today + timedelta(days=1)
        ),
    }


def first_calls(tenant: Tenant) -> dict:
    """What the empty overview's guided start fills in: the prefix of one of the tenant's own
    keys (the secret was shown once, when the key was made) and a service it may call."""
    key = ApiKey.objects.usable().filter(tenant=tenant).order_by("-created_at").first()
    enabled = [s.application_type for s in tenant.services.all() if s.enabled]
    service = (
        tenant.default_application_type if tenant.default_application_type in enabled else None
    )
    return {
        "key_prefix": f"ipcai_{key.public_id}_" if key else None,
        "service": service or (enabled[0] if enabled else tenant.default_application_type),
    }


def _cached_latency(tenant_id: int, application_type: str, start: date, end: date) -> dict:
    """The month's p50 / p95, kept a minute: they sort every successful request of the month,
    which for a busy tenant is too much work for each page view. Counts stay live."""
    key = redis_key("dashboard", "latency", tenant_id, application_type, start.isoformat())
    cached = get_redis().get(key)
    if cached is not None:
        return orjson.loads(cached)
    p50, p95 = latency_percentiles(tenant_id, application_type, start, end, (50, 95))
    latency = {"p50_latency_ms": p50, "p95_latency_ms": p95}
    if p50 is not None:  # nothing to sort yet is cheap: show the first request's at once
        get_redis().set(key, orjson.dumps(latency), ex=LATENCY_CACHE_S)
    return latency


def _by_service(totals: list[ServiceTotals]) -> dict[str, ServiceTotals]:
    return {t.application_type: t for t in totals}
