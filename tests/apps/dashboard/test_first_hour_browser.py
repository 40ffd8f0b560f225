"""What a newcomer tripped over on the Cameras and Webhooks pages (issue 27), in a real browser:
the connect page's snippets (Copy beside the code, no line cut off, an install line that
works), its first frame in UTC with the step indicator on step 3; a persons-only camera's page
with only the person threshold, aligned threshold inputs and readable zone help; the webhooks
pages with space between the table and the form. Screenshots: test-artifacts/browser/first-hour-*.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import screenshot, sign_in
from tests.apps.dashboard.test_browser_cameras import send_frame_as_deepstack

pytestmark = test_browser.pytestmark
portal = test_browser.portal
browser = test_browser.browser
open_page = test_browser.open_page

OVERLAPS = """([a, b]) => {
    const r = document.getElementById(a).getBoundingClientRect();
    const s = document.querySelector(b).getBoundingClientRect();
    return !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
}"""
CUT_OFF = """(id) => { const pre = document.getElementById(id);
    return pre.scrollWidth > pre.clientWidth + 1; }"""


def test_the_connect_page_shows_whole_lines_an_install_that_works_and_utc(portal, open_page):
    page = open_page({"width": 900, "height": 900})  # narrow enough for the long lines to wrap
    sign_in(page, "alice")
    page.goto("/t/alpha/cameras/connect/")
    page.get_by_label("Name").fill("porch")
    page.get_by_label("Pets detection").uncheck()  # persons only
    page.get_by_role("button", name="Create camera and key").click()
    key = page.locator("#camera-key").inner_text()

    watch = page.locator("#snippet-watch")
    expect(watch).to_contain_text("pip install './client[video]'")
    expect(watch).not_to_contain_text("pip install ipcai\n")
    for snippet in ("snippet-watch", "snippet-curl", "snippet-ha", "snippet-frigate"):
        assert not page.evaluate(CUT_OFF, snippet), f"{snippet} is cut off"
        button = f'[data-copy="{snippet}"]'
        assert not page.evaluate(OVERLAPS, [snippet, button]), f"Copy covers {snippet}"
    expect(page.locator("#connect-steps [aria-current=step]")).to_have_text("Copy its settings")

    send_frame_as_deepstack(portal.base_url, key)
    status = page.locator("#first-status")
    expect(status).to_have_text(
        re.compile(r"^Connected: first frame at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, ")
    )
    expect(page.locator("#connect-steps [aria-current=step]")).to_have_text("First frame")
    screenshot(page, "first-hour-1-connect")

    # Its page: the person threshold only (the camera runs persons detection), readable help.
    page.get_by_role("link", name="zones and thresholds").click()
    thresholds = page.locator(".threshold-grid input")
    expect(thresholds).to_have_count(1)
    expect(page.get_by_label("person threshold")).to_be_visible()
    expect(
        page.get_by_text(
            "this camera's anchor is the bottom centre (where the object touches the ground)."
        )
    ).to_be_visible()
    assert "((" not in page.locator("main").inner_text().replace(" ", "")
    screenshot(page, "first-hour-2-persons-camera")


ENABLE_VEHICLES = """
from apps.tenants.models import Tenant
from apps.tenants.services import enable_service
enable_service(Tenant.objects.get(slug="alpha"), "vehicles-detection")
"""


def test_threshold_inputs_line_up_when_a_label_wraps(portal, open_page):
    portal.manage("shell", "-c", ENABLE_VEHICLES)  # "motorcycle threshold" is the long label
    page = open_page({"width": 1280, "height": 900})
    sign_in(page, "alice")
    page.goto("/t/alpha/cameras/connect/")
    page.get_by_label("Name").fill("yard")
    page.get_by_role("button", name="Create camera and key").click()
    page.get_by_role("link", name="zones and thresholds").click()
    expect(page.get_by_label("motorcycle threshold")).to_be_visible()
    tops = page.evaluate(
        """() => [...document.querySelectorAll('.threshold-grid input')].map(
            (i) => Math.round(i.getBoundingClientRect().top))"""
    )
    rows: dict[int, int] = {}
    for top in tops:
        rows[top] = rows.get(top, 0) + 1
    # Every input shares its row's line: as many distinct tops as rows of the grid.
    columns = page.evaluate(
        """() => getComputedStyle(document.querySelector('.threshold-grid'))
            .gridTemplateColumns.split(' ').length"""
    )
    assert len(rows) == -(-len(tops) // columns), tops
    page.locator(".threshold-grid").scroll_into_view_if_needed()
    screenshot(page, "first-hour-3-thresholds")


def test_the_webhooks_form_keeps_its_distance_from_the_table(portal, open_page):
    page: Page = open_page()
    sign_in(page, "alice")
    page.goto("/t/alpha/webhooks/")
    gap = page.evaluate(
        """() => document.querySelector('section[aria-labelledby=create-heading]')
            .getBoundingClientRect().top
            - document.querySelector('.table-wrap').getBoundingClientRect().bottom"""
    )
    assert gap >= 16, gap
    screenshot(page, "first-hour-4-webhooks")


def test_every_tab_shows_at_900_px_and_the_cards_say_requests(portal, open_page):
    """At 900 px the tenant tabs wrap onto a second row: none is cut off or scrolled away
    ("Requests" was), and the page itself does not scroll sideways."""
    page = open_page({"width": 900, "height": 800})
    sign_in(page, "alice")
    page.goto("/t/alpha/")
    tabs = page.locator("nav.tabs a")
    assert tabs.count() >= 11
    nav = page.evaluate(
        """() => { const n = document.querySelector('nav.tabs');
            return [n.scrollWidth, n.clientWidth, n.getBoundingClientRect().right]; }"""
    )
    assert nav[0] <= nav[1] + 1, nav
    for index in range(tabs.count()):
        box = tabs.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= nav[2] + 1, box
    expect(page.get_by_role("link", name="Requests", exact=True)).to_be_in_viewport(ratio=1)
    assert test_browser.fits_the_screen(page)
    card = page.locator('[data-service="persons-detection"]')
    expect(card.locator("dt").first).to_have_text("Requests today")
    expect(card).not_to_contain_text("Answered")
    screenshot(page, "first-hour-5-tabs-900px")
