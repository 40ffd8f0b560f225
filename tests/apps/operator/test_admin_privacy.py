"""The operator's side of privacy: the tenant's redaction (required or chosen) on the tenants
list and form, and the erasure audit log, read only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.reports.erasure import do_erase
from apps.tenants.redaction import set_owner_redaction, set_required_redaction
from tests.apps.factories import UserFactory


@pytest.fixture
def operator(client, db):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def test_the_tenants_list_says_what_each_tenant_blurs(operator, tenant_a, tenant_b):
    set_required_redaction(tenant_a, faces=True, plates=False)
    set_owner_redaction(tenant_a, faces=True, plates=True)
    page = operator.get("/admin/tenants/tenant/").content.decode()
    assert "faces (required), plates" in page
    form = operator.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    assert 'name="require_redact_faces"' in form and 'name="require_redact_plates"' in form


def test_the_erasure_log_is_listed_and_cannot_be_edited_or_deleted(operator, tenant_a, archive):
    now = datetime.now(UTC)
    erasure = do_erase(
        tenant_a, since=now - timedelta(days=1), until=now, requested_by="user alice"
    )
    assert "user alice" in operator.get("/admin/reports/erasurerequest/").content.decode()
    assert operator.get("/admin/reports/erasurerequest/add/").status_code == 403
    delete = operator.post(f"/admin/reports/erasurerequest/{erasure.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
