"""The Videos pages: the owner uploads a clip (Celery eager, the real worker) and reads its
timeline and snapshots; the viewer reads but cannot upload or cancel; the outsider gets 404 on
every URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.alerts.video_jobs.models import VideoJob
from tests.apps.alerts.video_jobs.clips import excerpt
from tests.apps.dashboard.conftest import signed_in


@pytest.fixture(scope="module")
def first_visit(tmp_path_factory) -> bytes:
    return excerpt(tmp_path_factory.mktemp("clip") / "first-visit.avi").read_bytes()


@pytest.fixture
def job_a(alice, tenant_a, first_visit, inference, archive, settings, tmp_path,
          django_capture_on_commit_callbacks) -> VideoJob:  # fmt: skip
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    client = signed_in(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/t/alpha/video-jobs/",
            {"file": SimpleUploadedFile("first-visit.avi", first_visit), "fps": "2"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = VideoJob.objects.get(tenant=tenant_a)
    assert response["Location"] == f"/t/alpha/video-jobs/{job.id}/"
    return job


def test_the_owner_uploads_a_clip_and_reads_its_timeline(alice, job_a):
    client = signed_in(alice)
    listing = client.get("/t/alpha/video-jobs/").content.decode()
    assert f'data-video-job="{job_a.id}"' in listing and 'data-status="succeeded"' in listing
    page = client.get(f"/t/alpha/video-jobs/{job_a.id}/").content.decode()
    assert "Timeline: 1 event" in page and "person" in page
    event = job_a.events.get()
    assert 5 <= event.start_s <= 12 and 14 <= event.end_s <= 20
    snapshot = client.get(f"/t/alpha/video-jobs/{job_a.id}/events/{event.id}.jpg")
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"


def test_the_viewer_reads_but_cannot_upload_or_cancel(bob, job_a):
    client = signed_in(bob)
    assert client.get(f"/t/alpha/video-jobs/{job_a.id}/").status_code == 200
    page = client.get("/t/alpha/video-jobs/").content.decode()
    assert "Upload and analyse" not in page
    upload = client.post("/t/alpha/video-jobs/", {"file": SimpleUploadedFile("x.avi", b"x" * 100)})
    assert upload.status_code == 403
    assert client.post(f"/t/alpha/video-jobs/{job_a.id}/").status_code == 403
    assert VideoJob.objects.filter(pk=job_a.pk, status="succeeded").exists()


def test_the_outsider_gets_404_everywhere(charlie, tenant_b, job_a):
    client = signed_in(charlie)
    event = job_a.events.get()
    for url in (
        "/t/alpha/video-jobs/",
        f"/t/alpha/video-jobs/{job_a.id}/",
        f"/t/alpha/video-jobs/{job_a.id}/events/{event.id}.jpg",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/alpha/video-jobs/{job_a.id}/").status_code == 404
    # Under its own tenant, the other tenant's job id is unknown too.
    assert client.get(f"/t/bravo/video-jobs/{job_a.id}/").status_code == 404


def test_cancelling_deletes_the_stored_clip(alice, job_a, tmp_path):
    client = signed_in(alice)
    assert client.post(f"/t/alpha/video-jobs/{job_a.id}/").status_code == 302
    assert not [p for p in Path(tmp_path / "archive").rglob("*") if p.is_file()]


def test_an_upload_that_is_not_a_video_shows_why_it_failed(
    alice, tenant_a, archive, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    client = signed_in(alice, enforce_csrf=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/t/alpha/video-jobs/", {"file": SimpleUploadedFile("notes.txt", b"hi" * 50)})
    page = client.get("/t/alpha/video-jobs/").content.decode()
    assert 'data-status="failed"' in page and "not a video" in page


def test_an_upload_without_the_csrf_token_is_refused(alice, tenant_a, archive):
    client = signed_in(alice, enforce_csrf=True)
    page = client.get("/t/alpha/video-jobs/")
    assert page.status_code == 200
    refused = client.post(
        "/t/alpha/video-jobs/", {"file": SimpleUploadedFile("a.avi", b"x" * 100), "fps": "2"}
    )
    assert refused.status_code == 403
    assert not VideoJob.objects.exists()
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/t/alpha/video-jobs/",
        {"file": SimpleUploadedFile("a.avi", b"x" * 100), "fps": "2", "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302
    assert VideoJob.objects.filter(tenant=tenant_a).count() == 1
