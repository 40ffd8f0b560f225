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


def test_a_deepstack_call_archives_its_answer_once_per_service(client, archiving, key_a, pets_jpg):
    answer = client.post(
        "/v1/vision/detection", {"image": SimpleUploadedFile("p.jpg", pets_jpg)}, **key_a.headers
    )
    assert answer.status_code == 200

    stored = archived_responses(client, key_a)
    assert stored == [answer.json(), answer.json()]  # one event per service it ran
    # The dashboard draws an archived DeepStack answer's boxes like any other.
    assert [d["label"] for d in detections_in(stored[0])] == ["dog"] * 3
    assert len(tenant_events(archiving.pk)) == 2
