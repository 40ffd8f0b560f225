"""A redacting tenant's archived images: blurred before anything stores them, off the request
path, and never stored unblurred when blurring fails.

A real worker process answers `/regions` (faces from YuNet, plates from the reader); Celery
runs eagerly, so the redaction thread's publish stores the event in-process. The acceptance
figures (persons.jpg: faces found on the original, none above 0.5 on what was stored) are
asserted here with the same YuNet stage the worker runs.
"""

from __future__ import annotations

import difflib
import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests
from django.db import connection

from apps.archive.enqueue import archive_request_event
from apps.archive.models import ArchivedEvent
from apps.archive.thumbnails import thumbnail_key
from apps.core import redaction
from apps.core.redaction import redaction_queue
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from apps.tenants.redaction import RedactionRequired, set_owner_redaction, set_required_redaction
from gpu_worker.stages.faces import FaceFinder
from harness.polling import eventually
from harness.processes import model_dir, shared_dir
from tests.apps.archive.conftest import PERSONS_JPEG, SEED_RESPONSE

pytestmark = pytest.mark.django_db(transaction=True)  # the redaction thread has its own connection


@pytest.fixture(scope="module", autouse=True)
def _redaction_thread_connection_closed_after():
    """Celery runs eagerly in tests, so the archive task runs in the redaction thread and opens
    a database connection there. It is closed after this module: left open, it kept the
    PostgreSQL run from dropping its test database ("being accessed by other users")."""
    yield
    closed = threading.Event()

    def close(_image: bytes | None) -> None:
        connection.close()
        closed.set()

    redaction_queue().submit(b"", (), close)
    assert closed.wait(30), "the redaction thread never ran the close"


@pytest.fixture(scope="module")
def finder() -> FaceFinder:
    return FaceFinder(model_dir() / "yunet_n_dynamic.onnx")


def face_scores(finder: FaceFinder, image: bytes, min_score: float = 0.5) -> list[float]:
    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    return [face.score for face in finder.find(pixels, min_score)]


def archive_persons(owner) -> str:
    event_id = archive_request_event(
        grant=resolve_key(owner.raw_key),
        application_type=ApplicationType.PERSONS,
        image=PERSONS_JPEG,
        response=SEED_RESPONSE,
    )
    assert event_id is not None
    assert redaction_queue().wait_idle(60)
    return event_id


def test_faces_are_blurred_in_the_stored_image_and_thumbnail(
    archiving_a, archive, settings, worker_url, finder
):
    settings.IPCAI_WORKER_URL = worker_url
    set_owner_redaction(archiving_a.tenant, faces=True, plates=False)
    assert len(face_scores(finder, PERSONS_JPEG)) == 4  # the original: four faces above 0.5

    event = ArchivedEvent.objects.get(pk=archive_persons(archiving_a))

    stored = archive.get(event.image_key)
    assert stored != PERSONS_JPEG
    assert face_scores(finder, stored) == []
    assert face_scores(finder, archive.get(thumbnail_key(event.record_key))) == []
    # The record keeps the answer as the caller got it: only stored pixels change.
    assert (
        json.loads(archive.get(event.record_key))["response"]["bbox_coords"]
        == (SEED_RESPONSE["bbox_coords"])
    )


def test_without_redaction_the_image_is_stored_as_sent(archiving_a, archive):
    event = ArchivedEvent.objects.get(pk=archive_persons(archiving_a))
    assert archive.get(event.image_key) == PERSONS_JPEG


def test_an_image_the_worker_cannot_redact_is_never_stored_its_record_is(
    archiving_a, archive, settings
):
    settings.IPCAI_WORKER_URL = "http://127.0.0.1:9"  # nothing listens: the worker is down
    set_owner_redaction(archiving_a.tenant, faces=True, plates=True)
    failed_before = redaction.counters.failed

    event = ArchivedEvent.objects.get(pk=archive_persons(archiving_a))

    assert event.image_key == ""
    assert json.loads(archive.get(event.record_key))["event_id"] == event.pk.hex
    assert not [p for p in Path(archive.root).rglob("*.jpg")]
    assert redaction.counters.failed == failed_before + 1


def test_a_full_queue_passes_the_image_on_as_none_at_once(settings):
    settings.IPCAI_WORKER_URL = "http://127.0.0.1:9"  # redaction fails fast; then() blocks
    queue = redaction.RedactionQueue(size=1)
    release = threading.Event()
    passed: list[bytes | None] = []

    def hold(image: bytes | None) -> None:
        release.wait(30)

    queue.submit(PERSONS_JPEG, {"faces"}, hold)  # the thread takes it and stays in hold()
    eventually(lambda: queue._queue.qsize() == 0, 30, "the first image in hand")
    assert queue.submit(PERSONS_JPEG, {"faces"}, passed.append) is True  # waits in the queue
    assert queue.submit(PERSONS_JPEG, {"faces"}, passed.append) is False  # full
    assert passed == [None]
    assert queue.waiting() == 2
    release.set()
    assert queue.wait_idle(30)
    assert passed == [None, None]  # the queued one could not be redacted either: no image


def test_the_owner_cannot_turn_off_what_the_operator_requires(tenant_a):
    set_required_redaction(tenant_a, faces=True, plates=False)
    with pytest.raises(RedactionRequired):
        set_owner_redaction(tenant_a, faces=False, plates=True)
    assert set_owner_redaction(tenant_a, faces=True, plates=True) == {"faces", "plates"}
    tenant_a.refresh_from_db()
    assert tenant_a.redaction() == {"faces", "plates"}


PLATES = shared_dir() / "eval" / "plates" / "us"


def plate_reads(worker_url: str, image: bytes) -> list[str]:
    answer = requests.post(
        f"{worker_url}/invocations",
        data=image,
        headers={
            "Content-Type": "image/jpeg",
            "X-Amzn-SageMaker-Custom-Attributes": "application_type=license-plates",
        },
        timeout=60,
    ).json()
    return [plate["text"] for plate in answer.get("plates") or [] if plate]


def close_to(read: str, text: str) -> bool:
    """A read that is the plate, give or take two characters (as a person would read it)."""
    return difflib.SequenceMatcher(None, read, text).ratio() >= 0.7


def test_plates_are_blurred_so_the_reader_reads_none_of_20_stored_photos(
    archiving_a, archive, settings, worker_url
):
    settings.IPCAI_WORKER_URL = worker_url
    set_owner_redaction(archiving_a.tenant, faces=False, plates=True)
    truth: dict[str, set[str]] = {}
    for entry in json.loads((PLATES / "plates.json").read_text()):
        truth.setdefault(entry["image"], set()).add(entry["text"])
    photos = list(truth)[:20]
    read_on_originals = read_on_stored = 0
    for name in photos:
        original = (PLATES / "images" / name).read_bytes()
        event_id = archive_request_event(
            grant=resolve_key(archiving_a.raw_key),
            application_type=ApplicationType.PERSONS,
            image=original,
            response=SEED_RESPONSE,
        )
        assert redaction_queue().wait_idle(120)
        stored = archive.get(ArchivedEvent.objects.get(pk=event_id).image_key)
        read_on_originals += bool(set(plate_reads(worker_url, original)) & truth[name])
        stored_reads = plate_reads(worker_url, stored)
        if any(close_to(read, text) for read in stored_reads for text in truth[name]):
            read_on_stored += 1
            print(f"{name}: {stored_reads} read from the stored image (plate {truth[name]})")
    print(f"plates read exactly: {read_on_originals}/20 originals; {read_on_stored}/20 stored")
    assert read_on_originals >= 11  # most of them
    assert read_on_stored == 0
