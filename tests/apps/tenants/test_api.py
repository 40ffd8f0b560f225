"""The tenant's own keys and usage API (/api/v1/keys, /api/v1/usage) as `ipcai keys` and
`ipcai usage` see it: a key sees and changes only its own tenant; another tenant's key id is
a 404 like an unknown one; secrets appear once, at creation."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.tenants import services
from apps.tenants.models import ApiKey
from apps.tenants.services import issue_api_key, set_tenant_active
from apps.usage.models import DailyUsage

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def test_listing_shows_the_tenants_keys_without_secrets(client, tenant_a, key_a, key_b):
    spare, _ = issue_api_key(tenant_a, name="spare")

    response = client.get("/api/v1/keys", **key_a.headers)

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [k["id"] for k in keys] == [spare.public_id, key_a.key.public_id]
    assert [k["current"] for k in keys] == [False, True]
    assert all(k["active"] for k in keys)
    assert key_b.key.public_id not in response.content.decode()
    assert key_a.raw not in response.content.decode()
    assert key_a.key.secret_hash not in response.content.decode()


def test_a_created_key_is_shown_once_and_works(client, tenant_a, key_a):
    response = client.post(
        "/api/v1/keys",
        {"name": "cam-garage", "expires_in_days": 30, "scopes": ["detect", "manage"]},
        format="json",
        **key_a.headers,
    )

    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith(body["key"]["prefix"] + "_")
    assert body["key"]["name"] == "cam-garage"
    expires = datetime.fromisoformat(body["key"]["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert ApiKey.objects.get(public_id=body["key"]["id"]).tenant == tenant_a
    listed = client.get("/api/v1/keys", HTTP_X_API_KEY=secret)
    assert listed.status_code == 200
    assert secret not in listed.content.decode()


def test_revoking_a_key_locks_it_out_on_the_next_request(client, tenant_a, key_a):
    old = key_a
    new_secret = client.post(
        "/api/v1/keys", {"name": "rotated", "scopes": ["manage"]}, format="json", **old.headers
    )
    new_headers = {"HTTP_X_API_KEY": new_secret.json()["secret"]}

    revoked = client.post(f"/api/v1/keys/{old.key.public_id}/revoke", **new_headers)

    assert revoked.status_code == 200
    assert revoked.json()["key"]["active"] is False
    assert client.get("/api/v1/keys", **old.headers).status_code == 401
    assert client.get("/api/v1/keys", **new_headers).status_code == 200


def test_another_tenants_key_cannot_be_revoked_and_looks_missing(client, key_a, key_b):
    response = client.post(f"/api/v1/keys/{key_b.key.public_id}/revoke", **key_a.headers)
    unknown = client.post("/api/v1/keys/0123456789ab/revoke", **key_a.headers)

    assert response.status_code == unknown.status_code == 404
    assert response.json()["error"]["code"] == unknown.json()["error"]["code"] == "key_not_found"
    key_b.key.refresh_from_db()
    assert key_b.key.revoked_at is None
    assert client.get("/api/v1/keys", **key_b.headers).status_code == 200


def test_usage_is_the_tenants_own_per_day_and_service(client, tenant_a, key_a, tenant_b, key_b):
    today = datetime.now(UTC).date()
    for tenant, service, day, requests, errors in [
        (tenant_a, "persons-detection", today, 10, 2),
        (tenant_a, "pets-detection", today, 4, 0),
        (tenant_a, "persons-detection", today - timedelta(days=3), 5, 1),
        (tenant_a, "persons-detection", today - timedelta(days=40), 99, 0),
        (tenant_b, "persons-detection", today, 1000, 0),
    ]:
        DailyUsage.objects.create(
            tenant=tenant,
            application_type=service,
            day=day,
            requests=requests,
            errors=errors,
            objects_found=requests * 2,
            latency_ms_total=requests * 50.0,
            calls=requests,  # single-service calls: each counted once in any case
            failed_calls=errors,
        )

    response = client.get("/api/v1/usage?days=7", **key_a.headers)

    assert response.status_code == 200
    body = response.json()
    assert [(d["date"], d["application_type"], d["requests"]) for d in body["days"]] == [
        ((today - timedelta(days=3)).isoformat(), "persons-detection", 5),
        (today.isoformat(), "persons-detection", 10),
        (today.isoformat(), "pets-detection", 4),
    ]
    assert body["days"][1]["successes"] == 8
    assert body["days"][1]["mean_latency_ms"] == 50.0
    assert body["totals"] == {"requests": 19, "errors": 3, "objects": 38}
    assert body["quota"]["monthly_request_quota"] is None

    pets = client.get("/api/v1/usage?days=7&application_type=pets-detection", **key_a.headers)
    assert [d["requests"] for d in pets.json()["days"]] == [4]


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "code"),
    [
        ("get", "/api/v1/usage?days=0", None, 400, "invalid_days"),
        ("get", "/api/v1/usage?days=many", None, 400, "invalid_days"),
        ("get", "/api/v1/usage?application_type=cats", None, 400, "unknown_application_type"),
        ("post", "/api/v1/keys", {"name": "x" * 101}, 400, "invalid_body"),
        ("post", "/api/v1/keys", {"expires_in_days": 0}, 400, "invalid_body"),
        ("post", "/api/v1/keys", [1, 2], 400, "invalid_body"),
    ],
)
def test_bad_parameters_get_a_clear_json_error(client, key_a, method, path, data, status, code):
    response = getattr(client, method)(path, data, format="json", **key_a.headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_no_key_bad_key_and_inactive_tenant_are_refused(client, tenant_a, key_a):
    assert client.get("/api/v1/keys").status_code == 401
    assert client.get("/api/v1/keys", HTTP_X_API_KEY="ipcai_nope").status_code == 401
    set_tenant_active(tenant_a, False)
    response = client.get("/api/v1/usage", **key_a.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_inactive"


def test_a_tenant_cannot_mint_keys_without_limit(client, key_a, monkeypatch):
    monkeypatch.setattr(services, "MAX_ACTIVE_KEYS_PER_TENANT", 2)
    assert client.post("/api/v1/keys", {}, format="json", **key_a.headers).status_code == 201
    refused = client.post("/api/v1/keys", {}, format="json", **key_a.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "too_many_keys"


def test_the_keys_and_usage_endpoints_are_documented_in_the_schema(tmp_path):
    path = tmp_path / "schema.yaml"
    problems = io.StringIO()
    with contextlib.redirect_stderr(problems):
        call_command("spectacular", "--file", str(path), "--validate")
    assert "apps/tenants/api.py" not in problems.getvalue()
    assert "apps/reports/api.py" not in problems.getvalue()  # no guessed or missing bodies
    paths = yaml.safe_load(path.read_text())["paths"]
    expected = {
        ("/api/v1/keys", "get"): {"200", "401", "403"},
        ("/api/v1/keys", "post"): {"201", "400", "401", "403"},
        ("/api/v1/keys/{public_id}/revoke", "post"): {"200", "401", "403", "404"},
        ("/api/v1/usage", "get"): {"200", "400", "401", "403"},
    }
    for (route, method), statuses in expected.items():
        operation = paths[route][method]
        assert set(operation["responses"]) == statuses, route
        assert operation["security"] == [{"ApiKeyAuth": []}]
