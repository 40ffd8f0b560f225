"""Scoped API keys: detect (the default), events:read, manage. A key only reaches the APIs its
scopes name, and can only mint keys that are no broader and live no longer than itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from apps.tenants.models import ApiKey
from apps.tenants.services import issue_api_key, set_key_scopes

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def headers(raw: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": raw}


def scoped_key(tenant, *scopes: str, **kwargs) -> str:
    return issue_api_key(tenant, name="scoped", scopes=scopes, **kwargs)[1]


def test_new_keys_may_only_detect_unless_asked(tenant_a):
    key, _ = issue_api_key(tenant_a, name="camera")
    assert key.scopes == ["detect"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/keys"),
        ("post", "/api/v1/keys"),
        ("post", "/api/v1/keys/0123456789ab/revoke"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/events/0123456789abcdef0123456789abcdef"),
        ("get", "/api/v1/events/0123456789abcdef0123456789abcdef/image"),
    ],
)
def test_a_detect_key_cannot_manage_keys_or_read_events(client, tenant_a, method, path):
    response = getattr(client, method)(path, **headers(scoped_key(tenant_a, "detect")))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert "manage" in error["message"] or "events:read" in error["message"]


def test_each_scope_opens_its_own_api(client, tenant_a, inference):
    events_only = headers(scoped_key(tenant_a, "events:read"))
    assert client.get("/api/v1/events", **events_only).status_code == 200
    assert client.get("/api/v1/keys", **events_only).status_code == 403
    detect = client.post(
        "/api/v1/detect/persons-detection", b"", content_type="image/jpeg", **events_only
    )
    assert detect.status_code == 403 and detect.json()["error"]["code"] == "insufficient_scope"
    manage_only = headers(scoped_key(tenant_a, "manage"))
    assert client.get("/api/v1/keys", **manage_only).status_code == 200
    assert client.get("/api/v1/events", **manage_only).status_code == 403


def test_keys_list_shows_each_keys_scopes(client, tenant_a, key_a):
    scoped_key(tenant_a, "detect", "events:read")
    keys = client.get("/api/v1/keys", **key_a.headers).json()["keys"]
    assert [k["scopes"] for k in keys] == [
        ["detect", "events:read"],
        ["detect", "events:read", "manage"],
    ]


def test_a_created_key_gets_detect_unless_scopes_are_given(client, key_a):
    default = client.post("/api/v1/keys", {"name": "cam"}, format="json", **key_a.headers)
    assert default.status_code == 201 and default.json()["key"]["scopes"] == ["detect"]
    chosen = client.post(
        "/api/v1/keys",
        {"name": "ops", "scopes": ["manage", "events:read"]},
        format="json",
        **key_a.headers,
    )
    assert chosen.json()["key"]["scopes"] == ["events:read", "manage"]
    unknown = client.post(
        "/api/v1/keys", {"name": "x", "scopes": ["root"]}, format="json", **key_a.headers
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "invalid_body"


def test_a_key_cannot_mint_a_broader_key(client, tenant_a):
    manager = headers(scoped_key(tenant_a, "detect", "manage"))
    response = client.post(
        "/api/v1/keys",
        {"name": "wider", "scopes": ["detect", "events:read"]},
        format="json",
        **manager,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_not_allowed"
    assert "events:read" in response.json()["error"]["message"]
    assert not ApiKey.objects.filter(name="wider").exists()


def test_a_key_cannot_mint_a_longer_lived_key(client, tenant_a):
    expires = timezone.now() + timedelta(days=10)
    manager = headers(scoped_key(tenant_a, "detect", "manage", expires_at=expires))
    longer = client.post(
        "/api/v1/keys", {"name": "long", "expires_in_days": 30}, format="json", **manager
    )
    assert longer.status_code == 403
    assert longer.json()["error"]["code"] == "expiry_not_allowed"
    # Without an expiry the new key inherits its maker's; a shorter one is fine.
    inherits = client.post("/api/v1/keys", {"name": "same"}, format="json", **manager)
    assert inherits.status_code == 201
    inherited = datetime.fromisoformat(inherits.json()["key"]["expires_at"])
    assert abs(inherited - expires) < timedelta(seconds=1)
    shorter = client.post(
        "/api/v1/keys", {"name": "short", "expires_in_days": 3}, format="json", **manager
    )
    assert shorter.status_code == 201
    assert datetime.fromisoformat(shorter.json()["key"]["expires_at"]) < expires


def test_narrowing_a_key_takes_effect_on_its_next_request(client, key_a):
    assert client.get("/api/v1/keys", **key_a.headers).status_code == 200  # cached now
    set_key_scopes(key_a.key, ["detect"])
    assert client.get("/api/v1/keys", **key_a.headers).status_code == 403


def test_another_tenants_key_stays_invisible_whatever_the_scopes(client, key_a, key_b):
    response = client.post(f"/api/v1/keys/{key_b.key.public_id}/revoke", **key_a.headers)
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_keys_from_before_scopes_keep_every_scope(tenant_a):
    """The migration: a key issued before scopes existed works exactly as before."""
    executor = MigrationExecutor(connection)
    before = [("tenants", "0004_detection_models_and_tiers")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldKey = old_apps.get_model("tenants", "ApiKey")
    OldKey.objects.create(
        tenant_id=tenant_a.pk,
        name="old",
        public_id="00112233aabb",
        secret_hash="0" * 64,
        created_at=datetime.now(UTC),
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert ApiKey.objects.get(public_id="00112233aabb").scopes == [
        "detect",
        "events:read",
        "manage",
    ]
