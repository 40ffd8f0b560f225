"""The events API as a camera owner sees it: their own events only, filtered, paginated,
downloadable; everything of another tenant is a 404 indistinguishable from a missing id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from apps.tenants.application_types import ApplicationType
from apps.tenants.services import revoke_api_key, set_tenant_active
from tests.apps.archive.conftest import PERSONS_JPEG, archived

pytestmark = pytest.mark.django_db

DAY = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def listed_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["results"]]


def test_listing_shows_only_the_keys_tenant_newest_first(client, archiving_a, archiving_b, archive):
    older = archived(archiving_a, archive, received_at=DAY - timedelta(hours=1))
    newer = archived(archiving_a, archive, received_at=DAY)
    archived(archiving_b, archive, received_at=DAY)

    response = client.get("/api/v1/events", **archiving_a.headers())

    assert listed_ids(response) == [newer, older]
    first = response.json()["results"][0]
    assert first["service"] == "persons-detection"
    assert first["request_id"] == "1242322"
    assert first["detection_count"] == 2
    assert first["image"]["content_type"] == "image/jpeg"
    assert first["image"]["size"] == len(PERSONS_JPEG)


def test_listing_filters_by_service_and_utc_day(client, archiving_a, archive):
    persons_today = archived(archiving_a, archive, received_at=DAY)
    pets_today = archived(
        archiving_a, archive, application_type=ApplicationType.PETS, received_at=DAY
    )
    archived(archiving_a, archive, received_at=DAY - timedelta(days=1))

    by_service = client.get("/api/v1/events?service=pets-detection", **archiving_a.headers())
    assert listed_ids(by_service) == [pets_today]
    by_day = client.get(
        "/api/v1/events?date=2025-06-07&service=persons-detection", **archiving_a.headers()
    )
    assert listed_ids(by_day) == [persons_today]
    since = client.get(
        "/api/v1/events", {"since": (DAY - timedelta(hours=2)).isoformat()}, **archiving_a.headers()
    )
    assert set(listed_ids(since)) == {persons_today, pets_today}


def test_listing_pages_with_a_cursor_and_loses_nothing(client, archiving_a, archive):
    created = {
        archived(archiving_a, archive, received_at=DAY - timedelta(minutes=i)) for i in range(7)
    }
    seen: list[str] = []
    url = "/api/v1/events?limit=3"
    pages = 0
    while url:
        response = client.get(url, **archiving_a.headers())
        seen += listed_ids(response)
        url = response.json()["next"]
        pages += 1
    assert pages == 3
    assert len(seen) == 7
    assert set(seen) == created


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("service=cats-detection", "service"),
        ("date=yesterday", "date"),
        ("since=not-a-time", "since"),
    ],
)
def test_bad_filters_are_a_json_400(client, archiving_a, query, field):
    response = client.get(f"/api/v1/events?{query}", **archiving_a.headers())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_query"
    assert error["message"].startswith(field)


def test_a_tampered_cursor_is_a_json_400(client, archiving_a):
    response = client.get("/api/v1/events?cursor=garbage", **archiving_a.headers())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_detail_returns_the_stored_response(client, archiving_a, archive):
    event_id = archived(archiving_a, archive, received_at=DAY)
    response = client.get(f"/api/v1/events/{event_id}", **archiving_a.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["response"]["class_names"] == [["person"], ["person"]]
    assert body["timings"] == {"infer": 12.5}
    assert body["received_at"] == "2025-06-07T12:00:00Z"


def test_image_download_returns_the_exact_bytes_sent(client, archiving_a, archive):
    event_id = archived(archiving_a, archive)
    response = client.get(f"/api/v1/events/{event_id}/image", **archiving_a.headers())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == f'attachment; filename="{event_id}.jpg"'
    assert response.content == PERSONS_JPEG


def test_event_urls_in_the_listing_lead_to_the_event(client, archiving_a, archive):
    archived(archiving_a, archive)
    [event] = client.get("/api/v1/events", **archiving_a.headers()).json()["results"]
    assert client.get(event["url"], **archiving_a.headers()).status_code == 200
    assert client.get(event["image"]["url"], **archiving_a.headers()).content == PERSONS_JPEG


def test_an_event_without_image_has_no_download(client, archiving_a, archive):
    event_id = archived(archiving_a, archive, image=b"plain text, not an image")
    assert client.get(f"/api/v1/events/{event_id}", **archiving_a.headers()).json()["image"] is None
    response = client.get(f"/api/v1/events/{event_id}/image", **archiving_a.headers())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "image_not_found"


@pytest.mark.parametrize("suffix", ["", "/image"])
def test_another_tenants_event_is_not_found(client, archiving_a, archiving_b, archive, suffix):
    event_id = archived(archiving_a, archive)
    stolen = client.get(f"/api/v1/events/{event_id}{suffix}", **archiving_b.headers())
    missing = client.get(f"/api/v1/events/{uuid.uuid4().hex}{suffix}", **archiving_b.headers())
    malformed = client.get(f"/api/v1/events/not-a-uuid{suffix}", **archiving_b.headers())
    for response in (stolen, missing, malformed):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "event_not_found"
    assert stolen.json() == missing.json()
    traversal = client.get(
        f"/api/v1/events/..%2F..%2Fetc%2Fpasswd{suffix}", **archiving_b.headers()
    )
    assert traversal.status_code == 404
    assert "error" in traversal.json()


def test_no_key_bad_key_and_revoked_key_are_401(client, archiving_a, archive):
    archived(archiving_a, archive)
    assert client.get("/api/v1/events").status_code == 401
    bad = client.get("/api/v1/events", HTTP_X_API_KEY="ipcai_000000000000_nope")
    assert bad.status_code == 401
    revoke_api_key(archiving_a.key)
    revoked = client.get("/api/v1/events", **archiving_a.headers())
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "revoked_api_key"


def test_an_inactive_tenant_is_refused(client, archiving_a, archive):
    set_tenant_active(archiving_a.tenant, False)
    response = client.get("/api/v1/events", **archiving_a.headers())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_inactive"


def test_storage_trouble_is_a_json_503(client, archiving_a, archive, settings, tmp_path):
    event_id = archived(archiving_a, archive)
    settings.IPCAI_ARCHIVE_URL = f"file://{tmp_path / 'an-empty-folder'}"
    response = client.get(f"/api/v1/events/{event_id}", **archiving_a.headers())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "archive_unavailable"
