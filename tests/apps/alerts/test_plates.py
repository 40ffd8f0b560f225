"""Licence plates on camera events: the vote across frames (pure), the frames hook with the real
database and Redis, watchlist marks and their plate.matched deliveries, retention."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import alerting, watchlists
from apps.alerts.alerting import update_alerting
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.alerts.models import CameraEvent, WebhookDelivery
from apps.alerts.payloads import event_item
from apps.alerts.plates import add_read, best_plate, one_off, plates_unneeded
from apps.alerts.retention import purge_expired_camera_events
from apps.alerts.webhooks.endpoints import EndpointFilters, create_endpoint
from apps.cameras.services import create_camera
from tests.apps.archive.conftest import PERSONS_JPEG

BOX = [100.0, 100.0, 300.0, 260.0]


@pytest.fixture(autouse=True)
def _webhooks_to_loopback(settings):
    settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    alerting._settings_cache.clear()


@pytest.fixture
def camera_a(tenant_a):
    return create_camera(tenant_a, {"name": "gate"})


def car(i: int, text: str | None, score: float = 0.8) -> dict:
    box = [BOX[0] + 3 * i, BOX[1], BOX[2] + 3 * i, BOX[3]]  # the car moves 3 px a frame
    plate = {"text": text, "score": score, "box": [150.0, 200.0, 210.0, 220.0]} if text else None
    return {"label": "car", "score": 0.9, "box": box, "zones": [], "plate": plate}


def drive_by(camera, reads: list[str | None], start: float = 1000.0) -> list[dict]:
    answers = []
    for i, text in enumerate(reads):
        frame = CameraFrame(
            camera.tenant_id, camera.pk, start + 0.2 * i, [car(i, text)], PERSONS_JPEG, 546, 819
        )
        answers += track_camera_frame(frame)
    track_camera_frame(CameraFrame(camera.tenant_id, camera.pk, start + 60, [], PERSONS_JPEG, 1, 1))
    return answers


def test_the_most_read_text_wins_and_agreement_raises_its_score():
    reads: dict[str, list[float]] = {}
    for text, score in [("7ABC123", 0.7), ("7ABC128", 0.9), ("7ABC123", 0.8), ("7ABC123", 0.6)]:
        reads = add_read(reads, text, score)
    text, score = best_plate(reads)
    assert text == "7ABC123"
    assert 0.8 < score < 1.0  # above its best read: three of four agree
    assert best_plate(add_read({}, "X1", 0.5)) == ("X1", 0.5)  # one read: its own score
    assert best_plate({}) == ("", 0.0)


def test_one_off_is_levenshtein_distance_at_most_one():
    assert one_off("7ABC123", "7ABC123")
    assert one_off("7ABC123", "7ABC128")  # changed
    assert one_off("7ABC123", "7ABC12")  # removed
    assert one_off("7ABC123", "7ABC1234")  # inserted
    assert not one_off("7ABC123", "7ABD128")
    assert not one_off("7ABC123", "7ABC1")


def test_a_vehicle_event_keeps_the_plate_its_frames_agree_on(camera_a, archive):
    reads = [None, "7ABC123", "7ABC128", "7abc-123", "7ABC123", None, "7ABC123"] * 3
    drive_by(camera_a, reads)
    event = CameraEvent.objects.get()
    assert event.plate_text == "7ABC123"
    assert event.plate_score > 0.8
    item = event_item(event)
    assert item["plate"] == {"text": "7ABC123", "score": round(event.plate_score, 4)}
    assert item["watchlists"] == []


def frame_of(camera, i: int, cars: list[dict]) -> CameraFrame:
    return CameraFrame(camera.tenant_id, camera.pk, 1000.0 + 0.2 * i, cars, PERSONS_JPEG, 546, 819)


def test_a_cameras_frames_need_no_read_once_its_vehicles_plate_was_read_alike_three_times(
    camera_a, archive
):
    assert plates_unneeded(camera_a.pk)  # no vehicle tracked: nothing to read for an event
    reads = [None, None, "7ABC123", "7ABC128", "7ABC123", None]
    track_camera_frame(frame_of(camera_a, 0, [car(0, None)]))
    assert not plates_unneeded(camera_a.pk)  # a car on its way to an event: read
    for i, text in enumerate(reads[1:], start=1):
        track_camera_frame(frame_of(camera_a, i, [car(i, text)]))
    assert not plates_unneeded(camera_a.pk)  # 7ABC123 read twice (7ABC128 is another text)
    track_camera_frame(frame_of(camera_a, 6, [car(6, "7ABC123")]))
    assert plates_unneeded(camera_a.pk)
    # A second car: read from its first sighting on, and while its event has no plate.
    other = {**car(0, None), "box": [400.0, 100.0, 600.0, 260.0]}
    track_camera_frame(frame_of(camera_a, 7, [car(7, None), other]))
    assert not plates_unneeded(camera_a.pk)
    for i in range(8, 11):
        track_camera_frame(frame_of(camera_a, i, [car(i, None), other]))
    assert CameraEvent.objects.filter(ended_at__isnull=True).count() == 2
    assert not plates_unneeded(camera_a.pk)


def test_persons_need_no_plate_read(camera_a, archive):
    person = {"label": "person", "score": 0.9, "box": BOX, "zones": [], "plate": None}
    for i in range(5):
        track_camera_frame(frame_of(camera_a, i, [person]))
    assert CameraEvent.objects.filter(label="person").exists()
    assert plates_unneeded(camera_a.pk)


def test_a_camera_without_vehicle_events_reads_every_frame(camera_a, archive):
    """Its events cannot carry a plate, so the client reads plates per frame: always read."""
    update_alerting(camera_a.pk, {"labels": ["person"]})
    assert not plates_unneeded(camera_a.pk)
    update_alerting(camera_a.pk, {"labels": [], "enabled": False})
    assert not plates_unneeded(camera_a.pk)
    update_alerting(camera_a.pk, {"enabled": True})
    assert plates_unneeded(camera_a.pk)


def test_an_event_without_reads_has_a_null_plate(camera_a, archive):
    drive_by(camera_a, [None] * 8)
    assert event_item(CameraEvent.objects.get())["plate"] is None


def test_a_watchlisted_plate_marks_the_event_and_queues_one_plate_matched_per_list(
    camera_a, tenant_b, archive
):
    endpoint, _ = create_endpoint(camera_a.tenant, "http://127.0.0.1:9/all")
    matched_only, _ = create_endpoint(
        camera_a.tenant,
        "http://127.0.0.1:9/plates",
        filters=EndpointFilters([], [], [], ["plate.matched"]),
    )
    other, _ = create_endpoint(tenant_b, "http://127.0.0.1:9/b")
    banned = watchlists.create_watchlist(camera_a.tenant_id, "banned")
    watchlists.add_entry(banned, "7ABC123")
    residents = watchlists.create_watchlist(camera_a.tenant_id, "residents")
    watchlists.add_entry(residents, "7ABC12X", fuzzy=True)  # one character off
    ignored = watchlists.create_watchlist(camera_a.tenant_id, "exact-only")
    watchlists.add_entry(ignored, "7ABC12X")  # one off but exact: no match
    foreign = watchlists.create_watchlist(tenant_b.pk, "banned")
    watchlists.add_entry(foreign, "7ABC123")

    drive_by(camera_a, ["7ABC123"] * 12)
    event = CameraEvent.objects.get()
    assert event.watchlists == ["banned", "residents"]
    matched = WebhookDelivery.objects.filter(event_type="plate.matched")
    assert sorted(matched.values_list("endpoint__url", "payload__data__watchlist")) == [
        (endpoint.url, "banned"),
        (endpoint.url, "residents"),
        (matched_only.url, "banned"),
        (matched_only.url, "residents"),
    ]
    payload = matched.filter(endpoint=endpoint).first().payload
    assert payload["type"] == "plate.matched"
    assert payload["data"]["plate"]["text"] == "7ABC123"
    assert not other.deliveries.exists()


def test_watchlist_input_is_checked():
    with pytest.raises(watchlists.WatchlistInvalid):
        watchlists.create_watchlist(1, "  ")


def test_plate_text_goes_with_its_event_at_the_tenants_retention(camera_a, archive):
    drive_by(camera_a, ["7ABC123"] * 8, start=time.time() - 100)
    assert CameraEvent.objects.filter(plate_text="7ABC123").count() == 1
    camera_a.tenant.services.update(retention_days=1)
    assert purge_expired_camera_events(now=timezone.now() + timedelta(days=2)) == 1
    assert not CameraEvent.objects.filter(plate_text="7ABC123").exists()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("plate=7ABC123", 1),
        ("plate=7abc-123", 1),  # case and separators ignored
        ("plate=7ABC128", 0),  # one off, exact asked
        ("plate=7ABC128&plate_match=fuzzy", 1),
        ("plate=7ABC12&plate_match=fuzzy", 1),
        ("plate=7ABD128&plate_match=fuzzy", 0),  # two off
        ("plate=--&plate_match=fuzzy", 0),
    ],
)
def test_the_plate_filter_finds_events_exactly_or_one_character_off(
    client, key_a, camera_a, archive, query, found
):
    drive_by(camera_a, ["7ABC123"] * 6)
    drive_by(camera_a, ["9XYZ555"] * 6, start=2000.0)  # another vehicle, another event
    response = client.get(f"/api/v1/camera-events?{query}", **key_a.headers)
    assert response.status_code == 200
    assert len(response.json()["results"]) == found


def test_a_bad_plate_match_is_a_clear_400(client, key_a):
    response = client.get("/api/v1/camera-events?plate=X&plate_match=near", **key_a.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_another_tenant_finds_no_event_by_plate(client, key_b, camera_a, archive):
    drive_by(camera_a, ["7ABC123"] * 6)
    for query in ("plate=7ABC123", "plate=7ABC123&plate_match=fuzzy"):
        response = client.get(f"/api/v1/camera-events?{query}", **key_b.headers)
        assert response.status_code == 200 and response.json()["results"] == []
