"""The operator's bulk actions and usage views in the admin: they go through the service
functions, so the API sees each change on its very next request."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from apps.reports.monthly import build_monthly_reports
from apps.reports.usage import utc_today
from apps.tenants import services
from apps.tenants.grants import resolve_key
from apps.tenants.models import ApiKey, Tenant, TenantService
from tests.apps.factories import UserFactory
from tests.apps.reports.conftest import drain_usage, metered


@pytest.fixture
def operator(client, db):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def act(operator, action: str, *tenants: Tenant):
    return operator.post(
        "/admin/tenants/tenant/",
        {"action": action, "_selected_action": [t.pk for t in tenants]},
        follow=True,
    )


def test_enabling_vehicles_for_selected_tenants_reaches_the_api(operator, key_a, key_b):
    resolve_key(key_b.raw)  # cached without vehicles
    response = act(operator, "enable_vehicles_detection", key_a.key.tenant, key_b.key.tenant)
    assert "Enabled vehicles detection for 2 tenant(s)." in response.content.decode()
    assert resolve_key(key_b.raw).service("vehicles-detection") is not None
    assert resolve_key(key_a.raw).service("vehicles-detection") is not None


def test_a_service_the_deployment_does_not_offer_is_refused(operator, key_b, settings):
    settings.IPCAI_OFFERED_SERVICES = ["persons-detection"]
    response = act(operator, "enable_pets_detection", key_b.key.tenant)
    assert "Pets-detection is not offered by this deployment" in response.content.decode()
    assert resolve_key(key_b.raw).service("pets-detection") is None


def test_suspending_and_reactivating_tenants(operator, key_a, key_b):
    resolve_key(key_a.raw)
    act(operator, "suspend", key_a.key.tenant)
    assert resolve_key(key_a.raw).tenant_active is False
    assert resolve_key(key_b.raw).tenant_active is True
    act(operator, "reactivate", key_a.key.tenant)
    assert resolve_key(key_a.raw).tenant_active is True


def test_the_tenant_list_shows_services_and_this_months_requests(operator, tenant_a, tenant_b):
    for _ in range(3):
        metered(tenant_a, "pets-detection", datetime.now(UTC))
    drain_usage()
    page = operator.get("/admin/tenants/tenant/").content.decode()
    alpha_row = page[page.index(">alpha<") : page.index(">bravo<")]
    assert "persons-detection, pets-detection" in alpha_row
    assert '<td class="field-requests_this_month">3</td>' in alpha_row


def test_the_tenant_page_summarises_usage_by_month(operator, tenant_a):
    this_month = utc_today().replace(day=1)
    metered(tenant_a, "pets-detection", datetime.combine(this_month, datetime.min.time(), UTC))
    metered(tenant_a, "pets-detection", datetime.now(UTC), status_code=400)
    drain_usage()
    page = operator.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    assert (
        f"<td>{this_month:%Y-%m}</td><td>pets-detection</td><td>2</td><td>1</td><td>1</td>" in page
    )


def test_usage_export_has_one_row_per_tenant_month_and_service(operator, tenant_a, tenant_b):
    metered(tenant_a, "pets-detection", datetime.now(UTC), objects=3)
    metered(tenant_b, "persons-detection", datetime.now(UTC), objects=5)
    drain_usage()
    response = act(operator, "export_usage", tenant_b)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {
            "tenant": "bravo",
            "month": f"{utc_today():%Y-%m}",
            "application_type": "persons-detection",
            "requests": "1",
            "successes": "1",
            "errors": "0",
            "objects": "5",
            "video_jobs": "0",
            "video_seconds": "0.0",
        }
    ]


def test_monthly_reports_are_listed_and_exported(operator, tenant_a):
    metered(tenant_a, "pets-detection", datetime(2026, 3, 5, tzinfo=UTC), latency_ms=8)
    drain_usage()
    build_monthly_reports(date(2026, 3, 1), [tenant_a])
    listing = operator.get("/admin/reports/monthlyusagereport/").content.decode()
    assert "2026-03" in listing
    report_id = tenant_a.monthly_reports.get().pk
    response = operator.post(
        "/admin/reports/monthlyusagereport/",
        {"action": "export_csv", "_selected_action": [report_id]},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # One row per service answered, and the tenant's calls ("all": one call, one request).
    assert sorted(
        (r["tenant"], r["application_type"], r["requests"], r["p50_latency_ms"]) for r in rows
    ) == [("alpha", "all", "1", ""), ("alpha", "pets-detection", "1", "8.0")]


def test_the_admin_enforces_the_active_key_cap_like_the_api(operator, tenant_a, monkeypatch):
    monkeypatch.setattr(services, "MAX_ACTIVE_KEYS_PER_TENANT", 0)
    response = operator.post(
        "/admin/tenants/tenant/",
        {"action": "issue_key", "_selected_action": [tenant_a.pk]},
        follow=True,
    )
    assert "at most 0 active keys" in response.content.decode()
    assert not ApiKey.objects.filter(tenant=tenant_a, name="admin").exists()


def test_the_admin_refuses_to_enable_a_service_this_deployment_does_not_offer(
    operator, tenant_b, settings
):
    settings.IPCAI_OFFERED_SERVICES = ["persons-detection"]
    service = TenantService.objects.create(
        tenant=tenant_b, application_type="pets-detection", enabled=False
    )
    response = operator.post(
        f"/admin/tenants/tenantservice/{service.pk}/change/",
        {
            "tenant": tenant_b.pk,
            "application_type": "pets-detection",
            "enabled": "on",
            "min_confidence": "0.5",
            "retention_days": "30",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "is not offered by this deployment" in response.content.decode()
    service.refresh_from_db()
    assert service.enabled is False
