"""Usage per tenant and service over a period: what the dashboard, the admin, the monthly
reports and `manage.py usage_report` all show, computed in one place.

Counts come from the daily roll-ups (one row per tenant, service and UTC day, written by the
usage drain). A request is one API call: the quota, the `all` rows and every "requests" total
count each call once; a service's own numbers count the requests that ran it, and a DeepStack
call runs every enabled service, so the services can add up to more than the requests.

Video seconds analysed by stored-video jobs are a unit of their own (apps/usage
DailyVideoUsage, booked once per finished job under its first service): every monthly row
carries `video_jobs` and `video_seconds` beside the requests, the `all` row the tenant's sum,
and a service used only for video jobs still gets its row (zero requests).

Latency percentiles need the individual requests, so they come from the usage events; the
database sorts and picks the nearest-rank value, so a busy month is never loaded
into memory. Percentiles cover successful requests only: a flood of fast 401s or 400s would
otherwise make the p50 meaningless.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from apps.usage.models import DailyUsage, DailyVideoUsage, UsageEvent

REPORT_FIELDS = [
    "month",
    "tenant",
    "application_type",
    "requests",
    "successes",
    "errors",
    "objects",
    "p50_latency_ms",
    "p95_latency_ms",
    "video_jobs",
    "video_seconds",
]
MONTHLY_FIELDS = [
    "tenant",
    "month",
    "application_type",
    "requests",
    "successes",
    "errors",
    "objects",
    "video_jobs",
    "video_seconds",
]
DAILY_FIELDS = ["date", "application_type", "requests", "successes", "errors", "objects"]
# The application_type of a report row that counts the tenant's requests, each call once.
ALL_SERVICES = "all"


@dataclass(frozen=True)
class ServiceTotals:
    """One tenant's use of one service over a period."""

    tenant_id: int
    tenant: str
    application_type: str
    requests: int
    errors: int
    objects: int
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    video_jobs: int = 0
    video_seconds: float = 0.0

    @property
    def successes(self) -> int:
        return self.requests - self.errors

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.requests if self.requests else None

    def report_row(self, month: date) -> dict:
        row = asdict(self)
        del row["tenant_id"]
        row.update(
            month=f"{month:%Y-%m}",
            successes=self.successes,
            video_seconds=round(self.video_seconds, 1),
        )
        return {name: row[name] for name in REPORT_FIELDS}


def parse_month(text: str) -> date:
    """`YYYY-MM` → the month's first day; ValueError for anything else."""
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-03") from None
    return parsed.date()


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(today: date) -> date:
    last_day = today.replace(day=1) - timedelta(days=1)
    return last_day.replace(day=1)


def utc_today() -> date:
    return datetime.now(UTC).date()


def service_totals(
    start: date, end: date, tenant_ids: Iterable[int] | None = None, *, latency: bool = True
) -> list[ServiceTotals]:
    """Totals per tenant and service for the UTC days start ≤ day < end, by tenant slug;
    `latency=False` skips the percentiles (they sort the period's events)."""
    rows = DailyUsage.objects.filter(day__gte=start, day__lt=end)
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=list(tenant_ids))
    grouped = (
        rows.values("tenant_id", "tenant__slug", "application_type")
        .annotate(requests=Sum("requests"), errors=Sum("errors"), found=Sum("objects_found"))
        .order_by("tenant__slug", "application_type")
    )
    totals = []
    for group in grouped:
        p50, p95 = (
            latency_percentiles(group["tenant_id"], group["application_type"], start, end, (50, 95))
            if latency
            else (None, None)
        )
        totals.append(
            ServiceTotals(
                tenant_id=group["tenant_id"],
                tenant=group["tenant__slug"],
                application_type=group["application_type"],
                requests=group["requests"] or 0,
                errors=group["errors"] or 0,
                objects=group["found"] or 0,
                p50_latency_ms=p50,
                p95_latency_ms=p95,
            )
        )
    return totals


def request_totals(
    start: date, end: date, tenant_ids: Iterable[int] | None = None
) -> dict[int, ServiceTotals]:
    """Per tenant, its requests for start ≤ day < end with each API call counted once (what the
    quota and billing count), as an `all` services row; objects are summed over services."""
    rows = DailyUsage.objects.filter(day__gte=start, day__lt=end)
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=list(tenant_ids))
    grouped = (
        rows.values("tenant_id", "tenant__slug")
        .annotate(requests=Sum("calls"), errors=Sum("failed_calls"), found=Sum("objects_found"))
        .order_by("tenant__slug")
    )
    return {
        group["tenant_id"]: ServiceTotals(
            tenant_id=group["tenant_id"],
            tenant=group["tenant__slug"],
            application_type=ALL_SERVICES,
            requests=group["requests"] or 0,
            errors=group["errors"] or 0,
            objects=group["found"] or 0,
            p50_latency_ms=None,
            p95_latency_ms=None,
        )
        for group in grouped
    }


def video_totals(
    start: date, end: date, tenant_ids: Iterable[int] | None = None
) -> dict[tuple[int, str], tuple[str, int, float]]:
    """(tenant, service) -> (tenant slug, video jobs, video seconds) for start <= day < end."""
    rows = DailyVideoUsage.objects.filter(day__gte=start, day__lt=end)
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=list(tenant_ids))
    grouped = rows.values("tenant_id", "tenant__slug", "application_type").annotate(
        jobs=Sum("jobs"), seconds=Sum("video_seconds")
    )
    return {
        (group["tenant_id"], group["application_type"]): (
            group["tenant__slug"],
            group["jobs"] or 0,
            float(group["seconds"] or 0.0),
        )
        for group in grouped
    }


def report_rows_by_tenant(month: date, tenant_ids: Iterable[int] | None = None) -> dict[int, list]:
    """A month's report rows per tenant: one per service (requests and video seconds), then
    the `all` row (each call once, and the tenant's video seconds)."""
    tenant_ids = None if tenant_ids is None else list(tenant_ids)
    end = next_month(month)
    services = {
        (totals.tenant_id, totals.application_type): totals
        for totals in service_totals(month, end, tenant_ids)
    }
    alls = request_totals(month, end, tenant_ids)
    for (tenant_id, service), (slug, jobs, seconds) in video_totals(month, end, tenant_ids).items():
        found = services.get((tenant_id, service)) or _no_requests(tenant_id, slug, service)
        services[tenant_id, service] = replace(found, video_jobs=jobs, video_seconds=seconds)
        total = alls.get(tenant_id) or _no_requests(tenant_id, slug, ALL_SERVICES)
        alls[tenant_id] = replace(
            total,
            video_jobs=total.video_jobs + jobs,
            video_seconds=total.video_seconds + seconds,
        )
    rows: dict[int, list[dict]] = {}
    for totals in sorted(services.values(), key=lambda t: (t.tenant, t.application_type)):
        rows.setdefault(totals.tenant_id, []).append(totals.report_row(month))
    for tenant_id, totals in alls.items():
        rows.setdefault(tenant_id, []).append(totals.report_row(month))
    return rows


def _no_requests(tenant_id: int, slug: str, application_type: str) -> ServiceTotals:
    return ServiceTotals(tenant_id, slug, application_type, 0, 0, 0, None, None)


def latency_percentiles(
    tenant_id: int, application_type: str, start: date, end: date, percents: Iterable[float]
) -> tuple[float | None, ...]:
    """Nearest-rank latency percentiles (ms) of the service's successful requests."""
    events = UsageEvent.objects.filter(
        tenant_id=tenant_id,
        created_at__gte=_midnight(start),
        created_at__lt=_midnight(end),
        status_code__lt=400,
    ).filter(_service_filter(application_type))
    count = events.count()
    percents = list(percents)
    if not count:
        return tuple(None for _ in percents)
    ordered = events.order_by("latency_ms").values_list("latency_ms", flat=True)
    return tuple(round(ordered[max(0, math.ceil(p / 100 * count) - 1)], 1) for p in percents)


def _service_filter(application_type: str) -> Q:
    """Events of one service: a DeepStack request runs every enabled service and stores them
    comma-joined, and it counts (as in the roll-ups) for each of them."""
    if not application_type:
        return Q(application_type="")
    return (
        Q(application_type=application_type)
        | Q(application_type__startswith=f"{application_type},")
        | Q(application_type__endswith=f",{application_type}")
        | Q(application_type__contains=f",{application_type},")
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def monthly_totals(tenant_ids: Iterable[int], since: date) -> list[dict]:
    """Requests, errors, objects and video seconds per tenant, calendar month and service from
    `since` on, newest month first: the operator's summary (no percentiles, so it stays two
    queries)."""
    tenant_ids = list(tenant_ids)
    rows = (
        DailyUsage.objects.filter(tenant_id__in=tenant_ids, day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("tenant__slug", "month", "application_type")
        .annotate(requests=Sum("requests"), errors=Sum("errors"), found=Sum("objects_found"))
    )
    found: dict[tuple[str, str, str], dict] = {}
    for row in rows:
        key = (row["tenant__slug"], f"{row['month']:%Y-%m}", row["application_type"])
        found[key] = {
            "tenant": key[0],
            "month": key[1],
            "application_type": key[2],
            "requests": row["requests"],
            "successes": row["requests"] - row["errors"],
            "errors": row["errors"],
            "objects": row["found"],
            "video_jobs": 0,
            "video_seconds": 0.0,
        }
    videos = (
        DailyVideoUsage.objects.filter(tenant_id__in=tenant_ids, day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("tenant__slug", "month", "application_type")
        .annotate(jobs=Sum("jobs"), seconds=Sum("video_seconds"))
    )
    for video in videos:
        key = (video["tenant__slug"], f"{video['month']:%Y-%m}", video["application_type"])
        summary = found.setdefault(
            key,
            {
                "tenant": key[0],
                "month": key[1],
                "application_type": key[2],
                "requests": 0,
                "successes": 0,
                "errors": 0,
                "objects": 0,
            },
        )
        summary["video_jobs"] = video["jobs"] or 0
        summary["video_seconds"] = round(float(video["seconds"] or 0.0), 1)
    by_month = sorted(found.values(), key=lambda r: r["application_type"])
    by_month.sort(key=lambda r: r["month"], reverse=True)
    by_month.sort(key=lambda r: r["tenant"])
    return by_month


def daily_rows(tenant_id: int, start: date, end: date) -> QuerySet[DailyUsage]:
    """The tenant's roll-ups for start ≤ day < end, oldest first."""
    return DailyUsage.objects.filter(tenant_id=tenant_id, day__gte=start, day__lt=end).order_by(
        "day", "application_type"
    )


def daily_series(tenant_id: int, start: date, end: date) -> dict:
    """Requests per service and day (every day present, zero-filled), ready for a chart, and
    `requests`: each day's API calls, each once."""
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    index = {day: n for n, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    calls = [0] * len(days)
    for row in daily_rows(tenant_id, start, end):
        counts = series.setdefault(row.application_type or "(none)", [0] * len(days))
        counts[index[row.day]] += row.requests
        calls[index[row.day]] += row.calls
    return {"days": [d.isoformat() for d in days], "services": series, "requests": calls}


def daily_csv(tenant_id: int, start: date, end: date) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, DAILY_FIELDS)
    writer.writeheader()
    for row in daily_rows(tenant_id, start, end):
        writer.writerow(
            {
                "date": row.day.isoformat(),
                "application_type": row.application_type,
                "requests": row.requests,
                "successes": row.requests - row.errors,
                "errors": row.errors,
                "objects": row.objects_found,
            }
        )
    return out.getvalue()


def report_csv(rows: Iterable[dict]) -> str:
    """Report rows (REPORT_FIELDS) as CSV with a header; empty percentiles stay empty."""
    return rows_csv(rows, REPORT_FIELDS)


def rows_csv(rows: Iterable[dict], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
    return out.getvalue()
