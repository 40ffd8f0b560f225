"""Request-event archiving end to end, with every part real and running as its own process.

gunicorn portal -> Redis broker (a private redis-server this module starts, stops and restarts)
-> Celery worker process -> S3 (moto's server mode over HTTP) or a local folder, with the real
inference worker behind the portal. Fault tests count events in (answered requests, each with
its X-Request-Id) and events stored (listed by the API, objects in the bucket), and poll with
deadlines for the archive to catch up; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from harness.images import encode, seed_image, seed_pixels
from harness.moto import MotoServer
from harness.polling import eventually
from harness.portal import Portal, running_portal
from harness.redis_server import RedisServer
from harness.worker import running_worker

pytestmark = pytest.mark.slow

BUCKET = "ipcai-archive"
PREFIX = "events"
PERSONS_JPEG = seed_image("persons")
PETS_PNG = encode(seed_pixels("pets"), ".png")

# Short timings so faults heal within a test: the outbox sweep runs every second and hands on
# entries idle for 2 s (production: 30 s and 2 min), Redis hands unacknowledged Celery messages
# back after 5 s (production: 10 min), storage retries back off at most 2 s (production: 60 s),
# and a portal process retries its spool every half second.
FAST_RECOVERY = {
    "IPCAI_ARCHIVE_SWEEP_S": "1",
    "IPCAI_ARCHIVE_CLAIM_AFTER_S": "2",
    "IPCAI_BROKER_VISIBILITY_TIMEOUT_S": "5",
    "IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S": "2",
    "IPCAI_EVENT_SPOOL_REPLAY_S": "0.5",
    "IPCAI_EVENT_BROKER_RETRY_S": "1",
}


@dataclass
class Stack:
    portal: Portal
    broker: RedisServer
    spool_dir: Path

    def celery(self):
        # The archive's worker: the first extra process (webhooks have a worker of their own).
        return self.portal.extra[0]

    def tenant(self, slug: str, services: tuple[str, ...] = ("persons-detection",)) -> str:
        """A tenant whose services archive their requests; returns its API key."""
        key = self.portal.create_tenant(slug, services)
        self.portal.manage("archive_requests", slug, "--on")
        return key

    def seed_request(self, key: str, image: bytes, request_id: int = 1242322) -> requests.Response:
        body = {
            "timestamp": "2025-06-07 12:00:00",
            "request_id": request_id,
            "image_base64_enc": base64.b64encode(image).decode(),
        }
        return requests.post(
            f"{self.portal.base_url}/inference", json=body, headers={"x-api-key": key}, timeout=60
        )

    def native_request(self, key: str, body: bytes, content_type: str) -> requests.Response:
        return requests.post(
            f"{self.portal.base_url}/api/v1/detect/persons-detection",
            data=body,
            headers={"x-api-key": key, "Content-Type": content_type},
            timeout=60,
        )

    def events(self, key: str) -> list[dict]:
        """Every event the API lists for the key's tenant, following the cursor pages."""
        url, events = f"{self.portal.base_url}/api/v1/events?limit=200", []
        while url:
            response = requests.get(url, headers={"x-api-key": key}, timeout=30)
            assert response.status_code == 200, response.text
            events += response.json()["results"]
            url = response.json()["next"]
        return events

    def portal_redis(self) -> redis.Redis:
        """The portal's own Redis (REDIS_URL: the machine's), where the archive outbox lives;
        the private broker here carries only Celery's messages."""
        return redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))

    @property
    def outbox_key(self) -> str:
        return f"{self.portal.env['IPCAI_REDIS_PREFIX']}archive:outbox"

    def outbox_entries(self) -> int:
        """Archive events not yet stored (queued, or taken and not yet acknowledged)."""
        return self.portal_redis().xlen(self.outbox_key)


def wait_for_events(stack: Stack, key: str, count: int, timeout: float = 90) -> list[dict]:
    return eventually(
        lambda: (events := stack.events(key)) and len(events) >= count and events,
        timeout,
        f"{count} archived events",
    )


def s3_versions(moto: MotoServer, tenant: str) -> list[dict]:
    """Every stored version of every image and record under the tenant's prefix (one per
    write); thumbnails, derived from the image, are not counted."""
    listing = moto.s3().list_object_versions(Bucket=BUCKET, Prefix=f"{PREFIX}/{tenant}/")
    return [v for v in listing.get("Versions", []) if ".thumb." not in v["Key"]]


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("archiving")


@pytest.fixture(scope="module")
def worker_url(log_dir) -> Iterator[str]:
    with running_worker(log_dir) as (_, url):
        yield url


@pytest.fixture(scope="module")
def moto(log_dir) -> Iterator[MotoServer]:
    server = MotoServer(log_dir).start()
    server.create_bucket(BUCKET, versioned=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_stack(log_dir, worker_url, moto) -> Iterator[Stack]:
    """Portal + Celery worker archiving to S3 through a private Redis broker."""
    broker = RedisServer(log_dir / "broker").start()
    spool_dir = log_dir / "spool-s3"
    try:
        with running_portal(
            log_dir / "s3",
            worker_url,
            celery=True,
            CELERY_BROKER_URL=broker.url,
            IPCAI_ARCHIVE_URL=f"s3://{BUCKET}/{PREFIX}",
            IPCAI_EVENT_SPOOL_DIR=str(spool_dir),
            **moto.env(),
            **FAST_RECOVERY,
        ) as portal:
            yield Stack(portal, broker, spool_dir)
    finally:
        broker.stop()


def test_archived_events_land_in_s3_keyed_by_tenant_service_day_and_content(s3_stack, moto):
    key = s3_stack.tenant("cams")
    # Two cameras sending the same request_id, plus a PNG through the native API.
    answers = [
        s3_stack.seed_request(key, PERSONS_JPEG, request_id=7),
        s3_stack.seed_request(key, PERSONS_JPEG, request_id=7),
        s3_stack.native_request(key, PETS_PNG, "image/png"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]

    events = wait_for_events(s3_stack, key, 3)

    assert len(events) == 3
    assert {e["portal_request_id"] for e in events} == {a.headers["X-Request-Id"] for a in answers}
    # The camera's own request_id; a native call without one records the id it was given.
    native_id = answers[2].headers["X-Request-Id"]
    assert sorted(e["request_id"] for e in events) == sorted(["7", "7", native_id])
    keys = sorted(v["Key"] for v in s3_versions(moto, "cams"))
    assert len(keys) == 6  # image + record per event, nothing overwritten
    for event in events:
        day = event["received_at"][:10].replace("-", "/")
        stem = f"{PREFIX}/cams/persons-detection/{day}/{event['id']}"
        extension = {"image/jpeg": "jpg", "image/png": "png"}[event["image"]["content_type"]]
        assert f"{stem}.{extension}" in keys
        assert f"{stem}.json" in keys
        image = requests.get(event["image"]["url"], headers={"x-api-key": key}, timeout=30)
        assert image.content == (PETS_PNG if extension == "png" else PERSONS_JPEG)
    jpeg_event = next(e for e in events if e["image"]["content_type"] == "image/jpeg")
    day = jpeg_event["received_at"][:10].replace("-", "/")
    record_key = f"{PREFIX}/cams/persons-detection/{day}/{jpeg_event['id']}.json"
    record = json.loads(moto.s3().get_object(Bucket=BUCKET, Key=record_key)["Body"].read())
    assert record["tenant"] == "cams"
    assert record["model"] == "yolox_nano"
    assert record["request_id"] == "7"
    assert "person" in {name for [name] in record["response"]["class_names"]}


def test_bad_input_is_refused_and_not_archived(s3_stack, moto):
    key = s3_stack.tenant("junk")
    refused = [
        s3_stack.native_request(key, b"GIF? no: plain text pretending", "image/jpeg"),
        s3_stack.native_request(key, b"", "image/jpeg"),
        requests.post(
            f"{s3_stack.portal.base_url}/inference",
            json={"request_id": 1, "image_base64_enc": base64.b64encode(b"not an image").decode()},
            headers={"x-api-key": key},
            timeout=30,
        ),
    ]
    for answer in refused:
        assert answer.status_code == 400, answer.text
        assert "error" in answer.json()
    # A good request afterwards: once it is archived, anything queued before it would be too.
    marker = s3_stack.seed_request(key, PERSONS_JPEG)
    assert marker.status_code == 200
    [event] = wait_for_events(s3_stack, key, 1)
    eventually(lambda: s3_stack.outbox_entries() == 0, 60, "an empty outbox")

    assert event["portal_request_id"] == marker.headers["X-Request-Id"]
    assert len(s3_stack.events(key)) == 1
    assert sorted(v["Key"].rsplit(".", 1)[1] for v in s3_versions(moto, "junk")) == ["jpg", "json"]


def test_an_event_delivered_twice_stores_one_copy(s3_stack, moto):
    key = s3_stack.tenant("twice")
    celery = s3_stack.celery()
    celery.stop()  # hold the event in the outbox so the test can take it first
    try:
        assert s3_stack.seed_request(key, PERSONS_JPEG).status_code == 200
        # A consumer takes the entry (first delivery) and dies without acknowledging it.
        taken = s3_stack.portal_redis().xreadgroup(
            "archivers", "ghost:1", {s3_stack.outbox_key: ">"}
        )
        assert len(taken[0][1]) == 1
    finally:
        celery.start()

    wait_for_events(s3_stack, key, 1)  # the second delivery, through the sweep
    eventually(lambda: s3_stack.outbox_entries() == 0, 60, "an empty outbox")

    assert "went silent; handing it on" in celery.log_path.read_text()
    assert len(s3_stack.events(key)) == 1
    versions = s3_versions(moto, "twice")
    assert len(versions) == 2  # one image and one record, each written once (versioned bucket)
    assert len({v["Key"] for v in versions}) == 2


def test_broker_stopped_during_a_burst_loses_no_event(s3_stack, moto):
    """Celery's broker down, the portal's Redis up: the wake-up calls are lost, the outbox
    entries are not, and the sweep delivers them once the broker is back. (Redis itself down,
    where the spool takes over, is in test_faults.py.)"""
    key = s3_stack.tenant("burst")
    total, stop_after = 40, 8
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(s3_stack.seed_request, key, PERSONS_JPEG, i) for i in range(total)]
        eventually(lambda: sum(f.done() for f in futures) >= stop_after, 120, "the burst to start")
        s3_stack.broker.stop()
        answers = [f.result() for f in futures]
    try:
        assert [a.status_code for a in answers] == [200] * total
        waiting = s3_stack.outbox_entries()
        assert waiting > 0, "no event waited for the broker: the fault did not happen"
    finally:
        s3_stack.broker.start()

    events = wait_for_events(s3_stack, key, total, timeout=120)

    assert len(events) == total
    assert {e["portal_request_id"] for e in events} == {a.headers["X-Request-Id"] for a in answers}
    eventually(lambda: s3_stack.outbox_entries() == 0, 30, "an empty outbox")
    assert len(s3_versions(moto, "burst")) == 2 * total


def test_s3_down_tasks_retry_and_every_event_lands_when_it_returns(s3_stack, moto):
    key = s3_stack.tenant("outage")
    moto.stop()
    try:
        answers = [s3_stack.seed_request(key, PERSONS_JPEG, i) for i in range(6)]
        assert [a.status_code for a in answers] == [200] * 6
        # Every event's task has failed against the dead endpoint and is waiting to retry.
        celery_log = s3_stack.celery().log_path
        eventually(
            lambda: all(
                f"(request {a.headers['X-Request-Id']}) failed" in celery_log.read_text()
                for a in answers
            ),
            60,
            "a failed attempt of every archive task",
        )
        assert s3_stack.events(key) == []
    finally:
        moto.start()  # same port, empty state: the store is back
        moto.create_bucket(BUCKET, versioned=True)

    events = wait_for_events(s3_stack, key, 6, timeout=90)

    assert {e["portal_request_id"] for e in events} == {a.headers["X-Request-Id"] for a in answers}
    assert len(s3_versions(moto, "outage")) == 12


def test_local_folder_backend_archives_to_the_dated_layout(log_dir, worker_url, tmp_path):
    broker = RedisServer(log_dir / "broker-local").start()
    archive_root = tmp_path / "archive"
    try:
        with running_portal(
            log_dir / "local",
            worker_url,
            celery=True,
            CELERY_BROKER_URL=broker.url,
            IPCAI_ARCHIVE_URL=f"file://{archive_root}",
            IPCAI_EVENT_SPOOL_DIR=str(tmp_path / "spool"),
            **FAST_RECOVERY,
        ) as portal:
            stack = Stack(portal, broker, tmp_path / "spool")
            key = stack.tenant("folder")
            answers = [
                stack.seed_request(key, PERSONS_JPEG),
                stack.native_request(key, PETS_PNG, "image/png"),
            ]
            assert [a.status_code for a in answers] == [200, 200]
            events = wait_for_events(stack, key, 2)
            files = sorted(
                str(p.relative_to(archive_root))
                for p in archive_root.rglob("*")
                if p.is_file() and ".thumb." not in p.name
            )
            for event in events:
                day = event["received_at"][:10].replace("-", "/")
                extension = event["image"]["content_type"].split("/")[1].replace("jpeg", "jpg")
                assert f"folder/persons-detection/{day}/{event['id']}.{extension}" in files
                assert f"folder/persons-detection/{day}/{event['id']}.json" in files
            assert len(files) == 4
            downloaded = {
                requests.get(e["image"]["url"], headers={"x-api-key": key}, timeout=30).content
                for e in events
            }
            assert downloaded == {PERSONS_JPEG, PETS_PNG}
    finally:
        broker.stop()
