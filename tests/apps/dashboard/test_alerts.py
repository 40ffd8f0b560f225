"""Alerts and Webhooks pages: the owner sees and changes, the viewer only sees, the outsider
gets 404 on every URL (page, snapshot, thumbnail, endpoint, test button, delete)."""

from __future__ import annotations

import re

import pytest

from apps.alerts import alerting
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import WebhookDelivery, WebhookEndpoint
from apps.alerts.webhooks.endpoints import create_endpoint
from apps.cameras.services import create_camera
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in

BOX = [10.0, 20.0, 110.0, 320.0]


def form_token(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture(autouse=True)
def _setup(settings, archive):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    alerting._settings_cache.clear()


@pytest.fixture
def alert_a(tenant_a) -> str:
    camera = create_camera(tenant_a, {"name": "porch cam"})
    image = seed_image("persons")
    answer = []
    for i in range(3):
        detections = [{"label": "person", "score": 0.9, "box": BOX, "zones": ["porch"]}]
        answer = track_camera_frame(
            CameraFrame(tenant_a.pk, camera.pk, 1000 + i * 0.2, detections, image, 546, 819)
        )
    return answer[0]["id"]


@pytest.fixture
def endpoint_a(tenant_a) -> WebhookEndpoint:
    endpoint, _ = create_endpoint(tenant_a, "http://127.0.0.1:9/hook")
    return endpoint


def test_the_owner_sees_the_alert_in_the_timeline_and_its_page(alice, alert_a):
    client = signed_in(alice)
    timeline = client.get("/t/alpha/alerts/")
    assert timeline.status_code == 200
    assert f'data-alert="{alert_a}"' in timeline.content.decode()
    assert "porch cam" in timeline.content.decode()
    detail = client.get(f"/t/alpha/alerts/{alert_a}/")
    assert detail.status_code == 200 and b"Person on porch cam" in detail.content
    snapshot = client.get(f"/t/alpha/alerts/{alert_a}/snapshot.jpg")
    assert snapshot.status_code == 200 and snapshot.content == seed_image("persons")
    thumbnail = client.get(f"/t/alpha/alerts/{alert_a}/thumbnail.jpg")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"


def test_timeline_filters(alice, alert_a):
    client = signed_in(alice)
    assert alert_a in client.get("/t/alpha/alerts/?label=person").content.decode()
    assert alert_a not in client.get("/t/alpha/alerts/?label=car").content.decode()
    assert alert_a in client.get("/t/alpha/alerts/?zone=porch").content.decode()
    assert alert_a not in client.get("/t/alpha/alerts/?day=2001-01-01").content.decode()


def test_the_viewer_sees_alerts_and_webhooks_but_cannot_change_them(bob, alert_a, endpoint_a):
    client = signed_in(bob)
    assert client.get(f"/t/alpha/alerts/{alert_a}/").status_code == 200
    page = client.get("/t/alpha/webhooks/")
    assert page.status_code == 200 and b"Add an endpoint" not in page.content
    assert client.post("/t/alpha/webhooks/", {"url": "http://127.0.0.1:9/x"}).status_code == 403
    base = f"/t/alpha/webhooks/{endpoint_a.public_id}/"
    assert client.get(base).status_code == 200
    assert client.post(base, {"url": "http://127.0.0.1:9/x"}).status_code == 403
    assert client.post(base + "test").status_code == 403
    assert client.post(base + "delete").status_code == 403
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9/hook"
    assert not WebhookDelivery.objects.exists()


def test_an_outsider_gets_404_everywhere(charlie, tenant_b, alert_a, endpoint_a):
    client = signed_in(charlie)
    urls = [
        "/t/alpha/alerts/",
        f"/t/alpha/alerts/{alert_a}/",
        f"/t/alpha/alerts/{alert_a}/snapshot.jpg",
        f"/t/alpha/alerts/{alert_a}/thumbnail.jpg",
        "/t/alpha/webhooks/",
        f"/t/alpha/webhooks/{endpoint_a.public_id}/",
        # their own tenant's URLs with A's ids
        f"/t/bravo/alerts/{alert_a}/",
        f"/t/bravo/alerts/{alert_a}/snapshot.jpg",
        f"/t/bravo/webhooks/{endpoint_a.public_id}/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in (
        f"/t/bravo/webhooks/{endpoint_a.public_id}/test",
        f"/t/bravo/webhooks/{endpoint_a.public_id}/delete",
    ):
        assert client.post(url).status_code == 404, url
    assert alert_a not in client.get("/t/bravo/alerts/").content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint_a.pk).exists()


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(alice, tenant_a):
    client = signed_in(alice)
    token = form_token(client.get("/t/alpha/webhooks/"))
    response = client.post(
        "/t/alpha/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "labels": "person", "form_token": token},
    )
    assert response.status_code == 200
    (secret,) = re.findall(r'<code id="new-secret">(whsec_[^<]+)</code>', response.content.decode())
    assert response["Cache-Control"].startswith("max-age=0")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.labels == ["person"]
    again = client.get("/t/alpha/webhooks/")
    assert secret not in again.content.decode()


def test_a_private_url_is_refused_with_the_reason(alice, tenant_a, settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = False
    client = signed_in(alice)
    token = form_token(client.get("/t/alpha/webhooks/"))
    response = client.post("/t/alpha/webhooks/", {"url": "http://127.0.0.1/", "form_token": token})
    assert response.status_code == 200
    assert "loopback or private address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_sends_a_test_event_and_disables_the_endpoint(alice, endpoint_a):
    client = signed_in(alice)
    base = f"/t/alpha/webhooks/{endpoint_a.public_id}/"
    assert client.post(base + "test").status_code == 302
    assert WebhookDelivery.objects.get().event_type == "test"
    saved = client.post(base, {"url": endpoint_a.url, "labels": "", "zones": ""})
    assert saved.status_code == 302
    endpoint_a.refresh_from_db()
    assert endpoint_a.enabled is False  # the box was not ticked
    page = client.get(base)
    assert b"This endpoint is off" in page.content
    assert b"test" in page.content


def test_the_owner_changes_a_cameras_event_settings_the_viewer_cannot(
    alice, bob, charlie, tenant_a, tenant_b
):
    from apps.alerts.alerting import alerting_of

    camera = create_camera(tenant_a, {"name": "gate"})
    page = signed_in(alice).get(f"/t/alpha/alerts/?camera={camera.public_id}")
    assert b"Event settings of gate" in page.content
    url = f"/t/alpha/alerts/settings/{camera.public_id}"
    form = {
        "enabled": "on",
        "labels": "car truck",
        "timeout_s": "5",
        "cooldown_s": "60",
        "stationary_after_s": "120",
        "confirm_hits": "2",
        "confirm_window": "4",
    }
    assert signed_in(alice).post(url, form).status_code == 302
    row = alerting_of(camera.pk)
    assert (row.labels, row.timeout_s, row.cooldown_s, row.stationary_after_s) == (
        ["car", "truck"],
        5.0,
        60.0,
        120.0,
    )
    assert (row.confirm_hits, row.confirm_window) == (2, 4)
    assert (
        b"Event settings of gate"
        not in signed_in(bob).get(page.request["PATH_INFO"] + f"?camera={camera.public_id}").content
    )
    assert signed_in(bob).post(url, {**form, "labels": ""}).status_code == 403
    assert signed_in(charlie).post(url, {**form, "labels": ""}).status_code == 404
    assert (
        signed_in(charlie).post(f"/t/bravo/alerts/settings/{camera.public_id}", form).status_code
        == 404
    )
    assert alerting_of(camera.pk).labels == ["car", "truck"]
    bad = signed_in(alice).post(url, {**form, "timeout_s": "0"}, follow=True)
    assert b"Ends after (s) unseen" in bad.content and alerting_of(camera.pk).timeout_s == 5.0
    unfit = signed_in(alice).post(url, {**form, "confirm_hits": "5", "timeout_s": "9"}, follow=True)
    assert b"5 sightings cannot fit in a window of 4 frames" in unfit.content
    assert (alerting_of(camera.pk).confirm_hits, alerting_of(camera.pk).timeout_s) == (2, 5.0)
