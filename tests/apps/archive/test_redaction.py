"""A redacting tenant's archived images: blurred before anything stores them, off the request
path, and never stored unblurred when blurring fails.

A real worker process answers `/regions` (faces from YuNet, plates from the reader); Celery
runs eagerly, so the redaction thread's publish stores the event in-process. The acceptance
figures (persons.jpg: faces found on the original, none above 0.5 on what was stored) are
asserted here with the same YuNet stage the worker runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

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
from harness.processes import model_dir
from harness.worker import running_worker
from tests.apps.archive.conftest import PERSONS_JPEG, SEED_RESPONSE

pytestmark = pytest.mark.django_db(transaction=True)  # the redaction thread has its own connection


@pytest.fixture(scope="module")
def worker_url(tmp_path_factory) -> Iterator[str]:
    with running_worker(tmp_path_factory.mktemp("worker")) as (_, url):
        yield url


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
