"""apps/alerts/watchlists.py's write functions on their own: a list renamed, a plate's match and
note changed, each checked before anything is written; a name another list of the tenant holds
is refused as create refuses it, and the dashboard's whole-list edit that trips on it saves none
of its other changes."""

from __future__ import annotations

import pytest

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist, PlateWatchlistEntry


@pytest.fixture
def banned(tenant_a) -> PlateWatchlist:
    return watchlists.create_watchlist(tenant_a.pk, "banned", ["7ABC123", "8XYZ555"])


def stored(watchlist: PlateWatchlist) -> tuple[str, list[tuple[str, bool, str]]]:
    watchlist = PlateWatchlist.objects.get(pk=watchlist.pk)
    entries = PlateWatchlistEntry.objects.filter(watchlist=watchlist)
    return watchlist.name, [(e.plate, e.fuzzy, e.note) for e in entries]


def test_a_list_is_renamed_and_another_tenant_may_hold_the_old_name(banned, tenant_b):
    watchlists.create_watchlist(tenant_b.pk, "barred")  # another tenant's: no clash
    assert watchlists.rename_watchlist(banned, "  barred ").name == "barred"
    assert stored(banned) == ("barred", [("7ABC123", False, ""), ("8XYZ555", False, "")])


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "invalid_name"), ("   ", "invalid_name"), ("x" * 65, "invalid_name")],
)
def test_a_bad_name_renames_nothing(banned, name, code):
    with pytest.raises(watchlists.WatchlistInvalid) as refused:
        watchlists.rename_watchlist(banned, name)
    assert refused.value.code == code
    assert banned.name == "banned" and stored(banned)[0] == "banned"


def test_a_taken_name_is_refused_with_creates_code_and_the_list_keeps_its_own(banned, tenant_a):
    residents = watchlists.create_watchlist(tenant_a.pk, "residents", ["R1"])
    with pytest.raises(watchlists.WatchlistInvalid) as created:
        watchlists.create_watchlist(tenant_a.pk, "banned")
    with pytest.raises(watchlists.WatchlistInvalid) as renamed:
        watchlists.rename_watchlist(residents, "banned")
    assert renamed.value.code == created.value.code == "watchlist_exists"
    assert residents.name == "residents" and stored(residents)[0] == "residents"
    # The dashboard's whole-list edit renames through it: its plate changes are not saved.
    with pytest.raises(watchlists.WatchlistInvalid):
        watchlists.update_watchlist(residents, "banned", ["R2"], fuzzy=True)
    assert stored(residents) == ("residents", [("R1", False, "")])


def test_an_entrys_note_and_match_change_one_at_a_time_or_together(banned):
    entry = PlateWatchlistEntry.objects.get(watchlist=banned, plate="7ABC123")
    watchlists.update_entry(entry, note="  blue van ")
    assert stored(banned)[1][0] == ("7ABC123", False, "blue van")
    watchlists.update_entry(entry, fuzzy=True)
    assert stored(banned)[1][0] == ("7ABC123", True, "blue van")
    watchlists.update_entry(entry, fuzzy=False, note="")
    assert stored(banned)[1] == [("7ABC123", False, ""), ("8XYZ555", False, "")]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, "nothing_to_change"),
        ({"note": "x" * 201}, "invalid_note"),
        ({"fuzzy": True, "note": "x" * 201}, "invalid_note"),
    ],
)
def test_a_bad_entry_change_writes_nothing(banned, changes, code):
    entry = PlateWatchlistEntry.objects.get(watchlist=banned, plate="7ABC123")
    with pytest.raises(watchlists.WatchlistInvalid) as refused:
        watchlists.update_entry(entry, **changes)
    assert refused.value.code == code
    assert (entry.fuzzy, entry.note) == (False, "")
    assert stored(banned)[1] == [("7ABC123", False, ""), ("8XYZ555", False, "")]


def test_an_entry_is_found_only_on_its_own_list(banned, tenant_a):
    other = watchlists.create_watchlist(tenant_a.pk, "other", ["OTHER1"])
    entry = PlateWatchlistEntry.objects.get(plate="7ABC123")
    assert watchlists.watchlist_entry(banned, str(entry.pk)) == entry
    assert watchlists.watchlist_entry(other, entry.pk) is None
    assert watchlists.watchlist_entry(banned, "nope") is None
    assert not watchlists.delete_entry(other, entry.pk)
    assert watchlists.delete_entry(banned, entry.pk)
    assert stored(banned)[1] == [("8XYZ555", False, "")]


def test_a_note_too_long_is_refused_on_add_not_cut(banned):
    with pytest.raises(watchlists.WatchlistInvalid) as refused:
        watchlists.add_entry(banned, "9DEF000", note="x" * 201)
    assert refused.value.code == "invalid_note"
    assert [p for p, _, _ in stored(banned)[1]] == ["7ABC123", "8XYZ555"]
    longest = watchlists.add_entry(banned, "9DEF000", note=" " + "x" * 200 + " ")
    assert longest.note == "x" * 200  # the spaces around it are not counted
