"""The plate watchlists pages: an owner creates, edits and deletes a tenant's lists and changes a
plate's match and note in its row, through the same functions as the API; a viewer sees them
and changes nothing (403); an outsider gets 404 for every page and id; bad input is the form's
clear error and saves nothing; a POST without the CSRF token is refused."""

from __future__ import annotations

import re

import pytest

from apps.alerts import watchlists
from apps.alerts.models import PlateWatchlist, PlateWatchlistEntry
from tests.apps.dashboard.conftest import signed_in

BASE = "/t/alpha/watchlists/"


@pytest.fixture
def banned(tenant_a) -> PlateWatchlist:
    return watchlists.create_watchlist(tenant_a.pk, "banned", ["7ABC123", "8XYZ555"])


def plates(watchlist: PlateWatchlist) -> list[tuple[str, bool]]:
    return [(e.plate, e.fuzzy) for e in PlateWatchlistEntry.objects.filter(watchlist=watchlist)]


def test_an_owner_creates_a_list_with_its_plates(alice, tenant_a):
    client = signed_in(alice)
    body = {"name": "residents", "mode": "fuzzy", "plates": "7abc-123\n\n 8 XYZ 555 \n7ABC123"}
    response = client.post(BASE, body, follow=True)
    assert response.redirect_chain == [(BASE, 302)]
    page = response.content.decode()
    assert "Watchlist residents created." in page
    assert 'data-watchlist="residents"' in page and "<code>8XYZ555</code>" in page
    (created,) = PlateWatchlist.objects.filter(tenant=tenant_a)
    assert plates(created) == [("7ABC123", True), ("8XYZ555", True)]  # the repeat once


def test_an_owner_edits_name_match_and_plates_and_notes_stay(alice, banned):
    watchlists.PlateWatchlistEntry.objects.filter(plate="7ABC123").update(note="blue van")
    client = signed_in(alice)
    form = client.get(f"{BASE}{banned.pk}/").content.decode()
    assert 'value="banned"' in form and "7ABC123\n8XYZ555</textarea>" in form
    body = {"name": "barred", "mode": "fuzzy", "plates": "7ABC123\nNEW1"}
    response = client.post(f"{BASE}{banned.pk}/", body)
    assert response.status_code == 302 and response["Location"] == BASE
    banned.refresh_from_db()
    assert banned.name == "barred"
    assert plates(banned) == [("7ABC123", True), ("NEW1", True)]
    assert PlateWatchlistEntry.objects.get(plate="7ABC123").note == "blue van"


def test_a_list_mixed_through_the_api_keeps_each_plates_match(alice, banned):
    watchlists.add_entry(banned, "FUZZY1", fuzzy=True)
    client = signed_in(alice)
    form = client.get(f"{BASE}{banned.pk}/").content.decode()
    (mixed,) = re.findall(r'<input type="radio"[^>]*value="mixed"[^>]*>', form)
    assert "checked" in mixed and "As set per plate" in form
    body = {"name": "banned", "mode": "mixed", "plates": "7ABC123\nFUZZY1\nADDED2"}
    assert client.post(f"{BASE}{banned.pk}/", body).status_code == 302
    assert plates(banned) == [("7ABC123", False), ("ADDED2", False), ("FUZZY1", True)]


def test_an_owner_deletes_a_list_after_a_confirmation(alice, banned):
    client = signed_in(alice)
    confirm = client.get(f"{BASE}{banned.pk}/delete").content.decode()
    assert "Delete watchlist banned?" in confirm and "Its 2 plates go with it" in confirm
    assert PlateWatchlist.objects.filter(pk=banned.pk).exists()
    response = client.post(f"{BASE}{banned.pk}/delete", follow=True)
    assert "Watchlist banned deleted." in response.content.decode()
    assert not PlateWatchlist.objects.exists() and not PlateWatchlistEntry.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "", "mode": "exact", "plates": "7ABC123"}, "This field is required."),
        ({"name": "x" * 65, "mode": "exact", "plates": ""}, "at most 64 characters"),
        (
            {"name": "new", "mode": "exact", "plates": "7ABC123\nAB$12"},
            "line 2: &#x27;AB$12&#x27;: a plate holds letters A-Z and digits only",
        ),
        ({"name": "new", "mode": "exact", "plates": "ÄB123"}, "letters A-Z and digits only"),
        ({"name": "new", "mode": "exact", "plates": "A" * 17}, "1 to 16 letters or digits"),
        # A pasted paragraph: the error shows its start, not all of it.
        ({"name": "new", "mode": "exact", "plates": "X" * 5000 + "$"}, "X" * 23 + "…&#x27;: a"),
        (
            {"name": "new", "mode": "exact", "plates": "\n".join(f"P{i}" for i in range(501))},
            "501 plates: a watchlist holds at most 500.",
        ),
        ({"name": "banned", "mode": "exact", "plates": ""}, "A watchlist named &#x27;banned"),
        ({"name": "new", "mode": "loose", "plates": ""}, "Select a valid choice."),
    ],
)
def test_bad_input_is_the_forms_error_and_saves_nothing(alice, banned, body, error):
    client = signed_in(alice)
    before = (list(PlateWatchlist.objects.values_list("name", flat=True)), plates(banned))
    created = client.post(BASE, body)
    assert created.status_code == 200 and error in created.content.decode()
    assert 'class="errorlist' in created.content.decode()
    if body["name"] != "banned":
        edited = client.post(f"{BASE}{banned.pk}/", body)
        assert edited.status_code == 200 and error in edited.content.decode()
    assert (list(PlateWatchlist.objects.values_list("name", flat=True)), plates(banned)) == before


def test_renaming_to_another_lists_name_saves_nothing(alice, banned, tenant_a):
    residents = watchlists.create_watchlist(tenant_a.pk, "residents", ["R1"])
    body = {"name": "banned", "mode": "fuzzy", "plates": "R2"}
    response = signed_in(alice).post(f"{BASE}{residents.pk}/", body)
    assert "A watchlist named &#x27;banned&#x27; exists." in response.content.decode()
    residents.refresh_from_db()
    assert residents.name == "residents" and plates(residents) == [("R1", False)]


def test_a_viewer_sees_the_lists_and_changes_nothing(bob, banned):
    client = signed_in(bob)
    listing = client.get(BASE).content.decode()
    assert 'data-watchlist="banned"' in listing and "<code>7ABC123</code>" in listing
    assert "Create watchlist" not in listing and "you can see its watchlists" in listing
    detail = client.get(f"{BASE}{banned.pk}/").content.decode()
    assert 'data-plate="7ABC123"' in detail and "<textarea" not in detail
    assert client.post(BASE, {"name": "mine", "mode": "exact"}).status_code == 403
    body = {"name": "renamed", "mode": "exact", "plates": ""}
    assert client.post(f"{BASE}{banned.pk}/", body).status_code == 403
    assert client.get(f"{BASE}{banned.pk}/delete").status_code == 403
    assert client.post(f"{BASE}{banned.pk}/delete").status_code == 403
    banned.refresh_from_db()
    assert banned.name == "banned" and len(plates(banned)) == 2
    assert PlateWatchlist.objects.count() == 1


def test_an_outsider_never_sees_or_changes_another_tenants_list(charlie, tenant_b, banned):
    client = signed_in(charlie)
    body = {"name": "mine", "mode": "exact", "plates": "X1"}
    for url in (BASE, f"{BASE}{banned.pk}/", f"{BASE}{banned.pk}/delete"):
        assert client.get(url).status_code == 404
        assert client.post(url, body).status_code == 404
    # Through the outsider's own tenant: the list's id is no list of theirs.
    own = "/t/bravo/watchlists/"
    listing = client.get(own).content.decode()
    assert 'data-watchlist="banned"' not in listing and "7ABC123" not in listing
    assert client.get(f"{own}{banned.pk}/").status_code == 404
    assert client.post(f"{own}{banned.pk}/", body).status_code == 404
    assert client.post(f"{own}{banned.pk}/delete").status_code == 404
    assert client.get(f"{own}nope/").status_code == 404
    banned.refresh_from_db()
    assert banned.name == "banned" and len(plates(banned)) == 2


def test_a_post_without_the_csrf_token_is_refused(alice, banned):
    client = signed_in(alice, enforce_csrf=True)
    assert client.post(BASE, {"name": "x", "mode": "exact"}).status_code == 403
    assert client.post(f"{BASE}{banned.pk}/delete").status_code == 403
    assert PlateWatchlist.objects.count() == 1


def test_the_alerts_page_links_the_watchlists_page(alice, bob, banned):
    owner = signed_in(alice).get("/t/alpha/alerts/").content.decode()
    assert f'href="{BASE}"' in owner and "Create and edit watchlists" in owner
    viewer = signed_in(bob).get("/t/alpha/alerts/").content.decode()
    assert "See the watchlists" in viewer


def entry_url(watchlist: PlateWatchlist, plate: str, base: str = BASE) -> str:
    entry = PlateWatchlistEntry.objects.get(watchlist=watchlist, plate=plate)
    return f"{base}{watchlist.pk}/entries/{entry.pk}"


def notes(watchlist: PlateWatchlist) -> list[tuple[str, bool, str]]:
    rows = PlateWatchlistEntry.objects.filter(watchlist=watchlist)
    return [(e.plate, e.fuzzy, e.note) for e in rows]


def test_an_owner_changes_a_plates_note_and_match_in_its_row(alice, banned):
    client = signed_in(alice)
    detail = client.get(f"{BASE}{banned.pk}/").content.decode()
    url = entry_url(banned, "7ABC123")
    assert f'action="{url}"' in detail and 'aria-label="Note for 7ABC123"' in detail
    assert 'aria-label="Save 8XYZ555"' in detail
    response = client.post(url, {"match": "fuzzy", "note": "  blue van "}, follow=True)
    assert response.redirect_chain == [(f"{BASE}{banned.pk}/", 302)]
    page = response.content.decode()
    assert "7ABC123 on banned saved." in page and 'value="blue van"' in page
    assert notes(banned) == [("7ABC123", True, "blue van"), ("8XYZ555", False, "")]
    # The list's own form now shows the plates' mixed matches and keeps them on saving.
    assert re.search(r'<input type="radio"[^>]*value="mixed"[^>]*checked', page)
    cleared = client.post(url, {"match": "exact", "note": ""})
    assert cleared.status_code == 302
    assert notes(banned) == [("7ABC123", False, ""), ("8XYZ555", False, "")]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"match": "exact", "note": "x" * 201}, "at most 200 characters"),
        ({"match": "loose", "note": "x"}, "Select a valid choice."),
        ({"note": "x"}, "This field is required."),
    ],
)
def test_a_bad_row_is_its_error_and_saves_nothing(alice, banned, body, error):
    response = signed_in(alice).post(entry_url(banned, "7ABC123"), body)
    page = response.content.decode()
    assert response.status_code == 200 and error in page and 'class="errorlist' in page
    # The row keeps what was typed; the other rows and the list's form are as stored.
    assert f'value="{body["note"]}"' in page and 'aria-label="Note for 8XYZ555"' in page
    # The list's own form still posts to the list, not to the row's URL this page answers.
    assert f'<form method="post" action="{BASE}{banned.pk}/" class="stacked' in page
    assert notes(banned) == [("7ABC123", False, ""), ("8XYZ555", False, "")]


def test_a_viewer_reads_the_notes_and_changes_none(bob, banned):
    PlateWatchlistEntry.objects.filter(plate="7ABC123").update(note="blue van")
    client = signed_in(bob)
    detail = client.get(f"{BASE}{banned.pk}/").content.decode()
    assert "<td>blue van</td>" in detail and "Note for 7ABC123" not in detail
    url = entry_url(banned, "7ABC123")
    assert client.post(url, {"match": "fuzzy", "note": "mine"}).status_code == 403
    assert client.get(url).status_code == 403
    assert notes(banned) == [("7ABC123", False, "blue van"), ("8XYZ555", False, "")]


def test_an_outsider_never_changes_another_tenants_plate(charlie, alice, tenant_a, banned):
    body = {"match": "fuzzy", "note": "mine"}
    client = signed_in(charlie)
    assert client.post(entry_url(banned, "7ABC123"), body).status_code == 404
    assert (
        client.post(entry_url(banned, "7ABC123", "/t/bravo/watchlists/"), body).status_code == 404
    )
    # An owner's own tenant: a plate of another list, or no plate, is no plate of this list.
    other = watchlists.create_watchlist(tenant_a.pk, "other", ["OTHER1"])
    entry = PlateWatchlistEntry.objects.get(plate="7ABC123")
    owner = signed_in(alice)
    for url in (f"{BASE}{other.pk}/entries/{entry.pk}", f"{BASE}{banned.pk}/entries/nope"):
        assert owner.post(url, body).status_code == 404
    assert owner.post(f"{BASE}nope/entries/{entry.pk}", body).status_code == 404
    assert notes(banned) == [("7ABC123", False, ""), ("8XYZ555", False, "")]


def test_a_row_posted_without_the_csrf_token_is_refused(alice, banned):
    client = signed_in(alice, enforce_csrf=True)
    response = client.post(entry_url(banned, "7ABC123"), {"match": "fuzzy", "note": "x"})
    assert response.status_code == 403
    assert notes(banned) == [("7ABC123", False, ""), ("8XYZ555", False, "")]
