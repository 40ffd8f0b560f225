"""Signed snapshot links are their own permission: fetching one is no failed sign-in
(security review, issue 31, Medium 1). Key-less requests count against the client address;
a webhook receiver opening its links, or cameras behind the same NAT, must not be refused
for that."""

from __future__ import annotations

import pytest

from apps.alerts import alerting, snapshots
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.cameras.services import create_camera
from tests.apps.archive.conftest import PERSONS_JPEG

BOX = [100.0, 100.0, 200.0, 400.0]
LIMIT = 5


@pytest.fixture(autouse=True)
def _small_failure_limit(settings):
    settings.IPCAI_AUTH_FAILURE_LIMIT = LIMIT
    alerting._settings_cache.clear()


@pytest.fixture
def event_id(tenant_a, archive) -> str:
    camera = create_camera(tenant_a, {"name": "porch"})
    answer: list[dict] = []
    for i in range(3):
        detections = [{"label": "person", "score": 0.8, "box": BOX, "zones": []}]
        answer = track_camera_frame(
            CameraFrame(tenant_a.pk, camera.pk, 1000 + i * 0.2, detections, PERSONS_JPEG, 546, 819)
        )
    return answer[0]["id"]


def test_opening_a_signed_link_many_times_counts_no_failed_sign_in(client, event_id):
    link = snapshots.signed_path(event_id)
    for _ in range(LIMIT * 3):
        opened = client.get(link)
        assert opened.status_code == 200 and opened.content == PERSONS_JPEG
    # The address is not blocked: a key-less API call still gets 401, not 429.
    assert client.get("/api/v1/camera-events").status_code == 401


def test_a_signed_link_opens_from_an_address_blocked_for_bad_keys(client, event_id):
    for _ in range(LIMIT):
        client.get("/api/v1/camera-events", HTTP_X_API_KEY="ipcai_000000000000_wrong")
    assert client.get("/api/v1/camera-events").status_code == 429
    assert client.get(snapshots.signed_path(event_id)).status_code == 200


def test_bad_tokens_still_count_as_failures(client, event_id):
    url = f"/api/v1/camera-events/{event_id}/snapshot?token=forged"
    for _ in range(LIMIT):
        assert client.get(url).status_code == 404
    assert client.get(url).status_code == 429


def test_a_suspended_tenants_links_stop_working(client, event_id, tenant_a):
    link = snapshots.signed_path(event_id)
    assert client.get(link).status_code == 200
    tenant_a.active = False
    tenant_a.save(update_fields=["active"])
    assert client.get(link).status_code == 404
