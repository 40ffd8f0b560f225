"""Acceptance: a parked car. The same still frame (the seed's vehicles photo) sent 100 times,
one second apart in capture time, through the native API with the real worker: every vehicle
opens one event at most, and after the stationary time nothing updates any more and nothing
opens again."""

from __future__ import annotations

from collections import Counter

import pytest

from apps.alerts import alerting
from apps.alerts.models import CameraEvent
from apps.cameras.services import create_camera
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service
from harness.images import seed_image

STATIONARY_AFTER_S = 30.0  # the default


@pytest.fixture
def vehicles_camera(tenant_a, archive):
    alerting._settings_cache.clear()
    enable_service(tenant_a, ApplicationType.VEHICLES)
    return create_camera(tenant_a, {"name": "street", "services": [ApplicationType.VEHICLES]})


def test_a_still_frame_sent_100_times_opens_each_vehicle_once_then_goes_quiet(
    client, inference, key_a, vehicles_camera
):
    image = seed_image("vehicles")
    t0 = 1_700_000_000.0
    changes = []  # (capture second, type, event id)
    for second in range(100):
        response = client.post(
            f"/api/v1/detect/vehicles-detection?camera={vehicles_camera.public_id}"
            f"&timestamp={t0 + second}",
            data=image,
            content_type="image/jpeg",
            **key_a.headers,
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["detections"], "the photo's cars and buses are found"
        changes += [(second, e["type"], e["id"]) for e in body["events"]]

    opened = Counter(event for _, kind, event in changes if kind == "opened")
    assert opened and set(opened.values()) == {1}  # each vehicle once
    assert all(second < 3 for second, kind, _ in changes if kind == "opened")
    late = [(s, kind) for s, kind, _ in changes if s > STATIONARY_AFTER_S + 2]
    assert late == []  # stationary: no updates, no new events
    events = CameraEvent.objects.filter(camera=vehicles_camera)
    assert events.count() == len(opened)
    assert {e.close_reason for e in events} == {"stationary"}
