"""`manage.py usage_report`: the operator's monthly numbers as CSV or JSON lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from tests.apps.reports.conftest import drain_usage, metered

IN_MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


def usage_report(*args: str) -> str:
    out = io.StringIO()
    call_command("usage_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def march_usage(tenant_a, tenant_b) -> None:
    for latency in (10, 20, 30, 40):
        metered(tenant_a, "pets-detection", IN_MARCH, latency_ms=latency, objects=3)
    metered(tenant_a, "pets-detection", IN_MARCH, status_code=400)
    metered(tenant_b, "persons-detection", IN_MARCH, latency_ms=15)
    metered(tenant_b, "persons-detection", datetime(2026, 4, 2, tzinfo=UTC))  # April
    drain_usage()


def test_csv_has_one_row_per_tenant_and_service_then_the_tenants_requests(march_usage):
    rows = list(csv.DictReader(io.StringIO(usage_report("--month", "2026-03", "--format", "csv"))))
    assert rows == [
        {
            "month": "2026-03",
            "tenant": "alpha",
            "application_type": "pets-detection",
            "requests": "5",
            "successes": "4",
            "errors": "1",
            "objects": "12",
            "p50_latency_ms": "20.0",
            "p95_latency_ms": "40.0",
            "video_jobs": "0",
            "video_seconds": "0.0",
        },
        {  # each API call once (a DeepStack call is in the row of every service it ran)
            "month": "2026-03",
            "tenant": "alpha",
            "application_type": "all",
            "requests": "5",
            "successes": "4",
            "errors": "1",
            "objects": "12",
            "p50_latency_ms": "",
            "p95_latency_ms": "",
            "video_jobs": "0",
            "video_seconds": "0.0",
        },
        {
            "month": "2026-03",
            "tenant": "bravo",
            "application_type": "persons-detection",
            "requests": "1",
            "successes": "1",
            "errors": "0",
            "objects": "1",
            "p50_latency_ms": "15.0",
            "p95_latency_ms": "15.0",
            "video_jobs": "0",
            "video_seconds": "0.0",
        },
        {
            "month": "2026-03",
            "tenant": "bravo",
            "application_type": "all",
            "requests": "1",
            "successes": "1",
            "errors": "0",
            "objects": "1",
            "p50_latency_ms": "",
            "p95_latency_ms": "",
            "video_jobs": "0",
            "video_seconds": "0.0",
        },
    ]


def test_json_lines_for_one_tenant(march_usage):
    lines = usage_report("--month", "2026-03", "--tenant", "bravo", "--format", "json")
    rows = [json.loads(line) for line in lines.splitlines()]
    assert [(r["tenant"], r["requests"], r["p95_latency_ms"]) for r in rows] == [
        ("bravo", 1, 15.0),
        ("bravo", 1, None),
    ]


def test_a_month_without_usage_prints_only_the_header(march_usage):
    assert usage_report("--month", "2025-01", "--format", "csv").splitlines() == [
        "month,tenant,application_type,requests,successes,errors,objects,"
        "p50_latency_ms,p95_latency_ms,video_jobs,video_seconds"
    ]


def test_bad_arguments_are_clear_errors(tenant_a):
    with pytest.raises(CommandError, match="YYYY-MM"):
        usage_report("--month", "03/2026")
    with pytest.raises(CommandError, match="no tenant 'nobody'"):
        usage_report("--month", "2026-03", "--tenant", "nobody")
