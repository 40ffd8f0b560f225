"""`ipcai watch` against a real portal and worker: recordings with a known number of frames,
motion filtering, and an agent that keeps going while the portal is down and comes back."""

from __future__ import annotations

import json
import time
from datetime import datetime
from itertools import pairwise

import pytest

from harness.portal import running_portal
from harness.processes import http_ok
from tests.client.mjpeg import MjpegCamera
from tests.client.running_cli import StreamingRun, json_lines
from tests.client.videos import read_image, write_video


@pytest.fixture
def persons_clip(images_dir, tmp_path):
    """3 seconds at 4 fps: 12 frames of the persons image."""
    return write_video(tmp_path / "persons.avi", [read_image(images_dir / "persons.jpg")] * 12, 4)


def test_a_recording_is_sent_at_the_requested_rate_on_its_own_clock(ipcai, persons_clip):
    run = ipcai("watch", str(persons_clip), "--service", "persons-detection", "--fps", "2")

    assert run.returncode == 0, run.stderr
    records = json_lines(run.stdout)
    assert [r["frame"] for r in records] == [0, 2, 4, 6, 8, 10]
    assert [r["media_time"] for r in records] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    for record in records:
        assert record["source"] == str(persons_clip)
        assert record["service"] == "persons-detection"
        assert record["counts"]["person"] >= 4
        assert record["latency_ms"] > 0
    assert "12 frames read, 6 answered" in run.stderr


def test_with_motion_only_the_frame_where_the_scene_changes_is_sent(ipcai, images_dir, tmp_path):
    persons = read_image(images_dir / "persons.jpg")
    vehicles = read_image(images_dir / "vehicles.jpg")
    clip = write_video(tmp_path / "scene-change.avi", [persons] * 4 + [vehicles] * 4, fps=4)

    run = ipcai("watch", str(clip), "--service", "vehicles-detection", "--fps", "100", "--motion")

    assert run.returncode == 0, run.stderr
    (record,) = json_lines(run.stdout)
    assert record["frame"] == 4
    assert record["counts"].get("bus", 0) >= 1
    assert "8 frames read, 1 answered, 7 without motion" in run.stderr


def test_output_file_is_appended_and_max_frames_stops_early(ipcai, persons_clip, tmp_path):
    output = tmp_path / "detections.jsonl"
    args = ["watch", str(persons_clip), "--fps", "4", "--max-frames", "2", "--output", str(output)]

    first, second = ipcai(*args), ipcai(*args)

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout == ""
    assert [r["frame"] for r in json_lines(output.read_text())] == [0, 1, 0, 1]


def test_a_missing_video_file_is_reported_without_traceback(ipcai, tmp_path):
    run = ipcai("watch", str(tmp_path / "nothing.avi"))
    assert run.returncode == 1
    assert "cannot open video" in run.stderr
    assert "Traceback" not in run.stderr


def test_watch_keeps_going_while_the_portal_is_stopped_and_started_again(
    images_dir, tmp_path, live_worker_url
):
    clip = write_video(tmp_path / "loop.avi", [read_image(images_dir / "persons.jpg")] * 8, 4)
    with running_portal(tmp_path / "portal", live_worker_url) as portal:
        key = portal.create_tenant("camera-agent", services=["persons-detection"])
        watch = StreamingRun(
            ["watch", str(clip), "--loop", "--fps", "4", "--max-backoff", "1"],
            portal.base_url,
            key,
        )
        try:
            watch.wait_for(lambda: len(watch.stdout) >= 3, "first detections")

            portal.server.stop()
            watch.wait_for(
                lambda: any("retrying" in line for line in watch.stderr), "a retry notice"
            )
            answered_while_down = len(watch.stdout)

            portal.server.start()
            portal.server.wait_until(lambda: http_ok(f"{portal.base_url}/healthz"), timeout=60)
            watch.wait_for(
                lambda: len(watch.stdout) >= answered_while_down + 3, "detections after restart"
            )
            assert watch.process.poll() is None  # it never gave up
        finally:
            exit_status = watch.stop()

    assert exit_status == 0  # SIGTERM ends the agent cleanly
    records = watch.records()
    # A recording is analysed completely: the frame that failed during the outage was retried
    # until the portal answered, so no frame is missing and none is answered twice.
    assert [r["frame"] for r in records] == list(range(len(records)))
    assert all(r["counts"]["person"] >= 4 for r in records)
    assert any("the service answers again" in line for line in watch.stderr)
    assert any("answered" in line for line in watch.stderr[-2:])


def test_a_live_stream_that_drops_is_reopened_with_backoff(ipcai, live_portal, api_key, images_dir):
    camera = MjpegCamera((images_dir / "persons.jpg").read_bytes(), fps=10).start()
    watch = StreamingRun(
        ["watch", camera.url, "--fps", "5", "--max-backoff", "1", "-v"],
        live_portal.base_url,
        api_key,
    )
    try:
        watch.wait_for(lambda: len(watch.stdout) >= 2, "detections from the stream")

        camera.stop()
        watch.wait_for(
            lambda: any("reconnecting" in line for line in watch.stderr), "a reconnect notice"
        )
        answered_before = len(watch.stdout)

        camera.start()  # the same port again
        watch.wait_for(lambda: len(watch.stdout) >= answered_before + 2, "detections again")
        assert watch.process.poll() is None
    finally:
        camera.stop()
        exit_status = watch.stop()

    assert exit_status == 0
    records = watch.records()
    frames = [r["frame"] for r in records]
    assert frames == sorted(set(frames))  # newest frames only, never one twice
    assert all("media_time" not in r for r in records)  # live: wall-clock time only
    assert all(r["counts"]["person"] >= 4 for r in records)


def test_a_camera_that_does_not_exist_stops_the_watch_at_the_first_frame(ipcai, persons_clip):
    """A missing camera, a revoked key or a disabled service do not fix themselves: one
    message and exit 1, not a line per frame and exit 0."""
    run = ipcai("watch", str(persons_clip), "--fps", "4", "--camera", "cam_doesnotexist")

    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.count("camera_not_found") == 1
    assert "skipped" not in run.stderr


def test_a_wrong_key_stops_the_watch_with_exit_1(ipcai, persons_clip):
    run = ipcai("watch", str(persons_clip), key="ipcai_000000000000_nope")
    assert run.returncode == 1
    assert run.stderr.count("HTTP 401") == 1


def test_a_cameras_json_lines_carry_each_boxs_zones_and_the_capture_time_sent(
    ipcai, live_portal, persons_clip, tmp_path
):
    key = live_portal.create_tenant("cli-watch-zones", services=["persons-detection"])
    created = ipcai("cameras", "create", "porch", "--json", key=key)
    camera = json_lines(created.stdout)[0]["id"]
    zones = tmp_path / "zones.json"
    whole = [{"name": "porch", "kind": "include", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}]
    zones.write_text(json.dumps(whole))
    assert ipcai("cameras", "zones", camera, "--set", str(zones), key=key).returncode == 0

    run = ipcai("watch", str(persons_clip), "--fps", "2", "--camera", camera, key=key)

    assert run.returncode == 0, run.stderr
    records = json_lines(run.stdout)
    assert records and all(d["zones"] == ["porch"] for r in records for d in r["detections"]), (
        records[0]
    )
    # `time` is the capture time sent: the recording's own clock (0.5 s apart at 2 fps),
    # ending no later than now.
    times = [datetime.fromisoformat(r["time"]).timestamp() for r in records]
    steps = [round(b - a, 2) for a, b in pairwise(times)]
    assert steps == [0.5] * (len(records) - 1)
    assert times[-1] <= time.time()


def test_without_a_camera_the_json_lines_have_no_zones(ipcai, persons_clip):
    run = ipcai("watch", str(persons_clip), "--max-frames", "1")
    (record,) = json_lines(run.stdout)
    assert record["detections"] and all("zones" not in d for d in record["detections"])
