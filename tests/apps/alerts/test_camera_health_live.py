"""Acceptance: camera health through a real portal (gunicorn, Celery with its beat running the
sweep every second, the real worker and model) and a real webhook receiver process. Frames
of the shared clip are posted as a camera at 2 fps with capture times, faster than real time:

- darkened to near black after 20 s: `tampered` / `covered` within 30 s of capture time;
- Gaussian-blurred: `tampered` / `blurred`; shifted by a quarter of the frame: `moved`;
- a camera that stops sending: `offline` after its offline_after_s (3 s here), `online` on its
  next frame;
- the clear clip played whole: no health webhook at all;

each message verified with the Standard Webhooks reference library.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests
from standardwebhooks import Webhook

from harness.camera_clip import sampled
from harness.camera_frames import create_camera, post_frame
from harness.webhook_receiver import Receiver, running_receiver
from tests.apps.alerts.live import alerts_portal
from tests.apps.alerts.test_health import blurred, darkened, shifted

pytestmark = pytest.mark.slow

CLEAR_S = 20.0  # the camera's usual picture first: its baseline and reference view


@pytest.fixture(scope="module")
def portal(tmp_path_factory, worker_url):
    log_dir = tmp_path_factory.mktemp("camera-health-live")
    with alerts_portal(log_dir, worker_url) as portal:
        yield portal


@pytest.fixture(scope="module")
def receiver(tmp_path_factory) -> Receiver:
    with running_receiver(tmp_path_factory.mktemp("receiver")) as receiver:
        yield receiver


class Camera:
    """A tenant with one camera and a webhook for camera.health only, driven over HTTP."""

    def __init__(self, portal, receiver: Receiver, slug: str) -> None:
        self.portal = portal
        self.key = portal.create_tenant(slug)
        self.session = requests.Session()
        self.session.headers["x-api-key"] = self.key
        self.id = create_camera(portal.base_url, self.key, "hall")
        answer = self.session.post(
            f"{portal.base_url}/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["camera.health"]},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        self.secret = answer.json()["secret"]
        self.endpoint = answer.json()["id"]
        self.receiver = receiver

    def send(self, frames, t0: float, alter=None) -> None:
        for offset, jpeg in frames:
            image = alter(jpeg) if alter else jpeg
            answer = post_frame(
                self.session, self.portal.base_url, self.key, self.id, image, t0 + offset
            )
            assert answer.status_code == 200, answer.text

    def messages(self) -> list[dict]:
        """This camera's camera.health payloads at the receiver, verified, once per id."""
        by_id = {}
        for request in self.receiver.requests():  # every tenant's: each signs with its own
            if json.loads(request["body"])["data"].get("camera") != self.id:
                continue
            payload = Webhook(self.secret).verify(request["body"], request["headers"])
            by_id.setdefault(request["headers"]["webhook-id"], payload)
        return sorted(by_id.values(), key=lambda p: p["timestamp"])

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.2)
        raise AssertionError(f"only {self.messages()}")

    def health(self) -> dict:
        answer = self.session.get(f"{self.portal.base_url}/api/v1/cameras/{self.id}", timeout=30)
        return answer.json()["health"]


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize(
    ("alter", "reason"), [(darkened, "covered"), (blurred, "blurred"), (shifted, "moved")]
)
def test_a_tampered_view_raises_its_reason_within_30_s_of_capture_time(
    portal, receiver, alter, reason
):
    camera = Camera(portal, receiver, f"tamper-{reason}")
    frames = sampled(2)
    clear = [f for f in frames if f[0] < CLEAR_S]
    bad = [f for f in frames if CLEAR_S <= f[0] < CLEAR_S + 30]
    t0 = time.time() - 300
    camera.send(clear, t0)
    camera.send(bad, t0, alter=alter)  # only 30 s of it: raised within 30 s, or never
    (message,) = camera.wait_for(1)
    assert message["type"] == "camera.health"
    assert message["data"]["state"] == "tampered" and message["data"]["reason"] == reason
    since = seconds(message["data"]["since"]) - t0
    assert CLEAR_S - 0.01 <= since <= CLEAR_S + 30  # capture times travel with 3 decimals
    assert camera.health()["state"] == "tampered" and camera.health()["reason"] == reason


def test_a_camera_that_stops_sending_goes_offline_then_online(portal, receiver):
    camera = Camera(portal, receiver, "silent")
    changed = camera.session.patch(
        f"{portal.base_url}/api/v1/cameras/{camera.id}", json={"offline_after_s": 3}, timeout=30
    )
    assert changed.status_code == 200, changed.text
    frames = sampled(2)
    camera.send(frames[:4], time.time() - 2)
    (offline,) = camera.wait_for(1, timeout=30)
    assert offline["data"]["state"] == "offline"
    assert camera.health()["state"] == "offline"
    camera.send(frames[4:5], time.time())
    online = camera.wait_for(2, timeout=30)[1]
    assert online["data"]["state"] == "online"
    assert camera.health()["state"] == "online"


def test_the_clear_clip_played_whole_raises_no_health_alert(portal, receiver):
    """The checks run in a thread of each portal process, so an empty delivery log right after
    the clip proves nothing; the clip is followed by 30 s darkened instead, and the camera's
    first and only message must be that covering, raised after the clip."""
    camera = Camera(portal, receiver, "clear")
    frames = sampled(2)
    t0 = time.time() - 600
    camera.send(frames, t0)
    end = frames[-1][0] + 0.5
    camera.send([(end + offset, jpeg) for offset, jpeg in frames[:60]], t0, alter=darkened)
    (message,) = camera.wait_for(1)
    assert (message["data"]["state"], message["data"]["reason"]) == ("tampered", "covered")
    assert seconds(message["data"]["since"]) - t0 >= end - 0.01
    log = camera.session.get(
        f"{portal.base_url}/api/v1/webhooks/{camera.endpoint}/deliveries", timeout=30
    )
    assert len(log.json()["results"]) == 1, log.text
