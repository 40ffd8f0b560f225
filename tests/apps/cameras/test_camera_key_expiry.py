"""A camera key is a key minted by a key: it may not outlive the key that made it (security
review, issue 31, Medium 4). The keys API held that rule; the cameras API did not, so a
leaked short-lived `manage` key could mint a permanent one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.cameras.services import create_camera
from apps.core.grants import SCOPE_MANAGE
from apps.tenants.models import ApiKey
from apps.tenants.services import issue_api_key
from tests.apps.conftest import IssuedKey


@pytest.fixture
def camera(tenant_a):
    return create_camera(tenant_a, {"name": "gate"})


def _mint(client, camera, key: IssuedKey, body: dict | None = None):
    return client.post(
        f"/api/v1/cameras/{camera.public_id}/keys",
        body or {},
        content_type="application/json",
        **key.headers,
    )


def test_a_camera_key_minted_by_an_expiring_key_expires_with_it(client, tenant_a, camera):
    expires = timezone.now() + timedelta(hours=1)
    short = IssuedKey(*issue_api_key(tenant_a, expires_at=expires, scopes=[SCOPE_MANAGE]))
    answer = _mint(client, camera, short)
    assert answer.status_code == 201, answer.content
    minted = ApiKey.objects.get(public_id=answer.json()["key"])
    assert minted.expires_at is not None and minted.expires_at <= expires
    assert expires - minted.expires_at < timedelta(seconds=1)  # inherited, not shortened


def test_a_camera_key_minted_by_a_key_without_expiry_does_not_expire(client, key_a, camera):
    answer = _mint(client, camera, key_a)
    assert answer.status_code == 201
    assert ApiKey.objects.get(public_id=answer.json()["key"]).expires_at is None
