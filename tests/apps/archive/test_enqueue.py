"""What the detection flow hands to the archive, and when it hands nothing.

Celery runs eagerly under the test settings, so these check the enqueue decision and the
message end to end in-process; Redis and Celery themselves (down, back, killed) are exercised
with real processes in test_archiving_acceptance.py and test_faults.py.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from celery.signals import worker_ready
from django.core.management import CommandError, call_command

from apps.archive import tasks as worker_tasks  # a Celery worker imports it (autodiscovery)
from apps.archive.enqueue import archive_request_event
from apps.archive.models import ArchivedEvent
from apps.core.spool import get_spool
from apps.core.spool_replay import replayer as _replayer
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from tests.apps.archive.conftest import (
    PERSONS_JPEG,
    SEED_RESPONSE,
    archive_files,
    event_message,
)

pytestmark = pytest.mark.django_db


def test_services_that_do_not_save_events_archive_nothing(archive, key_b):
    # Tenant B as created: archiving is off by default.
    event_id = archive_request_event(
        grant=resolve_key(key_b.raw),
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )
    assert event_id is None
    assert archive_files(archive.root) == []
    assert not ArchivedEvent.objects.exists()


def test_a_saving_service_archives_image_and_record_with_request_metadata(archiving_a, archive):
    event_id = archive_request_event(
        grant=resolve_key(archiving_a.raw_key),
        application_type=ApplicationType.PETS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
        request_id=1242322,
        portal_request_id="a" * 32,
        model="yolox_nano",
        timings={"total": 15.0},
    )
    event = ArchivedEvent.objects.get(pk=event_id)
    assert (event.tenant_id, event.application_type) == (archiving_a.tenant.pk, "pets-detection")
    assert (event.request_id, event.portal_request_id, event.api_key_id) == (
        "1242322",
        "a" * 32,
        archiving_a.key.pk,
    )
    assert archive.get(event.image_key) == PERSONS_JPEG
    assert json.loads(archive.get(event.record_key))["timings"] == {"total": 15.0}


def test_bytes_that_are_not_an_image_are_not_archived_as_one(archiving_a, archive):
    event_id = archive_request_event(
        grant=resolve_key(archiving_a.raw_key),
        application_type=ApplicationType.PERSONS,
        image=b"<html>definitely not a picture</html>",
        response=SEED_RESPONSE,
    )
    [only_file] = archive_files(archive.root)
    assert only_file.endswith(f"{event_id}.json")
    assert ArchivedEvent.objects.get(pk=event_id).image_key == ""


def spool_an_event(owner) -> str:
    """What a portal process leaves behind when the broker was down: one spool file."""
    message = event_message(owner)
    get_spool().put(message["event_id"], json.dumps(message).encode())
    return message["event_id"]


@pytest.mark.django_db(transaction=True)  # the replay runs in its own thread and connection
def test_the_first_event_after_a_restart_replays_what_the_spool_kept(archiving_a, archive):
    left_behind = spool_an_event(archiving_a)
    _replayer._checked_pid = 0  # a fresh process: it has not looked at the spool yet

    archive_request_event(
        grant=resolve_key(archiving_a.raw_key),
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )

    deadline = time.monotonic() + 30
    while get_spool().has_pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not get_spool().has_pending()
    assert ArchivedEvent.objects.filter(pk=left_behind).exists()
    assert ArchivedEvent.objects.count() == 2


def test_a_celery_worker_replays_the_spool_when_it_starts(archiving_a, archive):
    left_behind = spool_an_event(archiving_a)
    assert worker_tasks.sweep_outbox_task.name == "events.sweep_outbox"
    worker_ready.send(sender=None)
    assert ArchivedEvent.objects.filter(pk=left_behind).exists()
    assert not get_spool().has_pending()


def test_operators_can_replay_the_spool_and_apply_retention(archiving_a, archive):
    left_behind = spool_an_event(archiving_a)
    out = io.StringIO()
    call_command("replay_event_spool", stdout=out)
    assert out.getvalue().strip() == "published 1, remaining 0"
    assert ArchivedEvent.objects.filter(pk=left_behind).exists()

    call_command(
        "archive_requests", "alpha", "--services", "persons-detection", "--retention-days", "1"
    )
    ArchivedEvent.objects.update(received_at=datetime.now(UTC) - timedelta(days=2))
    out = io.StringIO()
    call_command("purge_expired_events", stdout=out)
    assert out.getvalue().strip() == "removed 1 expired events"
    assert archive_files(archive.root) == []


def test_archiving_can_be_switched_per_service(archiving_a):
    out = io.StringIO()
    call_command("archive_requests", "alpha", "--services", "pets-detection", "--off", stdout=out)
    assert out.getvalue().strip() == "alpha pets-detection: archiving off, retention 30 days"
    grant = resolve_key(archiving_a.raw_key)
    assert grant.services["pets-detection"].save_request_events is False
    assert grant.services["persons-detection"].save_request_events is True
    with pytest.raises(CommandError):
        call_command("archive_requests", "alpha", "--services", "vehicles-detection", "--on")
