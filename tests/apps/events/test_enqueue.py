"""What the detection flow hands to the archive, and when it hands nothing.

Celery runs eagerly under the test settings, so these check the enqueue decision and the
message end to end in-process; the broker itself (down, back, duplicated deliveries) is
exercised with real processes in test_archiving_acceptance.py.
"""

from __future__ import annotations

import json

import pytest

from apps.events.enqueue import archive_request_event
from apps.events.models import ArchivedEvent
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from tests.apps.events.conftest import PERSONS_JPEG, SEED_RESPONSE, archive_files, make_tenant

pytestmark = pytest.mark.django_db


def test_services_that_do_not_save_events_archive_nothing(archive):
    owner = make_tenant("quiet", ApplicationType.PERSONS, save_events=False)
    event_id = archive_request_event(
        grant=resolve_key(owner.raw_key),
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )
    assert event_id is None
    assert archive_files(archive.root) == []
    assert not ArchivedEvent.objects.exists()


def test_a_saving_service_archives_image_and_record_with_request_metadata(alice, archive):
    event_id = archive_request_event(
        grant=resolve_key(alice.raw_key),
        application_type=ApplicationType.PETS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
        request_id=1242322,
        portal_request_id="a" * 32,
        model="yolox_nano",
        timings={"total": 15.0},
    )
    event = ArchivedEvent.objects.get(pk=event_id)
    assert (event.tenant_id, event.application_type) == (alice.tenant.pk, "pets-detection")
    assert (event.request_id, event.portal_request_id, event.api_key_id) == (
        "1242322",
        "a" * 32,
        alice.key.pk,
    )
    assert archive.get(event.image_key) == PERSONS_JPEG
    assert json.loads(archive.get(event.record_key))["timings"] == {"total": 15.0}


def test_bytes_that_are_not_an_image_are_not_archived_as_one(alice, archive):
    event_id = archive_request_event(
        grant=resolve_key(alice.raw_key),
        application_type=ApplicationType.PERSONS,
        image=b"<html>definitely not a picture</html>",
        response=SEED_RESPONSE,
    )
    [only_file] = archive_files(archive.root)
    assert only_file.endswith(f"{event_id}.json")
    assert ArchivedEvent.objects.get(pk=event_id).image_key == ""
