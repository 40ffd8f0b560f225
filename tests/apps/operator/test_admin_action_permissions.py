"""Admin actions that change tenants or keys need change permission (security review, issue
31, Medium 3): Django offers an action without `permissions=` to every staff user who may see
the list, view-only ones included."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from apps.tenants.models import ApiKey, Tenant
from tests.apps.factories import UserFactory


def _staff_with(client, *codenames: str):
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client, db):
    return _staff_with(client, "view_tenant", "view_apikey")


@pytest.fixture
def changer(client, db):
    return _staff_with(client, "view_tenant", "change_tenant", "view_apikey", "change_apikey")


def _offered(client, url: str) -> set[str]:
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["action_form"] if page.context and "action_form" in page.context else None
    return {value for value, _ in form.fields["action"].choices if value} if form else set()


def test_view_only_staff_are_offered_no_changing_action(viewer, tenant_a, key_a):
    # Reading stays: the usage export only reads.
    assert _offered(viewer, "/admin/tenants/tenant/") == {"export_usage"}
    assert "revoke" not in _offered(viewer, "/admin/tenants/apikey/")


def test_view_only_staff_cannot_suspend_or_revoke_by_posting_the_action(viewer, tenant_a, key_a):
    viewer.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [tenant_a.pk]})
    viewer.post("/admin/tenants/apikey/", {"action": "revoke", "_selected_action": [key_a.key.pk]})
    viewer.post(
        "/admin/tenants/tenant/", {"action": "issue_key", "_selected_action": [tenant_a.pk]}
    )
    assert Tenant.objects.get(pk=tenant_a.pk).active is True
    assert ApiKey.objects.get(pk=key_a.key.pk).revoked_at is None
    assert ApiKey.objects.filter(tenant=tenant_a).count() == 1


def test_staff_with_change_permission_keep_the_actions(changer, tenant_a, key_a):
    tenant_actions = _offered(changer, "/admin/tenants/tenant/")
    assert {"issue_key", "suspend", "reactivate"} <= tenant_actions
    assert any(a.startswith("enable") for a in tenant_actions)
    assert "revoke" in _offered(changer, "/admin/tenants/apikey/")
    changer.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [tenant_a.pk]})
    assert Tenant.objects.get(pk=tenant_a.pk).active is False
