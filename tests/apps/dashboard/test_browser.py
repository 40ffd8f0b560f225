"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the portal as
deployed (gunicorn, Celery worker + beat for the usage drain and archiving, the real worker).

Two journeys, one Chromium for both (each start costs seconds): an owner signs in, creates a
key and sees it once, runs Try it on the seed's pets photo and sees three dog boxes, watches the
usage count rise, turns on event saving and opens the archived event, then revokes the key and
the API refuses it; a viewer on a phone-width screen finds no way to create keys. Every page
must load without console errors; screenshots land in test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from harness.portal import Portal, running_portal
from harness.processes import REPO_ROOT, shared_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium phones home at start, which this
# closed network refuses (and CI machines may too).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "browser"
PETS_JPG = shared_dir() / "images" / "pets.jpg"
PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-test-passphrase"
# Try it's status line; the pattern goes to the browser's RegExp (no \N{...} there).
FOUND_3_DOGS = re.compile("^Found 3 \u00d7 dog in \\d+ ms")

USERS_SCRIPT = f"""
from django.contrib.auth import get_user_model
from apps.tenants.models import Membership, Tenant
from apps.tenants.services import add_member
tenant = Tenant.objects.get(slug="alpha")
for name, role in [("alice", Membership.Role.OWNER), ("bob", Membership.Role.VIEWER)]:
    user = get_user_model().objects.create_user(name, name + "@example.org", {PASSWORD!r})
    add_member(tenant, user, role)
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("browser-portal")
    with running_portal(
        folder,
        worker_url,
        celery=True,
        IPCAI_USAGE_DRAIN_INTERVAL_S="0.5",
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
    ) as portal:
        portal.create_tenant("alpha", ["persons-detection", "pets-detection"])
        portal.manage("shell", "-c", USERS_SCRIPT)
        yield portal


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run scripts/ensure-services.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, portal) -> Iterator[Callable[..., Page]]:
    """A fresh browser context per call; fails the test on any console error or page error."""
    errors: list[str] = []
    contexts = []

    def open_page(viewport: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=portal.base_url, viewport=viewport or {"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: errors.append(f"{m.text} ({page.url})") if m.type == "error" else None,
        )
        page.on("pageerror", lambda exc: errors.append(f"{exc} ({page.url})"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], "console errors"


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("alpha")


UNLABELLED_FIELDS = """() => [...document.querySelectorAll(
    "input:not([type=hidden]), select, textarea")]
    .filter((field) => !field.labels.length && !field.getAttribute("aria-label"))
    .map((field) => field.name || field.id)"""


# Lazy images below the window are not fetched for a full-page screenshot, which then shows
# their grey placeholder: load them all first (each settles on load or error, 10 s at most).
LOAD_LAZY_IMAGES = """() => Promise.race([
    Promise.all([...document.querySelectorAll("img[loading=lazy]")].map((img) => {
        img.loading = "eager";
        return img.complete ? null : new Promise((settled) => {
            img.addEventListener("load", settled, { once: true });
            img.addEventListener("error", settled, { once: true });
        });
    })),
    new Promise((settled) => setTimeout(settled, 10000)),
])"""


def load_lazy_images(page: Page) -> None:
    page.evaluate(LOAD_LAZY_IMAGES)


def screenshot(page: Page, name: str) -> None:
    """Save the page for people to look at, after checking every form field has a label
    and loading its lazy images (a full-page screenshot shows what is below the window)."""
    assert page.evaluate(UNLABELLED_FIELDS) == [], f"form fields without a label on {page.url}"
    load_lazy_images(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def reload_until(page: Page, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Reload until the condition holds: the usage drain and the archive run in Celery."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met on {page.url}"
        page.wait_for_timeout(250)  # polling interval between reloads, not a wait for a result
        page.reload()


def month_requests(page: Page, service: str) -> int:
    stat = page.locator(f'[data-service="{service}"] [data-stat="month-requests"]')
    return int(stat.inner_text())


def detect_with_key(portal: Portal, key: str) -> requests.Response:
    return requests.post(
        f"{portal.base_url}/api/v1/detect/pets-detection",
        data=PETS_JPG.read_bytes(),
        headers={"x-api-key": key, "Content-Type": "image/jpeg"},
        timeout=30,
    )


def test_an_owner_creates_a_key_tries_detection_watches_usage_and_revokes(portal, open_page):
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "alice")
    before = month_requests(page, "pets-detection")
    screenshot(page, "01-overview-empty")

    # A new key, shown once, copied with the button, working against the API.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("gate camera")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key-value").inner_text()
    assert key.startswith("ipcai_")
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    screenshot(page, "02-key-created")
    page.reload()  # resubmits the form: no second key, and the secret is not shown again
    assert key not in page.content()
    expect(page.locator(".messages")).to_contain_text("That form was sent already")
    expect(page.locator("tbody tr", has_text="gate camera")).to_have_count(1)
    assert detect_with_key(portal, key).status_code == 200

    # Try it: the seed's pets photo through the native API, three dog boxes over the image.
    page.get_by_role("link", name="Try it").click()
    page.get_by_label("Image (JPEG or PNG)").set_input_files(PETS_JPG)
    page.get_by_label("Service").select_option("pets-detection")
    page.get_by_role("button", name="Detect").click()
    expect(page.locator("#try-status")).to_have_text(FOUND_3_DOGS)
    expect(page.locator('#try-frame svg rect.box[data-label="dog"]')).to_have_count(3)
    expect(page.locator("#try-json")).to_contain_text('"label": "dog"')
    screenshot(page, "03-try-it")

    # The usage count rises once the drain has stored both requests; the chart draws.
    page.get_by_role("link", name="Overview").click()
    reload_until(page, lambda: month_requests(page, "pets-detection") >= before + 2)
    assert page.evaluate("() => !!Chart.getChart(document.querySelector('canvas'))")
    screenshot(page, "04-overview-with-usage")
    page.get_by_role("link", name="Usage").click()
    expect(page.locator("tbody")).to_contain_text("pets-detection")
    screenshot(page, "05-usage")
    page.get_by_role("link", name="Reports").click()
    screenshot(page, "05b-reports")

    # Save pets requests, run Try it again, open the archived request under Requests.
    page.get_by_role("link", name="Services").click()
    pets = page.locator("#service-pets-detection")
    pets.get_by_label("Save requests (image and response)").check()
    pets.get_by_role("button", name="Save pets detection settings").click()
    expect(page.locator(".messages")).to_contain_text("Saved the Pets detection settings")
    screenshot(page, "06-services")
    page.get_by_role("link", name="Try it").click()
    page.get_by_label("Image (JPEG or PNG)").set_input_files(PETS_JPG)
    page.get_by_label("Service").select_option("pets-detection")
    page.get_by_role("button", name="Detect").click()
    expect(page.locator("#try-status")).to_have_text(FOUND_3_DOGS)
    page.get_by_role("link", name="Requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Requests")
    reload_until(page, lambda: page.locator("a.thumb").count() > 0)
    thumbnail = page.locator("a.thumb img").first
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") == 360
    screenshot(page, "07-requests")
    page.locator("a.thumb").first.click()
    expect(page.locator('#event-frame svg rect.box[data-label="dog"]')).to_have_count(3)
    expect(page.locator("#event-json")).to_contain_text('"tenant": "alpha"')
    screenshot(page, "08-request")

    # Revoke, after a confirmation page; the API refuses the key from then on.
    page.get_by_role("link", name="API keys").click()
    page.locator("tr", has_text="gate camera").get_by_role("link", name="Revoke…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revoke key")
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator(".messages")).to_contain_text("It no longer works.")
    expect(page.locator("tr", has_text="gate camera")).to_contain_text("revoked")
    screenshot(page, "09-key-revoked")
    refused = detect_with_key(portal, key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_api_key"


def test_a_viewer_on_a_phone_sees_everything_but_cannot_create_keys(portal, open_page):
    page = open_page(viewport=PHONE)
    sign_in(page, "bob")
    assert fits_the_screen(page)
    screenshot(page, "10-phone-overview")
    for tab, shot in [
        ("API keys", "11-phone-keys-viewer"),
        ("Services", "12-phone-services-viewer"),
        ("Usage", "13-phone-usage"),
        ("Try it", "14-phone-try-it-viewer"),
    ]:
        page.get_by_role("link", name=tab).click()
        page.wait_for_load_state()
        assert fits_the_screen(page), tab
        screenshot(page, shot)
        if tab == "API keys":
            expect(page.get_by_role("button", name="Create key")).to_have_count(0)
            expect(page.get_by_label("Name")).to_have_count(0)
            expect(page.locator(".notice")).to_contain_text("You are a viewer")
            expect(page.get_by_role("link", name="Revoke…")).to_have_count(0)
