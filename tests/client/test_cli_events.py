"""`ipcai events` against the live portal: a camera's frames open events, the list shows them,
and `--follow` prints each one when it starts and again when it ends."""

from __future__ import annotations

import json
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

from harness.camera_frames import create_camera, post_frame
from harness.polling import eventually
from harness.processes import REPO_ROOT
from harness.scripted_http import Reply
from tests.client.running_cli import cli_env, ipcai_argv


def post_frames(portal, key: str, camera: str, image: bytes, times: list[float]) -> list[dict]:
    events = []
    for t in times:
        response = post_frame(None, portal.base_url, key, camera, image, t)
        assert response.status_code == 200, response.text
        events.extend(response.json()["events"])
    return events


def test_events_lists_the_cameras_events(ipcai, live_portal, api_key, images_dir):
    camera = create_camera(live_portal.base_url, api_key, "cli list")
    t0 = time.time() - 100
    persons = (images_dir / "persons.jpg").read_bytes()
    answers = post_frames(live_portal, api_key, camera, persons, [t0, t0 + 0.2, t0 + 0.4])
    opened = {a["id"] for a in answers if a["type"] == "opened"}
    assert opened  # the seed's photo has several pedestrians
    run = ipcai("events", "--camera", camera, "--json")
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)["results"]
    assert {e["id"] for e in listed} == opened
    assert all(e["label"] == "person" and e["ended_at"] is None for e in listed)
    table = ipcai("events", "--camera", camera)
    assert table.returncode == 0 and "ongoing" in table.stdout and "cli list" in table.stdout


def test_follow_prints_each_event_when_it_starts_and_when_it_ends(live_portal, api_key, images_dir):
    camera = create_camera(live_portal.base_url, api_key, "cli follow")
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    follower = subprocess.Popen(
        ipcai_argv("events", "--follow", "--camera", camera, "--since", since, "--interval", "0.2"),
        cwd=REPO_ROOT,
        env=cli_env(live_portal.base_url, api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = time.time() - 100
        persons = (images_dir / "persons.jpg").read_bytes()
        empty = (images_dir / "pets.jpg").read_bytes()  # dogs only: no person
        answers = post_frames(live_portal, api_key, camera, persons, [t0, t0 + 0.2, t0 + 0.4])
        post_frames(live_portal, api_key, camera, empty, [t0 + 10])  # past the timeout: closed
        opened = {a["id"] for a in answers if a["type"] == "opened"}
        lines: list[dict] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(lines) < 2 * len(opened):
            line = follower.stdout.readline()
            if line:
                lines.append(json.loads(line))
    finally:
        follower.terminate()
        follower.wait(timeout=30)
    changes = sorted((line["change"], line["id"]) for line in lines)
    assert changes == sorted([("started", i) for i in opened] + [("ended", i) for i in opened])
    assert all(line["ended_at"] for line in lines if line["change"] == "ended")


def test_watch_replays_a_recording_on_its_own_clock_so_visits_end(
    ipcai, live_portal, api_key, images_dir, tmp_path
):
    """2 s of people, then 5 s of an empty (dog-only) scene, replayed as fast as the service
    answers: the events close after 3 s of *recorded* time, which takes far less wall time."""
    from tests.client.running_cli import json_lines
    from tests.client.videos import read_image, write_video

    camera = create_camera(live_portal.base_url, api_key, "cli watch")
    persons, dogs = read_image(images_dir / "persons.jpg"), read_image(images_dir / "pets.jpg")
    clip = write_video(tmp_path / "visit.avi", [persons] * 10 + [dogs] * 25, fps=5)
    run = ipcai("watch", str(clip), "--camera", camera, "--fps", "5")
    assert run.returncode == 0, run.stderr
    records = json_lines(run.stdout)
    opened = {e["id"] for r in records for e in r["events"] if e["type"] == "opened"}
    closed = {
        e["id"]: r["media_time"] for r in records for e in r["events"] if e["type"] == "closed"
    }
    assert opened and set(closed) == opened
    assert min(closed.values()) >= 2.0 + 3.0 - 0.5  # the last person frame + the 3 s timeout


def test_a_recording_replayed_twice_gives_its_events_both_times_and_follow_shows_them(
    ipcai, live_portal, api_key, images_dir, tmp_path
):
    """`ipcai events --follow` (no --since) lists the events recorded while it runs, though a
    replayed recording's events started "ago" by its own clock; a second replay right after
    the first is stamped after it (not taken for late frames) and opens its events again."""
    from tests.client.running_cli import json_lines
    from tests.client.videos import read_image, write_video

    camera = create_camera(live_portal.base_url, api_key, "cli replay")
    persons, dogs = read_image(images_dir / "persons.jpg"), read_image(images_dir / "pets.jpg")
    clip = write_video(tmp_path / "visit.avi", [persons] * 10 + [dogs] * 20, fps=5)
    follower = subprocess.Popen(
        ipcai_argv("events", "--follow", "--camera", camera, "--interval", "0.2"),
        cwd=REPO_ROOT,
        env=cli_env(live_portal.base_url, api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "following camera events" in follower.stderr.readline()
        first = ipcai("watch", str(clip), "--camera", camera, "--fps", "5")
        second = ipcai("watch", str(clip), "--camera", camera, "--fps", "5")
        assert first.returncode == second.returncode == 0, first.stderr + second.stderr
        opened = [
            {e["id"] for r in json_lines(run.stdout) for e in r["events"] if e["type"] == "opened"}
            for run in (first, second)
        ]
        assert opened[0] and opened[1] and not opened[0] & opened[1]
        assert "this replay is stamped from" in second.stderr
        times = [json_lines(run.stdout)[0]["time"] for run in (first, second)]
        assert times[1] > json_lines(first.stdout)[-1]["time"] > times[0]
        started: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not opened[0] | opened[1] <= started:
            line = follower.stdout.readline()
            if line and json.loads(line)["change"] == "started":
                started.add(json.loads(line)["id"])
    finally:
        follower.terminate()
        follower.wait(timeout=30)
    assert opened[0] | opened[1] <= started


def test_follow_asks_for_the_plate_it_was_given(server):
    """`--follow --plate X --fuzzy` polls for X and one character off, as the list does."""
    server.script(*[Reply(body={"results": [], "next": None}) for _ in range(50)])
    follower = subprocess.Popen(
        ipcai_argv("events", "--follow", "--plate", "7abc-123", "--fuzzy", "--interval", "0.1"),
        cwd=REPO_ROOT,
        env=cli_env(server.url, "ipc_test_key"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        polled = eventually(lambda: server.received, 30, "the follower's first poll")
    finally:
        follower.terminate()
        follower.wait(timeout=30)
    query = parse_qs(urlsplit(polled[0].path).query)
    assert query["plate"] == ["7abc-123"] and query["plate_match"] == ["fuzzy"]
