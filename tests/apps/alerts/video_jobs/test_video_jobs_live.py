"""Acceptance of stored-video jobs through a real portal (gunicorn), a real prefork Celery
worker analysing chunks two at a time, beat running the sweep, and the real worker and model.

- the shared clip at 2 fps, chunks of 20 s: the Celery worker SIGKILLed (its process group, by
  pid) in the middle of the job, restarted; the job completes with six person events, one per
  visit, none repeated, its progress never going backwards; the events' media times agree
  within 1 s with the same frames sent live as a camera; a signed video_job.completed webhook;
- the clip at 1 and 5 fps: six events;
- VP9 in Matroska and MJPEG in AVI (re-encoded here by PyAV): six events;
- copies cut in the middle of a frame: a clear failure or the events before the cut, in time;
- a 3 GiB upload: 413 while the body is still arriving, nothing stored, the portal's memory flat.
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from harness.camera_clip import CLIP, VISITS, sampled
from harness.camera_frames import create_camera, post_frame
from harness.celery_processes import CeleryProcesses
from harness.oversized_upload import process_tree_rss_kib, send_until_answered
from harness.polling import eventually
from harness.portal import running_portal
from harness.webhook_receiver import running_receiver
from tests.apps.alerts.video_jobs import clips

pytestmark = pytest.mark.slow

README_VISITS = [(8, 18), (24, 42), (54, 67), (74, 88), (94, 118), (124, 138)]
SLACK_S = 5.0
JOB_TIMEOUT_S = 300.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory, worker_url):
    log_dir = tmp_path_factory.mktemp("video-jobs-live")
    archive = log_dir / "archive"
    with running_portal(
        log_dir,
        worker_url,
        workers=2,
        threads=4,
        IPCAI_ARCHIVE_URL=f"file://{archive}",
        IPCAI_EVENT_SPOOL_DIR=str(log_dir / "spool"),
        IPCAI_VIDEO_WORK_DIR=str(log_dir / "work"),
        IPCAI_VIDEO_CHUNK_S="20",
        IPCAI_VIDEO_CHUNK_LEASE_S="6",
        IPCAI_VIDEO_SWEEP_S="1",
        IPCAI_VIDEO_MAX_CONCURRENT_JOBS="4",
        IPCAI_CAMERA_SWEEP_S="1",
        IPCAI_WEBHOOK_ALLOW_PRIVATE="true",
        IPCAI_WEBHOOK_RETRY_BASE_S="0.5",
    ) as portal:
        celery = CeleryProcesses(portal.env, log_dir, concurrency=2)
        celery.start_worker()
        celery.start_webhook_worker(concurrency=1)
        celery.start_beat()
        try:
            yield portal, celery, archive
        finally:
            celery.stop()


class Client:
    def __init__(self, portal) -> None:
        self.base = portal.base_url
        self.key = portal.create_tenant(f"video-{uuid.uuid4().hex[:6]}")
        self.session = requests.Session()
        self.session.headers["x-api-key"] = self.key

    def submit(self, path: Path, fps: float, **fields: str) -> str:
        with path.open("rb") as clip:
            response = self.session.post(
                f"{self.base}/api/v1/video-jobs",
                files={"file": (path.name, clip, "application/octet-stream")},
                data={"fps": str(fps), **fields},
                timeout=120,
            )
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def job(self, job_id: str) -> dict:
        response = self.session.get(f"{self.base}/api/v1/video-jobs/{job_id}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def finished(self, job_id: str, seen: list[float] | None = None) -> dict:
        def done():
            job = self.job(job_id)
            if seen is not None:
                seen.append(job["progress"]["media_seconds_done"])
            return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

        job = eventually(done, JOB_TIMEOUT_S, f"video job {job_id} to finish")
        assert isinstance(job, dict)
        return job


def assert_one_event_per_visit(job: dict) -> list[dict]:
    assert job["status"] == "succeeded", job
    events = job["events"]
    assert len(events) == VISITS, [(e["start_s"], e["end_s"]) for e in events]
    for event, (start, end) in zip(events, README_VISITS, strict=True):
        assert event["label"] == "person"
        assert event["start_s"] <= end + SLACK_S and event["end_s"] >= start - SLACK_S
    for before, after in itertools.pairwise(events):
        assert before["end_s"] < after["start_s"]  # none repeated, none overlapping
    return events


def live_camera_events(portal, client: Client, fps: float) -> list[tuple[float, float]]:
    """The same frames sent as a camera would: (start, end) of its events in clip seconds."""
    camera = create_camera(portal.base_url, client.key, "replay")
    t0 = time.time() - 600  # capture times in the recent past, as a replayed recording
    session = requests.Session()
    for offset, jpeg in sampled(fps):
        response = post_frame(session, portal.base_url, client.key, camera, jpeg, t0 + offset)
        assert response.status_code == 200, response.text

    def closed():
        events = client.session.get(
            f"{portal.base_url}/api/v1/camera-events", params={"camera": camera}, timeout=30
        ).json()["results"]
        return events if len(events) >= VISITS and all(e["ended_at"] for e in events) else None

    events = eventually(closed, 60, "the live camera's events to close")
    assert isinstance(events, list)

    def seconds(iso: str) -> float:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - t0

    return sorted((seconds(e["started_at"]), seconds(e["ended_at"])) for e in events)


def test_a_killed_worker_loses_only_its_chunk_and_the_events_match_the_live_camera(stack, tmp_path):
    portal, celery, _ = stack
    client = Client(portal)
    with running_receiver(tmp_path) as receiver:
        secret = client.session.post(
            f"{portal.base_url}/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["video_job.completed"]},
            timeout=30,
        ).json()["secret"]
        job_id = client.submit(CLIP, fps=2)
        progress: list[float] = []

        def midway():
            job = client.job(job_id)
            progress.append(job["progress"]["media_seconds_done"])
            return 0 < job["progress"]["percent"] < 70

        eventually(midway, JOB_TIMEOUT_S, "the job to be part done")
        celery.kill_worker_group()
        after_kill = client.job(job_id)
        assert after_kill["status"] == "running"
        progress.append(after_kill["progress"]["media_seconds_done"])
        celery.start_worker()
        job = client.finished(job_id, progress)
        events = assert_one_event_per_visit(job)
        assert progress == sorted(progress), progress
        assert job["progress"]["percent"] == 100.0

        got = receiver.wait_for(lambda r: len(r) >= 1)
        payload = Webhook(secret).verify(got[0]["body"], got[0]["headers"])
        assert payload["type"] == "video_job.completed"
        assert payload["data"]["id"] == job_id and payload["data"]["events"] == VISITS

    live = live_camera_events(portal, client, fps=2)
    assert len(live) == VISITS
    for event, (start, end) in zip(events, live, strict=True):
        assert abs(event["start_s"] - start) <= 1.0, (event, start, end)
        assert abs(event["end_s"] - end) <= 1.0, (event, start, end)
    # Live listings never show the job's events.
    listed = client.session.get(f"{portal.base_url}/api/v1/camera-events", timeout=30).json()
    assert len(listed["results"]) == VISITS


@pytest.fixture(scope="module")
def other_formats(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("formats")
    return [clips.vp9_matroska(folder), clips.mjpeg_avi(folder)]


def test_one_and_five_fps_and_two_other_formats_give_the_same_six_events(stack, other_formats):
    portal, _, _ = stack
    client = Client(portal)
    jobs = {
        "1 fps": client.submit(CLIP, fps=1),
        "5 fps": client.submit(CLIP, fps=5),
        **{path.suffix: client.submit(path, fps=1) for path in other_formats},
    }
    for name, job_id in jobs.items():
        job = client.finished(job_id)
        assert_one_event_per_visit(job)
        assert job["clip"]["duration_s"] == pytest.approx(139.4, abs=0.2), name


def test_a_copy_cut_mid_frame_fails_clearly_or_keeps_the_events_before_the_cut(
    stack, other_formats, tmp_path
):
    portal, _, archive = stack
    client = Client(portal)
    cut_mp4 = clips.cut(CLIP, tmp_path / "cut.mp4", 0.6)
    cut_mkv = clips.cut(other_formats[0], tmp_path / "cut.mkv", 0.6)
    for path in (cut_mp4, cut_mkv):
        job = client.finished(client.submit(path, fps=1))
        if job["status"] == "failed":
            assert job["error"]["code"] in {"not_a_video", "unreadable_clip", "empty_clip"}
            assert job["error"]["message"]
            assert not list((archive / "video-jobs").rglob(f"*{job['id']}*/clip-*"))
        else:
            assert job["status"] == "succeeded", job
            cut_at = job["clip"]["cut_at_s"]
            assert cut_at is not None and 40 < cut_at < 139, job["clip"]
            assert 1 <= len(job["events"]) <= VISITS
            assert all(e["end_s"] <= cut_at for e in job["events"])
            assert "damaged" in job["note"]


def test_a_3_gib_upload_is_refused_while_it_arrives_and_nothing_is_stored(stack):
    portal, _, archive = stack
    client = Client(portal)
    before = process_tree_rss_kib(portal.server.process.pid)
    stored_before = sorted(archive.rglob("*"))
    host, port = portal.base_url.removeprefix("http://").split(":")
    boundary = "x" * 16
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    size = 3 * 1024**3
    request = (
        f"POST /api/v1/video-jobs HTTP/1.1\r\nHost: {host}\r\nx-api-key: {client.key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    # At most 64 MiB of the 3 GiB: the portal must answer long before.
    answer, _ = send_until_answered(
        host, int(port), request + head, b"\0" * (1024 * 1024), max_pieces=64
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"payload_too_large" in answer or time.monotonic() - started < 30
    assert sorted(archive.rglob("*")) == stored_before
    assert process_tree_rss_kib(portal.server.process.pid) - before < 64 * 1024  # under 64 MiB more
    jobs = client.session.get(f"{portal.base_url}/api/v1/video-jobs", timeout=30).json()
    assert jobs["results"] == []
