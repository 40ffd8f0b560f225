"""Who may read the usage API: account data for `events:read` or `manage` keys, not for a
camera's detect-only key (the data itself is tested in tests/apps/tenants/test_api.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.tenants.services import issue_api_key


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(["detect"], 403), (["events:read"], 200), (["manage"], 200), (["detect", "manage"], 200)],
)
def test_usage_is_for_keys_that_read_events_or_manage(client, tenant_a, scopes, status):
    _, raw = issue_api_key(tenant_a, name="scoped", scopes=scopes)
    response = client.get("/api/v1/usage", HTTP_X_API_KEY=raw)
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["code"] == "insufficient_scope"
        assert "'events:read' or 'manage'" in response.json()["error"]["message"]
