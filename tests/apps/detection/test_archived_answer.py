"""The archived record of a request holds the answer the client received, byte for byte the
same JSON, for each request style: a camera's archive is worth reusing only if it shows what
the camera was told (not the worker's internal, seed-shaped answer)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.archive.listing import tenant_events
from apps.archive.thumbnails import detections_in
from apps.tenants.services import enable_service
from tests.apps.detection.conftest import seed_body


@pytest.fixture
def archiving(settings, tmp_path, inference, tenant_a):
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'archive'}"
    settings.IPCAI_EVENT_SPOOL_DIR = tmp_path / "spool"
    for service in ("persons-detection", "pets-detection"):
        enable_service(tenant_a, service, save_request_events=True)
    return tenant_a


def archived_responses(client, key) -> list[dict]:
    """The stored response of each archived event, as the events API hands it out."""
    events = client.get("/api/v1/events", **key.headers).json()["results"]
    return [
        client.get(f"/api/v1/events/{e['id']}", **key.headers).json()["response"] for e in events
    ]


def test_a_native_requests_archive_is_the_answer_returned(client, archiving, key_a, pets_jpg):
    answer = client.post(
        "/api/v1/detect/pets-detection", data=pets_jpg, content_type="image/jpeg", **key_a.headers
    )
    assert answer.status_code == 200

    (stored,) = archived_responses(client, key_a)
    assert stored == answer.json()
    assert [d["label"] for d in stored["detections"]] == ["dog"] * 3


def test_a_seed_requests_archive_is_the_answer_returned(client, archiving, key_a, pets_jpg):
    answer = client.post(
        "/inference",
        seed_body(pets_jpg, application_type="pets-detection"),
        content_type="application/json",
        **key_a.headers,
    )
    assert answer.status_code == 200

    (stored,) = archived_responses(client, key_a)
    assert stored == answer.json()


def test_a_deepstack_call_archives_each_services_part_with_model_and_request_id(
    client, archiving, key_a, vehicles_jpg
):
    """A DeepStack call runs every enabled service at once; each service's record holds the
    answer's predictions of its own classes (no buses under persons), the worker's model,
    the request id the client was given and all the services the call ran."""
    enable_service(archiving, "vehicles-detection", save_request_events=True)
    answer = client.post(
        "/v1/vision/detection",
        {"image": SimpleUploadedFile("v.jpg", vehicles_jpg)},
        **key_a.headers,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert {p["label"] for p in body["predictions"]} >= {"bus", "car"}

    events = client.get("/api/v1/events", **key_a.headers).json()["results"]
    details = {
        e["service"]: client.get(f"/api/v1/events/{e['id']}", **key_a.headers).json()
        for e in events
    }
    assert set(details) == {"persons-detection", "vehicles-detection", "pets-detection"}
    persons, vehicles = details["persons-detection"], details["vehicles-detection"]
    assert persons["response"]["predictions"] == []  # not "Persons: 10 objects" of buses
    assert persons["response"]["count"] == 0
    assert persons["response"]["message"] == "No objects found"
    assert details["pets-detection"]["response"]["predictions"] == []
    assert vehicles["response"]["predictions"] == body["predictions"]
    for detail in details.values():
        assert detail["model"], detail
        assert detail["request_id"] == body["requestId"] == answer["X-Request-Id"]
        assert sorted(detail["services"]) == sorted(details)
        assert detail["detection_count"] == len(detail["response"]["predictions"])
    # The dashboard draws an archived DeepStack answer's boxes like any other.
    assert {d["label"] for d in detections_in(vehicles["response"])} >= {"bus", "car"}
    assert len(tenant_events(archiving.pk)) == 3
