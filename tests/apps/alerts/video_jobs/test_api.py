"""The video-jobs API in-process (Celery eager) with the real worker and model: the shared clip
gives one person event per visit, chunks cut through visits; bad clips fail with a reason and
leave nothing stored; another tenant's key sees nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.alerts.models import CameraEvent
from apps.alerts.video_jobs.models import VideoJob
from apps.usage.models import DailyVideoUsage
from harness.camera_clip import CLIP, VISITS

# The clip's README: visits at roughly these seconds, read every 5 s (5 s of slack).
README_VISITS = [(8, 18), (24, 42), (54, 67), (74, 88), (94, 118), (124, 138)]
SLACK_S = 5.0


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def video_settings(settings, archive, tmp_path):
    settings.IPCAI_VIDEO_WORK_DIR = tmp_path / "work"
    settings.IPCAI_VIDEO_CHUNK_S = 20.0  # visits cross chunk boundaries
    return settings


def submit(client, key, data: bytes, name: str = "clip.mp4", captured=None, **options):
    with captured(execute=True):
        return client.post(
            "/api/v1/video-jobs",
            {"file": SimpleUploadedFile(name, data), **options},
            **key.headers,
        )


@pytest.mark.django_db
def test_shared_clip_gives_one_person_event_per_visit_across_chunk_boundaries(
    client, key_a, key_b, inference, video_settings, archive, django_capture_on_commit_callbacks
):
    response = submit(
        client, key_a, CLIP.read_bytes(), captured=django_capture_on_commit_callbacks, fps="2"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    job = client.get(f"/api/v1/video-jobs/{job_id}", **key_a.headers).json()
    assert job["status"] == "succeeded", job
    assert job["progress"]["percent"] == 100.0
    assert job["progress"]["media_seconds_done"] == pytest.approx(139.4, abs=0.5)
    assert VideoJob.objects.get(pk=job_id).chunks_total == 7
    events = job["events"]
    assert len(events) == VISITS, [(e["start_s"], e["end_s"]) for e in events]
    for event, (start, end) in zip(events, README_VISITS, strict=True):
        assert event["label"] == "person"
        assert event["start_s"] <= end + SLACK_S and event["end_s"] >= start - SLACK_S
        assert event["max_score"] >= 0.5
    # Visits 2 and 5 cross the 40 s and 100 s chunk boundaries and still come out whole.
    assert any(e["start_s"] < 40 < e["end_s"] for e in events)

    snapshot = client.get(events[0]["snapshot_url"], **key_a.headers)
    assert snapshot.status_code == 200 and snapshot["Content-Type"] == "image/jpeg"
    assert snapshot.content[:2] == b"\xff\xd8"

    frames = client.get(
        f"/api/v1/video-jobs/{job_id}",
        {"frames": "true", "frames_offset": 20, "frames_limit": 10},
        **key_a.headers,
    ).json()["frames"]
    assert frames["count"] == 279 and len(frames["results"]) == 10
    assert frames["results"][0]["t"] == 10.0 and frames["next_offset"] == 30

    # Never mixed with live camera events; metered in video seconds.
    assert CameraEvent.objects.count() == 0
    usage = DailyVideoUsage.objects.get(tenant=key_a.key.tenant)
    assert usage.video_seconds == pytest.approx(139.4, abs=0.5) and usage.jobs == 1

    # Another tenant's key: 404 on every route, nothing in its list (the signed snapshot link
    # is the bearer's own permission, as for live events: test_snapshot_links.py).
    for path in (
        f"/api/v1/video-jobs/{job_id}",
        events[0]["snapshot_url"].split("?")[0],
    ):
        assert client.get(path, **key_b.headers).status_code == 404
    assert client.delete(f"/api/v1/video-jobs/{job_id}", **key_b.headers).status_code == 404
    assert client.get("/api/v1/video-jobs", **key_b.headers).json()["results"] == []
    listed = client.get("/api/v1/video-jobs", {"status": "succeeded"}, **key_a.headers).json()
    assert [j["id"] for j in listed["results"]] == [job_id]

    # Cancel (delete) removes the stored clip and snapshots.
    assert files_in(archive.root)
    gone = client.delete(f"/api/v1/video-jobs/{job_id}", **key_a.headers)
    assert gone.status_code == 204
    assert files_in(archive.root) == []
    assert client.get(f"/api/v1/video-jobs/{job_id}", **key_a.headers).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"this is not a video at all\n" * 100, "not_a_video"),
        (CLIP.read_bytes()[:4000], "not_a_video"),  # cut before the first frame's data
    ],
)
def test_a_file_that_is_no_usable_video_fails_with_a_reason_and_nothing_stays_stored(
    client, key_a, video_settings, archive, django_capture_on_commit_callbacks, data, code
):
    response = submit(client, key_a, data, captured=django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["status"] == "failed"
    assert job["error"]["code"] in {code, "unsupported_codec", "empty_clip"}, job["error"]
    assert job["error"]["message"]
    assert files_in(archive.root) == []
    assert files_in(Path(video_settings.IPCAI_VIDEO_WORK_DIR)) == []


@pytest.mark.django_db
def test_a_clip_without_frames_fails_as_empty(
    client, key_a, video_settings, archive, django_capture_on_commit_callbacks, tmp_path
):
    from tests.apps.alerts.video_jobs.clips import no_frames

    data = no_frames(tmp_path / "empty.mkv").read_bytes()
    response = submit(client, key_a, data, "empty.mkv", captured=django_capture_on_commit_callbacks)
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["status"] == "failed" and job["error"]["code"] == "empty_clip", job["error"]
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_a_clip_past_the_duration_limit_fails_and_is_not_kept(
    client, key_a, video_settings, archive, django_capture_on_commit_callbacks
):
    video_settings.IPCAI_VIDEO_MAX_DURATION_S = 60.0
    response = submit(client, key_a, CLIP.read_bytes(), captured=django_capture_on_commit_callbacks)
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["status"] == "failed" and job["error"]["code"] == "clip_too_long"
    assert "60 s" in job["error"]["message"]
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_an_empty_upload_is_refused(client, key_a, video_settings, archive):
    response = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("x.mp4", b"")}, **key_a.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"empty_clip", "invalid_request"}
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_an_upload_over_the_bound_is_refused_413_before_it_is_stored(
    client, key_a, video_settings, archive
):
    video_settings.IPCAI_LARGE_BODY_ROUTES = {r"/api/v1/video-jobs": 100_000}
    response = client.post(
        "/api/v1/video-jobs",
        {"file": SimpleUploadedFile("big.mp4", b"\0" * 300_000)},
        **key_a.headers,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert files_in(archive.root) == []
    assert VideoJob.objects.count() == 0


@pytest.mark.django_db
def test_the_upload_handler_stops_a_body_past_its_own_bound(client, key_a, video_settings, archive):
    video_settings.IPCAI_VIDEO_MAX_UPLOAD_BYTES = 100_000  # below what the middleware lets in
    response = client.post(
        "/api/v1/video-jobs",
        {"file": SimpleUploadedFile("big.mp4", b"\0" * 3_000_000)},
        **key_a.headers,
    )
    assert response.status_code == 413
    assert "nothing was stored" in response.json()["error"]["message"]
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_a_source_key_outside_the_tenants_upload_folder_is_refused(
    client, key_a, key_b, video_settings, archive
):
    other = f"video-uploads/{key_b.key.tenant_id}/clip.mp4"
    archive.put_once(other, b"x", "video/mp4")
    for key in (other, "camera-events/1/x.jpg", "../etc/passwd"):
        response = client.post(
            "/api/v1/video-jobs",
            {"source_key": key},
            content_type="application/json",
            **key_a.headers,
        )
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_key"


@pytest.mark.django_db
def test_unknown_ids_and_bad_options_answer_clear_errors(client, key_a, video_settings):
    assert client.get("/api/v1/video-jobs/not-a-uuid", **key_a.headers).status_code == 404
    response = client.post(
        "/api/v1/video-jobs",
        {"file": SimpleUploadedFile("a.mp4", b"x"), "fps": "0"},
        **key_a.headers,
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


@pytest.mark.django_db
def test_a_queued_job_is_cancelled_and_its_upload_deleted(client, key_a, video_settings, archive):
    response = client.post(  # no on_commit run here: the job stays queued
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("c.mp4", b"x" * 1000)}, **key_a.headers
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert len(files_in(archive.root)) == 1
    cancelled = client.delete(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_the_concurrent_job_limit_refuses_before_storing(client, key_a, video_settings, archive):
    video_settings.IPCAI_VIDEO_MAX_CONCURRENT_JOBS = 1
    first = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("a.mp4", b"x" * 1000)}, **key_a.headers
    )
    assert first.status_code == 202
    second = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("b.mp4", b"x" * 1000)}, **key_a.headers
    )
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "too_many_video_jobs"
    assert len(files_in(archive.root)) == 1


@pytest.mark.django_db
def test_a_clip_already_in_the_tenants_storage_is_analysed_and_left_in_place(
    client, key_a, inference, video_settings, archive, django_capture_on_commit_callbacks, tmp_path
):
    from tests.apps.alerts.video_jobs.clips import excerpt

    key = f"video-uploads/{key_a.key.tenant_id}/recorder/first-visit.avi"
    archive.put_file(key, excerpt(tmp_path / "first-visit.avi"), "video/x-msvideo")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/video-jobs",
            {"source_key": key, "fps": 2},
            content_type="application/json",
            **key_a.headers,
        )
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["status"] == "succeeded" and [e["label"] for e in job["events"]] == ["person"]
    assert client.delete(f"/api/v1/video-jobs/{job['id']}", **key_a.headers).status_code == 204
    assert [p.relative_to(archive.root).as_posix() for p in files_in(archive.root)] == [key]


@pytest.mark.django_db
def test_a_failed_job_is_announced_by_a_signed_webhook(
    client, key_a, video_settings, archive, django_capture_on_commit_callbacks, tmp_path
):
    from standardwebhooks import Webhook

    from apps.alerts.webhooks.endpoints import check_filters, create_endpoint
    from harness.webhook_receiver import running_receiver

    video_settings.IPCAI_WEBHOOK_ALLOW_PRIVATE = True
    tenant = key_a.key.tenant
    with running_receiver(tmp_path) as receiver:
        filters = check_filters(event_types=["video_job.failed"], tenant_id=tenant.pk)
        _, secret = create_endpoint(tenant, receiver.url, filters=filters)
        response = submit(
            client, key_a, b"not a video" * 50, captured=django_capture_on_commit_callbacks
        )
        got = receiver.wait_for(lambda r: len(r) >= 1)
    payload = Webhook(secret).verify(got[0]["body"], got[0]["headers"])
    assert payload["type"] == "video_job.failed"
    assert payload["data"]["id"] == response.json()["id"]
    assert payload["data"]["error"]["code"] == "not_a_video"


@pytest.mark.django_db
def test_the_monthly_video_quota_refuses_new_jobs(client, key_a, video_settings, archive):
    from datetime import date

    from apps.usage.metering import record_video_seconds

    video_settings.IPCAI_VIDEO_MONTHLY_SECONDS = 100.0
    record_video_seconds(key_a.key.tenant_id, "persons-detection", 139.4, 279, date.today())
    response = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("a.mp4", b"x" * 10)}, **key_a.headers
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "video_quota_exceeded"
    assert files_in(archive.root) == []


@pytest.mark.django_db
def test_stored_clips_follow_the_tenants_retention(client, key_a, video_settings, archive):
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts.video_jobs.services import purge_expired_jobs
    from apps.tenants.models import TenantService

    TenantService.objects.filter(tenant=key_a.key.tenant).update(retention_days=7)
    response = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("a.mp4", b"x" * 10)}, **key_a.headers
    )
    job = VideoJob.objects.get(pk=response.json()["id"])
    job.status, job.finished_at = VideoJob.Status.FAILED, timezone.now() - timedelta(days=6)
    job.save()
    assert purge_expired_jobs() == 0 and len(files_in(archive.root)) == 1
    VideoJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=8))
    assert purge_expired_jobs() == 1
    assert files_in(archive.root) == [] and not VideoJob.objects.filter(pk=job.pk).exists()


@pytest.mark.django_db
def test_the_usage_api_reports_video_seconds_apart_from_requests(client, key_a, key_b, settings):
    from datetime import date

    from apps.usage.metering import record_video_seconds

    settings.IPCAI_VIDEO_MONTHLY_SECONDS = 3600.0
    record_video_seconds(key_a.key.tenant_id, "persons-detection", 139.4, 279, date.today())
    usage = client.get("/api/v1/usage", **key_a.headers).json()
    assert usage["video"] == {
        "jobs": 1,
        "video_seconds": 139.4,
        "video_seconds_this_month": 139.4,
        "monthly_video_seconds": 3600.0,
    }
    assert usage["totals"]["requests"] == 0
    assert client.get("/api/v1/usage", **key_b.headers).json()["video"]["jobs"] == 0


@pytest.mark.django_db
def test_a_tenants_own_limits_override_the_defaults(
    client, key_a, key_b, video_settings, archive, django_capture_on_commit_callbacks
):
    from apps.alerts.video_jobs.models import VideoLimits

    VideoLimits.objects.create(tenant=key_a.key.tenant, max_concurrent_jobs=0, max_duration_s=5)
    refused = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("a.mp4", b"x" * 10)}, **key_a.headers
    )
    assert refused.status_code == 429 and "the limit is 0" in refused.json()["error"]["message"]
    VideoLimits.objects.filter(tenant=key_a.key.tenant).update(max_concurrent_jobs=None)
    response = submit(client, key_a, CLIP.read_bytes(), captured=django_capture_on_commit_callbacks)
    job = client.get(f"/api/v1/video-jobs/{response.json()['id']}", **key_a.headers).json()
    assert job["error"]["code"] == "clip_too_long" and "limit is 5 s" in job["error"]["message"]
    # Tenant B keeps the defaults.
    other = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("b.mp4", b"x" * 10)}, **key_b.headers
    )
    assert other.status_code == 202


@pytest.mark.django_db
def test_a_chunk_that_keeps_killing_its_worker_fails_the_job_instead_of_looping(
    client, key_a, video_settings, archive
):
    from apps.alerts.video_jobs import analysis
    from apps.alerts.video_jobs.models import VideoJobChunk

    response = client.post(
        "/api/v1/video-jobs", {"file": SimpleUploadedFile("a.mp4", b"x" * 10)}, **key_a.headers
    )
    job = VideoJob.objects.get(pk=response.json()["id"])
    job.status, job.duration_s, job.chunks_total = VideoJob.Status.RUNNING, 60.0, 1
    job.save()
    VideoJobChunk.objects.create(
        job=job, index=0, first_sample=0, end_sample=120, start_s=0, end_s=60,
        status=VideoJobChunk.Status.RUNNING, attempts=analysis.MAX_CHUNK_ATTEMPTS,
    )  # fmt: skip
    assert analysis.analyze(str(job.id), 0) == "failed"
    shown = client.get(f"/api/v1/video-jobs/{job.id}", **key_a.headers).json()
    assert shown["status"] == "failed" and shown["error"]["code"] == "analysis_failed"
    assert "0 to 60 s" in shown["error"]["message"]
    assert files_in(archive.root) == []
