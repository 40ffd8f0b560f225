"""Acceptance (issue 23, phase 2): a car drives past a camera, through one live stack (a real
portal with Celery, the session's real worker with its plate reader, a real webhook receiver).

A plate photo of shared/eval/plates/us that the reader reads exactly, shifted 3 px a frame for
30 frames, posted as a camera with capture times to the license-plates service:

- one vehicle event, whose plate is the truth (and `ipcai events --plate` finds it);
- the plate on an exact watchlist and one character off on a fuzzy one: one signed
  ``plate.matched`` webhook per list at the receiver, verified the Standard Webhooks way.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests
from standardwebhooks import Webhook

from harness.camera_frames import create_camera, post_frame
from harness.plate_clip import TRUTH, shifted_frames
from harness.portal import running_portal
from harness.webhook_receiver import running_receiver
from tests.client.running_cli import run_cli

pytestmark = pytest.mark.slow

SERVICES = "persons-detection,pets-detection,vehicles-detection,license-plates"


def one_off(text: str) -> str:
    """The truth with its last character changed."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, worker_url):
    log_dir = tmp_path_factory.mktemp("plates-live")
    with (
        running_receiver(log_dir) as receiver,
        running_portal(
            log_dir,
            worker_url,
            celery=True,
            IPCAI_ARCHIVE_URL=f"file://{log_dir / 'archive'}",
            IPCAI_EVENT_SPOOL_DIR=str(log_dir / "spool"),
            IPCAI_WEBHOOK_ALLOW_PRIVATE="true",
            IPCAI_WEBHOOK_RETRY_BASE_S="0.5",
            IPCAI_CAMERA_SWEEP_S="1",
            IPCAI_OFFERED_SERVICES=SERVICES,
        ) as portal,
    ):
        yield portal, receiver


@pytest.fixture(scope="module")
def drive_by(stack):
    """The tenant's lists and endpoint, then the clip; (portal, receiver, key, secret, event)."""
    portal, receiver = stack
    key = portal.create_tenant("plates", services=("license-plates",))
    session = requests.Session()
    session.headers["x-api-key"] = key

    def post(path: str, body: dict) -> dict:
        response = session.post(portal.base_url + path, json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    secret = post("/api/v1/webhooks", {"url": receiver.url})["secret"]
    banned = post("/api/v1/plate-watchlists", {"name": "banned"})
    post(f"/api/v1/plate-watchlists/{banned['id']}/entries", {"plate": TRUTH.text})
    residents = post("/api/v1/plate-watchlists", {"name": "residents"})
    fuzzy = {"plate": one_off(TRUTH.text), "fuzzy": True}
    post(f"/api/v1/plate-watchlists/{residents['id']}/entries", fuzzy)
    strict = post("/api/v1/plate-watchlists", {"name": "strict"})  # one off, exact: no match
    post(f"/api/v1/plate-watchlists/{strict['id']}/entries", {"plate": one_off(TRUTH.text)})

    # The gate alerts on every class (the default). The detector calls this car both "car" and
    # a weaker "truck" at the same box (yolox_nano scores classes apart): the tracker's vehicle
    # family makes that one event (tests/apps/alerts/test_vehicle_family.py).
    camera = create_camera(portal.base_url, key, "gate")
    t0 = time.time() - 60
    answers: list[dict] = []
    for i, jpeg in enumerate(shifted_frames()):
        response = post_frame(
            session,
            portal.base_url,
            key,
            camera,
            jpeg,
            t0 + 0.2 * i,
            "/api/v1/detect/license-plates",
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    deadline = time.monotonic() + 60  # the sweep closes the event once the camera is silent
    events: list[dict] = []
    while time.monotonic() < deadline:
        response = session.get(
            portal.base_url + "/api/v1/camera-events", params={"camera": camera}, timeout=30
        )
        events = response.json()["results"]
        if events and all(e["ended_at"] for e in events):
            break
        time.sleep(0.2)
    vehicles = [e for e in events if e["label"] in {"car", "truck", "bus", "motorcycle"}]
    return portal, receiver, key, secret, vehicles, answers


def test_one_vehicle_event_whose_plate_is_the_truth(drive_by):
    portal, _, key, _, vehicles, _ = drive_by
    assert len(vehicles) == 1, [
        (e["label"], e["box"], e["plate"], e["max_score"]) for e in vehicles
    ]
    (event,) = vehicles
    assert event["ended_at"]
    assert event["plate"]["text"] == TRUTH.text and 0 < event["plate"]["score"] <= 1
    assert sorted(event["watchlists"]) == ["banned", "residents"]
    found = run_cli(
        ["events", "--plate", one_off(TRUTH.text), "--fuzzy", "--json"], portal.base_url, key
    )
    assert found.returncode == 0, found.stderr
    assert [e["id"] for e in json.loads(found.stdout)["results"]] == [event["id"]]
    exact = run_cli(["events", "--plate", one_off(TRUTH.text), "--json"], portal.base_url, key)
    assert json.loads(exact.stdout)["results"] == []
    table = run_cli(["events", "--plate", TRUTH.text], portal.base_url, key).stdout.splitlines()
    assert "PLATE" in table[0].split()
    [row] = [line for line in table[1:] if event["id"] in line]
    assert f"{TRUTH.text} [" in row and "banned" in row and "residents" in row


def test_frames_stop_being_read_once_the_events_plate_is_settled(drive_by):
    """30 frames of one car: each answer keeps its shape (a `plate` per detection), but once
    the event's plate was read alike three times the frames go unread (`plate` null), so the
    visit costs a few reads, not thirty."""
    *_, answers = drive_by
    assert all(a["application_type"] == "license-plates" for a in answers)
    assert all("plate" in d for a in answers for d in a["detections"])
    read = [
        i
        for i, a in enumerate(answers)
        if any(d["plate"] and d["plate"]["text"] == TRUTH.text for d in a["detections"])
    ]
    assert 3 <= len(read) <= 10, read
    assert read[-1] < len(answers) - 10  # the last third of the clip went unread
    unread = answers[read[-1] + 1 :]
    assert all(d["plate"] is None for a in unread for d in a["detections"])
    assert all(any(d["label"] == "car" for d in a["detections"]) for a in unread)


def test_one_signed_plate_matched_webhook_per_list(drive_by):
    _, receiver, _, secret, vehicles, _ = drive_by

    def matched(requests_: list[dict]) -> list[dict]:
        payloads = [Webhook(secret).verify(r["body"], r["headers"]) for r in requests_]
        return [p for p in payloads if p["type"] == "plate.matched"]

    got = receiver.wait_for(
        lambda r: (
            len(matched(r)) >= 2
            and any(
                Webhook(secret).verify(x["body"], x["headers"])["type"] == "event.ended" for x in r
            )
        )
    )
    by_id = {
        r["headers"]["webhook-id"]: Webhook(secret).verify(r["body"], r["headers"]) for r in got
    }
    plate_matched = [p for p in by_id.values() if p["type"] == "plate.matched"]
    assert Counter(p["data"]["watchlist"] for p in plate_matched) == {"banned": 1, "residents": 1}
    assert {p["data"]["id"] for p in plate_matched} == {vehicles[0]["id"]}
    assert all(p["data"]["plate"]["text"] == TRUTH.text for p in plate_matched)


def test_ipcai_watchlists_lists_creates_adds_and_removes(drive_by):
    portal, _, key, _, _, _ = drive_by

    def cli(*args: str) -> str:
        run = run_cli(list(args), portal.base_url, key)
        assert run.returncode == 0, run.stderr
        return run.stdout

    table = cli("watchlists")
    assert "banned" in table and TRUTH.text in table and "fuzzy" in table
    created = json.loads(cli("watchlists", "create", "visitors", "--json"))
    entry = json.loads(cli("watchlists", "add", str(created["id"]), "ab-12c", "--fuzzy", "--json"))
    assert entry["plate"] == "AB12C" and entry["fuzzy"] is True
    cli("watchlists", "remove", str(created["id"]), str(entry["id"]))
    cli("watchlists", "delete", str(created["id"]))
    names = [w["name"] for w in json.loads(cli("watchlists", "--json"))["watchlists"]]
    assert names == ["banned", "residents", "strict"]
