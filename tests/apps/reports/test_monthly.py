"""Monthly reports: built for every tenant by the beat task, replaced when rebuilt."""

from __future__ import annotations

from datetime import UTC, date, datetime

from apps.reports.models import MonthlyUsageReport
from apps.reports.monthly import build_monthly_reports
from apps.reports.tasks import build_monthly_usage_reports
from apps.reports.usage import previous_month, utc_today
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
