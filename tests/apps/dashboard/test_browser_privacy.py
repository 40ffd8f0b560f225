"""The privacy page in a real browser (Debian's Chromium through Playwright), against the portal
as deployed with Celery archiving: the owner sees face redaction locked on (the operator
requires it), turns plate redaction on, erases the whole tenant's last hour and reads the
erasure in the log; the request archived before is gone; a viewer is refused the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from harness.portal import Portal
from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import PETS_JPG, USERS_SCRIPT, screenshot, sign_in
from tests.support.archiving import archiving_portal, wait_until_archived

pytestmark = pytest.mark.browser
browser, open_page = test_browser.browser, test_browser.open_page  # the shared fixtures


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("browser-privacy")
    with archiving_portal(folder, worker_url) as portal:
        key = portal.create_tenant("alpha", ["persons-detection", "pets-detection"])
        portal.manage("shell", "-c", USERS_SCRIPT)
        portal.manage("archive_requests", "alpha", "--on")
        portal.manage("redaction", "alpha", "--faces", "--require")
        response = requests.post(
            f"{portal.base_url}/api/v1/detect/pets-detection",
            data=PETS_JPG.read_bytes(),
            headers={"x-api-key": key, "Content-Type": "image/jpeg"},
            timeout=30,
        )
        assert response.status_code == 200
        wait_until_archived(portal, key, 1)
        yield portal


def archived(portal: Portal) -> int:
    """The tenant's archived requests, from the portal's database."""
    script = "from apps.archive.models import ArchivedEvent; print(ArchivedEvent.objects.count())"
    return int(portal.manage("shell", "-c", script).strip().splitlines()[-1])


def test_an_owner_sets_redaction_and_erases_the_last_hour(portal, open_page):
    assert archived(portal) == 1
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("link", name="Privacy").click()
    faces = page.get_by_label("Blur faces")
    expect(faces).to_be_checked()
    expect(faces).to_be_disabled()  # the operator requires it
    page.get_by_label("Blur licence plates").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Stored images now blur: faces, plates.")).to_be_visible()
    expect(page.get_by_label("Blur licence plates")).to_be_checked()

    now = page.evaluate("() => new Date().toISOString().slice(0, 16)")
    hour_ago = page.evaluate("() => new Date(Date.now() - 3600e3).toISOString().slice(0, 16)")
    page.get_by_label("Since").fill(hour_ago)
    page.get_by_label("Until").fill(now[:-2] + "59")
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_text("Erased: 2 items removed.")).to_be_visible()
    row = page.locator("tr[data-erasure]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("user alice")
    expect(row).to_contain_text("archived requests: 1")
    screenshot(page, "privacy")
    assert archived(portal) == 0


def test_a_viewer_is_refused_the_privacy_page(portal, open_page):
    page = open_page()
    sign_in(page, "bob")
    expect(page.get_by_role("link", name="Privacy")).to_have_count(0)
    assert page.request.get("/t/alpha/privacy/").status == 403  # signed in as bob
