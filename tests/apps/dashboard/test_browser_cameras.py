"""The Cameras pages in a real browser (Chromium via Playwright) against the deployed portal.

An owner connects a camera (name → bound key shown once → copyable settings), the "camera"
sends its first frame the way Blue Iris or Frigate would (DeepStack, the bound key, no camera
id) and the connect page shows it; on the camera's page the owner draws an include zone over
the right half of that frame with the mouse, removes a corner and drags one, saves, and the
test-image panel shows the people outside the zone dropped. A viewer on a phone sees the
camera but no editor. Screenshots land in test-artifacts/browser/ beside the other pages'.
"""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from harness.processes import shared_dir
from tests.apps.dashboard import test_browser
from tests.apps.dashboard.test_browser import PHONE, fits_the_screen, screenshot, sign_in

PERSONS_JPG = shared_dir() / "images" / "persons.jpg"
pytestmark = test_browser.pytestmark
# The browser journey's fixtures: one portal (gunicorn, Celery, the real worker) and Chromium.
portal = test_browser.portal
browser = test_browser.browser
open_page = test_browser.open_page


def send_frame_as_deepstack(base_url: str, key: str) -> dict:
    with PERSONS_JPG.open("rb") as image:
        response = requests.post(
            f"{base_url}/v1/vision/detection",
            files={"image": ("frame.jpg", image, "image/jpeg")},
            data={"api_key": key},
            timeout=30,
        )
    assert response.status_code == 200, response.text
    return response.json()


def click_at(page: Page, fx: float, fy: float) -> None:
    """Click the zone stage at a fraction of its width and height."""
    box = page.locator("#zone-stage").bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def kept_anchor_xs(page: Page) -> list[float]:
    """Bottom-centre x of each kept box in the test panel, as a fraction of the image width."""
    return page.evaluate(
        """() => {
        const svg = document.querySelector('#test-frame svg');
        const width = svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('rect.box:not(.dropped)')].map(
            (r) => (r.x.baseVal.value + r.width.baseVal.value / 2) / width);
    }"""
    )


def test_an_owner_connects_a_camera_draws_a_zone_and_tests_it(portal, open_page):
    page = open_page()
    sign_in(page, "alice")
    page.get_by_role("link", name="Cameras", exact=True).click()
    expect(page.get_by_role("heading", name="No cameras yet")).to_be_visible()
    screenshot(page, "cameras-01-empty")

    # Connect: name it, get its key once, with settings for each way a camera connects.
    page.get_by_role("link", name="Connect a camera").first.click()
    page.get_by_label("Name").fill("driveway")
    screenshot(page, "cameras-02-connect")
    page.get_by_role("button", name="Create camera and key").click()
    key = page.locator("#camera-key").inner_text()
    assert key.startswith("ipcai_")
    expect(page.locator("#snippet-frigate")).to_contain_text("type: deepstack")
    expect(page.locator("#snippet-watch")).to_contain_text("--camera cam_")
    expect(page.locator("#first-status")).to_contain_text("Waiting")

    # The camera's first request, as DeepStack software sends it; the page notices and shows it.
    plain = send_frame_as_deepstack(portal.base_url, key)
    assert plain["predictions"]
    expect(page.locator("#first-status")).to_contain_text("Connected")
    expect(page.locator("#first-drawing svg rect.box")).to_have_count(len(plain["predictions"]))
    screenshot(page, "cameras-03-connected")

    # Draw an include zone over the right half of the frame, drag one corner, save.
    page.get_by_role("link", name="zones and thresholds").click()
    expect(page.locator("#zone-background")).to_have_js_property("complete", True)
    page.get_by_role("button", name="Add zone").click()
    for fx, fy in [(0.5, 0.02), (0.98, 0.02), (0.98, 0.98), (0.6, 0.98), (0.55, 0.5)]:
        click_at(page, fx, fy)
    page.get_by_role("button", name="Finish zone").click()
    page.locator(".zone-handle").nth(4).dblclick()  # a corner too many: double-click removes it
    expect(page.locator(".zone-handle")).to_have_count(4)
    handle = page.locator(".zone-handle").nth(3)
    handle_box = handle.bounding_box()
    stage = page.locator("#zone-stage").bounding_box()
    page.mouse.move(handle_box["x"] + 7, handle_box["y"] + 7)
    page.mouse.down()
    page.mouse.move(stage["x"] + 0.5 * stage["width"], stage["y"] + 0.98 * stage["height"], steps=5)
    page.mouse.up()
    page.get_by_label("Zone name").fill("right side")
    page.get_by_label("Zone name").press("Tab")
    page.get_by_role("button", name="Save zones").click()
    expect(page.locator("#zone-status")).to_have_text("Saved 1 zone.")
    expect(page.locator('.zone-svg polygon[data-zone="right side"]')).to_have_count(1)
    screenshot(page, "cameras-04-zone-drawn")

    # Reload: the zone was stored, with the dragged corner where it was dropped.
    page.reload()
    points = page.locator('.zone-svg polygon[data-zone="right side"]').get_attribute("points")
    corners = [tuple(float(v) for v in p.split(",")) for p in points.split()]
    assert len(corners) == 4 and abs(corners[3][0] - 0.5) < 0.02

    # Test with this image: people anchored left of the zone are dropped, the rest kept.
    page.get_by_label("Image (JPEG or PNG)").set_input_files(PERSONS_JPG)
    page.get_by_label("Service").select_option("persons-detection")
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-status")).to_contain_text("Kept")
    dropped = page.locator('#test-frame rect.box.dropped[data-reason="outside_zones"]')
    assert dropped.count() >= 1
    expect(page.locator("#test-dropped")).to_contain_text("outside zones")
    xs = kept_anchor_xs(page)
    assert xs and all(x >= 0.5 for x in xs), xs
    screenshot(page, "cameras-05-test-image")

    # The bound key's next frame (no camera id) is filtered by the same zone.
    filtered = send_frame_as_deepstack(portal.base_url, key)
    assert 0 < len(filtered["predictions"]) < len(plain["predictions"])

    page.get_by_role("link", name="Cameras", exact=True).click()
    expect(page.locator("[data-camera] h2")).to_have_text("driveway")
    screenshot(page, "cameras-06-list")


def test_a_viewer_on_a_phone_sees_cameras_but_no_editor(portal, open_page):
    page = open_page(viewport=PHONE)
    sign_in(page, "bob")
    page.get_by_role("link", name="Cameras", exact=True).click()
    assert fits_the_screen(page)
    expect(page.get_by_role("link", name="Connect a camera")).to_have_count(0)
    cameras = page.locator("[data-camera] h2 a")
    if cameras.count():
        cameras.first.click()
        expect(page.get_by_role("button", name="Add zone")).to_have_count(0)
        expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
        assert fits_the_screen(page)
    screenshot(page, "cameras-07-phone-viewer")
