"""The archive outbox in-process, against the real Redis (this run's key prefix): an entry
leaves Redis only once its event is stored, and the sweep reconciles what crashes and lost
wake-up calls leave behind. The same faults with real processes killed are in test_faults.py.

Celery runs eagerly under the test settings, so a wake-up call runs inline.
"""

from __future__ import annotations

import io
import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from apps.archive import outbox
from apps.archive.consume import SWEEPER, handle, sweep
from apps.archive.enqueue import archive_request_event
from apps.archive.models import ArchivedEvent
from apps.archive.records import RequestEvent
from apps.archive.status import background_status
from apps.archive.store_task import archive_event, hand_on
from apps.core.redis import get_redis
from apps.core.spool import get_spool
from apps.core.spool_replay import replay_spool
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from harness.polling import eventually
from harness.processes import free_port
from tests.apps.archive.conftest import PERSONS_JPEG, SEED_RESPONSE, archive_files, event_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_outbox():
    """Each test starts with no outbox, counters or heartbeats under this run's prefix."""
    keys = [outbox.stream_key(), outbox.stats_key()]
    get_redis().delete(*keys)
    yield
    get_redis().delete(*keys)


def add_event(owner, **kwargs) -> tuple[str, dict]:
    """An event added to the outbox the way the request path adds it, no wake-up call."""
    message = event_message(owner, **kwargs)
    event = RequestEvent.from_message(message)
    return outbox.add(event.to_message(inline_image=False), event.image), message


def test_a_request_event_is_stored_and_then_leaves_redis(archiving_a, archive):
    event_id = archive_request_event(
        grant=resolve_key(archiving_a.raw_key),
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )
    event = ArchivedEvent.objects.get(pk=event_id)
    assert archive.get(event.image_key) == PERSONS_JPEG
    stats = outbox.stats()
    assert (stats.entries, stats.pending, stats.stored, stats.dropped) == (0, 0, 1, 0)


def test_an_entry_a_dead_consumer_held_is_reclaimed_and_stored_once(
    archiving_a, archive, settings, caplog
):
    entry_id, message = add_event(archiving_a)
    [taken] = outbox.read_new("host:4242", count=1)  # a pool child that was then SIGKILLed
    assert taken.entry_id == entry_id

    settings.IPCAI_ARCHIVE_CLAIM_AFTER_S = 60
    assert sweep(hand_on).reclaimed == 0  # held for less than the bound: maybe still working

    settings.IPCAI_ARCHIVE_CLAIM_AFTER_S = 0
    with caplog.at_level(logging.WARNING):
        result = sweep(hand_on)

    assert result.reclaimed == 1
    assert message["event_id"] in caplog.text
    assert ArchivedEvent.objects.filter(pk=message["event_id"]).count() == 1
    stored = [name for name in archive_files(archive.root) if ".thumb." not in name]
    assert len(stored) == 2  # the image and the record, once
    stats = outbox.stats()
    assert (stats.entries, stats.stored, stats.reconciled) == (0, 0, 1)


def test_an_entry_whose_wake_up_call_was_lost_is_handed_on(archiving_a, archive, settings):
    _, message = add_event(archiving_a)  # the broker dropped the wake-up call
    settings.IPCAI_ARCHIVE_CLAIM_AFTER_S = 60
    assert sweep(hand_on).undelivered == 0

    settings.IPCAI_ARCHIVE_CLAIM_AFTER_S = 0
    assert sweep(hand_on).undelivered == 1

    assert ArchivedEvent.objects.filter(pk=message["event_id"]).exists()
    assert outbox.stats().entries == 0


def test_a_storage_failure_keeps_the_entry_until_a_retry_stores_it(archiving_a, archive, settings):
    _, message = add_event(archiving_a)
    [entry] = outbox.read_new("host:1", count=1)
    archive_url = settings.IPCAI_ARCHIVE_URL
    settings.IPCAI_ARCHIVE_URL = "file:///proc/no-archive-here"  # storage refuses every write
    assert handle(entry) is False
    assert outbox.stats().pending == 1  # still in Redis, image and all

    settings.IPCAI_ARCHIVE_URL = archive_url  # storage is back

    settings.IPCAI_ARCHIVE_CLAIM_AFTER_S = 0
    sweep(hand_on)

    assert ArchivedEvent.objects.filter(pk=message["event_id"]).exists()
    assert outbox.stats().entries == 0


def test_an_entry_past_its_ttl_that_still_fails_is_dropped_loudly(archiving_a, settings, caplog):
    settings.IPCAI_ARCHIVE_URL = "file:///proc/no-archive-here"
    settings.IPCAI_ARCHIVE_ENTRY_TTL_S = 0
    _, message = add_event(archiving_a)
    [entry] = outbox.read_new("host:1", count=1)

    assert handle(entry) is True

    assert "dropped" in caplog.text and message["event_id"] in caplog.text
    stats = outbox.stats()
    assert (stats.entries, stats.dropped) == (0, 1)


def test_an_unreadable_entry_is_dropped_instead_of_blocking_the_stream(caplog):
    get_redis().xadd(outbox.stream_key(), {"m": b"{not json"})
    [entry] = outbox.read_new("host:1", count=1)
    assert handle(entry) is True
    assert "unreadable" in caplog.text
    assert outbox.stats().dropped == 1


def test_a_message_queued_before_the_outbox_existed_is_still_archived(archiving_a, archive):
    message = event_message(archiving_a)
    staged = f"{os.urandom(4).hex()}:archive:image:{message['event_id']}"
    get_redis().set(staged, PERSONS_JPEG)
    legacy = {**message, "image_b64": None, "image_ref": staged}

    archive_event.apply(args=[legacy])

    event = ArchivedEvent.objects.get(pk=message["event_id"])
    assert archive.get(event.image_key) == PERSONS_JPEG
    assert get_redis().exists(staged) == 0  # no staged image left behind
    assert outbox.stats().entries == 0


@pytest.mark.django_db(transaction=True)
def test_redis_down_spools_the_event_and_replay_archives_it(archiving_a, archive, settings):
    grant = resolve_key(archiving_a.raw_key)
    redis_url = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    event_id = archive_request_event(
        grant=grant,
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )
    assert get_spool().stats().by_kind == {"archive": 1}
    assert not ArchivedEvent.objects.exists()

    settings.REDIS_URL = redis_url
    # This process's background replayer (started by the spooling) may hold the spool's replay
    # lock and publish the event itself: either way the event must end archived, spool empty.
    eventually(
        lambda: replay_spool().remaining == 0 and ArchivedEvent.objects.filter(pk=event_id),
        timeout=30,
        what="the spooled event to be replayed and archived",
    )
    assert archive.get(ArchivedEvent.objects.get(pk=event_id).image_key) == PERSONS_JPEG


def test_the_admin_line_counts_pending_stored_reconciled_and_dropped(archiving_a, archive):
    add_event(archiving_a)
    add_event(archiving_a)
    outbox.read_new(SWEEPER, count=1)
    out = io.StringIO()
    call_command("archive_status", stdout=out)
    line = out.getvalue()
    assert "archive outbox: 2 waiting (1 pending), 0 stored, 0 reconciled, 0 dropped" in line
    assert background_status().outbox.entries == 2


def test_old_received_times_do_not_make_an_entry_expire(archiving_a, archive, settings):
    """The TTL counts from the XADD, not from the camera's clock or a replayed request time."""
    settings.IPCAI_ARCHIVE_ENTRY_TTL_S = 3600
    settings.IPCAI_ARCHIVE_URL = "file:///proc/no-archive-here"
    add_event(archiving_a, received_at=datetime.now(UTC) - timedelta(days=30))
    [entry] = outbox.read_new("host:1", count=1)
    assert handle(entry) is False
    assert outbox.stats().dropped == 0
