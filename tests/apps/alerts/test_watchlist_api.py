"""/api/v1/plate-watchlists: the owner's manage key creates, renames and deletes lists and adds,
changes and removes entries; a key without `manage` (a viewer's events:read key) is refused,
another tenant's key gets 404 like a missing id, bad input is a clear 400 and saves nothing."""

from __future__ import annotations

import json

import pytest

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist, PlateWatchlistEntry
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


def patch(client, url, body, headers, *, raw: bool = False):
    data = body if raw else json.dumps(body)
    return client.patch(url, data, content_type="application/json", **headers)


def add(client, key, watchlist_id, plate, **fields) -> dict:
    response = client.post(
        f"{BASE}/{watchlist_id}/entries",
        {"plate": plate, **fields},
        content_type="application/json",
        **key.headers,
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_owner_renames_a_list_and_changes_an_entrys_note_and_match(client, key_a):
    created = make_list(client, key_a)
    url = f"{BASE}/{created['id']}"
    entry = add(client, key_a, created["id"], "7ABC123", note="blue van")
    renamed = patch(client, url, {"name": " barred "}, key_a.headers)
    assert renamed.status_code == 200
    assert renamed.json() == {**created, "name": "barred", "entries": [entry]}
    entry_url = f"{url}/entries/{entry['id']}"
    note_only = patch(client, entry_url, {"note": "red car"}, key_a.headers)
    assert note_only.status_code == 200
    assert note_only.json() == {**entry, "note": "red car"}  # fuzzy kept
    both = patch(client, entry_url, {"fuzzy": True, "note": ""}, key_a.headers)
    assert both.json() == {**entry, "fuzzy": True, "note": ""}
    stored = PlateWatchlistEntry.objects.get(pk=entry["id"])
    assert (stored.plate, stored.fuzzy, stored.note) == ("7ABC123", True, "")
    assert client.get(url, **key_a.headers).json()["entries"] == [both.json()]


def test_renaming_to_another_lists_name_is_refused_as_create_is(client, key_a):
    make_list(client, key_a, "banned")
    residents = make_list(client, key_a, "residents")
    url = f"{BASE}/{residents['id']}"
    taken = patch(client, url, {"name": "banned"}, key_a.headers)
    assert taken.status_code == 400 and taken.json()["error"]["code"] == "watchlist_exists"
    same = patch(client, url, {"name": "residents"}, key_a.headers)
    assert same.status_code == 200 and same.json()["name"] == "residents"
    names = sorted(PlateWatchlist.objects.values_list("name", flat=True))
    assert names == ["banned", "residents"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "invalid_request", "Nothing to change: send name."),
        ({"name": ""}, "invalid_request", "name:"),
        ({"name": "x" * 65}, "invalid_request", "name:"),
        ({"name": None}, "invalid_request", "name:"),
        ({"title": "x"}, "invalid_request", "title: not changed here; send name."),
        ({"name": "ok", "colour": "red"}, "invalid_request", "colour: not changed here"),
        ({"entries": []}, "entries_not_editable", "entries are changed one by one"),
        (["name"], "invalid_body", "The body must be a JSON object."),
        ('{"name": ', "invalid_body", "JSON parse error"),
    ],
)
def test_a_bad_rename_is_a_clear_400_and_saves_nothing(client, key_a, body, code, message):
    created = make_list(client, key_a)
    url = f"{BASE}/{created['id']}"
    response = patch(client, url, body, key_a.headers, raw=isinstance(body, str))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and message in error["message"]
    assert list(PlateWatchlist.objects.values_list("name", flat=True)) == ["banned"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "invalid_request", "Nothing to change: send fuzzy and/or note."),
        ({"notes": "typo"}, "invalid_request", "notes: not changed here"),
        ({"note": "x", "plates": "y"}, "invalid_request", "plates: not changed here"),
        ({"plate": "9XYZ999"}, "plate_not_editable", "DELETE this entry and POST"),
        ({"plate": "7ABC123", "note": "x"}, "plate_not_editable", "not changed in place"),
        ({"note": "x" * 201}, "invalid_request", "note:"),
        ({"note": None}, "invalid_request", "note:"),
        ({"fuzzy": "maybe"}, "invalid_request", "fuzzy:"),
        ({"fuzzy": True, "note": 5 * [1]}, "invalid_request", "note:"),
        ("[]", "invalid_body", "The body must be a JSON object."),
        ("{fuzzy: true}", "invalid_body", "JSON parse error"),
    ],
)
def test_a_bad_entry_change_is_a_clear_400_and_saves_nothing(client, key_a, body, code, message):
    created = make_list(client, key_a)
    entry = add(client, key_a, created["id"], "7ABC123", note="blue van")
    url = f"{BASE}/{created['id']}/entries/{entry['id']}"
    response = patch(client, url, body, key_a.headers, raw=isinstance(body, str))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and message in error["message"]
    stored = PlateWatchlistEntry.objects.get(pk=entry["id"])
    assert (stored.plate, stored.fuzzy, stored.note) == ("7ABC123", False, "blue van")


def test_a_key_without_manage_changes_nothing(client, key_a, reader_a):
    created = make_list(client, key_a)
    entry = add(client, key_a, created["id"], "7ABC123")
    url = f"{BASE}/{created['id']}"
    renamed = patch(client, url, {"name": "mine"}, reader_a)
    assert renamed.status_code == 403
    edited = patch(client, f"{url}/entries/{entry['id']}", {"note": "mine"}, reader_a)
    assert edited.status_code == 403
    assert renamed.json()["error"]["code"] == edited.json()["error"]["code"]
    stored = PlateWatchlistEntry.objects.get(pk=entry["id"])
    assert (stored.watchlist.name, stored.note) == ("banned", "")


def test_another_tenants_list_and_entry_are_404_like_missing_ones(client, key_a, key_b):
    created = make_list(client, key_a)
    entry = add(client, key_a, created["id"], "7ABC123")
    url = f"{BASE}/{created['id']}"
    entry_url = f"{url}/entries/{entry['id']}"
    for target, body in ((url, {"name": "mine"}), (entry_url, {"note": "mine"})):
        foreign = patch(client, target, body, key_b.headers)
        assert foreign.status_code == 404
        assert foreign.json()["error"]["code"] == "watchlist_not_found"
    # The same answer for a list that does not exist, even with a bad body.
    assert (
        patch(client, f"{BASE}/999999", {}, key_a.headers).json()
        == patch(client, url, {}, key_b.headers).json()
    )
    # An entry of another list of the same tenant, or none, is 404 on this list.
    other = make_list(client, key_a, "other")
    for target in (f"{BASE}/{other['id']}/entries/{entry['id']}", f"{url}/entries/nope"):
        missing = patch(client, target, {"note": "x"}, key_a.headers)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "entry_not_found"
    stored = PlateWatchlistEntry.objects.get(pk=entry["id"])
    assert (stored.watchlist.name, stored.note) == ("banned", "")


def test_the_schema_describes_both_patches(client):
    schema = client.get("/api/schema/").content.decode()
    assert "Rename a plate watchlist" in schema
    assert "Change a plate's match and/or note" in schema and "plate_not_editable" in schema
