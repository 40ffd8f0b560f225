"""The operator admin shows each tenant's cameras on the tenant's page, and only that tenant's."""

from __future__ import annotations

from apps.cameras.services import bind_key, create_camera
from tests.apps.factories import UserFactory

TRIANGLE = [[0.1, 0.5], [0.6, 0.5], [0.6, 1.0]]


def test_a_tenants_page_lists_its_cameras(client, tenant_a, tenant_b, key_a):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    ours = create_camera(
        tenant_a, {"name": "driveway", "zones": [{"name": "porch", "points": TRIANGLE}]}
    )
    theirs = create_camera(tenant_b, {"name": "loading bay"})
    bind_key(ours, key_a.key)

    page = client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()

    assert ours.public_id in page and "driveway" in page and key_a.key.prefix in page
    assert theirs.public_id not in page
