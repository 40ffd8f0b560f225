"""Acceptance: the shared clip through a real portal (2 gunicorn processes, Celery, the real
worker and model) as a camera, frame by frame with capture timestamps, faster than real time.

- 5 fps and 10 fps: exactly six person events (the clip's six visits), each opened once and
  closed once, each with a best snapshot that shows a person where the event's box says;
- the 5 fps frames posted by four concurrent clients: still six;
- a real receiver process gets every event.started / event.ended exactly once by webhook-id,
  each signature verifies with the Standard Webhooks reference library;
- the receiver down for a while, then up: it still gets everything.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from standardwebhooks import Webhook

from apps.alerts.tracking import iou
from harness.camera_clip import VISITS, sampled
from harness.camera_frames import create_camera, post_frame
from harness.webhook_receiver import Receiver, running_receiver, start_receiver
from tests.apps.alerts.live import alerts_portal

pytestmark = pytest.mark.slow

# The clip's README gives the visits as roughly 8-18, 24-42, 54-67, 74-88, 94-118, 124-138 s,
# read every 5 s; each event must overlap its own visit (5 s of slack for that coarse reading).
README_VISITS = [(8, 18), (24, 42), (54, 67), (74, 88), (94, 118), (124, 138)]
SLACK_S = 5.0


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url):
    log_dir = tmp_path_factory.mktemp("camera-events-live")
    with alerts_portal(log_dir, worker_url) as portal:
        yield portal


class Tenant:
    """A tenant of the live portal with one camera, driven over HTTP like a user would."""

    def __init__(self, portal, slug: str) -> None:
        self.portal = portal
        self.key = portal.create_tenant(slug)
        self.session = requests.Session()
        self.session.headers["x-api-key"] = self.key
        self.camera = create_camera(portal.base_url, self.key, "hall")

    def url(self, path: str) -> str:
        return self.portal.base_url + path

    def post(self, path: str, body: dict, status: int = 201) -> requests.Response:
        response = self.session.post(self.url(path), json=body, timeout=30)
        assert response.status_code == status, response.text
        return response

    def get(self, path: str, **params) -> dict:
        response = self.session.get(self.url(path), params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, frames, t0: float, session: requests.Session | None = None) -> list[dict]:
        """Post frames as this camera with capture times t0 + offset; the `events` answers."""
        events = []
        for offset, jpeg in frames:
            response = post_frame(
                session or self.session,
                self.portal.base_url,
                self.key,
                self.camera,
                jpeg,
                t0 + offset,
            )
            assert response.status_code == 200, response.text
            events.extend(response.json()["events"])
        return events

    def events(self) -> list[dict]:
        return self.get("/api/v1/camera-events", camera=self.camera, limit=100)["results"]

    def closed_events(self, count: int, timeout: float = 60.0) -> list[dict]:
        """The camera's events once `count` of them exist and all are closed (the sweep closes
        the last one when the clip ends), oldest first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if len(events) >= count and all(e["ended_at"] for e in events):
                return sorted(events, key=lambda e: e["started_at"])
            time.sleep(0.2)
        raise AssertionError(f"events not all closed: {self.events()}")


def seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def assert_one_event_per_visit(tenant: Tenant, answers: list[dict], t0: float) -> list[dict]:
    events = tenant.closed_events(VISITS)
    assert len(events) == VISITS, [(e["started_at"], e["ended_at"]) for e in events]
    for event, (start, end) in zip(events, README_VISITS, strict=True):
        assert event["label"] == "person"
        assert seconds(event["started_at"]) - t0 <= end + SLACK_S
        assert seconds(event["ended_at"]) - t0 >= start - SLACK_S
    kinds = Counter((item["id"], item["type"]) for item in answers)
    opened = [event_id for (event_id, kind), n in kinds.items() if kind == "opened"]
    assert sorted(opened) == sorted(e["id"] for e in events)
    assert all(n == 1 for (_, kind), n in kinds.items() if kind in {"opened", "closed"})
    return events


def assert_snapshot_shows_the_person(tenant: Tenant, event: dict) -> None:
    # The signed link works without a key, as a webhook receiver would fetch it.
    link = urlsplit(event["snapshot_url"])
    image = requests.get(tenant.url(f"{link.path}?{link.query}"), timeout=30)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    again = tenant.session.post(
        tenant.url("/api/v1/detect/persons-detection"),
        data=image.content,
        headers={"Content-Type": "image/jpeg"},
        timeout=60,
    ).json()
    boxes = [d["box"] for d in again["detections"] if d["label"] == "person"]
    assert max(iou(box, event["box"]) for box in boxes) > 0.9


@pytest.fixture(scope="module")
def receiver(tmp_path_factory) -> Receiver:
    with running_receiver(tmp_path_factory.mktemp("receiver")) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def five_fps(portal, receiver):
    """The clip at 5 fps, once, by a camera whose tenant has a webhook to the receiver."""
    tenant = Tenant(portal, "five")
    secret = tenant.post("/api/v1/webhooks", {"url": receiver.url})
    t0 = time.time() - 200
    answers = tenant.send(sampled(5), t0)
    return tenant, answers, t0, secret.json()["secret"]


def test_the_clip_at_5_fps_is_six_events_with_their_best_snapshots(five_fps):
    tenant, answers, t0, _ = five_fps
    events = assert_one_event_per_visit(tenant, answers, t0)
    for event in events:
        assert_snapshot_shows_the_person(tenant, event)


def test_every_event_reaches_the_receiver_once_signed_the_standard_way(five_fps, receiver):
    tenant, _, _, secret = five_fps
    events = tenant.closed_events(VISITS)
    got = receiver.wait_for(lambda r: len({x["headers"]["webhook-id"] for x in r}) >= 2 * VISITS)
    by_id = {}
    for request in got:
        payload = Webhook(secret).verify(request["body"], request["headers"])
        by_id.setdefault(request["headers"]["webhook-id"], payload)
    assert len(by_id) == 2 * VISITS
    pairs = Counter((p["data"]["id"], p["type"]) for p in by_id.values())
    assert set(pairs) == {(e["id"], t) for e in events for t in ("event.started", "event.ended")}
    assert set(pairs.values()) == {1}


def test_the_clip_at_10_fps_is_the_same_six_events(portal):
    tenant = Tenant(portal, "ten")
    t0 = time.time() - 200
    answers = tenant.send(sampled(10), t0)
    assert_one_event_per_visit(tenant, answers, t0)


def test_frames_posted_concurrently_by_four_clients_make_the_same_six(portal):
    tenant = Tenant(portal, "four")
    frames = sampled(5)
    t0 = time.time() - 200
    answers: list[dict] = []
    barrier = threading.Barrier(4)

    def client(part):
        barrier.wait()
        answers.extend(tenant.send(part, t0, session=requests.Session()))

    threads = [threading.Thread(target=client, args=(frames[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_one_event_per_visit(tenant, answers, t0)


def test_a_receiver_down_for_a_while_still_gets_everything(portal, tmp_path: Path):
    first = start_receiver(tmp_path)
    tenant = Tenant(portal, "down")
    secret = tenant.post("/api/v1/webhooks", {"url": first.url}).json()["secret"]
    endpoint = tenant.get("/api/v1/webhooks")["results"][0]["id"]
    first.server.stop()  # the receiver goes down before the visit
    tenant.send(sampled(5)[25:110], time.time() - 60)  # the first visit, 5-22 s into the clip
    (event,) = tenant.closed_events(1)

    def failed_attempts() -> int:
        log = tenant.get(f"/api/v1/webhooks/{endpoint}/deliveries")["results"]
        return sum(1 for d in log for a in d["attempt_log"] if not a["ok"])

    deadline = time.monotonic() + 30
    while failed_attempts() < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert failed_attempts() >= 4  # both messages failed at least twice while it was down
    again = start_receiver(tmp_path, port=first.port)  # back up, same address
    try:
        got = again.wait_for(lambda r: len({x["headers"]["webhook-id"] for x in r}) >= 2)
        types = {Webhook(secret).verify(x["body"], x["headers"])["type"] for x in got}
        assert types == {"event.started", "event.ended"}
        assert {Webhook(secret).verify(x["body"], x["headers"])["data"]["id"] for x in got} == {
            event["id"]
        }
    finally:
        again.server.stop()


def test_the_clip_at_5_fps_with_slicing_on_is_still_six_events(portal):
    """Sliced inference (the camera's `slicing` on) finds each person in several slices and
    the whole frame: merged, they are one box each, so no visit is doubled or split."""
    tenant = Tenant(portal, "sliced")
    path = tenant.url(f"/api/v1/cameras/{tenant.camera}")
    changed = tenant.session.patch(path, json={"slicing": "on"}, timeout=30)
    assert changed.status_code == 200 and changed.json()["slicing"] == "on", changed.text
    frames = sampled(5)
    t0 = time.time() - 200
    _, first = frames[0]  # the scene is empty for its first 8 s
    probe = post_frame(tenant.session, portal.base_url, tenant.key, tenant.camera, first, t0 - 1)
    assert probe.json()["slices"]["planned"] >= 2, probe.text
    answers = tenant.send(frames, t0)
    assert_one_event_per_visit(tenant, answers, t0)
