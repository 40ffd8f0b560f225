"""A new user's first pages: the no-tenant page says what to do (the operator gets the admin
and the exact command), staff find the admin from every page, and the admin says whose it is."""

from __future__ import annotations

from tests.apps.dashboard.conftest import signed_in
from tests.apps.factories import UserFactory


def test_an_operator_without_a_tenant_is_shown_how_to_join_one(db, tenant_a, tenant_b):
    operator = UserFactory(username="olga", is_staff=True, is_superuser=True)

    page = signed_in(operator).get("/").content.decode()

    assert "No tenant yet" in page
    assert 'href="/admin/tenants/tenant/"' in page
    assert f'href="/admin/tenants/tenant/{tenant_a.pk}/change/"' in page
    assert "manage.py add_member alpha olga --role owner" in page
    assert "manage.py add_member bravo olga --role owner" in page
    assert 'href="/admin/">Open the admin' in page


def test_a_user_without_a_tenant_is_told_whom_to_ask(db, tenant_a, settings):
    settings.IPCAI_SUPPORT_EMAIL = "support@ipcai.example"
    page = signed_in(UserFactory(username="nina")).get("/").content.decode()

    assert "not a member of any tenant" in page
    assert 'href="mailto:support@ipcai.example"' in page
    assert "/admin/" not in page and "add_member" not in page  # nothing an outsider can use


def test_staff_see_the_admin_link_on_tenant_pages_members_do_not(db, alice, tenant_a):
    assert 'href="/admin/">Admin</a>' not in signed_in(alice).get("/t/alpha/").content.decode()

    alice.is_staff = True
    alice.save()
    assert 'href="/admin/">Admin</a>' in signed_in(alice).get("/t/alpha/").content.decode()


def test_the_admin_is_branded_and_leads_back_to_the_dashboard(db):
    operator = UserFactory(username="olga", is_staff=True, is_superuser=True)

    page = signed_in(operator).get("/admin/").content.decode()

    assert "IPC AI operator admin" in page
    assert "<title>Tenants, services, keys and usage | IPC AI admin</title>" in page
    assert "Django administration" not in page
    assert 'href="/">View site</a>' in page
