"""Monthly reports: built for every tenant by the beat task, replaced when rebuilt."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from apps.reports.models import MonthlyUsageReport
from apps.reports.monthly import build_monthly_reports
from apps.reports.tasks import build_monthly_usage_reports
from apps.reports.usage import (
    MONTHLY_FIELDS,
    monthly_totals,
    previous_month,
    report_csv,
    rows_csv,
    utc_today,
)
from apps.usage.metering import record_video_seconds
from portal.celery import app
from tests.apps.reports.conftest import drain_usage, metered

MARCH = date(2026, 3, 1)


def test_every_tenant_gets_a_report_also_without_usage(tenant_a, tenant_b):
    metered(tenant_a, "pets-detection", datetime(2026, 3, 5, tzinfo=UTC), latency_ms=12, objects=3)
    drain_usage()
    assert build_monthly_usage_reports("2026-03") == 2
    alpha = MonthlyUsageReport.objects.get(tenant=tenant_a, month=MARCH)
    assert alpha.rows == [
        {
            "month": "2026-03",
            "tenant": "alpha",
            "application_type": "pets-detection",
            "requests": 1,
            "successes": 1,
            "errors": 0,
            "objects": 3,
            "p50_latency_ms": 12.0,
            "p95_latency_ms": 12.0,
            "video_jobs": 0,
            "video_seconds": 0.0,
        },
        {  # each API call once, what the quota and billing count
            "month": "2026-03",
            "tenant": "alpha",
            "application_type": "all",
            "requests": 1,
            "successes": 1,
            "errors": 0,
            "objects": 3,
            "p50_latency_ms": None,
            "p95_latency_ms": None,
            "video_jobs": 0,
            "video_seconds": 0.0,
        },
    ]
    assert MonthlyUsageReport.objects.get(tenant=tenant_b, month=MARCH).rows == []


def test_rebuilding_replaces_the_report(tenant_a):
    build_monthly_reports(MARCH, [tenant_a])
    metered(tenant_a, "pets-detection", datetime(2026, 3, 31, 23, tzinfo=UTC))
    drain_usage()  # a straggler drained after the first build
    build_monthly_reports(MARCH, [tenant_a])
    (report,) = MonthlyUsageReport.objects.filter(tenant=tenant_a)
    assert report.requests == 1


def test_the_task_reports_the_month_that_just_ended_by_default(tenant_a):
    build_monthly_usage_reports()
    (report,) = MonthlyUsageReport.objects.all()
    assert report.month == previous_month(utc_today())


def test_beat_runs_a_registered_task_on_the_first_of_the_month(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["monthly-usage-reports"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1} and schedule.hour == {0}


def test_video_seconds_are_their_own_unit_in_the_reports(tenant_a, tenant_b):
    """Video jobs book media seconds under their first service (apps/usage); a month's
    report and the operator's export carry them beside the requests, also for a tenant that
    only analysed clips."""
    metered(tenant_a, "persons-detection", datetime(2026, 3, 5, tzinfo=UTC), latency_ms=10)
    drain_usage()
    record_video_seconds(tenant_a.pk, "persons-detection", 139.44, 279, date(2026, 3, 6))
    record_video_seconds(tenant_a.pk, "persons-detection", 20.0, 40, date(2026, 3, 31))
    record_video_seconds(tenant_a.pk, "persons-detection", 99.0, 198, date(2026, 4, 1))  # April
    record_video_seconds(tenant_b.pk, "vehicles-detection", 60.0, 120, date(2026, 3, 8))
    build_monthly_reports(MARCH)

    def columns(tenant) -> list[tuple]:
        rows = MonthlyUsageReport.objects.get(tenant=tenant, month=MARCH).rows
        return [
            (r["application_type"], r["requests"], r["video_jobs"], r["video_seconds"])
            for r in rows
        ]

    assert columns(tenant_a) == [("persons-detection", 1, 2, 159.4), ("all", 1, 2, 159.4)]
    assert columns(tenant_b) == [("vehicles-detection", 0, 1, 60.0), ("all", 0, 1, 60.0)]
    report = list(csv.DictReader(io.StringIO(report_csv(
        MonthlyUsageReport.objects.get(tenant=tenant_b, month=MARCH).rows
    ))))  # fmt: skip
    assert [(r["application_type"], r["video_seconds"]) for r in report] == [
        ("vehicles-detection", "60.0"),
        ("all", "60.0"),
    ]

    exported = list(csv.DictReader(io.StringIO(
        rows_csv(monthly_totals([tenant_a.pk, tenant_b.pk], MARCH), MONTHLY_FIELDS)
    )))  # fmt: skip
    assert [
        (r["tenant"], r["month"], r["requests"], r["video_jobs"], r["video_seconds"])
        for r in exported
    ] == [
        ("alpha", "2026-04", "0", "1", "99.0"),
        ("alpha", "2026-03", "1", "2", "159.4"),
        ("bravo", "2026-03", "0", "1", "60.0"),
    ]
