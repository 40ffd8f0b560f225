"""The operator's admin: tenants, services, members and keys; keys shown once, never stored."""

import re

import pytest

from apps.core.grants import KeyRejected
from apps.tenants.grants import resolve_key
from apps.tenants.models import ApiKey, TenantService
from tests.apps.factories import UserFactory


@pytest.fixture
def operator(client, db):
    user = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_model_has_an_admin_page(operator, key_a):
    for url in [
        "/admin/tenants/tenant/",
        f"/admin/tenants/tenant/{key_a.key.tenant_id}/change/",
        "/admin/tenants/apikey/",
        f"/admin/tenants/apikey/{key_a.key.pk}/change/",
        "/admin/tenants/tenantservice/",
        "/admin/tenants/membership/",
        "/admin/usage/usageevent/",
        "/admin/usage/dailyusage/",
    ]:
        assert operator.get(url).status_code == 200, url


def test_the_key_hash_is_not_shown(operator, key_a):
    page = operator.get(f"/admin/tenants/apikey/{key_a.key.pk}/change/").content.decode()
    assert key_a.key.secret_hash not in page
    assert key_a.raw not in page
    assert key_a.key.prefix in page


def test_issuing_a_key_shows_it_once_and_it_works(operator, tenant_a):
    response = operator.post(
        "/admin/tenants/tenant/",
        {"action": "issue_key", "_selected_action": [tenant_a.pk]},
    )
    raw = re.search(r"ipcai_[0-9a-f]{12}_[\w-]+", response.content.decode()).group(0)
    assert resolve_key(raw).tenant_id == tenant_a.pk
    # Nothing kept it: the messages and session hold no copy.
    assert raw not in operator.get("/admin/tenants/tenant/").content.decode()


def test_revoking_from_the_admin_blocks_the_key(operator, key_a, key_b):
    resolve_key(key_a.raw)  # cached
    operator.post(
        "/admin/tenants/apikey/", {"action": "revoke", "_selected_action": [key_a.key.pk]}
    )
    assert ApiKey.objects.get(pk=key_a.key.pk).revoked_at is not None
    with pytest.raises(KeyRejected):
        resolve_key(key_a.raw)
    assert resolve_key(key_b.raw).tenant_slug == "bravo"


def test_enabling_a_service_in_the_admin_reaches_the_api_at_once(operator, key_b, tenant_b):
    resolve_key(key_b.raw)  # cached without vehicles
    service = TenantService.objects.create(
        tenant=tenant_b, application_type="vehicles-detection", enabled=False
    )
    operator.post(
        "/admin/tenants/tenantservice/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": service.pk,
            "form-0-enabled": "on",
            "_save": "Save",
        },
    )
    assert TenantService.objects.get(pk=service.pk).enabled
    assert resolve_key(key_b.raw).service("vehicles-detection") is not None
