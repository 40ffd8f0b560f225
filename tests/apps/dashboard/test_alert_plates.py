"""The plate of a vehicle event on the Alerts timeline and the alert page: the tenant's members
see it with its watchlists, an outsider gets 404."""

from __future__ import annotations

import pytest

from apps.alerts import alerting, watchlists
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import CameraEvent
from apps.cameras.services import create_camera
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in


@pytest.fixture
def plate_event(tenant_a, archive) -> CameraEvent:
    alerting._settings_cache.clear()
    camera = create_camera(tenant_a, {"name": "gate"})
    banned = watchlists.create_watchlist(tenant_a.pk, "banned")
    watchlists.add_entry(banned, "7ABC123")
    for i in range(5):
        box = [10.0 + 2 * i, 20.0, 210.0 + 2 * i, 220.0]
        plate = {"text": "7ABC123", "score": 0.9, "box": [50.0, 150.0, 110.0, 170.0]}
        detections = [{"label": "car", "score": 0.9, "box": box, "zones": [], "plate": plate}]
        frame = CameraFrame(
            camera.tenant_id, camera.pk, 1000 + 0.2 * i, detections, seed_image("persons"), 546, 819
        )
        track_camera_frame(frame)
    return CameraEvent.objects.get()


def test_members_see_the_plate_and_its_watchlists(alice, bob, plate_event):
    for user in (alice, bob):
        client = signed_in(user)
        timeline = client.get("/t/alpha/alerts/").content.decode()
        assert 'data-plate="7ABC123"' in timeline and ">banned<" in timeline
        page = client.get(f"/t/alpha/alerts/{plate_event.id}/").content.decode()
        assert 'data-plate="7ABC123"' in page and ">banned<" in page


def test_an_outsider_does_not_see_the_plate(charlie, plate_event):
    client = signed_in(charlie)
    assert client.get(f"/t/alpha/alerts/{plate_event.id}/").status_code == 404
    assert client.get("/t/alpha/alerts/").status_code == 404


def test_the_timeline_searches_by_plate_one_character_off(alice, plate_event):
    client = signed_in(alice)
    found = client.get("/t/alpha/alerts/?plate=7ABC128").content.decode()
    assert 'data-plate="7ABC123"' in found
    missed = client.get("/t/alpha/alerts/?plate=9XYZ555").content.decode()
    assert 'data-plate="7ABC123"' not in missed and "No alerts match this filter" in missed


def test_members_see_the_tenants_watchlists(alice, bob, charlie, plate_event):
    for user in (alice, bob):
        page = signed_in(user).get("/t/alpha/alerts/").content.decode()
        assert 'data-watchlist="banned"' in page and "<code>7ABC123</code>" in page
    assert signed_in(charlie).get("/t/alpha/alerts/").status_code == 404
