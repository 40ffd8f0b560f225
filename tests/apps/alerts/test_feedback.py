"""False-alarm feedback through the API with the real worker and model: a false alarm teaches
the camera (no new event for that object at that spot), a real object still opens one,
removing the learned area restores events; the trio on every route; precision and the
suggested settings with their numbers, applied with one call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from apps.alerts import alerting
from apps.alerts.feedback import learned_areas
from apps.alerts.feedback.learned_areas import Area, holding_area
from apps.alerts.feedback.models import EventVerdict, LearnedArea
from apps.alerts.models import CameraEvent
from apps.alerts.tracking import Detection
from apps.cameras.models import Camera
from apps.cameras.services import create_camera
from apps.core.grants import SCOPE_EVENTS_READ
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service, issue_api_key
from harness.images import seed_image

T0 = 1_700_000_000.0
FORGET_S = 1000.0  # past the tracker's memory of parked cars (stationary_forget_s, 600 s)


def call(client, method, path, key, body=None):
    kwargs = {"HTTP_X_API_KEY": key}
    if body is not None:
        kwargs.update(data=orjson.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


@pytest.fixture(autouse=True)
def _fresh_caches():
    alerting._settings_cache.clear()
    learned_areas._cache.clear()


@pytest.fixture
def street(tenant_a, archive):
    enable_service(tenant_a, ApplicationType.VEHICLES)
    return create_camera(
        tenant_a,
        {"name": "street", "services": [ApplicationType.VEHICLES, ApplicationType.PERSONS]},
    )


def send(client, key, camera, service: str, image: bytes, t: float) -> list[dict]:
    response = client.post(
        f"/api/v1/detect/{service}?camera={camera.public_id}&timestamp={t}",
        data=image,
        content_type="image/jpeg",
        **key.headers,
    )
    assert response.status_code == 200, response.content
    return response.json()["events"]


def send_vehicles(client, key, camera, start: float, times: int = 40) -> list[dict]:
    image = seed_image("vehicles")
    opened = []
    for second in range(times):
        events = send(client, key, camera, "vehicles-detection", image, start + second)
        opened += [e for e in events if e["type"] == "opened"]
    return opened


def test_a_false_alarm_teaches_the_camera_and_removing_the_area_restores_it(
    client, inference, key_a, street
):
    first = send_vehicles(client, key_a, street, T0)
    cars = [e for e in first if e["label"] == "car"]
    assert cars, first
    wrong = cars[0]
    answer = call(
        client,
        "post",
        f"/api/v1/camera-events/{wrong['id']}/feedback",
        key_a.raw,
        {"verdict": "false_alarm", "note": "a poster of a car"},
    )
    assert answer.status_code == 200, answer.content
    area = answer.json()["learned_area"]
    assert area["label"] == "car" and area["box"] == pytest.approx(wrong["box"], abs=1)

    # The same photo again, long after: every vehicle but that car opens an event again.
    again = send_vehicles(client, key_a, street, T0 + FORGET_S)
    assert len(again) == len(first) - 1
    assert all(e["box"] != pytest.approx(wrong["box"], abs=2) for e in again)
    listed = call(client, "get", f"/api/v1/cameras/{street.public_id}/learned-areas", key_a.raw)
    (shown,) = listed.json()["areas"]
    assert shown["held_back"] >= 40  # that car in each of the 40 frames

    # A person in front of the same camera still opens an event.
    person = seed_image("persons")
    opened = []
    for second in range(5):
        events = send(
            client, key_a, street, "persons-detection", person, T0 + FORGET_S + 100 + second
        )
        opened += [e for e in events if e["type"] == "opened"]
    assert opened and {e["label"] for e in opened} == {"person"}

    # Removing the learned area: the car opens an event again.
    removed = call(
        client,
        "delete",
        f"/api/v1/cameras/{street.public_id}/learned-areas/{area['id']}",
        key_a.raw,
    )
    assert removed.status_code == 204
    restored = send_vehicles(client, key_a, street, T0 + 2 * FORGET_S)
    assert len(restored) == len(first)


def test_a_real_object_at_a_learned_spot_still_counts():
    area = Area(1, "car", (100.0, 100.0, 300.0, 200.0), 0.62)
    assert holding_area([area], Detection("car", 0.62, (102.0, 101.0, 301.0, 199.0)))
    assert holding_area([area], Detection("car", 0.64, (102.0, 101.0, 301.0, 199.0)))
    # a person walking through the spot; a car scoring clearly higher; a car beside it
    assert not holding_area([area], Detection("person", 0.5, (100.0, 100.0, 300.0, 200.0)))
    assert not holding_area([area], Detection("car", 0.9, (100.0, 100.0, 300.0, 200.0)))
    assert not holding_area([area], Detection("car", 0.5, (250.0, 100.0, 450.0, 200.0)))


def make_event(camera: Camera, label: str, score: float, box=(0, 0, 100, 100)) -> CameraEvent:
    return CameraEvent.objects.create(
        id=uuid.uuid4(),
        tenant_id=camera.tenant_id,
        camera=camera,
        label=label,
        started_at=datetime.now(UTC),
        max_score=score,
        box=list(box),
        frame_width=1000,
        frame_height=1000,
    )


def test_feedback_on_another_tenants_event_is_404_and_needs_the_manage_scope(
    client, tenant_a, key_a, key_b
):
    camera = create_camera(tenant_a, {"name": "porch"})
    event = make_event(camera, "person", 0.7)
    path = f"/api/v1/camera-events/{event.id}/feedback"
    assert call(client, "post", path, key_b.raw, {"verdict": "confirmed"}).status_code == 404
    _, reader = issue_api_key(tenant_a, name="reader", scopes=[SCOPE_EVENTS_READ])
    refused = call(client, "post", path, reader, {"verdict": "confirmed"})
    assert refused.status_code == 403
    assert call(client, "get", path, reader).json()["error"]["code"] == "feedback_not_found"
    assert call(client, "post", path, key_a.raw, {"verdict": "confirmed"}).status_code == 200
    assert EventVerdict.objects.get(event=event).verdict == "confirmed"
    assert call(client, "get", path, reader).json()["verdict"] == "confirmed"
    assert call(client, "get", path, key_b.raw).status_code == 404
    base = f"/api/v1/cameras/{camera.public_id}"
    for route in ("/learned-areas", "/feedback-quality"):
        assert call(client, "get", base + route, key_b.raw).status_code == 404
        assert call(client, "get", base + route, reader).status_code == 200
    apply = {"setting": "threshold", "label": "person"}
    assert (
        call(client, "post", base + "/feedback-quality/apply", key_b.raw, apply).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"verdict": "maybe"}, "verdict"),
        ({}, "verdict"),
        ({"verdict": "confirmed", "note": 5}, "note"),
    ],
)
def test_bad_feedback_is_a_clear_400(client, tenant_a, key_a, body, field):
    event = make_event(create_camera(tenant_a, {"name": "porch"}), "person", 0.7)
    answer = call(client, "post", f"/api/v1/camera-events/{event.id}/feedback", key_a.raw, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_feedback"
    assert field in answer.json()["error"]["message"]


def test_confirming_a_former_false_alarm_forgets_its_area(client, tenant_a, key_a):
    event = make_event(create_camera(tenant_a, {"name": "porch"}), "person", 0.7)
    path = f"/api/v1/camera-events/{event.id}/feedback"
    call(client, "post", path, key_a.raw, {"verdict": "false_alarm"})
    assert LearnedArea.objects.count() == 1
    answer = call(client, "post", path, key_a.raw, {"verdict": "confirmed"}).json()
    assert answer["learned_area"] is None and LearnedArea.objects.count() == 0
    assert EventVerdict.objects.count() == 1


def test_precision_and_suggestions_show_their_numbers_and_apply_in_one_call(
    client, tenant_a, key_a
):
    camera = create_camera(tenant_a, {"name": "yard"})
    for score in (0.9, 0.85, 0.8, 0.7):
        event = make_event(camera, "person", score, box=(0, 0, 300, 300))  # 9 % of the frame
        call(
            client,
            "post",
            f"/api/v1/camera-events/{event.id}/feedback",
            key_a.raw,
            {"verdict": "confirmed"},
        )
    for score in (0.55, 0.6, 0.75):
        event = make_event(camera, "person", score, box=(0, 0, 50, 50))  # 0.25 %
        call(
            client,
            "post",
            f"/api/v1/camera-events/{event.id}/feedback",
            key_a.raw,
            {"verdict": "false_alarm"},
        )
    base = f"/api/v1/cameras/{camera.public_id}/feedback-quality"
    quality = call(client, "get", base, key_a.raw).json()
    (person,) = quality["classes"]
    assert (person["confirmed"], person["false_alarms"], person["precision"]) == (4, 3, 0.571)
    threshold = person["suggested_threshold"]
    assert threshold["value"] == 0.7  # keeps all 4 confirmed, drops the 0.55 and 0.6 ones
    assert (threshold["keeps_confirmed"], threshold["drops_false_alarms"]) == (4, 2)
    assert threshold["precision_after"] == 0.8
    size = quality["suggested_min_size"]
    assert size["value"] == 0.09 and size["drops_false_alarms"] == 3
    applied = call(
        client, "post", base + "/apply", key_a.raw, {"setting": "threshold", "label": "person"}
    )
    assert applied.status_code == 200 and applied.json()["class_thresholds"] == {"person": 0.7}
    applied = call(client, "post", base + "/apply", key_a.raw, {"setting": "min_size"})
    assert applied.json()["min_box_area"] == 0.09
    refused = call(
        client, "post", base + "/apply", key_a.raw, {"setting": "threshold", "label": "cat"}
    )
    assert refused.status_code == 400


def test_camera_event_answers_carry_the_verdict_without_a_query_per_event(
    client, tenant_a, key_a, key_b
):
    """GET /camera-events and /<id> say each event's verdict (null when none): a client
    listing its alerts sees which were marked, in the one query that lists them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    camera = create_camera(tenant_a, {"name": "porch"})
    false_alarm, confirmed, unjudged = (make_event(camera, "person", 0.7) for _ in range(3))
    for event, verdict in ((false_alarm, "false_alarm"), (confirmed, "confirmed")):
        path = f"/api/v1/camera-events/{event.id}/feedback"
        assert call(client, "post", path, key_a.raw, {"verdict": verdict}).status_code == 200

    def listed() -> tuple[dict[str, str | None], int]:
        with CaptureQueriesContext(connection) as queries:
            answer = call(client, "get", "/api/v1/camera-events", key_a.raw)
        assert answer.status_code == 200
        return {item["id"]: item["verdict"] for item in answer.json()["results"]}, len(queries)

    verdicts, queries_for_three = listed()
    assert verdicts == {
        str(false_alarm.id): "false_alarm",
        str(confirmed.id): "confirmed",
        str(unjudged.id): None,
    }
    for _ in range(3):
        call(
            client,
            "post",
            f"/api/v1/camera-events/{make_event(camera, 'person', 0.6).id}/feedback",
            key_a.raw,
            {"verdict": "confirmed"},
        )
    verdicts, queries_for_six = listed()
    assert len(verdicts) == 6 and queries_for_six == queries_for_three

    detail = call(client, "get", f"/api/v1/camera-events/{false_alarm.id}", key_a.raw).json()
    assert detail["verdict"] == "false_alarm"
    assert (
        call(client, "get", f"/api/v1/camera-events/{unjudged.id}", key_a.raw).json()["verdict"]
        is None
    )
    assert (
        call(client, "get", f"/api/v1/camera-events/{false_alarm.id}", key_b.raw).status_code == 404
    )
    assert call(client, "get", "/api/v1/camera-events", key_b.raw).json()["results"] == []


def test_the_schema_documents_the_event_verdict():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    verdict = schema["components"]["schemas"]["CameraEvent"]["properties"]["verdict"]
    assert verdict.get("nullable") or any(
        option.get("type") == "null" or "NullEnum" in option.get("$ref", "")
        for option in verdict.get("oneOf", [])
    ), verdict
