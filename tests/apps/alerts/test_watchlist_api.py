"""/api/v1/plate-watchlists: the owner's manage key creates lists and entries, a key without
`manage` (a viewer's events:read key) is refused, another tenant's key gets 404, bad input 400."""

from __future__ import annotations

import pytest

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist
from apps.core.grants import SCOPE_EVENTS_READ
from apps.tenants.services import issue_api_key
from tests.apps.conftest import IssuedKey

BASE = "/api/v1/plate-watchlists"


@pytest.fixture
def reader_a(tenant_a, bob) -> dict:
    key, raw = issue_api_key(tenant_a, name="bob reads", created_by=bob, scopes=[SCOPE_EVENTS_READ])
    return IssuedKey(key, raw).headers


def make_list(client, key, name="banned") -> dict:
    response = client.post(BASE, {"name": name}, content_type="application/json", **key.headers)
    assert response.status_code == 201, response.content
    return response.json()


def test_the_owner_creates_a_list_adds_plates_and_removes_them(client, key_a):
    created = make_list(client, key_a)
    url = f"{BASE}/{created['id']}"
    exact = client.post(
        f"{url}/entries", {"plate": "7abc-123"}, content_type="application/json", **key_a.headers
    )
    fuzzy = client.post(
        f"{url}/entries",
        {"plate": "8XYZ555", "fuzzy": True, "note": "neighbour"},
        content_type="application/json",
        **key_a.headers,
    )
    assert exact.status_code == 201 and exact.json()["plate"] == "7ABC123"
    assert fuzzy.json() == {**fuzzy.json(), "fuzzy": True, "note": "neighbour"}
    (listed,) = client.get(BASE, **key_a.headers).json()["results"]
    assert listed["name"] == "banned"
    assert [(e["plate"], e["fuzzy"]) for e in listed["entries"]] == [
        ("7ABC123", False),
        ("8XYZ555", True),
    ]
    gone = client.delete(f"{url}/entries/{exact.json()['id']}", **key_a.headers)
    assert gone.status_code == 204
    assert len(client.get(url, **key_a.headers).json()["entries"]) == 1
    assert client.delete(url, **key_a.headers).status_code == 204
    assert not PlateWatchlist.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [({"name": ""}, "invalid_request"), ({"name": "banned"}, "watchlist_exists")],
)
def test_bad_lists_are_a_clear_400(client, key_a, body, code):
    make_list(client, key_a)
    response = client.post(BASE, body, content_type="application/json", **key_a.headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_bad_entries_are_a_clear_400(client, key_a):
    url = f"{BASE}/{make_list(client, key_a)['id']}/entries"
    bad = [({"plate": "--"}, "invalid_plate"), ({"plate": "AB$12"}, "invalid_plate")]
    for body, code in [*bad, ({}, "invalid_request")]:
        response = client.post(url, body, content_type="application/json", **key_a.headers)
        assert response.status_code == 400 and response.json()["error"]["code"] == code
    client.post(url, {"plate": "A1"}, content_type="application/json", **key_a.headers)
    again = client.post(url, {"plate": "a1"}, content_type="application/json", **key_a.headers)
    assert again.status_code == 400 and again.json()["error"]["code"] == "entry_exists"


def test_a_key_without_manage_is_refused(client, key_a, reader_a):
    created = make_list(client, key_a)
    assert client.get(BASE, **reader_a).status_code == 403
    response = client.post(BASE, {"name": "x"}, content_type="application/json", **reader_a)
    assert response.status_code == 403
    assert client.delete(f"{BASE}/{created['id']}", **reader_a).status_code == 403


def test_another_tenant_gets_404_and_sees_none(client, key_a, key_b):
    created = make_list(client, key_a)
    url = f"{BASE}/{created['id']}"
    assert client.get(BASE, **key_b.headers).json()["results"] == []
    assert client.get(url, **key_b.headers).status_code == 404
    assert client.delete(url, **key_b.headers).status_code == 404
    response = client.post(
        f"{url}/entries", {"plate": "7ABC123"}, content_type="application/json", **key_b.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "watchlist_not_found"
    assert client.get(f"{BASE}/nope", **key_a.headers).status_code == 404
    assert PlateWatchlist.objects.filter(pk=created["id"]).exists()


def test_a_full_list_takes_no_more_plates(client, key_a, monkeypatch):
    monkeypatch.setattr(watchlists, "MAX_ENTRIES", 2)
    url = f"{BASE}/{make_list(client, key_a)['id']}/entries"
    for plate in ("A1", "A2"):
        added = client.post(url, {"plate": plate}, content_type="application/json", **key_a.headers)
        assert added.status_code == 201
    full = client.post(url, {"plate": "A3"}, content_type="application/json", **key_a.headers)
    assert full.status_code == 400 and full.json()["error"]["code"] == "too_many_entries"
