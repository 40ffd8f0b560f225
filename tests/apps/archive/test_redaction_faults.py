"""No unblurred face reaches the outbox, the spool or storage, whatever dies mid-burst.

The fault stack (harness/fault_stack.py: real Redis, worker, portal under gunicorn, Celery)
archives persons.jpg for a tenant whose operator requires face redaction. Mid-burst the
archive consumer (the Celery process group) is killed, so entries wait in the outbox; then
Redis is killed, so events go to the disk spool. Every image read from the outbox, the spool
and, once everything is back, storage (images and thumbnails) is checked with YuNet: no face
above 0.5, where the original has four.
"""

from __future__ import annotations

import base64
import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future

import cv2
import numpy as np
import pytest

from gpu_worker.stages.faces import FaceFinder
from harness.fault_stack import running_fault_stack
from harness.polling import eventually
from harness.processes import model_dir
from tests.apps.archive.test_faults import FAST_RECOVERY, PERSONS_JPEG, Stack, answered_when

pytestmark = pytest.mark.slow
BURST = 48


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running_fault_stack(tmp_path_factory.mktemp("redaction"), **FAST_RECOVERY) as processes:
        yield Stack(**vars(processes))


def faces_above_half(finder: FaceFinder, image: bytes) -> int:
    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    return len(finder.find(pixels, 0.5))


def face_boxes(finder: FaceFinder, image: bytes) -> list[tuple[float, float, float, float]]:
    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    return [face.box for face in finder.find(pixels, 0.5)]


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def outbox_images(stack: Stack) -> list[bytes]:
    entries = stack.redis.client().xrange(stack.redis_key("archive", "outbox"))
    return [fields[b"i"] for _, fields in entries if b"i" in fields]


def spool_images(stack: Stack) -> list[bytes]:
    images = []
    for path in (stack.spool_dir / "ready").glob("*.msg"):
        try:
            message = json.loads(path.read_bytes())
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("image_b64"):
            images.append(base64.b64decode(message["image_b64"]))
    return images


def test_consumer_and_redis_killed_mid_burst_nothing_unblurred_is_held_or_stored(stack):
    finder = FaceFinder(model_dir() / "yunet_n_dynamic.onnx")
    assert faces_above_half(finder, PERSONS_JPEG) == 4
    key = stack.portal.create_tenant("private", ("persons-detection",))
    stack.portal.manage("archive_requests", "private", "--on")
    stack.portal.manage("redaction", "private", "--faces", "--require")
    held_in_outbox: list[bytes] = []
    held_in_spool: list[bytes] = []

    def faults(futures: list[Future]) -> None:
        answered_when(futures, 8)
        stack.celery.kill_worker_group()  # the archive consumer: entries stay in the outbox
        eventually(lambda: len(outbox_images(stack)) >= 4, 120, "redacted entries waiting")
        held_in_outbox.extend(outbox_images(stack))
        os.kill(stack.redis.pid, signal.SIGKILL)
        stack.redis.stop()
        eventually(lambda: len(spool_images(stack)) >= 4, 120, "redacted events spooled")
        held_in_spool.extend(spool_images(stack))
        stack.redis.start()
        stack.celery.start_worker()

    answers = stack.burst(key, BURST, faults, threads=4)

    assert [a.status_code for a in answers] == [200] * BURST
    assert held_in_outbox and held_in_spool, "the faults missed: nothing was held"
    assert [faces_above_half(finder, image) for image in held_in_outbox + held_in_spool] == [0] * (
        len(held_in_outbox) + len(held_in_spool)
    )
    eventually(
        lambda: stack.outbox_entries() == 0 and not spool_images(stack),
        180,
        "outbox and spool drained into storage",
    )
    events = eventually(
        lambda: len(stack.events(key)) == BURST and stack.events(key), 120, "events"
    )
    assert sorted(e["portal_request_id"] for e in events) == sorted(
        a.headers["X-Request-Id"] for a in answers
    )
    stored = [p for p in (stack.archive_dir / "private").rglob("*.jpg") if ".thumb." not in p.name]
    thumbs = [p for p in (stack.archive_dir / "private").rglob("*.thumb.jpg")]
    assert len(stored) == len(thumbs) > 0, "no image was stored"
    assert [faces_above_half(finder, p.read_bytes()) for p in stored] == [0] * len(stored)
    # Thumbnails (360 px wide): YuNet also fires on two 7x10 px spots of the taxi, as it does
    # on the original's thumbnail; none of its hits is where one of the four faces was.
    faces = face_boxes(finder, PERSONS_JPEG)
    for thumb in thumbs:
        pixels = cv2.imdecode(np.frombuffer(thumb.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        scale = pixels.shape[1] / 819
        hits = [face.box for face in finder.find(pixels, 0.5)]
        assert not [h for h in hits for f in faces if overlaps(h, [v * scale for v in f])], thumb
