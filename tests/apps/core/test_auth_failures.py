"""Failed API-key authentication is limited per client IP (Redis, shared by every process):
after the limit an address gets 429 without any key lookup, while a key already known to the
portal keeps working from it; other addresses are not affected."""

from __future__ import annotations

import secrets

import pytest
from rest_framework.test import APIClient

from apps.tenants.services import issue_api_key

pytestmark = pytest.mark.django_db
LIMIT = 5


@pytest.fixture(autouse=True)
def small_limit(settings) -> None:
    settings.IPCAI_AUTH_FAILURE_LIMIT = LIMIT
    settings.IPCAI_AUTH_FAILURE_WINDOW_S = 300


def random_key() -> str:
    return f"ipcai_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def keys_list(client: APIClient, key: str | None, ip: str = "203.0.113.5", **extra):
    headers = {"HTTP_X_API_KEY": key} if key else {}
    return client.get("/api/v1/keys", REMOTE_ADDR=ip, **headers, **extra)


def test_failures_past_the_limit_get_429_with_retry_after(key_a):
    client = APIClient()
    statuses = [keys_list(client, random_key()).status_code for _ in range(LIMIT)]
    assert statuses == [401] * LIMIT
    for presented in (random_key(), "garbage", None, key_a.raw[:-3] + "xyz"):
        response = keys_list(client, presented)
        assert response.status_code == 429, presented
        assert response.json()["error"]["code"] == "too_many_auth_failures"
        assert 0 < int(response["Retry-After"]) <= 300


def test_a_blocked_address_never_reaches_the_database(key_a, django_assert_num_queries):
    client = APIClient()
    for _ in range(LIMIT):
        keys_list(client, random_key())
    with django_assert_num_queries(0):
        assert keys_list(client, random_key()).status_code == 429


def test_a_known_good_key_keeps_working_from_a_blocked_address(key_a, tenant_a):
    client = APIClient()
    assert keys_list(client, key_a.raw).status_code == 200  # now cached
    for _ in range(LIMIT + 3):
        keys_list(client, random_key())
    assert keys_list(client, key_a.raw).status_code == 200
    # A valid key the portal has not seen yet waits for the window like the guesses.
    _, fresh = issue_api_key(tenant_a, name="new")
    assert keys_list(client, fresh).status_code == 429


def test_other_addresses_are_not_blocked(key_a):
    client = APIClient()
    for _ in range(LIMIT + 1):
        keys_list(client, random_key(), ip="203.0.113.5")
    assert keys_list(client, random_key(), ip="203.0.113.6").status_code == 401
    assert keys_list(client, key_a.raw, ip="203.0.113.6").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_limit(settings):
    client = APIClient()
    for attempt in range(LIMIT):
        keys_list(client, random_key(), HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    response = keys_list(client, random_key(), HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_apart(settings):
    settings.IPCAI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = APIClient()
    lb = {"ip": "10.0.0.2"}
    for _ in range(LIMIT):
        keys_list(client, random_key(), HTTP_X_FORWARDED_FOR="198.51.100.1", **lb)
    assert (
        keys_list(client, random_key(), HTTP_X_FORWARDED_FOR="198.51.100.1", **lb).status_code
        == 429
    )
    assert (
        keys_list(client, random_key(), HTTP_X_FORWARDED_FOR="198.51.100.2", **lb).status_code
        == 401
    )
