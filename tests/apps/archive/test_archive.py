"""Storing events is create-once and resumable; retention removes only what has expired."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.archive.models import ArchivedEvent
from apps.archive.records import RequestEvent
from apps.archive.store import purge_expired_events, store_event
from apps.tenants.application_types import ApplicationType
from apps.tenants.services import enable_service
from tests.apps.archive.conftest import PERSONS_JPEG, archive_files, archived, event_message

pytestmark = pytest.mark.django_db


def test_event_is_stored_as_image_plus_json_record_under_the_dated_key(archiving_a, archive):
    received = datetime(2025, 6, 7, 8, 9, tzinfo=UTC)
    message = event_message(archiving_a, received_at=received)
    outcome = store_event(message, archive)

    stem = f"alpha/persons-detection/2025/06/07/{message['event_id']}"
    # The image, its record and the thumbnail the events page shows (apps/archive/thumbnails.py).
    assert archive_files(archive.root) == [f"{stem}.jpg", f"{stem}.json", f"{stem}.thumb.jpg"]
    assert archive.get(f"{stem}.jpg") == PERSONS_JPEG
    record = json.loads(archive.get(f"{stem}.json"))
    assert record["tenant"] == "alpha"
    assert record["application_type"] == "persons-detection"
    assert record["request_id"] == "1242322"
    assert record["api_key_id"] == archiving_a.key.pk
    assert record["received_at"] == "2025-06-07T08:09:00+00:00"
    assert record["model"] == "yolox_nano"
    assert record["response"]["class_names"] == [["person"], ["person"]]
    assert record["image"] == {
        "key": f"{stem}.jpg",
        "content_type": "image/jpeg",
        "size": len(PERSONS_JPEG),
    }
    assert (outcome.objects_written, outcome.indexed) == (3, True)
    row = ArchivedEvent.objects.get(pk=message["event_id"])
    assert (row.detection_count, row.image_size, row.tenant_id) == (
        2,
        len(PERSONS_JPEG),
        archiving_a.tenant.pk,
    )


def test_running_the_same_task_twice_leaves_one_copy(archiving_a, archive):
    message = event_message(archiving_a)
    store_event(message, archive)
    files_before = {name: archive.get(name) for name in archive_files(archive.root)}

    again = store_event(message, archive)

    assert again.objects_written == 0
    assert {name: archive.get(name) for name in archive_files(archive.root)} == files_before
    assert ArchivedEvent.objects.count() == 1


def test_a_task_that_died_half_way_writes_only_what_is_missing(archiving_a, archive):
    message = event_message(archiving_a)
    event = RequestEvent.from_message(message)
    archive.put_once(event.image_key, event.image, "image/jpeg")  # the first attempt got this far

    outcome = store_event(message, archive)

    assert outcome.objects_written == 2  # the thumbnail and the record
    assert archive.exists(event.record_key)
    assert ArchivedEvent.objects.filter(pk=event.event_id).exists()


def test_an_event_without_a_recognised_image_keeps_only_its_record(archiving_a, archive):
    message = event_message(archiving_a, image=b"this is not an image")
    store_event(message, archive)
    [record_name] = archive_files(archive.root)
    assert record_name.endswith(".json")
    assert json.loads(archive.get(record_name))["image"] is None
    assert ArchivedEvent.objects.get().has_image is False


def test_same_camera_request_id_from_two_cameras_never_collides(archiving_a, archive):
    first = archived(archiving_a, archive, request_id="7")
    second = archived(archiving_a, archive, request_id="7")
    assert first != second
    assert len(archive_files(archive.root)) == 6  # image, record and thumbnail each
    assert ArchivedEvent.objects.filter(request_id="7").count() == 2


def test_retention_removes_expired_events_objects_and_rows(archiving_a, archiving_b, archive):
    now = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
    enable_service(archiving_a.tenant, ApplicationType.PERSONS, retention_days=7)
    enable_service(archiving_a.tenant, ApplicationType.PETS, retention_days=60)
    expired = archived(archiving_a, archive, received_at=now - timedelta(days=8))
    kept = archived(archiving_a, archive, received_at=now - timedelta(days=6))
    other_service = archived(
        archiving_a,
        archive,
        application_type=ApplicationType.PETS,
        received_at=now - timedelta(days=30),
    )
    other_tenant = archived(
        archiving_b, archive, received_at=now - timedelta(days=20)
    )  # 30-day default

    assert purge_expired_events(now=now, storage=archive) == 1

    assert set(ArchivedEvent.objects.values_list("id", flat=True)) == {
        *(uuid.UUID(e) for e in (kept, other_service, other_tenant))
    }
    assert not any(expired in name for name in archive_files(archive.root))
    assert len(archive_files(archive.root)) == 9  # image, record and thumbnail each


def test_retention_zero_keeps_events(archiving_a, archive):
    enable_service(archiving_a.tenant, ApplicationType.PERSONS, retention_days=0)
    archived(archiving_a, archive, received_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert purge_expired_events(storage=archive) == 0
    assert ArchivedEvent.objects.count() == 1
