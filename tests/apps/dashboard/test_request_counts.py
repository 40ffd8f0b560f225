"""One call is one request, everywhere a user reads a count: a DeepStack call with three
services enabled counts once in the monthly total, the usage page, the reports and the usage
API, and under each service it answered on the service cards; the pages say how the two relate.
"""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime
from io import StringIO

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from apps.reports.models import MonthlyUsageReport
from apps.reports.monthly import build_monthly_reports
from apps.reports.usage import utc_today
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service
from apps.usage.metering import drain_usage
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in, try_it


@pytest.fixture
def one_deepstack_call(client, inference, tenant_a, key_a) -> None:
    """Alpha with all three services enabled, and one DeepStack call (it runs all three)."""
    enable_service(tenant_a, ApplicationType.VEHICLES)
    deepstack = client.post(
        "/v1/vision/detection",
        {"image": SimpleUploadedFile("pets.jpg", seed_image("pets"))},
        **key_a.headers,
    )
    assert deepstack.status_code == 200
    drain_usage()


def card(page: str, service: str) -> str:
    start = page.index(f'data-service="{service}"')
    return page[start : page.index("</section>", start)]


def stat(page: str, service: str, name: str) -> int:
    return int(re.search(rf'data-stat="{name}">(\d+)<', card(page, service)).group(1))


def test_the_overview_counts_the_call_once_and_under_each_service(one_deepstack_call, alice):
    browser = signed_in(alice)
    assert try_it(browser, "alpha", "pets-detection", seed_image("pets")).status_code == 200
    drain_usage()

    page = browser.get("/t/alpha/").content.decode()

    assert '<span class="metric" id="requests-month">2</span>' in page
    assert '<span id="requests-today">2</span>' in page
    assert '<span id="quota-used">2</span>' in page
    assert stat(page, "persons-detection", "month-requests") == 1
    assert stat(page, "pets-detection", "month-requests") == 2
    assert stat(page, "vehicles-detection", "month-requests") == 1
    assert stat(page, "pets-detection", "month-objects") == 6  # three dogs, twice
    note = re.search(r'id="count-note">(.*?)</p>', page).group(1)
    assert "runs every enabled service: one request, answered by each" in note
    assert "refused ones included, as on the Usage page" in note


def test_the_usage_page_and_api_total_each_call_once(one_deepstack_call, alice):
    today = utc_today().isoformat()
    page = signed_in(alice).get(f"/t/alpha/usage/?start={today}&end={today}").content.decode()

    rows = re.findall(r"<tr><td>([a-z-]+)</td><td class=\"num\">(\d+)<", page)
    assert dict(rows) == {
        "persons-detection": "1",
        "pets-detection": "1",
        "vehicles-detection": "1",
    }
    total = re.search(r'id="all-services">.*?<td class="num">(\d+)<', page).group(1)
    assert total == "1"
    assert "once in the last row" in page


def test_the_usage_api_totals_each_call_once(one_deepstack_call, client, key_a):
    usage = client.get("/api/v1/usage", **key_a.headers).json()
    assert usage["totals"]["requests"] == 1 == usage["quota"]["used_this_month"]
    assert sorted(d["requests"] for d in usage["days"]) == [1, 1, 1]
    one_service = client.get("/api/v1/usage?application_type=pets-detection", **key_a.headers)
    assert one_service.json()["totals"]["requests"] == 1


def test_reports_add_an_all_row_counting_each_call_once(one_deepstack_call, alice):
    month = utc_today().replace(day=1)
    build_monthly_reports(month)

    report = MonthlyUsageReport.objects.get(tenant__slug="alpha", month=month)
    by_service = {row["application_type"]: row["requests"] for row in report.rows}
    assert by_service == {
        "persons-detection": 1,
        "pets-detection": 1,
        "vehicles-detection": 1,
        "all": 1,
    }
    assert report.requests == 1  # the Reports page's column
    page = signed_in(alice).get("/t/alpha/reports/").content.decode()
    assert re.search(r'<td class="num">1</td><td class="num">0</td>', page)

    out = StringIO()
    call_command("usage_report", "--month", f"{month:%Y-%m}", "--tenant", "alpha", stdout=out)
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["application_type"], r["requests"]) for r in lines][-1] == ("all", 1)


def test_the_calls_of_old_usage_rows_are_backfilled_by_the_migration(db, tenant_a):
    """Rows drained before `calls` existed get it from their usage events (the migration)."""
    from django.apps import apps as django_apps

    from apps.usage.models import DailyUsage, UsageEvent

    migration = importlib.import_module("apps.detection.migrations.0003_dailyusage_calls")
    when = datetime(2026, 3, 5, 12, tzinfo=UTC)
    for number, application_type in enumerate(
        ["persons-detection,pets-detection", "pets-detection"]
    ):
        UsageEvent.objects.create(
            created_at=when,
            request_id=f"r{number}",
            tenant=tenant_a,
            application_type=application_type,
            endpoint="native",
            status_code=200,
            latency_ms=1.0,
        )
    for service, requests in [("persons-detection", 1), ("pets-detection", 2)]:
        DailyUsage.objects.create(
            tenant=tenant_a, application_type=service, day=when.date(), requests=requests
        )

    class AppsOfThen:
        """The registry as the migration saw it: these models were detection's then."""

        def get_model(self, app_label: str, model_name: str):
            assert app_label == "detection"
            return django_apps.get_model("usage", model_name)

    migration.backfill_calls(AppsOfThen(), None)

    calls = dict(DailyUsage.objects.values_list("application_type", "calls"))
    assert calls == {"persons-detection": 1, "pets-detection": 1}


def test_a_refused_call_is_in_every_total_and_the_page_says_why_the_quota_is_lower(
    client, inference, tenant_a, key_a, alice
):
    """A frame for a camera that does not exist is refused before it runs: it is in the
    month's and the day's totals (one number for each question), not in the quota, and the
    page says so beside the quota."""
    answered = client.post(
        "/api/v1/detect/persons-detection",
        data=seed_image("persons"),
        content_type="image/jpeg",
        **key_a.headers,
    )
    refused = client.post(
        "/api/v1/detect/persons-detection",
        data=seed_image("persons"),
        content_type="image/jpeg",
        HTTP_X_CAMERA_ID="cam_doesnotexist",
        **key_a.headers,
    )
    assert (answered.status_code, refused.status_code) == (200, 404)
    drain_usage()

    page = signed_in(alice).get("/t/alpha/").content.decode()

    assert '<span class="metric" id="requests-month">2</span>' in page
    assert '<span id="requests-today">2</span>' in page
    assert '<span id="quota-used">1</span>' in page
    assert "the quota does not count those, so it can be lower" in page
    # The service card counts what the Usage page's "Requests" column counts, and says so.
    persons = card(page, "persons-detection")
    assert "<dt>Requests today</dt>" in persons and "Answered" not in persons
    assert stat(page, "persons-detection", "today-requests") == 2
    assert stat(page, "persons-detection", "month-requests") == 2
    assert "50%" in persons  # the refused call counts against the success rate
    assert "refused ones included" in page
    usage = client.get("/api/v1/usage", **key_a.headers).json()
    assert sum(day["requests"] for day in usage["days"]) == 2
