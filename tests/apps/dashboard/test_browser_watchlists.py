"""Plate watchlists in a real browser (Debian's Chromium through Playwright), against the portal
as deployed: an owner goes from Alerts to the watchlists page, creates a fuzzy list with two
plates, is told a plate with a bad character is refused (and nothing saved), edits the list's
name, match and plates, then deletes it after the confirmation; an owner changes one plate's
note and match in its row; a viewer on a phone sees the lists and no form. Screenshots (49-57)
land in test-artifacts/browser/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from harness.portal import Portal, running_portal
from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import (
    PHONE,
    USERS_SCRIPT,
    fits_the_screen,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser
browser, open_page = test_browser.browser, test_browser.open_page  # the shared fixtures


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("browser-watchlists")
    with running_portal(folder, worker_url) as portal:
        portal.create_tenant("alpha", ["vehicles-detection", "license-plates"])
        portal.manage("shell", "-c", USERS_SCRIPT)
        yield portal


def test_an_owner_creates_edits_and_deletes_a_watchlist(portal, open_page):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("#watchlists")).to_contain_text("Plate watchlists")
    screenshot(page, "49-alerts-watchlists-link")
    page.get_by_role("link", name="Create and edit watchlists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plate watchlists")
    tab = page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Alerts")
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.locator("tbody")).to_contain_text("No plate watchlists yet.")

    # A bad character: the form says which line and keeps what was typed; nothing is saved.
    page.get_by_label("Name").fill("residents")
    page.get_by_label("Fuzzy: a read one character off matches too").check()
    page.get_by_label("Plates").fill("7abc-123\nAB$12")
    page.get_by_role("button", name="Create watchlist").click()
    expect(page.locator(".errorlist")).to_contain_text("line 2: 'AB$12'")
    expect(page.get_by_label("Plates")).to_have_value("7abc-123\nAB$12")
    expect(page.locator("tbody")).to_contain_text("No plate watchlists yet.")
    screenshot(page, "50-watchlist-bad-plate")

    page.get_by_label("Plates").fill("7abc-123\n8 xyz 555")
    page.get_by_role("button", name="Create watchlist").click()
    expect(page.locator(".messages")).to_contain_text("Watchlist residents created.")
    row = page.locator('tr[data-watchlist="residents"]')
    expect(row).to_contain_text("fuzzy")
    expect(row.locator("code")).to_have_text(["7ABC123", "8XYZ555"])
    screenshot(page, "51-watchlist-created")

    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Watchlist residents")
    expect(page.get_by_label("Plates")).to_have_value("7ABC123\n8XYZ555")
    expect(page.get_by_label("Fuzzy: a read one character off matches too")).to_be_checked()
    page.get_by_label("Name").fill("banned")
    page.get_by_label("Exact: the read equals the plate").check()
    page.get_by_label("Plates").fill("8XYZ555\n9DEF000")
    screenshot(page, "52-watchlist-edit")
    page.get_by_role("button", name="Save watchlist").click()
    expect(page.locator(".messages")).to_contain_text("Watchlist banned saved.")
    expect(page.locator('tr[data-watchlist="residents"]')).to_have_count(0)
    row = page.locator('tr[data-watchlist="banned"]')
    expect(row).to_contain_text("exact")
    expect(row.locator("code")).to_have_text(["8XYZ555", "9DEF000"])
    screenshot(page, "53-watchlist-edited")

    row.get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Delete watchlist…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete watchlist banned?")
    screenshot(page, "54-watchlist-delete")
    page.get_by_role("button", name="Delete watchlist").click()
    expect(page.locator(".messages")).to_contain_text("Watchlist banned deleted.")
    expect(page.locator("tbody")).to_contain_text("No plate watchlists yet.")


def test_an_owner_changes_a_plates_note_and_match_in_its_row(portal, open_page):
    portal.manage(
        "shell",
        "-c",
        "from apps.alerts import watchlists; from apps.tenants.models import Tenant; "
        "watchlists.create_watchlist(Tenant.objects.get(slug='alpha').pk, 'regulars', "
        "['7ABC123', '8XYZ555'])",
    )
    page = open_page()
    sign_in(page, "alice")
    page.goto("/t/alpha/watchlists/")
    page.locator('tr[data-watchlist="regulars"]').get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Watchlist regulars")
    row = page.locator('tr[data-plate="7ABC123"]')
    expect(row.get_by_label("Note for 7ABC123")).to_have_value("")
    row.get_by_label("Note for 7ABC123").fill("Blue van, the neighbour's visitor")
    row.get_by_label("Match of 7ABC123").select_option("fuzzy")
    screenshot(page, "56-watchlist-entry-edit")
    row.get_by_role("button", name="Save 7ABC123").click()
    expect(page.locator(".messages")).to_contain_text("7ABC123 on regulars saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Watchlist regulars")
    row = page.locator('tr[data-plate="7ABC123"]')
    expect(row.get_by_label("Note for 7ABC123")).to_have_value("Blue van, the neighbour's visitor")
    expect(row.get_by_label("Match of 7ABC123")).to_have_value("fuzzy")
    other = page.locator('tr[data-plate="8XYZ555"]')
    expect(other.get_by_label("Match of 8XYZ555")).to_have_value("exact")
    # One plate fuzzy, one exact: the list's own form says so and keeps each as set.
    expect(page.get_by_label("As set per plate; new plates exact")).to_be_checked()
    screenshot(page, "57-watchlist-entry-saved")


def test_a_viewer_on_a_phone_sees_the_lists_and_no_form(portal, open_page):
    portal.manage(
        "shell",
        "-c",
        "from apps.alerts import watchlists; from apps.tenants.models import Tenant; "
        "watchlists.create_watchlist(Tenant.objects.get(slug='alpha').pk, 'visitors', ['AB12C'])",
    )
    page = open_page(viewport=PHONE)
    sign_in(page, "bob")
    page.goto("/t/alpha/watchlists/")
    expect(page.locator('tr[data-watchlist="visitors"] code')).to_have_text(["AB12C"])
    expect(page.get_by_role("button", name="Create watchlist")).to_have_count(0)
    expect(page.get_by_text("you can see its watchlists but not change them")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "55-watchlists-viewer-phone")
