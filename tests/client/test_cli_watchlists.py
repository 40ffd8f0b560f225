"""`ipcai watchlists` as a user runs it, against a real portal (gunicorn, no inference: lists
need only the database): the owner's key creates a list, renames it, adds a plate and changes
its note and match; a key without `manage` and another tenant's key change nothing (exit 1 with
the service's answer); an edit naming nothing to change is a usage error before any request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.portal import Portal, running_portal
from tests.client.running_cli import CliRun, json_lines, run_cli


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("watchlists-portal"), "http://127.0.0.1:9") as up:
        yield up


@pytest.fixture(scope="module")
def keys(portal) -> dict[str, str]:
    owner = portal.create_tenant("plates-owner", ["vehicles-detection"])
    outsider = portal.create_tenant("plates-outsider", ["vehicles-detection"])
    reader = portal.manage("issue_api_key", "plates-owner", "--scopes", "events:read")
    return {"owner": owner, "reader": reader.strip().splitlines()[-1], "outsider": outsider}


def ipcai(portal: Portal, key: str, *args: str) -> CliRun:
    return run_cli(args, portal.base_url, key)


def listed(portal: Portal, key: str) -> list[dict]:
    return json_lines(ipcai(portal, key, "watchlists", "--json").stdout)[0]["watchlists"]


def test_the_owner_renames_a_list_and_edits_an_entry(portal, keys):
    owner = keys["owner"]
    created = json_lines(ipcai(portal, owner, "watchlists", "create", "banned", "--json").stdout)[0]
    list_id = str(created["id"])
    added = ipcai(portal, owner, "watchlists", "add", list_id, "7abc-123", "--note", "blue van")
    assert added.returncode == 0, added.stderr
    (entry,) = listed(portal, owner)[0]["entries"]
    entry_id = str(entry["id"])

    renamed = ipcai(portal, owner, "watchlists", "rename", list_id, "barred")
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout == f"Renamed watchlist {list_id} to barred.\n"

    fuzzy = ipcai(portal, owner, "watchlists", "edit-entry", list_id, entry_id, "--fuzzy")
    assert fuzzy.returncode == 0, fuzzy.stderr
    assert fuzzy.stdout == f"Entry {entry_id}: 7ABC123 (fuzzy, note 'blue van').\n"
    noted = ipcai(
        portal, owner, "watchlists", "edit-entry", list_id, entry_id, "--note", "red car", "--json"
    )
    assert json_lines(noted.stdout) == [{**entry, "fuzzy": True, "note": "red car"}]
    both = ipcai(
        portal,
        owner,
        "watchlists",
        "--json",
        "edit-entry",
        list_id,
        entry_id,
        "--exact",
        "--note",
        "",
    )
    assert json_lines(both.stdout) == [{**entry, "fuzzy": False, "note": ""}]
    table = ipcai(portal, owner, "watchlists").stdout
    assert "barred" in table and "7ABC123" in table and "exact" in table

    taken = ipcai(portal, owner, "watchlists", "create", "banned")
    assert taken.returncode == 0
    refused = ipcai(portal, owner, "watchlists", "rename", list_id, "banned")
    assert refused.returncode == 1 and "A watchlist named 'banned' exists." in refused.stderr
    long_note = ipcai(
        portal, owner, "watchlists", "edit-entry", list_id, entry_id, "--note", "x" * 201
    )
    assert long_note.returncode == 1 and "note:" in long_note.stderr
    names = sorted(w["name"] for w in listed(portal, owner))
    assert names == ["banned", "barred"]
    assert listed(portal, owner)[1]["entries"] == [{**entry, "fuzzy": False, "note": ""}]


def test_an_edit_without_a_change_is_a_usage_error(portal, keys):
    nothing = ipcai(portal, keys["owner"], "watchlists", "edit-entry", "1", "2")
    assert nothing.returncode == 2 and "give at least one of them" in nothing.stderr
    both = ipcai(portal, keys["owner"], "watchlists", "edit-entry", "1", "2", "--fuzzy", "--exact")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_a_reader_and_an_outsider_change_nothing(portal, keys):
    owner = keys["owner"]
    created = json_lines(ipcai(portal, owner, "watchlists", "create", "visitors", "--json").stdout)[
        0
    ]
    list_id = str(created["id"])
    ipcai(portal, owner, "watchlists", "add", list_id, "AB12C")
    (watchlist,) = [w for w in listed(portal, owner) if w["name"] == "visitors"]
    entry_id = str(watchlist["entries"][0]["id"])
    for who, answer in (("reader", "manage"), ("outsider", "No plate watchlist with that id.")):
        renamed = ipcai(portal, keys[who], "watchlists", "rename", list_id, "mine")
        edited = ipcai(
            portal, keys[who], "watchlists", "edit-entry", list_id, entry_id, "--note", "x"
        )
        for run in (renamed, edited):
            assert run.returncode == 1 and answer in run.stderr, (who, run.stderr)
            assert run.stdout == ""
    (after,) = [w for w in listed(portal, owner) if w["id"] == created["id"]]
    assert after == watchlist
