"""`ipcai video` against a live portal with Celery and the real worker: analyze a clip with
--wait and a progress bar, then list, show and cancel it; a file that is no video fails with
the service's reason and exit status 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.portal import Portal, running_portal
from tests.apps.alerts.video_jobs.clips import excerpt
from tests.client.running_cli import CliRun, run_cli


@pytest.fixture(scope="module")
def video_portal(tmp_path_factory, live_worker_url) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("video-cli")
    with running_portal(
        folder,
        live_worker_url,
        celery=True,
        IPCAI_ARCHIVE_URL=f"file://{folder / 'archive'}",
        IPCAI_EVENT_SPOOL_DIR=str(folder / "spool"),
        IPCAI_VIDEO_WORK_DIR=str(folder / "work"),
        IPCAI_VIDEO_CHUNK_S="10",
    ) as portal:
        yield portal


@pytest.fixture(scope="module")
def video_key(video_portal) -> str:
    return video_portal.create_tenant("video-cli")


@pytest.fixture
def ipcai_video(video_portal, video_key):
    def run(*args: str) -> CliRun:
        return run_cli(("video", *args), video_portal.base_url, video_key, timeout=180)

    return run


def test_analyze_waits_with_a_progress_bar_then_list_show_and_cancel(ipcai_video, tmp_path):
    clip = excerpt(tmp_path / "first-visit.avi")
    run = ipcai_video("analyze", str(clip), "--fps", "2", "--wait", "--progress", "--json")
    assert run.returncode == 0, run.stderr
    job = json.loads(run.stdout)
    assert job["status"] == "succeeded" and job["progress"]["percent"] == 100.0
    assert [e["label"] for e in job["events"]] == ["person"]
    assert "queued" in run.stderr and "100%" in run.stderr  # the bar, on stderr

    listed = ipcai_video("list")
    assert listed.returncode == 0 and job["id"] in listed.stdout and "succeeded" in listed.stdout
    shown = ipcai_video("show", job["id"])
    assert shown.returncode == 0 and "person" in shown.stdout and "succeeded" in shown.stdout
    frames = json.loads(ipcai_video("show", job["id"], "--frames", "--json").stdout)["frames"]
    assert frames["count"] == 40

    deleted = ipcai_video("cancel", job["id"], "--json")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout) == {"id": job["id"], "deleted": True}  # it had finished
    gone = ipcai_video("show", job["id"])
    assert gone.returncode == 1 and "video_job_not_found" in gone.stderr


def test_a_file_that_is_no_video_fails_with_the_reason(ipcai_video, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 100)
    run = ipcai_video("analyze", str(notes), "--wait")
    assert run.returncode == 1
    assert "not_a_video" in run.stdout and "not a video" in run.stdout


def test_analyze_without_wait_prints_the_queued_job(ipcai_video, tmp_path):
    clip = excerpt(tmp_path / "short.avi", seconds=4)
    run = ipcai_video("analyze", str(clip), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "queued"


def test_a_missing_file_is_a_usage_error(ipcai_video):
    run = ipcai_video("analyze", str(Path("/nonexistent/clip.mp4")))
    assert run.returncode == 2 and "no such file" in run.stderr
