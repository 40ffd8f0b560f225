"""False-alarm feedback and camera health in a real browser (Debian's Chromium through
Playwright) against the portal as deployed (gunicorn, Celery, the real worker).

An owner marks one of a camera's alerts a false alarm on the Alerts timeline; the camera
sends the same scene again and that spot opens no alert; the camera's page shows its health,
the learned area drawn over its frame with what it held back, the precision from the
verdicts; the owner removes the area. A viewer sees the alerts but no verdict buttons.
Screenshots land in test-artifacts/browser/ (feedback-*.png).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from harness.camera_frames import create_camera, post_frame
from harness.images import seed_image
from harness.portal import Portal, running_portal
from tests.apps.dashboard import test_browser as journey
from tests.apps.dashboard.test_browser import USERS_SCRIPT, reload_until, screenshot, sign_in

pytestmark = pytest.mark.browser

browser = journey.browser
open_page = journey.open_page


class Scene:
    def __init__(self, portal: Portal, key: str, camera: str) -> None:
        self.portal, self.key, self.camera = portal, key, camera

    def send(self, start: float, frames: int = 3) -> list[dict]:
        """The persons photo as this camera's frames; the events they changed."""
        changes = []
        for i in range(frames):
            answer = post_frame(
                None,
                self.portal.base_url,
                self.key,
                self.camera,
                seed_image("persons"),
                start + i * 0.2,
            )
            assert answer.status_code == 200, answer.text
            changes += answer.json()["events"]
        return changes


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("feedback-browser")
    with running_portal(
        folder,
        worker_url,
        celery=True,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_CAMERA_SWEEP_S="1",
    ) as portal:
        yield portal


@pytest.fixture(scope="module")
def scene(portal) -> Scene:
    key = portal.create_tenant("alpha", ["persons-detection"])
    portal.manage("shell", "-c", USERS_SCRIPT)
    scene = Scene(portal, key, create_camera(portal.base_url, key, "hall"))
    opened = [e for e in scene.send(time.time() - 600) if e["type"] == "opened"]
    assert len(opened) >= 2, opened  # the photo's pedestrians
    return scene


def test_an_owner_marks_a_false_alarm_and_sees_what_the_camera_learnt(scene, open_page):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Alerts").click()
    cards = page.locator(".thumb-card")
    expect(cards.first).to_be_visible()
    count = cards.count()
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    cards.first.get_by_role("button", name="False alarm").click()
    expect(page.locator(".messages")).to_contain_text("Marked a false alarm")
    expect(page.locator('[data-verdict="false_alarm"]')).to_have_count(1)
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    screenshot(page, "feedback-1-timeline")

    # The same scene again, much later: every pedestrian but that one opens an alert.
    again = [e for e in scene.send(time.time() - 60) if e["type"] == "opened"]
    assert len(again) == count - 1

    page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Cameras").click()
    reload_until(page, lambda: page.locator('[data-health="online"]').count() > 0)
    page.get_by_role("link", name="hall").first.click()
    expect(page.locator("#health [data-health]")).to_have_attribute("data-health", "online")
    expect(page.locator(".learned-area")).to_have_count(1)
    expect(page.locator("[data-area-label]")).to_have_text("person · 3 held")
    expect(page.locator('[data-quality="person"]')).to_contain_text("0.00")  # 0 of 1 right
    page.locator("#feedback").scroll_into_view_if_needed()
    screenshot(page, "feedback-2-camera")

    page.locator("#feedback").get_by_role("button", name="Remove").click()
    expect(page.locator(".messages")).to_contain_text("Removed the learned person area")
    expect(page.locator(".learned-area")).to_have_count(0)
    restored = [e for e in scene.send(time.time()) if e["type"] == "opened"]
    assert len(restored) == count


def test_a_viewer_sees_alerts_without_verdict_buttons(scene, open_page):
    page = open_page()
    sign_in(page, "bob")
    page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Alerts").click()
    expect(page.locator("[data-alert]").first).to_be_visible()
    expect(page.get_by_role("button", name="False alarm")).to_have_count(0)
    health = requests.get(
        f"{scene.portal.base_url}/api/v1/cameras/{scene.camera}",
        headers={"x-api-key": scene.key},
        timeout=30,
    ).json()["health"]
    assert health["state"] == "online"
