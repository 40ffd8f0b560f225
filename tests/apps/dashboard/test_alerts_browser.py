"""Alerts and Webhooks in a real browser (Debian's Chromium through Playwright) against the
portal as deployed (gunicorn, Celery, the real worker), with a real webhook receiver.

An owner opens the Alerts timeline of a camera that saw the clip's first visitor, opens the
alert (its best snapshot with the box), adds a webhook endpoint and sees its secret once, sends
a test event and watches the delivery log say "delivered"; a viewer on a phone sees the alerts
but no way to add an endpoint. Screenshots land in test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from harness.camera_clip import sampled
from harness.camera_frames import create_camera, post_frame
from harness.portal import Portal, running_portal
from harness.webhook_receiver import Receiver, running_receiver
from tests.apps.dashboard import test_browser as journey
from tests.apps.dashboard.test_browser import (
    PHONE,
    USERS_SCRIPT,
    fits_the_screen,
    reload_until,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

# The dashboard journey's Chromium and page fixtures, on this module's portal.
browser = journey.browser
open_page = journey.open_page


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("alerts-browser")
    with running_portal(
        folder,
        worker_url,
        celery=True,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_WEBHOOK_ALLOW_PRIVATE="true",
        IPCAI_CAMERA_SWEEP_S="1",
    ) as portal:
        key = portal.create_tenant("alpha", ["persons-detection"])
        portal.manage("shell", "-c", USERS_SCRIPT)
        camera = create_camera(portal.base_url, key, "hall")
        t0 = time.time() - 300
        for offset, jpeg in sampled(5)[30:110]:  # the first visitor, 6-22 s into the clip
            response = post_frame(None, portal.base_url, key, camera, jpeg, t0 + offset)
            assert response.status_code == 200, response.text
        yield portal


@pytest.fixture(scope="module")
def receiver(tmp_path_factory) -> Iterator[Receiver]:
    with running_receiver(tmp_path_factory.mktemp("browser-receiver")) as receiver:
        yield receiver


def test_an_owner_reviews_an_alert_and_sets_up_a_webhook(portal, receiver, open_page):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    alert = page.locator("[data-alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("person")
    expect(alert).to_contain_text("hall")
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    screenshot(page, "alerts-1-timeline")

    alert.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Person on hall")
    expect(page.locator("#event-frame svg rect.box")).to_have_count(1)
    screenshot(page, "alerts-2-alert")

    page.get_by_role("link", name="Alerts of hall").click()  # the camera's own timeline
    page.get_by_text("Event settings of hall", exact=True).click()
    page.get_by_label("Alerting classes").fill("person")
    page.get_by_role("button", name="Save event settings").click()
    expect(page.get_by_text("Event settings of hall saved.")).to_be_visible()
    page.get_by_text("Event settings of hall", exact=True).click()
    expect(page.get_by_label("Alerting classes")).to_have_value("person")
    screenshot(page, "alerts-2b-camera-settings")

    page.get_by_role("navigation", name="Tenant pages").get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Classes").fill("person")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret")
    expect(secret).to_contain_text("whsec_")
    screenshot(page, "alerts-3-webhook-created")

    page.get_by_role("link", name="Delivery log →").click()
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text(re.compile("^Test event msg_.* queued"))).to_be_visible()
    reload_until(page, lambda: page.locator("[data-delivery] .badge.ok").count() == 1)
    expect(page.locator("[data-delivery]")).to_contain_text("HTTP 200")
    screenshot(page, "alerts-4-delivery-log")
    assert any(r["headers"].get("webhook-id") for r in receiver.requests())


def test_a_viewer_on_a_phone_sees_alerts_but_cannot_add_webhooks(portal, open_page):
    page = open_page(PHONE)
    sign_in(page, "bob")
    page.goto("/t/alpha/alerts/")
    expect(page.locator("[data-alert]")).to_have_count(1)
    assert fits_the_screen(page)
    screenshot(page, "alerts-5-phone-timeline")
    page.goto("/t/alpha/webhooks/")
    expect(page.get_by_role("button", name="Add endpoint")).to_have_count(0)
    screenshot(page, "alerts-6-phone-webhooks")
