"""`ipcai events feedback ID false_alarm` against the live portal: the verdict is recorded and
the camera learns the spot (the answer names the learned area, listed by the API)."""

from __future__ import annotations

import json
import time

import requests

from harness.camera_frames import create_camera, post_frame


def test_feedback_marks_a_false_alarm_and_the_camera_learns_its_spot(
    ipcai, live_portal, api_key, images_dir
):
    camera = create_camera(live_portal.base_url, api_key, "cli feedback")
    persons = (images_dir / "persons.jpg").read_bytes()
    t0 = time.time() - 100
    opened = []
    for t in (t0, t0 + 0.2, t0 + 0.4):
        answer = post_frame(None, live_portal.base_url, api_key, camera, persons, t)
        opened += [e for e in answer.json()["events"] if e["type"] == "opened"]
    assert opened
    event = opened[0]["id"]

    run = ipcai("events", "feedback", event, "false_alarm", "--note", "a statue", "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["verdict"] == "false_alarm" and answer["note"] == "a statue"
    assert answer["learned_area"]["label"] == "person"
    areas = requests.get(
        f"{live_portal.base_url}/api/v1/cameras/{camera}/learned-areas",
        headers={"x-api-key": api_key},
        timeout=30,
    ).json()["areas"]
    assert [a["id"] for a in areas] == [answer["learned_area"]["id"]]

    text = ipcai("events", "feedback", event, "confirmed")
    assert text.returncode == 0 and f"event {event}: confirmed" in text.stdout

    wrong = ipcai("events", "feedback", event, "maybe")
    assert wrong.returncode == 2 and "false_alarm|confirmed" in wrong.stderr
