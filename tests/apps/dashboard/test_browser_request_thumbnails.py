"""The Requests page's thumbnails in a real browser, below the fold too: a listed request
always has its thumbnail (the archive task stores it before the record and the row), so
a grey tile in a full-page screenshot was a lazy image (or one still loading) that the
screenshot did not wait for; screenshot() now loads them first.
Screenshot: test-artifacts/browser/requests-thumbnails.png.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import (
    detect_with_key,
    load_lazy_images,
    reload_until,
    screenshot,
    sign_in,
)

pytestmark = test_browser.pytestmark
portal = test_browser.portal
browser = test_browser.browser
open_page = test_browser.open_page

REQUESTS = 16  # four rows at 1280 px: most below a 700 px window

UNLOADED = """() => [...document.querySelectorAll('a.thumb img')]
    .filter((img) => !img.complete || img.naturalWidth === 0).length"""


def test_every_thumbnail_shows_in_a_full_page_screenshot(portal, open_page):
    portal.manage("archive_requests", "alpha", "--on")
    key = portal.issue_api_key("alpha", "thumbnails")
    for _ in range(REQUESTS):
        assert detect_with_key(portal, key).status_code == 200
    page = open_page({"width": 1280, "height": 700})
    sign_in(page, "alice")
    page.goto("/t/alpha/requests/")
    reload_until(page, lambda: page.locator("a.thumb").count() >= REQUESTS)

    # Every listed request's thumbnail is there already: nothing is still being made.
    for src in page.locator("a.thumb img").evaluate_all("imgs => imgs.map((i) => i.src)"):
        assert page.request.get(src).status == 200, src
    # Those below the window (loading=lazy) or still on their way show the grey tile until
    # they arrive: the screenshot waits for them.
    load_lazy_images(page)  # as screenshot() does
    assert page.evaluate(UNLOADED) == 0
    expect(page.locator("a.thumb img").last).to_have_js_property("naturalWidth", 360)
    screenshot(page, "requests-thumbnails")
