"""Camera frames through the tracking hook: rows, snapshots, deliveries and the idle sweep, with
the real database and Redis (the tracker's rules themselves are in test_tracking.py)."""

from __future__ import annotations

import time

import pytest

from apps.alerts import alerting, snapshots
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import CameraAlerting, CameraEvent, WebhookDelivery
from apps.alerts.sweeps import close_idle_cameras
from apps.alerts.track_store import IDLE_GRACE_S
from apps.alerts.webhooks.endpoints import EndpointFilters, create_endpoint
from apps.cameras.services import create_camera
from tests.apps.archive.conftest import PERSONS_JPEG

BOX = [100.0, 100.0, 200.0, 400.0]


@pytest.fixture(autouse=True)
def _webhooks_to_loopback(settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    alerting._settings_cache.clear()


@pytest.fixture
def camera_a(tenant_a):
    return create_camera(tenant_a, {"name": "driveway"})


def frame(camera, t: float, detections=None, image=PERSONS_JPEG) -> CameraFrame:
    if detections is None:
        detections = [{"label": "person", "score": 0.8, "box": BOX, "zones": ["porch"]}]
    return CameraFrame(camera.tenant_id, camera.pk, t, detections, image, 546, 819)


def visit(camera, start: float, frames: int = 6, step: float = 0.2) -> list[list[dict]]:
    return [track_camera_frame(frame(camera, start + i * step)) for i in range(frames)]


def test_a_visit_is_one_event_row_opened_then_closed(camera_a, archive):
    answers = visit(camera_a, 1000.0)
    assert answers[0] == [] and answers[1] == []  # not confirmed yet: 3 of 5 frames
    (opened,) = answers[2]
    assert opened["type"] == "opened" and opened["label"] == "person"
    assert {item["type"] for answer in answers[3:] for item in answer} == {"updated"}
    event = CameraEvent.objects.get()
    assert str(event.id) == opened["id"]
    assert event.tenant_id == camera_a.tenant_id and event.camera_id == camera_a.pk
    assert event.ended_at is None and event.zones == ["porch"]
    assert event.started_at.timestamp() == 1000.4

    (closed,) = track_camera_frame(frame(camera_a, 1010.0, detections=[]))
    assert closed == {**closed, "id": opened["id"], "type": "closed", "reason": "timeout"}
    event.refresh_from_db()
    assert event.ended_at.timestamp() == pytest.approx(1001.0)
    assert event.close_reason == "timeout"


def test_the_closed_event_stores_its_best_frame_in_the_archive_storage(camera_a, archive):
    visit(camera_a, 1000.0)
    track_camera_frame(frame(camera_a, 1010.0, detections=[]))
    event = CameraEvent.objects.get()
    assert snapshots.store_event_snapshot(str(event.id))
    event.refresh_from_db()
    assert event.snapshot_key.startswith(f"camera-events/{camera_a.tenant_id}/")
    assert archive.get(event.snapshot_key) == PERSONS_JPEG
    assert snapshots.read(str(event.id), event.snapshot_key) == PERSONS_JPEG
    assert snapshots.stashed(str(event.id)) is None  # moved, not copied


def test_late_frames_change_nothing(camera_a, archive):
    visit(camera_a, 1000.0)
    assert track_camera_frame(frame(camera_a, 990.0)) == []
    assert CameraEvent.objects.count() == 1


def test_events_can_be_switched_off_per_camera(camera_a, archive):
    CameraAlerting.objects.create(camera=camera_a, enabled=False)
    visit(camera_a, 1000.0)
    assert CameraEvent.objects.count() == 0


def test_the_idle_sweep_closes_events_of_a_camera_that_went_silent(camera_a, archive):
    visit(camera_a, 1000.0)
    assert close_idle_cameras(now=time.time()) == 0  # within the 3 s timeout
    # Past the timeout, but within the grace for frames still queued: left to them.
    assert close_idle_cameras(now=time.time() + IDLE_GRACE_S) == 0
    assert close_idle_cameras(now=time.time() + IDLE_GRACE_S + 5) == 1
    assert CameraEvent.objects.get().ended_at is not None


def test_event_changes_queue_deliveries_for_matching_endpoints(camera_a, tenant_b, archive):
    everything, _ = create_endpoint(camera_a.tenant, "http://127.0.0.1:9/all")
    started_only, _ = create_endpoint(
        camera_a.tenant,
        "http://127.0.0.1:9/started",
        filters=EndpointFilters([], [], [], ["event.started"]),
    )
    cars, _ = create_endpoint(
        camera_a.tenant, "http://127.0.0.1:9/cars", filters=EndpointFilters([], ["car"], [], [])
    )
    other_tenant, _ = create_endpoint(tenant_b, "http://127.0.0.1:9/b")
    visit(camera_a, 1000.0)
    track_camera_frame(frame(camera_a, 1010.0, detections=[]))
    sent = sorted(WebhookDelivery.objects.values_list("endpoint__url", "event_type"))
    assert sent == [
        (everything.url, "event.ended"),
        (everything.url, "event.started"),
        (started_only.url, "event.started"),
    ]
    payload = WebhookDelivery.objects.get(event_type="event.ended").payload
    assert payload["type"] == "event.ended"
    data = payload["data"]
    assert data["camera"] == camera_a.public_id and data["label"] == "person"
    assert data["ended_at"] and data["box"] == BOX and data["zones"] == ["porch"]
    assert "/snapshot?token=" in data["snapshot_url"]
    assert not cars.deliveries.exists() and not other_tenant.deliveries.exists()


def test_opened_and_closed_events_are_counted_on_metrics(client, camera_a, archive):
    visit(camera_a, 1000.0)
    track_camera_frame(frame(camera_a, 1010.0, detections=[]))
    text = client.get("/metrics").content.decode()
    assert 'ipcai_camera_events_total{change="opened"} 1.0' in text
    assert 'ipcai_camera_events_total{change="closed"} 1.0' in text
    assert 'ipcai_webhook_deliveries_total{outcome="succeeded"}' in text


def test_retention_removes_old_events_and_their_snapshots(camera_a, tenant_b, archive):
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts.retention import purge_expired_camera_events

    visit(camera_a, time.time() - 100)
    track_camera_frame(frame(camera_a, time.time() - 80, detections=[]))
    event = CameraEvent.objects.get()
    snapshots.store_event_snapshot(str(event.id))
    event.refresh_from_db()
    camera_a.tenant.services.update(retention_days=1)
    assert purge_expired_camera_events(now=timezone.now()) == 0  # not a day old yet
    assert purge_expired_camera_events(now=timezone.now() + timedelta(days=2)) == 1
    assert not CameraEvent.objects.exists()
    assert not archive.exists(event.snapshot_key)
    assert not archive.exists(event.snapshot_key.replace(".jpg", ".json"))


def test_a_service_that_keeps_events_forever_keeps_camera_events(camera_a, archive):
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts.retention import purge_expired_camera_events

    visit(camera_a, time.time() - 100)
    track_camera_frame(frame(camera_a, time.time() - 80, detections=[]))
    services = list(camera_a.tenant.services.all())
    services[0].retention_days = 0
    services[0].save()
    assert purge_expired_camera_events(now=timezone.now() + timedelta(days=400)) == 0
    assert CameraEvent.objects.count() == 1


def test_a_redis_outage_costs_the_frame_its_events_not_its_answer(camera_a, archive, settings):
    from harness.processes import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    assert track_camera_frame(frame(camera_a, 1000.0)) == []
    assert CameraEvent.objects.count() == 0


def test_events_whose_tracks_redis_lost_are_closed_by_the_sweep(camera_a, archive):
    from apps.alerts.sweeps import close_orphaned_events
    from apps.core.redis import get_redis, redis_key

    visit(camera_a, 1000.0)
    assert close_orphaned_events(older_than_s=0) == 0  # its track is alive: left alone
    get_redis().delete(redis_key("camtrack", camera_a.pk))  # Redis flushed, failed over...
    assert close_orphaned_events(older_than_s=0) == 1
    event = CameraEvent.objects.get()
    assert event.ended_at == event.best_at and event.close_reason == "timeout"
