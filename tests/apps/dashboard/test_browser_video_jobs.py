"""Videos in a real browser (Debian's Chromium through Playwright) against the portal as
deployed, Celery analysing the clip with the real worker: an owner uploads the clip's first
visit, watches the job finish and sees one person on the timeline with its snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.apps.alerts.video_jobs.clips import excerpt
from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import reload_until, screenshot, sign_in

pytestmark = pytest.mark.browser
# The shared fixtures: a portal with Celery and the trio's users, Chromium, a checked page.
portal, browser, open_page = test_browser.portal, test_browser.browser, test_browser.open_page


@pytest.fixture(scope="module")
def first_visit(tmp_path_factory) -> Path:
    return excerpt(tmp_path_factory.mktemp("clip") / "first-visit.avi")


def test_an_owner_uploads_a_clip_and_sees_its_timeline_with_snapshots(open_page, first_visit):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("link", name="Videos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Videos")
    page.get_by_label("Video file").set_input_files(first_visit)
    page.get_by_label("Frames analysed per second").fill("2")
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("first-visit.avi")
    reload_until(page, lambda: page.locator('[data-status="succeeded"]').count() == 1, 120)
    expect(page.get_by_role("heading", name="Timeline: 1 event")).to_be_visible()
    figure = page.locator("[data-video-event]")
    expect(figure).to_have_count(1)
    expect(figure).to_contain_text("person")
    image = figure.locator("img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "30-video-job")
    page.get_by_role("link", name="← Videos").click()
    expect(page.locator('tr[data-status="succeeded"]')).to_have_count(1)
    screenshot(page, "31-video-jobs")


def test_a_viewer_sees_the_videos_but_no_upload_form(open_page):
    page = open_page()
    sign_in(page, "bob")
    page.get_by_role("link", name="Videos").click()
    expect(page.get_by_role("button", name="Upload and analyse")).to_have_count(0)
