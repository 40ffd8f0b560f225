"""A newcomer's first hour in a real browser, on a fresh database set up as `make run` sets it
up (`manage.py setup_demo`): sign in as the printed demo owner, land on the demo overview and
its guided start, Try it (empty, a refused upload, then the seed's pets photo), read the API
docs with every request to the internet blocked, and reach the admin from the dashboard.
Screenshots in test-artifacts/browser/newcomer-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from harness.portal import Portal, running_portal
from tests.apps.dashboard.test_browser import (  # noqa: F401  (the browser fixture)
    FOUND_3_DOGS,
    PETS_JPG,
    SCREENSHOTS,
    browser,
    screenshot,
)

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Console errors this path causes on purpose, and only this: the refused upload's 400. (Redoc's
# footer logo, hard-coded to cdn.redoc.ly, is inlined by portal/api_docs.py: no CSP refusal.)
EXPECTED_CONSOLE_ERRORS = [
    re.compile(r"status of 400 .*\(http://127\.0\.0\.1:\d+/t/demo/try/\)$"),
]


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    with running_portal(tmp_path_factory.mktemp("newcomer-portal"), worker_url) as portal:
        yield portal


@pytest.fixture(scope="module")
def demo(portal) -> dict[str, str]:
    """What `make run` prints on its first start: the demo key and the owner's password."""
    printed = portal.manage("setup_demo")
    return dict(line.split(" ", 1) for line in printed.splitlines())


@pytest.fixture
def page(browser: Browser, portal: Portal) -> Iterator[Page]:  # noqa: F811
    """A page whose every request to another host is aborted (and remembered in
    `page.outside`); the test fails on any console error it did not expect."""
    context = browser.new_context(base_url=portal.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.outside = []
    errors: list[str] = []

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page.on(
        "console", lambda m: errors.append(f"{m.text} ({page.url})") if m.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(f"{exc} ({page.url})"))
    yield page
    context.close()
    unexpected = [e for e in errors if not any(p.search(e) for p in EXPECTED_CONSOLE_ERRORS)]
    assert unexpected == [], "console errors"


def test_a_newcomer_signs_in_tries_detection_reads_the_docs_and_finds_the_admin(portal, demo, page):

    # Sign in with what `make run` printed; land on the demo tenant's overview.
    page.goto("/")
    page.get_by_label("Username").fill(demo["username"])
    page.get_by_label("Password").fill(demo["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo")
    steps = page.locator("#first-steps")
    expect(steps.get_by_role("link", name="Upload a photo")).to_be_visible()
    key_prefix = "ipcai_{}_".format(demo["api_key"].split("_")[1])
    expect(page.locator("#first-calls")).to_contain_text(f"export IPCAI_API_KEY={key_prefix}")
    expect(page.locator("#first-calls")).to_contain_text(f"{portal.base_url}/v1/vision/detection")
    screenshot(page, "newcomer-1-overview")

    # Try it: nothing shown before an upload, no broken image after a refused one.
    steps.get_by_role("link", name="Upload a photo").click()
    expect(page.locator("#try-result")).to_be_hidden()
    screenshot(page, "newcomer-2-try-it-empty")
    # A text file: what to choose instead, in words for a person (no API 415 text).
    page.get_by_label("Image (JPEG or PNG)").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"}
    )
    page.get_by_role("button", name="Detect").click()
    expect(page.locator("#try-status")).to_have_text(
        "notes.txt is not an image the service reads. Choose a JPEG or PNG image."
    )
    expect(page.locator("#try-result")).to_be_hidden()
    screenshot(page, "newcomer-2b-try-it-text-file")
    page.get_by_label("Image (JPEG or PNG)").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture"}
    )
    page.get_by_role("button", name="Detect").click()
    expect(page.locator("#try-status")).to_contain_text("Error 400")
    expect(page.locator("#try-json")).to_be_visible()
    expect(page.locator("#try-frame")).to_be_hidden()
    screenshot(page, "newcomer-3-try-it-refused")
    page.get_by_label("Image (JPEG or PNG)").set_input_files(PETS_JPG)
    page.get_by_label("Service").select_option("pets-detection")
    page.get_by_role("button", name="Detect").click()
    expect(page.locator("#try-status")).to_have_text(FOUND_3_DOGS)
    expect(page.locator('#try-frame svg rect.box[data-label="dog"]')).to_have_count(3)
    screenshot(page, "newcomer-4-try-it-dogs")

    # The API docs render from our own static files: operations listed, nothing fetched outside.
    page.goto("/api/docs/")
    # Redoc renders the whole schema in the browser: seconds on a busy machine.
    native = page.get_by_role("heading", name="Detect objects (native API)")
    expect(native).to_be_visible(timeout=60_000)
    expect(
        page.get_by_role("heading", name="Detect objects (DeepStack-compatible)")
    ).to_be_visible()
    # The sidebar's groups are named for what they hold (not "api" and "t").
    menu = page.locator(".menu-content").inner_text().lower()
    for tag in ("cameras", "camera events", "keys", "usage", "exports", "request archive"):
        assert tag in menu, menu
    native.scroll_into_view_if_needed()
    # The viewport, not the whole page: the schema is tens of thousands of pixels long.
    page.screenshot(path=SCREENSHOTS / "newcomer-5-api-docs.png")
    assert page.outside == [], "requests to the internet"

    # The demo owner is the local operator too: the admin is one click from the dashboard.
    page.goto("/")
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.locator("#site-name")).to_have_text("IPC AI operator admin")
    expect(page).to_have_title("Tenants, services, keys and usage | IPC AI admin")
    screenshot(page, "newcomer-6-admin")
